"""/recommend: a request prepared as one input row, and a batch of rows ranked at once.

`prepare` checks a request against its model and finds its input row: a known user's
training interactions (`ServedModel.rows`, the rows ``netcfg predict`` reads), or the
interactions the request gives, put in the model's columns by
`inference.align.align_row` (a new or returning user, folded in as ``predict --input``
does). `rank_batch` stacks the rows of requests that arrived together and ranks them with
`inference.ranking.rank_rows` (or `rank_through_items` for item-based models), the
function ``predict`` ranks each of its batches with: the same forward pass, the same
removal of seen and filtered items, the same exact top-K order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from netcfg.data.batch import SparseBatch
from netcfg.data.ids import IdIndex
from netcfg.inference.align import align_row
from netcfg.inference.ranking import column_mask, padded, rank_rows, rank_through_items
from netcfg.inference.recommend import Recommendations, report_warnings
from netcfg.inference.writers import recommendation_record
from netcfg.serving.errors import RequestError
from netcfg.serving.schemas import RecommendRequest
from netcfg.serving.served import ServedModel
from netcfg.spec_base import shown

__all__ = ["PreparedRequest", "prepare", "rank_batch"]


@dataclass(frozen=True)
class PreparedRequest:
    """A checked /recommend request and its input row.

    Attributes:
        user: the user id answered (the model's own id for a known user).
        indices: the input row's columns (the model's item positions), ascending.
        values: its values, or None for implicit interactions.
        position: for an item-based model, the user's column in its item rows; else -1.
        k: list length.
        exclude_seen: never recommend an item of the input row.
        banned: bool [items] of the request's filter, or None.
        report: what was ignored, in `inference.recommend.report_warnings`'s terms.
    """

    user: object
    indices: np.ndarray
    values: np.ndarray | None
    position: int
    k: int
    exclude_seen: bool
    banned: torch.Tensor | None
    report: dict


def prepare(served: ServedModel, request: RecommendRequest, prefix: str = "") -> PreparedRequest:
    """Check ``request`` against ``served`` and find its input row.

    Args:
        served: the model the request names.
        request: the validated request.
        prefix: the request's place in the body (``[2].``), for field names.

    Raises:
        RequestError: 404 for a user the model does not know (and no interactions), 422
            for interactions an item-based model cannot use, none of whose items the model
            knows, or a known user without training interactions.
    """
    banned = None
    if request.filter is not None and (request.filter.allow is not None or request.filter.deny):
        banned = column_mask(served.rows.item_ids, request.filter.allow, request.filter.deny)
    common = {"k": request.k, "exclude_seen": request.exclude_seen, "banned": banned}
    if request.interactions is not None:
        return _folded_in(served, request, prefix, common)
    matrix = served.rows.matrix
    position = matrix.rows.position(request.user)
    if position is None:
        hint = (
            "give 'interactions' to recommend for a new user"
            if served.orientation == "user"
            else "an item-based model recommends only for the users it was trained on"
        )
        raise RequestError(
            404,
            f"{prefix}user",
            f"unknown user {shown(request.user)} of model '{served.name}'; {hint}",
        )
    start, end = matrix.indptr[position], matrix.indptr[position + 1]
    if served.orientation == "user" and start == end:
        raise RequestError(
            422,
            f"{prefix}user",
            f"user {shown(request.user)} has no training interactions model "
            f"'{served.name}' can read; give 'interactions'",
        )
    values = None if matrix.values is None else matrix.values[start:end]
    user = matrix.rows.ids[position : position + 1].tolist()[0]
    indices = matrix.indices[start:end].astype(np.int64)
    at = position if served.orientation == "item" else -1
    return PreparedRequest(user, indices, values, at, report={}, **common)


def _folded_in(
    served: ServedModel, request: RecommendRequest, prefix: str, common: dict
) -> PreparedRequest:
    """A request with its own interactions: a new or returning user of a user-based model."""
    field = f"{prefix}interactions"
    if served.orientation == "item":
        raise RequestError(
            422,
            field,
            f"model '{served.name}' is item-based: it recommends only for the users it was "
            "trained on, from their training interactions; leave 'interactions' out",
        )
    items = [item for item, _ in request.interactions]
    given = [value for _, value in request.interactions]
    values = None if all(v is None for v in given) else [1.0 if v is None else v for v in given]
    row = align_row(served.rows.item_ids, items, values)
    if not len(row.indices):
        raise RequestError(
            422,
            field,
            f"none of its {row.unknown_ids:,} items is known to model '{served.name}'; "
            "a user is folded in from interactions with items the model knows",
        )
    report = {"unknown_item_interactions": row.dropped_entries, "unknown_items": row.unknown_ids}
    user = _user_id(served.rows.matrix.rows, request.user)
    return PreparedRequest(user, row.indices, row.values, -1, report=report, **common)


def _user_id(users: IdIndex, user: str | int) -> str | int:
    """The id answered for a user given with interactions: an integer where the model's
    user ids are and the id reads as one, else as given."""
    if users.numeric and not isinstance(user, int):
        try:
            return int(user)
        except ValueError:
            return user
    return user


@torch.no_grad()
def rank_batch(served: ServedModel, batch: list[PreparedRequest]) -> list[dict]:
    """Rank the requests of one batch in one pass; one answer per request, in order:
    ``{"model", "user", "items", "scores"}`` (and ``"warnings"`` when input was ignored).
    """
    n_items = served.item_count
    lengths = np.array([len(p.indices) for p in batch], dtype=np.int64)
    offsets = np.zeros(len(batch) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    indices = torch.from_numpy(np.concatenate([p.indices for p in batch]))
    values = None
    if any(p.values is not None for p in batch):
        values = torch.from_numpy(
            np.concatenate(
                [
                    np.ones(len(p.indices), np.float32) if p.values is None else p.values
                    for p in batch
                ]
            ).astype(np.float32, copy=False)
        )
    inputs = SparseBatch(torch.from_numpy(offsets), indices, values, n_items)
    seen = _rows_of(inputs, [p.exclude_seen for p in batch])
    banned = None
    if any(p.banned is not None for p in batch):
        nothing = torch.zeros(n_items, dtype=torch.bool)
        banned = torch.stack([nothing if p.banned is None else p.banned for p in batch])
    k = max(p.k for p in batch)
    if served.orientation == "user":
        found = rank_rows(served.model, served.layers, inputs, k, exclude=[seen], banned=banned)
    else:
        users = np.array([p.position for p in batch], dtype=np.int64)
        found = rank_through_items(
            served.model,
            served.layers,
            served.rows.item_rows,
            users,
            k,
            exclude=[seen],
            banned=banned,
        )
    users = np.empty(len(batch), dtype=object)
    users[:] = [p.user for p in batch]
    recommendations = Recommendations(users, *padded(*found), served.rows.item_ids)
    answers = []
    for prepared, (user, ranked) in zip(batch, recommendations.lists(), strict=True):
        answer = {"model": served.name, **recommendation_record(user, ranked[: prepared.k])}
        warnings = report_warnings(prepared.report)
        if warnings:
            answer["warnings"] = warnings
        answers.append(answer)
    return answers


def _rows_of(batch: SparseBatch, keep: list[bool]) -> SparseBatch | None:
    """The rows of ``batch`` where ``keep`` holds, the others emptied (None: no row kept)."""
    if not any(keep):
        return None
    if all(keep):
        return batch
    kept = torch.tensor(keep)
    counts = batch.offsets[1:] - batch.offsets[:-1]
    entries = torch.repeat_interleave(kept, counts, output_size=batch.nnz)
    offsets = torch.zeros_like(batch.offsets)
    torch.cumsum(counts * kept, 0, out=offsets[1:])
    return SparseBatch(offsets, batch.indices[entries], None, batch.num_columns)
