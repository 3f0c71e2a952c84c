"""Hostile command lines of ``netcfg validate``, ``render`` and ``train``: ``--set`` values
and paths, ``--data`` bindings, run directories and ``--save-as`` names. No case trains more
than one epoch of the world's ratings."""

from __future__ import annotations

from hostile_cases_config import config
from hostile_corpus import Case, case

NETWORK = {"c.json": config()}
AUTO = {"c.json": config(auto=True)}
TRAIN = "train c.json --data {train} --out run --no-progress"
DOTTED = "expected KEY=VALUE with a dotted KEY, e.g. Layers.Hidden.N=256"
LAUGHS = (
    "[&a [x,x,x,x,x,x,x,x,x,x], "
    + ", ".join(
        f"&{b} [" + ",".join([f"*{a}"] * 10) + "]" for a, b in zip("abcd", "bcde", strict=True)
    )
    + ", ["
    + ",".join(["*e"] * 10)
    + "]]"
)
"""A --set value of five levels of ten aliases each (10**6 values)."""


def set_value(id: str, text: str, message: str, command: str = "validate") -> Case:
    """``netcfg COMMAND c.json --set TEXT`` (the network of fixed widths): exit 2."""
    return case(id, [command, "c.json", "--set", text], 2, message, files=NETWORK)


SET = [
    set_value("set-empty-key", "=5", f"--set =5: {DOTTED}"),
    set_value("set-empty-segment", "Training..Epochs=3", f"--set Training..Epochs=3: {DOTTED}"),
    set_value(
        "set-empty-value",
        "Training.Epochs=",
        '--set Training.Epochs=: Training.Epochs: must be a valid integer (got "")',
    ),
    set_value(
        "set-unclosed-list",
        "Layers.H.N=[1,2",
        "--set Layers.H.N=[1,2: Layers[1].N: must "
        'be a positive integer, a list of 1 to 4 positive integers, or "auto" (got "[1,2")',
    ),
    set_value(
        "set-index-out-of-range",
        "Layers.5.N=3",
        "--set Layers.5.N=3: Layers: index 5 is out of range (3 items)",
    ),
    set_value(
        "set-negative-index-out-of-range",
        "Layers.-9.N=3",
        "--set Layers.-9.N=3: Layers: index -9 is out of range (3 items)",
    ),
    set_value(
        "set-1e999",
        "Training.Epochs=1e999",
        "--set Training.Epochs=1e999: Training.Epochs: must be a valid integer (got Infinity)",
    ),
    set_value(
        "set-5000-digits",
        "Layers.H.N=" + "9" * 5000,
        ": a number of 5,000 digits; the limit is 4,300 digits",
    ),
    set_value(
        "set-section-to-number",
        "Training=5",
        "--set Training=5: Training: must be an object (got 5)",
    ),
    set_value(
        "set-below-a-number",
        "Training.Epochs.Foo=1",
        "--set Training.Epochs.Foo=1: "
        "Training.Epochs: 'Foo' cannot be set: this value is not an object",
    ),
    set_value(
        "set-unbound-dataset",
        "Data.nope.Path=x.tsv",
        "--set Data.nope.Path=x.tsv: "
        "Data.nope: 'nope' is not the DataSet of any layer; DataSets are r",
    ),
    set_value(
        "set-extends",
        "Extends=other.json",
        "--set Extends=other.json: Extends: cannot be "
        "set with --set: the base config is merged as the file is read",
    ),
    set_value(
        "set-unicode-key",
        "Träining.Epochs=1",
        "--set Träining.Epochs=1: Träining: unknown key 'Träining'; did you mean 'Training'?",
    ),
    set_value("set-undefined-alias", "Layers.H.N=*alias", '(got "*alias")'),
    set_value(
        "set-python-tag",
        "Training.Epochs=!!python/object/apply:os.system [ls]",
        'Training.Epochs: must be a valid integer (got "!!python/object/apply:os.system',
    ),
    set_value(
        "set-alias-bomb",
        f"Name={LAUGHS}",
        "the YAML expands to more than 100,000 values through its aliases",
    ),
    set_value(
        "set-search-entry",
        "Search.Layers.H.N=5",
        "--set Search.Layers.H.N=5: "
        "Search.Layers.H: unknown key 'H'; expected one of Type, Low, High, Step, Log",
    ),
    set_value(
        "set-layer-name-unknown",
        "Layers.first.N=3",
        "--set Layers.first.N=3: Layers: no layer named 'first'; layers are In, H, Out",
    ),
    set_value(
        "set-render-typo",
        "Training.Optimizer.Type=Adma",
        "--set Training.Optimizer.Type="
        "Adma: Training.Optimizer.Type: unknown Optimizer Type 'Adma'",
        command="render",
    ),
    set_value(
        "set-train-batch-negative",
        "Training.BatchSize=-1",
        "--set Training.BatchSize=-1: "
        "Training.BatchSize: must be greater than or equal to 1 (got -1)",
        command="train",
    ),
]

