"""Open what a config's ``Data`` entry points to and prepare it for training.

A source is a dataset or split directory, a raw file, a fetchable public dataset or a
synthetic dataset (generated into the cache once). Values may be binarized or transformed
and rare users or items dropped; a source that is not split yet is split by the given
files (``Test``, ``Validation``, or a MovieLens 100K ``Fold``) or ``Protocol``. The result
is a `SplitSet` in the entry's orientation: user rows, or item rows for item-based models.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from netcfg.data import splits, transforms
from netcfg.data.identity import identity_split
from netcfg.data.importer import import_file
from netcfg.data.interactions import Interactions
from netcfg.data.readers import read_interactions
from netcfg.data.spec import (
    DataFormat,
    DataSourceSpec,
    HeldoutUsersProtocolSpec,
    LeaveLastOutProtocolSpec,
    Orientation,
    RandomProtocolSpec,
    SyntheticSpec,
    TemporalProtocolSpec,
    TransformName,
)
from netcfg.data.split_store import is_split, load_split
from netcfg.data.splits import SplitSet
from netcfg.data.store import is_dataset, load_dataset, save_dataset
from netcfg.data.unseen import UnseenEntries
from netcfg.errors import DataError, Location

__all__ = ["open_source", "synthetic_dataset"]


def open_source(source: DataSourceSpec, name: str | None = None) -> SplitSet:
    """The data a ``Data`` entry binds, prepared and split.

    A split directory gives its parts. Anything else gives one matrix, which is prepared
    (``Binarize``, ``Transform``, minimum counts) and split by the ``Test``/``Validation``
    files or the ``Protocol``; without either it is all ``train``. A ``Fold`` of MovieLens
    100K trains on ``<fold>.base`` and tests on ``<fold>.test``, as those two files would.
    ``Split`` then serves one part alone as ``train``. Given files are read with their
    values and prepared exactly as the training file is.

    Args:
        source: the ``Data`` entry.
        name: its DataSet name, for messages (``Data.<name>.Binarize``).

    Raises:
        DataError: a missing path, an unknown part, unreadable data.
    """
    orientation = "item" if source.Orientation is Orientation.Item else "user"
    path = _base_path(source)
    if is_split(path):
        if source.Protocol is not None or source.Test or source.Validation:
            raise DataError(
                "this is already a split: give no Protocol, Test or Validation", Location(str(path))
            )
        split = load_split(path, orientation=orientation)
    else:
        key = f"Data.{name or '<DataSet>'}"
        split = _split(_matrix(path, source), source, path, key)
        split = split.oriented(orientation)
    if source.Split is not None:
        if source.Split not in split.parts:
            raise DataError(
                f"the split has no part '{source.Split}' (parts: {', '.join(split.parts)})",
                Location(str(path)),
            )
        split = SplitSet({"train": split.parts[source.Split]}, split.meta)
    return identity_split(split) if source.Identity else split


def _base_path(source: DataSourceSpec) -> Path:
    if source.Fold is not None:
        return _fold_files(source)[0]
    if source.Fetch is not None:
        from netcfg.data.fetch import fetch

        return fetch(source.Fetch)
    if source.Synthetic is not None:
        return synthetic_dataset(source.Synthetic)
    return Path(source.Path)


def synthetic_dataset(spec: SyntheticSpec) -> Path:
    """The dataset directory of a synthetic dataset, generated into the cache if missing."""
    from netcfg.data.fetch import cache_dir
    from netcfg.data.synth import GENERATOR_VERSION, synthesize

    fields = {**spec.model_dump(mode="json"), "generator": GENERATOR_VERSION}
    key = json.dumps(fields, sort_keys=True)
    folder = cache_dir() / "synthetic" / hashlib.sha256(key.encode()).hexdigest()[:16]
    if not is_dataset(folder):
        matrix = synthesize(
            spec.Users, spec.Items, spec.Density, implicit=spec.Implicit, seed=spec.Seed
        )
        save_dataset(matrix, folder, keep_existing=True)  # another process may make it too
    return folder


def _matrix(path: Path, source: DataSourceSpec) -> Interactions:
    if is_dataset(path):
        return load_dataset(path)
    if path.is_dir():
        raise DataError(
            "a folder that is neither a netcfg dataset nor a split (no meta.json); "
            "create one with 'netcfg data import'",
            Location(str(path)),
        )
    if not path.is_file():
        problem = "no such file or directory"
        if path.exists():  # a device, a pipe or a socket: reading it may never end
            problem = "not a regular file; give a data file, a dataset or a split folder"
        raise DataError(problem, Location(str(path)))
    return import_file(path, None, _format(source))


def _format(source: DataSourceSpec) -> DataFormat:
    if source.Fold is not None:
        return DataFormat.movielens_100k
    return DataFormat.auto if source.Format is DataFormat.netcfg else source.Format


def _prepare(matrix: Interactions, source: DataSourceSpec, path: Path, key: str) -> Interactions:
    """Binarize or transform the values of ``matrix`` (read from ``path``), then drop rare
    users and items; ``key`` (``Data.<name>``) names the settings in messages."""
    where = Location(str(path))
    if source.Binarize is not None:
        matrix = transforms.binarize(matrix, source.Binarize, location=where, key=f"{key}.Binarize")
    if source.Transform is TransformName.log1p:
        matrix = transforms.log1p(matrix, location=where, key=f"{key}.Transform")
    return transforms.min_counts(
        matrix, rows=source.MinUserInteractions, columns=source.MinItemInteractions
    )


def _prepare_unseen(entries: UnseenEntries, source: DataSourceSpec) -> UnseenEntries:
    """The values of a given file's unseen entries, binarized or transformed as its part's
    (a part without values was refused by `_prepare` already)."""
    if entries.values is None:
        return entries
    if source.Binarize is not None:
        entries = entries.entries(entries.values >= source.Binarize)
        entries = replace(entries, values=None)
    if source.Transform is TransformName.log1p and entries.values is not None:
        entries = replace(entries, values=np.log1p(entries.values).astype(np.float32))
    return entries


def _fold_files(source: DataSourceSpec) -> tuple[Path, Path]:
    from netcfg.data.fetch import fold_files

    return fold_files(source.Fold)


def _evaluation_files(source: DataSourceSpec) -> dict[str, Path]:
    """The given evaluation files by part name: ``Validation``/``Test``, or the fold's test."""
    if source.Fold is not None:
        return {"test": _fold_files(source)[1]}
    return {
        name: Path(path)
        for name, path in (("validation", source.Validation), ("test", source.Test))
        if path
    }


