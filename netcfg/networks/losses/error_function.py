"""The ``ErrorFunction`` key: DSSTNE's losses plus the masked MSE of DeepRec."""

from __future__ import annotations

import enum

from netcfg.spec_base import spec_enum

__all__ = ["ErrorFunctionKind", "ErrorFunctionName"]


class ErrorFunctionKind(str, enum.Enum):
    """Loss functions, by their canonical DSSTNE spelling (``MaskedMSE`` is netcfg's)."""

    L1 = "L1"
    L2 = "L2"
    L2Hinge = "L2Hinge"
    Hinge = "Hinge"
    CrossEntropy = "CrossEntropy"
    ScaledMarginalCrossEntropy = "ScaledMarginalCrossEntropy"
    DataScaledMarginalCrossEntropy = "DataScaledMarginalCrossEntropy"
    MaskedMSE = "MaskedMSE"


ErrorFunctionName = spec_enum(
    ErrorFunctionKind,
    "ErrorFunction",
    aliases={"Cross Entropy": "CrossEntropy", "MaskedMeanSquaredError": "MaskedMSE"},
    rejected={
        "SMCE": "ErrorFunction 'SMCE' appears in DSSTNE's docs but its parser rejects it; "
        "write 'ScaledMarginalCrossEntropy'",
    },
)
"""The ``ErrorFunction`` key's type: case-insensitive, with DSSTNE's aliases."""
