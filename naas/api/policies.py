"""The HTTP API's access rules: oslo.policy defaults written in code, which a policy file overrides.

The defaults follow Neutron's classic ones: anyone may create, the owner or an
admin reads, changes and deletes, and the attributes Neutron reserves for
admins (``shared``, ``router:external``, ``is_default``, a gateway's
``enable_snat`` and ``external_fixed_ips``, a floating IP's address, a
``network:`` device owner) are ``rule:admin_only``. An operator changes any of
them in the file named by ``[oslo_policy] policy_file`` (``policy.yaml``);
``oslopolicy-sample-generator --namespace naas`` writes every default with its
description.

These rules stand *in front of* naas's own isolation (:mod:`naas.policy`),
which every plugin applies whatever the API does: a policy file can forbid more
than the library does, but it cannot let a project see another's resources. The
one rule that reaches the library is ``context_is_admin``: who passes it acts as
an admin (``is_admin`` of :class:`naas.context.RequestContext`).

Entry points: ``oslo.policy.policies = naas = naas.api.policies:list_rules``
and ``oslo.policy.enforcer = naas = naas.api.policies:get_enforcer``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Hashable, Iterator, Mapping
from typing import Any, Final

from oslo_config import cfg
from oslo_policy import _checks, policy

__all__ = [
    "ADMIN_ONLY_ATTRIBUTES",
    "COLLECTIONS",
    "CONTEXT_IS_ADMIN",
    "Enforcer",
    "freeze_credentials",
    "get_enforcer",
    "list_rules",
    "make_enforcer",
    "target_keys",
]

CONTEXT_IS_ADMIN: Final = "context_is_admin"
"""The rule saying who is an admin; passing it makes the library context an admin's."""

COLLECTIONS: Final = {
    "network": "networks",
    "subnet": "subnets",
    "subnetpool": "subnetpools",
    "port": "ports",
    "router": "routers",
    "floatingip": "floatingips",
}
"""Resource name -> its collection's path segment, for every resource the API serves."""

ADMIN_ONLY_ATTRIBUTES: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    "network": {
        "create": ("shared", "router:external", "is_default"),
        "update": ("shared", "router:external", "is_default"),
    },
    "subnetpool": {"create": ("shared", "is_default"), "update": ("is_default",)},
    "port": {"create": ("device_owner",), "update": ("device_owner",)},
    "router": {
        "create": ("external_gateway_info:enable_snat", "external_gateway_info:external_fixed_ips"),
        "update": ("external_gateway_info:enable_snat", "external_gateway_info:external_fixed_ips"),
    },
    "floatingip": {"create": ("floating_ip_address",), "update": ()},
}
"""Resource -> action -> the attributes whose ``<action>_<resource>:<attribute>`` rule is ``rule:admin_only``.

A nested attribute is ``outer:inner``. ``device_owner`` is checked only for a
``network:`` owner, as the library's own rule says (:func:`naas.requests.is_network_device_owner`).
"""

_BASE_RULES = [
    policy.RuleDefault(CONTEXT_IS_ADMIN, "role:admin", description="Who is an administrator."),
    policy.RuleDefault(
        "admin_or_owner",
        f"rule:{CONTEXT_IS_ADMIN} or project_id:%(project_id)s",
        description="An administrator, or a member of the project that owns the resource.",
    ),
    policy.RuleDefault("admin_only", f"rule:{CONTEXT_IS_ADMIN}", description="Administrators only."),
    policy.RuleDefault("regular_user", "", description="Anyone the authentication let in."),
    policy.RuleDefault("shared", "'True':%(shared)s", description="The resource the rule is checked on is shared."),
    policy.RuleDefault(
        "external",
        "'True':%(router:external)s",
        description="The network the rule is checked on is external.",
    ),
    policy.RuleDefault(
        "shared_or_external_network",
        "'True':%(network:shared)s or 'True':%(network:router:external)s",
        description="The subnet the rule is checked on belongs to a shared or an external network.",
    ),
]

# The readers of each resource beyond its owner and admins, as the library's isolation lets them see.
_EXTRA_READERS = {
    "network": " or rule:shared or rule:external",
    "subnetpool": " or rule:shared",
    "subnet": " or rule:shared_or_external_network",
}


def _resource_rules(resource: str, collection: str) -> Iterator[policy.DocumentedRuleDefault]:
    path = f"/v2.0/{collection}"
    item = f"{path}/{{id}}"
    yield policy.DocumentedRuleDefault(
        f"create_{resource}",
        "rule:admin_or_owner",
        f"Create a {resource} (for the caller's own project unless an admin).",
        [{"method": "POST", "path": path}],
    )
    yield policy.DocumentedRuleDefault(
        f"get_{resource}",
        "rule:admin_or_owner" + _EXTRA_READERS.get(resource, ""),
        f"Show a {resource}, or list it among others (a {resource} that fails this is left out, or not found).",
        [{"method": "GET", "path": path}, {"method": "GET", "path": item}],
    )
    yield policy.DocumentedRuleDefault(
        f"update_{resource}", "rule:admin_or_owner", f"Change a {resource}.", [{"method": "PUT", "path": item}]
    )
    yield policy.DocumentedRuleDefault(
        f"delete_{resource}", "rule:admin_or_owner", f"Delete a {resource}.", [{"method": "DELETE", "path": item}]
    )
    for action, attributes in ADMIN_ONLY_ATTRIBUTES.get(resource, {}).items():
        method = "POST" if action == "create" else "PUT"
        for attribute in attributes:
            yield policy.DocumentedRuleDefault(
                f"{action}_{resource}:{attribute}",
                "rule:admin_only",
                f"Give the {attribute.replace(':', '.')} attribute when {action.removesuffix('e')}ing a {resource}.",
                [{"method": method, "path": path if action == "create" else item}],
            )


