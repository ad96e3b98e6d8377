"""List, show, create and delete, written once for every resource type.

A :class:`Kind` describes one resource type as the command line sees it: its
label, which plugin stores it, how users name it, and its list columns. The
plugin methods follow the contracts' naming (``get_network`` /
``get_networks`` / ``create_network`` / ``delete_network``), so a Kind reaches
them by name. :func:`standard_commands` builds the list / show / delete
commands of a Kind; create commands differ in their options and derive from
:class:`CreateResource`.
"""

from __future__ import annotations

import abc
import argparse
import dataclasses
import uuid
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from cliff import command

from naas.cli.base import NaasCommand, NaasLister, NaasShowOne, add_project_option, displayed, show_dict
from naas.cli.errors import CommandError, describe_error
from naas.cli.session import Session
from naas.exceptions import NotFound
from naas.resources import Resource

__all__ = ["CreateResource", "Kind", "ListResources", "find", "find_id", "standard_commands"]


@dataclasses.dataclass(frozen=True)
class Kind:
    """One resource type, as the command line sees it."""

    label: str  # as in messages and command names: "subnet pool"
    plural: str
    plugin: Literal["core", "l3"]
    resource: str  # as in the plugin's method names and in naas.exceptions: "subnetpool"
    # Header -> wire key, for ``list``.
    list_columns: tuple[tuple[str, str], ...]
    # The attribute users may name a resource by instead of its id.
    name_key: str = "name"

    def _plugin_method(self, session: Session, name: str) -> Any:
        plugin = session.plugins.core if self.plugin == "core" else session.plugins.l3
        return getattr(plugin, name)

    def call(self, session: Session, verb: str, *args: Any) -> Any:
        """``<verb>_<resource>(context, *args)`` on the plugin that stores this kind: ``get_network`` ..."""
        return self._plugin_method(session, f"{verb}_{self.resource}")(session.context, *args)

    def list(self, session: Session, filters: Mapping[str, Any] | None = None) -> list[Resource]:
        resources: list[Resource] = self._plugin_method(session, f"get_{self.resource}s")(session.context, filters)
        return resources


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def find(session: Session, kind: Kind, name_or_id: str) -> Resource:
    """The resource named ``name_or_id``: its id, or its name.

    As in the openstack client: an id wins; a name must be unique, else the
    error lists the candidates' ids so the user can pick one.
    """
    if _is_uuid(name_or_id):
        try:
            found: Resource = kind.call(session, "get", name_or_id)
            return found
        except NotFound:
            pass  # a name may look like a UUID
    matches = kind.list(session, {kind.name_key: name_or_id})
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise NotFound(kind.resource, name_or_id, f"No {kind.label} with a name or ID of '{name_or_id}' exists.")
    ids = ", ".join(str(getattr(match, "id", "?")) for match in matches)
    raise CommandError(f"More than one {kind.label} exists with the name '{name_or_id}' ({ids}); give an ID.")


def find_id(session: Session, kind: Kind, name_or_id: str) -> str:
    # Every resource a Kind describes has an id; the Resource base class does not declare it.
    return str(getattr(find(session, kind, name_or_id), "id"))  # noqa: B009


class ListResources(NaasLister):
    kind: Kind

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        add_project_option(parser, f"Only the {self.kind.plural} of this project.")
        self.add_filter_arguments(parser)
        return parser

    def add_filter_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add options that narrow the listing; see :meth:`filters`."""

    def filters(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        """The plugin filters the options of :meth:`add_filter_arguments` ask for."""
        return {}

    def take_action(self, parsed_args: argparse.Namespace) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
        filters = self.filters(parsed_args)
        if parsed_args.project:
            filters["project_id"] = parsed_args.project
        headers = tuple(header for header, _ in self.kind.list_columns)
        rows = []
        for resource in self.kind.list(self.session, filters):
            body = resource.to_dict()
            rows.append(tuple(displayed(body.get(key)) for _, key in self.kind.list_columns))
        return headers, rows


class ShowResource(NaasShowOne):
    kind: Kind

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument("name_or_id", metavar=self.kind.label.upper().replace(" ", "_"), help="Name or ID.")
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> tuple[tuple[str, ...], tuple[Any, ...]]:
        return show_dict(find(self.session, self.kind, parsed_args.name_or_id).to_dict())


class DeleteResources(NaasCommand):
    kind: Kind

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        metavar = self.kind.label.upper().replace(" ", "_")
        parser.add_argument("names_or_ids", metavar=metavar, nargs="+", help="Name or ID; several may be given.")
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> int:
        # As the openstack client does: try every one, then report every failure.
        names = parsed_args.names_or_ids
        failures = []
        for name_or_id in names:
            try:
                self.kind.call(self.session, "delete", find_id(self.session, self.kind, name_or_id))
            except Exception as error:
                if len(names) == 1:
                    raise
                failures.append(f"{name_or_id}: {describe_error(error).rstrip('.')}")
        if failures:
            raise CommandError(
                f"Failed to delete {len(failures)} of {len(names)} {self.kind.plural}: {'; '.join(failures)}"
            )
        return 0


class CreateResource(NaasShowOne):
    """Create a resource from the options, then show it."""

    kind: Kind
    # Floating IPs have no name: their address names them.
    has_name: ClassVar[bool] = True

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        if self.has_name:
            parser.add_argument("name", metavar="NAME", help=f"Name of the new {self.kind.label}.")
        add_project_option(parser, f"Create the {self.kind.label} for this project (default: the admin project).")
        self.add_arguments(parser)
        return parser

    @abc.abstractmethod
    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add the options particular to this resource type."""

    @abc.abstractmethod
    def body(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        """The create request, keyed by wire names, without ``name`` and ``project_id``."""

    def take_action(self, parsed_args: argparse.Namespace) -> tuple[tuple[str, ...], tuple[Any, ...]]:
        request = self.body(parsed_args)
        if self.has_name:
            request["name"] = parsed_args.name
        if parsed_args.project:
            request["project_id"] = parsed_args.project
        created: Resource = self.kind.call(self.session, "create", request)
        return show_dict(created.to_dict())


def standard_commands(kind: Kind, lister: type[ListResources] = ListResources) -> dict[str, type[command.Command]]:
    """``<kind> list``, ``<kind> show`` and ``<kind> delete`` for ``kind``; ``lister`` may add list filters."""
    bases: tuple[tuple[str, type[NaasCommand], str], ...] = (
        ("list", lister, f"List {kind.plural}."),
        ("show", ShowResource, f"Show a {kind.label}."),
        ("delete", DeleteResources, f"Delete {kind.plural}."),
    )
    commands: dict[str, type[command.Command]] = {}
    for verb, base, description in bases:
        class_name = "".join(word.title() for word in (verb, *kind.label.split()))
        commands[f"{kind.label} {verb}"] = type(class_name, (base,), {"kind": kind, "_description": description})
    return commands
