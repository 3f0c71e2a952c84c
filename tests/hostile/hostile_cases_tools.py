"""Hostile command lines of ``netcfg zoo``, ``data`` and ``schema`` not covered by the data
and import cases (names of trained models, split and synth options that conflict, reading
options), and of ``netcfg`` itself."""

from __future__ import annotations

from hostile_corpus import RATINGS, case, edit_json, set_key

RUN = {"r": "User"}
NAME = "use up to 100 letters, digits, '-', '_' and '.', beginning with a letter or digit"
SPLIT = "data split {train} -o out --protocol"


def _taken(root) -> None:
    (root / "zoo" / "m").mkdir(parents=True)


def _damaged_entry(root) -> None:
    (root / "zoo" / "bad").mkdir(parents=True)
    (root / "zoo" / "bad" / "run.json").write_text("{")


def _list_entry(root) -> None:
    (root / "zoo" / "odd").mkdir(parents=True)
    (root / "zoo" / "odd" / "run.json").write_text("[1, 2]")


ZOO = [
    case("zoo-add-dotdot", "zoo add r ../x", 2, f"invalid model name '../x': {NAME}", copy=RUN),
    case("zoo-add-slash", "zoo add r a/b", 2, "invalid model name 'a/b'", copy=RUN),
    case("zoo-add-empty", ["zoo", "add", "r", ""], 2, "invalid model name ''", copy=RUN),
    case(
        "zoo-add-space",
        ["zoo", "add", "r", "my model"],
        2,
        "invalid model name 'my model'",
        copy=RUN,
    ),
    case("zoo-add-hidden", "zoo add r .hidden", 2, "invalid model name '.hidden'", copy=RUN),
    case("zoo-add-101-chars", "zoo add r " + "a" * 101, 2, f"{'a' * 101}': {NAME}", copy=RUN),
    case(
        "zoo-add-not-a-run",
        "zoo add adir m",
        2,
        "adir: not a run directory (no run.json)",
        files={"adir/x": ""},
    ),
    case("zoo-add-missing", "zoo add nope m", 2, "nope: not a run directory (no run.json)"),
    case(
        "zoo-add-taken",
        "zoo add r m",
        2,
        "'m' is already in the user zoo",
        copy=RUN,
        edits=(_taken,),
    ),
    case(
        "zoo-add-running",
        "zoo add r m",
        2,
        "r: the run is running, not completed; only a finished run can be registered",
        copy=RUN,
        edits=edit_json("r/run.json", lambda run: set_key(run, "status", "running")),
    ),
    case(
        "zoo-show-unknown",
        "zoo show nothing",
        2,
        "zoo:nothing: no zoo entry 'nothing'; entries: ",
    ),
    case("zoo-show-typo", "zoo show quickstrat", 2, "did you mean 'quickstart'?"),
    case("zoo-show-empty", "zoo show zoo:", 2, "zoo:: invalid zoo name ''"),
    case(
        "zoo-show-path",
        "zoo show /etc/passwd",
        2,
        "invalid zoo name '/etc/passwd'",
        absent=("root:",),
    ),
    case(
        "zoo-list-damaged-entry",
        "zoo list --trained",
        0,
        "zoo/bad/run.json: cannot read",
        edits=(_damaged_entry,),
    ),
    case(
        "zoo-list-entry-not-an-object",
        "zoo list --trained",
        0,
        "run.json and config.json must hold JSON objects; left out of the list",
        edits=(_list_entry,),
    ),
    case("zoo-remove", "zoo remove m", 2, "no trained model 'm' in "),
]

