"""Model cards of the shipped zoo: front matter, config files and smoke overrides."""

from __future__ import annotations

import json

import pytest

from netcfg.errors import ConfigError
from netcfg.zoo import zoo_names, zoo_root
from netcfg.zoo_cards import ZooCard, parse_card, zoo_card, zoo_cards, zoo_config, zoo_smoke

FRONT = """---
title: I-AutoRec
task: rating prediction          # or: top-N ranking
dataset: MovieLens 100K, u1.base/u1.test
metric: RMSE                     # the headline metric
measured: 0.8874
published: 0.831 on ML-1M (Sedhain et al. 2015)
train_seconds: 14
---
"""


@pytest.fixture
def entries(tmp_path, monkeypatch):
    """A zoo root in tmp_path: returns a function that adds an entry from its files."""
    monkeypatch.setattr("netcfg.zoo.zoo_root", lambda: tmp_path)

    def add(name: str, **files: str):
        (tmp_path / name).mkdir()
        for filename, text in files.items():
            (tmp_path / name / filename.replace("_", ".")).write_text(text)
        return tmp_path / name

    return add


def test_every_shipped_card_parses_and_names_a_config():
    cards = zoo_cards()
    assert [card.name for card in cards] == zoo_names() and "quickstart" in zoo_names()
    for card in cards:
        assert zoo_config(card.name).parent == zoo_root() / card.name
        if (zoo_root() / card.name / "smoke.json").is_file():
            assert all("=" in override for override in zoo_smoke(card.name))


def test_quickstart_card():
    card = zoo_card("zoo:quickstart")
    assert card == ZooCard(
        name="quickstart",
        title="Quickstart",
        task="rating prediction",
        dataset="synthetic 6000 x 1500 (generated)",
        metric="RMSE",
        measured=card.measured,
        published=None,
        train_seconds=card.train_seconds,
        body=card.body,
    )
    # the body states the same result as the front matter
    assert card.body.startswith("# quickstart\n")
    assert f"test RMSE {card.measured:.3f}" in card.body
    assert zoo_config("quickstart") == zoo_root() / "quickstart" / "model.json"


def test_a_card_with_every_key(entries):
    folder = entries("autorec", CARD_md=FRONT + "# I-AutoRec\n", model_yaml="Name: x\n")
    card = parse_card(folder / "CARD.md")
    assert (card.name, card.measured, card.train_seconds) == ("autorec", 0.8874, 14.0)
    assert card.published == "0.831 on ML-1M (Sedhain et al. 2015)"
    assert card.dataset == "MovieLens 100K, u1.base/u1.test" and card.body == "# I-AutoRec\n"
    assert zoo_config("autorec") == folder / "model.yaml"


def test_a_card_without_front_matter_names_the_file(entries):
    folder = entries("bare", CARD_md="# bare\n\ntitle: x\n")
    with pytest.raises(ConfigError) as caught:
        zoo_card("bare")
    assert str(caught.value) == (
        f"{folder / 'CARD.md'}:1: a zoo card must begin with a front matter block: a '---' "
        "line, the keys title, task, dataset, metric, measured, published, train_seconds, and "
        "a closing '---' line"
    )


def test_every_problem_of_the_front_matter_is_reported_with_its_line(entries):
    text = FRONT.replace("task: rating prediction", "task: ranking")
    text = text.replace("measured: 0.8874", "measured: good\ntrain_secs: 3")
    text = text.replace("train_seconds: 14\n", "")
    folder = entries("broken", CARD_md=text)
    with pytest.raises(ConfigError) as caught:
        zoo_card("broken")
    card = folder / "CARD.md"
    assert str(caught.value).splitlines() == [
        f"{card}:1: train_seconds: missing (write null if unknown)",
        f"{card}:3: task: expected 'rating prediction' or 'top-N ranking' (got 'ranking')",
        f"{card}:6: measured: expected a number or null (got 'good')",
        f"{card}:7: train_secs: unknown key (keys: title, task, dataset, metric, measured, "
        "train_seconds, published)",
    ]


def test_a_yaml_error_names_its_line(entries):
    folder = entries("yaml", CARD_md=FRONT.replace("metric: RMSE", "metric: [RMSE"))
    with pytest.raises(ConfigError, match=rf"^{folder / 'CARD.md'}:\d+: front matter: "):
        zoo_card("yaml")


def test_a_missing_card_is_named(entries):
    folder = entries("nocard", model_json="{}")
    with pytest.raises(ConfigError, match=f"^{folder / 'CARD.md'}: the zoo entry has no CARD.md$"):
        zoo_card("nocard")


def test_smoke_overrides(entries):
    overrides = ["Training.Epochs=1", 'Data.ratings={"Synthetic": {"Users": 40}}']
    entries("tiny", smoke_json=json.dumps(overrides))
    assert zoo_smoke("zoo:tiny") == overrides


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"Training.Epochs": 1}', ':1: expected a JSON list of "KEY=VALUE" strings'),
        ('["Training.Epochs=1",', ":1:22: Expecting value"),
        (None, ": the zoo entry has no smoke.json"),
    ],
)
def test_bad_smoke_files_are_named(entries, text, message):
    folder = entries("smoky", **({} if text is None else {"smoke_json": text}))
    with pytest.raises(ConfigError) as caught:
        zoo_smoke("smoky")
    assert str(caught.value) == f"{folder / 'smoke.json'}{message}"


def test_an_unknown_entry_suggests_a_close_name():
    with pytest.raises(ConfigError) as caught:
        zoo_card("quikstart")
    assert (
        str(caught.value) == "zoo:quikstart: no zoo entry 'quikstart'; did you mean 'quickstart'?"
    )
