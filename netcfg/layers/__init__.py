"""Layers: one module per family, each with its spec, builder and plain torch module.

``LayerSpec`` is the tagged union of layer specs: Input layers by their ``Kind``, the
others by their ``Type``. Its tags are exactly the keys of the builder registry.
"""

from typing import Any

from netcfg.layers.common import LayerKind, LayerType
from netcfg.layers.convolutional import ConvolutionalLayerSpec
from netcfg.layers.fully_connected import FullyConnected, FullyConnectedLayerSpec
from netcfg.layers.input import InputLayer, InputLayerSpec
from netcfg.layers.merge import Merge, MergeLayerSpec
from netcfg.layers.pooling import PairwiseScore, PoolingLayerSpec
from netcfg.layers.projection import Projection, SharedProjection
from netcfg.layers.registry import BuildContext, Built, Shape, get_builder, layer_tags
from netcfg.layers.variational import Variational, VariationalLayerSpec
from netcfg.spec_unions import tagged_union

__all__ = [
    "LAYER_SPECS",
    "BuildContext",
    "Built",
    "ConvolutionalLayerSpec",
    "FullyConnected",
    "FullyConnectedLayerSpec",
    "InputLayer",
    "InputLayerSpec",
    "LayerSpec",
    "Merge",
    "MergeLayerSpec",
    "PairwiseScore",
    "PoolingLayerSpec",
    "Projection",
    "Shape",
    "SharedProjection",
    "Variational",
    "VariationalLayerSpec",
    "get_builder",
    "layer_tag",
    "layer_tags",
    "spec_tag",
]

LAYER_SPECS = {
    "Input": InputLayerSpec,
    LayerType.FullyConnected.value: FullyConnectedLayerSpec,
    LayerType.Convolutional.value: ConvolutionalLayerSpec,
    LayerType.Pooling.value: PoolingLayerSpec,
    LayerType.Variational.value: VariationalLayerSpec,
    LayerType.Merge.value: MergeLayerSpec,
}
"""Layer union tag -> spec class."""

_TYPES = {t.value.lower(): t.value for t in LayerType}


def _text(value: Any) -> Any:
    return value.value if isinstance(value, LayerKind | LayerType) else value


def layer_tag(layer: Any) -> str | None:
    """The union tag of a layer mapping: ``"Input"`` for Input layers, else its Type.

    An unknown Type is returned as written, for pydantic to report as an invalid tag.
    """
    kind = _text(layer.get("Kind"))
    if isinstance(kind, str) and kind.strip().lower() == LayerKind.Input.value.lower():
        return "Input"
    if "Type" not in layer and isinstance(kind, str) and kind.strip().lower() in _TYPES:
        return _TYPES[kind.strip().lower()]  # a Type written as Kind: its spec says so
    layer_type = _text(layer.get("Type", LayerType.FullyConnected.value))
    if not isinstance(layer_type, str):
        return None
    return _TYPES.get(layer_type.strip().lower(), layer_type)


LayerSpec = tagged_union(
    "layer_type",
    LAYER_SPECS,
    key="Type",
    what="layer Type",
    tag_of=layer_tag,
    spellings=tuple(t.value for t in LayerType),
    describe={
        "Input": "Input layers",
        "FullyConnected": "FullyConnected layers",
        "Convolutional": "Convolutional layers",
        "Pooling": "Pooling layers",
        "Variational": "Variational layers",
        "Merge": "Merge layers",
    },
    rejected={
        "Convolution": "Type 'Convolution' appears in DSSTNE's docs but its parser rejects "
        "it; write 'Convolutional'",
    },
)
"""A layer of any kind: the type of each element of ``Layers``."""


_TAG_OF_CLASS = {cls: tag for tag, cls in LAYER_SPECS.items()}


def spec_tag(layer: Any) -> str:
    """The union tag (registry key) of a validated layer spec."""
    return _TAG_OF_CLASS[type(layer)]
