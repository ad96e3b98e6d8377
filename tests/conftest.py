"""Fixtures shared by the tests of the framework."""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from oslo_config import cfg

ConfigFromFile = Callable[[str], cfg.ConfigOpts]


@pytest.fixture
def config_from_file(tmp_path: Path) -> ConfigFromFile:
    """Parse the given text as an operator's naas.conf, the way an application would.

    Options are not registered here: ``naas.loading.load_plugins`` (or the test)
    registers them, as it must for an application that only parsed its files.
    """
    counter = itertools.count(1)

    def parse(text: str) -> cfg.ConfigOpts:
        path = tmp_path / f"naas-{next(counter)}.conf"
        path.write_text(textwrap.dedent(text))
        conf = cfg.ConfigOpts()
        # No default files, no environment: only the file under test may decide.
        conf(["--config-file", str(path)], default_config_files=[], default_config_dirs=[], use_env=False)
        return conf

    return parse
