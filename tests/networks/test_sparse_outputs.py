"""Output layers computed at the target's stored entries only (``OutputMode.Sparse`` and
``SparseLoss``), against the same network run in ``Dense`` mode, and the ``Compute`` key."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor

from netcfg import CompileError, ConfigError, compile_network, validate_config
from netcfg.data import SparseBatch
from netcfg.layers.compute import ComputeMode
from netcfg.networks.network import OutputMode

WIDTH = 40
ROWS = 6
EMPTY_ROW = 2


# ---------------------------------------------------------------- helpers


def _csr(mask: Tensor, values: Tensor | None) -> SparseBatch:
    """The entries of ``mask`` as a batch (``values`` read at them, None for indicators)."""
    rows, cols = mask.nonzero(as_tuple=True)
    offsets = torch.zeros(mask.shape[0] + 1, dtype=torch.int64)
    offsets[1:] = torch.cumsum(torch.bincount(rows, minlength=mask.shape[0]), 0)
    return SparseBatch(offsets, cols, None if values is None else values[rows, cols], mask.shape[1])


def _batch(seed: int, kind: str = "ratings", *, density: float = 0.08) -> SparseBatch:
    """A random batch of ROWS x WIDTH with row EMPTY_ROW empty.

    ``kind``: ratings (1..5), unit (values in (0.05, 1]) or indicator (values None).
    """
    g = torch.Generator().manual_seed(seed)
    mask = torch.rand(ROWS, WIDTH, generator=g) < density
    mask[EMPTY_ROW] = False
    mask[0, 3] = mask[3, 3] = True  # a column shared by two rows
    values = {
        "ratings": torch.randint(1, 6, (ROWS, WIDTH), generator=g).float(),
        "unit": 0.05 + 0.95 * torch.rand(ROWS, WIDTH, generator=g),
        "indicator": None,
    }[kind]
    batch = _csr(mask, values)
    assert batch.nnz > ROWS and batch.offsets[EMPTY_ROW] == batch.offsets[EMPTY_ROW + 1]
    return batch


def _data_weights(seed: int = 7) -> Tensor:
    g = torch.Generator().manual_seed(seed)
    return 0.25 + 2.0 * torch.rand(ROWS, generator=g)


def _autoencoder(
    error: str,
    activation: str,
    *,
    ignore_zero: bool = True,
    dropout: float = 0.0,
    output: dict | None = None,
    top: dict | None = None,
) -> dict:
    """A sparse Input -> Hidden -> Output autoencoder on DataSet x."""
    return {
        "ErrorFunction": error,
        "Layers": [
            {"Name": "In", "Kind": "Input", "N": "auto", "DataSet": "x", "Sparse": True},
            {"Name": "H", "N": 6, "Activation": "Tanh", "pDropout": dropout},
            {
                "Name": "Out",
                "Kind": "Output",
                "N": "auto",
                "DataSet": "x",
                "Sparse": True,
                "Activation": activation,
                **(output or {}),
            },
        ],
        "Data": {"x": {"Path": "x.tsv", "SparseIgnoreZero": ignore_zero}},
        **(top or {}),
    }


def _compile(config: dict, widths: dict | None = None, seed: int = 0):
    torch.manual_seed(seed)
    return compile_network(validate_config(config), widths or {"x": WIDTH})


def _run(network, inputs, targets, weights=None, mode=OutputMode.Dense, seed=None):
    """One forward and backward; the output and every parameter's gradient."""
    network.zero_grad(set_to_none=True)
    if seed is not None:
        torch.manual_seed(seed)
    out = network(inputs, targets, weights, mode=mode)
    out.loss.backward()
    return out, {name: p.grad for name, p in network.named_parameters()}


def _densified(grad: Tensor | None) -> Tensor | None:
    return grad.to_dense() if grad is not None and grad.is_sparse else grad


def _assert_same_gradients(got: dict, expected: dict) -> None:
    assert got.keys() == expected.keys()
    for name in expected:
        assert (got[name] is None) == (expected[name] is None), name
        if expected[name] is not None:
            torch.testing.assert_close(_densified(got[name]), _densified(expected[name]), msg=name)


def _rows_of(grad: Tensor) -> Tensor:
    """The rows a row-sparse COO gradient holds."""
    assert grad.is_sparse, grad.layout
    return grad.coalesce().indices()[0]


def _at_entries(dense: Tensor, batch: SparseBatch) -> Tensor:
    return dense[batch.row_ids(), batch.indices]


# ---------------------------------------------------------------- observed-only losses

