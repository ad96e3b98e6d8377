"""A third party's ``naas`` subcommand, ``naas fixture network count``, for naas's tests.

Its distribution (the ``.dist-info`` beside this file) registers it in the
``naas.cli`` entry-point namespace; a test puts this directory on the path of
a ``naas`` process, as installing the distribution would.
"""

from __future__ import annotations

import argparse

from naas.cli.base import NaasShowOne


class CountNetworks(NaasShowOne):
    """Count the networks, through the plugins naas loaded from its configuration."""

    def take_action(self, parsed_args: argparse.Namespace) -> tuple[tuple[str, ...], tuple[int, ...]]:
        networks = self.session.plugins.core.get_networks(self.session.context)
        return ("networks",), (len(networks),)
