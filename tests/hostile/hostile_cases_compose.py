"""Hostile configs built of other files: ``Extends`` (loops, missing or broken bases),
``Search`` sections and ``--space`` files, and ensembles whose members are missing or
wrong."""

from __future__ import annotations

import json

from hostile_cases_config import config, validate
from hostile_corpus import Case, case


def extends(id: str, base: object, message: str, **files: str | bytes) -> Case:
    """``netcfg validate c.json``, the network extending ``base``, beside ``files``."""
    text = config({"Extends": base})
    return case(id, "validate c.json", 2, message, files={"c.json": text, **files})


def search(id: str, space: object, message: str) -> Case:
    """``netcfg validate`` of the network with ``space`` as its Search section."""
    return validate(id, config({"Search": space}), 2, f"c.json:1: {message}")


def ensemble(id: str, members: list, message: str, command: str = "validate", **keys) -> Case:
    """``netcfg COMMAND e.json``: an ensemble of ``members`` (and ``keys``); ``m.json`` is a
    valid network."""
    text = json.dumps({"Kind": "Ensemble", "Members": members, **keys})
    return case(id, f"{command} e.json", 2, message, files={"e.json": text, "m.json": config()})


A = {"Name": "a", "Network": "m.json"}
B = {"Name": "b", "Network": "m.json"}
LAYER_N = "Search.Layers.H.N"
TWO = "e.json:1: Members: must hold at least 2 items (got 1)"

EXTENDS = [
    extends(
        "extends-itself", "c.json", "c.json:1: Extends: Extends forms a cycle: c.json -> c.json"
    ),
    case(
        "extends-three-file-cycle",
        "render a.json",
        2,
        "c.json:1: Extends: Extends forms a cycle: a.json -> b.json -> c.json -> a.json",
        files={
            n: json.dumps({"Extends": e})
            for n, e in [("a.json", "b.json"), ("b.json", "c.json"), ("c.json", "a.json")]
        },
    ),
    extends("extends-number", 5, "c.json:1: Extends: must be a file path or 'zoo:NAME'"),
    extends("extends-list", ["b.json"], "c.json:1: Extends: must be a file path or 'zoo:NAME'"),
    extends(
        "extends-zoo-typo",
        "zoo:quickstrat",
        "c.json:1: Extends: cannot extend "
        "'zoo:quickstrat': no zoo entry 'quickstrat'; did you mean 'quickstart'?",
    ),
    extends("extends-zoo-escape", "zoo:../etc", "cannot extend 'zoo:../etc': invalid zoo name"),
    extends(
        "extends-folder",
        "adir",
        "c.json:1: Extends: cannot extend 'adir': directory holds no config file",
        **{"adir/x": ""},
    ),
    extends(
        "extends-empty-path",
        "",
        "c.json:1: Extends: cannot extend '': directory holds no config file",
    ),
    extends(
        "extends-base-broken",
        "b.json",
        "b.json:3:1: invalid JSON: Expecting value",
        **{"b.json": '{\n  "Layers": [\n}'},
    ),
    extends(
        "extends-base-key-typo",
        "b.json",
        "b.json:2: Trainig: unknown key 'Trainig'; did you mean 'Training'?",
        **{"b.json": '{\n"Trainig": {}\n}'},
    ),
    extends(
        "extends-base-yaml-tab",
        "b.yaml",
        "b.yaml:2:1: invalid YAML: found character '\\t'",
        **{"b.yaml": "Layers:\n\t- x\n"},
    ),
    extends(
        "extends-base-binary",
        "b.json",
        "b.json: not UTF-8 text (byte 0)",
        **{"b.json": b"\xff\xfe\x00"},
    ),
    extends(
        "extends-base-list",
        "b.json",
        "b.json:1: the config must be an object at the top level, not an array",
        **{"b.json": "[]"},
    ),
    extends("extends-etc-passwd", "/etc/passwd", "/etc/passwd:1:1: invalid JSON: Expecting value"),
    extends(
        "extends-base-missing-its-base",
        "b.json",
        "b.json:1: Extends: cannot extend 'nope.json': no such config file",
        **{"b.json": '{"Extends": "nope.json"}'},
    ),
    extends("extends-dev-null", "/dev/null", "cannot extend '/dev/null': not a regular file"),
]

