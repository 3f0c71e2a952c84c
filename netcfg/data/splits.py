"""Split protocols: which interactions train the model and which evaluate it.

Every protocol returns a `SplitSet` whose parts share one row index and one column index,
so row r of ``train`` and row r of ``test`` are the same user. Evaluation parts only keep
entries whose user and item were seen in training; the others are kept apart
(`UnseenEntries`, evaluated honestly by default) and counted.
All randomness comes from one seed, and nothing loops over rows in Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from netcfg.data.interactions import DuplicatePolicy, Interactions
from netcfg.data.readers import RawInteractions
from netcfg.data.unseen import UnseenEntries
from netcfg.errors import DataError

__all__ = [
    "SplitSet",
    "split_files",
    "split_heldout_users",
    "split_leave_last_out",
    "split_random",
    "split_temporal",
    "split_user_temporal",
]


@dataclass
class SplitSet:
    """Named parts of one dataset, over the same rows and columns.

    Attributes:
        parts: ``train`` and evaluation parts (``validation``, ``test``); held-out-user
            protocols add ``validation_input``/``test_input``, the interactions the model
            sees for those users (the evaluated part is then ``validation``/``test``).
        meta: protocol, parameters, entry counts, and entries dropped per part.
        unseen: per evaluation part, its entries whose user or item has no training
            interaction (kept out of the part itself).
    """

    parts: dict[str, Interactions]
    meta: dict = field(default_factory=dict)
    unseen: dict[str, UnseenEntries] = field(default_factory=dict)

    @property
    def train(self) -> Interactions:
        """The training part."""
        return self.parts["train"]

    def oriented(self, orientation: str) -> SplitSet:
        """The same split with ``user`` or ``item`` rows (parts transposed as needed)."""
        if self.train.orientation == orientation:
            return self
        return SplitSet(
            {name: part.transpose() for name, part in self.parts.items()},
            self.meta,
            {name: entries.transpose() for name, entries in self.unseen.items()},
        )


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _finish(
    matrix: Interactions,
    assignment: np.ndarray,
    names: list[str],
    protocol: str,
    params: dict,
    *,
    seen_users: bool = True,
) -> SplitSet:
    """Parts from a per-entry assignment (an index into ``names``; -1 drops the entry).

    Evaluation parts keep only entries whose column appears in train, and, when
    ``seen_users``, whose row does too; the others are kept apart as `UnseenEntries`.
    """
    train = matrix.entries(assignment == 0)
    seen_rows = train.row_counts() > 0
    seen_columns = train.column_counts() > 0
    rows = matrix.row_of_entries()
    parts, dropped, unseen = {"train": train}, {}, {}
    for number, name in enumerate(names[1:], start=1):
        mine = assignment == number
        unseen_user = mine & ~seen_rows[rows] if seen_users else np.zeros_like(mine)
        unseen_item = mine & ~unseen_user & ~seen_columns[matrix.indices]
        dropped[name] = {
            "unseen_users": int(unseen_user.sum()),
            "unseen_items": int(unseen_item.sum()),
        }
        parts[name] = matrix.entries(mine & ~unseen_user & ~unseen_item)
        apart = unseen_user | unseen_item
        unseen[name] = UnseenEntries(
            rows[apart],
            matrix.indices[apart].astype(np.int64),
            None if matrix.values is None else matrix.values[apart],
        )
    meta = {
        "protocol": protocol,
        "params": params,
        "counts": {name: part.nnz for name, part in parts.items()},
        "dropped": dropped,
    }
    return SplitSet(parts, meta, unseen)


def split_random(
    matrix: Interactions,
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    *,
    seed: int = 0,
    per_user: bool = False,
) -> SplitSet:
    """Random split of the interactions into train, validation and test fractions.

    With ``per_user`` each user's interactions are split in these fractions (rounded), as
    the implicit-feedback protocols do; otherwise interactions are drawn independently.
    A fraction of 0 leaves that part out.
    """
    if not np.isclose(sum(fractions), 1.0) or min(fractions) < 0:
        raise DataError(f"split fractions must be >= 0 and sum to 1 (got {fractions})")
    draw = _rng(seed).random(matrix.nnz)
    if per_user:
        draw = _rank_in_rows(matrix, draw)
    bounds = np.cumsum(fractions)[:-1]
    assignment = np.searchsorted(bounds, draw, side="right")
    names = [n for n, f in zip(("train", "validation", "test"), fractions, strict=True) if f > 0]
    keep = [i for i, f in enumerate(fractions) if f > 0]
    remap = np.full(3, -1)
    remap[keep] = np.arange(len(keep))
    params = {"fractions": list(fractions), "seed": seed, "per_user": per_user}
    return _finish(matrix, remap[assignment], names, "random", params)


def _position_in_rows(matrix: Interactions, keys: np.ndarray) -> np.ndarray:
    """Each entry's 0-based position within its row when the row is ordered by ``keys``
    (ties keep column order)."""
    order = np.lexsort((keys, matrix.row_of_entries()))
    counts = matrix.row_counts()
    position = np.empty(matrix.nnz, dtype=np.int64)
    position[order] = np.arange(matrix.nnz) - np.repeat(matrix.indptr[:-1], counts)
    return position


def _rank_in_rows(matrix: Interactions, keys: np.ndarray) -> np.ndarray:
    """Each entry's place within its row ordered by ``keys``, as a fraction in (0, 1)."""
    counts = matrix.row_counts()
    return (_position_in_rows(matrix, keys) + 0.5) / np.repeat(counts, counts)


