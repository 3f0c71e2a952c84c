"""Data-parallel training on torchrun (gloo, 2 processes on this machine): the same model a
single process trains with the same global batch and seed."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import TINY
from safetensors.numpy import load_file

import netcfg

pytestmark = pytest.mark.slow

WORKER = Path(__file__).with_name("distributed_runs.py")

OPTIMIZERS = {
    "sgd": {"Type": "SGD", "LearningRate": 0.05},
    "adam": {"Type": "Adam", "LearningRate": 0.01},
    "lazy-adam": {"Type": "Adam", "LearningRate": 0.01, "Lazy": True},
}


def _config(optimizer: str, refeed: int, *, shard: bool = False) -> dict:
    """TINY with its input and output on their sparse paths: Compute Auto would choose per
    process's share (the data is about 10% dense, where Auto switches), and a dense
    gradient makes a lazy optimizer update every row. ``refeed`` -1: no re-feeding, on a
    catalogue of 3000 items, where each step's gradients hold few of the table's rows (so
    they are gathered, not all-reduced as whole tables)."""
    config = copy.deepcopy(TINY)
    if refeed < 0:
        config["Data"]["ratings"]["Synthetic"].update(Items=3000, Density=0.004)
        refeed = 0
    config["Training"].update(Optimizer=OPTIMIZERS[optimizer], RefeedSteps=refeed, Threads=1)
    if shard:
        config["Training"]["Distributed"] = {"Shard": "Auto"}
    for layer in config["Layers"]:
        if layer.get("Sparse"):
            layer["Compute"] = "Sparse"
    return config


def _output_only(config: dict) -> dict:
    """Only the Output's table split: the input projection is sliced per step, whole."""
    config["Training"]["Distributed"] = {"Shard": ["Output"]}
    return config


def _tied_with_baseline(config: dict) -> dict:
    """A tied decoder (one table read at the input and at the output) and a baseline (its
    column bias, a table too)."""
    config["Baseline"] = {}
    config["Layers"][2]["SharedWeights"] = {
        "SourceInputLayer": "Input",
        "SourceOutputLayer": "Hidden",
        "Transposed": True,
    }
    return config


def _implicit() -> dict:
    """Clicks, ranked: validation splits the users across the processes and adds up the
    ranking metrics' sums and covered items."""
    config = _config("adam", 0)
    config["ErrorFunction"] = "CrossEntropy"
    config["Layers"][2].update(Activation="Sigmoid", Compute="Auto")
    config["Data"]["ratings"]["Synthetic"]["Implicit"] = True
    config["Evaluation"] = {"Metrics": ["Recall", "NDCG", "Coverage"], "K": [5, 10]}
    return config


VARIANTS = {"output-only": _output_only, "tied-baseline": _tied_with_baseline}
"""Other networks split: the sharded config of each, from lazy Adam's without re-feeding."""