OBSERVED = [
    pytest.param("MaskedMSE", "Linear", False, "ratings", {}, id="MaskedMSE"),
    pytest.param("MaskedMSE", "Sigmoid", True, "unit", {}, id="MaskedMSE-Sigmoid"),
    pytest.param("L2", "Linear", True, "ratings", {}, id="L2"),
    pytest.param(
        "L2", "Tanh", True, "ratings", {"DeltaBoost": {"one": 2.5, "zero": 0.5}}, id="L2-DeltaBoost"
    ),
    pytest.param("L1", "Linear", True, "ratings", {}, id="L1"),
    pytest.param("L2Hinge", "Linear", True, "ratings", {}, id="L2Hinge"),
    pytest.param("Hinge", "Linear", True, "ratings", {}, id="Hinge"),
    pytest.param("CrossEntropy", "Sigmoid", True, "unit", {}, id="CrossEntropy"),
    pytest.param("CrossEntropy", "Sigmoid", True, "indicator", {}, id="CrossEntropy-indicator"),
    pytest.param(
        "ScaledMarginalCrossEntropy", "Sigmoid", True, "indicator", {}, id="ScaledMarginalCE"
    ),
    pytest.param(
        "ScaledMarginalCrossEntropy",
        "Sigmoid",
        True,
        "unit",
        {"ScaledMarginalCrossEntropy": {"oneTarget": 0.55, "oneScale": 3.0}},
        id="ScaledMarginalCE-margins",
    ),
    pytest.param(
        "DataScaledMarginalCrossEntropy", "Sigmoid", True, "ratings", {}, id="DataScaledMarginalCE"
    ),
]


@pytest.mark.parametrize(("error", "activation", "ignore_zero", "kind", "top"), OBSERVED)
def test_observed_only_losses_match_dense_mode(error, activation, ignore_zero, kind, top):
    network = _compile(_autoencoder(error, activation, ignore_zero=ignore_zero, top=top)).eval()
    assert network.losses["Out"].observed_only
    assert network.sampled("Out", OutputMode.Sparse)
    assert not network.sampled("Out", OutputMode.Dense)
    batch = _batch(1, kind)
    weights = {"x": _data_weights()}

    dense, dense_grads = _run(network, {"x": batch}, {"x": batch}, weights, OutputMode.Dense)
    sparse, sparse_grads = _run(network, {"x": batch}, {"x": batch}, weights, OutputMode.Sparse)

    assert isinstance(dense.outputs["Out"], Tensor)
    assert isinstance(sparse.outputs["Out"], SparseBatch)
    assert dense.loss.item() > 0
    torch.testing.assert_close(sparse.losses["Out"], dense.losses["Out"])
    torch.testing.assert_close(sparse.loss, dense.loss)
    assert dense_grads["layers.Out.projections.0.weight"].abs().sum() > 0
    _assert_same_gradients(sparse_grads, dense_grads)

    # only the target's distinct columns (rows of the [out, in] weight) get a gradient
    columns = batch.indices.unique()
    assert torch.equal(_rows_of(sparse_grads["layers.Out.projections.0.weight"]), columns)
    assert torch.equal(_rows_of(sparse_grads["layers.Out.bias"]), columns)


def test_data_weights_change_the_sparse_loss():
    """The Sparse-mode loss reads the data weights (else the comparison above could not
    tell a weighted loss from an unweighted one)."""
    network = _compile(_autoencoder("L2", "Linear")).eval()
    batch = _batch(1)
    with torch.no_grad():
        plain = network({"x": batch}, {"x": batch}, mode=OutputMode.Sparse).loss
        weights = {"x": _data_weights()}
        weighted = network({"x": batch}, {"x": batch}, weights, mode=OutputMode.Sparse).loss
        doubled = {"x": torch.full((ROWS,), 2.0)}
        twice = network({"x": batch}, {"x": batch}, doubled, mode=OutputMode.Sparse).loss
    assert not torch.allclose(plain, weighted)
    torch.testing.assert_close(twice, 2 * plain)


@pytest.mark.parametrize(
    ("error", "activation", "kind"),
    [("MaskedMSE", "Linear", "ratings"), ("CrossEntropy", "Sigmoid", "indicator")],
)
def test_hidden_dropout_with_the_same_seed_matches_dense_mode(error, activation, kind):
    network = _compile(_autoencoder(error, activation, dropout=0.4)).train()
    batch = _batch(2, kind)
    args = ({"x": batch}, {"x": batch}, {"x": _data_weights()})

    dense, dense_grads = _run(network, *args, OutputMode.Dense, seed=11)
    sparse, sparse_grads = _run(network, *args, OutputMode.Sparse, seed=11)
    torch.testing.assert_close(sparse.loss, dense.loss)
    _assert_same_gradients(sparse_grads, dense_grads)

    other, _ = _run(network, *args, OutputMode.Sparse, seed=12)
    with torch.no_grad():
        plain = network.eval()(*args, mode=OutputMode.Sparse).loss
    assert not torch.allclose(other.loss, sparse.loss)  # dropout is on
    assert not torch.allclose(plain, sparse.loss)


