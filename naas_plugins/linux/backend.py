"""The linux backend: networks, DHCP, routers, SNAT and floating IPs on one host, in network namespaces.

The mapping (names in :mod:`naas_plugins.linux._names`):

- the installation's **switch namespace** (``<prefix>switch``) holds every
  network's bridge and the switch side of every veth pair; nothing is created
  in the host's root namespace;
- a **network** is a bridge (down when ``admin_state_up`` is false); its IPv4
  subnets with DHCP are served by one dnsmasq in the network's **DHCP
  namespace** (``<prefix>d-<network id>``), attached to the bridge by a veth;
- a **port** (other than a router's or a floating IP's) is a veth pair: ``tap…``
  on the bridge, ``tpi…`` waiting in the switch namespace until
  :meth:`LinuxBackend.plug` moves it into an instance's namespace;
- a **router** is a namespace (``<prefix>r-<router id>``) with forwarding on,
  one ``qr-…`` interface per interface port carrying the router's addresses on
  those subnets, a ``qg-…`` interface on the external network's bridge carrying
  the external addresses, default routes via the external subnets' gateways,
  and, with ``enable_snat``, SNAT of the attached IPv4 subnets to the first
  external IPv4 address (:mod:`naas_plugins.linux._nat`);
- a **floating IP** is a 1:1 DNAT and SNAT in its router's namespace, its
  address added to the router's ``qg-`` interface.

IPv6 is routed with **static addresses**: the router's interfaces carry the
gateway addresses, :meth:`LinuxBackend.plug` gives the instance its port's
IPv6 addresses and a default route via the subnet's gateway; no router
advertisements are sent and dnsmasq serves IPv4 only. IPv6 is never NATed (as
in Neutron), so IPv6 floating IPs are refused.

Every operation holds one lock per installation (a file lock in the state
directory, so concurrent ``naas`` processes take turns). Every check reads the
kernel, never a cache, so a fresh process (``naas backend sync``) sees what
another one did, and what an operator broke.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import functools
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar, Self

from oslo_config import cfg

from naas.backends import (
    ROUTING,
    SWITCHING,
    Capability,
    Change,
    DataplaneState,
    FloatingIPState,
    NetworkBackend,
    NetworkState,
    PortState,
    Repair,
    RepairAction,
    ResourceState,
    RouterState,
    SyncFailure,
    SyncReport,
)
from naas.events import ResourceType
from naas.exceptions import BadRequest, Conflict, NotFound
from naas.resources import Port
from naas_plugins.linux import _names, opts
from naas_plugins.linux._dhcp import SERVER_ADDRESS, DhcpServers, host_lines
from naas_plugins.linux._kernel import Kernel, KernelError, Namespace
from naas_plugins.linux._names import Names, alias
from naas_plugins.linux._nat import FloatingMapping, RouterNat, TableContent, elements_script, parse_table

__all__ = ["LinuxBackend"]

_SWITCH_SYSCTLS = {
    # Keep the switch pure layer 2: bridged frames skip the netfilter hooks, and nothing there speaks IPv6.
    "net.bridge.bridge-nf-call-iptables": "0",
    "net.bridge.bridge-nf-call-ip6tables": "0",
    "net.bridge.bridge-nf-call-arptables": "0",
    "net.ipv6.conf.all.disable_ipv6": "1",
    "net.ipv6.conf.default.disable_ipv6": "1",
}
_ROUTER_SYSCTLS = {
    "net.ipv4.ip_forward": "1",
    "net.ipv6.conf.all.forwarding": "1",
    # The router's addresses are naas's to give: no duplicate detection holding its interfaces back for a second.
    "net.ipv6.conf.default.accept_dad": "0",
}
_KIND_TYPE = {
    _names.NETWORK: ResourceType.NETWORK,
    _names.DHCP: ResourceType.NETWORK,
    _names.PORT: ResourceType.PORT,
    _names.ROUTER_INTERFACE: ResourceType.ROUTER,
    _names.GATEWAY: ResourceType.ROUTER,
}


class _Check:
    """The differences found while bringing one resource in line; ``fix`` says whether to repair them."""

    def __init__(self, fix: bool) -> None:
        self.fix = fix
        self.differences: list[str] = []
        self.missing = False

    def differs(self, what: str) -> bool:
        """Record ``what``; True when the caller should repair it now."""
        if what not in self.differences:
            self.differences.append(what)
        return self.fix


def _is_realized_port(port: Port) -> bool:
    """Router and floating IP ports are realized by their router; every other port gets a veth pair."""
    return not port.device_owner.startswith("network:")


class LinuxBackend(NetworkBackend):
    """Realizes naas's topologies on this host (see the module docstring); needs root or CAP_NET_ADMIN."""

    CAPABILITIES: ClassVar[frozenset[Capability]] = SWITCHING | ROUTING | {Capability.IPV6}

    def __init__(
        self,
        *,
        prefix: str = opts.DEFAULT_PREFIX,
        state_dir: str,
        dnsmasq: str = "dnsmasq",
        nft: str = "nft",
        ip: str = "ip",
        dhcp_lease_seconds: int = 86400,
    ) -> None:
        if not opts.PREFIX_PATTERN.fullmatch(prefix):
            raise ValueError(
                f"[linux] prefix {prefix!r} is not a lowercase letter, up to 11 letters or digits and a final dash"
            )
        self.names = Names(prefix)
        self.state_dir = Path(state_dir) / prefix.rstrip("-")
        self.kernel = Kernel(ip=ip, nft=nft)
        self.dhcp = DhcpServers(str(self.state_dir / "dhcp"), ip=ip, dnsmasq=dnsmasq, lease_seconds=dhcp_lease_seconds)
        self._thread_lock = threading.RLock()

    @classmethod
    def from_config(cls, conf: cfg.ConfigOpts) -> Self:
        opts.register_opts(conf)
        group = conf[opts.GROUP]
        return cls(
            prefix=group.prefix,
            state_dir=opts.default_state_dir(conf),
            dnsmasq=group.dnsmasq,
            nft=group.nft,
            ip=group.ip,
            dhcp_lease_seconds=group.dhcp_lease_seconds,
        )

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with self._thread_lock:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            with open(self.state_dir / "lock", "w") as lock_file, self.kernel.session():
                fcntl.flock(lock_file, fcntl.LOCK_EX)
                yield

    # The contract

    def precommit(self, change: Change) -> None:
        """Refuse IPv6 floating IPs (IPv6 is routed, never NATed)."""
        state = change.after
        if isinstance(state, FloatingIPState) and state.floatingip.floating_ip_address.version == 6:
            raise BadRequest(
                "floatingip",
                "floating_ip_address",
                f"the linux backend NATs IPv4 only; {state.floatingip.floating_ip_address} is IPv6",
            )

    def postcommit(self, change: Change) -> None:
        with self._locked():
            before, after = change.before, change.after
            if isinstance(before, NetworkState) and after is None:
                self._remove_network(before.resource_id)
            elif isinstance(after, NetworkState):
                self._ensure_network(after, _Check(fix=True))
            elif isinstance(before, PortState) and after is None:
                self._remove_port(before.port.id, before.port.network_id)
            elif isinstance(after, PortState):
                if isinstance(before, PortState) and before.port.network_id != after.port.network_id:
                    self._remove_port(before.port.id, before.port.network_id)
                self._ensure_port(after, _Check(fix=True))
            elif isinstance(before, RouterState) and after is None:
                self._remove_router(before.resource_id)
            elif isinstance(after, RouterState):
                self._ensure_router(after, _Check(fix=True))
            elif isinstance(before, FloatingIPState) or isinstance(after, FloatingIPState):
                self._postcommit_floatingip(before, after)

    def sync(self, state: DataplaneState, *, repair: bool = True) -> SyncReport:
        with self._locked():
            return _Sync(self, state, repair).run()

    # Plugging instances

    def plug(self, port: PortState, namespace: str, ifname: str = "eth0") -> None:
        """Hand ``port``'s instance end to ``namespace`` as ``ifname``, with the port's MAC, link up.

        The namespace must exist (the caller made it: it is the instance). The
        port's IPv6 addresses and those of IPv4 subnets without DHCP are
        configured statically, with default routes via their subnets'
        gateways; the instance gets its DHCP addresses itself (``dhclient``).
        Raises NotFound (no such namespace), Conflict (the port is not realized
        or already plugged, or ``ifname`` is taken) or BadRequest (``ifname``).
        """
        if not ifname or len(ifname) > _names.IFNAME_MAX or "/" in ifname or ifname.strip() != ifname:
            raise BadRequest("port", "ifname", f"{ifname!r} is not an interface name of 1 to 15 characters")
        port_id = port.port.id
        with self._locked():
            if namespace not in self.kernel.namespaces():
                raise NotFound("network namespace", namespace, f"Network namespace {namespace} does not exist")
            with self.kernel.namespace(namespace) as target:
                if target.link(ifname) is not None:
                    raise Conflict("port", port_id, f"namespace {namespace} already has an interface {ifname}")
            instance_end = self.names.port_instance_end(port_id)
            with self._switch() as switch:
                if switch is None or switch.link(self.names.port_switch_end(port_id)) is None:
                    raise Conflict(
                        "port", port_id, f"port {port_id} is not realized on this host: run naas backend sync"
                    )
                if switch.link(instance_end) is None:
                    raise Conflict("port", port_id, f"port {port_id} is plugged already: unplug it first")
                switch.set_link(instance_end, namespace=namespace)
            with self.kernel.namespace(namespace) as target:
                target.set_link(instance_end, new_name=ifname, address=port.port.mac_address, alias="")
                target.set_link(ifname, up=True)
                subnets = {subnet.id: subnet for subnet in port.subnets}
                for fixed in port.port.fixed_ips:
                    subnet = subnets[fixed.subnet_id]
                    if subnet.ip_version == 4 and subnet.enable_dhcp:
                        continue
                    target.add_address(ifname, str(fixed.ip_address), subnet.cidr.prefixlen)
                    if subnet.gateway_ip is not None:
                        target.replace_default_route(subnet.ip_version, str(subnet.gateway_ip), ifname)

    def unplug(self, port: PortState) -> None:
        """Take ``port``'s instance end back from whichever namespace holds it; a new one waits in its place.

        Idempotent: an unplugged port stays as it is.
        """
        with self._locked():
            with self._switch() as switch:
                if switch is not None and switch.link(self.names.port_instance_end(port.port.id)) is None:
                    switch.delete_link(self.names.port_switch_end(port.port.id))
            self._ensure_port(port, _Check(fix=True))

    # Shared infrastructure

    @contextlib.contextmanager
    def _switch(self) -> Iterator[Namespace | None]:
        if self.names.switch_namespace not in self.kernel.namespaces():
            yield None
            return
        with self.kernel.namespace(self.names.switch_namespace) as switch:
            yield switch

    def _ensure_switch(self, check: _Check) -> bool:
        """Whether the switch namespace exists (creating and configuring it when fixing)."""
        name = self.names.switch_namespace
        if name not in self.kernel.namespaces():
            if not check.differs(f"namespace {name} missing"):
                return False
            self.kernel.create_namespace(name)
            self.kernel.set_sysctls(name, _SWITCH_SYSCTLS)
            return True
        return True

    def _remove_switch_if_empty(self) -> None:
        with self._switch() as switch:
            if switch is None or set(switch.links()) - {"lo"}:
                return
        self.kernel.remove_namespace(self.names.switch_namespace)

    def _attach(self, switch: Namespace, name: str, network_id: str, up: bool, check: _Check) -> None:
        """Make the switch-side interface ``name`` a port of the network's bridge, up (or down)."""
        bridge = switch.link(self.names.bridge(network_id))
        link = switch.link(name)
        if link is None:
            return
        if bridge is None:
            if check.fix:
                raise KernelError(f"network {network_id} has no bridge in {switch.name}: sync the network first")
            check.differs(f"bridge of network {network_id} missing")
            return
        if link.master != bridge.index and check.differs(f"{name} not on bridge {bridge.name}"):
            switch.set_link(name, master=bridge.name)
        if link.up != up and check.differs(f"{name} {'down' if up else 'up'}"):
            switch.set_link(name, up=up)

    # Networks

    def _network_record(self, state: NetworkState) -> str:
        """What the backend records of a network: the subnets (and flags) it realized, for sync to compare."""
        network = state.network
        subnets = [
            {
                "id": subnet.id,
                "cidr": str(subnet.cidr),
                "gateway_ip": None if subnet.gateway_ip is None else str(subnet.gateway_ip),
                "enable_dhcp": subnet.enable_dhcp,
            }
            for subnet in sorted(state.subnets, key=lambda subnet: subnet.id)
        ]
        record = {"id": network.id, "admin_state_up": network.admin_state_up, "mtu": network.mtu, "subnets": subnets}
        return json.dumps(record, sort_keys=True) + "\n"

    def _record_path(self, network_id: str) -> Path:
        return self.state_dir / "networks" / f"{network_id}.json"

    def _ensure_network(self, state: NetworkState, check: _Check) -> None:
        network = state.network
        bridge_name = self.names.bridge(network.id)
        if not self._ensure_switch(check):
            check.missing = True
            check.differs(f"bridge {bridge_name} missing")
            self._ensure_dhcp(state, check)
            return
        record = self._network_record(state)
        path = self._record_path(network.id)
        try:
            written: str | None = path.read_text()
        except FileNotFoundError:
            written = None
        with self.kernel.namespace(self.names.switch_namespace) as switch:
            bridge = switch.link(bridge_name)
            if bridge is None:
                check.missing = written is None
                if check.differs(f"bridge {bridge_name} missing"):
                    switch.add_bridge(bridge_name, alias(_names.NETWORK, network.id))
                    bridge = switch.link(bridge_name)
            if bridge is not None and bridge.up != network.admin_state_up:
                if check.differs(f"bridge {bridge_name} {'down' if network.admin_state_up else 'up'}"):
                    switch.set_link(bridge_name, up=network.admin_state_up)
        if written != record and check.differs("recorded subnets differ" if written else "record missing"):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(record)
        self._ensure_dhcp(state, check)

    def _ensure_dhcp(self, state: NetworkState, check: _Check) -> None:
        network_id = state.network.id
        namespace = self.names.dhcp_namespace(network_id)
        subnets = [subnet for subnet in state.subnets if subnet.enable_dhcp and subnet.ip_version == 4]
        exists = namespace in self.kernel.namespaces()
        if not subnets:
            running = self.dhcp.written_configuration(network_id) is not None
            if (exists or running) and check.differs(f"DHCP namespace {namespace} of a network without DHCP"):
                self.dhcp.stop(network_id, namespace)
                with contextlib.suppress(FileNotFoundError):
                    (self.dhcp.directory(network_id) / "dnsmasq.conf").unlink()
                self.kernel.remove_namespace(namespace)
            return
        if not exists:
            if not check.differs(f"DHCP namespace {namespace} missing"):
                return
            self.kernel.create_namespace(namespace)
        interface = self.names.dhcp_interface(network_id)
        switch_end = self.names.dhcp_switch_end(network_id)
        if self.names.switch_namespace not in self.kernel.namespaces():
            check.differs(f"{switch_end} missing")
            return
        with self.kernel.namespace(namespace) as dhcp, self.kernel.namespace(self.names.switch_namespace) as switch:
            link = dhcp.link(interface)
            if link is None or switch.link(switch_end) is None:
                if not check.differs(f"{interface} missing"):
                    return
                dhcp.delete_link(interface)
                switch.delete_link(switch_end)
                switch.add_veth(
                    switch_end,
                    interface,
                    alias=alias(_names.DHCP, network_id),
                    peer_alias=alias(_names.DHCP, network_id),
                    peer_namespace=namespace,
                )
                dhcp.set_link(interface, alias=alias(_names.DHCP, network_id))
                link = dhcp.link(interface)
                assert link is not None
            self._attach(switch, switch_end, network_id, True, check)
            if not link.up and check.differs(f"{interface} down"):
                dhcp.set_link(interface, up=True)
            addresses = {address.cidr for address in dhcp.addresses(interface)}
            wanted = f"{SERVER_ADDRESS}/32"
            for extra in sorted(addresses - {wanted}):
                if check.differs(f"{interface} holds {extra}"):
                    address, prefixlen = extra.split("/")
                    dhcp.delete_address(interface, address, int(prefixlen))
            if wanted not in addresses and check.differs(f"{interface} lacks {wanted}"):
                dhcp.add_address(interface, SERVER_ADDRESS, 32)
        configuration = self.dhcp.configuration(network_id, interface, subnets)
        if self.dhcp.written_configuration(network_id) != configuration:
            if check.differs("dnsmasq configuration differs"):
                self.dhcp.start(network_id, namespace, configuration)
        elif self.dhcp.pid(network_id, namespace) is None and check.differs("dnsmasq not running"):
            self.dhcp.start(network_id, namespace, configuration)

    def _remove_network(self, network_id: str) -> None:
        namespace = self.names.dhcp_namespace(network_id)
        self.dhcp.remove(network_id, namespace)
        self.kernel.remove_namespace(namespace)
        with contextlib.suppress(FileNotFoundError):
            self._record_path(network_id).unlink()
        with self._switch() as switch:
            if switch is not None:
                switch.delete_link(self.names.dhcp_switch_end(network_id))
                switch.delete_link(self.names.bridge(network_id))
        self._remove_switch_if_empty()

    # Ports

    def _ensure_port(self, state: PortState, check: _Check) -> None:
        port = state.port
        if not _is_realized_port(port):
            return
        switch_end = self.names.port_switch_end(port.id)
        instance_end = self.names.port_instance_end(port.id)
        with self._switch() as switch:
            if switch is None or switch.link(self.names.bridge(port.network_id)) is None:
                if check.fix:
                    raise KernelError(f"network {port.network_id} of port {port.id} is not realized: sync it first")
                check.missing = switch is None or switch.link(switch_end) is None
                check.differs(f"{switch_end} missing" if check.missing else f"{switch_end} on no bridge")
            else:
                if switch.link(switch_end) is None:
                    check.missing = True
                    if check.differs(f"{switch_end} missing"):
                        switch.delete_link(instance_end)
                        switch.add_veth(
                            switch_end,
                            instance_end,
                            alias=alias(_names.PORT, port.id),
                            peer_alias=alias(_names.PORT, port.id),
                            peer_address=port.mac_address,
                        )
                self._attach(switch, switch_end, port.network_id, port.admin_state_up, check)
                waiting = switch.link(instance_end)
                if waiting is not None and waiting.address != port.mac_address:
                    if check.differs(f"{instance_end} has MAC {waiting.address}"):
                        switch.set_link(instance_end, address=port.mac_address)
        hosts = host_lines(port, state.subnets)
        if self.dhcp.read_host_file(port.network_id, port.id) != hosts and check.differs("DHCP host entry differs"):
            self.dhcp.write_host_file(port.network_id, port.id, hosts)
            self.dhcp.reload(port.network_id, self.names.dhcp_namespace(port.network_id))

    def _remove_port(self, port_id: str, network_id: str) -> None:
        with self._switch() as switch:
            if switch is not None:
                switch.delete_link(self.names.port_switch_end(port_id))
                switch.delete_link(self.names.port_instance_end(port_id))
        self._remove_host_entry(network_id, port_id)

    def _remove_host_entry(self, network_id: str, port_id: str) -> None:
        if self.dhcp.read_host_file(network_id, port_id):
            self.dhcp.write_host_file(network_id, port_id, "")
            self.dhcp.reload(network_id, self.names.dhcp_namespace(network_id))

    # Routers

    def _router_links(self, state: RouterState) -> dict[str, tuple[str, str, str, str, set[str]]]:
        """Router-side name → (kind, port id, MAC, network id, addresses) of every interface it should have."""
        links: dict[str, tuple[str, str, str, str, set[str]]] = {}
        for interface in state.interfaces:
            name = self.names.router_interface(interface.port_id)
            entry = links.setdefault(
                name, (_names.ROUTER_INTERFACE, interface.port_id, interface.mac_address, interface.network_id, set())
            )
            entry[4].add(f"{interface.ip_address}/{interface.subnet.cidr.prefixlen}")
        gateway = state.gateway
        if gateway is not None:
            prefixlens = {subnet.id: subnet.cidr.prefixlen for subnet in gateway.external_subnets}
            addresses = {f"{fixed.ip_address}/{prefixlens[fixed.subnet_id]}" for fixed in gateway.external_fixed_ips}
            links[self.names.router_gateway(gateway.port_id)] = (
                _names.GATEWAY,
                gateway.port_id,
                gateway.mac_address,
                gateway.network_id,
                addresses,
            )
        return links

    def _router_nat(self, state: RouterState) -> RouterNat:
        gateway = state.gateway
        if gateway is None or not gateway.enable_snat:
            return RouterNat()
        external = next((f.ip_address for f in gateway.external_fixed_ips if f.ip_address.version == 4), None)
        subnets = [str(i.subnet.cidr) for i in state.interfaces if i.subnet.ip_version == 4]
        return RouterNat.build(
            subnets, self.names.router_gateway(gateway.port_id), None if external is None else str(external)
        )

    def _table(self, namespace: str) -> TableContent | None:
        return parse_table(self.kernel.nft_table(namespace, "ip", self.names.nft_table))

    def _ensure_router(self, state: RouterState, check: _Check, floating: set[str] | None = None) -> None:
        """Bring the router in line; ``floating``: the floating addresses on its gateway (None: as the maps say)."""
        router = state.router
        namespace = self.names.router_namespace(router.id)
        if namespace not in self.kernel.namespaces():
            check.missing = True
            if not check.differs(f"namespace {namespace} missing"):
                return
            self.kernel.create_namespace(namespace)
        current = self.kernel.sysctls(namespace, list(_ROUTER_SYSCTLS))
        if current != _ROUTER_SYSCTLS and check.differs(f"sysctls {current} differ"):
            self.kernel.set_sysctls(namespace, _ROUTER_SYSCTLS)
        table = self._table(namespace)
        if floating is None:
            floating = {mapping.floating for mapping in table.mappings()} if table is not None else set()
        wanted_links = self._router_links(state)
        if wanted_links and not self._ensure_switch(check):
            check.differs("interfaces missing")
            return
        with contextlib.ExitStack() as stack:
            ns = stack.enter_context(self.kernel.namespace(namespace))
            switch = stack.enter_context(self._switch()) if wanted_links else None
            for name in sorted(set(ns.links()) - set(wanted_links) - {"lo"}):
                if check.differs(f"{name} is no interface of the router"):
                    ns.delete_link(name)
            for name, (kind, port_id, mac, network_id, addresses) in sorted(wanted_links.items()):
                assert switch is not None
                if kind == _names.GATEWAY:
                    switch_end = self.names.gateway_switch_end(port_id)
                    addresses = addresses | {f"{address}/32" for address in floating}
                else:
                    switch_end = self.names.interface_switch_end(port_id)
                self._ensure_router_link(ns, switch, name, switch_end, kind, router.id, mac, check)
                if ns.link(name) is None:
                    continue
                self._attach(switch, switch_end, network_id, router.admin_state_up, check)
                link = ns.link(name)
                assert link is not None
                if link.up != router.admin_state_up and check.differs(f"{name} {'down' if link.up else 'up'}"):
                    ns.set_link(name, up=router.admin_state_up)
                held = {address.cidr for address in ns.addresses(name)}
                for extra in sorted(held - addresses):
                    if check.differs(f"{name} holds {extra}"):
                        address, prefixlen = extra.split("/")
                        ns.delete_address(name, address, int(prefixlen))
                for missing in sorted(addresses - held):
                    if check.differs(f"{name} lacks {missing}"):
                        address, prefixlen = missing.split("/")
                        ns.add_address(name, address, int(prefixlen))
            self._ensure_routes(ns, state, check)
        nat = self._router_nat(state)
        differences = nat.differences(table)
        if differences and check.differs("; ".join(differences)):
            self.kernel.nft(namespace, nat.script(self.names.nft_table))

    def _ensure_router_link(
        self,
        ns: Namespace,
        switch: Namespace,
        name: str,
        switch_end: str,
        kind: str,
        router_id: str,
        mac: str,
        check: _Check,
    ) -> None:
        link = ns.link(name)
        if link is not None and switch.link(switch_end) is not None:
            if link.address != mac and check.differs(f"{name} has MAC {link.address}"):
                ns.set_link(name, address=mac)
            return
        if not check.differs(f"{name} missing"):
            return
        ns.delete_link(name)
        switch.delete_link(switch_end)
        switch.add_veth(
            switch_end,
            name,
            alias=alias(kind, router_id),
            peer_alias=alias(kind, router_id),
            peer_namespace=ns.name,
            peer_address=mac,
        )
        ns.set_link(name, alias=alias(kind, router_id))

    def _ensure_routes(self, ns: Namespace, state: RouterState, check: _Check) -> None:
        wanted: dict[int, str] = {}
        gateway = state.gateway
        if gateway is not None and state.router.admin_state_up:
            for subnet in gateway.external_subnets:
                if subnet.gateway_ip is not None:
                    wanted.setdefault(subnet.ip_version, str(subnet.gateway_ip))
        held = ns.default_routes()
        device = None if gateway is None else self.names.router_gateway(gateway.port_id)
        for version in (4, 6):
            route = held.get(version)
            target = wanted.get(version)
            if target is None:
                if route is not None and check.differs(f"IPv{version} default route via {route[0]}"):
                    ns.delete_default_route(version)
                continue
            assert device is not None
            link = ns.link(device)
            if route is None or route[0] != target or link is None or route[1] != link.index:
                if check.differs(f"IPv{version} default route via {target} missing") and link is not None:
                    ns.replace_default_route(version, target, device)

    def _remove_router(self, router_id: str) -> None:
        # The veths go with the namespace, and with them their switch ends.
        self.kernel.remove_namespace(self.names.router_namespace(router_id))

    # Floating IPs

    @staticmethod
    def _mapping(state: FloatingIPState | None) -> tuple[str, FloatingMapping] | None:
        """(router id, mapping) of an associated floating IP, else None."""
        if state is None:
            return None
        fip = state.floatingip
        if fip.port_id is None or fip.router_id is None or fip.fixed_ip_address is None:
            return None
        return fip.router_id, FloatingMapping(str(fip.floating_ip_address), str(fip.fixed_ip_address), fip.id)

    def _postcommit_floatingip(self, before: object, after: object) -> None:
        assert before is None or isinstance(before, FloatingIPState)
        assert after is None or isinstance(after, FloatingIPState)
        old = self._mapping(before)
        new = self._mapping(after)
        if old is not None and (new is None or old[0] != new[0]):
            self._remove_floatingip(old[0], old[1].floatingip_id, _Check(fix=True))
        if new is not None:
            self._ensure_floatingip(new[0], new[1], _Check(fix=True))

    def _gateway_link(self, ns: Namespace) -> str | None:
        return next((name for name in ns.links() if name.startswith("qg-")), None)

    def _ensure_floatingip(self, router_id: str, mapping: FloatingMapping, check: _Check) -> None:
        namespace = self.names.router_namespace(router_id)
        table = self._table(namespace) if namespace in self.kernel.namespaces() else None
        if table is None:
            check.missing = True
            if check.fix:
                raise KernelError(f"router {router_id} of floating IP {mapping.floatingip_id} is not realized")
            check.differs(f"router {router_id} not realized")
            return
        incoming, outgoing = table.elements_of(mapping.floatingip_id)
        if mapping not in table.mappings() or len(incoming) > 1 or len(outgoing) > 1:
            check.missing = not incoming
            if check.differs(f"mapping {mapping.floating} to {mapping.fixed} missing or stale"):
                # Drop this floating IP's elements and whatever holds its keys, then add it: one transaction.
                incoming |= {mapping.floating} & set(table.maps.get("fip_in", {}))
                outgoing |= {mapping.fixed} & set(table.maps.get("fip_out", {}))
                table_name = self.names.nft_table
                script = "".join(f"delete element ip {table_name} fip_in {{ {key} }}\n" for key in sorted(incoming))
                script += "".join(f"delete element ip {table_name} fip_out {{ {key} }}\n" for key in sorted(outgoing))
                self.kernel.nft(namespace, script + elements_script(table_name, add=[mapping]))
        with self.kernel.namespace(namespace) as ns:
            gateway = self._gateway_link(ns)
            if gateway is None:
                if check.fix:
                    raise KernelError(f"router {router_id} of floating IP {mapping.floatingip_id} has no gateway")
                check.differs(f"router {router_id} has no gateway")
                return
            if f"{mapping.floating}/32" not in {a.cidr for a in ns.addresses(gateway)}:
                if check.differs(f"{gateway} lacks {mapping.floating}/32"):
                    ns.add_address(gateway, mapping.floating, 32)

    def _remove_floatingip(
        self, router_id: str, floatingip_id: str, check: _Check, keep: FloatingMapping | None = None
    ) -> None:
        """Delete the floating IP's map elements (and addresses) from the router, keeping ``keep``."""
        namespace = self.names.router_namespace(router_id)
        if namespace not in self.kernel.namespaces():
            return
        table = self._table(namespace)
        if table is None:
            return
        incoming, outgoing = table.elements_of(floatingip_id)
        if keep is not None:
            incoming.discard(keep.floating)
            outgoing.discard(keep.fixed)
        if not (incoming or outgoing) or not check.differs(f"mapping of {', '.join(sorted(incoming))} left over"):
            return
        script = "".join(f"delete element ip {self.names.nft_table} fip_in {{ {key} }}\n" for key in incoming)
        script += "".join(f"delete element ip {self.names.nft_table} fip_out {{ {key} }}\n" for key in outgoing)
        self.kernel.nft(namespace, script)
        with self.kernel.namespace(namespace) as ns:
            gateway = self._gateway_link(ns)
            if gateway is not None:
                held = {address.cidr for address in ns.addresses(gateway)}
                for floating in incoming:
                    if f"{floating}/32" in held:
                        ns.delete_address(gateway, floating, 32)


