"""Writing the zoo benchmark's results into model cards."""

from __future__ import annotations

import pytest
from cards import headline, results_table, update_card

from netcfg.zoo_cards import parse_card

CARD = """---
title: I-AutoRec
task: rating prediction
dataset: MovieLens 100K, u1.base/u1.test
metric: RMSE
measured: null   # to be measured
published: 0.831 on ML-1M
train_seconds: 14
---
# autorec-i-ml100k

Prose before.

<!-- results -->
| stale | table |
<!-- /results -->

Prose after: measured: 0.5
"""


def test_headline_picks_the_metric_the_card_names():
    measured = {"Recall@20": 0.3, "NDCG@20": 0.25}
    assert headline("NDCG@20", measured) == "NDCG@20"
    assert headline("test recall@20 (u1)", measured) == "Recall@20"
    assert headline("RMSE on u1.test", {"RMSE": 0.9, "MAE": 0.7}) == "RMSE"
    with pytest.raises(KeyError, match="none of Recall@20, NDCG@20"):
        headline("Recall@10", measured)


def test_update_rewrites_two_keys_and_the_table_only(tmp_path):
    path = tmp_path / "CARD.md"
    path.write_text(CARD)
    table = results_table([("u1", {"RMSE": "0.9037", "MAE": "0.71"}), ("mean", {"RMSE": "0.91"})])
    assert table.split("\n") == [
        "| protocol | RMSE | MAE |",
        "|---|---|---|",
        "| u1 | 0.9037 | 0.71 |",
        "| mean | 0.91 |  |",
    ]
    update_card(path, 0.90371, 34.6, table)
    expected = (
        CARD.replace("measured: null   # to be measured", "measured: 0.9037")
        .replace("train_seconds: 14", "train_seconds: 35")
        .replace("| stale | table |", table)
    )
    assert path.read_text() == expected
    card = parse_card(path, "autorec-i-ml100k")
    assert card.measured == 0.9037 and card.train_seconds == 35
    update_card(path, 0.8, 10, table)  # again: the table is replaced, not appended
    assert path.read_text().count("| protocol | RMSE | MAE |") == 1


def test_cards_without_markers_or_keys(tmp_path):
    path = tmp_path / "CARD.md"
    path.write_text(CARD.replace("<!-- results -->\n| stale | table |\n<!-- /results -->\n", ""))
    update_card(path, 0.9, 20, "| new |")
    assert "| new |" not in path.read_text() and "measured: 0.9000" in path.read_text()
    path.write_text(CARD.replace("train_seconds: 14\n", ""))
    with pytest.raises(ValueError, match="no 'train_seconds:' line"):
        update_card(path, 0.9, 20, "")
    path.write_text("# no front matter\n")
    with pytest.raises(ValueError, match="no front matter"):
        update_card(path, 0.9, 20, "")
