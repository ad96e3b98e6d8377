"""List, show, create, set, unset and delete, written once for every resource type.

A :class:`Kind` describes one resource type as the command line sees it: its
label, which plugin stores it, how users name it, and its list columns (the
default ones and those ``--long`` adds, as the openstack client prints them).
The plugin methods follow the contracts' naming (``get_network`` /
``get_networks`` / ``create_network`` / ``update_network`` /
``delete_network``), so a Kind reaches them by name. The commands of
:mod:`naas.cli.core` and :mod:`naas.cli.l3` derive from the bases here and add
their options.

Neutron's standard attributes, which every resource has, get their openstack
client options here, once: ``create --description --tag --no-tag``, ``set
--description --tag --no-tag``, ``unset --tag --all-tag`` and ``list --tags
--any-tags --not-tags --not-any-tags``. The library checks the values (a tag
holding a comma is its BadRequest naming ``tags``), not the command line.
"""

from __future__ import annotations

import abc
import argparse
import dataclasses
import uuid
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal, NamedTuple

from naas.cli.base import NaasCommand, NaasLister, NaasShowOne, add_project_option, displayed, show_dict
from naas.cli.errors import CommandError, describe_error
from naas.cli.session import Session
from naas.exceptions import NotFound
from naas.resources import TAG_FILTERS, Resource

__all__ = [
    "TAGS_COLUMN",
    "Column",
    "CreateResource",
    "DeleteResources",
    "Kind",
    "ListResources",
    "SetResource",
    "ShowResource",
    "StandardChanges",
    "UnsetResource",
    "find",
    "find_id",
]


@dataclasses.dataclass(frozen=True)
class Column:
    """A list column: its header, the wire key it shows, and how (default: as :func:`displayed` makes it)."""

    header: str
    key: str
    render: Callable[[Any], Any] = displayed


TAGS_COLUMN = Column("Tags", "tags")
"""The last of the openstack client's ``list --long`` columns, for every resource type."""


@dataclasses.dataclass(frozen=True)
class Kind:
    """One resource type, as the command line sees it."""

    label: str  # as in messages and command names: "subnet pool"
    plural: str
    plugin: Literal["core", "l3"]
    resource: str  # as in the plugin's method names and in naas.exceptions: "subnetpool"
    list_columns: tuple[Column, ...]
    # What ``list --long`` shows instead.
    long_columns: tuple[Column, ...] = ()
    # The attribute users may name a resource by instead of its id.
    name_key: str = "name"

    @property
    def metavar(self) -> str:
        return self.label.upper().replace(" ", "_")

    def _plugin_method(self, session: Session, name: str) -> Any:
        plugin = session.plugins.core if self.plugin == "core" else session.plugins.l3
        return getattr(plugin, name)

    def call(self, session: Session, verb: str, *args: Any, **keywords: Any) -> Any:
        """``<verb>_<resource>(context, *args, **keywords)`` on the plugin that stores this kind: ``get_network`` ..."""
        return self._plugin_method(session, f"{verb}_{self.resource}")(session.context, *args, **keywords)

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


def _tag_filter_dest(library_filter: str) -> str:
    """Where argparse keeps the option for a library tag filter: ``tags-any`` is ``tag_filter_tags_any``."""
    return "tag_filter_" + library_filter.replace("-", "_")


def _unique(tags: list[str]) -> list[str]:
    """``tags`` without repeats: ``--tag a --tag a`` asks for one tag, which the library would refuse twice."""
    return list(dict.fromkeys(tags))