def test_unsorted_columns_and_stored_zeros_match_dense_mode():
    """A hand-built target whose rows list columns out of order, one entry storing 0."""
    target = SparseBatch(
        torch.tensor([0, 3, 3, 5, 6, 6, 9]),
        torch.tensor([17, 2, 30, 39, 0, 5, 1, 38, 20]),
        torch.tensor([1.0, 4.0, 0.0, 2.0, 3.0, 5.0, 2.0, 1.0, 4.0]),
        WIDTH,
    )
    for error, ignore_zero in (("MaskedMSE", False), ("L2", True)):
        network = _compile(_autoencoder(error, "Linear", ignore_zero=ignore_zero)).eval()
        args = ({"x": target}, {"x": target}, {"x": _data_weights()})
        dense, dense_grads = _run(network, *args, OutputMode.Dense)
        sparse, sparse_grads = _run(network, *args, OutputMode.Sparse)
        torch.testing.assert_close(sparse.loss, dense.loss)
        _assert_same_gradients(sparse_grads, dense_grads)
        values = sparse.outputs["Out"].values
        torch.testing.assert_close(values, _at_entries(dense.outputs["Out"], target))


def test_masked_mse_counts_a_stored_zero_as_observed():
    network = _compile(_autoencoder("MaskedMSE", "Linear")).eval()
    offsets, columns = torch.tensor([0, 2]), torch.tensor([4, 9])
    stored_zero = SparseBatch(offsets, columns, torch.tensor([3.0, 0.0]), WIDTH)
    with torch.no_grad():
        out = network({"x": stored_zero}, {"x": stored_zero}, mode=OutputMode.Sparse)
        a = network({"x": stored_zero}).outputs["Out"][0, [4, 9]]
    torch.testing.assert_close(out.loss, ((a - torch.tensor([3.0, 0.0])) ** 2).mean())


@pytest.mark.parametrize(("error", "ignore_zero"), [("MaskedMSE", False), ("L2", True)])
def test_a_batch_without_entries(error, ignore_zero):
    network = _compile(_autoencoder(error, "Linear", ignore_zero=ignore_zero)).eval()
    empty = SparseBatch(
        torch.zeros(ROWS + 1, dtype=torch.int64),
        torch.zeros(0, dtype=torch.int64),
        torch.zeros(0),
        WIDTH,
    )
    dense, dense_grads = _run(network, {"x": empty}, {"x": empty}, None, OutputMode.Dense)
    sparse, sparse_grads = _run(network, {"x": empty}, {"x": empty}, None, OutputMode.Sparse)
    assert dense.loss.item() == 0.0 and sparse.loss.item() == 0.0
    assert isinstance(sparse.outputs["Out"], SparseBatch) and sparse.outputs["Out"].nnz == 0
    _assert_same_gradients(sparse_grads, dense_grads)
    assert _rows_of(sparse_grads["layers.Out.projections.0.weight"]).numel() == 0


# ---------------------------------------------------------------- losses that read every output

EVERY_OUTPUT = [
    pytest.param("L2", "Linear", False, "ratings", id="L2"),
    pytest.param("L1", "Linear", False, "ratings", id="L1"),
    pytest.param("CrossEntropy", "Sigmoid", False, "unit", id="CrossEntropy"),
    pytest.param(
        "ScaledMarginalCrossEntropy", "Sigmoid", False, "indicator", id="ScaledMarginalCE"
    ),
    pytest.param("CrossEntropy", "SoftMax", True, "indicator", id="SoftMax-CrossEntropy"),
    pytest.param(
        "ScaledMarginalCrossEntropy", "SoftMax", True, "unit", id="SoftMax-ScaledMarginalCE"
    ),
]


@pytest.mark.parametrize(("error", "activation", "ignore_zero", "kind"), EVERY_OUTPUT)
def test_losses_reading_every_output_stay_dense(error, activation, ignore_zero, kind):
    network = _compile(_autoencoder(error, activation, ignore_zero=ignore_zero)).eval()
    assert not network.losses["Out"].observed_only
    assert not network.sampled("Out", OutputMode.Sparse)
    batch = _batch(3, kind)
    args = ({"x": batch}, {"x": batch}, {"x": _data_weights()})
    dense, dense_grads = _run(network, *args, OutputMode.Dense)
    for mode in (OutputMode.Sparse, OutputMode.SparseLoss):
        out, grads = _run(network, *args, mode)
        assert isinstance(out.outputs["Out"], Tensor)
        assert out.outputs["Out"].requires_grad
        torch.testing.assert_close(out.outputs["Out"], dense.outputs["Out"])
        torch.testing.assert_close(out.loss, dense.loss)
        _assert_same_gradients(grads, dense_grads)


