"""Read a JSON or YAML config file into `LocDict`/`LocList` trees with line numbers.

Syntax errors become a `ConfigError` naming file, line and column. Duplicate keys, which
both formats' usual parsers silently resolve to the last value, are reported. Files past
the limits of `netcfg.config.limits` (size, nesting; YAML aliases in `yaml_reader`) are
errors too, found before they cost more than reading the text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from netcfg.config.json_reader import parse_json
from netcfg.config.limits import MAX_FILE_BYTES, collector_paused, file_size_message
from netcfg.config.tree import LocDict
from netcfg.config.yaml_reader import PureYamlLoader, YamlLimitError, YamlLoader, located_yaml
from netcfg.errors import ConfigError, Issue, Location
from netcfg.zoo import is_zoo_name, zoo_entry

__all__ = ["YamlLoader", "parse_config_text", "read_config_file", "resolve_config_path"]
# YamlLoader lives in yaml_reader (JSON in json_reader); it is exported here as before.

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
        problem = "no such config file"
        if path.exists():  # a device, a pipe or a socket: reading it may never end
            problem = "not a regular file; give a JSON or YAML config file"
        raise ConfigError([Issue((), problem, Location(str(path)))])
    return path


def read_config_file(path: str | Path) -> LocDict:
    """Read a config file (JSON, or YAML for .yaml/.yml) into a located tree.

    Raises:
        ConfigError: unreadable file, syntax error, empty file, duplicate key, a root
            that is not an object, or a limit crossed (file size, nesting, YAML aliases).
    """
    path = resolve_config_path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ConfigError([Issue((), file_size_message(size), Location(str(path)))])
        text = path.read_text(encoding="utf-8-sig")  # a byte order mark is not content
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
    with collector_paused():
        parse = parse_json if fmt == "json" else _parse_yaml
        tree = parse(text, source, issues)
    if tree is _NO_DOCUMENT:
        issues.append(Issue((), "empty config file", Location(source)))
    elif not issues and not isinstance(tree, LocDict):
        issues.append(
            Issue(
                (),
                f"the config must be an object at the top level, not {_kind(tree)}",
                Location(source, 1),
            )
        )
    if issues:
        raise ConfigError(issues)
    return tree


def _kind(value: Any) -> str:
    """What a top-level value that is not an object is, in the words of JSON and YAML."""
    if value is None:
        return "null"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return f"a {type(value).__name__} value"


_NO_DOCUMENT = object()
"""What `_parse_yaml` returns for a YAML text without a document (only comments), which
is empty; a document that is ``null`` (``~``, or JSON's ``null``) reads as None."""


_YAML_HINTS = (
    ("expected <block end>", " (is this line indented like the keys around it?)"),
    ("found character '\\t'", " (YAML does not allow tabs for indentation)"),
    ("mapping values are not allowed", " (a value containing ': ' needs quotes)"),
)
"""PyYAML's wording of a problem -> what the user most likely has to fix."""


_RETRY_BYTES = 256_000
"""A YAML file up to this size whose syntax libyaml rejects is parsed again by PyYAML, for
its wording of the problem (and the hints above); a larger one keeps libyaml's."""


def _parse_yaml(text: str, source: str, issues: list[Issue]) -> Any:
    try:
        return _yaml_tree(YamlLoader, text, source, issues)
    except (yaml.scanner.ScannerError, yaml.parser.ParserError):
        if YamlLoader is not PureYamlLoader and len(text) <= _RETRY_BYTES:
            try:
                return _yaml_tree(PureYamlLoader, text, source, issues)
            except yaml.YAMLError as again:
                err = again
        _yaml_issue(err, text, source, issues)
    except yaml.YAMLError as err:
        _yaml_issue(err, text, source, issues)
    return None


def _yaml_tree(loader_class: type, text: str, source: str, issues: list[Issue]) -> Any:
    loader = loader_class(text)
    try:
        root = loader.get_single_node()
        return _NO_DOCUMENT if root is None else located_yaml(loader, root, source, issues)
    finally:
        loader.dispose()


def _yaml_issue(err: yaml.YAMLError, text: str, source: str, issues: list[Issue]) -> None:
    if isinstance(err, yaml.reader.ReaderError):  # a character YAML does not allow (NUL)
        where = _character_location(text, err.position, err.encoding == "unicode", source)
        problem = f"unacceptable character #x{err.character:04x}: {err.reason}"
        issues.append(Issue((), f"invalid YAML: {problem}", where))
    elif isinstance(err, YamlLimitError):
        where = Location(source, err.mark.line + 1, err.mark.column + 1)
        issues.append(Issue((), err.message, where))
    elif isinstance(err, yaml.MarkedYAMLError):
        mark = err.problem_mark or err.context_mark
        where = Location(source, mark.line + 1, mark.column + 1) if mark else Location(source)
        problem = err.problem or err.context or "syntax error"
        if err.context and problem.startswith("but "):  # "but found another document"
            problem = f"{err.context}, {problem}"
        hint = next((h for clue, h in _YAML_HINTS if clue in problem), "")
        issues.append(Issue((), f"invalid YAML: {problem}{hint}", where))
    else:
        issues.append(Issue((), f"invalid YAML: {err}", Location(source)))


def _character_location(text: str, position: int, in_characters: bool, source: str) -> Location:
    """The line and column (1-based) of a reader error's ``position``: a character offset
    from PyYAML, a byte offset in the UTF-8 text from libyaml."""
    if not in_characters:
        position = len(text.encode("utf-8")[:position].decode("utf-8", "ignore"))
    line_start = text.rfind("\n", 0, position) + 1
    return Location(source, text.count("\n", 0, position) + 1, position - line_start + 1)