def _times(matrix: Interactions, protocol: str) -> np.ndarray:
    if matrix.times is None:
        raise DataError(f"the {protocol} protocol needs timestamps, and this dataset has none")
    return matrix.times


def split_temporal(
    matrix: Interactions,
    *,
    cut_time: int | None = None,
    cut_fraction: float | None = None,
    end_time: int | None = None,
    validation_fraction: float = 0.5,
    seed: int = 0,
) -> SplitSet:
    """Global time split (DeepRec's Netflix protocol): train before a cut, after it evaluation.

    The cut is a timestamp, or the time by which ``cut_fraction`` of the interactions
    happened. Interactions at or after ``end_time`` are dropped. Each user's later
    interactions go wholly to validation (with probability ``validation_fraction``) or to
    test. Users and items unseen in training are dropped from evaluation.
    """
    times = _times(matrix, "temporal")
    if (cut_time is None) == (cut_fraction is None):
        raise DataError("give exactly one of a cut time and a cut fraction")
    if cut_time is None:
        cut_time = int(np.quantile(times, cut_fraction))
    if end_time is not None and end_time <= cut_time:
        raise DataError(
            f"the end time {end_time} must come after the cut time {cut_time}: every "
            "interaction from the cut on would be dropped, leaving nothing to evaluate"
        )
    later = times >= cut_time
    to_validation = _rng(seed).random(matrix.shape[0]) < validation_fraction
    assignment = np.where(later, np.where(to_validation[matrix.row_of_entries()], 1, 2), 0)
    if end_time is not None:
        assignment = np.where(times >= end_time, -1, assignment)
    params = {
        "cut_time": cut_time,
        "end_time": end_time,
        "validation_fraction": validation_fraction,
        "seed": seed,
    }
    return _finish(matrix, assignment, ["train", "validation", "test"], "temporal", params)


def split_user_temporal(
    matrix: Interactions,
    *,
    train_fraction: float = 0.7,
    validation_fraction: float = 0.5,
    seed: int = 0,
) -> SplitSet:
    """Per-user time split (DeepRec's MovieLens converter): each user's earliest
    ``train_fraction`` of interactions train; the rest of the user goes wholly to
    validation or to test."""
    position = _rank_in_rows(matrix, _times(matrix, "user-temporal").astype(np.float64))
    to_validation = _rng(seed).random(matrix.shape[0]) < validation_fraction
    evaluated = np.where(to_validation[matrix.row_of_entries()], 1, 2)
    assignment = np.where(position < train_fraction, 0, evaluated)
    params = {
        "train_fraction": train_fraction,
        "validation_fraction": validation_fraction,
        "seed": seed,
    }
    return _finish(matrix, assignment, ["train", "validation", "test"], "user-temporal", params)


