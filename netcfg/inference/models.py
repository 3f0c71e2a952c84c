"""Find a trained model: a run directory, or ``zoo:NAME`` in the user's zoo of trained models."""

from __future__ import annotations

from pathlib import Path

from netcfg.ensembles.rundir import MEMBERS, is_ensemble_run
from netcfg.errors import ModelError
from netcfg.folders import user_zoo_dir
from netcfg.spec_base import did_you_mean
from netcfg.trainers.rundir import LoadedModel, load_model
from netcfg.zoo import ZOO_PREFIX, is_zoo_name, zoo_name_problem

__all__ = ["open_model", "resolve_model", "training_interactions", "user_zoo_dir"]


def resolve_model(reference: str | Path) -> Path:
    """The run directory a model reference names.

    Raises:
        ModelError: no such run directory or trained zoo model, or a ``zoo:NAME`` whose
            name is not a zoo name (a path, ``..``): it never leaves the zoo.
    """
    text = str(reference)
    if is_zoo_name(text):
        name = text.removeprefix(ZOO_PREFIX)
        problem = zoo_name_problem(name)
        if problem is not None:
            raise ModelError(f"{text}: {problem}")
        folder = user_zoo_dir() / name
        if (folder / "run.json").is_file():
            return folder
        known = sorted(p.name for p in user_zoo_dir().glob("*") if (p / "run.json").is_file())
        hint = did_you_mean(name, known) or (
            f"; trained models: {', '.join(known)}" if known else ""
        )
        raise ModelError(
            f"no trained model '{name}' in the user zoo ({user_zoo_dir()}){hint}; "
            f"train one with: netcfg train zoo:{name} --out {folder}"
        )
    folder = Path(reference)
    if not (folder / "run.json").is_file():
        raise ModelError(
            f"{folder}: not a run directory (no run.json); give the --out folder "
            "of a netcfg train run, or zoo:NAME"
        )
    return folder


def open_model(reference: str | Path, which: str = "best") -> LoadedModel:
    """Load a trained model in eval mode from a run directory or ``zoo:NAME``.

    Raises:
        ModelError: no such model, or an ensemble (one network is needed: name a member).
    """
    folder = resolve_model(reference)
    if is_ensemble_run(folder):
        members = sorted(p.name for p in (folder / MEMBERS).iterdir() if p.is_dir())
        raise ModelError(
            f"{reference} is an ensemble ({', '.join(members)}); this command takes one "
            f"network: give a member's run directory, e.g. {folder / MEMBERS / members[0]}"
            if members
            else f"{reference} is an ensemble without members"
        )
    return load_model(folder, which)


def training_interactions(model: LoadedModel):
    """The user-major interactions the model was trained on (its input DataSet's training
    part, re-read from the model's ``Data`` entry): what ``predict`` and ``serve`` rank
    the known users from.

    Raises:
        DataError: the data cannot be opened.
    """
    from netcfg.data.source import open_source

    (dataset,) = model.network.inputs.values()
    train = open_source(model.spec.Data[dataset], name=dataset).train
    return train.transpose() if train.orientation == "item" else train