@pytest.mark.parametrize("activation", ["SoftMax"])
@pytest.mark.parametrize("error", ["MaskedMSE", "L2"])
def test_a_softmax_output_with_an_observed_only_loss_stays_dense(error, activation):
    network = _compile(_autoencoder(error, activation)).eval()
    assert network.sampled("Out")  # the loss allows it, the activation does not
    batch = _batch(4)
    dense, dense_grads = _run(network, {"x": batch}, {"x": batch}, None, OutputMode.Dense)
    sparse, sparse_grads = _run(network, {"x": batch}, {"x": batch}, None, OutputMode.Sparse)
    assert isinstance(sparse.outputs["Out"], Tensor)
    torch.testing.assert_close(sparse.loss, dense.loss)
    _assert_same_gradients(sparse_grads, dense_grads)


def test_a_dense_target_keeps_the_dense_path():
    network = _compile(_autoencoder("MaskedMSE", "Linear")).eval()
    batch = _batch(5)
    target = batch.to_dense()
    dense, dense_grads = _run(network, {"x": batch}, {"x": target}, None, OutputMode.Dense)
    sparse, sparse_grads = _run(network, {"x": batch}, {"x": target}, None, OutputMode.Sparse)
    assert isinstance(sparse.outputs["Out"], Tensor)
    torch.testing.assert_close(sparse.loss, dense.loss)
    _assert_same_gradients(sparse_grads, dense_grads)


def test_each_output_decides_by_its_own_datasets_flag():
    config = {
        "ErrorFunction": "L2",
        "Layers": [
            {"Name": "In", "Kind": "Input", "N": WIDTH, "DataSet": "x", "Sparse": True},
            {"Name": "H", "N": 6, "Activation": "Tanh"},
            {
                "Name": "A",
                "Kind": "Output",
                "Source": "H",
                "N": WIDTH,
                "DataSet": "a",
                "Sparse": True,
                "Activation": "Linear",
            },
            {
                "Name": "B",
                "Kind": "Output",
                "Source": "H",
                "N": WIDTH,
                "DataSet": "b",
                "Sparse": True,
                "Activation": "Linear",
            },
        ],
        "Data": {
            "x": "x.tsv",
            "a": {"Path": "a.tsv", "SparseIgnoreZero": True},
            "b": {"Path": "b.tsv", "SparseIgnoreZero": False},
        },
    }
    network = _compile(config, {}).eval()
    assert network.sampled("A") and not network.sampled("B")
    x, a, b = _batch(1), _batch(2, "unit"), _batch(3, "unit")
    args = ({"x": x}, {"a": a, "b": b}, {"a": _data_weights(1), "b": _data_weights(2)})
    dense, dense_grads = _run(network, *args, OutputMode.Dense)
    sparse, sparse_grads = _run(network, *args, OutputMode.Sparse)
    assert isinstance(sparse.outputs["A"], SparseBatch)
    assert isinstance(sparse.outputs["B"], Tensor)
    for name in ("A", "B"):
        torch.testing.assert_close(sparse.losses[name], dense.losses[name])
    _assert_same_gradients(sparse_grads, dense_grads)


def test_an_output_read_by_another_layer_is_not_sampled():
    config = {
        "ErrorFunction": "MaskedMSE",
        "Layers": [
            {"Name": "In", "Kind": "Input", "N": WIDTH, "DataSet": "x", "Sparse": True},
            {"Name": "H", "N": 6, "Activation": "Tanh"},
            {
                "Name": "First",
                "Kind": "Output",
                "N": WIDTH,
                "DataSet": "x",
                "Sparse": True,
                "Activation": "Tanh",
            },
            {
                "Name": "Second",
                "Kind": "Output",
                "Source": "First",
                "N": WIDTH,
                "DataSet": "x",
                "Sparse": True,
                "Activation": "Linear",
            },
        ],
    }
    network = _compile(config, {}).eval()
    assert not network.sampled("First") and network.sampled("Second")
    batch = _batch(6)
    dense, dense_grads = _run(network, {"x": batch}, {"x": batch}, None, OutputMode.Dense)
    sparse, sparse_grads = _run(network, {"x": batch}, {"x": batch}, None, OutputMode.Sparse)
    assert isinstance(sparse.outputs["First"], Tensor)
    assert isinstance(sparse.outputs["Second"], SparseBatch)
    torch.testing.assert_close(sparse.losses["First"], dense.losses["First"])
    torch.testing.assert_close(sparse.losses["Second"], dense.losses["Second"])
    _assert_same_gradients(sparse_grads, dense_grads)


