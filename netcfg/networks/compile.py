"""The pure compile step: a validated spec (and dataset widths) -> a `Network` module.

Compile does no I/O, loads no weights and picks no device: run it under
``with torch.device("meta"):`` to check shapes and count parameters without memory, as
``netcfg validate`` does. Every layer that can be checked is, so all problems are
reported at once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from torch import nn

from netcfg.config.limits import collector_paused
from netcfg.errors import CompileError, Issue
from netcfg.layers import SharedProjection, get_builder, spec_tag
from netcfg.layers.common import LayerKind, LayerType, width_dims
from netcfg.layers.compute import ComputeMode
from netcfg.layers.projection import Projection
from netcfg.layers.registry import BuildContext, Built
from netcfg.networks.baseline import RatingBaseline
from netcfg.networks.checks import layer_dependencies, shared_source
from netcfg.networks.graph import topological_order
from netcfg.networks.losses import SparsenessPenalty, create_loss
from netcfg.networks.network import Network
from netcfg.networks.rbm import RBMNetwork, build_rbm
from netcfg.networks.sizes import size_problem
from netcfg.networks.spec import ModelSpec, NetworkKind

__all__ = ["Widths", "compile_network", "resolve_widths"]

Widths = Mapping[str, int | Sequence[int]]
"""Width of each dataset, by DataSet name: a number of columns, or dimensions."""


def resolve_widths(
    spec: ModelSpec, widths: Widths | None = None
) -> tuple[dict[str, tuple[int, ...] | None], list[Issue]]:
    """The dimensions of every layer, with ``"auto"`` taken from the DataSet widths.

    A layer with an explicit N also fixes the width of its DataSet for ``"auto"`` layers
    on the same DataSet (DSSTNE's autoencoders read one dataset twice).

    Returns:
        Layer name -> dimensions (None where unknown, as for Pooling without N), and
        the problems: unknown widths and explicit widths that contradict the data.
    """
    known = {
        name: width_dims(w) if isinstance(w, int) else tuple(w)
        for name, w in (widths or {}).items()
    }
    stated = {
        layer.DataSet: width_dims(layer.N)
        for layer in spec.Layers
        if getattr(layer, "DataSet", None) and getattr(layer, "N", None) not in (None, "auto")
    }
    dims: dict[str, tuple[int, ...] | None] = {}
    issues = []
    for index, layer in enumerate(spec.Layers):
        n = getattr(layer, "N", None)
        dataset = getattr(layer, "DataSet", None)
        path = ("Layers", index, "N")
        if n is None:
            dims[layer.Name] = None
        elif n != "auto":
            dims[layer.Name] = width_dims(n)
            if dataset in known and not _fits(known[dataset], dims[layer.Name]):
                issues.append(
                    Issue(
                        path,
                        f"layer '{layer.Name}': N is {_text(dims[layer.Name])} "
                        f"but DataSet '{dataset}' has width {_text(known[dataset])}",
                    )
                )
        elif dataset in known or dataset in stated:
            dims[layer.Name] = known.get(dataset) or stated[dataset]
        else:
            dims[layer.Name] = None
            issues.append(
                Issue(
                    path,
                    f"layer '{layer.Name}': N is \"auto\" but the width of "
                    f"DataSet '{dataset}' is unknown; give the data (--data) or "
                    f"a width (--set Layers.{layer.Name}.N=...)",
                )
            )
    return dims, issues


def _fits(data: tuple[int, ...], layer: tuple[int, ...]) -> bool:
    """Whether a DataSet of ``data`` dimensions fits a layer of ``layer`` dimensions: the
    same, or flat data of as many units (an image of 64 columns feeds an 8x8x1 layer;
    DSSTNE's order, x fastest)."""
    return data == layer or (len(data) == 1 and data[0] == math.prod(layer))


def _text(dims: tuple[int, ...]) -> str:
    return "x".join(str(d) for d in dims)


def compile_network(spec: ModelSpec, widths: Widths | None = None) -> Network | RBMNetwork:
    """Build the network a spec describes.

    Args:
        spec: a validated spec (`netcfg.load_config`).
        widths: width of each DataSet whose layers say ``"auto"``.

    Returns:
        A plain torch `Network` (an `RBMNetwork` for ``Kind: "RBM"``).

    Raises:
        CompileError: unknown widths, shapes that do not fit, unsupported layers, a layer
            or weight matrix too big (`netcfg.networks.sizes`), found before allocating.

    Example:
        >>> with torch.device("meta"):
        ...     net = compile_network(spec, widths={"gl_input": 1682, "gl_output": 1682})
    """
    with collector_paused():
        return _compile(spec, widths)


def _compile(spec: ModelSpec, widths: Widths | None) -> Network | RBMNetwork:
    dims, issues = resolve_widths(spec, widths)
    if spec.Kind is NetworkKind.RBM:  # its own module: its layers are units of one model
        if issues:
            raise CompileError(issues)
        return build_rbm(spec, dims)
    _widen_for_indicators(spec, dims)
    order = topological_order({layer.Name: layer_dependencies(layer) for layer in spec.Layers})
    index_of = {layer.Name: index for index, layer in enumerate(spec.Layers)}
    built: dict[str, Built] = {}
    for name in order:
        layer = spec.Layers[index_of[name]]
        path = ("Layers", index_of[name])
        ready = all(dep in built for dep in layer_dependencies(layer))
        needs_dims = getattr(layer, "N", None) is not None
        if not ready or (needs_dims and dims[name] is None):
            continue
        try:
            sources = [built[s].shape for s in getattr(layer, "Source", ())]
            _check_size(layer, dims[name], sources, path)
            ctx = BuildContext(
                path=path,
                model=spec,
                sources=sources,
                skips=[built[s].shape for s in getattr(layer, "Skip", ())],
                dims=dims[name],
                shared=_shared(layer, built, spec, index_of, path, dims[name]),
            )
            built[name] = get_builder(spec_tag(layer))(layer, ctx)
        except CompileError as err:
            issues.extend(err.issues)
    if issues:
        raise CompileError(issues)
    network = _network(spec, order, built)
    issues = _forced_sparse_outputs(spec, network, built)
    if issues:
        raise CompileError(issues)
    return network


def _check_size(layer, dims: tuple[int, ...] | None, sources: list, path: tuple) -> None:
    """Stop before allocating a layer wider than 2**31 units or a weight matrix of more
    than 2**31 values (`netcfg.networks.sizes`); shared weights are the owner's."""
    if dims is None:
        return
    weighted = spec_tag(layer) == "FullyConnected"
    shared = {shared_source(layer, share) for share in getattr(layer, "SharedWeights", ())}
    owned = {
        name: shape.size
        for name, shape in zip(getattr(layer, "Source", ()), sources, strict=True)
        if name not in shared
    }
    problem = size_problem(layer.Name, dims, owned, weighted)
    if problem:
        raise CompileError([Issue((*path, "N"), problem)])


def _forced_sparse_outputs(
    spec: ModelSpec, network: Network, built: Mapping[str, Built]
) -> list[Issue]:
    """Problems of Output layers whose ``Compute`` is ``Sparse`` but cannot be sampled."""
    issues = []
    by_name = {layer.Name: layer for layer in spec.Layers}
    readers: dict[str, str] = {}  # layer -> the first layer reading it (Source, then Skip)
    for key in ("Source", "Skip"):
        for other in spec.Layers:
            for name in getattr(other, key, ()):
                readers.setdefault(name, other.Name)
    for index, layer in enumerate(spec.Layers):
        if getattr(layer, "Compute", None) is not ComputeMode.Sparse:
            continue
        if layer.Kind is not LayerKind.Output:
            continue
        why = _why_not_sampled(spec, network, built, layer, by_name, readers.get(layer.Name))
        if why:
            issues.append(
                Issue(
                    ("Layers", index, "Compute"),
                    f"layer '{layer.Name}': Compute \"Sparse\" cannot apply: {why}",
                )
            )
    return issues


def _why_not_sampled(
    spec: ModelSpec,
    network: Network,
    built: Mapping[str, Built],
    layer,
    by_name: Mapping[str, object],
    reader: str | None,
) -> str:
    module = network.layers[layer.Name]
    if not hasattr(module, "sample"):
        return f"a {layer.Type.value} layer is always computed whole"
    if not network.losses[layer.Name].observed_only:
        return (
            f"the {spec.ErrorFunction.value} loss reads every output unit; only "
            "MaskedMSE, and L1, L2, L2Hinge, Hinge or Sigmoid cross entropies on a DataSet "
            "with SparseIgnoreZero, read just the stored targets"
        )
    if reader is not None:
        return f"layer '{reader}' reads all of its outputs"
    if getattr(layer, "DeltaNorm", 0):
        return "DeltaNorm clips each example's whole gradient"
    for source in layer.Source:
        source_spec = by_name[source]
        always_dense = getattr(source_spec, "Compute", None) is ComputeMode.Dense
        if built[source].shape.sparse and not always_dense:
            return (
                f"its source '{source}' is a sparse Input; entries are computed from dense "
                'sources (set "Compute": "Dense" on the Input)'
            )
    return ""


def _shared(
    layer,
    built: Mapping[str, Built],
    spec: ModelSpec,
    index_of: Mapping[str, int],
    path: tuple,
    dims: tuple[int, ...] | None,
) -> list[nn.Module | None]:
    shares = getattr(layer, "SharedWeights", ())
    if not shares:
        return []
    slots: list[nn.Module | None] = [None] * len(layer.Source)
    for number, share in enumerate(shares):
        owner_spec = spec.Layers[index_of[share.SourceOutputLayer]]
        owner = built[owner_spec.Name].module.projections[
            owner_spec.Source.index(share.SourceInputLayer)
        ]
        assert isinstance(owner, Projection)
        borrowed = SharedProjection(owner, transposed=share.Transposed)
        source = shared_source(layer, share)
        need = (built[source].shape.size, math.prod(dims or ()))
        have = (borrowed.in_features, borrowed.out_features)
        if need != have:
            transposed = "transposed " if share.Transposed else ""
            message = (
                f"layer '{layer.Name}' needs a {need[0]}x{need[1]} weight from '{source}', "
                f"but the {transposed}weight of '{owner_spec.Name}' from "
                f"'{share.SourceInputLayer}' is {have[0]}x{have[1]}"
            )
            if not share.Transposed:
                message += '; set "Transposed": true?'
            raise CompileError([Issue((*path, "SharedWeights", number), message)])
        slots[layer.Source.index(source)] = borrowed
    return slots


def _network(spec: ModelSpec, order: Sequence[str], built: Mapping[str, Built]) -> Network:
    losses, penalties = {}, {}
    net_penalty = spec.SparsenessPenalty
    for layer in spec.Layers:
        if layer.Kind is LayerKind.Output:
            source = spec.Data.get(layer.DataSet)
            losses[layer.Name] = create_loss(
                spec.ErrorFunction,
                layer.Activation,
                one_target=spec.ScaledMarginalCrossEntropy.oneTarget,
                zero_target=spec.ScaledMarginalCrossEntropy.zeroTarget,
                one_scale=spec.ScaledMarginalCrossEntropy.oneScale,
                zero_scale=spec.ScaledMarginalCrossEntropy.zeroScale,
                delta_boost=(spec.DeltaBoost.one, spec.DeltaBoost.zero),
                ignore_zero=source is not None and source.SparseIgnoreZero,
            )
        own = getattr(layer, "SparsenessPenalty", None)
        if (
            layer.Kind is LayerKind.Hidden
            and layer.Sparse
            and net_penalty.beta > 0
            and (getattr(layer, "Type", None) is not LayerType.Pooling)
        ):
            p = own.p if own is not None and own.p > 0 else net_penalty.p
            beta = own.beta if own is not None and own.beta > 0 else net_penalty.beta
            penalties[layer.Name] = SparsenessPenalty(p, beta)
    shapes = {name: built[name].shape.dims for name in order}
    return Network(
        {name: built[name].module for name in order},
        order=order,
        sources={layer.Name: layer.Source for layer in spec.Layers if hasattr(layer, "Source")},
        skips={layer.Name: layer.Skip for layer in spec.Layers if hasattr(layer, "Skip")},
        inputs={layer.Name: layer.DataSet for layer in spec.layers_of_kind(LayerKind.Input)},
        outputs={layer.Name: layer.DataSet for layer in spec.layers_of_kind(LayerKind.Output)},
        losses=losses,
        penalties=penalties,
        shapes=shapes,
        **_baseline(spec, shapes),
    )


def _widen_for_indicators(spec: ModelSpec, dims: dict[str, tuple[int, ...] | None]) -> None:
    """A Baseline with Indicators feeds its Input layer twice the DataSet's width."""
    if spec.Baseline is None or not spec.Baseline.Indicators:
        return
    dataset = spec.layers_of_kind(LayerKind.Output)[0].DataSet
    for layer in spec.layers_of_kind(LayerKind.Input):
        if layer.DataSet == dataset and dims.get(layer.Name) is not None:
            dims[layer.Name] = (2 * math.prod(dims[layer.Name]),)


def _baseline(spec: ModelSpec, dims: Mapping[str, tuple[int, ...] | None]) -> dict:
    """The Network arguments of the spec's Baseline (none without one)."""
    if spec.Baseline is None:
        return {}
    output = spec.layers_of_kind(LayerKind.Output)[0]
    dataset, width = output.DataSet, math.prod(dims[output.Name])
    return {
        "baseline": RatingBaseline(
            width, spec.Baseline.Shrinkage, spec.Baseline.CenterInput, spec.Baseline.Indicators
        ),
        "baseline_dataset": dataset,
    }
