"""The root spec: DSSTNE's network description plus netcfg's Training, Data and Evaluation.

Keys here are canonical (the loader maps case variants and aliases first). Before fields
are validated, `fill_layer_defaults` applies DSSTNE's positional defaults (first layer
Input, last Output, names such as ``Hidden1``) and copies the network-level activation
parameters into layers that do not set them, so the validated spec is fully resolved.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BeforeValidator, ValidationError, model_validator
from pydantic_core import InitErrorDetails

from netcfg.data.spec import DataSource
from netcfg.experiments.spec import SearchParameter
from netcfg.layers import LayerSpec, layer_tag
from netcfg.layers.activations import SELU_ALPHA, SELU_LAMBDA, ActivationKind
from netcfg.layers.common import LayerKind, SparsenessPenaltySpec
from netcfg.networks.baseline import BaselineSpec
from netcfg.networks.losses.error_function import ErrorFunctionKind, ErrorFunctionName
from netcfg.networks.rbm_spec import RBMSpec, rbm_problems
from netcfg.spec_base import OneOrMany, SpecBase, spec_enum, spec_error, spec_field
from netcfg.trainers.spec import EvaluationSpec, TrainingSpec

__all__ = [
    "DeltaBoostSpec",
    "DenoisingSpec",
    "LocalResponseNormalizationSpec",
    "MaxOutSpec",
    "ModelSpec",
    "NetworkKind",
    "ScaledMarginalCrossEntropySpec",
    "default_kind",
    "default_name",
    "fill_layer_defaults",
    "fill_layer_names",
]


class NetworkKind(str, enum.Enum):
    """DSSTNE's network Kind (AutoEncoder changes no behaviour, as in DSSTNE), and netcfg's
    RBM: a restricted Boltzmann machine for ratings (`netcfg.networks.rbm_spec`)."""

    FeedForward = "FeedForward"
    AutoEncoder = "AutoEncoder"
    RBM = "RBM"


NetworkKindName = spec_enum(NetworkKind, "network Kind")


class LocalResponseNormalizationSpec(SpecBase):
    """Parameters of LRN pooling."""

    k: float = spec_field(2.0, description="Additive constant.")
    n: int = spec_field(5, ge=1, description="Window size, in channels (the last dimension).")
    alpha: float = spec_field(1e-4, description="Scale.")
    beta: float = spec_field(0.75, description="Exponent.")


class MaxOutSpec(SpecBase):
    """Parameters of Maxout pooling."""

    k: int = spec_field(
        2,
        ge=1,
        description="Parsed as in DSSTNE, whose Maxout pooling (like netcfg's) does not read "
        "it: Maxout is the elementwise maximum of the layer's sources.",
    )


class DenoisingSpec(SpecBase):
    """Denoising of every sparse Input layer (training only)."""

    p: float = spec_field(
        0.0,
        ge=0.0,
        lt=1.0,
        description="Probability of dropping each stored input value; kept values are "
        "scaled by 1/(1-p). On only if p > 0.",
    )


class DeltaBoostSpec(SpecBase):
    """Gradient multipliers for sparse targets (L1, L2, L2Hinge, CrossEntropy)."""

    one: float = spec_field(1.0, ge=0.0, description="Multiplier at nonzero targets.")
    zero: float = spec_field(1.0, ge=0.0, description="Multiplier at zero targets.")


class ScaledMarginalCrossEntropySpec(SpecBase):
    """Margins and scales of (Data)ScaledMarginalCrossEntropy."""

    oneTarget: float = spec_field(
        0.9, description="Positive targets count only while the output is below this."
    )
    zeroTarget: float = spec_field(
        0.1, description="Zero targets count only while the output is above this."
    )
    oneScale: float = spec_field(1.0, ge=0.0, description="Weight of positive targets.")
    zeroScale: float = spec_field(1.0, ge=0.0, description="Weight of zero targets.")


def _activation_of(layer: Mapping[str, Any]) -> Any:
    raw = layer.get("Activation", ActivationKind.Sigmoid.value)
    raw = getattr(raw, "value", raw)
    return raw.strip().lower() if isinstance(raw, str) else None


def _layer_list(data: Any) -> list[Any] | None:
    layers = data.get("Layers") if isinstance(data, Mapping) else None
    if isinstance(layers, Mapping):
        return [layers]
    return layers if isinstance(layers, list) else None


def default_kind(index: int, count: int) -> str:
    """DSSTNE's Kind by position: the first layer is Input, the last Output, others Hidden."""
    if index == 0:
        return LayerKind.Input.value
    return LayerKind.Output.value if index == count - 1 else LayerKind.Hidden.value


