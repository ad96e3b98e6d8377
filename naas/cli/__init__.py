"""The ``naas`` command: an operator's tool in the manner of the ``openstack`` client.

:mod:`naas.cli.main` builds the cliff application, whose commands come from the
``naas.cli`` entry-point namespace; :mod:`naas.cli.session` loads the
configuration and plugins the commands share; :mod:`naas.cli.base` holds the
base classes every command derives from (naas's own and other packages');
:mod:`naas.cli.resources` the create / list / show / set / unset / delete
machinery that :mod:`naas.cli.core` (networks, subnets, subnet pools, ports)
and :mod:`naas.cli.l3` (routers, floating IPs) specialise;
:mod:`naas.cli.output` escapes tenants' text on output; :mod:`naas.cli.errors`
turns every failure into one line for the terminal. ``naas bootstrap`` calls
:func:`naas.bootstrap.bootstrap`; the ``db`` commands belong to the sql plugins
(``naas_plugins.sql.commands``).
"""

__all__: list[str] = []
