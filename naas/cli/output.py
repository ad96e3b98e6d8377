"""How values reach the terminal: structured columns, and tenant text made harmless.

Names, descriptions and other strings come from tenants, and naas must assume
them hostile: a name may hold a terminal escape sequence (``ESC [2J`` clears the
screen) or a newline that forges a table row or a tree line. Every text output
passes through :func:`escape_text`, which writes each non-printable character
as a Python-style escape (``\\x1b``, ``\\n``, ``\\u202e``). JSON and YAML keep
the raw value: their own encoding escapes it, and scripts get the real string.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cliff.columns import FormattableColumn

__all__ = [
    "RAW_FORMATTERS",
    "AdminStateColumn",
    "EscapedColumn",
    "RouterTypeColumn",
    "StructuredColumn",
    "displayed",
    "escape_text",
    "escaped",
    "for_formatter",
    "show_dict",
]

RAW_FORMATTERS = frozenset({"json", "yaml"})
"""cliff formatters that escape what they print themselves; every other one gets escaped text."""

_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_character(character: str) -> str:
    if character in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[character]
    code = ord(character)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def escape_text(text: str) -> str:
    """``text`` with every non-printable character (controls, escapes, bidi overrides) written as an escape."""
    if text.isprintable():
        return text
    return "".join(character if character.isprintable() else _escape_character(character) for character in text)


def escaped(value: Any) -> Any:
    """``value`` with :func:`escape_text` applied to every string in it, lists and mappings included."""
    if isinstance(value, str):
        return escape_text(value)
    if isinstance(value, Mapping):
        return {escaped(key): escaped(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [escaped(item) for item in value]
    return value


def _human(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Mapping):
        return ", ".join(f"{key}='{_human(item)}'" for key, item in value.items())
    if isinstance(value, (list, tuple)):
        separator = "\n" if any(isinstance(item, Mapping) for item in value) else ", "
        return separator.join(_human(item) for item in value)
    return str(value)


class StructuredColumn(FormattableColumn[Any]):
    """A list or mapping: readable text in a table, the structure itself in JSON and YAML."""

    def human_readable(self) -> str:
        return _human(self._value)


class AdminStateColumn(FormattableColumn[bool]):
    """``admin_state_up`` as the openstack client prints it: UP or DOWN in a table, the boolean in JSON."""

    def human_readable(self) -> str:
        return "UP" if self._value else "DOWN"


class RouterTypeColumn(FormattableColumn[bool]):
    """``router:external`` as the openstack client prints it: External or Internal, the boolean in JSON."""

    def human_readable(self) -> str:
        return "External" if self._value else "Internal"


class EscapedColumn(FormattableColumn[FormattableColumn[Any]]):
    """Another column, its text escaped in both renderings."""

    def human_readable(self) -> str:
        return escape_text(self._value.human_readable())

    def machine_readable(self) -> Any:
        return escaped(self._value.machine_readable())


def for_formatter(value: Any, formatter: str) -> Any:
    """``value`` as the cliff ``formatter`` should receive it: escaped unless the format escapes itself."""
    if formatter in RAW_FORMATTERS:
        return value
    if isinstance(value, FormattableColumn):
        return EscapedColumn(value)
    return escaped(value)


def displayed(value: Any) -> Any:
    """``value`` ready for a cliff formatter."""
    if isinstance(value, (list, tuple, Mapping)):
        return StructuredColumn(value)
    return value


def show_dict(body: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[Any, ...]]:
    """A ShowOne result from a wire-form dict, keys sorted as the openstack client sorts them."""
    keys = tuple(sorted(body))
    return keys, tuple(displayed(body[key]) for key in keys)