def split_leave_last_out(matrix: Interactions, *, validation: bool = True) -> SplitSet:
    """Each user's last interaction is the test; the one before it the validation.

    Users with too few interactions to spare them stay wholly in train.
    """
    times = _times(matrix, "leave-last-out")
    counts = np.repeat(matrix.row_counts(), matrix.row_counts())
    from_end = counts - _position_in_rows(matrix, times)  # 1 = the last
    needed = 3 if validation else 2
    assignment = np.where(counts < needed, 0, np.where(from_end == 1, 2, 0))
    if validation:
        assignment = np.where((counts >= needed) & (from_end == 2), 1, assignment)
    names = ["train", "validation", "test"]
    return _finish(matrix, assignment, names, "leave-last-out", {"validation": validation})


def split_heldout_users(
    matrix: Interactions, heldout: int, *, fold_in: float = 0.8, seed: int = 0
) -> SplitSet:
    """Held-out users with fold-in (the Mult-VAE protocol).

    ``heldout`` random users form the validation set and as many the test set; the rest
    train. Of each held-out user's interactions, ``fold_in`` (at random) are the input the
    model sees (``validation_input``/``test_input``) and the others are to be predicted.
    Items that appear only in held-out users' interactions are dropped.
    """
    if 2 * heldout >= matrix.shape[0]:
        raise DataError(f"cannot hold out 2 x {heldout} users of {matrix.shape[0]}")
    rng = _rng(seed)
    group = np.zeros(matrix.shape[0], dtype=np.int64)
    chosen = rng.permutation(matrix.shape[0])[: 2 * heldout]
    group[chosen[:heldout]], group[chosen[heldout:]] = 1, 2
    entry_group = group[matrix.row_of_entries()]
    shown = _rank_in_rows(matrix, rng.random(matrix.nnz)) < fold_in
    assignment = np.select(
        [entry_group == 0, (entry_group == 1) & shown, entry_group == 1, shown],
        [0, 1, 2, 3],
        default=4,
    )
    names = ["train", "validation_input", "validation", "test_input", "test"]
    inputs = {"validation": "validation_input", "test": "test_input"}
    split = _finish(
        matrix,
        assignment,
        names,
        "heldout-users",
        {"heldout": heldout, "fold_in": fold_in, "seed": seed},
        seen_users=False,
    )
    for target, source in inputs.items():  # a target without an input cannot be evaluated
        has_input = split.parts[source].row_counts() > 0
        keep = has_input[split.parts[target].row_of_entries()]
        split.parts[target] = split.parts[target].entries(keep)
        split.meta["counts"][target] = split.parts[target].nnz
    split.meta["inputs"] = inputs
    return split


def split_files(
    train: Interactions,
    others: dict[str, RawInteractions],
    *,
    duplicates: DuplicatePolicy = DuplicatePolicy.latest,
) -> SplitSet:
    """Given splits (MovieLens ``u1.base``/``u1.test``): evaluation files are mapped through
    the training file's id indexes; entries of users or items unknown to it are kept apart
    (`UnseenEntries`, position -1 for an unknown id) and counted."""
    parts, dropped, unseen = {"train": train}, {}, {}
    for name, raw in others.items():
        rows = train.rows.positions(_array(raw.users))
        columns = train.columns.positions(_array(raw.items))
        known = (rows >= 0) & (columns >= 0)
        dropped[name] = {
            "unseen_users": int((rows < 0).sum()),
            "unseen_items": int(((rows >= 0) & (columns < 0)).sum()),
        }
        values = None if raw.values is None else np.asarray(raw.values, np.float32)[~known]
        unseen[name] = UnseenEntries(
            rows[~known].astype(np.int64), columns[~known].astype(np.int64), values
        )
        part, _ = Interactions.from_coo(
            rows[known],
            columns[known],
            None if raw.values is None or train.values is None else raw.values[known],
            None if raw.times is None else raw.times[known],
            train.rows,
            train.columns,
            duplicates=duplicates,
        )
        parts[name] = part
    meta = {
        "protocol": "files",
        "params": {name: raw.source for name, raw in others.items()},
        "counts": {name: part.nnz for name, part in parts.items()},
        "dropped": dropped,
    }
    return SplitSet(parts, meta, unseen)


def _array(ids) -> np.ndarray:
    return ids if isinstance(ids, np.ndarray) else np.array(ids.to_pylist(), dtype=object)
