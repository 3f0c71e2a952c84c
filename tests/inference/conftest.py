"""Fixtures of the inference tests."""

from __future__ import annotations

import pytest
from inference_models import random_matrix


@pytest.fixture
def matrix():
    """40 users x 25 items."""
    return random_matrix(40, 25, 0.2, seed=0)
