"""The audit log, an observer selected in the config file: it sees stored changes only, from both plugins."""

from __future__ import annotations

import datetime
import logging
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from naas_example_driver import AuditLog, AuditRecord
from naas_example_driver import opts as example_opts
from oslo_config import cfg

import naas
from naas import Event, RequestContext, ResourceType, admin_context
from naas.exceptions import Conflict, DefaultExternalNetworkExists

PROJECT = RequestContext(project_id="project-a")
ADMIN = admin_context()


def load(tmp_path: Path, extra: str = "") -> naas.Plugins:
    path = tmp_path / "naas.conf"
    path.write_text(
        textwrap.dedent(f"""
        [DEFAULT]
        core_plugin = example
        l3_plugin = example
        observers = example-audit

        [example]
        state_file = {tmp_path / "state.json"}
        """)
        + extra
    )
    conf = cfg.ConfigOpts()
    conf(["--config-file", str(path)], default_config_files=[], default_config_dirs=[], use_env=False)
    return naas.load_plugins(conf)


@pytest.fixture
def plugins(tmp_path: Path) -> Iterator[naas.Plugins]:
    with load(tmp_path) as loaded:
        yield loaded


def audit_log(plugins: naas.Plugins) -> AuditLog:
    log = plugins.observers["example-audit"]
    assert isinstance(log, AuditLog)
    return log


def summary(records: list[AuditRecord]) -> list[tuple[ResourceType, Event, str | None]]:
    return [(record.resource, record.event, record.resource_id) for record in records]


def test_every_stored_change_is_recorded_with_who_and_when(plugins: naas.Plugins) -> None:
    before = datetime.datetime.now(datetime.UTC)
    network = plugins.core.create_network(PROJECT, {"name": "net"})
    plugins.core.update_network(PROJECT, network.id, {"name": "renamed"})
    plugins.core.delete_network(PROJECT, network.id)
    after = datetime.datetime.now(datetime.UTC)

    records = audit_log(plugins).records()

    assert summary(records) == [
        (ResourceType.NETWORK, Event.AFTER_CREATE, network.id),
        (ResourceType.NETWORK, Event.AFTER_UPDATE, network.id),
        (ResourceType.NETWORK, Event.AFTER_DELETE, network.id),
    ]
    assert {(r.project_id, r.is_admin, r.request_id) for r in records} == {("project-a", False, PROJECT.request_id)}
    assert before <= records[0].at <= records[1].at <= records[2].at <= after


def test_a_vetoed_change_is_neither_stored_nor_recorded(plugins: naas.Plugins) -> None:
    def veto(resource: ResourceType, event: Event, payload: object) -> None:
        raise Conflict("network", None, "networks are frozen")

    plugins.events.subscribe(ResourceType.NETWORK, Event.BEFORE_CREATE, veto)

    with pytest.raises(Conflict):
        plugins.core.create_network(PROJECT, {"name": "net"})
    assert audit_log(plugins).records() == []
    assert plugins.core.get_networks(ADMIN) == []


def test_a_failed_change_is_not_recorded(plugins: naas.Plugins) -> None:
    default = {"router:external": True, "is_default": True}
    first = plugins.core.create_network(ADMIN, {"name": "ext", **default})

    with pytest.raises(DefaultExternalNetworkExists):
        plugins.core.create_network(ADMIN, {"name": "second-default", **default})

    assert summary(audit_log(plugins).records()) == [(ResourceType.NETWORK, Event.AFTER_CREATE, first.id)]


def test_the_l3_plugin_s_changes_land_in_the_same_log(plugins: naas.Plugins) -> None:
    router = plugins.l3.create_router(PROJECT, {"name": "r"})

    assert summary(audit_log(plugins).records(resource=ResourceType.ROUTER)) == [
        (ResourceType.ROUTER, Event.AFTER_CREATE, router.id)
    ]


def test_records_can_be_narrowed_to_a_project(plugins: naas.Plugins) -> None:
    mine = plugins.core.create_network(PROJECT, {"name": "mine"})
    plugins.core.create_network(RequestContext(project_id="project-b"), {"name": "theirs"})

    assert summary(audit_log(plugins).records(project_id="project-a")) == [
        (ResourceType.NETWORK, Event.AFTER_CREATE, mine.id)
    ]


def test_only_the_configured_number_of_records_is_kept(tmp_path: Path) -> None:
    with load(tmp_path, "audit_max_records = 2\n") as plugins:
        networks = [plugins.core.create_network(PROJECT, {"name": f"net-{n}"}) for n in range(3)]

        assert audit_log(plugins).max_records == 2
        assert [r.resource_id for r in audit_log(plugins).records()] == [networks[1].id, networks[2].id]


def test_each_change_is_logged(plugins: naas.Plugins, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="naas_example_driver.audit"):
        network = plugins.core.create_network(ADMIN, {"name": "net"})

    assert caplog.messages == [f"network {network.id} created by project admin as admin ({ADMIN.request_id})"]


def test_the_options_are_listed_for_the_sample_generator() -> None:
    [(group, opts)] = example_opts.list_opts()

    assert group == "example"
    assert [(opt.name, opt.default) for opt in opts] == [
        ("state_file", None),
        ("audit_max_records", 10000),
        ("backend_max_mtu", 9000),
    ]
