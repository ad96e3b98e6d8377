"""A list checks the ``get_`` rule once per distinct value of what the rule reads, and stays exact under overrides."""

from __future__ import annotations

import os
import time
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import pytest
from oslo_policy import _checks, policy

from naas.api import policies
from tests.api.conftest import ADMIN, MEMBER_A, MEMBER_B, Api, build_api, make_conf


def _policy_api(tmp_path: Path, rules: str) -> Api:
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(rules)
    return build_api(make_conf(tmp_path, extra=f"[oslo_policy]\npolicy_file = {policy_file}\n"))


def _names(api: Api, headers: dict[str, str], collection: str = "networks") -> list[str]:
    listed = api.client.get(f"/v2.0/{collection}", headers=headers).json[collection]
    return sorted(item["name"] for item in listed)


def _count_checks(api: Api, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    checked: list[str] = []
    enforcer = api.app.api.enforcer
    authorize = enforcer.authorize

    def counting(rule: str, *args: Any, **kwargs: Any) -> Any:
        checked.append(rule)
        return authorize(rule, *args, **kwargs)

    monkeypatch.setattr(enforcer, "authorize", counting)
    return checked


def test_the_default_rule_reads_owner_and_sharing_only() -> None:
    enforcer = policies.get_enforcer()
    enforcer.load_rules()

    network = policies.target_keys(enforcer.rules, "get_network")
    subnet = policies.target_keys(enforcer.rules, "get_subnet")

    assert network is not None and subnet is not None
    assert network[0] == {"project_id", "shared", "router:external"}
    assert subnet[0] == {"project_id", "network:shared", "network:router:external"}


def test_a_rule_that_may_read_anything_has_no_keys() -> None:
    class Opaque(_checks.Check):
        def __call__(
            self, target: Any, creds: MutableMapping[str, Any], enforcer: Any, current_rule: Any = None
        ) -> bool:
            return True

    rules = {
        "whole": policy.OrCheck([_checks.GenericCheck("'x'", "%s")]),
        "own": policy.AndCheck([policy.RuleCheck("rule", "loop"), Opaque("opaque", "x")]),
        "loop": policy.RuleCheck("rule", "own"),
        "named": policy.NotCheck(_checks.GenericCheck("'secret'", "%(name)s and 100%%")),
    }

    assert policies.target_keys(rules, "whole") is None
    assert policies.target_keys(rules, "loop") is None
    named = policies.target_keys(rules, "named")
    assert named is not None and named[0] == {"name"}
    assert policies.target_keys(rules, "absent") == (frozenset(), ("absent=<missing>",))


def test_a_list_checks_the_rule_once_per_class_of_target(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(20):
        api.create("networks", "network", MEMBER_A, name=f"a{n}")
    api.create("networks", "network", ADMIN, name="shared", shared=True)
    api.create("networks", "network", ADMIN, name="private")
    checked = _count_checks(api, monkeypatch)

    names = _names(api, MEMBER_A)
    first = list(checked)
    again = _names(api, MEMBER_A)

    assert names == again == sorted([f"a{n}" for n in range(20)] + ["shared"])
    # Owned and shared: two classes (the library never hands over the private one). Whether A is an admin
    # was decided when A created its networks.
    assert first == ["get_network", "get_network"]
    # The second list reuses every decision.
    assert checked == first


def test_a_decision_is_not_reused_for_other_credentials(tmp_path: Path) -> None:
    api = _policy_api(tmp_path, '"get_network": "role:member and project_id:%(project_id)s"\n')
    api.create("networks", "network", MEMBER_A, name="a")
    reader_a = {**MEMBER_A, "X-Roles": "reader"}

    assert _names(api, MEMBER_A) == ["a"]
    # Same network, same project: only the roles differ, and the reader is refused.
    assert _names(api, reader_a) == []
    assert _names(api, MEMBER_A) == ["a"]


def test_an_edited_policy_file_takes_effect_once_the_enforcer_looks_again(tmp_path: Path) -> None:
    policy_file = tmp_path / "policy.yaml"
    api = _policy_api(tmp_path, '"get_network": "rule:admin_or_owner"\n')
    api.create("networks", "network", MEMBER_A, name="secret")
    enforcer = api.app.api.enforcer
    enforcer.recheck_seconds = 3600.0
    assert _names(api, MEMBER_A) == ["secret"]

    policy_file.write_text('"get_network": "rule:admin_or_owner and not \'secret\':%(name)s"\n# edited\n')
    os.utime(policy_file, (time.time() + 5, time.time() + 5))  # a new mtime, whatever the clock's resolution
    # Until the enforcer looks again, the remembered decision stands.
    assert _names(api, MEMBER_A) == ["secret"]
    enforcer.recheck_seconds = 0.0

    assert _names(api, MEMBER_A) == []


def test_an_override_that_hides_networks_by_name_still_hides_them(tmp_path: Path) -> None:
    api = _policy_api(tmp_path, '"get_network": "rule:admin_or_owner and not \'secret\':%(name)s"\n')
    for name in ("alpha", "secret", "beta", "secret", "gamma"):
        api.create("networks", "network", MEMBER_A, name=name)
    api.create("networks", "network", MEMBER_B, name="other")

    assert _names(api, MEMBER_A) == ["alpha", "beta", "gamma"]
    assert _names(api, MEMBER_B) == ["other"]
    assert _names(api, ADMIN) == ["alpha", "beta", "gamma", "other"]


def test_an_override_through_a_named_rule_is_followed(tmp_path: Path) -> None:
    api = _policy_api(
        tmp_path,
        '"hidden": "\'hide\':%(description)s"\n"get_network": "rule:admin_or_owner and not rule:hidden"\n',
    )
    api.create("networks", "network", MEMBER_A, name="seen", description="keep")
    api.create("networks", "network", MEMBER_A, name="unseen", description="hide")

    assert _names(api, MEMBER_A) == ["seen"]


class _TaggedPublic(_checks.Check):
    """An operator's own check: reads the target's tags, which no format string names."""

    def __call__(self, target: Any, creds: MutableMapping[str, Any], enforcer: Any, current_rule: Any = None) -> bool:
        return self.match in target.get("tags", [])


def test_an_operators_own_check_is_evaluated_for_each_resource(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(_checks.registered_checks, "tagged", _TaggedPublic)
    api = _policy_api(
        tmp_path, '"get_network": "rule:context_is_admin or (project_id:%(project_id)s and tagged:public)"\n'
    )
    for name, tags in (("one", ["public"]), ("two", []), ("three", ["public", "x"])):
        network = api.create("networks", "network", MEMBER_A, name=name)
        api.client.put_json(f"/v2.0/networks/{network['id']}/tags", {"tags": tags}, headers=ADMIN)
    checked = _count_checks(api, monkeypatch)

    assert _names(api, MEMBER_A) == ["one", "three"]
    assert checked.count("get_network") == 3


def test_a_policy_file_changed_between_lists_takes_effect(tmp_path: Path) -> None:
    policy_file = tmp_path / "policy.yaml"
    api = _policy_api(tmp_path, '"get_network": "rule:admin_or_owner"\n')
    for name in ("alpha", "secret"):
        api.create("networks", "network", MEMBER_A, name=name)
    before = _names(api, MEMBER_A)

    policy_file.write_text('"get_network": "rule:admin_or_owner and not \'secret\':%(name)s"\n# changed\n')
    api.app.api.enforcer.load_rules(force_reload=True)

    assert before == ["alpha", "secret"]
    assert _names(api, MEMBER_A) == ["alpha"]


def test_subnets_of_shared_networks_are_listed_by_class(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = api.create("networks", "network", ADMIN, name="shared", shared=True)
    own = api.create("networks", "network", MEMBER_B, name="own")
    private = api.create("networks", "network", ADMIN, name="private")
    for n in range(4):
        api.create("subnets", "subnet", ADMIN, network_id=shared["id"], cidr=f"10.{n}.0.0/24", name=f"s{n}")
        api.create("subnets", "subnet", MEMBER_B, network_id=own["id"], cidr=f"10.{n + 10}.0.0/24", name=f"o{n}")
        api.create("subnets", "subnet", ADMIN, network_id=private["id"], cidr=f"10.{n + 20}.0.0/24", name=f"p{n}")
    checked = _count_checks(api, monkeypatch)

    assert _names(api, MEMBER_B, "subnets") == [*(f"o{n}" for n in range(4)), *(f"s{n}" for n in range(4))]
    assert _names(api, MEMBER_A, "subnets") == [f"s{n}" for n in range(4)]
    # B's: its own, and the shared network's; A's: the shared network's.
    assert checked.count("get_subnet") == 3
