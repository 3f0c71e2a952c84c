"""POST /score answers what ``netcfg predict --pairs`` writes."""

from __future__ import annotations

import pytest
from serving_helpers import assert_error

from netcfg.cli import main


def _predict_pairs(capsys, run_dir, pairs_file, *flags) -> list:
    code = main(["predict", str(run_dir), "--pairs", str(pairs_file), *flags])
    out, err = capsys.readouterr()
    assert code == 0, err
    return [
        None if s == "" else float(s) for *_, s in (line.split("\t") for line in out.splitlines())
    ]


@pytest.mark.parametrize("clip", [True, False])
@pytest.mark.parametrize("model", ["user", "item"])
def test_scores_are_those_of_predict_pairs(client, trained, capsys, tmp_path, model, clip):
    u, i = ("", "") if model == "user" else ("u", "i")
    pairs = [(f"{u}1", f"{i}1"), (f"{u}2", f"{i}5"), (f"{u}7", f"{i}3"), (f"{u}999", f"{i}2")]
    pairs += [(f"{u}3", f"{i}999"), (f"{u}1", f"{i}9"), (f"{u}4", f"{i}1")]
    (tmp_path / "pairs.tsv").write_text("".join(f"{a}\t{b}\n" for a, b in pairs))
    flags = [] if clip else ["--no-clip"]
    expected = _predict_pairs(capsys, trained[model], tmp_path / "pairs.tsv", *flags)
    name = "default" if model == "user" else "items"
    body = {"model": name, "pairs": [list(p) for p in pairs], "clip": clip}
    answer = client.post("/score", json=body)
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["model"] == name
    assert found["unknown_users"] == 1 and found["unknown_items"] == 1
    assert [s is None for s in found["scores"]] == [s is None for s in expected]
    known = [(a, b) for a, b in zip(found["scores"], expected, strict=True) if b is not None]
    assert [a for a, _ in known] == pytest.approx([b for _, b in known], rel=1e-5, abs=1e-5)
    if clip:
        assert all(1.0 <= a <= 5.0 for a, _ in known)


def test_numeric_ids_may_be_given_as_strings(client):
    as_numbers = client.post("/score", json={"pairs": [[1, 1], [2, 5]]}).json()
    as_strings = client.post("/score", json={"pairs": [["1", "1"], ["2", 5]]}).json()
    assert as_numbers["scores"] == as_strings["scores"]
    assert None not in as_numbers["scores"]


def test_strict_refuses_the_first_unknown_pair(client):
    answer = client.post("/score", json={"pairs": [[1, 1], [1, 999]], "strict": True})
    assert_error(answer, 404, "pairs[1][1]", "unknown item 999 of model 'default'")
    answer = client.post(
        "/score", json={"model": "items", "pairs": [["u999", "i1"]], "strict": True}
    )
    assert_error(answer, 404, "pairs[0][0]", "unknown user \"u999\" of model 'items'")