# ---------------------------------------------------------------- what Sparse / SparseLoss return


@pytest.mark.parametrize(
    ("error", "activation", "kind"),
    [("MaskedMSE", "Linear", "ratings"), ("CrossEntropy", "Sigmoid", "unit")],
)
def test_sparse_output_holds_the_activations_at_the_targets_entries(error, activation, kind):
    network = _compile(_autoencoder(error, activation)).eval()
    source, target = _batch(1, kind), _batch(8, kind)  # the target's pattern is not the input's
    args = ({"x": source}, {"x": target}, {"x": _data_weights()})
    dense, dense_grads = _run(network, *args, OutputMode.Dense)
    sparse, _ = _run(network, *args, OutputMode.Sparse)
    out = sparse.outputs["Out"]
    assert isinstance(out, SparseBatch)
    assert out.offsets is target.offsets and out.indices is target.indices
    assert out.num_columns == WIDTH
    assert out.values.requires_grad
    torch.testing.assert_close(out.values, _at_entries(dense.outputs["Out"], target))

    again, loss_grads = _run(network, *args, OutputMode.SparseLoss)
    full = again.outputs["Out"]
    assert isinstance(full, Tensor) and not full.requires_grad
    torch.testing.assert_close(full, dense.outputs["Out"].detach())
    torch.testing.assert_close(again.loss, sparse.loss)
    torch.testing.assert_close(again.loss, dense.loss)
    _assert_same_gradients(loss_grads, dense_grads)
    columns = target.indices.unique()
    assert torch.equal(_rows_of(loss_grads["layers.Out.projections.0.weight"]), columns)


def test_outputs_without_targets_are_dense_in_every_mode():
    network = _compile(_autoencoder("MaskedMSE", "Linear")).eval()
    batch = _batch(1)
    with torch.no_grad():
        expected = network({"x": batch}).outputs["Out"]
        for mode in OutputMode:
            out = network({"x": batch}, mode=mode)
            assert out.losses == {}
            torch.testing.assert_close(out.outputs["Out"], expected)


# ---------------------------------------------------------------- tied weights, skips, sources


def _tied_config(error: str, activation: str) -> dict:
    return {
        "ErrorFunction": error,
        "Layers": [
            {"Name": "In", "Kind": "Input", "N": WIDTH, "DataSet": "x", "Sparse": True},
            {"Name": "E1", "N": 8, "Activation": "Tanh"},
            {"Name": "E2", "N": 4, "Activation": "Tanh"},
            {
                "Name": "D1",
                "N": 8,
                "Activation": "Tanh",
                "SharedWeights": {
                    "SourceInputLayer": "E1",
                    "SourceOutputLayer": "E2",
                    "Transposed": True,
                },
            },
            {
                "Name": "Out",
                "Kind": "Output",
                "N": WIDTH,
                "DataSet": "x",
                "Sparse": True,
                "Activation": activation,
                "SharedWeights": {
                    "SourceInputLayer": "In",
                    "SourceOutputLayer": "E1",
                    "Transposed": True,
                },
            },
        ],
        "Data": {"x": {"Path": "x.tsv", "SparseIgnoreZero": True}},
    }


@pytest.mark.parametrize(
    ("error", "activation", "kind"),
    [("MaskedMSE", "Linear", "ratings"), ("CrossEntropy", "Sigmoid", "indicator")],
)
def test_tied_weights_in_sparse_mode(error, activation, kind):
    network = _compile(_tied_config(error, activation), {}).eval()
    encoder = network.layers["E1"].projections[0].weight
    assert network.layers["E1"].projections[0].rows == "in"  # fed by the sparse Input
    assert network.layers["Out"].projections[0].output_rows().data_ptr() == encoder.data_ptr()
    assert "layers.Out.projections.0.weight" not in dict(network.named_parameters())
    batch = _batch(9, kind)
    args = ({"x": batch}, {"x": batch}, {"x": _data_weights()})
    dense, dense_grads = _run(network, *args, OutputMode.Dense)
    sparse, sparse_grads = _run(network, *args, OutputMode.Sparse)
    assert isinstance(sparse.outputs["Out"], SparseBatch)
    torch.testing.assert_close(sparse.loss, dense.loss)
    _assert_same_gradients(sparse_grads, dense_grads)
    # both uses of the encoder weight touch only the batch's columns
    columns = batch.indices.unique()
    assert torch.equal(_rows_of(sparse_grads["layers.E1.projections.0.weight"]), columns)


