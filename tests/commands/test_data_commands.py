"""``netcfg data``: import, info, split from the command line."""

from __future__ import annotations

import json

from helpers import write

from netcfg.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_import_then_info(capsys, ml100k, tmp_path):
    out_dir = str(tmp_path / "ml-100k")
    code, out, _ = run(
        capsys,
        "data",
        "import",
        str(ml100k / "u.data"),
        "--format",
        "movielens-100k",
        "-o",
        out_dir,
    )
    assert code == 0 and out.endswith(f"saved to {out_dir}\n")
    code, out, _ = run(capsys, "data", "info", out_dir)
    assert code == 0
    lines = dict(line.split(None, 1) for line in out.splitlines())
    assert lines["users"] == "943" and lines["items"] == "1,682"
    assert lines["interactions"] == "100,000"
    assert lines["histogram"] == "1: 6,110, 2: 11,370, 3: 27,145, 4: 34,174, 5: 21,201"
    code, out, _ = run(capsys, "data", "info", out_dir, "--json")
    info = json.loads(out)
    assert info["histogram"] == {"1": 6110, "2": 11370, "3": 27145, "4": 34174, "5": 21201}


def test_split_given_files(capsys, ml100k, tmp_path):
    out_dir = str(tmp_path / "u1")
    code, out, _ = run(
        capsys,
        "data",
        "split",
        str(ml100k / "u1.base"),
        "--protocol",
        "files",
        "--test",
        str(ml100k / "u1.test"),
        "-o",
        out_dir,
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["train", "80,000"]
    assert lines[1] == (
        "test                   19,968 interactions, 459 users (dropped: 0 of "
        "unseen users, 32 of unseen items)"
    )
    code, out, _ = run(capsys, "data", "info", out_dir, "--json")
    report = json.loads(out)
    assert report["split"]["counts"] == {"train": 80000, "test": 19968}
    assert report["split"]["dropped"]["test"]["unseen_items"] == 32


def test_split_implicit_per_user(capsys, ml100k, tmp_path):
    code, out, _ = run(
        capsys,
        "data",
        "split",
        str(ml100k / "u.data"),
        "--protocol",
        "random",
        "--fractions",
        "0.8,0.2",
        "--per-user",
        "--binarize",
        "4",
        "--seed",
        "0",
        "-o",
        str(tmp_path / "s"),
    )
    assert code == 0
    train = int(out.splitlines()[0].split()[1].replace(",", ""))
    assert abs(train - 0.8 * (34174 + 21201)) < 600


def test_bad_input_exits_2_with_the_line(capsys, tmp_path):
    path = write(tmp_path, "r.tsv", "1\t2\t5\n1\t3\tfive\n")
    code, out, err = run(capsys, "data", "import", str(path), "-o", str(tmp_path / "d"))
    assert (code, out) == (2, "")
    assert err == f"{path}:2: value 'five' is not a number: '1\\t3\\tfive'\n"
    code, out, _ = run(
        capsys, "data", "import", str(path), "--skip-bad-lines", "-o", str(tmp_path / "d")
    )
    assert code == 0 and "bad lines     1 skipped" in out
    code, _, err = run(capsys, "data", "info", str(tmp_path))
    assert code == 2 and "not a netcfg dataset directory" in err
    code, _, err = run(
        capsys,
        "data",
        "split",
        str(tmp_path / "d"),
        "--protocol",
        "temporal",
        "--cut-fraction",
        "0.5",
        "-o",
        str(tmp_path / "s"),
    )
    assert code == 2 and "needs timestamps" in err
    code, _, err = run(capsys, "data", "import", str(path), "--format", "movielens-10", "-o", "x")
    assert code == 2 and "did you mean 'movielens-10m'?" in err


def test_custom_columns(capsys, tmp_path):
    path = write(tmp_path, "plays.csv", "item;user;n\na;x;3\nb;x;1\na;y;9\n")
    code, out, err = run(
        capsys,
        "data",
        "import",
        str(path),
        "--delimiter",
        ";",
        "--header",
        "--columns",
        "user=user,item=item,value=n",
        "-o",
        str(tmp_path / "d"),
    )
    assert (code, err) == (0, "")
    assert "interactions  3" in out
