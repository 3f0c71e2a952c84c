"""Paths and small helpers shared by the tests (imported as ``helpers``)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
ML100K = REPO.parent / "shared" / "data" / "ml-100k"


def write(tmp_path: Path, name: str, text: str) -> Path:
    """Write a config file into tmp_path and return its path."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def two_tower_layers(width: int) -> list[dict]:
    """The two-tower network (User/Item one-hot towers of ``width``, a DotProduct score
    predicting ``clicked``) on the DataSets ``user``, ``item`` and ``clicked``."""
    sparse = {"Kind": "Input", "N": "auto", "Sparse": True}
    return [
        {"Name": "User", **sparse, "DataSet": "user"},
        {"Name": "Item", **sparse, "DataSet": "item"},
        {"Name": "UserTower", "Source": "User", "N": width, "Activation": "Tanh"},
        {"Name": "ItemTower", "Source": "Item", "N": width, "Activation": "Tanh"},
        {
            "Name": "Score",
            "Kind": "Output",
            "Type": "Pooling",
            "Function": "DotProduct",
            "Source": ["UserTower", "ItemTower"],
            "Activation": "Sigmoid",
            "DataSet": "clicked",
        },
    ]
