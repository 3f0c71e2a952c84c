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
from netcfg.inference.ranking import (
    autoencoder_layers,
    column_mask,
    output_columns,
    padded,
    rank_rows,
    rank_through_items,
)
from netcfg.trainers.rundir import LoadedModel

__all__ = [
    "ItemFilter",
    "ModelRows",
    "Recommendations",
    "model_rows",
    "recommend",
    "report_warnings",
]


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
        return report_warnings(self.report)

    def lists(self) -> Iterator[tuple[object, list[tuple[object, float]]]]:
        """(user id, [(item id, score), ...]) in rank order."""
        ids = self.item_ids.ids
        users = self.user_ids.tolist()
        for user, items, scores in zip(users, self.items, self.scores, strict=True):
            keep = items >= 0
            yield user, list(zip(ids[items[keep]].tolist(), scores[keep].tolist(), strict=True))


def report_warnings(report: dict) -> list[str]:
    """What a `Recommendations.report` says was left out (ignored input, users without a
    list), one sentence each; ``predict`` prints them, ``serve`` answers them."""
    lines = []
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


@dataclass
class ModelRows:
    """Users' interactions in a model's terms, ready to rank (`model_rows`).

    Attributes:
        matrix: user rows over the model's item columns; for an item-based model, the
            rows are the model's own users (others cannot be scored).
        item_rows: for an item-based model, the model's items x the model's users (what
            its network reads); None for a user-based model.
        item_ids: the model's items.
        report: what alignment dropped: ``unknown_items``, ``unknown_item_interactions``,
            ``dropped_interactions`` and, for item-based models, ``new_users`` and
            ``new_user_interactions``.
    """

    matrix: Interactions
    item_rows: Interactions | None
    item_ids: IdIndex
    report: dict


def model_rows(model: LoadedModel, interactions: Interactions) -> ModelRows:
    """Put users' interactions (user rows, original ids) in the model's terms: columns
    re-indexed to the model's items (unknown items dropped and counted); new users are
    folded in by a user-based model, dropped and counted by an item-based one."""
    dataset, _, orientation = autoencoder_layers(model, classifier=True)
    rows_ids, columns_ids = model.ids[dataset]
    item_ids = columns_ids if orientation == "user" else rows_ids
    report = {}
    item_rows = None
    if orientation == "item":  # users are the model's columns: new users cannot be scored
        by_users = align_columns(interactions.transpose(), columns_ids)
        report["new_users"] = by_users.unknown_ids
        report["new_user_interactions"] = by_users.dropped_entries
        aligned = align_columns(by_users.matrix.transpose(), item_ids)
        item_rows = aligned.matrix.transpose()  # the model's items x the model's users
    else:
        aligned = align_columns(interactions, item_ids)
    report["unknown_items"] = aligned.unknown_ids
    report["unknown_item_interactions"] = aligned.dropped_entries
    report["dropped_interactions"] = aligned.dropped_entries + report.get(
        "new_user_interactions", 0
    )
    return ModelRows(aligned.matrix, item_rows, item_ids, report)


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
    layers = autoencoder_layers(model, classifier=True)
    filters = filters or ItemFilter()
    rows = model_rows(model, interactions)
    matrix, item_ids, report = rows.matrix, rows.item_ids, rows.report
    if layers[2] == "user" and output_columns(model, layers) != item_ids:  # a classifier
        if exclude_seen:
            raise ModelError(
                "the Output layer's columns are not the input's (a classifier): there are "
                "no seen items to exclude; drop --exclude-seen (exclude_seen=False)"
            )
        item_ids = output_columns(model, layers)
    selected = _select(matrix, users, report, layers[2])
    if users is None:
        report["users_without_known_items"] = _users_without_known_items(interactions, matrix)
    banned = column_mask(item_ids, filters.allow, filters.deny)
    excluded = [
        m
        for m in (matrix if exclude_seen else None, _filter_matrix(filters, matrix.rows, item_ids))
        if m is not None and m.nnz
    ]
    if rows.item_rows is None:
        found = _by_users(
            model,
            layers,
            matrix,
            selected,
            k,
            excluded,
            banned,
            batch_size,
            progress,
            len(item_ids),
        )
    else:
        found = padded(
            *rank_through_items(
                model,
                layers,
                rows.item_rows,
                selected,
                k,
                exclude=[m.batch(selected) for m in excluded],
                banned=banned,
                batch_size=batch_size,
                progress=progress,
            )
        )
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


def _by_users(model, layers, matrix, selected, k, excluded, banned, batch_size, progress, width):
    """`rank_rows` over the selected users, ``batch_size`` at a time, ranking ``width``
    output columns."""
    items, scores = [], []
    for start in tqdm(range(0, len(selected), batch_size), disable=not progress, unit="batch"):
        rows = selected[start : start + batch_size]
        exclude = [m.batch(rows) for m in excluded]
        found = rank_rows(model, layers, matrix.batch(rows), k, exclude=exclude, banned=banned)
        items.append(found[0])
        scores.append(found[1])
    width = min(k, width)
    items = torch.cat(items) if items else torch.zeros((0, width), dtype=torch.int64)
    scores = torch.cat(scores) if scores else torch.zeros((0, width))
    return padded(items, scores)