@pytest.mark.parametrize(
    ("error", "activation", "kind"),
    [("MaskedMSE", "Linear", "ratings"), ("CrossEntropy", "Sigmoid", "unit")],
)
def test_skips_and_several_sources_in_sparse_mode(error, activation, kind):
    config = {
        "ErrorFunction": error,
        "Layers": [
            {"Name": "In", "Kind": "Input", "N": WIDTH, "DataSet": "x", "Sparse": True},
            {"Name": "H1", "N": 8, "Activation": "Tanh"},
            {"Name": "H2", "N": 5, "Activation": "Relu", "Source": "H1"},
            {"Name": "S", "N": WIDTH, "Activation": "Tanh", "Source": "H1"},
            {
                "Name": "Out",
                "Kind": "Output",
                "N": WIDTH,
                "DataSet": "x",
                "Sparse": True,
                "Activation": activation,
                "Source": ["H1", "H2"],
                "Skip": "S",
            },
        ],
        "Data": {"x": {"Path": "x.tsv", "SparseIgnoreZero": True}},
    }
    network = _compile(config, {}).eval()
    assert [p.rows for p in network.layers["Out"].projections] == ["out", "out"]
    batch = _batch(10, kind)
    args = ({"x": batch}, {"x": batch}, {"x": _data_weights()})
    dense, dense_grads = _run(network, *args, OutputMode.Dense)
    for mode in (OutputMode.Sparse, OutputMode.SparseLoss):
        out, grads = _run(network, *args, mode)
        torch.testing.assert_close(out.loss, dense.loss)
        _assert_same_gradients(grads, dense_grads)
    values = _run(network, *args, OutputMode.Sparse)[0].outputs["Out"].values
    torch.testing.assert_close(values, _at_entries(dense.outputs["Out"], batch))
    full = _run(network, *args, OutputMode.SparseLoss)[0].outputs["Out"]
    torch.testing.assert_close(full, dense.outputs["Out"].detach())


def _input_and_hidden_config(**output) -> dict:
    """An Output fed both by the sparse Input (Compute Auto) and by a Hidden layer."""
    return {
        "ErrorFunction": "MaskedMSE",
        "Layers": [
            {"Name": "In", "Kind": "Input", "N": WIDTH, "DataSet": "x", "Sparse": True},
            {"Name": "H", "N": 6, "Activation": "Tanh"},
            {
                "Name": "Out",
                "Kind": "Output",
                "N": WIDTH,
                "DataSet": "x",
                "Sparse": True,
                "Activation": "Linear",
                "Source": ["In", "H"],
                **output,
            },
        ],
    }


@pytest.mark.parametrize(("density", "sampled"), [(0.08, False), (0.3, True)])
def test_an_input_source_samples_only_when_the_batch_is_made_dense(density, sampled):
    """Compute Auto keeps a thin batch sparse, so the Output cannot be sampled; a batch
    above a density of 0.1 is made dense and the Output is sampled."""
    network = _compile(_input_and_hidden_config(), {}).eval()
    assert [p.rows for p in network.layers["Out"].projections] == ["in", "out"]
    batch = _batch(11, density=density)
    assert (batch.nnz > 0.1 * ROWS * WIDTH) == sampled
    args = ({"x": batch}, {"x": batch}, {"x": _data_weights()})
    dense, dense_grads = _run(network, *args, OutputMode.Dense)
    sparse, sparse_grads = _run(network, *args, OutputMode.Sparse)
    assert isinstance(sparse.outputs["Out"], SparseBatch if sampled else Tensor)
    torch.testing.assert_close(sparse.loss, dense.loss)
    _assert_same_gradients(sparse_grads, dense_grads)


# ---------------------------------------------------------------- the Compute key: validation


def _problems(config: dict) -> list[str]:
    with pytest.raises(ConfigError) as err:
        validate_config(config)
    return [f"{'.'.join(map(str, i.path))}: {i.message}" for i in err.value.issues]


SPARSE_TARGETS = 'Compute "Sparse" on an Output layer needs Sparse targets (set "Sparse": true)'
SPARSE_INPUT = 'Compute "Sparse" needs a Sparse input (set "Sparse": true)'


@pytest.mark.parametrize(
    ("index", "patch", "message"),
    [
        (1, {"Compute": "Dense"}, "Compute is only allowed on Input and Output layers"),
        (1, {"Compute": "Sparse"}, "Compute is only allowed on Input and Output layers"),
        (2, {"Compute": "Sparse", "Sparse": False}, SPARSE_TARGETS),
        (2, {"Compute": "Sparse", "Sparse": None}, SPARSE_TARGETS),  # None: key left out
        (
            2,
            {"Compute": "Sparse", "Activation": "SoftMax"},
            'Compute "Sparse" cannot apply to a SoftMax output: it normalizes over every unit',
        ),
        (0, {"Compute": "Sparse", "Sparse": False}, SPARSE_INPUT),
        (0, {"Compute": "Sparse", "Sparse": None}, SPARSE_INPUT),
        (
            2,
            {"Compute": "Sometimes"},
            "unknown Compute 'Sometimes'; expected one of Auto, Sparse, Dense",
        ),
    ],
)
def test_compute_key_validation(index, patch, message):
    config = _autoencoder("MaskedMSE", "Linear")
    layer = {**config["Layers"][index], **patch}
    config["Layers"][index] = {k: v for k, v in layer.items() if v is not None}
    assert _problems(config) == [f"Layers.{index}.Compute: {message}"]


