"""``netcfg render`` of ensembles, and ``netcfg validate`` widths from the config's Data.

Issue 12: render refused ensemble configs; validate ignored the widths its own ``Data``
entries give (files, dataset directories, cached fetches, synthetic specs).
"""

from __future__ import annotations

import json

import pytest
from helpers import write

from netcfg import load_config
from netcfg.cli import main
from netcfg.data.fetch import seed_cache
from netcfg.data.source import open_source
from netcfg.ensembles.load import ensemble_tree, load_ensemble
from netcfg.ensembles.spec import EnsembleSpec


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_render_an_ensemble(capsys, tmp_path):
    code, out, err = run(capsys, "render", "zoo:ensemble-ml100k", "--set", "Training.Epochs=2")
    assert (code, err) == (0, "")
    rendered = json.loads(out)
    assert list(rendered) == ["Ensemble", "Members"]
    ensemble = EnsembleSpec.model_validate(rendered["Ensemble"])
    loaded = load_ensemble(*ensemble_tree("zoo:ensemble-ml100k"), ["Training.Epochs=2"])
    assert ensemble == loaded.spec
    assert list(rendered["Members"]) == ["i-autorec", "i-deeprec", "u-deeprec"]
    for member in loaded.members:
        config = rendered["Members"][member.name]
        assert config["Training"]["Epochs"] == 2
        again = load_config(write(tmp_path, f"{member.name}.json", json.dumps(config)))
        assert again == member.spec
    orientations = [c["Data"]["ratings"]["Orientation"] for c in rendered["Members"].values()]
    assert orientations == ["Item", "Item", "User"]


def _tsv(path, users=7, items=5):
    rows = [
        f"{u}\t{i}\t{1 + (u + i) % 5}\t{u * 10 + i}" for u in range(users) for i in range(items)
    ]
    path.write_text("\n".join(rows) + "\n")
    return path


CONFIG = """
ErrorFunction: MaskedMSE
Layers:
  - {Name: Input, Kind: Input, N: auto, DataSet: ratings, Sparse: true}
  - {Name: Hidden, N: 3, Activation: Sigmoid}
  - {Name: Output, Kind: Output, N: auto, DataSet: ratings, Sparse: true}
"""


def _compiled_width(out: str) -> int:
    lines = out.splitlines()
    assert lines[0].endswith("; compiled"), out
    row = next(line.split() for line in lines if line.startswith("Input "))
    return int(row[3])


@pytest.mark.parametrize("orientation, width", [("User", 5), ("Item", 7)])
def test_validate_reads_widths_from_a_data_file(capsys, tmp_path, orientation, width):
    _tsv(tmp_path / "r.tsv")
    data = f"Data: {{ratings: {{Path: r.tsv, Orientation: {orientation}}}}}\n"
    config = write(tmp_path, "m.yaml", CONFIG + data)
    code, out, err = run(capsys, "validate", str(config))
    assert (code, err) == (0, "")
    assert _compiled_width(out) == width


def test_validate_reads_widths_from_a_dataset_directory(capsys, tmp_path):
    _tsv(tmp_path / "r.tsv", users=4, items=9)
    assert main(["data", "import", str(tmp_path / "r.tsv"), "-o", str(tmp_path / "ds")]) == 0
    config = write(tmp_path, "m.yaml", CONFIG + "Data: {ratings: ds}\n")
    capsys.readouterr()
    code, out, err = run(capsys, "validate", str(config))
    assert (code, err) == (0, "")
    assert _compiled_width(out) == 9


def test_validate_reads_widths_of_a_synthetic_spec_without_generating_it(
    capsys, tmp_path, monkeypatch
):
    monkeypatch.setenv("NETCFG_DATA", str(tmp_path / "cache"))
    synthetic = "{Synthetic: {Users: 30, Items: 11, Density: 0.2}, Protocol: random"
    configs = {}
    for orientation, width in (("User", 11), ("Item", 30)):
        data = f"Data: {{ratings: {synthetic}, Orientation: {orientation}}}}}\n"
        configs[width] = write(tmp_path, f"{orientation}.yaml", CONFIG + data)
        code, out, err = run(capsys, "validate", str(configs[width]))
        assert (code, err) == (0, "")
        assert _compiled_width(out) == width
    assert not (tmp_path / "cache").exists()
    for width, config in configs.items():  # the widths training will see
        assert open_source(load_config(config).Data["ratings"]).train.shape[1] == width


def test_validate_a_fetch_only_when_cached(capsys, tmp_path, monkeypatch, ml100k):
    monkeypatch.setenv("NETCFG_DATA", str(tmp_path / "cache"))
    code, out, _ = run(capsys, "validate", "zoo:deeprec-ml100k")
    assert code == 0
    assert "not compiled: the width of DataSet 'ratings' is unknown" in out.splitlines()[0]
    assert not (tmp_path / "cache").exists()
    seed_cache("movielens-100k", ml100k)
    code, out, _ = run(capsys, "validate", "zoo:deeprec-ml100k")
    assert code == 0
    expected = open_source(load_config("zoo:deeprec-ml100k").Data["ratings"]).train.shape[1]
    assert _compiled_width(out) == expected  # item rows: the users of u1.base


def test_validate_an_unreadable_data_file_keeps_the_config_valid(capsys, tmp_path):
    config = write(tmp_path, "m.yaml", CONFIG + "Data: {ratings: missing.tsv}\n")
    code, out, err = run(capsys, "validate", str(config))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert "not compiled: the width of DataSet 'ratings' is unknown" in lines[0]
    assert lines[1] == f"  DataSet 'ratings': {tmp_path / 'missing.tsv'}: no such file or directory"


@pytest.mark.parametrize("entry", ["cdae-ml100k", "mult-dae-ml100k", "ensemble-ml100k"])
def test_validate_a_cached_fetch_with_or_without_a_fold(
    capsys, tmp_path, monkeypatch, ml100k, entry
):
    """A cached Fetch with a Protocol instead of a Fold (the ranking entries) compiles too."""
    monkeypatch.setenv("NETCFG_DATA", str(tmp_path / "cache"))
    seed_cache("movielens-100k", ml100k)
    code, out, err = run(capsys, "validate", f"zoo:{entry}")
    assert (code, err) == (0, "")
    assert "not compiled" not in out
