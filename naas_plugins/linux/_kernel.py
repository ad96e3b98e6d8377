"""The kernel, as the linux backend sees it: namespaces, links, addresses, routes (pyroute2), sysctls and nft.

Netlink goes through pyroute2. A namespace-bound ``IPRoute`` forks a short-lived
helper to open its socket; it is always opened with ``flags=0`` so that looking
into a namespace never creates it, and closed before the namespace is removed.
Sysctls and nft run inside a namespace through ``ip netns exec``.
Every failure is a :class:`KernelError` naming what was attempted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import json
import os
import signal
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pyroute2 import IPRoute, config, netns  # type: ignore[import-untyped]
from pyroute2.netlink.exceptions import NetlinkError  # type: ignore[import-untyped]

__all__ = ["Address", "Kernel", "KernelError", "Link"]

IFF_UP = 0x1
IFA_F_NODAD = 0x02
_NETNS_DIR = "/run/netns"


class KernelError(RuntimeError):
    """The kernel or a program refused an operation; the message names the operation and the namespace."""


@dataclasses.dataclass(frozen=True)
class Link:
    """One network interface as netlink reports it."""

    index: int
    name: str
    up: bool
    address: str
    alias: str | None
    kind: str | None
    master: int | None
    peer_index: int | None
    """For a veth: the peer's ifindex (in the namespace ``peer_netnsid`` says, or this one)."""
    peer_netnsid: int | None


@dataclasses.dataclass(frozen=True, order=True)
class Address:
    """An address with its prefix length on an interface."""

    index: int
    address: str
    prefixlen: int

    @property
    def cidr(self) -> str:
        return f"{self.address}/{self.prefixlen}"


def _link(message: Any) -> Link:
    info = message.get("IFLA_LINKINFO")
    kind = info.get("IFLA_INFO_KIND") if info is not None else None
    return Link(
        index=message["index"],
        name=message.get("IFLA_IFNAME"),
        up=bool(message["flags"] & IFF_UP),
        address=message.get("IFLA_ADDRESS") or "",
        alias=message.get("IFLA_IFALIAS"),
        kind=kind,
        master=message.get("IFLA_MASTER"),
        peer_index=message.get("IFLA_LINK"),
        peer_netnsid=message.get("IFLA_LINK_NETNSID"),
    )


