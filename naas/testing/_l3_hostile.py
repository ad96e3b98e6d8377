"""Conformance tests: hostile input to the L3 plugin, and the gateway attributes Neutron keeps for admins.

Findings 3, 9, 10 and 19 of the 2026-12-01 adversarial test, on routers and floating IPs: a router gateway's
addresses and SNAT and a floating IP's address are an admin's to choose (Neutron's default policy), the
external subnet's gateway address (the upstream router) is no one's, and malformed ids, names and filters are
a BadRequest naming the attribute. Nothing is stored by a refused call.
"""

from __future__ import annotations

from typing import Any

from naas.exceptions import NotAuthorized
from naas.testing._core_hostile import UNSAFE_TEXTS, WRONG_TYPE_IDS
from naas.testing._l3_base import L3SuiteBase
from naas.testing.fixtures import make_network, make_port, make_router

__all__ = ["L3HostileInputTests"]


class L3HostileInputTests(L3SuiteBase):
    def _upstream(self) -> str:
        """The external subnet's gateway address: the upstream router every project's traffic leaves through."""
        gateway_ip = self.public.subnet().gateway_ip
        self.assertIsNotNone(gateway_ip, "the external subnet of the suite has a gateway")
        return str(gateway_ip)

    def test_only_an_admin_chooses_a_gateways_addresses_or_turns_snat_off(self) -> None:
        router = make_router(self.l3, self.project_a)
        for gateway, named in (
            ({"external_fixed_ips": [{"ip_address": "203.0.113.254"}]}, "external_gateway_info.external_fixed_ips"),
            ({"external_fixed_ips": [{"subnet_id": self.public.subnet().id}]}, "external_fixed_ips"),
            ({"enable_snat": False}, "external_gateway_info.enable_snat"),
        ):
            with self.subTest(named):
                body = {"external_gateway_info": {"network_id": self.public.id, **gateway}}
                error = self.assertRefused(NotAuthorized, self.l3.create_router, self.project_a, body)
                self.assertIn(named, str(error))
                self.assertRefused(NotAuthorized, self.l3.update_router, self.project_a, router.id, body)
        chosen = {
            "network_id": self.public.id,
            "enable_snat": False,
            "external_fixed_ips": [{"ip_address": "203.0.113.254"}],
        }
        made = self.l3.create_router(
            self.admin, {"project_id": self.project_a.project_id, "external_gateway_info": chosen}
        )
        assert made.external_gateway_info is not None
        self.assertEqual(
            (False, "203.0.113.254"),
            (made.external_gateway_info.enable_snat, str(made.external_gateway_info.external_fixed_ips[0].ip_address)),
        )

    def test_only_an_admin_chooses_a_floating_ip_address(self) -> None:
        body = {"floating_network_id": self.public.id, "floating_ip_address": "203.0.113.77"}
        error = self.assertRefused(NotAuthorized, self.l3.create_floatingip, self.project_a, body)
        self.assertIn("floating_ip_address", str(error))
        self.assertEqual("203.0.113.77", str(self.l3.create_floatingip(self.admin, body).floating_ip_address))

    def test_no_floating_ip_or_router_gateway_takes_the_external_subnets_gateway_address(self) -> None:
        upstream = self._upstream()
        body = {"floating_network_id": self.public.id, "floating_ip_address": upstream}
        error = self.assertBadRequest("floatingip", "floating_ip_address", self.l3.create_floatingip, self.admin, body)
        self.assertIn("gateway", error.reason)
        gateway = {"network_id": self.public.id, "external_fixed_ips": [{"ip_address": upstream}]}
        self.assertBadRequest(
            "router", "external_gateway_info", self.l3.create_router, self.admin, {"external_gateway_info": gateway}
        )
        router = make_router(self.l3, self.admin, external_network_id=self.public.id)
        changes = {"external_gateway_info": gateway}
        self.assertBadRequest("router", "external_gateway_info", self.l3.update_router, self.admin, router.id, changes)
        self.assertNotIn(upstream, [str(f.ip_address) for p in self.core.get_ports(self.admin) for f in p.fixed_ips])

    def test_a_router_interface_still_holds_its_subnets_gateway_address(self) -> None:
        setup = make_network(self.core, self.project_a, ["10.10.0.0/24"])
        router = make_router(self.l3, self.project_a)
        info = self.l3.add_router_interface(self.project_a, router.id, {"subnet_id": setup.subnet().id})
        port = self.core.get_port(self.project_a, info.port_id)
        self.assertEqual([setup.subnet().gateway_ip], [fixed.ip_address for fixed in port.fixed_ips])

    def test_malformed_ids_names_and_filters_are_a_bad_request(self) -> None:
        router = make_router(self.l3, self.project_a)
        for value in WRONG_TYPE_IDS:
            with self.subTest(value=value):
                self.assertBadRequest("router", "id", self.l3.get_router, self.project_a, value)
                self.assertBadRequest("floatingip", "id", self.l3.delete_floatingip, self.project_a, value)
        for label, text in UNSAFE_TEXTS.items():
            with self.subTest(label):
                self.assertBadRequest("router", "name", self.l3.create_router, self.project_a, {"name": text})
                self.assertBadRequest(
                    "router", "name", self.l3.update_router, self.project_a, router.id, {"name": text}
                )
                self.assertBadRequest("router", "name", self.l3.get_routers, self.project_a, {"name": text})
                self.assertBadRequest("floatingip", "id", self.l3.get_floatingip, self.project_a, text)

    def test_an_interface_or_floating_ip_body_that_is_not_a_mapping_is_a_bad_request(self) -> None:
        router = make_router(self.l3, self.project_a)
        setup = make_network(self.core, self.project_a, ["10.10.0.0/24"])
        port = make_port(self.core, self.project_a, setup.id)
        bodies: tuple[Any, ...] = (None, [port.id], port.id)
        for body in bodies:
            with self.subTest(body=body):
                self.assertBadRequest(
                    "router_interface", "body", self.l3.add_router_interface, self.project_a, router.id, body
                )
                self.assertBadRequest("floatingip", "body", self.l3.create_floatingip, self.project_a, body)
