"""Cycle detection and build order of the layer graph."""

from __future__ import annotations

import pytest

from netcfg.networks.graph import find_cycle, topological_order


def test_order_respects_dependencies_and_input_order():
    edges = {"out": ["b", "a"], "a": [], "b": ["a"], "c": []}
    assert topological_order(edges) == ["a", "b", "out", "c"]


def test_forward_references_are_allowed():
    assert topological_order({"h": ["in"], "out": ["h"], "in": []}) == ["in", "h", "out"]


def test_cycles():
    assert find_cycle({"a": ["b"], "b": ["c"], "c": ["a"]}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": ["a"]}) == ["a", "a"]
    assert find_cycle({"a": ["missing"], "b": ["a"]}) is None
    with pytest.raises(ValueError, match="cycle: a -> b -> a"):
        topological_order({"a": ["b"], "b": ["a"]})
