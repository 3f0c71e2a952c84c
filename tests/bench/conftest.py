"""The bench scripts import each other as top-level modules: put their folder on the path."""

from __future__ import annotations

import sys

from helpers import REPO

sys.path.insert(0, str(REPO / "bench"))
