"""Sorted sets of ints and of int ranges, the building blocks of the IPAM free-space structures.

Both keep their values in a plain list sorted *descending*, so that the smallest value, the one lowest-first
allocation takes and gives back, sits at the end of the list where removing or appending it moves nothing.
Lookups are bisections; an insertion elsewhere shifts part of one list of machine words, nothing more.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator

Range = tuple[int, int]
"""An inclusive range of addresses as ints: ``(first, last)``."""


class SortedInts:
    """A set of ints with ordered lookups; ``O(log n)`` search, the smallest value removed in ``O(1)``."""

    __slots__ = ("_negated",)

    def __init__(self, values: Iterable[int] = ()) -> None:
        # Negated and ascending is descending order for the original values, and lets bisect work unchanged.
        self._negated = sorted({-value for value in values})

    def __len__(self) -> int:
        return len(self._negated)

    def __iter__(self) -> Iterator[int]:
        """The values, ascending."""
        return (-value for value in reversed(self._negated))

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, int):
            return False
        index = bisect.bisect_left(self._negated, -value)
        return index < len(self._negated) and self._negated[index] == -value

    def smallest(self) -> int | None:
        return -self._negated[-1] if self._negated else None

    def at_or_below(self, value: int) -> int | None:
        """The largest member ``<= value``, or None."""
        index = bisect.bisect_left(self._negated, -value)
        return -self._negated[index] if index < len(self._negated) else None

    def at_or_above(self, value: int) -> int | None:
        """The smallest member ``>= value``, or None."""
        index = bisect.bisect_right(self._negated, -value) - 1
        return -self._negated[index] if index >= 0 else None

    def add(self, value: int) -> None:
        """Add ``value``, which must not be a member."""
        bisect.insort(self._negated, -value)

    def remove(self, value: int) -> None:
        """Remove ``value``; raises ``KeyError`` if it is not a member."""
        index = bisect.bisect_left(self._negated, -value)
        if index == len(self._negated) or self._negated[index] != -value:
            raise KeyError(value)
        del self._negated[index]


class IntRanges:
    """A set of ints stored as maximal inclusive ranges ``(first, last)``: no two overlap or touch.

    ``size`` (how many ints) is kept up to date, so reading it costs nothing.
    """

    __slots__ = ("_firsts", "_last_of", "size")

    def __init__(self, ranges: Iterable[Range] = ()) -> None:
        merged: list[list[int]] = []
        for first, last in sorted(ranges):
            if merged and first <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], last)
            else:
                merged.append([first, last])
        self._firsts = SortedInts(first for first, _ in merged)
        self._last_of: dict[int, int] = {first: last for first, last in merged}
        self.size = sum(last - first + 1 for first, last in merged)

    def __iter__(self) -> Iterator[Range]:
        """The ranges, ascending."""
        return ((first, self._last_of[first]) for first in self._firsts)

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int) and self.containing(value) is not None

    def containing(self, value: int) -> Range | None:
        """The range holding ``value``, or None."""
        first = self._firsts.at_or_below(value)
        if first is None or self._last_of[first] < value:
            return None
        return first, self._last_of[first]

    def covers(self, first: int, last: int) -> bool:
        """Whether every int of ``first..last`` is in the set."""
        holder = self.containing(first)
        return holder is not None and holder[1] >= last

    def smallest(self) -> int | None:
        return self._firsts.smallest()

    def remove(self, value: int) -> None:
        """Remove ``value``, splitting its range if needed; raises ``KeyError`` if it is not in the set."""
        holder = self.containing(value)
        if holder is None:
            raise KeyError(value)
        first, last = holder
        self._firsts.remove(first)
        del self._last_of[first]
        if first < value:
            self._put(first, value - 1)
        if value < last:
            self._put(value + 1, last)
        self.size -= 1

    def add(self, value: int) -> None:
        """Add ``value``, which must not be in the set, merging it with the ranges it touches."""
        first = last = value
        below = self.containing(value - 1)
        if below is not None:
            first = below[0]
            self._firsts.remove(first)
            del self._last_of[first]
        if value + 1 in self._last_of:
            last = self._last_of.pop(value + 1)
            self._firsts.remove(value + 1)
        self._put(first, last)
        self.size += 1

    def _put(self, first: int, last: int) -> None:
        self._firsts.add(first)
        self._last_of[first] = last
