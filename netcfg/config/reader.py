"""Read a JSON or YAML config file into `LocDict`/`LocList` trees with line numbers.

Syntax errors become a `ConfigError` naming file, line and column. Duplicate keys, which
both formats' usual parsers silently resolve to the last value, are reported.
"""

from __future__ import annotations

import bisect
import json
import re
from pathlib import Path
from typing import Any

import yaml

from netcfg.config.tree import LocDict, LocList
from netcfg.errors import ConfigError, Issue, Location
from netcfg.zoo import is_zoo_name, zoo_entry

__all__ = ["YamlLoader", "parse_config_text", "read_config_file", "resolve_config_path"]

CONFIG_NAMES = ("model.json", "model.yaml", "model.yml", "config.json")
"""Files looked for when a directory is given as a config."""


def resolve_config_path(path: str | Path) -> Path:
    """The config file a path names: the file itself, a known name inside a directory, or
    the config of a shipped zoo entry (``zoo:NAME``)."""
    if isinstance(path, str) and is_zoo_name(path):
        try:
            path = zoo_entry(path)
        except KeyError as err:
            raise ConfigError([Issue((), err.args[0], Location(path))]) from None
    path = Path(path)
    if path.is_dir():
        for name in CONFIG_NAMES:
            if (path / name).is_file():
                return path / name
        raise ConfigError(
            [
                Issue(
                    (),
                    f"directory holds no config file ({', '.join(CONFIG_NAMES)})",
                    Location(str(path)),
                )
            ]
        )
    if not path.is_file():
        raise ConfigError([Issue((), "no such config file", Location(str(path)))])
    return path


def read_config_file(path: str | Path) -> LocDict:
    """Read a config file (JSON, or YAML for .yaml/.yml) into a located tree.

    Raises:
        ConfigError: unreadable file, syntax error, empty file, duplicate key, or a root
            that is not an object.
    """
    path = resolve_config_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(
            [Issue((), f"not UTF-8 text (byte {err.start})", Location(str(path)))]
        ) from None
    except OSError as err:
        raise ConfigError(
            [Issue((), f"cannot read: {err.strerror}", Location(str(path)))]
        ) from None
    fmt = "yaml" if path.suffix.lower() in (".yaml", ".yml") else "json"
    return parse_config_text(text, str(path), fmt)


def parse_config_text(text: str, source: str, fmt: str) -> LocDict:
    """Parse config text (``fmt`` is ``"json"`` or ``"yaml"``) into a located tree."""
    if not text.strip():
        raise ConfigError([Issue((), "empty config file", Location(source))])
    issues: list[Issue] = []
    tree = _parse_json(text, source, issues) if fmt == "json" else _parse_yaml(text, source, issues)
    if tree is None and not issues:
        issues.append(Issue((), "empty config file", Location(source)))
    elif not issues and not isinstance(tree, LocDict):
        kind = "an array" if isinstance(tree, list) else f"a {type(tree).__name__} value"
        issues.append(
            Issue(
                (),
                f"the config must be an object at the top level, not {kind}",
                Location(source, 1),
            )
        )
    if issues:
        raise ConfigError(issues)
    return tree


class _Lines:
    """Offset -> (line, column), both 1-based."""

    def __init__(self, text: str):
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def __call__(self, source: str, offset: int) -> Location:
        line = bisect.bisect_right(self.starts, offset)
        return Location(source, line, offset - self.starts[line - 1] + 1)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _parse_json(text: str, source: str, issues: list[Issue]) -> Any:
    try:
        json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        hint = " (a trailing comma?)" if text[: err.pos].rstrip().endswith(",") else ""
        where = Location(source, err.lineno, err.colno)
        issues.append(Issue((), f"invalid JSON: {err.msg}{hint}", where))
        return None
    except ValueError as err:
        issues.append(Issue((), f"invalid JSON: {err}", Location(source)))
        return None
    return _JsonScanner(text, source, issues).document()


_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_SPACE = re.compile(r"[ \t\n\r]*")


