"""Convolutional layers: accepted by the language, not yet compiled.

The spec validates DSSTNE's keys (``Kernel``, ``KernelStride``) so that configs such as
DSSTNE's CIFAR-10 sample load; compiling one stops with a clear error until the layer is
implemented.
"""

from __future__ import annotations

from netcfg.layers.common import LayerType, LayerTypeName
from netcfg.layers.computed import KernelSize, WeightedLayerSpec
from netcfg.layers.registry import BuildContext, Built, register_layer
from netcfg.spec_base import spec_field

__all__ = ["ConvolutionalLayerSpec", "build_convolutional"]


class ConvolutionalLayerSpec(WeightedLayerSpec):
    """A Hidden or Output layer convolving its sources with learned kernels."""

    Type: LayerTypeName = spec_field(LayerType.Convolutional, description="Convolutional.")
    Kernel: KernelSize = spec_field(1, description="Kernel size: x, [x], [x, y] or [x, y, z].")
    KernelStride: KernelSize = spec_field(1, description="Stride: x, [x], [x, y] or [x, y, z].")


@register_layer("Convolutional")
def build_convolutional(spec: ConvolutionalLayerSpec, ctx: BuildContext) -> Built:
    """Stop with a compile error: convolution is not implemented yet."""
    raise ctx.error(
        "Convolutional layers are not supported yet: the config is valid, but netcfg cannot "
        "compile it (FullyConnected and Pooling DotProduct/Cosine layers are)",
        "Type",
    )