class _Sync:
    """One sync: bring every stored resource in line, then remove what no stored resource owns."""

    def __init__(self, backend: LinuxBackend, state: DataplaneState, repair: bool) -> None:
        self.backend = backend
        self.state = state
        self.fix = repair
        self.repairs: dict[tuple[ResourceType, str], Repair] = {}
        self.failures: list[SyncFailure] = []
        self.failed: set[tuple[ResourceType, str]] = set()

    def run(self) -> SyncReport:
        backend = self.backend
        floating_by_router: dict[str, set[str]] = {}
        for fip_state in self.state.floatingips:
            mapped = backend._mapping(fip_state)
            if mapped is not None:
                floating_by_router.setdefault(mapped[0], set()).add(mapped[1].floating)
        for network in self.state.networks:
            self._each(network, functools.partial(backend._ensure_network, network))
        for port in self.state.ports:
            self._each(port, functools.partial(backend._ensure_port, port))
        for router in self.state.routers:
            floating = floating_by_router.get(router.resource_id, set())
            self._each(router, functools.partial(backend._ensure_router, router, floating=floating))
        for fip_state in self.state.floatingips:
            mapped = backend._mapping(fip_state)
            if mapped is not None:
                router_id, mapping = mapped
                self._each(fip_state, functools.partial(backend._ensure_floatingip, router_id, mapping))
        try:
            self._sweep()
        except KernelError as error:
            if not self.repairs and not self.failures:
                raise
            self.failures.append(SyncFailure(ResourceType.NETWORK, "(leftovers)", error))
        return SyncReport(tuple(self.repairs.values()), tuple(self.failures))

    def _each(self, state: ResourceState, ensure: Callable[[_Check], None]) -> None:
        check = _Check(self.fix)
        key = (state.RESOURCE_TYPE, state.resource_id)
        try:
            ensure(check)
        except (KernelError, OSError) as error:
            self.failed.add(key)
            self.failures.append(SyncFailure(state.RESOURCE_TYPE, state.resource_id, error))
            return
        if check.differences:
            action = RepairAction.CREATED if check.missing else RepairAction.UPDATED
            self._report(state.RESOURCE_TYPE, state.resource_id, action, "; ".join(check.differences))

    def _report(self, resource_type: ResourceType, resource_id: str, action: RepairAction, detail: str) -> None:
        key = (resource_type, resource_id)
        if key in self.failed:
            return
        known = self.repairs.get(key)
        if known is not None:
            if detail and detail not in known.detail:
                self.repairs[key] = dataclasses.replace(known, detail=f"{known.detail}; {detail}".strip("; "))
            return
        self.repairs[key] = Repair(resource_type, resource_id, action, detail)

    def _leftover(self, resource_type: ResourceType, resource_id: str, detail: str, remove: Callable[[], None]) -> None:
        """Something of ``resource_id`` that its stored state does not want: DELETED, or UPDATED if it is stored."""
        stored = {
            ResourceType.NETWORK: {s.resource_id for s in self.state.networks},
            ResourceType.PORT: {s.resource_id for s in self.state.ports},
            ResourceType.ROUTER: {s.resource_id for s in self.state.routers},
            ResourceType.FLOATINGIP: {s.resource_id for s in self.state.floatingips},
        }[resource_type]
        action = RepairAction.UPDATED if resource_id in stored else RepairAction.DELETED
        self._report(resource_type, resource_id, action, detail)
        if self.fix:
            try:
                remove()
            except (KernelError, OSError) as error:
                self.failed.add((resource_type, resource_id))
                self.repairs.pop((resource_type, resource_id), None)
                self.failures.append(SyncFailure(resource_type, resource_id, error))

    def _sweep(self) -> None:
        backend = self.backend
        names = backend.names
        kernel = backend.kernel
        networks = {s.resource_id: s for s in self.state.networks}
        routers = {s.resource_id for s in self.state.routers}
        namespaces = kernel.namespaces()
        # Floating IP mappings on routers that should not carry them
        wanted_mappings = {
            (mapped[0], mapped[1]) for mapped in map(backend._mapping, self.state.floatingips) if mapped is not None
        }
        for namespace in sorted(namespaces):
            if not namespace.startswith(names.router_namespace_prefix):
                continue
            router_id = namespace[len(names.router_namespace_prefix) :]
            if router_id not in routers:
                self._leftover(
                    ResourceType.ROUTER,
                    router_id,
                    f"namespace {namespace}",
                    functools.partial(kernel.remove_namespace, namespace),
                )
                continue
            table = backend._table(namespace)
            if table is None:
                continue
            for floatingip_id in sorted(table.floatingip_ids()):
                held = {m for m in table.mappings() if m.floatingip_id == floatingip_id}
                incoming, outgoing = table.elements_of(floatingip_id)
                kept = next((m for m in held if (router_id, m) in wanted_mappings), None)
                if kept is not None and len(incoming) <= 1 and len(outgoing) <= 1:
                    continue
                self._leftover(
                    ResourceType.FLOATINGIP,
                    floatingip_id,
                    f"mapping on router {router_id}",
                    functools.partial(backend._remove_floatingip, router_id, floatingip_id, _Check(True), kept),
                )
        # DHCP namespaces and files of networks that are gone
        for namespace in sorted(namespaces):
            if namespace.startswith(names.dhcp_namespace_prefix):
                network_id = namespace[len(names.dhcp_namespace_prefix) :]
                if network_id not in networks:
                    self._leftover(
                        ResourceType.NETWORK,
                        network_id,
                        f"namespace {namespace}",
                        functools.partial(backend._remove_network, network_id),
                    )
        for network_id in sorted(backend.dhcp.networks() - set(networks)):
            self._leftover(
                ResourceType.NETWORK,
                network_id,
                "DHCP files",
                functools.partial(backend.dhcp.remove, network_id, names.dhcp_namespace(network_id)),
            )
        records = backend.state_dir / "networks"
        if records.is_dir():
            for path in sorted(records.glob("*.json")):
                if path.stem not in networks:
                    self._leftover(ResourceType.NETWORK, path.stem, "record", path.unlink)
        wanted_hosts = {(s.port.network_id, s.resource_id) for s in self.state.ports if host_lines(s.port, s.subnets)}
        for network_id, port_ids in sorted(backend.dhcp.host_files().items()):
            for port_id in sorted(port_ids):
                if (network_id, port_id) not in wanted_hosts:
                    self._leftover(
                        ResourceType.PORT,
                        port_id,
                        "DHCP host entry",
                        functools.partial(backend._remove_host_entry, network_id, port_id),
                    )
        # Interfaces of the switch namespace no stored resource owns
        wanted_links = set()
        for network in self.state.networks:
            wanted_links.add(names.bridge(network.resource_id))
            if any(s.enable_dhcp and s.ip_version == 4 for s in network.subnets):
                wanted_links.add(names.dhcp_switch_end(network.resource_id))
        for port in self.state.ports:
            if _is_realized_port(port.port):
                wanted_links.add(names.port_switch_end(port.resource_id))
                wanted_links.add(names.port_instance_end(port.resource_id))
        for router in self.state.routers:
            for interface in router.interfaces:
                wanted_links.add(names.interface_switch_end(interface.port_id))
            if router.gateway is not None:
                wanted_links.add(names.gateway_switch_end(router.gateway.port_id))
        with backend._switch() as switch:
            if switch is not None:
                for name, link in sorted(switch.links().items()):
                    if name == "lo" or name in wanted_links:
                        continue
                    kind, resource_id = _names.parse_alias(link.alias) or (_names.NETWORK, "")
                    resource_type = _KIND_TYPE.get(kind, ResourceType.NETWORK)
                    self._leftover(
                        resource_type,
                        resource_id,
                        f"{name} in {switch.name}",
                        functools.partial(switch.delete_link, name),
                    )
        if self.fix and not networks:
            backend._remove_switch_if_empty()