class Namespace:
    """An open netlink connection inside one namespace (see :meth:`Kernel.namespace`)."""

    def __init__(self, name: str, ipr: Any) -> None:
        self.name = name
        self.ipr = ipr

    def _call(self, what: str, method: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except NetlinkError as error:
            raise KernelError(f"{what} in namespace {self.name}: {error}") from error

    def links(self) -> dict[str, Link]:
        """Every interface, by name."""
        found = (_link(message) for message in self._call("list links", self.ipr.get_links))
        return {link.name: link for link in found}

    def link(self, name: str) -> Link | None:
        """The interface called ``name``, or None."""
        try:
            (message,) = self.ipr.link("get", ifname=name)
        except NetlinkError as error:
            if error.code == errno.ENODEV:
                return None
            raise KernelError(f"look up {name} in namespace {self.name}: {error}") from error
        return _link(message)

    def add_bridge(self, name: str, alias: str) -> None:
        self._call(f"add bridge {name}", self.ipr.link, "add", ifname=name, kind="bridge")
        self.set_link(name, alias=alias)

    def add_veth(
        self,
        name: str,
        peer: str,
        *,
        alias: str,
        peer_alias: str,
        peer_namespace: str | None = None,
        peer_address: str | None = None,
    ) -> None:
        """A veth pair: ``name`` here, ``peer`` in ``peer_namespace`` (here when None), created there directly."""
        peer_spec: dict[str, Any] = {"ifname": peer}
        if peer_namespace is not None:
            peer_spec["net_ns_fd"] = peer_namespace
        if peer_address is not None:
            peer_spec["address"] = peer_address
        self._call(f"add veth {name} (peer {peer})", self.ipr.link, "add", ifname=name, kind="veth", peer=peer_spec)
        self.set_link(name, alias=alias)
        if peer_namespace is None:
            self.set_link(peer, alias=peer_alias)

    def set_link(
        self,
        name: str,
        *,
        up: bool | None = None,
        master: str | None = None,
        address: str | None = None,
        alias: str | None = None,
        new_name: str | None = None,
        namespace: str | None = None,
    ) -> None:
        """Change an interface; ``namespace`` moves it (with the other changes made there by the caller)."""
        index = self._index(name)
        changes: dict[str, Any] = {}
        if master is not None:
            changes["master"] = self._index(master)
        if address is not None:
            changes["address"] = address
        if alias is not None:
            changes["ifalias"] = alias
        if new_name is not None:
            changes["ifname"] = new_name
        if namespace is not None:
            changes["net_ns_fd"] = namespace
        if up is not None:
            changes["state"] = "up" if up else "down"
        if changes:
            self._call(f"set {name} {changes}", self.ipr.link, "set", index=index, **changes)

    def delete_link(self, name: str) -> None:
        """Delete ``name`` if it exists (a veth takes its peer with it, wherever it is)."""
        link = self.link(name)
        if link is not None:
            try:
                self.ipr.link("del", index=link.index)
            except NetlinkError as error:
                if error.code != errno.ENODEV:
                    raise KernelError(f"delete {name} in namespace {self.name}: {error}") from error

    def _index(self, name: str) -> int:
        link = self.link(name)
        if link is None:
            raise KernelError(f"namespace {self.name} has no interface {name}")
        return link.index

    def addresses(self, name: str) -> set[Address]:
        """The addresses of interface ``name``, IPv6 link-local ones left out (the kernel makes those)."""
        index = self._index(name)
        found = set()
        for message in self._call(f"list addresses of {name}", self.ipr.get_addr, index=index):
            address = message.get("IFA_ADDRESS")
            if address is None or address.lower().startswith("fe80:"):
                continue
            found.add(Address(index, address, message["prefixlen"]))
        return found

    def add_address(self, name: str, address: str, prefixlen: int) -> None:
        """Add an address; IPv6 ones without duplicate address detection, so they are usable at once."""
        flags = IFA_F_NODAD if ":" in address else 0
        index = self._index(name)
        self._call(
            f"add {address}/{prefixlen} to {name}",
            self.ipr.addr,
            "add",
            index=index,
            address=address,
            prefixlen=prefixlen,
            flags=flags,
        )

    def delete_address(self, name: str, address: str, prefixlen: int) -> None:
        index = self._index(name)
        self._call(
            f"delete {address}/{prefixlen} from {name}",
            self.ipr.addr,
            "del",
            index=index,
            address=address,
            prefixlen=prefixlen,
        )

    def default_routes(self) -> dict[int, tuple[str, int | None]]:
        """IP version → (gateway, output ifindex) of the main table's default route."""
        found: dict[int, tuple[str, int | None]] = {}
        for family, version in ((2, 4), (10, 6)):
            for message in self._call("list routes", self.ipr.get_routes, family=family, table=254):
                if message["dst_len"] == 0 and message.get("RTA_GATEWAY"):
                    found[version] = (message.get("RTA_GATEWAY"), message.get("RTA_OIF"))
        return found

    def replace_default_route(self, version: int, gateway: str, device: str) -> None:
        destination = "0.0.0.0/0" if version == 4 else "::/0"
        index = self._index(device)
        self._call(
            f"route default via {gateway}", self.ipr.route, "replace", dst=destination, gateway=gateway, oif=index
        )

    def delete_default_route(self, version: int) -> None:
        destination = "0.0.0.0/0" if version == 4 else "::/0"
        with contextlib.suppress(NetlinkError):
            self.ipr.route("del", dst=destination)


class Kernel:
    """Namespaces and the programs run inside them (``ip``, ``nft``, ``sysctl``)."""

    def __init__(self, *, ip: str = "ip", nft: str = "nft") -> None:
        self.ip = ip
        self.nft_program = nft
        # pyroute2 forks helpers (to open a socket inside a namespace) and stops them with SIGTERM. A helper
        # inheriting the application's SIGTERM handler (one raising SystemExit, say) would unwind the
        # application's stack in the child and run its cleanup there; with this, helpers reset SIGTERM first.
        config.disable_mp_signal = True
        # Within a session, one netlink connection per namespace (each costs a forked helper to open).
        self._connections: dict[str, Namespace] | None = None

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        """Keep the namespaces opened within the block open until it ends (not thread-safe: hold a lock)."""
        if self._connections is not None:
            yield
            return
        self._connections = {}
        try:
            yield
        finally:
            connections, self._connections = self._connections, None
            for connection in connections.values():
                connection.ipr.close()

    @staticmethod
    def namespaces() -> set[str]:
        return set(netns.listnetns())

    def create_namespace(self, name: str) -> None:
        """Create ``name`` (with its loopback up) unless it exists."""
        if name in self.namespaces():
            return
        try:
            netns.create(name)
        except OSError as error:
            raise KernelError(f"create namespace {name}: {error}") from error
        with self.namespace(name) as ns:
            ns.set_link("lo", up=True)

    def remove_namespace(self, name: str) -> None:
        """Kill what still runs in ``name`` (by pid), then remove it; nothing happens when it is absent."""
        if self._connections is not None and name in self._connections:
            self._connections.pop(name).ipr.close()
        if name not in self.namespaces():
            return
        for pid in netns.ns_pids().get(name, []):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        try:
            netns.remove(name)
        except FileNotFoundError:
            pass
        except OSError as error:
            raise KernelError(f"remove namespace {name}: {error}") from error

    @contextlib.contextmanager
    def namespace(self, name: str) -> Iterator[Namespace]:
        """A netlink connection inside ``name``, which must exist (it is never created here)."""
        if self._connections is not None and name in self._connections:
            yield self._connections[name]
            return
        if name not in self.namespaces():
            raise KernelError(f"namespace {name} does not exist")
        try:
            ipr = IPRoute(netns=name, flags=0)
        except OSError as error:
            raise KernelError(f"open namespace {name}: {error}") from error
        connection = Namespace(name, ipr)
        if self._connections is not None:
            self._connections[name] = connection
            yield connection
            return
        try:
            yield connection
        finally:
            ipr.close()

    def run(self, namespace: str, argv: Sequence[str], *, stdin: str | None = None) -> str:
        """Run ``argv`` inside ``namespace`` and return its stdout; KernelError with its stderr when it fails."""
        command = [self.ip, "netns", "exec", namespace, *argv]
        try:
            result = subprocess.run(command, input=stdin, capture_output=True, text=True, check=False, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise KernelError(f"{' '.join(argv)} in namespace {namespace}: {error}") from error
        if result.returncode != 0:
            raise KernelError(
                f"{' '.join(argv)} in namespace {namespace} exited {result.returncode}: {result.stderr.strip()}"
            )
        return result.stdout

    def sysctls(self, namespace: str, keys: Sequence[str]) -> dict[str, str]:
        output = self.run(namespace, ["sysctl", "-n", *keys])
        return dict(zip(keys, output.split(), strict=True))

    def set_sysctls(self, namespace: str, values: Mapping[str, str]) -> None:
        self.run(namespace, ["sysctl", "-q", "-w", *(f"{key}={value}" for key, value in values.items())])

    def nft(self, namespace: str, script: str) -> None:
        """Apply an nft script in one transaction (all of it or none)."""
        self.run(namespace, [self.nft_program, "-f", "-"], stdin=script)

    def nft_table(self, namespace: str, family: str, table: str) -> list[dict[str, Any]] | None:
        """The JSON objects of ``table`` (chains, rules, maps), or None when the table does not exist."""
        try:
            output = self.run(namespace, [self.nft_program, "-j", "list", "table", family, table])
        except KernelError as error:
            if "No such file or directory" in str(error):
                return None
            raise
        objects: list[dict[str, Any]] = json.loads(output)["nftables"]
        return objects