@pytest.mark.parametrize(
    ("index", "value", "mode"),
    [(0, "dense", ComputeMode.Dense), (2, "SPARSE", ComputeMode.Sparse), (1, "auto", None)],
)
def test_compute_key_is_case_insensitive_and_auto_is_allowed_everywhere(index, value, mode):
    config = _autoencoder("MaskedMSE", "Linear")
    config["Layers"][index] = {**config["Layers"][index], "Compute": value}
    spec = validate_config(config)
    assert spec.Layers[index].Compute is (mode or ComputeMode.Auto)
    network = compile_network(spec, {"x": WIDTH})
    if mode is not None:
        assert network.layers[spec.Layers[index].Name].compute is mode


def _compile_problems(config: dict, widths: dict | None = None) -> list[str]:
    spec = validate_config(config)
    with pytest.raises(CompileError) as err:
        compile_network(spec, widths if widths is not None else {"x": WIDTH})
    return [str(i) for i in err.value.issues]


EVERY_UNIT = (
    "Layers[2].Compute: layer 'Out': Compute \"Sparse\" cannot apply: the {} loss reads every "
    "output unit; only MaskedMSE, and L1, L2, L2Hinge, Hinge or Sigmoid cross entropies on a "
    "DataSet with SparseIgnoreZero, read just the stored targets"
)


@pytest.mark.parametrize(
    ("error", "activation"),
    [("L2", "Linear"), ("CrossEntropy", "Sigmoid"), ("ScaledMarginalCrossEntropy", "Sigmoid")],
)
def test_compute_sparse_with_a_loss_reading_every_output_does_not_compile(error, activation):
    config = _autoencoder(error, activation, ignore_zero=False, output={"Compute": "Sparse"})
    assert _compile_problems(config) == [EVERY_UNIT.format(error)]
    # the same layer compiles where the dataset has SparseIgnoreZero
    _compile(_autoencoder(error, activation, ignore_zero=True, output={"Compute": "Sparse"}))


def test_compute_sparse_on_an_output_fed_by_a_sparse_input_does_not_compile():
    config = {
        "ErrorFunction": "MaskedMSE",
        "Layers": [
            {"Name": "In", "Kind": "Input", "N": WIDTH, "DataSet": "x", "Sparse": True},
            {
                "Name": "Out",
                "Kind": "Output",
                "N": WIDTH,
                "DataSet": "x",
                "Sparse": True,
                "Activation": "Linear",
                "Compute": "Sparse",
            },
        ],
    }
    assert _compile_problems(config) == [
        "Layers[1].Compute: layer 'Out': Compute \"Sparse\" cannot apply: its source 'In' is "
        'a sparse Input; entries are computed from dense sources (set "Compute": "Dense" on the '
        "Input)"
    ]
    assert len(_compile_problems(_input_and_hidden_config(Compute="Sparse"))) == 1


def test_compute_sparse_accepts_an_input_that_is_always_made_dense():
    config = _input_and_hidden_config(Compute="Sparse")
    config["Layers"][0] = {**config["Layers"][0], "Compute": "Dense"}
    network = _compile(config, {}).eval()
    batch = _batch(1)
    out = network({"x": batch}, {"x": batch}, mode=OutputMode.Sparse)
    assert isinstance(out.outputs["Out"], SparseBatch)


def test_compute_sparse_on_an_output_read_by_another_layer_names_the_reason():
    config = {
        "ErrorFunction": "MaskedMSE",
        "Layers": [
            {"Name": "In", "Kind": "Input", "N": WIDTH, "DataSet": "x", "Sparse": True},
            {"Name": "H", "N": 6},
            {
                "Name": "First",
                "Kind": "Output",
                "N": WIDTH,
                "DataSet": "x",
                "Sparse": True,
                "Activation": "Tanh",
                "Compute": "Sparse",
            },
            {
                "Name": "Second",
                "Kind": "Output",
                "Source": "First",
                "N": WIDTH,
                "DataSet": "x",
                "Sparse": True,
                "Activation": "Linear",
            },
        ],
    }
    (problem,) = _compile_problems(config, {})
    assert problem.startswith("Layers[2].Compute: layer 'First': Compute \"Sparse\" cannot apply")
    assert "MaskedMSE loss reads every output unit" not in problem
    assert "Second" in problem