DATA = [
    case(
        "data-empty-name",
        "validate c.json --data =x.tsv",
        2,
        "--data =x.tsv: no layer uses DataSet '' (DataSets: r)",
        files=AUTO,
    ),
    case(
        "data-unknown-name",
        "validate c.json --data nope=x.tsv",
        2,
        "--data nope=x.tsv: no layer uses DataSet 'nope' (DataSets: r)",
        files=AUTO,
    ),
    case(
        "data-missing-file",
        "validate c.json --data nope.tsv",
        2,
        "nope.tsv: no such file",
        files=AUTO,
    ),
    case(
        "data-plain-folder",
        TRAIN.replace("{train}", "adir"),
        2,
        "/adir: a folder that is neither a netcfg dataset nor a split (no meta.json)",
        files={**AUTO, "adir/x": ""},
    ),
    case(
        "data-binary-file",
        TRAIN.replace("{train}", "b.tsv"),
        2,
        "b.tsv:1: not a text file of interactions",
        files={**AUTO, "b.tsv": b"\x00\xff"},
    ),
    case(
        "data-widths-disagree",
        "validate c.json --data {train}",
        2,
        "Layers[0].N: layer 'In': N is 10 but DataSet 'r' has width 20",
        files=NETWORK,
    ),
]

RUNS = [
    case(
        "train-out-is-a-file",
        TRAIN.replace("run", "f.txt"),
        2,
        "--out f.txt: cannot create the run directory: a file of that name is in the way",
        files={**AUTO, "f.txt": "x"},
    ),
    case(
        "train-out-under-a-file",
        TRAIN.replace("run", "f.txt/run"),
        2,
        "--out f.txt/run: cannot create the run directory: a part of the path is a file",
        files={**AUTO, "f.txt": "x"},
    ),
    case(
        "train-out-name-too-long",
        TRAIN.replace("run", "y" * 300),
        2,
        "cannot create the run directory: File name too long: give a shorter path",
        files=AUTO,
    ),
    case(
        "out-foreign-folder",
        TRAIN.replace("run", "home"),
        2,
        "run directory home already exists; resume it with --resume",
        files={**AUTO, "home/notes.txt": "mine"},
    ),
    case(
        "resume-nothing", f"{TRAIN} --resume", 2, "run: no such run directory to resume", files=AUTO
    ),
    case(
        "resume-a-file",
        f"{TRAIN.replace('run', 'f.txt')} --resume",
        2,
        "f.txt: no such run directory to resume",
        files={**AUTO, "f.txt": "x"},
    ),
    case(
        "resume-without-out",
        "train c.json --data {train} --resume",
        2,
        "resuming needs the run directory: give --out RUN_DIR",
        files=AUTO,
    ),
    case("save-as-dotdot", f"{TRAIN} --save-as ../x", 2, "invalid model name '../x'", files=AUTO),
    case(
        "save-as-empty", [*TRAIN.split(), "--save-as", ""], 2, "invalid model name ''", files=AUTO
    ),
    case("save-as-slash", f"{TRAIN} --save-as a/b", 2, "invalid model name 'a/b'", files=AUTO),
    case(
        "device-mps-missing",
        TRAIN,
        2,
        "Training.Device: device 'mps' is not available on this machine",
        files={"c.json": config({"Training.Device": "mps"}, auto=True)},
    ),
    case(
        "evaluation-k-10-to-20",
        TRAIN,
        0,
        "run saved in run",
        files={"c.json": config({"Evaluation.Metrics": ["NDCG@100000000000000000000"]}, auto=True)},
    ),
]

CASES = [*SET, *DATA, *RUNS]
