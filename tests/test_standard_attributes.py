"""Standard attributes below the plugins: the request converters, the resources' tag set and filters, the clock.

What plugins do with them (revisions, preconditions, every storage) is the conformance
suites' (``naas.testing``); this is the part that needs no plugin.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

import netaddr
import pytest

from naas import requests
from naas.exceptions import BadRequest, RevisionMismatch
from naas.requests import UNSET, FloatingIPUpdate, NetworkCreate, NetworkUpdate, RouterUpdate
from naas.resources import STANDARD_ATTRIBUTES, Network, filter_resources, format_timestamp, parse_filters
from naas.rules._standard import check_revision, parse_revision, revised

PORT_ID = "c0ffee00-1111-4222-8333-444455556666"


def network(network_id: str = "n-1", **changes: Any) -> Network:
    values: dict[str, Any] = {
        "id": network_id,
        "project_id": "p",
        "name": "",
        "admin_state_up": True,
        "shared": False,
        "router_external": False,
        "is_default": False,
        "mtu": 1500,
        "status": "ACTIVE",
        "subnets": (),
    }
    values.update(changes)
    return Network(**values)


# Requests


def test_tags_are_sorted_and_description_kept() -> None:
    request = NetworkCreate.parse({"tags": ["web", "prod", "eu-1"], "description": "front end"})
    assert (request.tags, request.description) == (("eu-1", "prod", "web"), "front end")


def test_an_update_leaves_unset_what_it_was_not_given() -> None:
    request = NetworkUpdate.parse({"name": "x"})
    assert (request.tags, request.description) == (UNSET, UNSET)
    assert NetworkUpdate.parse({"tags": []}).tags == ()


@pytest.mark.parametrize(
    ("tags", "reason"),
    [
        ("red", "must be a list of tags (strings)"),
        ({"red": 1}, "must be a list of tags (strings)"),
        (["a,b"], "tag 'a,b' holds ',', which no tag may hold"),
        (["a/b"], "tag 'a/b' holds '/', which no tag may hold"),
        ([""], "holds an empty tag; a tag has 1 to 255 characters"),
        (["x", "y", "x"], "lists 'x' more than once"),
        ([7], "7 is not a string; tags are strings"),
        (["bell\x07"], "tag 'bell\\x07' holds the control character U+0007 at position 4"),
        ([f"t{index}" for index in range(51)], "has more than 50 entries, the limit is 50"),
        (["ok", "t" * 256], "a tag is 256 characters long, the limit is 255"),
    ],
)
def test_malformed_tags_are_refused_naming_the_attribute(tags: Any, reason: str) -> None:
    with pytest.raises(BadRequest) as caught:
        RouterUpdate.parse({"tags": tags})
    assert (caught.value.resource, caught.value.attribute, caught.value.reason) == ("router", "tags", reason)


def test_the_limits_themselves_are_accepted() -> None:
    tags = [f"{index:02d}" + "t" * 253 for index in range(requests.MAX_TAGS)]
    request = NetworkCreate.parse({"tags": tags, "description": "d" * requests.DESCRIPTION_MAX_LENGTH})
    assert len(request.tags) == 50 and len(request.description) == 255


@pytest.mark.parametrize(
    ("description", "reason"),
    [
        ("d" * 256, "is 256 characters long, the limit is 255"),
        ("a\u202eb", "holds the control character U+202E at position 1"),
        (None, "must be a string, not None"),
        (["x"], "must be a string, not ['x']"),
    ],
)
def test_a_malformed_description_is_refused_naming_it(description: Any, reason: str) -> None:
    with pytest.raises(BadRequest) as caught:
        NetworkCreate.parse({"description": description})
    assert (caught.value.attribute, caught.value.reason) == ("description", reason)


def test_a_floating_ip_update_maps_unmaps_or_leaves_the_port() -> None:
    assert FloatingIPUpdate.parse({"port_id": PORT_ID}).port_id == PORT_ID
    assert FloatingIPUpdate.parse({"port_id": None}).port_id is None
    assert FloatingIPUpdate.parse({"description": "d"}).port_id is UNSET
    mapped = FloatingIPUpdate.parse({"port_id": PORT_ID, "fixed_ip_address": "10.0.0.5"})
    assert mapped.fixed_ip_address == netaddr.IPAddress("10.0.0.5")
    with pytest.raises(BadRequest) as caught:
        FloatingIPUpdate.parse({"fixed_ip_address": "10.0.0.5"})
    assert caught.value.attribute == "fixed_ip_address"


# Resources


def test_every_resource_type_has_the_standard_attributes_in_its_wire_form() -> None:
    body = network(tags=("b", "a"), description="d", revision_number=3).to_dict()
    assert {name: body[name] for name in STANDARD_ATTRIBUTES} == {
        "description": "d",
        "tags": ["a", "b"],
        "created_at": "",
        "updated_at": "",
        "revision_number": 3,
    }


def test_a_resource_holds_its_tags_sorted_once_whatever_order_they_come_in() -> None:
    assert network(tags=("b", "a", "b")) == network(tags=("a", "b"))
    assert dataclasses.replace(network(), tags=("z", "y")).tags == ("y", "z")


def test_timestamps_are_utc_to_the_second() -> None:
    moment = datetime.datetime(2026, 12, 1, 18, 0, 59, 999999, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
    assert format_timestamp(moment) == "2026-12-01T17:00:59Z"
    with pytest.raises(ValueError, match="time zone"):
        format_timestamp(datetime.datetime(2026, 12, 1, 17, 0, 0))


def test_tag_filters_match_as_neutron_s() -> None:
    both, red, bare = network("both", tags=("red", "blue")), network("red", tags=("red",)), network("bare")
    everything = [both, red, bare]

    def ids(filters: dict[str, Any]) -> list[str]:
        return [found.id for found in filter_resources(everything, Network, filters)]

    assert ids({"tags": "red,blue"}) == ["both"]
    assert ids({"tags": ["red", "blue"]}) == ["both"]
    assert ids({"tags": ["red,blue", "red"]}) == ["both"]
    assert ids({"tags-any": "blue,green"}) == ["both"]
    assert ids({"not-tags": "red,blue"}) == ["red", "bare"]
    assert ids({"not-tags-any": "red"}) == ["bare"]
    assert ids({"tags": "red", "name": ""}) == ["both", "red"]


def test_tag_filters_are_parsed_into_single_tags() -> None:
    assert parse_filters(Network, {"tags-any": "a,b,,a"}) == {"tags-any": ("a", "b")}


@pytest.mark.parametrize(
    ("filters", "key"),
    [
        ({"tags": ","}, "tags"),
        ({"not-tags": [1]}, "not-tags"),
        ({"tags-any": "x" * 256}, "tags-any"),
        ({"revision_number": "1.5"}, "revision_number"),
    ],
)
def test_malformed_tag_and_revision_filters_name_the_key(filters: dict[str, Any], key: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_filters(Network, filters)
    assert caught.value.attribute == key


def test_tag_filters_are_only_for_resources_with_tags() -> None:
    from naas.resources import FixedIP

    with pytest.raises(BadRequest) as caught:
        parse_filters(FixedIP, {"tags-any": "a"})
    assert caught.value.attribute == "tags-any"


# The rules' helpers


def test_a_revision_check_names_resource_expected_and_actual() -> None:
    current = network(revision_number=4)
    check_revision(current, None)
    check_revision(current, 4)
    with pytest.raises(RevisionMismatch) as caught:
        check_revision(current, 3)
    assert (caught.value.resource, caught.value.resource_id, caught.value.expected, caught.value.actual) == (
        "network",
        "n-1",
        3,
        4,
    )


@pytest.mark.parametrize("value", ["1", True, -1, 1.5, None])
def test_if_revision_is_none_or_a_revision_number(value: Any) -> None:
    if value is None:
        assert parse_revision("port", value) is None
        return
    with pytest.raises(BadRequest) as caught:
        parse_revision("port", value)
    assert (caught.value.resource, caught.value.attribute) == ("port", "if_revision")


def test_a_revision_counts_one_moves_updated_at_and_takes_the_request_s_description_and_tags() -> None:
    current = network(created_at="2026-12-01T17:00:00Z", updated_at="2026-12-01T17:00:00Z", revision_number=1)
    clock = lambda: datetime.datetime(2026, 12, 1, 17, 30, tzinfo=datetime.UTC)  # noqa: E731
    kept = revised(current, dataclasses.replace(current, name="x"), clock, NetworkUpdate.parse({}))
    assert (kept.name, kept.revision_number, kept.updated_at, kept.created_at) == (
        "x",
        2,
        "2026-12-01T17:30:00Z",
        "2026-12-01T17:00:00Z",
    )
    tagged = revised(current, current, clock, NetworkUpdate.parse({"tags": ["t"], "description": "d"}))
    assert (tagged.tags, tagged.description) == (("t",), "d")
