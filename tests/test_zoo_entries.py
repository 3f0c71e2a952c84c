"""Every shipped zoo entry validates, compiles, and trains on its smoke override."""

from __future__ import annotations

import json

import pytest
import torch

from netcfg.config.load import load_config
from netcfg.ensembles.load import ensemble_tree, load_ensemble
from netcfg.experiments.run import train
from netcfg.networks.compile import compile_network
from netcfg.zoo import zoo_names
from netcfg.zoo_cards import zoo_card, zoo_smoke

NAMES = zoo_names()

# MovieLens 100K's shape, and what the two-tower entry's DataSets hold on it
WIDTHS = {"ratings": 1682, "user": 943, "item": 1682, "clicked": 1}


def test_the_zoo_ships_the_issue_entries():
    expected = {
        "autorec-i-ml100k",
        "autorec-u-ml100k",
        "cdae-ml100k",
        "deeprec-ml100k",
        "deeprec-netflix-1y",
        "deeprec-netflix-3m",
        "deeprec-netflix-6m",
        "deeprec-netflix-full",
        "dsstne-ml100k",
        "ensemble-ml100k",
        "mult-dae-ml100k",
        "quickstart",
        "two-tower-ml100k",
    }
    assert expected <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_entry_validates_and_compiles_on_meta(name):
    for spec in network_specs(f"zoo:{name}"):
        datasets = {layer.DataSet for layer in spec.Layers if getattr(layer, "DataSet", None)}
        with torch.device("meta"):
            network = compile_network(spec, {d: WIDTHS[d] for d in datasets})
        assert sum(p.numel() for p in network.parameters()) > 0
    assert zoo_card(name).metric  # the card names its headline metric


def network_specs(config: str, overrides: list[str] = ()) -> list:
    """The entry's network spec, or each member's for an ensemble."""
    found = ensemble_tree(config)
    if found is None:
        return [load_config(config, overrides)]
    return [member.spec for member in load_ensemble(*found, overrides).members]


@pytest.mark.parametrize("name", NAMES)
def test_smoke_override_trains_one_step(name, tmp_path, monkeypatch):
    monkeypatch.setenv("NETCFG_DATA", str(tmp_path / "cache"))
    overrides = [*zoo_smoke(name), "Training.Epochs=1", "Training.BatchSize=4096"]
    specs = network_specs(f"zoo:{name}", overrides)
    assert all(source.Synthetic is not None for spec in specs for source in spec.Data.values())
    result = train(f"zoo:{name}", overrides, out=tmp_path / "run", progress=False)
    runs = [tmp_path / "run" / "members" / m for m in result.members] or [tmp_path / "run"]
    assert len(runs) == len(specs)
    for run in runs:
        records = [
            json.loads(line)
            for line in (run / "metrics.jsonl").read_text().splitlines()
            if line.strip()
        ]
        epoch = next(r for r in records if r.get("epoch") == 1)
        assert epoch["step"] == 1  # one batch holds the whole tiny dataset
        assert 0 < epoch["train_loss"] < 1e6
        assert not any(r.get("epoch") == 2 for r in records)


PAIR_ENTRIES = {"two-tower-ml100k", "neumf-ml100k"}
"""Entries trained on one label per example: netcfg cannot hold a validation part out of
such data, so tuning them needs data that has one."""


@pytest.mark.parametrize("name", sorted(set(NAMES) - PAIR_ENTRIES))
def test_entry_carries_a_search_space_that_tunes(name, tmp_path, monkeypatch):
    """`netcfg tune zoo:NAME` works with no editing: two trials on the smoke data."""
    from optuna.trial import TrialState

    from netcfg.experiments.study import tune

    monkeypatch.setenv("NETCFG_DATA", str(tmp_path / "cache"))
    overrides = [*zoo_smoke(name), "Training.Epochs=2", "Training.BatchSize=4096"]
    found = ensemble_tree(f"zoo:{name}")
    spec = load_ensemble(*found).spec if found else load_config(f"zoo:{name}")
    assert len(spec.Search) >= 3
    study = tune(f"zoo:{name}", overrides, trials=2, out=tmp_path / "study", echo=None)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 2
    assert set(study.best_trial.params) == set(spec.Search)
    assert (tmp_path / "study" / "best.json").is_file()


@pytest.mark.parametrize("name", sorted(PAIR_ENTRIES))
def test_a_pair_entry_without_validation_data_says_what_tuning_needs(name, tmp_path, monkeypatch):
    from netcfg.errors import ConfigError
    from netcfg.experiments.study import tune

    monkeypatch.setenv("NETCFG_DATA", str(tmp_path / "cache"))
    assert len(load_config(f"zoo:{name}", zoo_smoke(name)).Search) >= 3
    with pytest.raises(ConfigError, match="and this data has none: give it one"):
        tune(f"zoo:{name}", zoo_smoke(name), trials=1, out=tmp_path / "s", echo=None)