DATA = [
    case(
        "info-missing", "data info nope", 2, "nope: not a netcfg dataset directory (no meta.json)"
    ),
    case(
        "info-file",
        "data info f.txt",
        2,
        "f.txt: not a netcfg dataset directory",
        files={"f.txt": "x"},
    ),
    case("split-files-no-test", f"{SPLIT} files", 2, "the files protocol needs --test FILE"),
    case("split-files-test-missing", f"{SPLIT} files --test nope.tsv", 2, "nope.tsv: no such file"),
    case(
        "split-cut-fraction-2",
        f"{SPLIT} temporal --cut-fraction 2",
        2,
        "argument --cut-fraction: expected a fraction in [0, 1], got '2'",
    ),
    case(
        "split-cut-time-word",
        f"{SPLIT} temporal --cut-time soon",
        2,
        "argument --cut-time: invalid int value: 'soon'",
    ),
    case(
        "split-cut-time-and-fraction",
        f"{SPLIT} temporal --cut-time 100 --cut-fraction 0.5",
        2,
        "give exactly one of a cut time and a cut fraction",
    ),
    case(
        "split-end-before-cut",
        f"{SPLIT} temporal --cut-time 100 --end-time 50",
        2,
        "the end time 50 must come after the cut time 100",
    ),
    case(
        "split-transform-sqrt",
        f"{SPLIT} random --transform sqrt",
        2,
        "argument --transform: invalid choice: 'sqrt'",
    ),
    case(
        "split-min-items-negative",
        f"{SPLIT} random --min-item-interactions -1",
        2,
        "argument --min-item-interactions: expected a whole number >= 0, got '-1'",
    ),
    case(
        "split-fractions-sum",
        f"{SPLIT} random --fractions 0.9,0.5,0.5",
        2,
        "split fractions must be >= 0 and sum to 1 (got (0.9, 0.5, 0.5))",
    ),
    case(
        "split-one-fraction",
        f"{SPLIT} random --fractions 1",
        2,
        "argument --fractions: expected TRAIN,TEST or TRAIN,VALIDATION,TEST, got 1",
    ),
    case(
        "split-validation-fraction",
        f"{SPLIT} user-temporal --validation-fraction 1.5",
        2,
        "argument --validation-fraction: expected a fraction in [0, 1], got '1.5'",
    ),
    case(
        "split-heldout-too-many",
        f"{SPLIT} heldout-users --heldout 1000",
        2,
        "cannot hold out 2 x 1000 users of 40",
    ),
    case(
        "split-into-its-source",
        "data split d --protocol random -o d",
        2,
        "-o d: is the source being split",
        copy={"d": "dataset"},
    ),
    case("split-a-split", "data split {split} --protocol random -o out", 2, "/split: not a file"),
    case(
        "synth-density-word",
        "data synth --users 10 --items 10 --density lots -o out",
        2,
        "argument --density: must be in (0, 1], got lots",
    ),
    case(
        "synth-no-users",
        "data synth --items 10 --density 0.1 -o out",
        2,
        "the following arguments are required: --users",
    ),
    case(
        "synth-out-a-file",
        "data synth --users 10 --items 10 --density 0.1 -o f.txt",
        2,
        "f.txt: -o: exists and is not a folder",
        files={"f.txt": "x"},
    ),
    case(
        "fetch-unknown",
        "data fetch movielens-5m",
        2,
        "unknown dataset 'movielens-5m'; did you mean 'movielens-1m'?",
    ),
    case(
        "fetch-from-missing",
        "data fetch movielens-100k --from nope",
        2,
        "nope/u.data: no such file; give the folder extracted from ml-100k.zip",
    ),
]

READING = [
    case(
        "columns-role-twice",
        "data import r.tsv -o out --columns user=0,user=1,item=2",
        2,
        "--columns: the user column is given twice",
        files=RATINGS,
    ),
    case(
        "columns-one-column-twice",
        "data import r.tsv -o out --columns user=0,item=0",
        2,
        "--columns: user and item are both column 0",
        files=RATINGS,
    ),
    case(
        "columns-past-the-line",
        "data import r.tsv -o out --columns user=0,item=7",
        2,
        "r.tsv:1: expected at least 8 fields, found 3",
        files=RATINGS,
    ),
    case(
        "value-range-minus-inf",
        "data import r.tsv -o out --value-range -inf 4",
        2,
        "r.tsv:3: value 5 is outside the declared range [-inf, 4]",
        files=RATINGS,
    ),
    case(
        "value-range-minus-1e3",
        "data split r.tsv -o out --protocol random --value-range -1e3 -1",
        2,
        "r.tsv:1: value 4 is outside the declared range [-1000, -1]",
        files=RATINGS,
    ),
]

COMMAND_LINE = [
    case(
        "schema-indent-huge",
        "schema --indent 100000000",
        2,
        "argument --indent: expected a whole number from 0 to 16, got '100000000'",
    ),
    case(
        "schema-indent-negative",
        "schema --indent -1",
        2,
        "argument --indent: expected a whole number from 0 to 16, got '-1'",
    ),
    case(
        "schema-indent-word", "schema --indent two", 2, "argument --indent: expected a whole number"
    ),
    case("no-command", [], 2, "the following arguments are required: COMMAND"),
    case("unknown-command", "frobnicate", 2, "argument COMMAND: invalid choice: 'frobnicate'"),
    case(
        "unknown-option", "validate c.json --frobnicate", 2, "unrecognized arguments: --frobnicate"
    ),
]

CASES = [*ZOO, *DATA, *READING, *COMMAND_LINE]
