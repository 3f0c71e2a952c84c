"""Held-out entries that training cannot place: their user or item has no training data.

A split keeps, beside each evaluation part, the entries of that part whose row or column
has no interaction in the training part (an item first seen in the test period, a user
whose every rating was held out). Evaluation counts them honestly: a ranking metric
counts such items among the user's held-out positives, where they can never be hit; a
rating metric predicts them with a fallback. Dropping them instead makes a model look
better than the same model scored by other tools.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["UnseenEntries"]


@dataclass
class UnseenEntries:
    """Entries of an evaluation part outside what the training part covers.

    Attributes:
        rows: int64 [n], each entry's row in the part's row index, or -1 where the row id
            is not in the index at all.
        columns: int64 [n], the same for columns.
        values: float32 [n], or None for implicit feedback.
    """

    rows: np.ndarray
    columns: np.ndarray
    values: np.ndarray | None

    @classmethod
    def empty(cls, implicit: bool = False) -> UnseenEntries:
        """No entries."""
        none = np.zeros(0, dtype=np.int64)
        return cls(none, none.copy(), None if implicit else np.zeros(0, np.float32))

    def __len__(self) -> int:
        return int(self.rows.shape[0])

    def transpose(self) -> UnseenEntries:
        """The same entries with rows and columns swapped (item-based models)."""
        return UnseenEntries(self.columns, self.rows, self.values)

    def entries(self, keep: np.ndarray) -> UnseenEntries:
        """Only the entries where ``keep`` (bool [n]) holds."""
        values = None if self.values is None else self.values[keep]
        return UnseenEntries(self.rows[keep], self.columns[keep], values)

    def known_rows(self, row_counts: np.ndarray) -> np.ndarray:
        """Whether each entry's row has training interactions (``row_counts`` per row)."""
        known = self.rows >= 0
        known[known] = row_counts[self.rows[known]] > 0
        return known

    def save(self, path) -> None:
        """Write to an ``.npz`` file."""
        arrays = {"rows": self.rows, "columns": self.columns}
        if self.values is not None:
            arrays["values"] = self.values
        np.savez(path, **arrays)

    @classmethod
    def load(cls, path) -> UnseenEntries:
        """Read what `save` wrote."""
        with np.load(path) as data:
            values = data["values"] if "values" in data else None
            return cls(data["rows"], data["columns"], values)
