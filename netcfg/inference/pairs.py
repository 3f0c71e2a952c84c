"""Scores of given (user, item) pairs from a trained autoencoder.

The network reads the model's rows (a user's history for user-based models; an item's
row of users for item-based ones, as I-AutoRec) and outputs a score for every column, so
a pair's score is the output of its row at its column. Each needed row is run once, in
batches; pairs keep their input order. A pair whose row or column id the model does not
know gets no score (NaN) and is counted, never dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from netcfg.data.interactions import Interactions
from netcfg.inference.align import align_columns
from netcfg.inference.ranking import autoencoder_layers
from netcfg.trainers.rundir import LoadedModel

__all__ = ["PairScores", "format_scores", "model_datasets", "pair_inputs", "score_pairs"]


@dataclass
class PairScores:
    """One score per input pair, in input order.

    Attributes:
        users: the user ids as given.
        items: the item ids as given.
        scores: float64 [n]; NaN where the user or the item is unknown to the model.
        unknown_users: pairs whose user the model does not know.
        unknown_items: pairs whose item the model does not know (a pair with both unknown
            counts in both).
    """

    users: np.ndarray
    items: np.ndarray
    scores: np.ndarray
    unknown_users: int
    unknown_items: int

    @property
    def unknown(self) -> int:
        """Pairs without a score."""
        return int(np.isnan(self.scores).sum())


def model_datasets(model: LoadedModel) -> tuple[str, str]:
    """The DataSet the model reads and the one it predicts (often the same).

    Raises:
        ModelError: not an autoencoder with one Input and one Output layer.
    """
    dataset, output, _ = autoencoder_layers(model)
    return dataset, model.network.outputs[output]


def pair_inputs(
    model: LoadedModel, clip: bool = True
) -> tuple[Interactions, tuple[float, float] | None]:
    """What `score_pairs` reads for ``predict --pairs``: the rows the model was trained
    on (its input DataSet's training part), and the range ratings are clipped to (the
    target's training values, as evaluation clips them; None when ``clip`` is False, the
    config says ``Evaluation.ClipPredictions: false``, or the data is implicit).

    Raises:
        ModelError: not an autoencoder with one Input and one Output layer.
        DataError: the model's data cannot be opened.
    """
    from netcfg.data.source import open_source
    from netcfg.trainers.evaluation import value_range

    dataset, target = model_datasets(model)
    rows = open_source(model.spec.Data[dataset], name=dataset).train
    if not clip or not model.spec.Evaluation.ClipPredictions:
        return rows, None
    target_rows = rows if target == dataset else open_source(model.spec.Data[target]).train
    return rows, value_range(target_rows)


def _ids(values) -> np.ndarray:
    """Ids as a numpy array (pyarrow strings become an object array)."""
    if isinstance(values, np.ndarray):
        return values
    if hasattr(values, "to_pylist"):
        return np.array(values.to_pylist(), dtype=object)
    return np.asarray(list(values))


@torch.no_grad()
def score_pairs(
    model: LoadedModel,
    rows: Interactions,
    users,
    items,
    *,
    clip: tuple[float, float] | None = None,
    batch_size: int = 1024,
) -> PairScores:
    """The model's score of each (user, item) pair.

    Args:
        model: a trained autoencoder (user-based or item-based).
        rows: the input rows in the model's orientation, in original ids: users' histories
            for a user-based model, items' rows for an item-based one (the training part
            of the model's data); columns the model does not know are dropped.
        users: user ids, one per pair (an array, a list, or pyarrow strings).
        items: item ids, one per pair.
        clip: clip scores to this (low, high) range (`trainers.evaluation.value_range`), or None.
        batch_size: rows per forward pass.

    Example:
        >>> found = score_pairs(model, train, [1, 1, 2], [50, 172, 50], clip=(1.0, 5.0))
        >>> found.scores
        array([4.31, 3.87, 4.02])
    """
    dataset, output, orientation = autoencoder_layers(model)
    users, items = _ids(users), _ids(items)
    if len(users) != len(items):
        raise ValueError(f"{len(users)} users for {len(items)} items")
    if rows.orientation != orientation:
        rows = rows.transpose()
    matrix = align_columns(rows, model.ids[dataset][1]).matrix
    row_keys, column_keys = (users, items) if orientation == "user" else (items, users)
    row_of = matrix.rows.positions(row_keys)
    column_of = matrix.columns.positions(column_keys)
    user_unknown, item_unknown = (
        (row_of < 0, column_of < 0) if orientation == "user" else (column_of < 0, row_of < 0)
    )
    scores = np.full(len(users), np.nan)
    known = np.flatnonzero((row_of >= 0) & (column_of >= 0))
    known = known[np.argsort(row_of[known], kind="stable")]  # pairs grouped by row
    ordered_rows = row_of[known]
    needed = np.unique(ordered_rows)
    for start in range(0, len(needed), batch_size):
        chunk = needed[start : start + batch_size]
        first = np.searchsorted(ordered_rows, chunk[0], side="left")
        last = np.searchsorted(ordered_rows, chunk[-1], side="right")
        pairs = known[first:last]
        local = torch.from_numpy(np.searchsorted(chunk, row_of[pairs]))
        out = model.network({dataset: matrix.batch(chunk)}).outputs[output]
        scores[pairs] = out[local, torch.from_numpy(column_of[pairs])].double().numpy()
    if clip is not None:
        scores = np.clip(scores, clip[0], clip[1])
    return PairScores(users, items, scores, int(user_unknown.sum()), int(item_unknown.sum()))


def format_scores(found: PairScores) -> Iterator[str]:
    """``user<TAB>item<TAB>score`` lines in input order; the score is empty for unknown
    users or items."""
    for user, item, score in zip(
        found.users.tolist(), found.items.tolist(), found.scores.tolist(), strict=True
    ):
        yield f"{user}\t{item}\t{'' if score != score else f'{score:.6g}'}\n"
