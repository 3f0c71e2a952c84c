"""Values that are valid JSON or YAML but make no sense are reported (exit 2), never used.

Non-finite floats (``.inf``, ``Infinity``, ``1e400``, ``NaN``) in any float field, widths
whose weights would need terabytes, seeds torch cannot take: ``netcfg validate`` and
``netcfg train`` both stop with the key, the file line and a plain message.
"""

from __future__ import annotations

import json
import re

import pytest
from helpers import write

from netcfg import networks  # noqa: F401  (imports every spec class)
from netcfg.cli import main
from netcfg.spec_base import SpecBase

SYNTHETIC = {"x": {"Synthetic": {"Users": 20, "Items": 30, "Density": 0.2}}}


def config(hidden_n: int | str = 8, io_n: int | str = 30, **training) -> dict:
    """A small network on synthetic data; ``training`` goes into its Training section."""
    return {
        "Layers": [
            {"Name": "In", "Kind": "Input", "N": io_n, "DataSet": "x", "Sparse": True},
            {"Name": "H", "N": hidden_n},
            {"Name": "Out", "Kind": "Output", "N": io_n, "DataSet": "x"},
        ],
        "Training": {"Optimizer": {"Type": "SGD", "LearningRate": 0.1}, **training},
        "Data": SYNTHETIC,
    }


def run(capsys, command: str, path, *args: str, out=None) -> tuple[int, str]:
    """``netcfg COMMAND PATH ARGS`` in this process: the exit status and stderr."""
    extra = ["--out", str(out), "--no-progress"] if command == "train" else []
    status = main([command, str(path), *extra, *args])
    err = capsys.readouterr().err
    assert "internal error" not in err and "Traceback" not in err
    return status, err


COMMANDS = ["validate", "train"]

YAML_RATE = """\
Layers:
  - {Name: In, Kind: Input, N: 30, DataSet: x, Sparse: true}
  - {Name: Out, Kind: Output, N: 30, DataSet: x}
Training:
  Optimizer: {Type: SGD, LearningRate: RATE}
Data: {x: {Synthetic: {Users: 20, Items: 30, Density: 0.2}}}
"""


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    "spelling, shown",
    [
        (".inf", "Infinity"),
        ("-.inf", "-Infinity"),
        (".Inf", "Infinity"),
        (".nan", "NaN"),
        (".NaN", "NaN"),
        ("1e400", "Infinity"),
        ("-1.5e999", "-Infinity"),
    ],
)
def test_non_finite_rate_in_yaml(tmp_path, capsys, command, spelling, shown):
    path = write(tmp_path, "m.yaml", YAML_RATE.replace("RATE", spelling))
    status, err = run(capsys, command, path, out=tmp_path / "run")
    assert status == 2
    assert err == (
        f"{path}:5: Training.Optimizer.LearningRate: must be a finite number (got {shown})\n"
    )


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("spelling", ["1e400", "-1e400", "1E+999"])
def test_overflowing_rate_in_json(tmp_path, capsys, command, spelling):
    text = json.dumps(config(), indent=1).replace(
        '"LearningRate": 0.1', f'"LearningRate": {spelling}'
    )
    path = write(tmp_path, "m.json", text)
    status, err = run(capsys, command, path, out=tmp_path / "run")
    assert status == 2
    line = text[: text.index("LearningRate")].count("\n") + 1
    assert err.startswith(
        f"{path}:{line}: Training.Optimizer.LearningRate: must be a finite number"
    )


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("constant", ["Infinity", "-Infinity", "NaN"])
def test_json_constants_are_syntax_errors_with_their_place(tmp_path, capsys, command, constant):
    text = '{"Layers": [],\n "Training": {"Optimizer": {"LearningRate": CONST}}}'
    path = write(tmp_path, "m.json", text.replace("CONST", constant))
    status, err = run(capsys, command, path, out=tmp_path / "run")
    assert status == 2
    assert (
        err == f"{path}:2:45: invalid JSON: {constant} is not valid JSON (write a finite number)\n"
    )


@pytest.mark.parametrize("value", [".inf", "1e400", "Infinity", "NaN", "-.inf"])
@pytest.mark.parametrize(
    "key",
    [
        "Training.Optimizer.LearningRate",
        "Training.GradientClipNorm",
        "Training.DivergenceFactor",
        "Training.Schedule.WarmupEpochs",
        "Training.EarlyStopping.MinDelta",
        "Training.Validation.Fraction",
        "Layers.H.pDropout",
        "Layers.H.WeightInit.Scale",
        "Layers.H.WeightInit.Bias",
        "Layers.H.ActivationMax",
        "Layers.H.RELUSlope",
        "DeltaBoost.one",
        "Denoising.p",
        "SparsenessPenalty.beta",
    ],
)
def test_every_float_field_rejects_non_finite_values_from_set(tmp_path, capsys, key, value):
    path = write(tmp_path, "m.json", json.dumps(config()))
    status, err = run(capsys, "validate", path, "--set", f"{key}={value}")
    assert status == 2
    shown = "NaN" if value == "NaN" else ("-Infinity" if value.startswith("-") else "Infinity")
    assert f"--set {key}={value}: " in err
    assert f"must be a finite number (got {shown})" in err