def _split(matrix: Interactions, source: DataSourceSpec, path: Path, key: str) -> SplitSet:
    given = _evaluation_files(source)
    if given:
        files = {part: read_interactions(file, _format(source)) for part, file in given.items()}
        split = splits.split_files(matrix, files)
        origin = {"train": path, **given}
        split.parts = {
            part: _prepare(entries, source, origin[part], key)
            for part, entries in split.parts.items()
        }
        split.meta["counts"] = {part: entries.nnz for part, entries in split.parts.items()}
        split.unseen = {part: _prepare_unseen(e, source) for part, e in split.unseen.items()}
        return split
    matrix = _prepare(matrix, source, path, key)
    protocol = source.Protocol
    if protocol is None:
        return SplitSet({"train": matrix}, {"protocol": "none"})
    if isinstance(protocol, RandomProtocolSpec):
        return splits.split_random(
            matrix, tuple(protocol.Fractions), seed=protocol.Seed, per_user=protocol.PerUser
        )
    if isinstance(protocol, TemporalProtocolSpec):
        return splits.split_temporal(
            matrix,
            cut_fraction=protocol.CutFraction,
            validation_fraction=protocol.ValidationFraction,
            seed=protocol.Seed,
        )
    if isinstance(protocol, LeaveLastOutProtocolSpec):
        return splits.split_leave_last_out(matrix, validation=protocol.Validation)
    if isinstance(protocol, HeldoutUsersProtocolSpec):
        return splits.split_heldout_users(
            matrix, protocol.Heldout, fold_in=protocol.FoldIn, seed=protocol.Seed
        )
    return splits.split_user_temporal(
        matrix,
        train_fraction=protocol.TrainFraction,
        validation_fraction=protocol.ValidationFraction,
        seed=protocol.Seed,
    )
