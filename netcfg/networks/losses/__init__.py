"""Losses of output layers (DSSTNE's ErrorFunctions) and the sparseness penalty."""

from netcfg.networks.losses.base import OutputLoss
from netcfg.networks.losses.cross_entropy import (
    CrossEntropyLoss,
    DataScaledMarginalCrossEntropyLoss,
    ScaledMarginalCrossEntropyLoss,
)
from netcfg.networks.losses.distance import HingeLoss, L1Loss, L2HingeLoss, L2Loss
from netcfg.networks.losses.error_function import ErrorFunctionKind
from netcfg.networks.losses.factory import create_loss
from netcfg.networks.losses.masked_mse import MaskedMSELoss
from netcfg.networks.losses.pairing import pairing_problem
from netcfg.networks.losses.sparseness import SparsenessPenalty

__all__ = [
    "CrossEntropyLoss",
    "DataScaledMarginalCrossEntropyLoss",
    "ErrorFunctionKind",
    "HingeLoss",
    "L1Loss",
    "L2HingeLoss",
    "L2Loss",
    "MaskedMSELoss",
    "OutputLoss",
    "ScaledMarginalCrossEntropyLoss",
    "SparsenessPenalty",
    "create_loss",
    "pairing_problem",
]
