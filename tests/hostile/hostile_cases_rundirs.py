"""Damaged or crafted run directories: JSON files, weights, id files."""

from __future__ import annotations

import math

from hostile_corpus import (
    append,
    case,
    edit_json,
    remove,
    set_key,
    truncate,
    weights,
)

RUN = {"r": "User"}
IDS = "r/ids/ratings"


def _nan(state: dict) -> None:
    state[sorted(state)[0]].view(-1)[0] = math.nan


def _inf(state: dict) -> None:
    state[sorted(state)[-1]].view(-1)[-1] = math.inf


def _reshape(state: dict) -> None:
    name = sorted(state)[0]
    state[name] = state[name].reshape(-1)[:3].clone()


def _run(key: str, value) -> object:
    return edit_json("r/run.json", lambda data: set_key(data, key, value))


RUN_DIRECTORIES = [
    case(
        "run-json-broken",
        "predict r --top-k 2",
        2,
        "r/run.json:1:",
        copy=RUN,
        files={"r/run.json": "{bad"},
    ),
    case(
        "run-json-list",
        "predict r --top-k 2",
        2,
        "run.json: damaged: expected a JSON object",
        copy=RUN,
        files={"r/run.json": "[]"},
    ),
    case(
        "run-json-not-utf8",
        "evaluate r",
        2,
        "run.json: damaged: not UTF-8",
        copy=RUN,
        files={"r/run.json": b"\xff\xfe{}"},
    ),
    case(
        "run-json-no-widths",
        "predict r --top-k 2",
        2,
        "'widths' must map",
        copy=RUN,
        edits=edit_json("r/run.json", lambda data: data.pop("widths")),
    ),
    case(
        "run-json-negative-width",
        "predict r --top-k 2",
        2,
        "'widths' must map",
        copy=RUN,
        edits=_run("widths.ratings", -4),
    ),
    case(
        "run-json-orientation",
        "predict r --top-k 2",
        2,
        "needs 'orientation'",
        copy=RUN,
        edits=_run("datasets.ratings.orientation", "sideways"),
    ),
    case(
        "run-json-numeric-ids",
        "export r --format torchscript -o m.pt",
        2,
        "'numeric_ids'",
        copy=RUN,
        edits=_run("datasets.ratings.numeric_ids", "yes"),
    ),
    case(
        "run-json-width-mismatch",
        "predict r --top-k 2",
        2,
        "do not fit this network",
        copy=RUN,
        edits=_run("widths.ratings", 7),
    ),
    case(
        "config-json-broken",
        "predict r --top-k 2",
        2,
        "r/config.json:1:",
        copy=RUN,
        files={"r/config.json": "{"},
    ),
    case(
        "config-json-invalid",
        "evaluate r",
        2,
        "config.json",
        copy=RUN,
        files={"r/config.json": '{"Layers": 3}'},
    ),
    case(
        "config-json-missing",
        "predict r --top-k 2",
        2,
        "not a netcfg run directory (no config",
        copy=RUN,
        edits=remove("r/config.json"),
    ),
    case(
        "weights-truncated",
        "predict r --top-k 2",
        2,
        "not a safetensors file",
        copy=RUN,
        edits=truncate("r/best/weights.safetensors", 100),
    ),
    case(
        "weights-empty",
        "evaluate r",
        2,
        "not a safetensors file",
        copy=RUN,
        edits=truncate("r/best/weights.safetensors", 0),
    ),
    case(
        "weights-garbage",
        "export r --format torchscript -o m.pt",
        2,
        "not a safetensors",
        copy=RUN,
        files={"r/best/weights.safetensors": b"\xff" * 64},
    ),
    case(
        "weights-missing",
        "predict r --top-k 2",
        2,
        "no best weights in this run",
        copy=RUN,
        edits=remove("r/best/weights.safetensors"),
    ),
    case(
        "weights-nan-predict",
        "predict r --top-k 2",
        2,
        "has NaN or infinite values",
        copy=RUN,
        edits=weights("r", _nan),
    ),
    case(
        "weights-nan-evaluate",
        "evaluate r",
        2,
        "has NaN or infinite values",
        copy=RUN,
        edits=weights("r", _nan),
    ),
    case(
        "weights-nan-export",
        "export r --format torchscript -o m.pt",
        2,
        "NaN or infinite",
        copy=RUN,
        edits=weights("r", _nan),
    ),
    case(
        "weights-inf",
        "predict r --top-k 2",
        2,
        "has NaN or infinite values",
        copy=RUN,
        edits=weights("r", _inf),
    ),
    case(
        "weights-wrong-shape",
        "predict r --top-k 2",
        2,
        "do not fit this network",
        copy=RUN,
        edits=weights("r", _reshape),
    ),
    case(
        "columns-truncated",
        "predict r --top-k 2",
        2,
        "columns.txt: 5 ids, but the model",
        copy=RUN,
        edits=truncate(f"{IDS}/columns.txt", 25),
    ),
    case(
        "columns-duplicate",
        "predict r --top-k 2",
        2,
        "columns.txt:21: id '1000' is given twice",
        copy=RUN,
        edits=append(f"{IDS}/columns.txt", "1000\n"),
    ),
    case(
        "rows-not-numbers",
        "evaluate r",
        2,
        "rows.txt:41: id 'abc' is not a 64-bit integer",
        copy=RUN,
        edits=append(f"{IDS}/rows.txt", "abc\n"),
    ),
    case(
        "rows-empty-line",
        "predict r --top-k 2",
        2,
        "rows.txt:41: an empty id",
        copy=RUN,
        edits=append(f"{IDS}/rows.txt", "\n\n"),
    ),
    case(
        "columns-missing",
        "predict r --top-k 2",
        2,
        "columns.txt: the id file is missing",
        copy=RUN,
        edits=remove(f"{IDS}/columns.txt"),
    ),
    case(
        "columns-binary",
        "export r --format torchscript -o m.pt",
        2,
        "columns.txt:1: not UTF-8",
        copy=RUN,
        files={f"{IDS}/columns.txt": b"\xff\xfe\n"},
    ),
]


CASES = RUN_DIRECTORIES
