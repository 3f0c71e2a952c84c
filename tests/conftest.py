"""Fixtures shared by every test."""

from __future__ import annotations

import os
from pathlib import Path

import torch

# Without a GPU the Triton kernels run in Triton's interpreter, which Triton reads when it is
# first imported: switch it on before any test module imports it.
if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

import pytest  # noqa: E402
from helpers import ML100K  # noqa: E402


@pytest.fixture
def ml100k() -> Path:
    """The MovieLens 100K folder beside the repository (skips when it is absent)."""
    if not (ML100K / "u.data").is_file():
        pytest.skip(f"MovieLens 100K not found at {ML100K}")
    return ML100K
