"""The Evaluator's ranking protocol: every item but the user's training positives is ranked."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from netcfg.data.ids import IdIndex
from netcfg.data.interactions import Interactions
from netcfg.data.splits import split_random
from netcfg.networks.network import NetworkOutput
from netcfg.trainers.bindings import RunData
from netcfg.trainers.evaluation import Evaluator

USERS, ITEMS = 40, 30


class FixedScores(nn.Module):
    """Scores every item by one fixed vector, whoever the user is."""

    def __init__(self, scores: torch.Tensor, output: str, dataset: str):
        super().__init__()
        self.scores = scores
        self.outputs = {output: dataset}

    def forward(self, inputs, targets):
        size = next(iter(inputs.values())).batch_size
        (name,) = self.outputs
        return NetworkOutput({name: self.scores.expand(size, -1)}, {name: torch.tensor(0.0)})


def implicit_split():
    rng = np.random.default_rng(5)
    dense = rng.random((USERS, ITEMS)) < 0.3
    rows, columns = np.nonzero(dense)
    matrix, _ = Interactions.from_coo(
        rows, columns, None, None, IdIndex.of(range(USERS)), IdIndex.of(range(ITEMS))
    )
    return split_random(matrix, (0.7, 0.0, 0.3), seed=0, per_user=True)


def expected(scores: np.ndarray, train: Interactions, test: Interactions, k: int):
    """Recall@k and NDCG@k by hand: rank the items not in training by descending score."""
    recalls, ndcgs = [], []
    for user in range(USERS):
        targets = set(test.indices[test.indptr[user] : test.indptr[user + 1]].tolist())
        if not targets:
            continue
        seen = set(train.indices[train.indptr[user] : train.indptr[user + 1]].tolist())
        ranked = [i for i in np.argsort(-scores, kind="stable") if i not in seen][:k]
        hits = [rank for rank, item in enumerate(ranked, start=1) if item in targets]
        ideal = min(k, len(targets))
        recalls.append(len(hits) / ideal)
        dcg = sum(1 / math.log2(rank + 1) for rank in hits)
        ndcgs.append(dcg / sum(1 / math.log2(rank + 1) for rank in range(1, ideal + 1)))
    return {f"Recall@{k}": np.mean(recalls), f"NDCG@{k}": np.mean(ndcgs)}


@pytest.mark.parametrize(
    ("input_name", "target_name"), [("ratings", "ratings"), ("gl_input", "gl_output")]
)
def test_training_positives_are_excluded_whatever_the_dataset_names(input_name, target_name):
    split = implicit_split()
    scores = np.random.default_rng(1).permutation(ITEMS).astype(np.float64)
    data = RunData({input_name: split, target_name: split}, (input_name,), (target_name,))
    network = FixedScores(torch.tensor(scores), "Output", target_name)
    found = Evaluator(data, ["Recall@5", "NDCG@5", "Recall@20", "NDCG@20"]).evaluate(
        network, "test"
    )
    for k in (5, 20):
        for name, value in expected(scores, split.train, split.parts["test"], k).items():
            assert found[name] == pytest.approx(value, abs=1e-12)
