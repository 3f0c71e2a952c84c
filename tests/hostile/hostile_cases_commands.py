"""Hostile options and files of ``netcfg predict --pairs``, ``predict``, ``evaluate`` and
``export`` not covered by the inference cases: pairs files with bad lines and unknown ids,
options that do not go together, metrics and models that do not exist."""

from __future__ import annotations

import shutil

from hostile_corpus import case

PAIRS = "predict {User} --pairs p.tsv"
PAIR = {"p.tsv": "100\t1000\n"}
APPLY = "--pairs writes user, item, score lines:"


def _drop_validation(root) -> None:
    shutil.rmtree(root / "s" / "validation")


PREDICT_PAIRS = [
    case(
        "pairs-unknown-strict",
        f"{PAIRS} --strict",
        2,
        "p.tsv: 1 pairs with unknown users, 0 with unknown items (--strict)",
        files={"p.tsv": "100\t1000\n999\t1000\n"},
    ),
    case(
        "pairs-unknown-counted",
        PAIRS,
        0,
        "netcfg: warning: 1 pairs with unknown users, 1 with unknown items; their score is empty",
        files={"p.tsv": "100\t1000\n999\t1000\n100\t5\n"},
    ),
    case("pairs-missing", "predict {User} --pairs nope.tsv", 2, "nope.tsv: no such file"),
    case(
        "pairs-one-field",
        PAIRS,
        2,
        "p.tsv:2: expected at least 2 fields, found 1: '100'",
        files={"p.tsv": "100\t1000\n100\n"},
    ),
    case(
        "pairs-nul",
        PAIRS,
        2,
        "p.tsv:2: the user id has a NUL byte",
        files={"p.tsv": "100\t1000\n10\x000\t1000\n"},
    ),
    case(
        "pairs-latin1",
        PAIRS,
        2,
        "p.tsv:2: not UTF-8 text (byte 12 of the file)",
        files={"p.tsv": b"100\t1000\ncaf\xe9\t1000\n"},
    ),
    case("pairs-empty", PAIRS, 2, "p.tsv: empty file: no interactions", files={"p.tsv": ""}),
    case(
        "pairs-header-only",
        "predict {User} --pairs p.csv",
        2,
        "p.csv: no interactions: the file has a header line but no data lines",
        files={"p.csv": "user,item\n"},
    ),
    case(
        "pairs-value-word",
        PAIRS,
        2,
        "p.tsv:2: value 'five' is not a number",
        files={"p.tsv": "100\t1000\t4\n100\t1001\tfive\n"},
    ),
    case(
        "pairs-folder", "predict {User} --pairs adir", 2, "adir: not a file", files={"adir/x": ""}
    ),
    case(
        "pairs-format-bogus",
        f"{PAIRS} --format bogus",
        2,
        "unknown data Format 'bogus'",
        files=PAIR,
    ),
    case(
        "pairs-exclude-seen",
        f"{PAIRS} --exclude-seen",
        2,
        f"{APPLY} --exclude-seen do not apply",
        files=PAIR,
    ),
    case(
        "pairs-users",
        f"{PAIRS} --users u.txt",
        2,
        f"{APPLY} --users do not apply",
        files={**PAIR, "u.txt": "100\n"},
    ),
    case(
        "pairs-jsonl",
        f"{PAIRS} --output-format jsonl",
        2,
        f"{APPLY} --output-format do not apply",
        files=PAIR,
    ),
    case(
        "strict-without-pairs",
        "predict {User} --top-k 2 --strict",
        2,
        "--strict: for scoring --pairs only; top-K lists take neither",
    ),
    case(
        "no-clip-without-pairs",
        "predict {User} --top-k 2 --no-clip --strict",
        2,
        "--strict and --no-clip: for scoring --pairs only",
    ),
]

PREDICT = [
    case(
        "output-format-xml",
        "predict {User} --top-k 2 --output-format xml",
        2,
        "argument --output-format: invalid choice: 'xml'",
    ),
    case(
        "top-k-negative",
        "predict {User} --top-k -1",
        2,
        "argument --top-k: must be a positive integer (got -1)",
    ),
    case(
        "top-k-word",
        "predict {User} --top-k ten",
        2,
        "argument --top-k: must be a positive integer (got ten)",
    ),
    case(
        "batch-size-float",
        "predict {User} --top-k 2 --batch-size 1.5",
        2,
        "argument --batch-size: must be a positive integer (got 1.5)",
    ),
    case("top-k-missing", "predict {User}", 2, "give --top-k K, or --pairs FILE"),
    case(
        "input-plain-folder",
        "predict {User} --top-k 2 --input adir",
        2,
        "adir: a folder that is neither a netcfg dataset nor a split (no meta.json)",
        files={"adir/x": ""},
    ),
]

EVALUATE = [
    case(
        "evaluate-dataset-no-test",
        "evaluate {User} --data {dataset}",
        2,
        "/dataset: the data has no test part to evaluate on",
    ),
    case(
        "evaluate-data-binary",
        "evaluate {User} --data b.tsv",
        2,
        "b.tsv:1: not a text file of interactions",
        files={"b.tsv": b"\x00\xff"},
    ),
    case(
        "evaluate-metric-cut-off-word",
        "evaluate {User} --metrics NDCG@ten",
        2,
        "--metrics: the cut-off of 'NDCG@ten' must be a positive integer",
    ),
    case(
        "evaluate-metric-cut-off-10-to-20",
        "evaluate {User} --metrics NDCG@100000000000000000000",
        0,
        "NDCG@100000000000000000000",
    ),
    case(
        "evaluate-model-missing",
        "evaluate nowhere",
        2,
        "nowhere: not a run directory (no "
        "run.json); give the --out folder of a netcfg train run, or zoo:NAME",
    ),
    case(
        "evaluate-model-file",
        "evaluate f.txt",
        2,
        "f.txt: not a run directory (no run.json)",
        files={"f.txt": "x"},
    ),
    case(
        "evaluate-split-part-removed",
        "evaluate {User} --data s --part validation",
        2,
        "s/validation: not a netcfg dataset directory (no meta.json)",
        copy={"s": "split"},
        edits=(_drop_validation,),
    ),
]

EXPORT = [
    case(
        "export-signature-csr",
        "export {User} --format torchscript --signature csr -o m.pt",
        2,
        "argument --signature: invalid choice: 'csr'",
    ),
    case(
        "export-no-out",
        "export {User} --format torchscript",
        2,
        "the following arguments are required: -o/--out",
    ),
    case(
        "export-model-missing",
        "export nowhere --format torchscript -o m.pt",
        2,
        "nowhere: not a run directory (no run.json)",
    ),
    case(
        "export-under-a-file",
        "export {User} --format torchscript -o f.txt/m.pt",
        2,
        "-o f.txt/m.pt: the folder f.txt is not a folder; create it first",
        files={"f.txt": "x"},
    ),
    case(
        "export-empty-out",
        ["export", "{User}", "--format", "torchscript", "-o", ""],
        2,
        "-o .: is a folder; give a file name",
    ),
]

CASES = [*PREDICT_PAIRS, *PREDICT, *EVALUATE, *EXPORT]
