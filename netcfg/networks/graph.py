"""The layer graph: which layers each layer reads, and an order to build and run them.

Both walks keep their own stack, so a chain of any length (100,000 layers, listed in any
order) never reaches Python's recursion limit, and both take time linear in the edges.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

__all__ = ["find_cycle", "topological_order"]


def _walk(edges: Mapping[str, Sequence[str]]) -> Iterator[tuple[str, list[str] | None]]:
    """Depth-first over every node: yields ``(node, None)`` when a node is finished (all
    its dependencies first), or ``(node, cycle)`` on finding a cycle, and then stops."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in edges:
        if root in state:
            continue
        state[root] = 1
        path = [root]
        pending = [iter(edges[root])]
        while pending:
            dep = next(pending[-1], None)
            if dep is None:
                node = path.pop()
                pending.pop()
                state[node] = 2
                yield node, None
            elif dep in edges and state.get(dep) == 1:
                yield dep, path[path.index(dep) :] + [dep]
                return
            elif dep in edges and dep not in state:
                state[dep] = 1
                path.append(dep)
                pending.append(iter(edges[dep]))


def find_cycle(edges: Mapping[str, Sequence[str]]) -> list[str] | None:
    """A cycle of the graph as a list of names (first repeated at the end), or None.

    ``edges`` maps each node to the nodes it depends on; unknown nodes are ignored.
    """
    for _, cycle in _walk(edges):
        if cycle:
            return cycle
    return None


def topological_order(edges: Mapping[str, Sequence[str]]) -> list[str]:
    """Nodes ordered so that each comes after its dependencies, ties in input order.

    Raises:
        ValueError: the graph has a cycle.
    """
    order = []
    for node, cycle in _walk(edges):
        if cycle:
            raise ValueError("cycle: " + " -> ".join(cycle))
        order.append(node)
    return order