def default_name(kind: Any, index: int) -> str | None:
    """DSSTNE's default layer name: Kind and index (``Hidden1``); None for a bad Kind."""
    kind = getattr(kind, "value", kind)
    return f"{kind.strip().capitalize()}{index}" if isinstance(kind, str) else None


def fill_layer_names(data: Any) -> Any:
    """Fill DSSTNE's positional ``Kind`` and ``Name`` of each layer that lacks them.

    Works on a canonical-key mapping and returns a new one (idempotent): the first layer
    is an Input, the last an Output and the others Hidden; a name is Kind plus index
    (``Input0``, ``Hidden1``). ``Layers`` given as a single object becomes a list.
    """
    layers = _layer_list(data)
    if layers is None:
        return data
    filled = []
    for index, layer in enumerate(layers):
        if isinstance(layer, Mapping):
            layer = dict(layer)
            layer.setdefault("Kind", default_kind(index, len(layers)))
            if "Name" not in layer and default_name(layer["Kind"], index):
                layer["Name"] = default_name(layer["Kind"], index)
        filled.append(layer)
    return {**data, "Layers": filled}


def fill_layer_defaults(data: Any) -> Any:
    """Resolve every positional and inherited layer default (idempotent).

    Besides `fill_layer_names`: a computed layer without ``Source`` takes the previous
    layer; missing RELUSlope, ELUAlpha and SELULambda come from the network-level keys
    (ELUAlpha of a Selu layer defaults to the SELU constant 1.6732632 when neither the
    layer nor the network sets it; DSSTNE's 1.0 would not be SELU).
    """
    data = fill_layer_names(data)
    layers = _layer_list(data)
    if layers is None:
        return data
    network = {
        "RELUSlope": data.get("RELUSlope", 1.0),
        "SELULambda": data.get("SELULambda", SELU_LAMBDA),
    }
    filled = []
    previous = None
    for layer in layers:
        if isinstance(layer, Mapping) and layer_tag(layer) != "Input":
            layer = {**network, **layer}
            if "Source" not in layer and isinstance(previous, Mapping) and "Name" in previous:
                layer["Source"] = [previous["Name"]]
            if "ELUAlpha" not in layer:
                alpha = data.get("ELUAlpha")
                if alpha is None:
                    alpha = SELU_ALPHA if _activation_of(layer) == "selu" else 1.0
                layer["ELUAlpha"] = alpha
        filled.append(layer)
        previous = layer
    return {**data, "Layers": filled}


LayerList = Annotated[
    list[LayerSpec],
    BeforeValidator(lambda v: [v] if isinstance(v, Mapping) else v),
    OneOrMany(),
]