def torchrun(processes: int, jobs: list[dict], folder: Path) -> subprocess.CompletedProcess:
    """Run the jobs in ``processes`` data-parallel processes started by torchrun."""
    spec = folder / f"jobs-{len(list(folder.glob('jobs-*')))}.json"
    spec.write_text(json.dumps(jobs), encoding="utf-8")
    env = {**os.environ, "NETCFG_THREADS": "1", "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    command += ["--nproc-per-node", str(processes), str(WORKER), str(spec)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


def _epochs(run: Path) -> list[dict]:
    lines = (run / "metrics.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if "train_loss" in json.loads(line)]


def _weights(run: Path) -> dict[str, np.ndarray]:
    return load_file(run / "best" / "weights.safetensors")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Every optimizer, with and without re-feeding, trained by 2 processes (one torchrun
    launch) and by this process; without re-feeding, also by 2 processes that split the
    item tables."""
    folder = tmp_path_factory.mktemp("data-parallel")
    cases = [(o, r) for o in OPTIMIZERS for r in (-1, 0, 1)]
    jobs = [{"config": _config(o, r), "out": str(folder / f"two-{o}-{r}")} for o, r in cases]
    jobs += [
        {"config": _config(o, r, shard=True), "out": str(folder / f"sharded-{o}-{r}")}
        for o, r in cases
        if r < 1
    ]
    for name, variant in VARIANTS.items():
        config = variant(_config("lazy-adam", -1, shard=True))
        jobs.append({"config": config, "out": str(folder / f"sharded-{name}")})
    jobs.append({"config": _implicit(), "out": str(folder / "two-implicit")})
    done = torchrun(2, jobs, folder)
    assert done.returncode == 0, done.stderr[-3000:]
    netcfg.train(_implicit(), out=folder / "one-implicit")
    for optimizer, refeed in cases:
        netcfg.train(_config(optimizer, refeed), out=folder / f"one-{optimizer}-{refeed}")
    for name, variant in VARIANTS.items():
        config = variant(_config("lazy-adam", -1))
        config["Training"].pop("Distributed", None)
        netcfg.train(config, out=folder / f"one-{name}")
    return folder, done


@pytest.mark.parametrize("refeed", [-1, 0, 1])
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_two_processes_train_what_one_process_trains(trained, optimizer, refeed):
    folder, _ = trained
    _same_training(folder / f"two-{optimizer}-{refeed}", folder / f"one-{optimizer}-{refeed}")


@pytest.mark.parametrize("refeed", [-1, 0])
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_split_item_tables_train_what_one_process_trains(trained, optimizer, refeed):
    folder, _ = trained
    sharded = folder / f"sharded-{optimizer}-{refeed}"
    _same_training(sharded, folder / f"one-{optimizer}-{refeed}")
    # each rank held half of the rows of both tables, and of their optimizer state
    whole = netcfg.train(
        _config(optimizer, refeed, shard=True), out=folder / f"whole-{optimizer}-{refeed}"
    )
    (held,) = _epochs(whole.run_dir)[-1]["memory"]["tables"]
    for rank_held in _epochs(sharded)[-1]["memory"]["tables"]:
        assert rank_held == held / 2


def test_ranking_metrics_validated_by_two_processes_are_one_process_metrics(trained):
    folder, _ = trained
    two, one = _epochs(folder / "two-implicit"), _epochs(folder / "one-implicit")
    assert len(two) == len(one) == 4
    for mine, reference in zip(two, one, strict=True):
        assert set(mine["validation"]) == set(reference["validation"]) >= {"NDCG@10"}
        assert mine["validation"] == pytest.approx(reference["validation"], rel=1e-5)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_other_split_networks_train_what_one_process_trains(trained, variant):
    folder, _ = trained
    _same_training(folder / f"sharded-{variant}", folder / f"one-{variant}")


def _same_training(two: Path, one: Path, processes: int = 2) -> None:
    """The run of ``processes`` processes ``two`` trained as the one-process run ``one``."""
    two_epochs, one_epochs = _epochs(two), _epochs(one)
    assert len(two_epochs) == len(one_epochs) == 4  # 8 global batches each: 32 steps
    for mine, reference in zip(two_epochs, one_epochs, strict=True):
        assert mine["step"] == reference["step"]
        assert mine["train_loss"] == pytest.approx(reference["train_loss"], rel=1e-5)
        validation = reference["validation"]["RMSE"]
        assert mine["validation"]["RMSE"] == pytest.approx(validation, rel=1e-5)
    reference = _weights(one)
    for name, value in _weights(two).items():
        np.testing.assert_allclose(value, reference[name], rtol=1e-4, atol=1e-6)
    run = json.loads((two / "run.json").read_text())
    assert run["status"] == "completed" and run["world_size"] == processes
    assert run["test"]["RMSE"] == pytest.approx(
        json.loads((one / "run.json").read_text())["test"]["RMSE"], rel=1e-5
    )


def test_only_rank_0_reports(trained):
    _, done = trained
    assert done.stderr.count("data-parallel: 2 processes (gloo), global batch 32, 16 rows") == 18
    assert done.stderr.count("epoch 1/4") == 18  # rank 0's lines only
    note = "sharded across 2 processes: layers.Hidden.projections.0.weight (3,000 rows, 1,500 "
    assert done.stderr.count(note) == 4  # 3 optimizers and the tied decoder


def test_three_processes_split_uneven_tables_as_one_process_trains(tmp_path):
    """79 items on 3 processes: rows 27, 27 and 25, so the gathers pad the last share."""
    config = _config("lazy-adam", 0, shard=True)
    config["Data"]["ratings"]["Synthetic"]["Items"] = 79
    done = torchrun(3, [{"config": config, "out": str(tmp_path / "three")}], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "(79 rows, 27 per process)" in done.stderr
    config["Training"].pop("Distributed")
    netcfg.train(config, out=tmp_path / "one", quiet=True)
    _same_training(tmp_path / "three", tmp_path / "one", processes=3)
    held = _epochs(tmp_path / "three")[-1]["memory"]["tables"]
    assert held[0] == held[1] and held[2] == held[0] * 25 // 27
