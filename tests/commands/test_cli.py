"""The command line: validate, render and schema, exit codes and error output."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from helpers import EXAMPLES

from netcfg import load_config
from netcfg.cli import main
from netcfg.config.schema import config_json_schema

MOVIELENS = str(EXAMPLES / "dsstne" / "movielens.json")


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_compiles_with_data_widths(capsys, ml100k):
    code, out, err = run(capsys, "validate", MOVIELENS, "--data", str(ml100k / "u.data"))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"{MOVIELENS}: valid (3 layers); compiled"
    assert lines[1].split() == ["Layer", "Kind", "Type", "Output", "shape", "Activation", "Params"]
    assert lines[2].split() == ["Input", "Input", "FullyConnected", "1682", "sparse", "-", "0"]
    assert lines[3].split() == ["Hidden", "Hidden", "FullyConnected", "128", "Sigmoid", "215,424"]
    assert len({len(line) for line in lines[1:5]}) == 1  # Params aligned right
    assert lines[-1] == f"Total parameters: {257 * 1682 + 128:,}"


def test_validate_with_named_data_and_item_orientation(capsys, ml100k, tmp_path):
    config = tmp_path / "item.json"
    data = json.loads(open(MOVIELENS).read())
    data["Data"] = {
        "gl_input": {"Path": str(ml100k / "u1.base"), "Orientation": "Item"},
        "gl_output": {"Path": str(ml100k / "u1.base"), "Orientation": "Item"},
    }
    config.write_text(json.dumps(data))
    code, out, _ = run(
        capsys,
        "validate",
        str(config),
        "--data",
        f"gl_input={ml100k / 'u1.base'}",
        "--data",
        f"gl_output={ml100k / 'u1.base'}",
    )
    assert code == 0 and f"Total parameters: {257 * 943 + 128:,}" in out


def test_validate_without_widths_stays_symbolic(capsys):
    code, out, err = run(capsys, "validate", MOVIELENS)
    assert (code, err) == (0, "")
    assert "not compiled: the width of DataSet 'gl_input', 'gl_output' is unknown" in out
    assert out.splitlines()[2].split() == ["Input", "Input", "FullyConnected", "auto", "-", "?"]


@pytest.mark.parametrize(
    "name, widths, total",
    [
        ("movielens.json", ("Input", "Output"), lambda n: (n * 128 + 128) + (128 * n + n)),
        (
            "config_2.json",
            ("Input", "Output"),
            lambda n: (n * 1024 + 1024) + (1024 * 1024 + 1024) + (1024 * n + n),
        ),
        ("config_3.json", ("Input",), lambda n: (n * 128 + 128) + (128 * n + n)),
    ],
)
@pytest.mark.parametrize("n", [1682, 27278])
def test_dsstne_samples_print_the_formula_total(capsys, name, widths, total, n):
    sets = [arg for layer in widths for arg in ("--set", f"Layers.{layer}.N={n}")]
    code, out, _ = run(capsys, "validate", str(EXAMPLES / "dsstne" / name), *sets)
    assert code == 0 and out.splitlines()[-1] == f"Total parameters: {total(n):,}"


def test_validate_with_widths_from_set(capsys):
    code, out, _ = run(
        capsys,
        "validate",
        MOVIELENS,
        "--set",
        "Layers.Input.N=1682",
        "--set",
        "Layers.Output.N=1682",
    )
    assert code == 0 and out.splitlines()[-1] == f"Total parameters: {257 * 1682 + 128:,}"


def test_errors_exit_2_without_traceback(capsys):
    code, out, err = run(capsys, "validate", MOVIELENS, "--set", "Layers.Hidden.Activation=Sigmod")
    assert (code, out) == (2, "")
    assert err == (
        "--set Layers.Hidden.Activation=Sigmod: Layers[1].Activation: unknown "
        "Activation 'Sigmod'; did you mean 'Sigmoid'?\n"
    )


def test_debug_shows_the_traceback(capsys):
    code, _, err = run(capsys, "validate", MOVIELENS, "--debug", "--set", "Layers.Hidden.N=0")
    assert code == 2 and "Traceback" in err and "ConfigError" in err


def test_data_errors(capsys, tmp_path):
    bad = tmp_path / "ratings.tsv"
    bad.write_text("1\t2\t5\n3\n")
    code, _, err = run(capsys, "validate", MOVIELENS, "--data", str(bad))
    assert code == 2 and err == f"{bad}:2: expected at least 3 fields, found 1: '3'\n"
    code, _, err = run(capsys, "validate", MOVIELENS, "--data", "nope=x.tsv")
    assert code == 2 and err == (
        "--data nope=x.tsv: no layer uses DataSet 'nope' (DataSets: gl_input, gl_output)\n"
    )


def test_internal_errors_are_reported_briefly(capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("netcfg.commands.validate.load_config", broken)
    code, _, err = run(capsys, "validate", MOVIELENS)
    assert code == 1
    assert err == (
        "netcfg: internal error: RuntimeError('boom') (run with --debug for the traceback)\n"
    )


def test_render_round_trips(capsys, tmp_path):
    code, out, _ = run(
        capsys,
        "render",
        str(EXAMPLES / "deeprec-netflix-full-tied.yaml"),
        "--set",
        "Layers.Code.N=256",
    )
    assert code == 0
    rendered = tmp_path / "rendered.json"
    rendered.write_text(out)
    spec = load_config(rendered)
    assert spec == load_config(EXAMPLES / "deeprec-netflix-full-tied.yaml", ["Layers.Code.N=256"])
    assert json.loads(out)["Layers"][3]["N"] == 256


def test_schema(capsys):
    code, out, _ = run(capsys, "schema")
    assert code == 0 and json.loads(out) == config_json_schema()


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["validate"])
    assert exit_info.value.code == 2
    assert "the following arguments are required: config" in capsys.readouterr().err


def test_console_entry_point_help():
    result = subprocess.run(
        [sys.executable, "-m", "netcfg", "validate", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "netcfg validate model.json --data" in result.stdout
    assert "exit status: 0 valid, 2 invalid" in result.stdout
