"""Shared test helpers: paths of the repository, its examples and the shared data."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
ML100K = REPO.parent / "shared" / "data" / "ml-100k"


@pytest.fixture
def ml100k() -> Path:
    """The MovieLens 100K folder beside the repository (skips when it is absent)."""
    if not (ML100K / "u.data").is_file():
        pytest.skip(f"MovieLens 100K not found at {ML100K}")
    return ML100K


def write(tmp_path: Path, name: str, text: str) -> Path:
    """Write a config file into tmp_path and return its path."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path
