"""Hostile ``Data`` sections of a config given to ``netcfg validate`` (the source and how
it is used) and ``netcfg train`` (files that cannot be read)."""

from __future__ import annotations

from hostile_cases_config import config, validate
from hostile_corpus import Case, case

RATINGS = "1\t10\t4\n2\t10\t3\n2\t11\t5\n"
TRAIN = "train c.json --out run --no-progress"


def data(id: str, entry: object, message: str, at: str = "") -> Case:
    """``netcfg validate`` of the network whose DataSet ``r`` is bound to ``entry``; exit 2,
    ``c.json:1: Data.r[.AT]: MESSAGE``."""
    where = f"Data.r.{at}" if at else "Data.r"
    return validate(id, config({"Data.r": entry}), 2, f"c.json:1: {where}: {message}")


def trained(id: str, entry: dict, message: str, **files: str) -> Case:
    """``netcfg train`` of the network (widths from the data) with DataSet ``r`` bound to
    ``entry``, beside ``files`` (``r.tsv`` holds three ratings unless given)."""
    files = {"c.json": config({"Data.r": entry}, auto=True), "r.tsv": RATINGS, **files}
    return case(id, TRAIN, 2, message, files=files)


PATH = {"Path": "r.tsv"}

SOURCES = [
    data(
        "data-fetch-unknown",
        {"Fetch": "movielens-5m"},
        "unknown Fetch 'movielens-5m'; did you mean 'movielens-1m'?",
        at="Fetch",
    ),
    data(
        "data-path-and-fetch",
        {**PATH, "Fetch": "movielens-100k"},
        "give exactly one of Path, Fetch and Synthetic",
    ),
    data("data-no-source", {}, "give exactly one of Path, Fetch and Synthetic"),
    data("data-number", 5, "must be an object (got 5)"),
    data("data-list", ["r.tsv"], 'must be an object (got ["r.tsv"])'),
    data(
        "data-synthetic-no-users",
        {"Synthetic": {"Users": 0, "Items": 10, "Density": 0.1}},
        "must be greater than or equal to 1 (got 0)",
        at="Synthetic.Users",
    ),
    data(
        "data-synthetic-density",
        {"Synthetic": {"Users": 5, "Items": 5, "Density": 2}},
        "must be less than or equal to 1 (got 2)",
        at="Synthetic.Density",
    ),
    data(
        "data-fold-u9",
        {"Fetch": "movielens-100k", "Fold": "u9"},
        "unknown Fold 'u9'; expected one of u1, u2, u3, u4, u5, ua, ub",
        at="Fold",
    ),
    validate(
        "data-not-an-object",
        config({"Data": "r.tsv"}),
        2,
        'c.json:1: Data: must be an object (got "r.tsv")',
    ),
    validate(
        "data-unused-entry",
        config({"Data.r": PATH, "Data.q": PATH}),
        2,
        "c.json:1: Data.q: 'q' is not the DataSet of any layer; DataSets are r",
    ),
]

TREATMENT = [
    data(
        "data-orientation",
        {**PATH, "Orientation": "Diagonal"},
        "unknown Orientation 'Diagonal'; expected one of User, Item",
        at="Orientation",
    ),
    data(
        "data-format",
        {**PATH, "Format": "xml"},
        "unknown data Format 'xml'; expected one of auto, netcfg, movielens-100k",
        at="Format",
    ),
    data(
        "data-binarize-word",
        {**PATH, "Binarize": "high"},
        'must be a valid number (got "high")',
        at="Binarize",
    ),
    data(
        "data-min-users-negative",
        {**PATH, "MinUserInteractions": -1},
        "must be greater than or equal to 0 (got -1)",
        at="MinUserInteractions",
    ),
    data(
        "data-protocol-typo",
        {**PATH, "Protocol": {"Type": "randm"}},
        "unknown Protocol Type 'randm'; did you mean 'random'?",
        at="Protocol.Type",
    ),
    data(
        "data-fractions-sum",
        {**PATH, "Protocol": {"Type": "random", "Fractions": [0.9, 0.5, 0.5]}},
        "Fractions must be three numbers >= 0 that sum to 1",
        at="Protocol",
    ),
    data(
        "data-transform",
        {**PATH, "Transform": "sqrt"},
        "unknown Transform 'sqrt'; expected one of log1p",
        at="Transform",
    ),
    data(
        "data-key-typo",
        {**PATH, "Orientaton": "User"},
        "unknown key 'Orientaton'; did you mean 'Orientation'?",
        at="Orientaton",
    ),
]

FILES = [
    trained("data-test-missing", {**PATH, "Test": "nope.tsv"}, "/nope.tsv: no such file"),
    trained("data-path-device", {"Path": "/dev/zero"}, "/dev/zero: not a regular file"),
    trained("data-test-folder", {**PATH, "Test": "adir"}, "/adir: not a file", **{"adir/x": ""}),
    trained(
        "data-split-part-unknown",
        {**PATH, "Split": "nope"},
        "/r.tsv: the split has no part 'nope' (parts: train)",
    ),
    trained(
        "data-binarize-drops-all",
        {**PATH, "Binarize": 100},
        "the training data has no rows with interactions",
    ),
    trained(
        "data-path-binary",
        {"Path": "b.tsv"},
        "b.tsv:1: not a text file of interactions",
        **{"b.tsv": "\x00\x01"},
    ),
]

CASES = [*SOURCES, *TREATMENT, *FILES]
