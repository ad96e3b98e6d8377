"""The ``naas`` command: an operator's tool in the manner of the ``openstack`` client.

:mod:`naas.cli.main` builds the cliff application and its command table;
:mod:`naas.cli.session` loads the configuration and plugins the commands share;
:mod:`naas.cli.resources` holds the list / show / create / delete machinery that
:mod:`naas.cli.core` (networks, subnets, subnet pools, ports) and
:mod:`naas.cli.l3` (routers, floating IPs) specialise. :mod:`naas.cli.errors`
turns every failure into one line for the terminal.
"""

__all__: list[str] = []
