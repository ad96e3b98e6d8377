"""``description`` and ``tags`` on every resource type, with the openstack client's options.

``create --description --tag --no-tag``, ``set --description --tag --no-tag``,
``unset --tag --all-tag`` and ``list --tags --any-tags --not-tags
--not-any-tags``, run in this process on both bundled plugins, checked against
what the plugins stored. ``set --tag`` and ``unset --tag`` compute the new tag
set from the one they read: a change made between the read and the write must
be refused, not overwritten.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import naas.cli.resources
from naas.cli.core import NETWORK, PORT, SUBNET, SUBNET_POOL
from naas.cli.l3 import FLOATING_IP, ROUTER
from naas.cli.resources import Kind
from naas.context import admin_context
from naas.loading import Plugins
from naas.resources import Resource
from tests.cli.conftest import Result, Run

# How to create one resource of each type; "public" is the external network of the fixture below.
CREATE = {
    NETWORK: ("blue",),
    SUBNET: ("s4", "--network", "public", "--subnet-range", "10.1.0.0/24"),
    SUBNET_POOL: ("pool", "--pool-prefix", "10.8.0.0/16"),
    PORT: ("vm", "--network", "public"),
    ROUTER: ("edge",),
    FLOATING_IP: ("public",),
}
KINDS = [pytest.param(kind, id=kind.resource) for kind in CREATE]


def command(kind: Kind, verb: str, *args: str) -> tuple[str, ...]:
    """``subnet pool create ...``: the command words are the kind's label."""
    return (*kind.label.split(), verb, *args)


def ok(cli: Run, *args: str) -> Any:
    result = cli(*args, "-f", "json")
    assert (result.returncode, result.stderr) == (0, ""), result
    return json.loads(result.stdout)


def quiet(cli: Run, *args: str) -> None:
    result = cli(*args)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", ""), result


def failure(result: Result) -> str:
    """The one line a failed command printed."""
    assert (result.returncode, result.stdout) == (1, ""), result
    (line,) = result.error_lines
    return line


def stored(plugins: Plugins, kind: Kind, resource_id: str) -> Resource:
    """The resource as the plugin keeps it, read without the command line."""
    plugin = plugins.core if kind.plugin == "core" else plugins.l3
    resource: Resource = getattr(plugin, f"get_{kind.resource}")(admin_context(), resource_id)
    return resource


def tags(plugins: Plugins, kind: Kind, resource_id: str) -> tuple[str, ...]:
    return tuple(getattr(stored(plugins, kind, resource_id), "tags"))  # noqa: B009


@pytest.fixture(autouse=True)
def external(cli: Run) -> None:
    ok(cli, "network", "create", "public", "--external")
    ok(cli, "subnet", "create", "public-subnet", "--network", "public", "--subnet-range", "203.0.113.0/24")


@pytest.mark.parametrize("kind", KINDS)
def test_create_set_and_unset_description_and_tags(cli: Run, plugins: Plugins, kind: Kind) -> None:
    created = ok(
        cli, *command(kind, "create", *CREATE[kind], "--description", "Web tier", "--tag", "web", "--tag", "prod")
    )
    resource_id = created["id"]
    assert (created["description"], created["tags"]) == ("Web tier", ["prod", "web"])
    assert getattr(stored(plugins, kind, resource_id), "description") == "Web tier"  # noqa: B009
    shown = cli(*command(kind, "show", resource_id, "-c", "description", "-c", "tags")).stdout.splitlines()
    assert ("| description | Web tier  |" in shown, "| tags        | prod, web |" in shown) == (True, True), shown

    quiet(cli, *command(kind, "set", resource_id, "--tag", "db", "--tag", "web", "--description", "Data tier"))
    assert tags(plugins, kind, resource_id) == ("db", "prod", "web")
    assert getattr(stored(plugins, kind, resource_id), "description") == "Data tier"  # noqa: B009

    quiet(cli, *command(kind, "set", resource_id, "--no-tag", "--tag", "blue", "--tag", "green", "--tag", "red"))
    assert tags(plugins, kind, resource_id) == ("blue", "green", "red")

    quiet(cli, *command(kind, "unset", resource_id, "--tag", "green", "--tag", "never-there"))
    assert tags(plugins, kind, resource_id) == ("blue", "red")

    quiet(cli, *command(kind, "unset", resource_id, "--all-tag"))
    assert tags(plugins, kind, resource_id) == ()

    quiet(cli, *command(kind, "set", resource_id, "--tag", "again"))
    quiet(cli, *command(kind, "set", resource_id, "--no-tag"))
    assert tags(plugins, kind, resource_id) == ()
    assert getattr(stored(plugins, kind, resource_id), "description") == "Data tier"  # noqa: B009


def test_create_without_tags_and_with_no_tag(cli: Run) -> None:
    plain = ok(cli, "router", "create", "plain")
    no_tag = ok(cli, "router", "create", "untagged", "--no-tag")
    both = cli("router", "create", "both", "--no-tag", "--tag", "x")

    assert (plain["description"], plain["tags"], no_tag["tags"]) == ("", [], [])
    assert both.returncode == 2
    assert "argument --tag: not allowed with argument --no-tag" in both.stderr


