"""Read YAML text into located trees, within the limits of `netcfg.config.limits`.

PyYAML composes a node tree in which an alias (``*name``) is the anchored node itself, so a
600-byte file of nested aliases stands for billions of values ("billion laughs"). The
loader here counts, at each alias, how many values it adds, and stops with the alias's line
once aliases add more than `MAX_ALIAS_VALUES`; it also stops nesting deeper than
`MAX_DEPTH`, more than `MAX_VALUES` values and an alias inside the node it names (a
recursive structure). libyaml parses when PyYAML has it (`YamlLoader`); composing stays in
Python, where the limits are counted. Merge keys (``<<: *base``) are resolved without
changing the node tree, so a node reached by several aliases reads the same each time;
keys written in a mapping override merged ones.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from netcfg.config.limits import (
    MAX_ALIAS_VALUES,
    MAX_DEPTH,
    MAX_VALUES,
    alias_message,
    depth_message,
    digits_message,
    values_message,
)
from netcfg.config.tree import LocDict, LocList
from netcfg.errors import Issue, Location

__all__ = ["PureYamlLoader", "YamlLimitError", "YamlLoader", "located_yaml"]

try:  # libyaml's parser, when PyYAML was built with it
    from yaml.cyaml import CParser as _CParser
except ImportError:  # pragma: no cover - depends on the PyYAML build
    _CParser = None

MERGE_TAG = "tag:yaml.org,2002:merge"
VALUE_TAG = "tag:yaml.org,2002:value"


class YamlLimitError(yaml.YAMLError):
    """YAML text past a limit: ``message`` says which, ``mark`` where."""

    def __init__(self, message: str, mark: Any):
        super().__init__(message)
        self.message = message
        self.mark = mark


class _Limits:
    """Composer steps that count nesting, values and what aliases add (a mixin placed
    before PyYAML's `Composer`)."""

    def _init_limits(self) -> None:
        self._depth = 0  # lists and mappings open at the node being composed
        self._open: set[str] = set()  # anchors of the nodes being composed
        self._written = 0  # nodes written out so far
        self._added = 0  # values aliases have added so far
        self._extents: dict[int, tuple[int, int]] = {}  # id(node) -> (values, depth)

    def compose_node(self, parent: Any, index: Any) -> Any:
        """Compose one node (PyYAML's step), counting nesting and what aliases add."""
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self._open:
                raise YamlLimitError(
                    f"the alias *{event.anchor} is inside the node it names (a structure "
                    "that contains itself)",
                    event.start_mark,
                )
            node = super().compose_node(parent, index)
            values, depth = self._extent(node)
            self._added += values
            if self._added > MAX_ALIAS_VALUES:
                raise YamlLimitError(alias_message(), event.start_mark)
            if self._depth + depth > MAX_DEPTH:
                raise YamlLimitError(depth_message(), event.start_mark)
            return node
        self._written += 1
        if self._written > MAX_VALUES:
            raise YamlLimitError(values_message(), event.start_mark)
        collection = isinstance(event, yaml.CollectionStartEvent)
        self._depth += collection
        if self._depth > MAX_DEPTH:
            raise YamlLimitError(depth_message(), event.start_mark)
        anchor = event.anchor
        if anchor is not None:
            self._open.add(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= collection
            self._open.discard(anchor)

    def _extent(self, node: yaml.Node) -> tuple[int, int]:
        """How many values a node stands for, aliases expanded, and how deep its lists and
        mappings nest. Nodes named by aliases were measured at those aliases, so the
        recursion only follows nodes written out (at most `MAX_DEPTH` deep)."""
        known = self._extents.get(id(node))
        if known is not None:
            return known
        if isinstance(node, yaml.ScalarNode):
            children: list[yaml.Node] = []
        elif isinstance(node, yaml.SequenceNode):
            children = node.value
        else:
            children = [part for pair in node.value for part in pair]
        values, depth = 1, 0
        for child in children:
            child_values, child_depth = self._extent(child)
            values = min(values + child_values, MAX_ALIAS_VALUES + 1)
            depth = max(depth, child_depth)
        extent = (values, depth + (not isinstance(node, yaml.ScalarNode)))
        self._extents[id(node)] = extent
        return extent


class PureYamlLoader(_Limits, yaml.SafeLoader):
    """SafeLoader (pure Python) that reads ``1e-3`` as a float (YAML 1.2 numbers) and keeps
    to the limits: nesting, values, values added by aliases, no alias inside the node it
    names. Its syntax errors are worded as `YamlLoader`'s without libyaml."""

    def __init__(self, stream: Any):
        super().__init__(stream)
        self._init_limits()


if _CParser is None:
    YamlLoader = PureYamlLoader
else:

    class YamlLoader(  # type: ignore[no-redef]
        _Limits,
        yaml.composer.Composer,
        _CParser,
        yaml.constructor.SafeConstructor,
        yaml.resolver.Resolver,
    ):
        """`PureYamlLoader`, with libyaml's parser (25 times faster) under the same
        composer: the same nodes, limits and values; syntax errors are worded by libyaml."""

        def __init__(self, stream: Any):
            _CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            self._init_limits()


for _loader in {PureYamlLoader, YamlLoader}:
    _loader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+$"),
        list("-+0123456789."),
    )


def located_yaml(loader: Any, root: yaml.Node, source: str, issues: list[Issue]) -> Any:
    """The located tree of a composed document (`LocDict`, `LocList` and plain values).

    Problems that do not stop reading (duplicate keys, keys that are not strings) are
    appended to ``issues``.

    Raises:
        yaml.MarkedYAMLError: a value that cannot be constructed, a bad merge key.
    """
    return _Builder(loader, source, issues).node(root, ())


class _Builder:
    """Walks a composed node tree (aliases expand within the loader's budget)."""

    def __init__(self, loader: Any, source: str, issues: list[Issue]):
        self.loader = loader
        self.source = source
        self.issues = issues
        self.lines: dict[int, Location] = {}
        self.pairs_of: dict[int, list[tuple[yaml.Node, yaml.Node, bool]]] = {}

    def loc(self, node: yaml.Node) -> Location:
        line = node.start_mark.line + 1
        found = self.lines.get(line)
        if found is None:
            found = self.lines[line] = Location(self.source, line)
        return found

    def node(self, node: yaml.Node, path: tuple) -> Any:
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            items = [self.node(item, (*path, index)) for index, item in enumerate(node.value)]
            return LocList(items, [self.loc(item) for item in node.value], loc=self.loc(node))
        return self.scalar(node)

    def scalar(self, node: yaml.Node) -> Any:
        """A scalar's value (or a key's); one Python cannot hold (an integer of more digits
        than ``int()`` takes) is a YAML error at its place."""
        try:
            return self.loader.construct_object(node, deep=True)
        except ValueError as err:
            digits = str(node.value).lstrip("+-").replace("_", "")
            problem = digits_message(len(digits)) if digits.isdigit() else str(err)
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read this value: {problem}", node.start_mark
            ) from None

    def mapping(self, node: yaml.MappingNode, path: tuple) -> LocDict:
        result = LocDict(loc=self.loc(node))
        written: set[str] = set()  # keys written in this mapping (not merged)
        for key_node, value_node, own in self.pairs(node):
            if key_node.tag == VALUE_TAG:
                key = key_node.value
            else:
                key = self.scalar(key_node)
            key_loc = self.loc(key_node)
            if not isinstance(key, str):
                self.issues.append(Issue(path, f"keys must be strings (got {key!r})", key_loc))
                continue
            if own and key in written:
                first = result.key_locs[key].line
                self.issues.append(
                    Issue(
                        (*path, key), f"key '{key}' is given twice (first on line {first})", key_loc
                    )
                )
            written.update([key] if own else [])
            result.put(key, self.node(value_node, (*path, key)), key_loc)
        return result

    def pairs(self, node: yaml.MappingNode) -> list[tuple[yaml.Node, yaml.Node, bool]]:
        """The pairs of a mapping with its merge keys resolved: merged pairs first (so that
        the mapping's own keys override them; of several merged mappings, the first named
        wins), then its own pairs; the flag tells them apart."""
        known = self.pairs_of.get(id(node))
        if known is not None:
            return known
        merged: list[list[tuple[yaml.Node, yaml.Node, bool]]] = []
        own = []
        for key_node, value_node in node.value:
            if key_node.tag != MERGE_TAG:
                own.append((key_node, value_node, True))
                continue
            many = isinstance(value_node, yaml.SequenceNode)
            for source in value_node.value if many else [value_node]:
                if not isinstance(source, yaml.MappingNode):
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        "expected a mapping or list of mappings for merging, "
                        f"but found {source.id}",
                        source.start_mark,
                    )
                merged.append(self.pairs(source))
        pairs = [(k, v, False) for group in reversed(merged) for k, v, _ in group] + own
        self.pairs_of[id(node)] = pairs
        return pairs
