"""Hostile inputs of ``netcfg data synth|split`` and of data named by a config."""

from __future__ import annotations

from hostile_corpus import CONFIG, SPLIT, SYNTH, case, fail_with

DATA_SYNTH = [
    case(
        "synth-zero-users",
        "data synth --users 0 --items 10 --density 0.1 -o out",
        2,
        "--users: must be between 1 and 2,147,483,647",
    ),
    case(
        "synth-huge-users",
        "data synth --users 1000000000000 --items 10 --density 0.1 -o out",
        2,
        "(2**31 - 1), got 1000000000000",
    ),
    case(
        "synth-negative-users",
        "data synth --users -5 --items 10 --density 0.1 -o out",
        2,
        "--users",
    ),
    case(
        "synth-zero-items",
        "data synth --users 10 --items 0 --density 0.1 -o out",
        2,
        "--items: must be between 1",
    ),
    case(
        "synth-zero-density",
        "data synth --users 10 --items 10 --density 0 -o out",
        2,
        "--density: must be in (0, 1]",
    ),
    case(
        "synth-big-density",
        "data synth --users 10 --items 10 --density 2 -o out",
        2,
        "--density: must be in (0, 1], got 2",
    ),
    case(
        "synth-nan-density", "data synth --users 10 --items 10 --density nan -o out", 2, "got nan"
    ),
    case("synth-negative-seed", f"{SYNTH} --seed -1 -o out", 2, "--seed: expected a whole"),
    case(
        "synth-foreign-folder",
        f"{SYNTH} -o home",
        2,
        "writing would replace everything",
        files={"home/notes.txt": "mine"},
    ),
    case(
        "synth-out-of-memory",
        f"{SYNTH} -o out",
        1,
        "netcfg: out of memory",
        patch=fail_with("netcfg.data.synth.synthesize", MemoryError()),
    ),
]

DATA_SPLIT = [
    case("split-negative-seed", f"{SPLIT} --seed -1", 2, "--seed: expected a whole number"),
    case("split-fractions-words", f"{SPLIT} --fractions a,b", 2, "expected a fraction in [0, 1]"),
    case("split-fractions-nan", f"{SPLIT} --fractions nan,0,1", 2, "got 'nan'"),
    case(
        "split-train-fraction",
        "data split {train} --protocol user-temporal --train-fraction 2 -o out",
        2,
        "--train-fraction: expected a fraction in [0, 1], got '2'",
    ),
    case(
        "split-heldout-negative",
        "data split {train} --protocol heldout-users --heldout -3 -o out",
        2,
        "--heldout: must be a positive integer (got -3)",
    ),
    case(
        "split-fold-in",
        "data split {train} --protocol heldout-users --heldout 3 --fold-in 7 -o out",
        2,
        "--fold-in: expected a fraction",
    ),
    case(
        "split-nothing-left",
        f"{SPLIT} --min-user-interactions 1000",
        2,
        "no interactions left to split",
    ),
    case("split-binarize-nan", f"{SPLIT} --binarize nan", 2, "--binarize: expected a finite"),
    case(
        "split-foreign-folder",
        "data split {train} --protocol random -o home",
        2,
        "writing would replace everything",
        files={"home/notes.txt": "mine"},
    ),
]

CONFIG_DATA = [
    case(
        "config-data-etc-passwd",
        "train c.json --out run",
        2,
        "/etc/passwd: the format of this file could not be recognised",
        files={"c.json": CONFIG},
        absent=("root:",),
    ),
    case(
        "validate-data-etc-passwd",
        "validate c.json",
        0,
        "could not be recognised",
        files={"c.json": CONFIG},
        absent=("root:",),
    ),
]


ZOO_NAMES = [
    case("validate-zoo-escape", "validate zoo:../../etc", 2, "invalid zoo name '../../etc'"),
    case("render-zoo-slash", "render zoo:a/b", 2, "a zoo name is not a path"),
    case("evaluate-zoo-escape", "evaluate zoo:../runs/x", 2, "invalid zoo name"),
    case("export-zoo-dotdot", "export zoo:.. --format torchscript -o m.pt", 2, "invalid zoo name"),
]

CASES = [*ZOO_NAMES, *DATA_SYNTH, *DATA_SPLIT, *CONFIG_DATA]