def test_a_set_that_changes_nothing_makes_no_new_revision(cli: Run, plugins: Plugins) -> None:
    network = ok(cli, "network", "create", "blue", "--tag", "web")

    quiet(cli, "network", "set", "blue", "--tag", "web")
    quiet(cli, "network", "unset", "blue", "--tag", "db")

    assert getattr(stored(plugins, NETWORK, network["id"]), "revision_number") == 0  # noqa: B009


@pytest.mark.parametrize("kind", [pytest.param(kind, id=kind.resource) for kind in (NETWORK, ROUTER, FLOATING_IP)])
def test_list_tag_filters(cli: Run, kind: Kind) -> None:
    def listed(*filters: str) -> set[str]:
        return {row["ID"] for row in ok(cli, *command(kind, "list", *filters))}

    untagged_before = listed()
    red = ok(cli, *command(kind, "create", *CREATE[kind], "--tag", "red"))["id"]
    both = ok(cli, *command(kind, "create", *CREATE[kind], "--tag", "red", "--tag", "blue"))["id"]
    bare = ok(cli, *command(kind, "create", *CREATE[kind]))["id"]
    untagged = {bare, *untagged_before}

    assert listed("--tags", "red") == {red, both}
    assert listed("--tags", "red,blue") == {both}
    assert listed("--any-tags", "blue,green") == {both}
    assert listed("--any-tags", "green") == set()
    assert listed("--not-tags", "red,blue") == {red, *untagged}
    assert listed("--not-any-tags", "red") == untagged
    assert listed("--tags", "red", "--not-tags", "blue") == {red}
    (long,) = ok(cli, *command(kind, "list", "--long", "--tags", "blue"))
    assert (long["ID"], long["Tags"]) == (both, ["blue", "red"])


def test_a_bad_tag_is_the_librarys_error_and_changes_nothing(cli: Run, plugins: Plugins) -> None:
    network = ok(cli, "network", "create", "blue", "--tag", "web")

    comma = cli("network", "create", "red", "--tag", "a,b")
    too_long = cli("router", "create", "edge", "--tag", "x" * 256)
    set_comma = cli("network", "set", "blue", "--tag", "a,b", "--description", "changed")
    no_tag_filter = cli("network", "list", "--any-tags", ",")

    assert failure(comma) == "Invalid network attribute 'tags': tag 'a,b' holds ',', which no tag may hold."
    assert failure(too_long) == "Invalid router attribute 'tags': a tag is 256 characters long, the limit is 255."
    assert failure(set_comma) == "Invalid network attribute 'tags': tag 'a,b' holds ',', which no tag may hold."
    assert failure(no_tag_filter) == "Invalid network attribute 'tags-any': lists no tag."
    assert [row["Name"] for row in ok(cli, "network", "list")] == ["public", "blue"]
    assert ok(cli, "router", "list") == []
    unchanged = stored(plugins, NETWORK, network["id"])
    assert (unchanged.description, unchanged.tags, unchanged.revision_number) == ("", ("web",), 0)  # type: ignore[attr-defined]


@pytest.fixture
def tagged_by_someone_else(monkeypatch: pytest.MonkeyPatch, plugins: Plugins) -> None:
    """Between the command's read of a network and its update, another client adds the tag ``theirs``."""
    real_find = naas.cli.resources.find

    def find_then_change(*args: Any) -> Resource:
        found = real_find(*args)
        network_id = getattr(found, "id")  # noqa: B009
        current = plugins.core.get_network(admin_context(), network_id)
        plugins.core.update_network(admin_context(), network_id, {"tags": [*current.tags, "theirs"]})
        return found

    monkeypatch.setattr(naas.cli.resources, "find", find_then_change)


@pytest.mark.parametrize(
    "change", [("set", "--tag", "mine"), ("unset", "--tag", "web")], ids=["set --tag", "unset --tag"]
)
def test_a_tag_change_made_meanwhile_is_not_lost(
    cli: Run, plugins: Plugins, tagged_by_someone_else: None, change: tuple[str, ...]
) -> None:
    network = ok(cli, "network", "create", "blue", "--tag", "web")

    refused = cli("network", *change[:1], "blue", *change[1:])

    assert failure(refused) == (
        f"network {network['id']} is at revision 1, not 0 as required; "
        "read it again and retry with its current revision_number."
    )
    assert tags(plugins, NETWORK, network["id"]) == ("theirs", "web")


def test_replacing_or_clearing_the_tags_needs_no_revision(
    cli: Run, plugins: Plugins, tagged_by_someone_else: None
) -> None:
    # --no-tag (with --tag: replace) and --all-tag name the whole new set: nothing read is written back.
    network = ok(cli, "network", "create", "blue", "--tag", "web")

    quiet(cli, "network", "set", "blue", "--no-tag", "--tag", "only")
    assert tags(plugins, NETWORK, network["id"]) == ("only",)

    quiet(cli, "network", "unset", "blue", "--all-tag")
    assert tags(plugins, NETWORK, network["id"]) == ()


def test_floating_ip_set_needs_a_port_for_a_fixed_address(cli: Run) -> None:
    floating = ok(cli, "floating", "ip", "create", "public")

    result = cli("floating", "ip", "set", floating["id"], "--fixed-ip-address", "10.1.0.5")

    assert failure(result) == "--fixed-ip-address needs --port"
