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