def _spec_classes(cls: type) -> list[type]:
    return [cls, *(c for sub in cls.__subclasses__() for c in _spec_classes(sub))]


def test_no_spec_class_allows_non_finite_floats():
    classes = _spec_classes(SpecBase)
    assert len(classes) > 30
    allowing = [c.__name__ for c in classes if c.model_config.get("allow_inf_nan") is not False]
    assert allowing == []


@pytest.mark.parametrize("command", COMMANDS)
def test_a_width_whose_weights_need_terabytes(tmp_path, capsys, command):
    text = json.dumps(config(hidden_n=10**12), indent=1)
    path = write(tmp_path, "m.json", text)
    status, err = run(capsys, command, path, out=tmp_path / "run")
    assert status == 2
    hidden, output = [text[: m.start()].count("\n") + 1 for m in re.finditer('"N"', text)][1:]
    assert err.splitlines() == [
        f"{path}:{hidden}: Layers[1].N: layer 'H': N is 1000000000000 = 1,000,000,000,000 "
        "units, whose outputs alone need 4,000,000,000,000 bytes per example; the limit is "
        "2**31 units per layer",
        f"{path}:{output}: Layers[2].N: layer 'Out': its weights from 'H' (1,000,000,000,000 "
        "x 30 values) need 120,000,000,000,000 bytes (120,000.0 GB in float32); the limit is "
        "2**31 values (8.6 GB) per weight matrix",
    ]


def test_a_weight_matrix_past_the_limit(tmp_path, capsys):
    path = write(tmp_path, "m.json", json.dumps(config(hidden_n=100_000, io_n=[100, 1000])))
    status, err = run(capsys, "validate", path)
    assert status == 2
    assert "Layers[1].N: layer 'H': its weights from 'In' (100,000 x 100,000 values) need " in err
    assert "40,000,000,000 bytes (40.0 GB in float32)" in err


@pytest.mark.parametrize("command", COMMANDS)
def test_auto_widths_too_big_stop_compile(tmp_path, capsys, command):
    data = {"x": {"Synthetic": {"Users": 5, "Items": 100_000, "Density": 0.0001}}}
    path = write(tmp_path, "m.json", json.dumps({**config(100_000, "auto"), "Data": data}))
    status, err = run(capsys, command, path, out=tmp_path / "run")
    assert status == 2
    assert err.endswith(
        "Layers[1].N: layer 'H': its weights from 'In' (100,000 x 100,000 values) need "
        "40,000,000,000 bytes (40.0 GB in float32); the limit is 2**31 values (8.6 GB) per "
        "weight matrix\n"
    )


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    "training, message",
    [
        ({"Seed": 2**64}, "Training.Seed: must be less than or equal to 18446744073709551615"),
        ({"Seed": -1}, "Training.Seed: must be greater than or equal to 0 (got -1)"),
        (
            {"Validation": {"Seed": 2**70}},
            "Training.Validation.Seed: must be less than or equal to 18446744073709551615",
        ),
        ({"Threads": 10**12}, "Training.Threads: must be less than or equal to 1024"),
    ],
)
def test_seeds_and_threads_torch_cannot_take(tmp_path, capsys, command, training, message):
    path = write(tmp_path, "m.json", json.dumps(config(**training), indent=1))
    status, err = run(capsys, command, path, out=tmp_path / "run")
    assert status == 2
    assert err.startswith(f"{path}:") and message in err


@pytest.mark.parametrize(
    "training",
    [{"Seed": 2**64 - 1}, {"Seed": 0}, {"Epochs": 10**12}, {"BatchSize": 10**12}],
)
def test_large_but_harmless_values_validate(tmp_path, capsys, training):
    path = write(tmp_path, "m.json", json.dumps(config(**training)))
    status, err = run(capsys, "validate", path)
    assert (status, err) == (0, "")


@pytest.mark.parametrize(
    "name, text, where",
    [
        ("m.yaml", "Layers: [{N: " + "9" * 5000 + "}]\n", "1:14: invalid YAML: cannot read"),
        ("m.json", '{"Layers": [{"N": ' + "9" * 5000 + "}]}", "1:19: invalid JSON: a number"),
    ],
)
def test_integers_of_more_digits_than_python_reads(tmp_path, capsys, name, text, where):
    path = write(tmp_path, name, text)
    status, err = run(capsys, "validate", path)
    assert status == 2
    assert err.startswith(f"{path}:{where}") and "5,000 digits; the limit is 4,300" in err