class ModelSpec(SpecBase):
    """A whole config: DSSTNE's network keys plus Training, Data and Evaluation."""

    rejected_keys = {
        "weightdata": "DSSTNE's parser rejects 'WeightData' (an LDL spelling); write 'WeightsData'",
        "trainingparameters": "'TrainingParameters' belongs to DSSTNE's command files, not "
        "to the network; put training settings under 'Training'",
        "decaypolicy": "there is no 'DecayPolicy' key; use 'Decay' or 'Training.Schedule'",
        "smce": "DSSTNE's parser rejects 'SMCE'; write 'ScaledMarginalCrossEntropy'",
    }

    Version: float = spec_field(0.9, ge=0.7, description="Language version (>= 0.7).")
    Name: str = spec_field("", description="Name of the network.")
    Kind: NetworkKindName = spec_field(
        NetworkKind.FeedForward,
        description="FeedForward or AutoEncoder (same behaviour), or RBM: a restricted "
        "Boltzmann machine for ratings, trained by contrastive divergence (see RBM).",
    )
    WeightsData: str | None = spec_field(
        None, description="Accepted for DSSTNE compatibility; unused (as in DSSTNE)."
    )
    LocalResponseNormalization: LocalResponseNormalizationSpec = spec_field(
        LocalResponseNormalizationSpec(),
        aliases=["LRN"],
        description="k, n, alpha and beta of local response normalization (LRN pooling).",
    )
    MaxOut: MaxOutSpec = spec_field(
        MaxOutSpec(), description="Accepted for DSSTNE compatibility; unused (as in DSSTNE)."
    )
    SparsenessPenalty: SparsenessPenaltySpec = spec_field(
        SparsenessPenaltySpec(),
        description="KL sparseness penalty on Hidden layers marked Sparse (on if beta > 0).",
    )
    Denoising: DenoisingSpec = spec_field(
        DenoisingSpec(), description="Denoising of sparse inputs (on if p > 0)."
    )
    Baseline: BaselineSpec | None = spec_field(
        None,
        description="netcfg extension, for rating autoencoders (MaskedMSE): predict each "
        "rating as the global mean plus the row's shrunk mean offset plus what the network "
        "adds (netcfg.networks.baseline). Off when absent.",
    )
    DeltaBoost: DeltaBoostSpec = spec_field(
        DeltaBoostSpec(), description="Gradient multipliers for sparse targets."
    )
    ScaledMarginalCrossEntropy: ScaledMarginalCrossEntropySpec = spec_field(
        ScaledMarginalCrossEntropySpec(),
        aliases=["DataScaledMarginalCrossEntropy"],
        description="Parameters of (Data)ScaledMarginalCrossEntropy (either name).",
    )
    ShuffleIndices: bool = spec_field(True, description="Shuffle examples every epoch.")
    RELUSlope: float = spec_field(
        1.0, aliases=["Slope"], description="Default LRelu slope of the layers."
    )
    ELUAlpha: float | None = spec_field(
        None,
        description="Default ELUAlpha of the layers (unset: 1, or 1.6732632 for Selu layers).",
    )
    SELULambda: float = spec_field(SELU_LAMBDA, description="Default SELULambda of the layers.")
    Decay: float = spec_field(
        0.0, ge=0.0, description="Per-batch decay: rate = rate / (1 + Decay * batches)."
    )
    ErrorFunction: ErrorFunctionName = spec_field(
        ErrorFunctionKind.CrossEntropy,
        description="Loss of the Output layers (MaskedMSE: mean squared error over observed "
        "targets only).",
    )
    Layers: LayerList = spec_field(description="The layers (a single object is accepted too).")
    RBM: RBMSpec | None = spec_field(
        None,
        description='netcfg, for Kind "RBM": the rating Levels of its softmax visible units '
        "and its contrastive-divergence schedule CD (defaults when absent).",
    )
    Training: TrainingSpec = spec_field(
        TrainingSpec(), description="netcfg: how to train (optimizer, schedule, epochs...)."
    )
    Data: dict[str, DataSource] = spec_field(
        {}, description="netcfg: DataSet name -> data source (path or fetchable name)."
    )
    Evaluation: EvaluationSpec = spec_field(
        EvaluationSpec(), description="netcfg: metrics reported on validation and test."
    )
    Search: dict[str, SearchParameter] = spec_field(
        {},
        description="netcfg: the hyper-parameters `netcfg tune` searches: a --set path "
        "(Layers.Hidden.N) -> a range ({Type: Int|Float, Low, High, Step, Log}) or choices "
        "({Type: Categorical, Choices: [...]}, or just the list). Empty: no search.",
    )
    Extends: str | None = spec_field(
        None,
        description="netcfg: a config file (relative path) or 'zoo:NAME' that this one builds "
        "on; resolved when loading (deep merge, layers merged by Name).",
    )

    @model_validator(mode="before")
    @classmethod
    def _fill_defaults(cls, data: Any) -> Any:
        return fill_layer_defaults(data)

    @model_validator(mode="after")
    def _check_rbm(self) -> ModelSpec:
        problems = [
            InitErrorDetails(type=spec_error(message), loc=loc, input=None)
            for loc, message in rbm_problems(self)
        ]
        if problems:
            raise ValidationError.from_exception_data(type(self).__name__, problems)
        return self

    def layer(self, name: str) -> LayerSpec:
        """The layer called ``name``."""
        for layer in self.Layers:
            if layer.Name == name:
                return layer
        raise KeyError(name)

    def layers_of_kind(self, kind: LayerKind) -> list[LayerSpec]:
        """Layers of one Kind, in config order."""
        return [layer for layer in self.Layers if layer.Kind is kind]

    def input_datasets(self) -> list[str]:
        """DataSets read by Input layers, in config order, without repeats."""
        return list(dict.fromkeys(layer.DataSet for layer in self.layers_of_kind(LayerKind.Input)))

    def target_datasets(self) -> list[str]:
        """DataSets of the Output layers' targets, in config order, without repeats."""
        return list(dict.fromkeys(layer.DataSet for layer in self.layers_of_kind(LayerKind.Output)))
