"""Fixtures shared by every test."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import ML100K


@pytest.fixture
def ml100k() -> Path:
    """The MovieLens 100K folder beside the repository (skips when it is absent)."""
    if not (ML100K / "u.data").is_file():
        pytest.skip(f"MovieLens 100K not found at {ML100K}")
    return ML100K
