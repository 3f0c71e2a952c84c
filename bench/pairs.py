"""Pair data for two-tower models: one row per (user, item) pair, three row-aligned datasets.

Row r of ``user`` is the one-hot user id of pair r, row r of ``item`` its one-hot item id,
and row r of ``clicked`` its label: 1 for a training positive, 0 for a sampled negative.
netcfg binds DataSets row by row (`netcfg.trainers.bindings`), so the three dataset
directories train a network with ``--data user=DIR/user --data item=DIR/item
--data clicked=DIR/clicked``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from netcfg.data.batch import SparseBatch
from netcfg.data.ids import IdIndex
from netcfg.data.interactions import Interactions
from netcfg.data.store import save_dataset

PAIR_DATASETS = ("user", "item", "clicked")
"""The DataSet names of a two-tower entry: the user input, the item input, the label."""


def sample_negatives(train: Interactions, per_positive: int, seed: int) -> tuple[np.ndarray, ...]:
    """``per_positive`` items per training positive, uniformly among the user's non-positives.

    Returns:
        The user row and item column of every negative pair.
    """
    items = train.shape[1]
    if (train.row_counts() >= items).any():
        raise ValueError("a user has every item as a positive: no negative to sample")
    known = train.row_of_entries() * items + train.indices  # sorted: CSR order
    users = np.repeat(train.row_of_entries(), per_positive)
    rng = np.random.default_rng(seed)
    chosen = rng.integers(0, items, size=len(users))
    redraw = np.ones(len(users), dtype=bool)
    while redraw.any():
        chosen[redraw] = rng.integers(0, items, size=int(redraw.sum()))
        keys = users * items + chosen
        place = np.searchsorted(known, keys).clip(0, len(known) - 1)
        redraw = known[place] == keys
    return users, chosen


def pair_datasets(
    train: Interactions, *, per_positive: int = 4, seed: int = 0
) -> dict[str, Interactions]:
    """The ``user``, ``item`` and ``clicked`` datasets of the training positives and
    ``per_positive`` sampled negatives each (positives first, then negatives)."""
    negative_users, negative_items = sample_negatives(train, per_positive, seed)
    users = np.concatenate([train.row_of_entries(), negative_users])
    items = np.concatenate([train.indices.astype(np.int64), negative_items])
    labels = np.concatenate([np.ones(train.nnz), np.zeros(len(negative_users))])
    pairs = IdIndex.of(np.arange(len(users)))

    def one_hot(columns: np.ndarray, ids: IdIndex, values: np.ndarray | None) -> Interactions:
        matrix, _ = Interactions.from_coo(np.arange(len(users)), columns, values, None, pairs, ids)
        return matrix

    return {
        "user": one_hot(users, train.rows, None),
        "item": one_hot(items, train.columns, None),
        "clicked": one_hot(np.zeros(len(users), np.int64), IdIndex.of(["clicked"]), labels),
    }


def save_pairs(pairs: dict[str, Interactions], folder: Path) -> dict[str, Path]:
    """Write each pair dataset as a dataset directory ``folder/<name>``."""
    paths = {name: folder / name for name in pairs}
    for name, matrix in pairs.items():
        save_dataset(matrix, paths[name])
    return paths


@torch.no_grad()
def pair_scores(network: nn.Module, users: np.ndarray, user_count: int, item_count: int) -> Tensor:
    """The two-tower network's score of every item for each of ``users`` (row numbers).

    Every (user, item) pair is fed through the network, one-hot as in training.

    Returns:
        Scores, [len(users), item_count].
    """
    (output,) = network.outputs
    size = len(users) * item_count
    offsets = torch.arange(size + 1)
    user_ids = torch.from_numpy(np.repeat(users, item_count))
    item_ids = torch.arange(item_count).repeat(len(users))
    inputs = {
        "user": SparseBatch(offsets, user_ids, None, user_count),
        "item": SparseBatch(offsets, item_ids, None, item_count),
    }
    return network(inputs).outputs[output].reshape(len(users), item_count)