class ListResources(NaasLister):
    """List resources; ``--long`` adds columns, ``--project`` and the filter options narrow the list."""

    kind: ClassVar[Kind]

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        add_project_option(parser, f"Only the {self.kind.plural} of this project.")
        if self.kind.long_columns:
            parser.add_argument("--long", action="store_true", help="List more columns.")
        self.add_filter_arguments(parser)
        plural = self.kind.plural
        for option, library_filter, help_text in (
            ("--tags", "tags", f"List {plural} which have all given tag(s)."),
            ("--any-tags", "tags-any", f"List {plural} which have any given tag(s)."),
            ("--not-tags", "not-tags", f"Exclude {plural} which have all given tag(s)."),
            ("--not-any-tags", "not-tags-any", f"Exclude {plural} which have any given tag(s)."),
        ):
            # Passed on as typed: the library splits the commas, and refuses an empty or malformed tag.
            parser.add_argument(option, metavar="TAG[,TAG,...]", dest=_tag_filter_dest(library_filter), help=help_text)
        return parser

    def add_filter_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add options that narrow the listing; see :meth:`filters`."""

    def filters(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        """The plugin filters the options of :meth:`add_filter_arguments` ask for."""
        return {}

    def take_action(self, parsed_args: argparse.Namespace) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
        filters = self.filters(parsed_args)
        filters.update(without_none({name: getattr(parsed_args, _tag_filter_dest(name)) for name in TAG_FILTERS}))
        if parsed_args.project:
            filters["project_id"] = parsed_args.project
        columns = self.kind.long_columns if getattr(parsed_args, "long", False) else self.kind.list_columns
        rows = []
        for resource in self.kind.list(self.session, filters):
            body = resource.to_dict()
            rows.append(tuple(column.render(body.get(column.key)) for column in columns))
        return tuple(column.header for column in columns), rows


class ShowResource(NaasShowOne):
    """Show a resource, every attribute in its wire form."""

    kind: ClassVar[Kind]

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument("name_or_id", metavar=self.kind.metavar, help="Name or ID.")
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> tuple[tuple[str, ...], tuple[Any, ...]]:
        return show_dict(find(self.session, self.kind, parsed_args.name_or_id).to_dict())


class DeleteResources(NaasCommand):
    """Delete resources; with several, try each and report every failure."""

    kind: ClassVar[Kind]

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument(
            "names_or_ids", metavar=self.kind.metavar, nargs="+", help="Name or ID; several may be given."
        )
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

    kind: ClassVar[Kind]
    # Floating IPs have no name: their address names them.
    has_name: ClassVar[bool] = True

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        if self.has_name:
            parser.add_argument("name", metavar="NAME", help=f"Name of the new {self.kind.label}.")
        add_project_option(parser, f"Create the {self.kind.label} for this project (default: the admin project).")
        self.add_arguments(parser)
        label = self.kind.label
        parser.add_argument("--description", metavar="DESCRIPTION", help=f"Description of the {label}.")
        tags = parser.add_mutually_exclusive_group()
        tags.add_argument("--tag", metavar="TAG", action="append", help=f"Tag the {label}; repeat for several.")
        # Nothing to do: a new resource has no tags. Accepted because openstack scripts pass it.
        tags.add_argument("--no-tag", action="store_true", help=f"No tags on the {label} (the default).")
        return parser

    @abc.abstractmethod
    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add the options particular to this resource type."""

    @abc.abstractmethod
    def body(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        """The create request, keyed by wire names, without ``name`` and ``project_id``.

        Options not given are left out, so that the plugin's defaults apply.
        """

    def take_action(self, parsed_args: argparse.Namespace) -> tuple[tuple[str, ...], tuple[Any, ...]]:
        request = self.body(parsed_args)
        request.update(without_none({"description": parsed_args.description}))
        if parsed_args.tag:
            request["tags"] = _unique(parsed_args.tag)
        if self.has_name:
            request["name"] = parsed_args.name
        if parsed_args.project:
            request["project_id"] = parsed_args.project
        created: Resource = self.kind.call(self.session, "create", request)
        return show_dict(created.to_dict())


def without_none(body: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` without the options that were not given (None): the plugin's default or the current value stays."""
    return {key: value for key, value in body.items() if value is not None}


class StandardChanges(NamedTuple):
    """What a set or unset changes of the standard attributes (``description``, ``tags``).

    ``from_current`` says the new tag set was computed from the one just read (some added or removed): the
    update must then be refused if the resource changed since, or a concurrent tag change would be lost.
    """

    changes: dict[str, Any]
    from_current: bool = False


def _tags_of(resource: Resource) -> tuple[str, ...]:
    tags: tuple[str, ...] = getattr(resource, "tags", ())
    return tags


def _tag_changes(current: Resource, tags: list[str], *, from_current: bool) -> StandardChanges:
    """The update of ``current``'s tags to ``tags``; nothing when that is the set it has (no new revision)."""
    if set(tags) == set(_tags_of(current)):
        return StandardChanges({})
    return StandardChanges({"tags": _unique(tags)}, from_current)


class ChangeResource(NaasCommand):
    """Change a resource in one update call; print nothing, as the openstack client does."""

    kind: ClassVar[Kind]

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument("name_or_id", metavar=self.kind.metavar, help=f"The {self.kind.label} (name or ID).")
        self.add_arguments(parser)
        self.add_standard_arguments(parser)
        return parser

    @abc.abstractmethod
    def add_standard_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add the options for the standard attributes, the same for every resource type."""

    @abc.abstractmethod
    def standard_changes(self, parsed_args: argparse.Namespace, current: Resource) -> StandardChanges:
        """The changes those options ask for."""

    @abc.abstractmethod
    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add the options particular to this resource type."""

    @abc.abstractmethod
    def changes(self, parsed_args: argparse.Namespace, current: Resource) -> dict[str, Any]:
        """The update request, keyed by wire names; options not given are left out."""

    def take_action(self, parsed_args: argparse.Namespace) -> int:
        current = find(self.session, self.kind, parsed_args.name_or_id)
        changes = self.changes(parsed_args, current)
        standard = self.standard_changes(parsed_args, current)
        changes.update(standard.changes)
        if changes:
            condition = {}
            if standard.from_current:
                # Tags added to or removed from those read: only if it is still the revision read, so that
                # a change made meanwhile is refused (RevisionMismatch) rather than overwritten.
                condition["if_revision"] = getattr(current, "revision_number")  # noqa: B009
            self.kind.call(self.session, "update", getattr(current, "id"), changes, **condition)  # noqa: B009
        return 0


class SetResource(ChangeResource):
    """Set attributes of a resource; ``--tag`` adds to its tags, ``--no-tag`` clears them first."""

    def add_standard_arguments(self, parser: argparse.ArgumentParser) -> None:
        label = self.kind.label
        parser.add_argument("--description", metavar="DESCRIPTION", help=f"A new description of the {label}.")
        parser.add_argument(
            "--tag", metavar="TAG", action="append", help=f"Add this tag to the {label}; repeat for several."
        )
        parser.add_argument(
            "--no-tag", action="store_true", help=f"Remove the {label}'s tags (with --tag: replace them)."
        )

    def standard_changes(self, parsed_args: argparse.Namespace, current: Resource) -> StandardChanges:
        description = without_none({"description": parsed_args.description})
        if parsed_args.no_tag:
            tags = _tag_changes(current, parsed_args.tag or [], from_current=False)
        elif parsed_args.tag:
            tags = _tag_changes(current, [*_tags_of(current), *parsed_args.tag], from_current=True)
        else:
            tags = StandardChanges({})
        return StandardChanges({**description, **tags.changes}, tags.from_current)


class UnsetResource(ChangeResource):
    """Clear or remove attributes of a resource; ``--tag`` removes a tag, ``--all-tag`` every one."""

    def add_standard_arguments(self, parser: argparse.ArgumentParser) -> None:
        label = self.kind.label
        tags = parser.add_mutually_exclusive_group()
        tags.add_argument(
            "--tag", metavar="TAG", action="append", help=f"Remove this tag from the {label}; repeat for several."
        )
        tags.add_argument("--all-tag", action="store_true", help=f"Remove every tag of the {label}.")

    def standard_changes(self, parsed_args: argparse.Namespace, current: Resource) -> StandardChanges:
        if parsed_args.all_tag:
            return _tag_changes(current, [], from_current=False)
        if parsed_args.tag:
            # A tag it does not have is no error, as with the openstack client: it is not there afterwards.
            kept = [tag for tag in _tags_of(current) if tag not in parsed_args.tag]
            return _tag_changes(current, kept, from_current=True)
        return StandardChanges({})
