"""Running OVN for tests, without root and without touching the host's own OVN or Open vSwitch.

:class:`ControlPlane` starts two ``ovsdb-server`` processes (the northbound
and southbound databases) and ``ovn-northd`` in a temporary directory, each
with its own pid file, socket and log there, and stops them by pid::

    with ControlPlane.started() as ovn:
        backend = OvnBackend(ovn.nb_connection, gateway_chassis=["gw1"])
        ovn.nbctl("show")

:class:`Chassis` (root only) adds an ``ovs-vswitchd`` on the userspace
datapath (``datapath_type=netdev``, no kernel module) and ``ovn-controller``,
so real packets flow between network namespaces plugged into its
integration bridge.

:func:`require_ovn` skips a test, with the reason, when the OVN programs or
ovsdbapp are missing, and fails it instead when ``NAAS_TEST_REQUIRE_BACKENDS``
names ``ovn`` (as ``.ci/run`` does). Install them with
``apt-get install ovn-central ovn-host openvswitch-switch`` and
``pip install 'naas-networking[ovn]'``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

__all__ = [
    "PROGRAMS",
    "REQUIRE_ENVIRONMENT_VARIABLE",
    "Chassis",
    "ControlPlane",
    "OvnUnavailable",
    "missing",
    "require_ovn",
    "required",
]

REQUIRE_ENVIRONMENT_VARIABLE: Final = "NAAS_TEST_REQUIRE_BACKENDS"
PROGRAMS: Final = ("ovsdb-server", "ovsdb-tool", "ovn-northd", "ovn-nbctl", "ovn-sbctl", "ovn-trace")
CHASSIS_PROGRAMS: Final = ("ovs-vswitchd", "ovs-vsctl", "ovs-appctl", "ovn-controller", "ip")
_SCHEMAS: Final = {"nb": "/usr/share/ovn/ovn-nb.ovsschema", "sb": "/usr/share/ovn/ovn-sb.ovsschema"}
_VSWITCH_SCHEMA: Final = "/usr/share/openvswitch/vswitch.ovsschema"
_STOP_SECONDS: Final = 10.0


class OvnUnavailable(AssertionError):
    """OVN is required (``NAAS_TEST_REQUIRE_BACKENDS`` names ``ovn``) and missing: a failure, not a skip."""


def required() -> bool:
    """Whether ``NAAS_TEST_REQUIRE_BACKENDS`` names ``ovn``."""
    names = {name.strip().lower() for name in os.environ.get(REQUIRE_ENVIRONMENT_VARIABLE, "").split(",")}
    return "ovn" in names


def missing(*, chassis: bool = False) -> list[str]:
    """What the tests need and this machine lacks: programs, schema files, the ovsdbapp package."""
    programs = PROGRAMS + (CHASSIS_PROGRAMS if chassis else ())
    absent = [f"the program {name}" for name in programs if shutil.which(name) is None]
    schemas = [*_SCHEMAS.values(), *([_VSWITCH_SCHEMA] if chassis else [])]
    absent += [f"the schema {path}" for path in schemas if not os.path.exists(path)]
    if importlib.util.find_spec("ovsdbapp") is None:
        absent.append("the Python package ovsdbapp (pip install 'naas-networking[ovn]')")
    return absent


def require_ovn(*, chassis: bool = False) -> None:
    """Skip the calling test when OVN is missing (fail it when required); ``chassis`` also needs root and OVS."""
    problems = missing(chassis=chassis)
    if chassis and os.geteuid() != 0:
        problems.append("root (network namespaces and ovs-vswitchd)")
    if not problems:
        return
    reason = "OVN unavailable: missing " + ", ".join(problems)
    if chassis and not required():
        raise unittest.SkipTest(reason + " (apt-get install ovn-central ovn-host openvswitch-switch)")
    if required():
        raise OvnUnavailable(f"{reason} (and {REQUIRE_ENVIRONMENT_VARIABLE} requires ovn)")
    raise unittest.SkipTest(reason + " (apt-get install ovn-central ovn-host openvswitch-switch)")


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs; a zombie (exited, not yet reaped by init) does not."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def _stop_pid(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + _STOP_SECONDS
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


class ControlPlane:
    """The northbound and southbound ``ovsdb-server`` and ``ovn-northd``, all under one temporary directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.run_dir = directory / "run"
        self.nb_socket = self.run_dir / "ovnnb_db.sock"
        self.sb_socket = self.run_dir / "ovnsb_db.sock"
        self.pids: dict[str, int] = {}

    @property
    def nb_connection(self) -> str:
        """``[ovn] ovn_nb_connection`` for this northbound database."""
        return f"unix:{self.nb_socket}"

    @property
    def sb_connection(self) -> str:
        return f"unix:{self.sb_socket}"

    @property
    def environment(self) -> dict[str, str]:
        """The environment under which ovn-nbctl, ovn-sbctl, ovs-vsctl ... find this deployment's sockets."""
        return {
            **os.environ,
            "OVN_RUNDIR": str(self.run_dir),
            "OVS_RUNDIR": str(self.run_dir),
            "OVN_NB_DB": self.nb_connection,
            "OVN_SB_DB": self.sb_connection,
        }

    @classmethod
    @contextlib.contextmanager
    def started(cls, *, northd: bool = True) -> Iterator[ControlPlane]:
        """A running control plane in a new temporary directory; stopped and removed afterwards."""
        require_ovn()
        directory = Path(tempfile.mkdtemp(prefix="naas-ovn-"))
        plane = cls(directory)
        try:
            plane.start(northd=northd)
            yield plane
        finally:
            plane.stop()
            shutil.rmtree(directory, ignore_errors=True)

    def _daemon(self, name: str, argv: Sequence[str]) -> None:
        pidfile = self.run_dir / f"{name}.pid"
        subprocess.run(
            [
                *argv,
                "--detach",
                "--no-chdir",
                "-vconsole:off",
                f"--pidfile={pidfile}",
                f"--log-file={self.directory / 'log' / f'{name}.log'}",
            ],
            check=True,
            env=self.environment,
            capture_output=True,
        )
        self.pids[name] = int(pidfile.read_text().strip())

    def _database(self, kind: str) -> None:
        name = f"ovn{kind}_db"
        database = self.directory / "db" / f"{name}.db"
        subprocess.run(["ovsdb-tool", "create", str(database), _SCHEMAS[kind]], check=True, capture_output=True)
        schema = "OVN_Northbound,NB_Global" if kind == "nb" else "OVN_Southbound,SB_Global"
        self._daemon(
            name,
            [
                "ovsdb-server",
                str(database),
                f"--unixctl={self.run_dir / f'{name}.ctl'}",
                f"--remote=punix:{self.run_dir / f'{name}.sock'}",
                f"--remote=db:{schema},connections",
            ],
        )

    def start(self, *, northd: bool = True) -> None:
        for sub in ("run", "log", "db"):
            (self.directory / sub).mkdir(parents=True, exist_ok=True)
        self._database("nb")
        self._database("sb")
        if northd:
            self._daemon(
                "ovn-northd",
                [
                    "ovn-northd",
                    f"--unixctl={self.run_dir / 'ovn-northd.ctl'}",
                    f"--ovnnb-db={self.nb_connection}",
                    f"--ovnsb-db={self.sb_connection}",
                ],
            )
        self.nbctl("--wait=sb" if northd else "--no-wait", "sync")

    def stop(self) -> None:
        """Stop every process this control plane started, by pid (idempotent)."""
        for name in reversed(list(self.pids)):
            _stop_pid(self.pids.pop(name))

    def nbctl(self, *args: str) -> str:
        """Run ``ovn-nbctl`` on this northbound database; its output (CalledProcessError on failure)."""
        return self._run(["ovn-nbctl", "--timeout=30", *args])

    def sbctl(self, *args: str) -> str:
        return self._run(["ovn-sbctl", "--timeout=30", *args])

    def trace(self, datapath: str, microflow: str) -> str:
        """``ovn-trace``'s detailed output for ``microflow`` entering ``datapath`` (northd must have caught up)."""
        return self._run(["ovn-trace", "--db", self.sb_connection, "--detailed", datapath, microflow])

    def wait_for_northd(self, timeout: int = 30) -> None:
        """Return once ovn-northd has compiled everything the northbound database holds now."""
        self._run(["ovn-nbctl", f"--timeout={timeout}", "--wait=sb", "sync"])

    def _run(self, argv: list[str]) -> str:
        done = subprocess.run(argv, env=self.environment, capture_output=True, text=True)
        if done.returncode != 0:
            raise subprocess.CalledProcessError(done.returncode, argv, done.stdout, done.stderr)
        return done.stdout


