"""The layer graph: which layers each layer reads, and an order to build and run them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["find_cycle", "topological_order"]


def find_cycle(edges: Mapping[str, Sequence[str]]) -> list[str] | None:
    """A cycle of the graph as a list of names (first repeated at the end), or None.

    ``edges`` maps each node to the nodes it depends on; unknown nodes are ignored.
    """
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in edges.get(node, ()):
            if dep not in edges:
                continue
            if state.get(dep) == 1:
                return stack[stack.index(dep) :] + [dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in edges:
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def topological_order(edges: Mapping[str, Sequence[str]]) -> list[str]:
    """Nodes ordered so that each comes after its dependencies, ties in input order.

    Raises:
        ValueError: the graph has a cycle.
    """
    cycle = find_cycle(edges)
    if cycle:
        raise ValueError("cycle: " + " -> ".join(cycle))
    order: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> None:
        for dep in edges.get(node, ()):
            if dep in edges and dep not in done:
                visit(dep)
        if node not in done:
            done.add(node)
            order.append(node)

    for node in edges:
        visit(node)
    return order
