"""Hostile inputs of ``netcfg predict``, ``evaluate`` and ``export`` (options and files)."""

from __future__ import annotations

import errno
import sys

from hostile_corpus import DENIED, case, disk_fault, fail_with

BINARY = b"\x00\x01\xff\xfe binary"
LONG = "x" * 300
TOP = "predict {User} --top-k 2"


def _no_onnx(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)


PREDICT = [
    # --filter and --users files
    case(
        "filter-binary", f"{TOP} --filter f.txt", 2, "f.txt:1: not UTF-8", files={"f.txt": BINARY}
    ),
    case(
        "filter-latin1",
        f"{TOP} --filter f.txt",
        2,
        "f.txt:2: not UTF-8",
        files={"f.txt": b"1000\ncaf\xe9\n"},
    ),
    case(
        "filter-nul",
        f"{TOP} --filter f.txt",
        2,
        "f.txt:2: a NUL byte",
        files={"f.txt": "1000\n10\x0001\n"},
    ),
    case(
        "filter-three-fields",
        f"{TOP} --filter f.txt",
        2,
        "f.txt:1: expected 'item' or",
        files={"f.txt": "100\t1000\textra\n"},
    ),
    case(
        "filter-empty-field",
        f"{TOP} --filter f.txt",
        2,
        "f.txt:1: expected",
        files={"f.txt": "100\t\t1000\n"},
    ),
    case("filter-missing", f"{TOP} --filter nope.txt", 2, "nope.txt: no such filter file"),
    case(
        "filter-bogus-mode",
        f"{TOP} --filter bogus:f.txt",
        2,
        "unknown filter mode 'bogus'",
        files={"f.txt": "1000\n"},
    ),
    case(
        "filter-folder",
        f"{TOP} --filter adir",
        2,
        "adir: a folder, not a filter file",
        files={"adir/x": ""},
    ),
    case(
        "filter-allow-folder",
        f"{TOP} --filter allow:adir",
        2,
        "a folder, not a filter file",
        files={"adir/x": ""},
    ),
    case("filter-allow-nothing", f"{TOP} --filter allow:", 2, "give a file after 'allow:'"),
    case(
        "filter-allow-pairs",
        f"{TOP} --filter allow:f.txt",
        2,
        "allow lists are global",
        files={"f.txt": "100\t1000\n"},
    ),
    case("users-binary", f"{TOP} --users u.txt", 2, "u.txt:1: not UTF-8", files={"u.txt": BINARY}),
    case(
        "users-two-fields",
        f"{TOP} --users u.txt",
        2,
        "u.txt:2: expected 'user'",
        files={"u.txt": "100\n100\t1000\n"},
    ),
    case(
        "users-nul", f"{TOP} --users u.txt", 2, "u.txt:1: a NUL byte", files={"u.txt": "1\x0000\n"}
    ),
    case("users-missing", f"{TOP} --users nope.txt", 2, "nope.txt: no such users file"),
    case(
        "users-folder", f"{TOP} --users adir", 2, "a folder, not a users file", files={"adir/x": ""}
    ),
    # numbers
    case("batch-size-zero", f"{TOP} --batch-size 0", 2, "--batch-size: must be a positive"),
    case("batch-size-negative", f"{TOP} --batch-size -3", 2, "--batch-size: must be a positive"),
    case("batch-size-word", f"{TOP} --batch-size many", 2, "--batch-size"),
    case("top-k-zero", "predict {User} --top-k 0", 2, "--top-k: must be a positive"),
    case(
        "pairs-batch-size-zero",
        "predict {User} --pairs p.tsv --batch-size 0",
        2,
        "--batch-size",
        files={"p.tsv": "100\t1000\n"},
    ),
    # --out
    case("out-folder", f"{TOP} --out adir", 2, "--out adir: is a folder", files={"adir/x": ""}),
    case("out-missing-folder", f"{TOP} --out nodir/recs.tsv", 2, "the folder nodir does not exist"),
    case(
        "out-under-a-file",
        f"{TOP} --out f.txt/recs.tsv",
        2,
        "the folder f.txt is not a folder",
        files={"f.txt": "x"},
    ),
    case("out-name-too-long", f"{TOP} --out {LONG}.tsv", 2, "File name too long"),
    case(
        "out-cannot-create",
        f"{TOP} --out recs.tsv",
        2,
        "--out recs.tsv: cannot create the file",
        patch=disk_fault("netcfg.inference.writers.open", errno.EINVAL, "recs.tsv"),
    ),
    case("filter-name-too-long", f"{TOP} --filter {LONG}", 2, "give a shorter path"),
    case("model-name-too-long", f"predict {LONG} --top-k 2", 2, "give a shorter path"),
    case("out-disk-full", f"{TOP} --out /dev/full", 1, "netcfg: /dev/full: No space left"),
    case(
        "out-denied",
        f"{TOP} --out recs.tsv",
        1,
        "netcfg: recs.tsv: Permission denied",
        patch=disk_fault("netcfg.inference.writers.open", DENIED, "recs.tsv"),
    ),
    case(
        "pairs-out-folder",
        "predict {User} --pairs p.tsv --out adir",
        2,
        "is a folder",
        files={"p.tsv": "100\t1000\n", "adir/x": ""},
    ),
    case(
        "out-of-memory",
        TOP,
        1,
        "netcfg: out of memory",
        patch=fail_with("netcfg.inference.recommend.recommend", MemoryError()),
    ),
    # --input and --pairs
    case("format-bogus", f"{TOP} --input {{train}} --format bogus", 2, "unknown data Format"),
    case("input-missing", f"{TOP} --input nope.tsv", 2, "nope.tsv: no such file"),
    case(
        "input-binary",
        f"{TOP} --input b.tsv",
        2,
        "b.tsv:1: not a text file",
        files={"b.tsv": BINARY},
    ),
    case(
        "input-header-only",
        f"{TOP} --input h.csv",
        2,
        "header line but no data lines",
        files={"h.csv": "user,item,rating\n"},
    ),
    case(
        "input-nul-id",
        f"{TOP} --input n.tsv",
        2,
        "n.tsv:2: the item id has a NUL byte",
        files={"n.tsv": "100\t1000\t3\n101\t10\x0001\t4\n"},
    ),
    case(
        "pairs-binary",
        "predict {User} --pairs b.tsv",
        2,
        "not a text file",
        files={"b.tsv": BINARY},
    ),
    case(
        "pairs-with-top-k",
        "predict {User} --pairs p.tsv --top-k 3",
        2,
        "do not apply",
        files={"p.tsv": "100\t1000\n"},
    ),
    # what is left out is said
    case(
        "user-only-unknown-items",
        f"{TOP} --input n.tsv",
        0,
        "1 users have input interactions only with items the model does not know",
        files={"n.tsv": "100\t1000\t3\n999\t5555\t4\n999\t5556\t2\n"},
    ),
    case(
        "item-model-new-users",
        "predict {Item} --top-k 2 --input n.tsv",
        0,
        "2 input interactions of 1 users the model does not know",
        files={"n.tsv": "100\t1000\t3\n999\t1001\t4\n999\t1002\t2\n"},
    ),
    case(
        "requested-unknown-users",
        f"{TOP} --users u.txt",
        0,
        "1 requested users",
        files={"u.txt": "100\n424242\n"},
    ),
    # model references
    case("zoo-escape", "predict zoo:../runs/x --top-k 2", 2, "invalid zoo name '../runs/x'"),
    case("zoo-dotdot", "predict zoo:.. --top-k 2", 2, "invalid zoo name '..'"),
    case("zoo-slash", "predict zoo:a/b --top-k 2", 2, "a zoo name is not a path"),
    case("zoo-absolute", "predict zoo:/etc --top-k 2", 2, "invalid zoo name '/etc'"),
    case("zoo-empty", "predict zoo: --top-k 2", 2, "invalid zoo name ''"),
    case("zoo-unknown", "predict zoo:nothing-here --top-k 2", 2, "no trained model 'nothing-here'"),
    case("model-missing", "predict nowhere --top-k 2", 2, "nowhere: not a run directory"),
    case(
        "model-is-a-file", "predict f.txt --top-k 2", 2, "not a run directory", files={"f.txt": "x"}
    ),
]

