"""The nftables table naas keeps in each router namespace: SNAT for the router, 1:1 NAT for floating IPs.

One table (family ``ip``, named after the installation prefix) per router
namespace::

    map fip_in    floating address → fixed address   (each element commented with the floating IP's id)
    map fip_out   fixed address → floating address
    chain prerouting / output   dnat to ip daddr map @fip_in
    chain postrouting           oifname "qg-*" snat to ip saddr map @fip_out   (floating IPs first)
                                ip saddr <subnet> oifname <qg> snat to <external address>   (per subnet, enable_snat)

The router's part (chains and rules) is rewritten whole on every router
change; floating IPs only add and delete their own map elements, so neither
disturbs the other. Sync compares chains, each rule's comment (every rule
says what it does there) and the map elements, as ``nft -j`` lists them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

__all__ = ["FloatingMapping", "RouterNat", "TableContent", "parse_table"]

FIP_IN = "fip_in"
FIP_OUT = "fip_out"
# name → (type, hook, priority) of the base chains
BASE_CHAINS: dict[str, tuple[str, str, int]] = {
    "prerouting": ("nat", "prerouting", -100),
    "output": ("nat", "output", -100),
    "postrouting": ("nat", "postrouting", 100),
}


@dataclasses.dataclass(frozen=True, order=True)
class FloatingMapping:
    """One floating IP as the maps hold it."""

    floating: str
    fixed: str
    floatingip_id: str


@dataclasses.dataclass(frozen=True)
class SnatRule:
    subnet: str
    interface: str
    external: str

    @property
    def comment(self) -> str:
        return f"snat {self.subnet} to {self.external}"

    def statement(self) -> str:
        return f'ip saddr {self.subnet} oifname "{self.interface}" snat to {self.external}'


@dataclasses.dataclass(frozen=True)
class RouterNat:
    """The router's part of the table: its SNAT rules (none without a gateway or with enable_snat false)."""

    snat: tuple[SnatRule, ...] = ()

    @classmethod
    def build(cls, subnets: Iterable[str], interface: str | None, external: str | None) -> RouterNat:
        if interface is None or external is None:
            return cls()
        return cls(tuple(SnatRule(subnet, interface, external) for subnet in sorted(set(subnets))))

    def rules(self) -> dict[str, list[tuple[str, str]]]:
        """Chain → [(statement, comment)] in order."""
        dnat = ("dnat to ip daddr map @fip_in", "floating ip dnat")
        return {
            "prerouting": [dnat],
            "output": [dnat],
            "postrouting": [
                ('oifname "qg-*" snat to ip saddr map @fip_out', "floating ip snat"),
                *((rule.statement(), rule.comment) for rule in self.snat),
            ],
        }

    def script(self, table: str) -> str:
        """The nft script that makes the table's router part this one, keeping the map elements."""
        lines = [
            f"table ip {table} {{",
            f"  map {FIP_IN} {{ type ipv4_addr : ipv4_addr; }}",
            f"  map {FIP_OUT} {{ type ipv4_addr : ipv4_addr; }}",
        ]
        for name, (kind, hook, priority) in BASE_CHAINS.items():
            lines.append(f"  chain {name} {{ type {kind} hook {hook} priority {priority}; policy accept; }}")
        lines.append("}")
        for chain, rules in self.rules().items():
            lines.append(f"flush chain ip {table} {chain}")
            for statement, comment in rules:
                lines.append(f'add rule ip {table} {chain} {statement} comment "{comment}"')
        return "\n".join(lines) + "\n"

    def differences(self, content: TableContent | None) -> list[str]:
        if content is None:
            return ["nft table missing"]
        found = []
        for name, definition in BASE_CHAINS.items():
            if content.chains.get(name) != definition:
                found.append(f"nft chain {name} missing or different")
        for name in (FIP_IN, FIP_OUT):
            if name not in content.maps:
                found.append(f"nft map {name} missing")
        for chain, rules in self.rules().items():
            if content.rules.get(chain, []) != [comment for _, comment in rules]:
                found.append(f"nft rules of chain {chain} differ")
        return found


def elements_script(table: str, remove: Iterable[FloatingMapping] = (), add: Iterable[FloatingMapping] = ()) -> str:
    """The nft script that deletes ``remove`` and adds ``add`` (elements must be absent or present accordingly)."""
    lines = []
    for mapping in remove:
        lines.append(f"delete element ip {table} {FIP_IN} {{ {mapping.floating} }}")
        lines.append(f"delete element ip {table} {FIP_OUT} {{ {mapping.fixed} }}")
    for mapping in add:
        comment = f'comment "{mapping.floatingip_id}"'
        lines.append(f"add element ip {table} {FIP_IN} {{ {mapping.floating} {comment} : {mapping.fixed} }}")
        lines.append(f"add element ip {table} {FIP_OUT} {{ {mapping.fixed} {comment} : {mapping.floating} }}")
    return "\n".join(lines) + "\n"


@dataclasses.dataclass
class TableContent:
    """What ``nft -j list table`` says the table holds."""

    chains: dict[str, tuple[str, str, int]] = dataclasses.field(default_factory=dict)
    rules: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    maps: dict[str, dict[str, tuple[str, str]]] = dataclasses.field(default_factory=dict)
    """map name → key → (value, comment)."""

    def mappings(self) -> set[FloatingMapping]:
        """The floating IPs the maps hold, each only when both maps agree."""
        incoming = self.maps.get(FIP_IN, {})
        outgoing = self.maps.get(FIP_OUT, {})
        found = set()
        for floating, (fixed, floatingip_id) in incoming.items():
            if outgoing.get(fixed) == (floating, floatingip_id):
                found.add(FloatingMapping(floating, fixed, floatingip_id))
        return found

    def elements_of(self, floatingip_id: str) -> tuple[set[str], set[str]]:
        """The keys of ``fip_in`` and of ``fip_out`` commented with ``floatingip_id``."""
        return (
            {key for key, (_, comment) in self.maps.get(FIP_IN, {}).items() if comment == floatingip_id},
            {key for key, (_, comment) in self.maps.get(FIP_OUT, {}).items() if comment == floatingip_id},
        )

    def floatingip_ids(self) -> set[str]:
        return {comment for elements in self.maps.values() for _, comment in elements.values()}


def parse_table(objects: list[dict[str, Any]] | None) -> TableContent | None:
    """The :class:`TableContent` of ``nft -j list table`` output (None stays None: no table)."""
    if objects is None:
        return None
    content = TableContent()
    for item in objects:
        if "chain" in item:
            chain = item["chain"]
            content.chains[chain["name"]] = (chain.get("type", ""), chain.get("hook", ""), chain.get("prio", 0))
            content.rules.setdefault(chain["name"], [])
        elif "rule" in item:
            rule = item["rule"]
            content.rules.setdefault(rule["chain"], []).append(rule.get("comment", ""))
        elif "map" in item:
            elements: dict[str, tuple[str, str]] = {}
            for element in item["map"].get("elem", []):
                key, value = element
                if isinstance(key, dict) and "elem" in key:
                    elements[str(key["elem"]["val"])] = (str(value), str(key["elem"].get("comment", "")))
                else:
                    elements[str(key)] = (str(value), "")
            content.maps[item["map"]["name"]] = elements
    return content
