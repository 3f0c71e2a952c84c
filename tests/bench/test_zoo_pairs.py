"""Two-tower pair datasets and scoring for the zoo benchmark."""

from __future__ import annotations

import numpy as np
import torch
from helpers import two_tower_layers
from pairs import pair_datasets, pair_scores, save_pairs

from netcfg import compile_network, validate_config
from netcfg.data.batch import SparseBatch
from netcfg.data.ids import IdIndex
from netcfg.data.interactions import Interactions
from netcfg.data.store import load_dataset

TWO_TOWER = {"ErrorFunction": "CrossEntropy", "Layers": two_tower_layers(4)}


def positives() -> Interactions:
    rng = np.random.default_rng(3)
    rows, columns = np.nonzero(rng.random((12, 9)) < 0.4)
    matrix, _ = Interactions.from_coo(
        rows, columns, None, None, IdIndex.of(range(100, 112)), IdIndex.of(range(50, 59))
    )
    return matrix


def test_pairs_are_row_aligned_with_labels_and_true_negatives(tmp_path):
    train = positives()
    pairs = pair_datasets(train, per_positive=4, seed=0)
    user, item, clicked = pairs["user"], pairs["item"], pairs["clicked"]
    count = 5 * train.nnz
    assert {m.shape[0] for m in pairs.values()} == {count}
    assert user.columns == train.rows and item.columns == train.columns
    assert all(np.array_equal(m.row_counts(), np.ones(count)) for m in pairs.values())
    labels = clicked.values
    assert labels.sum() == train.nnz and set(labels.tolist()) == {0.0, 1.0}
    dense = np.zeros(train.shape, dtype=bool)
    dense[train.row_of_entries(), train.indices] = True
    assert np.array_equal(dense[user.indices, item.indices], labels == 1)
    per_user = np.bincount(user.indices[labels == 0], minlength=train.shape[0])
    assert np.array_equal(per_user, 4 * train.row_counts())
    again = pair_datasets(train, per_positive=4, seed=0)
    assert all(again[name] == pairs[name] for name in pairs)
    paths = save_pairs(pairs, tmp_path)
    assert all(load_dataset(paths[name]) == pairs[name] for name in pairs)


def test_pair_scores_are_the_network_on_each_pair():
    torch.manual_seed(0)
    network = compile_network(validate_config(TWO_TOWER), {"user": 6, "item": 5, "clicked": 1})
    network.eval()
    users = np.array([4, 1, 2])
    scores = pair_scores(network, users, 6, 5)
    assert scores.shape == (3, 5)
    for row, user in enumerate(users):
        for item in range(5):
            inputs = {
                "user": SparseBatch.from_dense(torch.eye(6)[[user]]),
                "item": SparseBatch.from_dense(torch.eye(5)[[item]]),
            }
            alone = network(inputs).outputs["Score"]
            assert torch.allclose(scores[row, item], alone[0, 0])
