"""What the example adds to the memory plugins: the audit log, its option, and the pairing rule."""

from __future__ import annotations

import datetime
import logging
import textwrap
from pathlib import Path

import pytest
from naas_example_driver import AuditRecord, ExampleCorePlugin, ExampleL3Plugin
from naas_example_driver import opts as example_opts
from oslo_config import cfg

from naas import Event, EventRegistry, RequestContext, ResourceType, admin_context
from naas.exceptions import Conflict, DefaultExternalNetworkExists
from naas_plugins.memory import MemoryCorePlugin

PROJECT = RequestContext(project_id="project-a")
ADMIN = admin_context()


@pytest.fixture
def core() -> ExampleCorePlugin:
    return ExampleCorePlugin()


def summary(records: list[AuditRecord]) -> list[tuple[ResourceType, Event, str | None]]:
    return [(record.resource, record.event, record.resource_id) for record in records]


def test_every_stored_change_is_recorded_with_who_and_when(core: ExampleCorePlugin) -> None:
    before = datetime.datetime.now(datetime.UTC)
    network = core.create_network(PROJECT, {"name": "net"})
    core.update_network(PROJECT, network.id, {"name": "renamed"})
    core.delete_network(PROJECT, network.id)
    after = datetime.datetime.now(datetime.UTC)

    records = core.audit_log.records()

    assert summary(records) == [
        (ResourceType.NETWORK, Event.AFTER_CREATE, network.id),
        (ResourceType.NETWORK, Event.AFTER_UPDATE, network.id),
        (ResourceType.NETWORK, Event.AFTER_DELETE, network.id),
    ]
    assert {(r.project_id, r.is_admin, r.request_id) for r in records} == {("project-a", False, PROJECT.request_id)}
    assert before <= records[0].at <= records[1].at <= records[2].at <= after


def test_a_vetoed_change_is_not_recorded(core: ExampleCorePlugin) -> None:
    def veto(resource: ResourceType, event: Event, payload: object) -> None:
        raise Conflict("network", None, "networks are frozen")

    core.events.subscribe(ResourceType.NETWORK, Event.BEFORE_CREATE, veto)

    with pytest.raises(Conflict):
        core.create_network(PROJECT, {"name": "net"})
    assert core.audit_log.records() == []


def test_a_failed_change_is_not_recorded(core: ExampleCorePlugin) -> None:
    default = {"router:external": True, "is_default": True}
    first = core.create_network(ADMIN, {"name": "ext", **default})

    with pytest.raises(DefaultExternalNetworkExists):
        core.create_network(ADMIN, {"name": "second-default", **default})

    assert summary(core.audit_log.records()) == [(ResourceType.NETWORK, Event.AFTER_CREATE, first.id)]


def test_the_l3_plugin_s_changes_land_in_the_same_log(core: ExampleCorePlugin) -> None:
    l3 = ExampleL3Plugin(core)

    router = l3.create_router(PROJECT, {"name": "r"})

    assert l3.audit_log is core.audit_log
    assert summary(core.audit_log.records(resource=ResourceType.ROUTER)) == [
        (ResourceType.ROUTER, Event.AFTER_CREATE, router.id)
    ]


def test_records_can_be_narrowed_to_a_project(core: ExampleCorePlugin) -> None:
    other = RequestContext(project_id="project-b")
    mine = core.create_network(PROJECT, {"name": "mine"})
    core.create_network(other, {"name": "theirs"})

    assert summary(core.audit_log.records(project_id="project-a")) == [
        (ResourceType.NETWORK, Event.AFTER_CREATE, mine.id)
    ]


def test_only_the_most_recent_records_are_kept() -> None:
    core = ExampleCorePlugin(audit_max_records=2)

    networks = [core.create_network(PROJECT, {"name": f"net-{n}"}) for n in range(3)]

    assert core.audit_log.max_records == 2
    assert [r.resource_id for r in core.audit_log.records()] == [networks[1].id, networks[2].id]


def test_each_change_is_logged(core: ExampleCorePlugin, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="naas_example_driver.audit"):
        network = core.create_network(ADMIN, {"name": "net"})

    assert caplog.messages == [f"network {network.id} created by project admin as admin ({ADMIN.request_id})"]


def test_a_closed_log_stops_recording_and_keeps_what_it_has(core: ExampleCorePlugin) -> None:
    core.create_network(PROJECT, {"name": "before"})

    core.audit_log.close()
    core.create_network(PROJECT, {"name": "after"})

    assert len(core.audit_log.records()) == 1


def test_the_l3_plugin_refuses_another_core_plugin() -> None:
    with pytest.raises(TypeError) as caught:
        ExampleL3Plugin(MemoryCorePlugin())

    assert str(caught.value) == (
        "the example L3 plugin records into the example core plugin's audit log; "
        "set core_plugin = example, not naas_plugins.memory.core:MemoryCorePlugin"
    )


def test_from_config_reads_the_example_group(tmp_path: Path) -> None:
    path = tmp_path / "naas.conf"
    path.write_text(
        textwrap.dedent("""
        [example]
        audit_max_records = 5
    """)
    )
    conf = cfg.ConfigOpts()
    conf(["--config-file", str(path)], default_config_files=[], default_config_dirs=[], use_env=False)
    events = EventRegistry()

    core = ExampleCorePlugin.from_config(conf, events=events)
    l3 = ExampleL3Plugin.from_config(conf, core_plugin=core, events=events)

    assert core.audit_log.max_records == 5
    assert core.events is events
    assert l3.events is events


def test_the_options_are_listed_for_the_sample_generator() -> None:
    [(group, opts)] = example_opts.list_opts()

    assert group == "example"
    assert [(opt.name, opt.default) for opt in opts] == [("audit_max_records", 10000)]
