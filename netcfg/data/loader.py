"""Minibatches of sparse rows for training: shuffled with a seed, cut without Python loops."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np

from netcfg.data.batch import SparseBatch
from netcfg.data.interactions import Interactions

__all__ = ["RowLoader"]


class RowLoader:
    """Iterate over minibatches of rows of one or more aligned matrices.

    Each batch is a dict: for every named matrix, the same rows as a `SparseBatch` (an
    autoencoder names one matrix twice, as input and target; it is cut once). Rows are
    shuffled every epoch from ``(seed, epoch)``, so a run is reproducible and can resume
    mid-way (`set_epoch`).

    Args:
        matrices: name -> matrix; all must have the same number of rows.
        batch_size: rows per batch (the last batch may be smaller unless ``drop_last``).
        shuffle: shuffle the rows each epoch.
        seed: seed of the shuffles.
        rows: the rows to serve (default: rows with at least one entry in the first matrix).
        drop_last: drop a last, partial batch.
        shard: ``(rank, processes)`` of data-parallel training: every process walks the same
            global batches and yields its share of each (consecutive rows, the first ranks
            one row more when the batch does not divide). A process whose share of a
            last, short batch is empty gets the batch's first row instead and ``filler``
            is true while that batch is out: its loss must count for nothing.

    Example:
        >>> loader = RowLoader({"ratings": train}, batch_size=128, seed=1)
        >>> batch = next(iter(loader))["ratings"]
    """

    def __init__(
        self,
        matrices: Mapping[str, Interactions],
        batch_size: int,
        *,
        shuffle: bool = True,
        seed: int = 0,
        rows: np.ndarray | None = None,
        drop_last: bool = False,
        shard: tuple[int, int] = (0, 1),
    ):
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        counts = {m.shape[0] for m in matrices.values()}
        if len(counts) != 1:
            raise ValueError(f"matrices have different numbers of rows: {sorted(counts)}")
        self.matrices = dict(matrices)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.drop_last = drop_last
        self.rank, self.processes = shard
        if not 0 <= self.rank < self.processes:
            raise ValueError(f"shard must be (rank, processes) with 0 <= rank < processes: {shard}")
        first = next(iter(self.matrices.values()))
        self.rows = np.flatnonzero(first.row_counts() > 0) if rows is None else np.asarray(rows)
        self.epoch = 0
        self.filler = False

    def set_epoch(self, epoch: int) -> None:
        """Use the shuffle of ``epoch`` for the next iteration."""
        self.epoch = epoch

    def __len__(self) -> int:
        full, rest = divmod(len(self.rows), self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def order(self) -> np.ndarray:
        """The rows in the order of the current epoch."""
        if not self.shuffle:
            return self.rows
        return np.random.default_rng((self.seed, self.epoch)).permutation(self.rows)

    def __iter__(self) -> Iterator[dict[str, SparseBatch]]:
        order = self.order()
        for start in range(0, len(self), 1):
            rows = order[start * self.batch_size : (start + 1) * self.batch_size]
            self.filler = False
            if self.processes > 1:
                share = np.array_split(rows, self.processes)[self.rank]
                self.filler = not len(share)
                rows = rows[:1] if self.filler else share
            cut: dict[int, SparseBatch] = {}
            batch = {}
            for name, matrix in self.matrices.items():
                if id(matrix) not in cut:
                    cut[id(matrix)] = matrix.batch(rows)
                batch[name] = cut[id(matrix)]
            yield batch
