"""A tiny config for trainer tests (imported as ``trainer_configs``)."""

from __future__ import annotations

TINY = {
    "Name": "tiny",
    "ErrorFunction": "MaskedMSE",
    "Layers": [
        {"Name": "Input", "Kind": "Input", "N": "auto", "DataSet": "ratings", "Sparse": True},
        {"Name": "Hidden", "N": 16, "Activation": "Selu"},
        {
            "Name": "Output",
            "Kind": "Output",
            "N": "auto",
            "DataSet": "ratings",
            "Sparse": True,
            "Activation": "Linear",
        },
    ],
    "Data": {
        "ratings": {
            "Synthetic": {"Users": 300, "Items": 80, "Density": 0.1, "Seed": 0},
            "Protocol": {"Type": "random", "Fractions": [0.8, 0.1, 0.1], "Seed": 0},
        }
    },
    "Training": {
        "Optimizer": {"Type": "Adam", "LearningRate": 0.01},
        "BatchSize": 32,
        "Epochs": 4,
        "Seed": 3,
    },
    "Evaluation": {"Metrics": ["RMSE", "MAE"]},
}