class Chassis:
    """One hypervisor and gateway: ``ovs-vswitchd`` (userspace datapath) and ``ovn-controller`` (root only).

    Its bridges are named with a prefix of its own; namespaces plugged in with
    :meth:`plug` and :meth:`plug_external` are deleted by :meth:`stop`, which
    stops its processes by pid and leaves no bridge, link or namespace.
    """

    def __init__(self, plane: ControlPlane, *, name: str, prefix: str, physical_network: str) -> None:
        self.plane = plane
        self.name = name
        self.prefix = prefix
        self.physical_network = physical_network
        self.integration_bridge = f"{prefix}-int"
        self.external_bridge = f"{prefix}-ex"
        self.namespaces: list[str] = []
        self.pids: dict[str, int] = {}
        self._database = plane.run_dir / "db.sock"

    def vsctl(self, *args: str) -> str:
        return self.plane._run(["ovs-vsctl", f"--db=unix:{self._database}", "--timeout=30", *args])

    def start(self) -> None:
        require_ovn(chassis=True)
        run_dir = self.plane.run_dir
        database = self.plane.directory / "db" / "conf.db"
        subprocess.run(["ovsdb-tool", "create", str(database), _VSWITCH_SCHEMA], check=True, capture_output=True)
        self.plane._daemon(
            "ovs-db",
            [
                "ovsdb-server",
                str(database),
                f"--unixctl={run_dir / 'ovs-db.ctl'}",
                f"--remote=punix:{self._database}",
                "--remote=db:Open_vSwitch,Open_vSwitch,manager_options",
            ],
        )
        self.pids["ovs-db"] = self.plane.pids.pop("ovs-db")
        self.vsctl("--no-wait", "init")
        self.plane._daemon(
            "ovs-vswitchd", ["ovs-vswitchd", f"unix:{self._database}", f"--unixctl={run_dir / 'ovs-vswitchd.ctl'}"]
        )
        self.pids["ovs-vswitchd"] = self.plane.pids.pop("ovs-vswitchd")
        self.vsctl(
            "add-br", self.integration_bridge,
            "--", "set", "bridge", self.integration_bridge, "datapath_type=netdev", "fail-mode=secure",
            "--", "add-br", self.external_bridge,
            "--", "set", "bridge", self.external_bridge, "datapath_type=netdev",
            "--", "set", "open_vswitch", ".",
            f"external_ids:system-id={self.name}",
            f"external_ids:ovn-remote={self.plane.sb_connection}",
            "external_ids:ovn-encap-type=geneve",
            "external_ids:ovn-encap-ip=127.0.0.1",
            f"external_ids:ovn-bridge={self.integration_bridge}",
            f"external_ids:ovn-bridge-mappings={self.physical_network}:{self.external_bridge}",
        )  # fmt: skip
        self.plane._daemon("ovn-controller", ["ovn-controller", f"unix:{self._database}"])
        self.pids["ovn-controller"] = self.plane.pids.pop("ovn-controller")

    def _ip(self, *args: str) -> None:
        subprocess.run(["ip", *args], check=True, capture_output=True)

    def _namespace(
        self, short: str, bridge: str, iface_id: str | None, mac: str, cidr: str, gateway: str | None
    ) -> str:
        namespace = f"{self.prefix}-{short}"
        host_end = f"{self.prefix}-{short}-h"[:15]
        self._ip("netns", "add", namespace)
        self.namespaces.append(namespace)
        self._ip("link", "add", host_end, "type", "veth", "peer", "name", "eth0", "netns", namespace)
        self._ip("-n", namespace, "link", "set", "eth0", "address", mac)
        self._ip("-n", namespace, "addr", "add", cidr, "dev", "eth0")
        self._ip("-n", namespace, "link", "set", "eth0", "up")
        self._ip("-n", namespace, "link", "set", "lo", "up")
        if gateway is not None:
            self._ip("-n", namespace, "route", "add", "default", "via", gateway)
        self._ip("link", "set", host_end, "up")
        command = ["add-port", bridge, host_end]
        if iface_id is not None:
            command += ["--", "set", "interface", host_end, f"external_ids:iface-id={iface_id}"]
        self.vsctl(*command)
        return namespace

    def plug(self, short: str, port_id: str, mac: str, cidr: str, gateway: str) -> str:
        """A namespace whose ``eth0`` is the naas port ``port_id`` (on the integration bridge); its name."""
        return self._namespace(short, self.integration_bridge, port_id, mac, cidr, gateway)

    def plug_external(self, short: str, mac: str, cidr: str, gateway: str | None = None) -> str:
        """A namespace on the external bridge: a host of the physical network outside OVN; its name."""
        return self._namespace(short, self.external_bridge, None, mac, cidr, gateway)

    def netns(self, namespace: str, *argv: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` in ``namespace``; the completed process (not checked)."""
        return subprocess.run(
            ["ip", "netns", "exec", namespace, *argv], capture_output=True, text=True, timeout=timeout
        )

    def stop(self) -> None:
        """Delete the namespaces, the bridges, then stop ovn-controller, ovs-vswitchd and their database, by pid."""
        for namespace in reversed(self.namespaces):
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True)
        self.namespaces.clear()
        if "ovs-vswitchd" in self.pids:
            subprocess.run(
                [
                    "ovs-vsctl", f"--db=unix:{self._database}", "--timeout=10",
                    "--if-exists", "del-br", self.integration_bridge,
                    "--", "--if-exists", "del-br", self.external_bridge,
                ],
                capture_output=True,
            )  # fmt: skip
            subprocess.run(
                ["ovs-appctl", "-t", str(self.plane.run_dir / "ovs-vswitchd.ctl"), "exit", "--cleanup"],
                capture_output=True,
                timeout=30,
            )
        for name in ("ovn-controller", "ovs-vswitchd", "ovs-db"):
            if name in self.pids:
                _stop_pid(self.pids.pop(name))