class _JsonScanner:
    """Walks JSON text that `json.loads` accepted, recording where each value starts."""

    def __init__(self, text: str, source: str, issues: list[Issue]):
        self.text = text
        self.source = source
        self.issues = issues
        self.where = _Lines(text)
        self.pos = 0

    def document(self) -> Any:
        return self._value(())

    def _skip(self) -> None:
        self.pos = _SPACE.match(self.text, self.pos).end()

    def _loc(self, offset: int) -> Location:
        loc = self.where(self.source, offset)
        return Location(loc.source, loc.line)

    def _value(self, path: tuple) -> Any:
        self._skip()
        char = self.text[self.pos]
        if char == "{":
            return self._object(path)
        if char == "[":
            return self._array(path)
        if char == '"':
            value, self.pos = json.decoder.scanstring(self.text, self.pos + 1)
            return value
        for literal, value in (("true", True), ("false", False), ("null", None)):
            if self.text.startswith(literal, self.pos):
                self.pos += len(literal)
                return value
        match = _NUMBER.match(self.text, self.pos)
        self.pos = match.end()
        return json.loads(match.group())

    def _object(self, path: tuple) -> LocDict:
        node = LocDict(loc=self._loc(self.pos))
        self.pos += 1
        self._skip()
        if self.text[self.pos] == "}":
            self.pos += 1
            return node
        while True:
            self._skip()
            key_loc = self._loc(self.pos)
            key, self.pos = json.decoder.scanstring(self.text, self.pos + 1)
            self._skip()
            self.pos += 1  # the colon
            value = self._value((*path, key))
            if key in node:
                first = node.key_locs[key].line
                self.issues.append(
                    Issue(
                        (*path, key), f"key '{key}' is given twice (first on line {first})", key_loc
                    )
                )
            node.put(key, value, key_loc)
            self._skip()
            closing = self.text[self.pos]
            self.pos += 1
            if closing == "}":
                return node

    def _array(self, path: tuple) -> LocList:
        loc = self._loc(self.pos)
        items, locs = [], []
        self.pos += 1
        self._skip()
        if self.text[self.pos] == "]":
            self.pos += 1
            return LocList(loc=loc)
        while True:
            self._skip()
            locs.append(self._loc(self.pos))
            items.append(self._value((*path, len(items))))
            self._skip()
            closing = self.text[self.pos]
            self.pos += 1
            if closing == "]":
                return LocList(items, locs, loc=loc)


class YamlLoader(yaml.SafeLoader):
    """SafeLoader that also reads ``1e-3`` as a float (YAML 1.2 numbers)."""


YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+$"),
    list("-+0123456789."),
)


_YAML_HINTS = (
    ("expected <block end>", " (is this line indented like the keys around it?)"),
    ("found character '\\t'", " (YAML does not allow tabs for indentation)"),
    ("mapping values are not allowed", " (a value containing ': ' needs quotes)"),
)
"""PyYAML's wording of a problem -> what the user most likely has to fix."""


def _parse_yaml(text: str, source: str, issues: list[Issue]) -> Any:
    loader = YamlLoader(text)
    try:
        root = loader.get_single_node()
        return None if root is None else _yaml_node(loader, root, source, issues, ())
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = Location(source, mark.line + 1, mark.column + 1) if mark else Location(source)
        problem = err.problem or err.context or "syntax error"
        hint = next((h for clue, h in _YAML_HINTS if clue in problem), "")
        issues.append(Issue((), f"invalid YAML: {problem}{hint}", where))
    except yaml.YAMLError as err:
        issues.append(Issue((), f"invalid YAML: {err}", Location(source)))
    finally:
        loader.dispose()
    return None


def _yaml_node(
    loader: yaml.SafeLoader, node: yaml.Node, source: str, issues: list[Issue], path: tuple
) -> Any:
    loc = Location(source, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result = LocDict(loc=loc)
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            key_loc = Location(source, key_node.start_mark.line + 1)
            if not isinstance(key, str):
                issues.append(Issue(path, f"keys must be strings (got {key!r})", key_loc))
                continue
            if key in result:
                first = result.key_locs[key].line
                issues.append(
                    Issue(
                        (*path, key), f"key '{key}' is given twice (first on line {first})", key_loc
                    )
                )
            result.put(key, _yaml_node(loader, value_node, source, issues, (*path, key)), key_loc)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = [
            _yaml_node(loader, item, source, issues, (*path, index))
            for index, item in enumerate(node.value)
        ]
        locs = [Location(source, item.start_mark.line + 1) for item in node.value]
        return LocList(items, locs, loc=loc)
    return loader.construct_object(node, deep=True)