def _router_interface_rules() -> Iterator[policy.DocumentedRuleDefault]:
    for action in ("add", "remove"):
        yield policy.DocumentedRuleDefault(
            f"{action}_router_interface",
            "rule:admin_or_owner",
            f"{action.capitalize()} an interface of a router (checked on the router).",
            [{"method": "PUT", "path": f"/v2.0/routers/{{id}}/{action}_router_interface"}],
        )


def _auto_allocate_rules() -> Iterator[policy.DocumentedRuleDefault]:
    path = "/v2.0/auto-allocated-topology/{project_id}"
    yield policy.DocumentedRuleDefault(
        "get_auto_allocated_topology",
        "rule:admin_or_owner",
        "Get (building it on first request) or check (fields=dry-run) a project's auto-allocated topology.",
        [{"method": "GET", "path": path}],
    )
    yield policy.DocumentedRuleDefault(
        "delete_auto_allocated_topology",
        "rule:admin_or_owner",
        "Delete a project's auto-allocated topology.",
        [{"method": "DELETE", "path": path}],
    )


def list_rules() -> list[policy.RuleDefault]:
    """Every default rule, for the enforcer and ``oslopolicy-sample-generator --namespace naas``."""
    rules: list[policy.RuleDefault] = list(_BASE_RULES)
    for resource, collection in COLLECTIONS.items():
        rules.extend(_resource_rules(resource, collection))
    rules.extend(_router_interface_rules())
    rules.extend(_auto_allocate_rules())
    return rules


class Enforcer(policy.Enforcer):
    """oslo.policy's enforcer, made cheap enough to stand in front of every request.

    oslo.policy looks for changes of the policy file and directories on each
    check (it searches the configuration directories and stats every file) and
    inspects each check's signature as it evaluates it: about 0.1 ms per rule, two
    rules or more per request. This enforcer

    * looks for changes at most every ``recheck_seconds`` (an edited policy file
      takes effect within that time; ``load_rules(force_reload=True)`` at once);
    * remembers decisions: :meth:`passes` evaluates a rule once for the same
      credentials and the same values of the target attributes the rule reads
      (:func:`target_keys`), until the rules change. A rule whose reading of the
      target is unknown (an HTTP check, an operator's own check class) is
      evaluated every time.

    Rules set by any means (a reloaded file, :meth:`set_rules`, ``clear()``)
    forget every remembered decision.
    """

    DECISIONS_KEPT: Final = 10_000
    """Remembered decisions; all are forgotten when there would be more (no bookkeeping on each check)."""

    def __init__(self, conf: cfg.ConfigOpts, *, recheck_seconds: float = 1.0) -> None:
        self.recheck_seconds = recheck_seconds
        self._rechecked_at: float | None = None
        self._rules_text: str | None = None
        self._forget()
        super().__init__(conf)

    def load_rules(self, force_reload: bool = False) -> None:
        """Read the policy file and directories if they changed, at most every ``recheck_seconds`` unless forced."""
        now = time.monotonic()
        if force_reload or self._rechecked_at is None or now - self._rechecked_at >= self.recheck_seconds:
            super().load_rules(force_reload)
            self._rechecked_at = now
            # A reload that changed nothing keeps the decisions (the text of ~150 rules, once a recheck).
            text = str(self.rules)
            if text != self._rules_text:
                self._rules_text = text
                self._forget()

    def set_rules(self, rules: Any, overwrite: bool = True, use_conf: bool = False) -> None:
        """Set the rules (oslo.policy's ``set_rules``) and forget every remembered decision."""
        super().set_rules(rules, overwrite=overwrite, use_conf=use_conf)
        self._rules_text = None
        self._forget()

    def passes(
        self,
        rule: str,
        target: Mapping[str, Any],
        credentials: Mapping[str, Any],
        *,
        credentials_key: Hashable | None = None,
    ) -> bool:
        """Whether ``rule`` allows ``credentials`` to act on ``target`` (``authorize`` without raising).

        ``credentials_key`` is :func:`freeze_credentials` of ``credentials``, for a caller checking many rules
        or targets with the same credentials (computed here when not given).

        Raises oslo.policy's ``PolicyNotRegistered`` for a rule nobody registered, as ``authorize`` does.
        """
        self.load_rules()
        decisions, readings = self._decisions, self._readings
        if rule not in readings:
            reading = target_keys(self.rules, rule)
            readings[rule] = None if reading is None else reading[0]
        keys = readings[rule]
        key = None
        if keys is not None:
            if credentials_key is None:
                credentials_key = freeze_credentials(credentials)
            key = _decision_key(rule, keys, target, credentials_key)
        if key is not None and key in decisions:
            return decisions[key]
        passed = bool(self.authorize(rule, dict(target), dict(credentials), do_raise=False))
        if key is not None and decisions is self._decisions:  # the rules did not change meanwhile
            if len(decisions) >= self.DECISIONS_KEPT:
                decisions.clear()
            decisions[key] = passed
        return passed

    def _forget(self) -> None:
        # New dicts rather than cleared ones: a check running meanwhile stores into the old ones.
        self._decisions: dict[tuple[Any, ...], bool] = {}
        # Per rule, the target attributes it reads (None: unknown, never remembered).
        self._readings: dict[str, frozenset[str] | None] = {}


