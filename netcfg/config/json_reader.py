"""Read JSON text into located trees: `json` checks the syntax, a scanner records lines.

The scanner keeps its own stack (no recursion) and reads the text once, token by token,
so a file costs time linear in its size. More than `MAX_VALUES` values (keys count too)
are counted first, by the regex engine; nesting past `MAX_DEPTH` stops with the place it
happens, even where `json` itself gives up first (its recursion limit).
"""

from __future__ import annotations

import bisect
import itertools
import json
import re
from typing import Any

from netcfg.config.limits import (
    MAX_DEPTH,
    MAX_VALUES,
    depth_message,
    digits_message,
    too_deep,
    values_message,
)
from netcfg.config.tree import LocDict, LocList
from netcfg.errors import Issue, Location

__all__ = ["parse_json"]


def parse_json(text: str, source: str, issues: list[Issue]) -> Any:
    """The located tree of JSON text, or None with the problem appended to ``issues``.

    Duplicate keys are appended to ``issues`` too (the last value is kept).
    """
    beyond = _past_values(text)  # before json builds them all
    if beyond is not None:
        issues.append(Issue((), values_message(), _exact(text, source, beyond)))
        return None
    try:
        json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        hint = " (a trailing comma?)" if text[: err.pos].rstrip().endswith(",") else ""
        where = Location(source, err.lineno, err.colno)
        issues.append(Issue((), f"invalid JSON: {err.msg}{hint}", where))
        return None
    except RecursionError:  # json's own limit, far past ours: say where ours is crossed
        offset = too_deep(text)
        where = _exact(text, source, offset) if offset is not None else Location(source)
        issues.append(Issue((), depth_message(), where))
        return None
    except ValueError as err:  # NaN, Infinity, or an integer of too many digits for int()
        name = str(err)
        found = next((m for m in _CONSTANT.finditer(text) if m.group(1) == name), None)
        if found is not None:
            message = f"invalid JSON: {name} is not valid JSON (write a finite number)"
        else:
            found = _LONG_NUMBER.search(text)
            detail = digits_message(len(found.group())) if found else str(err)
            message = f"invalid JSON: {detail}"
        where = _exact(text, source, found.start()) if found else Location(source)
        issues.append(Issue((), message, where))
        return None
    try:
        return _Scanner(text, source, issues).document()
    except _TooDeep as err:
        issues.append(Issue((), depth_message(), _exact(text, source, err.offset)))
        return None


_VALUE_START = re.compile(r'"(?:[^"\\]|\\.)*"|[{\[]|-?[0-9][-+.0-9eE]*|true|false|null')


def _past_values(text: str) -> int | None:
    """The offset of value (or key) number `MAX_VALUES` + 1, or None when there are fewer.

    Counted by the regex engine, a tenth of the scanner's time per value, and only when
    the separators allow that many (a comma or a colon precedes all but a few of them).
    """
    if text.count(",") + 2 * text.count(":") + text.count("[") < MAX_VALUES:
        return None
    beyond = next(itertools.islice(_VALUE_START.finditer(text), MAX_VALUES, None), None)
    return beyond.start() if beyond is not None else None


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


_CONSTANT = re.compile(r'"(?:[^"\\]|\\.)*"?|(-?Infinity|NaN)')
_LONG_NUMBER = re.compile(r"\d{4000,}")  # near int()'s limit of digits


def _exact(text: str, source: str, offset: int) -> Location:
    """The line and column (1-based) of an offset."""
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    line = bisect.bisect_right(starts, offset)
    return Location(source, line, offset - starts[line - 1] + 1)


class _TooDeep(Exception):
    """The scanner met nesting past `MAX_DEPTH` at ``offset``."""

    def __init__(self, offset: int):
        super().__init__(offset)
        self.offset = offset


_TOKEN = re.compile(  # separators are skipped: json.loads has checked them
    r"[ \t\n\r,:]*(?:([{\[])|([}\]])|(\")|(true|false|null)"
    r"|(-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?))"
)
_OPEN, _CLOSE, _STRING, _LITERAL, _NUMBER = 1, 2, 3, 4, 5
_LITERALS = {"true": True, "false": False, "null": None}


class _Frame:
    """An open object (``node``) or array (``items``, ``locs``): its location and JSON
    path, and in an object the key awaiting its value."""

    __slots__ = ("node", "loc", "path", "key", "key_loc", "items", "locs")

    def __init__(self, node: LocDict | None, loc: Location, path: tuple):
        self.node = node
        self.loc = loc
        self.path = path
        self.key: str | None = None
        self.key_loc: Location | None = None
        self.items: list[Any] = []
        self.locs: list[Location] = []

    def child_path(self) -> tuple:
        """The JSON path of the value that comes next."""
        return (*self.path, self.key if self.node is not None else len(self.items))


class _Scanner:
    """Walks JSON text that `json.loads` accepted, recording the line of every value."""

    def __init__(self, text: str, source: str, issues: list[Issue]):
        self.text = text
        self.source = source
        self.issues = issues
        self.line = 1  # the line of offset `seen`
        self.seen = 0
        self.locations: dict[int, Location] = {}

    def loc(self, offset: int) -> Location:
        """The location (line) of an offset at or after the last one asked for."""
        self.line += self.text.count("\n", self.seen, offset)
        self.seen = offset
        found = self.locations.get(self.line)
        if found is None:
            found = self.locations[self.line] = Location(self.source, self.line)
        return found

    def document(self) -> Any:
        """The located tree of the whole text."""
        text, token = self.text, _TOKEN.match
        stack: list[_Frame] = []
        pos = 0
        while True:
            match = token(text, pos)
            kind = match.lastindex
            start, pos = match.start(kind or 0), match.end()
            top = stack[-1] if stack else None
            if kind == _OPEN:
                if len(stack) >= MAX_DEPTH:
                    raise _TooDeep(start)
                loc = self.loc(start)
                node = LocDict(loc=loc) if text[start] == "{" else None
                stack.append(_Frame(node, loc, top.child_path() if top else ()))
                continue
            if kind == _CLOSE:
                stack.pop()
                loc = top.loc
                value = top.node if top.node is not None else LocList(top.items, top.locs, loc=loc)
                top = stack[-1] if stack else None
            elif kind == _STRING:
                value, pos = json.decoder.scanstring(text, pos)
                loc = self.loc(start)
                if top is not None and top.node is not None and top.key is None:
                    top.key, top.key_loc = value, loc
                    continue
            elif kind == _LITERAL:
                value, loc = _LITERALS[match.group(_LITERAL)], self.loc(start)
            else:
                number, loc = match.group(_NUMBER), self.loc(start)
                value = float(number) if match.group(6, 7) != (None, None) else int(number)
            if top is None:
                return value
            self._attach(top, value, loc)

    def _attach(self, frame: _Frame, value: Any, loc: Location) -> None:
        """Put a finished value, written at ``loc``, into the open object or array."""
        if frame.node is None:
            frame.items.append(value)
            frame.locs.append(loc)
            return
        node, key = frame.node, frame.key
        if key in node:
            first = node.key_locs[key].line
            self.issues.append(
                Issue(
                    (*frame.path, key),
                    f"key '{key}' is given twice (first on line {first})",
                    frame.key_loc,
                )
            )
        node.put(key, value, frame.key_loc)
        frame.key = None