SEARCH = [
    search(
        "search-unknown-layer",
        {"Layers.Nope.N": [1, 2]},
        "Search.Layers.Nope.N: no layer named 'Nope'; layers are In, H, Out",
    ),
    search(
        "search-low-above-high",
        {"Layers.H.N": {"Type": "Int", "Low": 10, "High": 2}},
        f"{LAYER_N}: Low (10) must be below High (2)",
    ),
    search(
        "search-log-from-zero",
        {"Training.Optimizer.LearningRate": {"Type": "Float", "Low": 0, "High": 1, "Log": True}},
        "Search.Training.Optimizer.LearningRate: Log needs Low > 0 (got 0)",
    ),
    search(
        "search-type-typo",
        {"Layers.H.N": {"Type": "Integer", "Low": 1, "High": 2}},
        f"{LAYER_N}.Type: unknown Search Type 'Integer'; did you mean 'Int'?",
    ),
    search(
        "search-no-choices",
        {"Layers.H.N": []},
        f"{LAYER_N}.Choices: Choices must hold at least one value",
    ),
    search(
        "search-bad-choice",
        {"Layers.H.N": [4, "x"]},
        f'{LAYER_N}: choice "x" is not a valid value: must be a positive integer',
    ),
    search(
        "search-step-zero",
        {"Layers.H.N": {"Type": "Int", "Low": 1, "High": 8, "Step": 0}},
        f"{LAYER_N}.Step: must be greater than or equal to 1 (got 0)",
    ),
    search(
        "search-data-path",
        {"Data.r.Path": ["a.tsv", "b.tsv"]},
        "Search.Data.r.Path: the data source cannot be searched",
    ),
    search("search-scalar", {"Layers.H.N": 5}, f"{LAYER_N}: must be an object (got 5)"),
    search("search-list", [1], "Search: must be an object (got [1])"),
    search(
        "search-high-out-of-bounds",
        {"Layers.H.pDropout": {"Type": "Float", "Low": 0.5, "High": 1.5}},
        "Search.Layers.H.pDropout: High 1.5 is not a valid value: must be less than 1 (got 1.5)",
    ),
    search("search-empty-path", {"": [1]}, "Search.: expected a dotted path as --set takes it"),
    search(
        "search-missing-high",
        {"Layers.H.N": {"Type": "Int", "Low": 1}},
        f"{LAYER_N}.High: missing required key 'High'",
    ),
    search(
        "search-key-typo",
        {"Training.Optimiser.LearningRate": [0.1]},
        "Search.Training."
        "Optimiser.LearningRate: unknown key 'Optimiser'; did you mean 'Optimizer'?",
    ),
]

SPACE = "validate c.json --space s.yaml"
SPACE_FILES = [
    case(
        "space-missing",
        "validate c.json --space nope.yaml",
        2,
        "nope.yaml: no such config file",
        files={"c.json": config()},
    ),
    case(
        "space-broken-yaml",
        SPACE,
        2,
        "s.yaml:2:1: invalid YAML",
        files={"c.json": config(), "s.yaml": "a: [\n"},
    ),
    case(
        "space-search-and-more",
        SPACE,
        2,
        "s.yaml:1: a space file holds a Search key alone, or only paths",
        files={"c.json": config(), "s.yaml": "Search: {}\nOther: 1\n"},
    ),
    case(
        "space-folder",
        "validate c.json --space adir",
        2,
        "adir: directory holds no config file",
        files={"c.json": config(), "adir/x": ""},
    ),
    case(
        "space-list",
        SPACE,
        2,
        "s.yaml:1: the config must be an object at the top level, not an array",
        files={"c.json": config(), "s.yaml": "- 1\n"},
    ),
    case(
        "space-unknown-layer",
        SPACE,
        2,
        "s.yaml:1: Search.Layers.Nope.N: no layer named 'Nope'",
        files={"c.json": config(), "s.yaml": "Layers.Nope.N: [1]\n"},
    ),
]

ENSEMBLES = [
    ensemble("ensemble-no-members", [], "e.json:1: Members: must hold at least 2 items (got 0)"),
    ensemble("ensemble-one-member", [A], TWO),
    ensemble(
        "ensemble-member-missing",
        [A, {**B, "Network": "nope.json"}],
        "nope.json: Members[1].Network: no such config file",
    ),
    ensemble(
        "ensemble-weight-negative",
        [{**A, "Weight": -1}, B],
        "e.json:1: Members[0].Weight: must be greater than 0 (got -1)",
    ),
    ensemble(
        "ensemble-member-set-unknown-layer",
        [{**A, "Set": ["Layers.X.N=1"]}, B],
        "--set Layers.X.N=1: Members[0].Network.Layers: no layer named 'X'",
    ),
    ensemble(
        "ensemble-member-is-ensemble",
        [A, {**B, "Network": "e.json"}],
        "Members[1].Network: '",
        command="render",
    ),
    ensemble(
        "ensemble-ranking-metric",
        [A, B],
        "e.json:1: Evaluation.Metrics[0]: must be 'RMSE' or 'MAE' (got \"NDCG\")",
        Evaluation={"Metrics": ["NDCG"]},
    ),
    ensemble(
        "ensemble-same-names", [A, A], "e.json:1: Members: member names must differ: a repeated"
    ),
    ensemble(
        "ensemble-member-string",
        ["m.json", B],
        'e.json:1: Members[0]: must be an object (got "m.json")',
    ),
    ensemble(
        "ensemble-search-layers",
        [A, B],
        "e.json:1: Search.Layers.H.N: an ensemble's search covers member weights",
        Search={"Layers.H.N": [1, 2]},
    ),
    ensemble(
        "ensemble-member-key-typo",
        [{**A, "Wieght": 1}, B],
        "e.json:1: Members[0].Wieght: unknown key 'Wieght'; did you mean 'Weight'?",
    ),
    ensemble(
        "ensemble-train-member-missing",
        [A, {**B, "Network": "nope.json"}],
        "nope.json: Members[1].Network: no such config file",
        command="train",
    ),
]

CASES = [*EXTENDS, *SEARCH, *SPACE_FILES, *ENSEMBLES]
