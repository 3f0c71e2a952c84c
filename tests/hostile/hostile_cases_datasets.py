"""Damaged or crafted dataset and split directories."""

from __future__ import annotations

import math

from hostile_corpus import (
    array,
    case,
    edit_json,
    meta,
    remove,
    set_key,
)

DS = {"d": "dataset"}
INFO = "data info d"


def _duplicate_second_row(root) -> None:
    path = root / "d" / "rows.txt"
    lines = path.read_text().split("\n")
    lines[1] = lines[0]
    path.write_text("\n".join(lines))


DATASETS = [
    case(
        "dataset-version", INFO, 2, "unknown dataset version 9", copy=DS, edits=meta("d", version=9)
    ),
    case(
        "dataset-orientation",
        INFO,
        2,
        "orientation must be 'user' or 'item'",
        copy=DS,
        edits=meta("d", orientation="diagonal"),
    ),
    case(
        "dataset-shape",
        INFO,
        2,
        "shape must be [rows, columns]",
        copy=DS,
        edits=meta("d", shape=[40]),
    ),
    case("dataset-nnz-negative", INFO, 2, "nnz must be a count", copy=DS, edits=meta("d", nnz=-1)),
    case(
        "dataset-huge-indices",
        INFO,
        2,
        "expected 8,000,000,000 bytes",
        copy=DS,
        edits=meta(
            "d",
            nnz=2_000_000_000,
            arrays__indices__length=2_000_000_000,
            arrays__values__length=2_000_000_000,
            arrays__times__length=2_000_000_000,
        ),
    ),
    case(
        "dataset-escaping-file",
        INFO,
        2,
        "must be a file name inside the dataset",
        copy=DS,
        edits=meta("d", arrays__indices__file="../d/indices.bin"),
    ),
    case(
        "dataset-absolute-file",
        INFO,
        2,
        "must be a file name inside the dataset",
        copy=DS,
        edits=meta("d", arrays__values__file="/etc/passwd"),
    ),
    case(
        "dataset-implicit-with-values",
        INFO,
        2,
        "values: implicit, but a values array",
        copy=DS,
        edits=meta("d", values="implicit"),
    ),
    case(
        "dataset-explicit-without-values",
        INFO,
        2,
        "values: explicit, but a values array is missing",
        copy=DS,
        edits=edit_json("d/meta.json", lambda m: m["arrays"].pop("values")),
    ),
    case(
        "dataset-dtype",
        INFO,
        2,
        "arrays.values must have dtype <f4",
        copy=DS,
        edits=meta("d", arrays__values__dtype="|O"),
    ),
    case(
        "dataset-checksum",
        INFO,
        2,
        "do not match the checksum",
        copy=DS,
        edits=meta("d", checksum="sha256:0"),
    ),
    case(
        "dataset-no-checksum",
        INFO,
        2,
        "no sha256 checksum",
        copy=DS,
        edits=edit_json("d/meta.json", lambda m: m.pop("checksum")),
    ),
    case(
        "dataset-changed-values",
        INFO,
        2,
        "do not match the checksum",
        copy=DS,
        edits=lambda root: (root / "d/values.bin").write_bytes(
            bytes(len((root / "d/values.bin").read_bytes()))
        ),
    ),
    case("dataset-meta-broken", INFO, 2, "d/meta.json:1:", copy=DS, files={"d/meta.json": "{"}),
    case(
        "dataset-meta-list",
        INFO,
        2,
        "meta.json: expected a JSON object",
        copy=DS,
        files={"d/meta.json": "[1]"},
    ),
    case(
        "dataset-indices-missing",
        INFO,
        2,
        "indices.bin is missing or truncated",
        copy=DS,
        edits=remove("d/indices.bin"),
    ),
    case(
        "dataset-indptr-falls",
        INFO,
        2,
        "would end before it starts",
        copy=DS,
        edits=array("d", "indptr", "<i8", lambda a: a.__setitem__(3, a[5])),
    ),
    case(
        "dataset-indptr-ends",
        INFO,
        2,
        "must run from 0 to nnz",
        copy=DS,
        edits=array("d", "indptr", "<i8", lambda a: a.__setitem__(-1, a[-1] - 1)),
    ),
    case(
        "dataset-index-outside",
        INFO,
        2,
        "indices.bin: entry 3 is column 999",
        copy=DS,
        edits=array("d", "indices", "<i4", lambda a: a.__setitem__(3, 999)),
    ),
    case(
        "dataset-value-nan",
        INFO,
        2,
        "values.bin: entry 0 is not finite",
        copy=DS,
        edits=array("d", "values", "<f4", lambda a: a.__setitem__(0, math.nan)),
    ),
    case(
        "dataset-rows-duplicate",
        "predict {User} --top-k 2 --input d",
        2,
        "rows.txt:2: id '100' is given twice",
        copy=DS,
        edits=_duplicate_second_row,
    ),
    case(
        "split-part-escape",
        "data info s",
        2,
        "parts must be a list of part names",
        copy={"s": "split"},
        edits=edit_json("s/meta.json", lambda m: set_key(m, "parts", ["../x"])),
    ),
    case(
        "split-meta-broken",
        "evaluate {User} --data s",
        2,
        "s/meta.json:1:",
        copy={"s": "split"},
        files={"s/meta.json": "{{"},
    ),
    case(
        "split-part-damaged",
        "evaluate {User} --data s",
        2,
        "unknown dataset version",
        copy={"s": "split"},
        edits=meta("s/test", version=0),
    ),
]


CASES = DATASETS