def freeze_credentials(credentials: Mapping[str, Any]) -> Hashable | None:
    """All of ``credentials`` as a hashable value (None when some value cannot be hashed)."""
    try:
        key = _frozen(credentials)
        hash(key)
    except TypeError:
        return None
    return key  # type: ignore[no-any-return]


def _decision_key(
    rule: str, keys: frozenset[str], target: Mapping[str, Any], credentials: Hashable | None
) -> tuple[Any, ...] | None:
    """What a decision depends on: the rule, the target values it reads and all the credentials (None: unhashable)."""
    if credentials is None:
        return None
    return (rule, tuple(sorted((name, *_target_value(target, name)) for name in keys)), credentials)


def _target_value(target: Mapping[str, Any], key: str) -> tuple[Any, ...]:
    """What a rule reading ``key`` sees of ``target``, hashable: () when absent, else the value's type and repr."""
    if key not in target:
        return ()
    value = target[key]
    return (type(value), repr(value))


def _frozen(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(sorted((str(name), _frozen(item)) for name, item in value.items()))
    if isinstance(value, set | frozenset):
        return frozenset(_frozen(item) for item in value)
    if isinstance(value, list | tuple):
        return tuple(_frozen(item) for item in value)
    return value


def make_enforcer(conf: cfg.ConfigOpts) -> Enforcer:
    """An enforcer over ``conf`` (``[oslo_policy]`` options) with naas's defaults registered.

    The policy file, if any, is read on the first check and looked at again every second.
    """
    enforcer = Enforcer(conf)
    enforcer.register_defaults(list_rules())
    return enforcer


def get_enforcer() -> Enforcer:
    """The enforcer oslo.policy's commands use (``oslopolicy-policy-generator --namespace naas``).

    It reads naas's usual configuration files, as the server would.
    """
    conf = cfg.ConfigOpts()
    conf([], project="naas")
    return make_enforcer(conf)


# The checks whose reading of the target is known: a Generic or Role check formats its match with the target
# (``%(key)s``) and reads nothing else of it; the others combine checks or read nothing of the target.
_COMBINING_CHECKS: Final = (_checks.AndCheck, _checks.OrCheck)
_CONSTANT_CHECKS: Final = (_checks.TrueCheck, _checks.FalseCheck)
_FORMATTED_CHECKS: Final = (_checks.GenericCheck, _checks.RoleCheck)
_NAMED_KEY = re.compile(r"%\(([^)]*)\)")


def _keys_of_match(match: str) -> set[str] | None:
    keys = set(_NAMED_KEY.findall(match))
    # What is left must be no conversion reading the whole target (``%s`` formats the dict itself).
    rest = _NAMED_KEY.sub("", match.replace("%%", ""))
    return None if "%" in rest else keys


def target_keys(rules: Mapping[str, Any], rule: str) -> tuple[frozenset[str], tuple[str, ...]] | None:
    """The target attributes that checking ``rule`` over ``rules`` (an enforcer's loaded rules) can read.

    Returns the keys and a signature of the rules it followed (their text, which changes when a policy file
    redefines any of them), or None when the rule contains a check whose use of the target is unknown (an HTTP
    check, an operator's own check class): such a rule may read any attribute, and its result must not be
    shared between targets. A rule missing from ``rules`` reads nothing (oslo.policy refuses it, or applies the
    default rule, which is followed).
    """
    keys: set[str] = set()
    signature: list[str] = []
    seen: set[str] = set()
    pending: list[Any] = []

    def follow(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        try:
            check = rules[name]
        except KeyError:
            signature.append(f"{name}=<missing>")
            return
        signature.append(f"{name}={check}")
        pending.append(check)

    follow(rule)
    while pending:
        check = pending.pop()
        kind = type(check)
        if kind in _COMBINING_CHECKS:
            pending.extend(check.rules)
        elif kind is _checks.NotCheck:
            pending.append(check.rule)
        elif kind is _checks.RuleCheck:
            follow(check.match)
        elif kind in _FORMATTED_CHECKS:
            read = _keys_of_match(check.match)
            if read is None:
                return None
            keys |= read
        elif kind not in _CONSTANT_CHECKS:
            return None
    return frozenset(keys), tuple(signature)