EVALUATE = [
    case("metrics-bogus", "evaluate {User} --metrics Bogus", 2, "expected one of Loss, RMSE"),
    case("metrics-typo", "evaluate {User} --metrics ndgc", 2, "known metrics: Loss"),
    case(
        "metrics-empty-name", ["evaluate", "{User}", "--metrics", "RMSE,"], 2, "unknown metric ''"
    ),
    case("metrics-zero-cutoff", "evaluate {User} --metrics NDCG@0", 2, "must be a positive"),
    case("metrics-cutoff-on-rmse", "evaluate {User} --metrics RMSE@5", 2, "takes no cut-off"),
    case("evaluate-data-missing", "evaluate {User} --data nope", 2, "nope: no such file"),
    case(
        "evaluate-data-header-only",
        "evaluate {User} --data h.csv",
        2,
        "no data lines",
        files={"h.csv": "userId,movieId,rating,timestamp\n"},
    ),
    case("evaluate-part-bogus", "evaluate {User} --part bogus", 2, "invalid choice: 'bogus'"),
]

EXPORT = [
    case(
        "onnx-missing",
        "export {User} --format onnx -o m.onnx",
        2,
        "pip install 'netcfg[export]'",
        patch=_no_onnx,
    ),
    case(
        "onnx-missing-checked-first",
        "export nowhere --format onnx -o m.onnx",
        2,
        "pip install 'netcfg[export]'",
        patch=_no_onnx,
    ),
    case("export-format-bogus", "export {User} --format bogus -o m.x", 2, "invalid choice"),
    case(
        "export-missing-folder",
        "export {User} --format torchscript -o nodir/m.pt",
        2,
        "the folder nodir does not exist",
    ),
    case(
        "export-into-folder",
        "export {User} --format torchscript -o adir",
        2,
        "is a folder",
        files={"adir/x": ""},
    ),
    case(
        "export-disk-full",
        "export {User} --format torchscript -o /dev/full",
        1,
        "/dev/full: No space left on device",
    ),
    case(
        "export-cannot-create",
        "export {User} --format torchscript -o m.pt",
        2,
        "-o m.pt: cannot create the file",
        patch=disk_fault("netcfg.inference.writers.open", errno.EISDIR, "m.pt"),
    ),
    case("export-name-too-long", f"export {{User}} --format onnx -o {LONG}", 2, "too long"),
]

CASES = [*PREDICT, *EVALUATE, *EXPORT]
