"""Arrows point down: the trainer knows nothing of layer types (no module of
netcfg.trainers imports them), and layers and networks know nothing of processes (none of
their modules imports torch.distributed; a network states its item tables as data)."""

from __future__ import annotations

import ast
from pathlib import Path

import netcfg.layers
import netcfg.networks
import netcfg.trainers


def _imports(folder: Path) -> list[tuple[str, str]]:
    """``(file, imported module)`` for every import of every module under ``folder``."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found += [(path.name, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                found.append((path.name, node.module or ""))
    return found


def test_trainers_do_not_import_layers():
    folder = Path(netcfg.trainers.__file__).parent
    found = _imports(folder)
    assert [(f, n) for f, n in found if n.startswith("netcfg.layers")] == []
    assert len({f for f, _ in found}) >= 10


def test_layers_and_networks_do_not_import_torch_distributed():
    for package in (netcfg.layers, netcfg.networks):
        found = _imports(Path(package.__file__).parent)
        assert [(f, n) for f, n in found if n.startswith("torch.distributed")] == []
        assert any(name == "torch" for _, name in found)  # the scan sees their imports
