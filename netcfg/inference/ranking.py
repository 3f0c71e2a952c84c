"""The ranking step that ``netcfg predict`` and ``netcfg serve`` share.

A batch of rows goes through the network once; the entries that may not be recommended
(seen items, denied items, items outside an allow list) are set to ``-inf``, never
multiplied; the top K are taken in the exact (-score, index) order of
`trainers.metrics.top_k_items`, so a list does not depend on the batch it was computed in.
`predict` cuts every user of its input into batches; the server ranks the requests that
arrived together (`netcfg.serving`). Both call the functions here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import torch
from tqdm import tqdm

from netcfg.data.batch import SparseBatch
from netcfg.data.ids import IdIndex
from netcfg.data.interactions import Interactions
from netcfg.errors import ModelError
from netcfg.trainers.metrics import top_k_items
from netcfg.trainers.rundir import LoadedModel

__all__ = [
    "autoencoder_layers",
    "output_columns",
    "column_mask",
    "exclude_entries",
    "padded",
    "rank_rows",
    "rank_through_items",
]

Layers = tuple[str, str, str]
"""(input DataSet, Output layer, orientation) of an autoencoder (`autoencoder_layers`)."""


def autoencoder_layers(model: LoadedModel, *, classifier: bool = False) -> Layers:
    """The input DataSet, the Output layer and the orientation (``user`` or ``item``) of a
    model that recommends: an autoencoder with one Input and one Output layer over the same
    columns; with ``classifier``, also a network whose Output has columns of its own (a
    classifier: each input row's top output columns, `output_columns`).

    Raises:
        ModelError: any other network.
    """
    network = model.network
    if len(network.inputs) != 1 or len(network.outputs) != 1:
        raise ModelError("predict needs an autoencoder: one Input and one Output layer")
    ((_, dataset),) = network.inputs.items()
    ((output_layer, target),) = network.outputs.items()
    orientation = model.run["datasets"][dataset]["orientation"]
    if model.ids[dataset][1] != model.ids[target][1] and not (classifier and orientation == "user"):
        raise ModelError("predict needs the Input and Output layers over the same columns")
    return dataset, output_layer, orientation


def output_columns(model: LoadedModel, layers: Layers) -> IdIndex:
    """The ids of the Output layer's columns (the input's, for an autoencoder)."""
    return model.ids[model.network.outputs[layers[1]]][1]


def column_mask(items: IdIndex, allow: Iterable | None, deny: Iterable) -> torch.Tensor:
    """The items that may not be recommended, as a bool [items] mask: every item outside
    ``allow`` (when given) and every item of ``deny``; ids the model does not know are
    ignored."""
    banned = torch.zeros(len(items), dtype=torch.bool)
    if allow is not None:
        banned[:] = True
        allowed = items.positions(list(allow))
        banned[torch.from_numpy(allowed[allowed >= 0])] = False
    deny = list(deny)
    denied = items.positions(deny) if deny else np.zeros(0, np.int64)
    banned[torch.from_numpy(denied[denied >= 0])] = True
    return banned


def exclude_entries(scores: torch.Tensor, entries: SparseBatch | None, first: int = 0) -> None:
    """Set to ``-inf`` the entries of ``entries`` (one row per row of ``scores``) that fall
    within the scored columns, which start at column ``first``."""
    if entries is None or not entries.nnz:
        return
    columns = entries.indices - first
    inside = (columns >= 0) & (columns < scores.shape[1])
    scores[entries.row_ids()[inside], columns[inside]] = float("-inf")


def _best(scores: torch.Tensor, candidates: torch.Tensor, k: int):
    """The top ``k`` of each row: candidate items and their scores (ties: earlier first)."""
    top, _ = top_k_items(scores, k)
    return torch.gather(candidates, 1, top), torch.gather(scores, 1, top)


def rank_rows(
    model: LoadedModel,
    layers: Layers,
    inputs: SparseBatch,
    k: int,
    *,
    exclude: Sequence[SparseBatch | None] = (),
    banned: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The top ``k`` items of each user row of a user-based model, in one forward pass.

    Args:
        model: a trained user-based autoencoder.
        layers: its `autoencoder_layers`.
        inputs: the users' rows in the model's columns.
        k: list length (cut to the catalogue size).
        exclude: entries never recommended, one row per input row (seen items, per-user
            deny lists).
        banned: bool [items] (every row) or [rows, items] (one mask per row).

    Returns:
        Item indexes and scores, [rows, min(k, items)], by rank; ``-inf`` scores mark the
        end of a row's rankable items (`padded`).
    """
    dataset, output, _ = layers
    out = model.network({dataset: inputs}).outputs[output].float()
    for entries in exclude:
        exclude_entries(out, entries)
    if banned is not None:
        out.masked_fill_(banned, float("-inf"))
    candidates = torch.arange(out.shape[1])
    return _best(out, candidates.expand(len(out), -1), k)


def rank_through_items(
    model: LoadedModel,
    layers: Layers,
    item_rows: Interactions,
    users: np.ndarray,
    k: int,
    *,
    exclude: Sequence[SparseBatch | None] = (),
    banned: torch.Tensor | None = None,
    batch_size: int = 1024,
    progress: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The top ``k`` items of some users of an item-based model (I-AutoRec): the item rows
    go through the network in chunks, and each user's list is merged over the chunks.

    Args:
        model: a trained item-based autoencoder.
        layers: its `autoencoder_layers`.
        item_rows: the model's items x the model's users.
        users: the users (columns of ``item_rows``) to rank for.
        k: list length.
        exclude: entries never recommended, one row per user of ``users``.
        banned: bool [items] or [len(users), items].
        batch_size: items per forward pass.
        progress: show a progress bar.

    Returns:
        Item indexes and scores, [len(users), min(k, items)], as `rank_rows`.
    """
    dataset, output, _ = layers
    selected = torch.from_numpy(np.asarray(users, dtype=np.int64))
    best_items = torch.zeros((len(selected), 0), dtype=torch.int64)
    best_scores = torch.zeros((len(selected), 0))
    n_items = item_rows.shape[0]
    for start in tqdm(range(0, n_items, batch_size), disable=not progress, unit="batch"):
        end = min(start + batch_size, n_items)
        out = model.network({dataset: item_rows.batch(np.arange(start, end))}).outputs[output]
        scores = out.float()[:, selected].t().contiguous()  # [selected users, chunk items]
        for entries in exclude:
            exclude_entries(scores, entries, start)
        if banned is not None:
            scores.masked_fill_(banned[..., start:end], float("-inf"))
        chunk = torch.arange(start, end).expand(len(selected), -1)
        best_items, best_scores = _best(
            torch.cat([best_scores, scores], dim=1), torch.cat([best_items, chunk], dim=1), k
        )
    return best_items, best_scores


def padded(items: torch.Tensor, scores: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Items and scores as numpy, the item -1 where the list ran out of rankable items."""
    items, scores = items.numpy(), scores.numpy()
    return np.where(np.isfinite(scores), items, -1), scores
