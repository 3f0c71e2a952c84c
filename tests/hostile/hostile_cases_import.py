"""Hostile inputs of ``netcfg data import``: options, malformed files, faults of the disk."""

from __future__ import annotations

import json

from hostile_corpus import DENIED, FULL, QUOTA, READ_ONLY, case, disk_fault

IMPORT = "data import r.tsv -o out"
RATINGS = {"r.tsv": "1\t10\t4\n2\t10\t3\n2\t11\t5\n"}
SYNTH = "data synth --users 20 --items 10 --density 0.1"
SPLIT = "data split {train} --protocol random -o out"

CONFIG = json.dumps(
    {
        "ErrorFunction": "MaskedMSE",
        "Layers": [
            {"Name": "In", "Kind": "Input", "N": "auto", "DataSet": "ratings", "Sparse": True},
            {"Name": "H", "N": 4},
            {"Name": "Out", "Kind": "Output", "N": "auto", "DataSet": "ratings"},
        ],
        "Data": {"ratings": {"Path": "/etc/passwd"}},
        "Training": {"Epochs": 1, "Threads": 1},
    }
)

DATA_IMPORT = [
    case("import-name-too-long", "data import " + "y" * 300 + " -o out", 2, "give a shorter path"),
    case(
        "import-out-too-long",
        "data import r.tsv -o " + "y" * 300,
        2,
        "File name too long",
        files=RATINGS,
    ),
    case("info-name-too-long", "data info " + "y" * 300, 2, "give a shorter path"),
    case(
        "delimiter-empty",
        ["data", "import", "r.tsv", "-o", "out", "--delimiter", ""],
        2,
        "--delimiter '': give a field separator",
        files=RATINGS,
    ),
    case(
        "delimiter-spaces",
        ["data", "import", "r.tsv", "-o", "out", "--delimiter", "  "],
        2,
        "--delimiter '  '",
        files=RATINGS,
    ),
    case(
        "value-range-reversed",
        f"{IMPORT} --value-range 5 1",
        2,
        "--value-range: LOW must not exceed HIGH",
        files=RATINGS,
    ),
    case(
        "value-range-nan-low",
        f"{IMPORT} --value-range nan 5",
        2,
        "--value-range: LOW and HIGH must be numbers, not 'nan'",
        files=RATINGS,
    ),
    case("value-range-nan-high", f"{IMPORT} --value-range 1 nan", 2, "not 'nan'", files=RATINGS),
    case("value-range-word", f"{IMPORT} --value-range low 5", 2, "not 'low'", files=RATINGS),
    case("value-range-split", f"{SPLIT} --value-range 5 1", 2, "LOW must not exceed HIGH"),
    case(
        "duplicates-error",
        f"{IMPORT} --duplicates error",
        2,
        "r.tsv:3: (1, 10) is given more than once (first on line 1)",
        files={"r.tsv": "1\t10\t4\n2\t10\t3\n1\t10\t5\n"},
    ),
    case(
        "duplicates-error-blank-lines",
        "data import r.csv -o out --duplicates error --skip-bad-lines",
        2,
        "r.csv:5: (1, 10) is given more than once (first on line 2)",
        files={"r.csv": "\n1,10,3\n\nbad\n1,10,4\n"},
    ),
    case(
        "duplicates-error-dsstne",
        "data import r.txt --format dsstne -o out --duplicates error",
        2,
        "r.txt:3: (u1, i2) is given more than once (first on line 1)",
        files={"r.txt": "u1\ti1,1:i2,3\nu2\ti1,2\nu1\ti2,1\n"},
    ),
    case(
        "columns-on-tsv",
        "data import r.tsv -o out --columns user=0,item=1,value=2",
        0,
        "saved to out",
        files=RATINGS,
    ),
    case(
        "columns-role-bogus",
        f"{IMPORT} --columns who=0,item=1",
        2,
        "ROLE one of user, item",
        files=RATINGS,
    ),
    case(
        "columns-no-item",
        f"{IMPORT} --columns user=0",
        2,
        "must map at least user and item",
        files=RATINGS,
    ),
    case(
        "columns-named-without-header",
        f"{IMPORT} --columns user=u,item=1",
        2,
        "column 'u' is named, but the format has no header line",
        files=RATINGS,
    ),
    case(
        "header-only-movielens",
        "data import h.csv -o out",
        2,
        "h.csv: no interactions: the file has a header line but no data lines",
        files={"h.csv": "userId,movieId,rating,timestamp\n"},
    ),
    case(
        "header-only-given",
        "data import h.tsv -o out --header",
        2,
        "no data lines",
        files={"h.tsv": "user\titem\n\n"},
    ),
    case(
        "header-only-guessed",
        "data import h.csv -o out",
        2,
        "no data lines",
        files={"h.csv": "user,item,rating\n"},
    ),
    case(
        "etc-passwd",
        "data import /etc/passwd -o out",
        2,
        "could not be recognised",
        absent=("root:",),
    ),
    case(
        "binary-file",
        "data import b.dat -o out",
        2,
        "b.dat:1: not a text file",
        files={"b.dat": b"\x7fELF\x02\x01\x01\x00\x00"},
    ),
    case(
        "nul-in-item-id",
        IMPORT,
        2,
        "r.tsv:2: the item id has a NUL byte",
        files={"r.tsv": "1\t10\t4\n2\tab\x00c\t3\n"},
    ),
    case(
        "nul-in-user-id",
        "data import r.csv -o out",
        2,
        "r.csv:3: the user id has a NUL byte",
        files={"r.csv": "a,x,1\nb,y,2\nc\x00,z,3\n"},
    ),
    case(
        "nul-in-dsstne",
        "data import r.txt --format dsstne -o out",
        2,
        "r.txt:2: a NUL byte in the line",
        files={"r.txt": "u1\ti1,1\nu2\ti\x002,1\n"},
    ),
    case(
        "out-is-a-file",
        "data import r.tsv -o r.tsv",
        2,
        "exists and is not a folder",
        files=RATINGS,
    ),
    case(
        "out-is-a-foreign-folder",
        "data import r.tsv -o home",
        2,
        "writing would replace everything in it",
        files={**RATINGS, "home/notes.txt": "mine"},
    ),
    case("empty-file", IMPORT, 2, "empty file", files={"r.tsv": ""}),
    case(
        "import-format-bogus",
        f"{IMPORT} --format bogus",
        2,
        "unknown data Format 'bogus'",
        files=RATINGS,
    ),
    case("source-missing", "data import nope.tsv -o out", 2, "nope.tsv: no such file"),
    case("source-folder", "data import adir -o out", 2, "adir: not a file", files={"adir/x": ""}),
    case(
        "import-disk-full",
        IMPORT,
        1,
        "netcfg: out/indptr.bin: No space left on device",
        files=RATINGS,
        patch=disk_fault("netcfg.data.importer.save_dataset", FULL, "out/indptr.bin"),
    ),
    case(
        "import-quota",
        IMPORT,
        1,
        "netcfg: out: Disk quota exceeded",
        files=RATINGS,
        patch=disk_fault("netcfg.data.importer.save_dataset", QUOTA, "out"),
    ),
    case(
        "import-read-only",
        IMPORT,
        1,
        "netcfg: out: Read-only file system",
        files=RATINGS,
        patch=disk_fault("netcfg.data.importer.save_dataset", READ_ONLY, "out"),
    ),
    case(
        "import-denied",
        IMPORT,
        1,
        "netcfg: r.tsv: Permission denied",
        files=RATINGS,
        patch=disk_fault("netcfg.data.importer.read_interactions", DENIED, "r.tsv"),
    ),
]


CASES = DATA_IMPORT