def test_compute_sparse_with_delta_norm_is_refused_or_honoured():
    config = _autoencoder("MaskedMSE", "Linear", output={"Compute": "Sparse", "DeltaNorm": 1.0})
    try:
        network = _compile(config)
    except CompileError:
        return
    batch = _batch(1)
    out = network.train()({"x": batch}, {"x": batch}, mode=OutputMode.Sparse)
    assert isinstance(out.outputs["Out"], SparseBatch)


# ---------------------------------------------------------------- the Compute key: behaviour


def test_compute_sparse_output_is_sampled_in_sparse_mode_only():
    network = _compile(_autoencoder("MaskedMSE", "Linear", output={"Compute": "Sparse"})).eval()
    batch = _batch(1)
    args = ({"x": batch}, {"x": batch})
    dense, dense_grads = _run(network, *args, None, OutputMode.Dense)
    sparse, sparse_grads = _run(network, *args, None, OutputMode.Sparse)
    assert isinstance(dense.outputs["Out"], Tensor)
    assert isinstance(sparse.outputs["Out"], SparseBatch)
    torch.testing.assert_close(sparse.loss, dense.loss)
    _assert_same_gradients(sparse_grads, dense_grads)


def test_compute_dense_on_the_output_forces_the_dense_path():
    network = _compile(_autoencoder("MaskedMSE", "Linear", output={"Compute": "Dense"})).eval()
    assert network.layers["Out"].compute is ComputeMode.Dense
    batch = _batch(1)
    args = ({"x": batch}, {"x": batch}, {"x": _data_weights()})
    dense, dense_grads = _run(network, *args, OutputMode.Dense)
    for mode in (OutputMode.Sparse, OutputMode.SparseLoss):
        out, grads = _run(network, *args, mode)
        assert isinstance(out.outputs["Out"], Tensor) and out.outputs["Out"].requires_grad
        torch.testing.assert_close(out.loss, dense.loss)
        _assert_same_gradients(grads, dense_grads)
        assert not grads["layers.Out.projections.0.weight"].is_sparse


@pytest.mark.parametrize(
    ("compute", "density", "sparse_grad"),
    [
        ("Auto", 0.08, True),
        ("Auto", 0.3, False),  # above 0.1: the batch is made dense
        ("Sparse", 0.3, True),
        ("Dense", 0.08, False),
    ],
)
def test_input_compute_mode_decides_how_the_first_layer_sees_the_batch(
    compute, density, sparse_grad
):
    config = _autoencoder("MaskedMSE", "Linear")
    config["Layers"][0] = {**config["Layers"][0], "Compute": compute}
    network = _compile(config).eval()
    reference = _compile(_autoencoder("MaskedMSE", "Linear")).eval()
    batch = _batch(12, density=density)
    args = ({"x": batch}, {"x": batch})
    out, grads = _run(network, *args, None, OutputMode.Sparse)
    expected, expected_grads = _run(reference, *args, None, OutputMode.Dense)
    assert grads["layers.H.projections.0.weight"].is_sparse == sparse_grad
    torch.testing.assert_close(out.loss, expected.loss)
    _assert_same_gradients(grads, expected_grads)


# ---------------------------------------------------------------- weight layouts


def test_compiled_layouts():
    config = {
        "ErrorFunction": "MaskedMSE",
        "Layers": [
            {"Name": "In", "Kind": "Input", "N": WIDTH, "DataSet": "x", "Sparse": True},
            {"Name": "D", "Kind": "Input", "N": 3, "DataSet": "d"},
            {"Name": "H", "N": 6, "Source": "In"},
            {"Name": "G", "N": 5, "Source": ["H", "D"]},
            {
                "Name": "Out",
                "Kind": "Output",
                "N": WIDTH,
                "DataSet": "x",
                "Sparse": True,
                "Source": ["G", "In", "D"],
                "Activation": "Linear",
            },
        ],
    }
    network = _compile(config, {})
    rows = {name: [p.rows for p in network.layers[name].projections] for name in "HG"}
    assert rows == {"H": ["in"], "G": ["in", "in"]}
    assert [p.rows for p in network.layers["Out"].projections] == ["out", "in", "out"]
    shapes = [tuple(p.weight.shape) for p in network.layers["Out"].projections]
    assert shapes == [(WIDTH, 5), (WIDTH, WIDTH), (WIDTH, 3)]
    assert tuple(network.layers["H"].projections[0].weight.shape) == (WIDTH, 6)
    for projection in network.layers["Out"].projections:
        assert projection.matrix().shape == (projection.in_features, WIDTH)
