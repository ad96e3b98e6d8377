"""Running the linux backend's tests: root (or CAP_NET_ADMIN) and a few programs, else a visible skip.

:func:`require_linux` skips the calling test with the reason when the host
cannot run the backend, unless ``NAAS_TEST_REQUIRE_BACKENDS`` (comma-separated)
names ``linux``: then it fails, so a CI job meant to cover the backend cannot
pass without running it. :func:`unique_prefix` gives each test its own
installation prefix, so parallel runs (and the host's own installation) never
share a kernel object.
"""

from __future__ import annotations

import functools
import itertools
import os
import shutil
import subprocess
import unittest
from typing import Final

__all__ = ["REQUIRED_PROGRAMS", "LinuxUnavailable", "linux_problem", "require_linux", "unique_prefix"]

REQUIRED_PROGRAMS: Final = ("ip", "nft", "dnsmasq", "sysctl")
"""What the backend runs (Debian: iproute2, nftables, dnsmasq-base, procps)."""
_REQUIRE_VARIABLE: Final = "NAAS_TEST_REQUIRE_BACKENDS"
_counter = itertools.count(1)


class LinuxUnavailable(AssertionError):
    """``NAAS_TEST_REQUIRE_BACKENDS`` names ``linux`` and this host cannot run it: a failure, not a skip."""


@functools.cache
def linux_problem(*programs: str) -> str | None:
    """Why this host cannot run the linux backend (and ``programs``), or None. Checked once per process."""
    try:
        import pyroute2  # type: ignore[import-untyped]  # noqa: F401
    except ImportError as error:
        return f"pyroute2 is not installed ({error})"
    missing = [program for program in (*REQUIRED_PROGRAMS, *programs) if shutil.which(program) is None]
    if missing:
        return f"programs not found in PATH: {', '.join(missing)}"
    if os.geteuid() != 0:
        try:
            effective = int(
                next(line for line in open("/proc/self/status") if line.startswith("CapEff:")).split()[1], 16
            )
        except (OSError, StopIteration, ValueError):
            effective = 0
        if not effective & (1 << 12) or not effective & (1 << 21):
            return "not root and lacking CAP_NET_ADMIN and CAP_SYS_ADMIN (network namespaces need both)"
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return f"cannot create a network namespace: {probe.stderr.strip()}"
    return None


def require_linux(*programs: str) -> None:
    """Skip (or, when ``NAAS_TEST_REQUIRE_BACKENDS`` names linux, fail) unless the backend can run here."""
    problem = linux_problem(*programs)
    if problem is None:
        return
    reason = f"linux backend unavailable: {problem}"
    required = {name.strip().lower() for name in os.environ.get(_REQUIRE_VARIABLE, "").split(",")}
    if "linux" in required:
        raise LinuxUnavailable(f"{reason} (and {_REQUIRE_VARIABLE} requires it)")
    raise unittest.SkipTest(reason)


def unique_prefix(tag: str = "t") -> str:
    """A ``[linux] prefix`` no other test of any process on this host uses: ``<tag><pid><n>-`` (base 36)."""
    number = os.getpid() * 10000 + next(_counter)
    digits = ""
    while number:
        number, digit = divmod(number, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[digit] + digits
    return f"{tag[:1]}{digits}-"
