"""The trainer knows nothing of layer types: no module of netcfg.trainers imports them."""

from __future__ import annotations

import ast
from pathlib import Path

import netcfg.trainers


def test_trainers_do_not_import_layers():
    folder = Path(netcfg.trainers.__file__).parent
    offenders = []
    for path in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            )
            offenders += [f"{path.name}: {n}" for n in names if n.startswith("netcfg.layers")]
    assert offenders == []
    assert len(list(folder.glob("*.py"))) >= 10
