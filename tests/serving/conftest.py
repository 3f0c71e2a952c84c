"""Fixtures of the serving tests: two tiny trained models and real servers on loopback.

The ``user`` model is user-based over numeric ids (new users are folded in); the ``item``
model is item-based (I-AutoRec) over string ids. Both train for two epochs on random
ratings, in seconds.
"""

from __future__ import annotations

import pytest
from serving_helpers import ratings_file, running

import netcfg
from netcfg.serving.settings import ServeSettings

try:
    import fastapi  # noqa: F401
    import httpx
    import uvicorn  # noqa: F401
except ImportError:  # without the serve extra, there is no server to test
    collect_ignore_glob = ["test_*.py"]


def _config(train, test, orientation: str) -> dict:
    return {
        "ErrorFunction": "MaskedMSE",
        "Layers": [
            {"Name": "In", "Kind": "Input", "N": "auto", "DataSet": "ratings", "Sparse": True},
            {"Name": "H", "N": 8, "Activation": "Tanh"},
            {"Name": "Out", "Kind": "Output", "N": "auto", "DataSet": "ratings"},
        ],
        "Data": {"ratings": {"Path": str(train), "Test": str(test), "Orientation": orientation}},
        "Training": {"Optimizer": "Adam", "Epochs": 2, "BatchSize": 16, "Seed": 1},
    }


@pytest.fixture(scope="session")
def trained(tmp_path_factory) -> dict:
    """Run directories and data files: ``user`` and ``item`` models, their train files."""
    folder = tmp_path_factory.mktemp("serving")
    made = {}
    for name, orientation, users, items, prefixes in (
        ("user", "User", 60, 40, ("", "")),
        ("item", "Item", 40, 30, ("u", "i")),
    ):
        train = ratings_file(folder / f"{name}-train.tsv", users, items, 0.3, 1, *prefixes)
        test = ratings_file(folder / f"{name}-test.tsv", users, items, 0.05, 2, *prefixes)
        result = netcfg.train(_config(train, test, orientation), out=folder / name)
        made[name] = result.run_dir
        made[f"{name}-train"] = train
    return made


@pytest.fixture(scope="session")
def models(trained) -> list:
    """The two models loaded for serving (``default``: the user model; ``items``)."""
    from netcfg.serving.served import load_served_model

    return [
        load_served_model("default", str(trained["user"])),
        load_served_model("items", str(trained["item"])),
    ]


@pytest.fixture(scope="session")
def server(models):
    """A server of both models (batches of up to 16) on a free loopback port; its URL."""
    from netcfg.serving.app import create_app

    settings = ServeSettings(models=(("default", ""), ("items", "")), max_batch=16)
    with running(create_app(models, settings)) as url:
        yield url


@pytest.fixture(scope="session")
def client(server):
    """An HTTP client of `server`."""
    with httpx.Client(base_url=server, timeout=30) as http:
        yield http
