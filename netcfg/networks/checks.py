"""Cross-field checks of a validated spec; each problem names the layer and its JSON path."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from netcfg.errors import Issue
from netcfg.layers import FullyConnectedLayerSpec, InputLayerSpec
from netcfg.layers.common import LayerKind, SharedWeightSpec
from netcfg.networks.graph import find_cycle
from netcfg.networks.losses.error_function import ErrorFunctionKind
from netcfg.networks.losses.pairing import pairing_problem
from netcfg.networks.sizes import size_issues
from netcfg.networks.spec import ModelSpec
from netcfg.spec_base import close_match, did_you_mean
from netcfg.trainers.metric_names import parse_metric
from netcfg.trainers.optimizer_spec import MultiStepScheduleSpec

__all__ = ["check_bindings", "check_model", "layer_dependencies", "shared_source"]


def layer_dependencies(layer: object) -> list[str]:
    """Names of the layers a layer needs: its sources, skips and weight owners."""
    names = [*getattr(layer, "Source", ()), *getattr(layer, "Skip", ())]
    names += [share.SourceOutputLayer for share in getattr(layer, "SharedWeights", ())]
    return list(dict.fromkeys(names))


def shared_source(layer: FullyConnectedLayerSpec, share: SharedWeightSpec) -> str | None:
    """The source of ``layer`` whose connection uses the shared weights (None if unclear)."""
    if share.InputLayer is not None:
        return share.InputLayer
    return layer.Source[0] if len(layer.Source) == 1 else None


def check_model(spec: ModelSpec) -> list[Issue]:
    """Every cross-field problem of a spec (an empty list when there is none)."""
    return [
        *_names(spec),
        *_references(spec),
        *_cycles(spec),
        *_shared_weights(spec),
        *_kinds(spec),
        *_losses(spec),
        *_data(spec),
        *_training(spec),
        *_baseline(spec),
        *size_issues(spec),
    ]


def check_bindings(spec: ModelSpec) -> list[Issue]:
    """Problems that stop training: every DataSet of the layers needs a ``Data`` entry."""
    issues = []
    for index, layer in enumerate(spec.Layers):
        name = getattr(layer, "DataSet", None)
        if name is not None and name not in spec.Data:
            hint = did_you_mean(name, spec.Data)
            issues.append(
                Issue(
                    ("Layers", index, "DataSet"),
                    f"layer '{layer.Name}': DataSet '{name}' is not bound under Data{hint}",
                )
            )
    return issues


def _names(spec: ModelSpec) -> Iterator[Issue]:
    first: dict[str, int] = {}
    for index, layer in enumerate(spec.Layers):
        if layer.Name in first:
            yield Issue(
                ("Layers", index, "Name"),
                f"layer name '{layer.Name}' is already used by Layers[{first[layer.Name]}]",
            )
        first.setdefault(layer.Name, index)


def _duplicated(spec: ModelSpec) -> set[str]:
    counts = Counter(layer.Name for layer in spec.Layers)
    return {name for name, count in counts.items() if count > 1}


_HINTED = 20
"""Problems of one kind that get a close-match hint (each costs a pass over the names)."""

_LISTED = 20
"""Most names a message lists."""


def _listing(names: list[str]) -> str:
    if len(names) <= _LISTED:
        return ", ".join(names)
    return ", ".join(names[:_LISTED]) + f", ... ({len(names) - _LISTED:,} more)"


def _references(spec: ModelSpec) -> Iterator[Issue]:
    names = list(dict.fromkeys(layer.Name for layer in spec.Layers))
    known = set(names)
    duplicated = _duplicated(spec)  # their references are ambiguous; the names are reported
    hints = _HINTED
    for index, layer in enumerate(spec.Layers):
        if layer.Name in duplicated:
            continue
        for key in ("Source", "Skip"):
            for ref in getattr(layer, key, ()):
                if ref == layer.Name:
                    yield Issue(
                        ("Layers", index, key), f"layer '{layer.Name}' cannot name itself in {key}"
                    )
                elif ref not in known:
                    hints -= 1
                    hint = did_you_mean(ref, names) if hints >= 0 else ""
                    hint = hint or "; layers are " + _listing(names)
                    yield Issue(
                        ("Layers", index, key),
                        f"layer '{layer.Name}': {key} '{ref}' is not a layer{hint}",
                    )


def _cycles(spec: ModelSpec) -> Iterator[Issue]:
    if _duplicated(spec):
        return
    edges = {  # self-references are reported by _references
        layer.Name: [d for d in layer_dependencies(layer) if d != layer.Name]
        for layer in spec.Layers
    }
    cycle = find_cycle(edges)
    if cycle:
        index = next(i for i, layer in enumerate(spec.Layers) if layer.Name == cycle[0])
        layer = spec.Layers[index]
        key = next(
            (k for k in ("Source", "Skip") if cycle[1] in getattr(layer, k, ())), "SharedWeights"
        )
        shown = cycle if len(cycle) <= _LISTED else [*cycle[:10], "...", *cycle[-10:]]
        yield Issue(("Layers", index, key), "layers form a cycle: " + " -> ".join(shown))


def _shared_weights(spec: ModelSpec) -> Iterator[Issue]:
    by_name = {layer.Name: layer for layer in spec.Layers}
    for index, layer in enumerate(spec.Layers):
        for number, share in enumerate(getattr(layer, "SharedWeights", ())):
            path = ("Layers", index, "SharedWeights", number)
            owner = by_name.get(share.SourceOutputLayer)
            if owner is None:
                yield Issue(
                    (*path, "SourceOutputLayer"),
                    f"layer '{layer.Name}': "
                    f"'{share.SourceOutputLayer}' is not a layer"
                    f"{did_you_mean(share.SourceOutputLayer, by_name)}",
                )
                continue
            if not isinstance(owner, FullyConnectedLayerSpec):
                yield Issue(
                    (*path, "SourceOutputLayer"),
                    f"layer '{layer.Name}': layer '{owner.Name}' has no weights to share",
                )
            elif share.SourceInputLayer not in owner.Source:
                yield Issue(
                    (*path, "SourceInputLayer"),
                    f"layer '{layer.Name}': "
                    f"'{share.SourceInputLayer}' is not a source of '{owner.Name}'",
                )
            elif any(
                shared_source(owner, s) == share.SourceInputLayer for s in owner.SharedWeights
            ):
                yield Issue(
                    path,
                    f"layer '{layer.Name}': the weights of '{owner.Name}' from "
                    f"'{share.SourceInputLayer}' are themselves shared; share the "
                    "original weights",
                )
            if share.InputLayer is None and len(layer.Source) != 1:
                yield Issue(
                    (*path, "InputLayer"),
                    f"layer '{layer.Name}' has several "
                    "sources; name the one that uses the shared weights in InputLayer",
                )
            elif share.InputLayer is not None and share.InputLayer not in layer.Source:
                yield Issue(
                    (*path, "InputLayer"),
                    f"layer '{layer.Name}': '{share.InputLayer}' is not one of its sources",
                )


def _kinds(spec: ModelSpec) -> Iterator[Issue]:
    for kind in (LayerKind.Input, LayerKind.Output):
        if not spec.layers_of_kind(kind):
            yield Issue(("Layers",), f"the network has no {kind.value} layer")
    for index, layer in enumerate(spec.Layers):
        needs_data = isinstance(layer, InputLayerSpec) or layer.Kind is LayerKind.Output
        if needs_data and layer.DataSet is None:
            yield Issue(
                ("Layers", index), f"{layer.Kind.value} layer '{layer.Name}' needs a DataSet"
            )


def _losses(spec: ModelSpec) -> Iterator[Issue]:
    for index, layer in enumerate(spec.Layers):
        if layer.Kind is not LayerKind.Output:
            continue
        problem = pairing_problem(spec.ErrorFunction, layer.Activation)
        if problem:
            yield Issue(("ErrorFunction",), f"Output layer '{layer.Name}': {problem}")
        if spec.ErrorFunction is ErrorFunctionKind.DataScaledMarginalCrossEntropy and (
            not layer.Sparse
        ):
            yield Issue(
                ("Layers", index, "Sparse"),
                f"Output layer '{layer.Name}': "
                'DataScaledMarginalCrossEntropy needs sparse targets ("Sparse": true)',
            )


def _data(spec: ModelSpec) -> Iterator[Issue]:
    if not spec.Data:
        return
    datasets = list(
        dict.fromkeys(layer.DataSet for layer in spec.Layers if getattr(layer, "DataSet", None))
    )
    used = set(datasets)
    unbound = [name for name in datasets if name not in spec.Data]
    unused = [name for name in spec.Data if name not in used]
    typos = {}  # unused Data entry -> the unbound DataSet it most likely means
    for name in unused[:_HINTED]:
        match = close_match(name, unbound)
        if match is not None and match not in typos.values():
            typos[name] = match
    for name in unused:
        if name in typos:
            message = f"'{name}' is not the DataSet of any layer; did you mean '{typos[name]}'?"
        else:
            message = f"'{name}' is not the DataSet of any layer; DataSets are " + _listing(
                datasets
            )
        yield Issue(("Data", name), message)
    bound = _listing(list(spec.Data))
    unbound_set, meant = set(unbound), set(typos.values())
    for index, layer in enumerate(spec.Layers):
        name = getattr(layer, "DataSet", None)
        if name in unbound_set and name not in meant:
            yield Issue(
                ("Layers", index, "DataSet"),
                f"layer '{layer.Name}': DataSet "
                f"'{name}' is not bound under Data (which binds {bound})",
            )


def _baseline(spec: ModelSpec) -> Iterator[Issue]:
    if spec.Baseline is None:
        return
    outputs = spec.layers_of_kind(LayerKind.Output)
    inputs = [layer.DataSet for layer in spec.layers_of_kind(LayerKind.Input)]
    if spec.ErrorFunction is not ErrorFunctionKind.MaskedMSE:
        yield Issue(("Baseline",), "a Baseline predicts ratings: it needs MaskedMSE")
    elif len(outputs) != 1 or outputs[0].DataSet not in inputs:
        yield Issue(
            ("Baseline",),
            "a Baseline takes each row's level from the input: it needs one Output layer "
            "whose DataSet an Input layer also reads (an autoencoder)",
        )
    else:
        shaped = [
            layer.Name
            for layer in spec.Layers
            if getattr(layer, "DataSet", None) == outputs[0].DataSet
            and isinstance(layer.N, (list, tuple))
            and len(layer.N) > 1
        ]
        if shaped:
            yield Issue(
                ("Baseline",),
                f"a Baseline works on rows of ratings, but layer '{shaped[0]}' gives "
                f"DataSet '{outputs[0].DataSet}' several dimensions",
            )


def _sharding(spec: ModelSpec) -> Iterator[Issue]:
    distributed = spec.Training.Distributed
    if not distributed.Shard:
        return
    names = [layer.Name for layer in spec.Layers]
    for index, name in enumerate(distributed.sharded_layers() or ()):
        if name not in names:
            yield Issue(
                ("Training", "Distributed", "Shard", index),
                f"no layer is named '{name}'{did_you_mean(name, names)} "
                '(Shard takes layer names, or "Auto")',
            )
    if spec.Training.RefeedSteps > 0:
        yield Issue(
            ("Training", "Distributed", "Shard"),
            "re-feeding reads every row of the item tables in each step, so they cannot be "
            "split across processes: set Training.RefeedSteps to 0 or drop Shard",
        )


def _training(spec: ModelSpec) -> Iterator[Issue]:
    training = spec.Training
    schedule = training.Schedule
    if isinstance(schedule, MultiStepScheduleSpec) and list(schedule.Milestones) != sorted(
        set(schedule.Milestones)
    ):
        yield Issue(
            ("Training", "Schedule", "Milestones"), "milestones must be strictly increasing epochs"
        )
    if training.RefeedSteps > 0:
        inputs = spec.layers_of_kind(LayerKind.Input)
        outputs = spec.layers_of_kind(LayerKind.Output)
        if len(inputs) != 1 or len(outputs) != 1:
            yield Issue(
                ("Training", "RefeedSteps"),
                "re-feeding feeds the output back as the "
                "input: it needs exactly one Input and one Output layer",
            )
    yield from _sharding(spec)
    stopping = training.EarlyStopping
    metrics = spec.Evaluation.Metrics
    if stopping is not None and metrics is not None and stopping.Metric not in (None, "Loss"):
        wanted = parse_metric(stopping.Metric)
        computed = {parse_metric(m) for m in metrics}
        expanded = {(m.kind, m.k) for m in computed} | {
            (m.kind, k) for m in computed if m.k is None for k in spec.Evaluation.K
        }
        if (wanted.kind, wanted.k) not in expanded:
            yield Issue(
                ("Training", "EarlyStopping", "Metric"),
                f"metric '{stopping.Metric}' is not computed; add it to Evaluation.Metrics",
            )
