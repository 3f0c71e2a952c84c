"""The rating Baseline: row offsets against a numpy formula, and a network with a baseline
against the same network without one plus the baseline, computed by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from netcfg import ConfigError, compile_network, validate_config
from netcfg.data import SparseBatch
from netcfg.networks.baseline import RatingBaseline
from netcfg.networks.network import OutputMode


def _ratings(rows: int, cols: int, density: float, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    mask = torch.rand(rows, cols, generator=g) < density
    mask[0] = False  # a row with no rating at all gets the global mean
    return torch.where(mask, torch.randint(1, 6, (rows, cols), generator=g).float(), 0.0)


def _config(**baseline):
    return {
        "ErrorFunction": "MaskedMSE",
        "Baseline": baseline,
        "Layers": [
            {"Name": "In", "N": 12, "DataSet": "r", "Sparse": True},
            {"Name": "H", "N": 5, "Activation": "Sigmoid"},
            {
                "Name": "Out",
                "Kind": "Output",
                "N": 12,
                "DataSet": "r",
                "Sparse": True,
                "Activation": "Linear",
            },
        ],
    }


def _baseline(shrinkage=0.0, center=True, indicators=False, width=12, seed=0):
    baseline = RatingBaseline(width, shrinkage, center_input=center, indicators=indicators)
    baseline.start_at(3.25)
    with torch.no_grad():
        baseline.bias.copy_(torch.randn(width, generator=torch.Generator().manual_seed(seed)))
    return baseline


@pytest.mark.parametrize("shrinkage", [0.0, 5.0])
def test_row_offsets_follow_the_biases_formula(shrinkage):
    dense = _ratings(7, 12, 0.4, seed=0)
    baseline = _baseline(shrinkage)
    x, bias = dense.numpy(), baseline.bias.detach().numpy()
    n = (x != 0).sum(axis=1)
    residual = np.where(x != 0, x - 3.25 - bias[None, :], 0.0)
    expected = residual.sum(axis=1) / np.maximum(n + shrinkage, 1e-12)
    for batch in (dense, SparseBatch.from_dense(dense)):
        offsets = baseline.row_offsets(batch).detach().numpy()
        np.testing.assert_allclose(offsets, expected, rtol=1e-5, atol=1e-6)
    assert baseline.row_offsets(dense)[0].item() == 0.0  # no rating: mean and biases only


@pytest.mark.parametrize("center", [True, False])
def test_network_predicts_around_the_baseline(center):
    torch.manual_seed(0)
    with_baseline = compile_network(validate_config(_config(Shrinkage=2.0, CenterInput=center)))
    plain = compile_network(validate_config({**_config(), "Baseline": None}))
    plain.load_state_dict(
        {k: v for k, v in with_baseline.state_dict().items() if not k.startswith("baseline.")}
    )
    with_baseline.baseline.load_state_dict(_baseline(2.0, center).state_dict())
    bias = with_baseline.baseline.bias.detach()
    dense = _ratings(6, 12, 0.4, seed=1)
    target = _ratings(6, 12, 0.3, seed=2)
    target[0, :3] = torch.tensor([4.0, 2.0, 5.0])  # targets on a row with an empty input
    sparse_input, sparse_target = SparseBatch.from_dense(dense), SparseBatch.from_dense(target)
    n = (dense != 0).sum(1)
    offsets = torch.where(dense != 0, dense - 3.25 - bias, 0.0).sum(1) / (n + 2.0)
    seen = torch.where(dense != 0, dense - 3.25, 0.0) if center else dense
    inner = plain({"r": SparseBatch.from_dense(seen)}).outputs["Out"]
    expected = inner + 3.25 + bias[None, :] + offsets[:, None]
    observed = target != 0
    expected_loss = ((expected - target)[observed] ** 2).mean()
    for mode in OutputMode:
        result = with_baseline({"r": sparse_input}, {"r": sparse_target}, mode=mode)
        out = result.outputs["Out"]
        if isinstance(out, SparseBatch):  # predicted at the target's entries only
            torch.testing.assert_close(out.values, expected[observed])
        else:
            torch.testing.assert_close(out, expected)
        # MaskedMSE on the residuals is the squared error of the restored predictions
        assert result.losses["Out"].item() == pytest.approx(expected_loss.item(), rel=1e-5)
    # without targets, and from a dense input (what export feeds), the same predictions
    torch.testing.assert_close(with_baseline({"r": dense}).outputs["Out"], expected)


def test_the_mean_and_column_biases_are_learned():
    network = compile_network(validate_config(_config()))
    names = [n for n, _ in network.named_parameters()]
    assert "baseline.mean" in names and "baseline.bias" in names
    assert network.baseline.bias.shape == (12,)
    dense = _ratings(6, 12, 0.5, seed=3)
    batch = SparseBatch.from_dense(dense)
    network({"r": batch}, {"r": batch}).loss.backward()
    assert network.baseline.mean.grad.abs() > 0 and network.baseline.bias.grad.abs().sum() > 0


def _problems(config) -> list[str]:
    with pytest.raises(ConfigError) as err:
        validate_config(config)
    return [f"{'.'.join(map(str, i.path))}: {i.message}" for i in err.value.issues]


def test_a_baseline_needs_a_rating_autoencoder():
    config = _config()
    config["ErrorFunction"] = "CrossEntropy"
    config["Layers"][2]["Activation"] = "Sigmoid"
    assert _problems(config) == ["Baseline: a Baseline predicts ratings: it needs MaskedMSE"]
    config = _config()
    config["Layers"][2]["DataSet"] = "other"
    assert any(
        p.startswith("Baseline: a Baseline takes each row's level from the input")
        for p in _problems(config)
    )
    assert "Shrinkage" in " ".join(_problems({**_config(), "Baseline": {"Shrinkage": -1}}))
    config = _config()
    config["Layers"][0]["N"] = config["Layers"][2]["N"] = [3, 4]
    assert _problems(config) == [
        "Baseline: a Baseline works on rows of ratings, but layer 'In' gives DataSet 'r' "
        "several dimensions"
    ]


def test_indicators_double_the_input_with_a_block_of_ones():
    dense = _ratings(5, 12, 0.4, seed=4)
    baseline = _baseline(indicators=True)
    expected = torch.cat([torch.where(dense != 0, dense - 3.25, 0.0), (dense != 0).float()], 1)
    torch.testing.assert_close(baseline.center(dense), expected)
    sparse = baseline.center(SparseBatch.from_dense(dense))
    assert (
        sparse.num_columns == 24
        and sparse.offsets.tolist() == (SparseBatch.from_dense(dense).offsets * 2).tolist()
    )
    torch.testing.assert_close(sparse.to_dense(), expected)


def test_an_indicator_network_reads_twice_the_width_and_matches_its_dense_twin():
    spec = validate_config(_config(Indicators=True))
    torch.manual_seed(0)
    network = compile_network(spec)
    assert network.shapes["In"] == (24,) and network.shapes["Out"] == (12,)
    assert sorted(network.layers["H"].projections[0].matrix().shape) == [5, 24]
    dense = _ratings(6, 12, 0.4, seed=5)
    torch.testing.assert_close(
        network({"r": SparseBatch.from_dense(dense)}).outputs["Out"],
        network({"r": dense}).outputs["Out"],
    )
