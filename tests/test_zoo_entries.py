"""Every shipped zoo entry validates, compiles, and trains on its smoke override."""

from __future__ import annotations

import json

import pytest
import torch

from netcfg.config.load import load_config
from netcfg.networks.compile import compile_network
from netcfg.trainers.train import train
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
        "mult-dae-ml100k",
        "quickstart",
        "two-tower-ml100k",
    }
    assert expected <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_entry_validates_and_compiles_on_meta(name):
    spec = load_config(f"zoo:{name}")
    datasets = {layer.DataSet for layer in spec.Layers if getattr(layer, "DataSet", None)}
    with torch.device("meta"):
        network = compile_network(spec, {d: WIDTHS[d] for d in datasets})
    assert sum(p.numel() for p in network.parameters()) > 0
    assert zoo_card(name).metric  # the card names its headline metric


@pytest.mark.parametrize("name", NAMES)
def test_smoke_override_trains_one_step(name, tmp_path, monkeypatch):
    monkeypatch.setenv("NETCFG_DATA", str(tmp_path / "cache"))
    overrides = [*zoo_smoke(name), "Training.Epochs=1", "Training.BatchSize=4096"]
    spec = load_config(f"zoo:{name}", overrides)
    assert all(source.Synthetic is not None for source in spec.Data.values())
    result = train(f"zoo:{name}", overrides, out=tmp_path / "run", progress=False)
    assert result.epochs == 1
    records = [
        json.loads(line)
        for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
        if line.strip()
    ]
    epoch = next(r for r in records if r.get("epoch") == 1)
    assert epoch["step"] == 1  # one batch holds the whole tiny dataset
    assert 0 < epoch["train_loss"] < 1e6
