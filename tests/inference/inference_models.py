"""Random models and data for the inference tests (imported as ``inference_models``)."""

from __future__ import annotations

import numpy as np
import torch

from netcfg import compile_network, validate_config
from netcfg.data.ids import IdIndex
from netcfg.data.interactions import Interactions
from netcfg.trainers.rundir import LoadedModel


def autoencoder_config(hidden: int = 8, activation: str = "Tanh") -> dict:
    """A small autoencoder over a DataSet named ratings."""
    return {
        "ErrorFunction": "MaskedMSE",
        "Layers": [
            {"Name": "In", "Kind": "Input", "N": "auto", "DataSet": "ratings", "Sparse": True},
            {"Name": "H", "N": hidden, "Activation": activation},
            {
                "Name": "Out",
                "Kind": "Output",
                "N": "auto",
                "DataSet": "ratings",
                "Activation": "Linear",
            },
        ],
    }


def random_matrix(
    users: int, items: int, density: float, seed: int, user_ids=None, item_ids=None
) -> Interactions:
    """Random ratings with the given ids (default 100.. for users, 1000.. for items)."""
    rng = np.random.default_rng(seed)
    dense = np.where(rng.random((users, items)) < density, rng.integers(1, 6, (users, items)), 0)
    rows, cols = np.nonzero(dense)
    user_ids = IdIndex(np.arange(users) + 100) if user_ids is None else user_ids
    item_ids = IdIndex(np.arange(items) + 1000) if item_ids is None else item_ids
    return Interactions.from_coo(
        rows, cols, dense[rows, cols].astype(np.float32), None, user_ids, item_ids
    )[0]


def random_model(
    rows: IdIndex,
    columns: IdIndex,
    seed: int,
    orientation: str = "user",
    hidden: int = 8,
    baseline: dict | None = None,
) -> LoadedModel:
    """An untrained model over the given ids (what predict needs, without training);
    ``baseline``: a rating Baseline, its global mean set to 3."""
    spec = validate_config({**autoencoder_config(hidden), "Baseline": baseline})
    torch.manual_seed(seed)
    network = compile_network(spec, {"ratings": len(columns)}).eval()
    if baseline is not None:
        network.baseline.start_at(3.0)
    run = {
        "datasets": {
            "ratings": {
                "orientation": orientation,
                "numeric_ids": {"rows": rows.numeric, "columns": columns.numeric},
            }
        }
    }
    return LoadedModel(spec, network, run, {"ratings": (rows, columns)})
