"""Top-K recommendations from a trained autoencoder, for any users and any K.

A user-based model reads each user's row and scores every item at once; an item-based
model (I-AutoRec) reads item rows and scores every user, so each user's list is merged
over chunks of items. Either way scores are computed in batches, seen items and filtered
items are removed before ranking (never multiplied), and ties are broken by the lower
item index, so results do not depend on the batch size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm import tqdm

from netcfg.data.ids import IdIndex
from netcfg.data.interactions import Interactions
from netcfg.errors import ModelError
from netcfg.inference.align import align_columns
from netcfg.trainers.metrics import top_k_items
from netcfg.trainers.rundir import LoadedModel

__all__ = ["ItemFilter", "Recommendations", "recommend"]


@dataclass
class ItemFilter:
    """Items removed before ranking.

    Attributes:
        allow: if given, only these item ids may be recommended.
        deny: item ids never recommended.
        per_user: user id -> item ids never recommended to that user.
    """

    allow: set | None = None
    deny: set = field(default_factory=set)
    per_user: dict = field(default_factory=dict)


@dataclass
class Recommendations:
    """Top-K lists: ``items[u]`` (indexes into ``item_ids``, -1 where the list is short)."""

    user_ids: np.ndarray
    items: np.ndarray
    scores: np.ndarray
    item_ids: IdIndex
    report: dict = field(default_factory=dict)

    def warnings(self) -> list[str]:
        """What the lists had to leave out (ignored input, users without a list), in words."""
        report, lines = self.report, []
        if report.get("unknown_item_interactions"):
            lines.append(
                f"ignored {report['unknown_item_interactions']:,} input interactions with "
                f"{report['unknown_items']:,} items the model does not know"
            )
        if report.get("new_users"):
            lines.append(
                f"ignored {report['new_user_interactions']:,} input interactions of "
                f"{report['new_users']:,} users the model does not know: an item-based model "
                "recommends only for the users it was trained on"
            )
        if report.get("users_without_known_items"):
            lines.append(
                f"{report['users_without_known_items']:,} users have input interactions only "
                "with items the model does not know; they get no recommendations"
            )
        if report.get("unknown_users"):
            lines.append(
                f"{report['unknown_users']:,} requested users have no input interactions the "
                "model can use; they get no recommendations"
            )
        return lines

    def lists(self) -> Iterator[tuple[object, list[tuple[object, float]]]]:
        """(user id, [(item id, score), ...]) in rank order."""
        ids = self.item_ids.ids
        users = self.user_ids.tolist()
        for user, items, scores in zip(users, self.items, self.scores, strict=True):
            keep = items >= 0
            yield user, list(zip(ids[items[keep]].tolist(), scores[keep].tolist(), strict=True))


def _layers(model: LoadedModel) -> tuple[str, str, str]:
    network = model.network
    if len(network.inputs) != 1 or len(network.outputs) != 1:
        raise ModelError("predict needs an autoencoder: one Input and one Output layer")
    ((_, dataset),) = network.inputs.items()
    ((output_layer, target),) = network.outputs.items()
    if model.ids[dataset][1] != model.ids[target][1]:
        raise ModelError("predict needs the Input and Output layers over the same columns")
    return dataset, output_layer, model.run["datasets"][dataset]["orientation"]


def _filter_matrix(filters: ItemFilter, users: IdIndex, items: IdIndex) -> Interactions | None:
    if not filters.per_user:
        return None
    pairs = [
        (users.position(u), items.position(i))
        for u, denied in filters.per_user.items()
        for i in denied
    ]
    pairs = [(u, i) for u, i in pairs if u is not None and i is not None]
    if not pairs:
        return None
    rows, cols = (np.array(v, dtype=np.int64) for v in zip(*pairs, strict=True))
    return Interactions.from_coo(rows, cols, None, None, users, items)[0]


def _column_mask(filters: ItemFilter, items: IdIndex) -> torch.Tensor:
    banned = torch.zeros(len(items), dtype=torch.bool)
    if filters.allow is not None:
        banned[:] = True
        allowed = items.positions(list(filters.allow))
        banned[torch.from_numpy(allowed[allowed >= 0])] = False
    denied = items.positions(list(filters.deny)) if filters.deny else np.zeros(0, np.int64)
    banned[torch.from_numpy(denied[denied >= 0])] = True
    return banned


@torch.no_grad()
def recommend(
    model: LoadedModel,
    interactions: Interactions,
    k: int,
    *,
    exclude_seen: bool = True,
    filters: ItemFilter | None = None,
    users: list | None = None,
    batch_size: int = 1024,
    progress: bool = False,
) -> Recommendations:
    """The top ``k`` items for each user of ``interactions`` (user rows, original ids).

    Args:
        model: a trained autoencoder.
        interactions: what each user did (the model folds new users in, for a user-based
            model); items the model does not know are dropped and counted.
        k: list length (any positive number).
        exclude_seen: never recommend an item the user interacted with.
        filters: allow and deny lists.
        users: recommend for these user ids only (default: every user of the input).
        batch_size: users (or items, for item-based models) per forward pass.
        progress: show a progress bar.

    Example:
        >>> recs = recommend(open_model("runs/u1"), ratings, 10)
        >>> next(recs.lists())
        (1, [(50, 4.91), (174, 4.83), ...])
    """
    if k < 1:
        raise ModelError(f"--top-k must be positive (got {k})")
    dataset, output, orientation = _layers(model)
    filters = filters or ItemFilter()
    rows_ids, columns_ids = model.ids[dataset]
    item_ids = columns_ids if orientation == "user" else rows_ids
    report = {}
    if orientation == "item":  # users are the model's columns: new users cannot be scored
        by_users = align_columns(interactions.transpose(), columns_ids)
        report["new_users"] = by_users.unknown_ids
        report["new_user_interactions"] = by_users.dropped_entries
        aligned = align_columns(by_users.matrix.transpose(), item_ids)
        item_rows = aligned.matrix.transpose()  # the model's items x the model's users
    else:
        aligned = align_columns(interactions, item_ids)
    matrix = aligned.matrix  # user rows (the model's users, for an item-based model)
    report["unknown_items"] = aligned.unknown_ids
    report["unknown_item_interactions"] = aligned.dropped_entries
    report["dropped_interactions"] = aligned.dropped_entries + report.get(
        "new_user_interactions", 0
    )
    selected = _select(matrix, users, report, orientation)
    if users is None:
        report["users_without_known_items"] = _users_without_known_items(interactions, matrix)
    seen = matrix if exclude_seen else None
    banned = _column_mask(filters, item_ids)
    per_user = _filter_matrix(filters, matrix.rows, item_ids)
    args = (model, dataset, output, k, selected, seen, per_user, banned, batch_size, progress)
    found = _by_users(matrix, *args) if orientation == "user" else _by_items(item_rows, *args)
    return Recommendations(matrix.rows.ids[selected], *found, item_ids, report)


def _select(matrix: Interactions, users: list | None, report: dict, orientation: str) -> np.ndarray:
    """The rows to recommend for: every row with input, or the requested users that can be
    scored (``report["unknown_users"]`` counts the others)."""
    counts = matrix.row_counts()
    if users is None:
        return np.flatnonzero(counts > 0)
    positions = matrix.rows.positions(users)
    usable = positions >= 0
    if orientation == "user":  # a user-based model reads the user's input row
        usable[usable] = counts[positions[usable]] > 0
    report["unknown_users"] = int((~usable).sum())
    return positions[usable]


def _users_without_known_items(interactions: Interactions, matrix: Interactions) -> int:
    """Users with input interactions whose row in ``matrix`` (the model's terms) is empty:
    every item they interacted with is unknown to the model (new users of an item-based
    model are counted apart)."""
    had = interactions.row_counts() > 0
    positions = matrix.rows.positions(interactions.rows.ids[had])
    known = positions[positions >= 0]
    return int((matrix.row_counts()[known] == 0).sum())


def _mask(
    scores: torch.Tensor, rows: np.ndarray, matrix: Interactions | None, first: int = 0
) -> None:
    """Set to -inf the entries of ``matrix`` (rows ``rows``) within the scored columns,
    which start at column ``first``."""
    if matrix is None or not matrix.nnz:
        return
    batch = matrix.batch(rows)
    columns = batch.indices - first
    inside = (columns >= 0) & (columns < scores.shape[1])
    scores[batch.row_ids()[inside], columns[inside]] = float("-inf")


def _best(scores: torch.Tensor, candidates: torch.Tensor, k: int):
    """The top ``k`` of each row: candidate items and their scores (ties: earlier first)."""
    top, _ = top_k_items(scores, k)
    return torch.gather(candidates, 1, top), torch.gather(scores, 1, top)


def _by_users(
    matrix, model, dataset, output, k, selected, seen, per_user, banned, batch_size, progress
):
    items, scores = [], []
    candidates = torch.arange(matrix.shape[1])
    for start in tqdm(range(0, len(selected), batch_size), disable=not progress, unit="batch"):
        rows = selected[start : start + batch_size]
        out = model.network({dataset: matrix.batch(rows)}).outputs[output].float()
        _mask(out, rows, seen)
        _mask(out, rows, per_user)
        out[:, banned] = float("-inf")
        found = _best(out, candidates.expand(len(rows), -1), k)
        items.append(found[0])
        scores.append(found[1])
    width = min(k, matrix.shape[1])
    items = torch.cat(items) if items else torch.zeros((0, width), dtype=torch.int64)
    scores = torch.cat(scores) if scores else torch.zeros((0, width))
    return _padded(items, scores)


def _by_items(
    item_rows, model, dataset, output, k, selected, seen, per_user, banned, batch_size, progress
):
    users = torch.from_numpy(selected)
    best_items = torch.zeros((len(selected), 0), dtype=torch.int64)
    best_scores = torch.zeros((len(selected), 0))
    n_items = item_rows.shape[0]
    for start in tqdm(range(0, n_items, batch_size), disable=not progress, unit="batch"):
        end = min(start + batch_size, n_items)
        out = model.network({dataset: item_rows.batch(np.arange(start, end))}).outputs[output]
        scores = out.float()[:, users].t().contiguous()  # [selected users, chunk items]
        _mask(scores, selected, seen, start)
        _mask(scores, selected, per_user, start)
        scores[:, banned[start:end]] = float("-inf")
        chunk = torch.arange(start, end).expand(len(selected), -1)
        best_items, best_scores = _best(
            torch.cat([best_scores, scores], dim=1), torch.cat([best_items, chunk], dim=1), k
        )
    return _padded(best_items, best_scores)


def _padded(items: torch.Tensor, scores: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Items as numpy, -1 where the list ran out of rankable items."""
    items, scores = items.numpy(), scores.numpy()
    return np.where(np.isfinite(scores), items, -1), scores
