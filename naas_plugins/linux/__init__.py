"""The ``linux`` network backend: a naas topology made real on one Linux host.

Selected with ``[DEFAULT] backends = linux`` (entry point ``naas.backends``);
its options are in ``[linux]`` (:mod:`naas_plugins.linux.opts`). Instances are
attached with :meth:`LinuxBackend.plug` / :meth:`LinuxBackend.unplug`, or
``naas port plug PORT --netns NAME`` / ``naas port unplug PORT``.
"""

from naas_plugins.linux.backend import LinuxBackend

__all__ = ["LinuxBackend"]
