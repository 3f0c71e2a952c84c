"""Convolutional layers against an independent gather-and-matmul convolution, DSSTNE's
sizes and padding by hand, batch normalization by its formula, shapes through compile, and
DSSTNE's CIFAR-10 sample."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from helpers import EXAMPLES

from netcfg import CompileError, ConfigError, compile_network, load_config, validate_config
from netcfg.layers.convolutional import Convolution
from netcfg.layers.spatial import output_extent, padding


def reference(x, weight, bias, grid, kernel, stride, pad, extent):
    """A convolution written out: each output position gathers its window of DSSTNE-flat
    inputs (x fastest, channels last; zeros outside) and multiplies it by the filters.
    Returns DSSTNE-flat outputs [B, prod(extent) * filters]. Differentiable in everything."""
    batch, channels = x.shape[0], weight.shape[1]
    strides = [math.prod(grid[:axis]) for axis in range(len(grid))]
    area = math.prod(grid)
    rows = []
    for out in itertools.product(*(range(e) for e in reversed(extent))):
        out = out[::-1]  # DSSTNE order: x first
        row = []
        for c in range(channels):
            for offset in itertools.product(*(range(k) for k in reversed(kernel))):
                offset = offset[::-1]
                at = [o * s - p + k for o, s, p, k in zip(out, stride, pad, offset, strict=True)]
                inside = all(0 <= a < g for a, g in zip(at, grid, strict=True))
                flat = c * area + sum(a * s for a, s in zip(at, strides, strict=True))
                row.append(flat if inside else -1)
        rows.append(row)
    index = torch.tensor(rows)  # [positions, channels * window], -1 = padding
    padded = torch.cat([x, x.new_zeros(batch, 1)], dim=1)
    patches = padded[:, index]  # [B, positions, channels * window]
    y = patches @ weight.reshape(weight.shape[0], -1).T + bias  # [B, positions, filters]
    return y.transpose(1, 2).reshape(batch, -1)


CASES = [
    # grid (x, y[, z]), channels, filters, kernel, stride, expected extent, expected padding
    ((8, 7), 3, 4, (3, 5), (1, 1), (8, 7), (1, 2)),  # stride 1 keeps the size ("same")
    ((9, 7), 2, 3, (3, 3), (2, 2), (4, 3), (0, 0)),  # (w - f) // s + 1, no padding
    ((5, 4), 2, 2, (6, 3), (2, 1), (1, 4), (1, 1)),  # wider than the input: 1 position
    ((10,), 3, 5, (4,), (3,), (3,), (0,)),  # 1-D
    ((4, 5, 4), 2, 3, (3, 3, 3), (1, 2, 1), (4, 2, 4), (1, 0, 1)),  # 3-D
    ((3, 6), 1, 2, (3, 2), (1, 1), (1, 6), (1, 1)),  # w == f: 1; even kernel at stride 1
]


@pytest.mark.parametrize("grid, channels, filters, kernel, stride, extent, pad", CASES)
def test_values_and_gradients_match_the_written_out_convolution(
    grid, channels, filters, kernel, stride, extent, pad
):
    torch.manual_seed(0)
    assert tuple(map(output_extent, grid, kernel, stride)) == extent
    assert tuple(map(padding, grid, kernel, stride)) == pad
    layer = Convolution([channels], grid, filters, kernel, stride).double()
    with torch.no_grad():
        layer.weights[0].normal_()
        layer.bias.normal_()
    x = torch.randn(3, math.prod(grid) * channels, dtype=torch.float64, requires_grad=True)
    x_ref = x.detach().clone().requires_grad_()
    w_ref = layer.weights[0].detach().clone().requires_grad_()
    b_ref = layer.bias.detach().clone().requires_grad_()

    out = layer([x])
    expected = reference(x_ref, w_ref, b_ref, grid, kernel, stride, pad, extent)
    assert layer.dims == (*extent, filters)
    torch.testing.assert_close(out, expected)

    upstream = torch.randn_like(out)
    (out * upstream).sum().backward()
    (expected * upstream).sum().backward()
    torch.testing.assert_close(x.grad, x_ref.grad)
    torch.testing.assert_close(layer.weights[0].grad, w_ref.grad)
    torch.testing.assert_close(layer.bias.grad, b_ref.grad)


def test_sources_are_summed_with_one_bias_and_skips_added():
    torch.manual_seed(1)
    grid, kernel = (6, 5), (3, 3)
    layer = Convolution([2, 1], grid, 4, kernel).double()
    with torch.no_grad():
        for w in layer.weights:
            w.normal_()
        layer.bias.normal_()
    a = torch.randn(2, 30 * 2, dtype=torch.float64)
    b = torch.randn(2, 30 * 1, dtype=torch.float64)
    skip = torch.randn(2, 30 * 4, dtype=torch.float64)
    zero = torch.zeros(4, dtype=torch.float64)
    args = (grid, kernel, (1, 1), (1, 1), grid)
    expected = (
        reference(a, layer.weights[0], layer.bias, *args)
        + reference(b, layer.weights[1], zero, *args)
        + skip
    )
    torch.testing.assert_close(layer.preactivate([a, b], [skip]), expected)


def test_batch_normalization_is_per_filter_over_batch_and_grid():
    torch.manual_seed(2)
    grid, filters = (5, 4), 3
    layer = Convolution([2], grid, filters, (3, 3), batch_norm=True).double().train()
    plain = Convolution([2], grid, filters, (3, 3)).double()
    plain.load_state_dict(layer.state_dict(), strict=False)
    x = torch.randn(6, 40, dtype=torch.float64, requires_grad=True)
    x_ref = x.detach().clone().requires_grad_()

    out = layer.preactivate([x])
    z = plain.preactivate([x_ref]).view(6, filters, -1)  # DSSTNE-flat: each filter's grid
    mean = z.mean(dim=(0, 2), keepdim=True)
    var = ((z - mean) ** 2).mean(dim=(0, 2), keepdim=True)  # biased, as in training
    expected = ((z - mean) / torch.sqrt(var + 1e-5)).reshape(6, -1)
    torch.testing.assert_close(out, expected)

    upstream = torch.randn_like(out)
    (out * upstream).sum().backward()
    (expected * upstream).sum().backward()
    torch.testing.assert_close(x.grad, x_ref.grad)
    assert layer.batch_norm.running_mean.shape == (filters,)
    torch.testing.assert_close(layer.batch_norm.running_mean, 0.1 * mean.flatten().detach())


def test_weight_norm_caps_each_filter():
    layer = Convolution([2], (4, 4), 3, (3, 3), weight_norm=0.5)
    with torch.no_grad():
        layer.weights[0].fill_(1.0)
        layer.weights[0][2] = 0.01
    layer.apply_weight_norm_()
    norms = layer.weights[0].flatten(1).norm(dim=1)
    torch.testing.assert_close(norms[:2], torch.tensor([0.5, 0.5]))
    torch.testing.assert_close(norms[2], torch.tensor(0.01 * math.sqrt(18)))


def test_weight_init_fills_each_filter_from_its_fans():
    spec = _net(
        {
            "Name": "C",
            "Type": "Convolutional",
            "N": 40,
            "Kernel": [5, 3],
            "WeightInit": {"Scheme": "Constant", "Scale": 0.5, "Bias": 0.25},
        },
        {"Name": "X", "Type": "Convolutional", "N": 60, "Kernel": [3, 3], "Source": "In"},
        {"Name": "H", "N": 7, "Source": "C"},
    )
    network = compile_network(spec, {"pixels": 64, "labels": 10})
    constant = network.layers["C"]
    assert (constant.weights[0] == 0.5).all() and (constant.bias == 0.25).all()
    # Xavier: U(-s/2, s/2), s = sqrt(6 / (fan_in + fan_out)); fan_in = 1 channel x 3 x 3
    # units read per filter, fan_out = 60 filters
    weights = network.layers["X"].weights[0]
    half = math.sqrt(6 / (9 + 60)) / 2
    assert weights.abs().max() <= half
    assert weights.abs().max() > 0.9 * half


def _net(*hidden, input_n=(8, 8, 1), error="CrossEntropy"):
    return validate_config(
        {
            "ErrorFunction": error,
            "Layers": [
                {"Name": "In", "Kind": "Input", "N": list(input_n), "DataSet": "pixels"},
                *hidden,
                {
                    "Name": "Out",
                    "Kind": "Output",
                    "N": 10,
                    "DataSet": "labels",
                    "Activation": "SoftMax",
                },
            ],
        }
    )


def test_shapes_are_threaded_through_compile_and_flat_data_fits():
    spec = _net(
        {"Name": "C", "Type": "Convolutional", "N": 6, "Kernel": [3, 3], "KernelStride": [2, 2]},
        {"Name": "C1d", "Type": "Convolutional", "N": 5, "Kernel": 3, "Activation": "Relu"},
        {"Name": "P", "Type": "Pooling", "Function": "Max", "Kernel": 2, "KernelStride": 2},
        {"Name": "H", "N": 7, "BatchNormalization": True},
    )
    with torch.device("meta"):
        network = compile_network(spec, {"pixels": 64, "labels": 10})
    # 8x8 -> (8 - 3) // 2 + 1 = 3; a 1-D kernel reads [x, channels = 3 * 6] and x = 3 is
    # no wider than the kernel: 1 position; pooling 1 position gives 1
    assert network.shapes == {
        "In": (8, 8, 1),
        "C": (3, 3, 6),
        "C1d": (1, 5),
        "P": (1, 5),
        "H": (7,),
        "Out": (10,),
    }
    count = sum(p.numel() for p in network.parameters())
    hand = (6 * 1 * 9 + 6) + (5 * 18 * 3 + 5) + (5 * 7 + 7 + 2 * 7) + (7 * 10 + 10)
    assert count == hand
    with pytest.raises(CompileError, match="N is 8x8x1 but DataSet 'pixels' has width 65"):
        compile_network(spec, {"pixels": 65, "labels": 10})


def test_convolution_trains_with_batch_normalization():
    torch.manual_seed(3)
    spec = _net(
        {
            "Name": "C",
            "Type": "Convolutional",
            "N": 4,
            "Kernel": [3, 3],
            "Activation": "Relu",
            "BatchNormalization": True,
        },
        {
            "Name": "P",
            "Type": "Pooling",
            "Function": "Average",
            "Kernel": [2, 2],
            "KernelStride": 2,
        },
    )
    network = compile_network(spec, {"pixels": 64, "labels": 10})
    x, labels = torch.randn(16, 64), torch.randint(0, 10, (16,))
    target = torch.nn.functional.one_hot(labels, 10).float()
    optimizer = torch.optim.Adam(network.parameters(), lr=0.05)
    first = None
    for _ in range(30):
        loss = network({"pixels": x}, {"labels": target}).loss
        first = first if first is not None else loss.item()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.5 * first


def test_spec_errors_name_the_key():
    bad = {"Name": "C", "Type": "Convolutional", "N": 4, "Kernel": [3, 3]}
    with pytest.raises(ConfigError, match="KernelStride has 3 axes but Kernel has 2"):
        _net({**bad, "KernelStride": [1, 1, 1]})
    share = {"SourceInputLayer": "In", "SourceOutputLayer": "Out"}
    with pytest.raises(ConfigError, match="SharedWeights is not supported on Convolutional"):
        _net({**bad, "SharedWeights": share})


CIFAR = EXAMPLES / "dsstne" / "cifar-10.json"


def test_cifar10_sample_compiles_with_the_hand_counted_parameters():
    spec = load_config(CIFAR)
    with torch.device("meta"):
        network = compile_network(spec, {"input": (32, 32, 3), "output": 10})
    # sizes: 32 -> 32 (7x7, stride 1) -> 15 (4x4 pool, stride 2: (32 - 4) // 2 + 1)
    # -> 15 -> 6 ((15 - 4) // 2 + 1) -> 6 (5x5) -> 3 (2x2 pool, stride 2): 3 * 3 * 96 = 864
    assert network.shapes["P1"] == (15, 15, 128)
    assert network.shapes["P2"] == (6, 6, 128)
    assert network.shapes["P3"] == (3, 3, 96)
    filters = {"C1": (3, 128, 49), "C1a": (128, 128, 49), "C2": (128, 128, 49)}
    filters |= {"C2a": (128, 128, 49), "C3": (128, 96, 25), "C3a": (96, 96, 25)}
    convolutions = sum(c * f * k + f for c, f, k in filters.values())
    assert convolutions == 18_944 + 3 * 802_944 + 307_296 + 230_496
    dense = (864 * 1024 + 1024) + (1024 * 10 + 10)
    assert sum(p.numel() for p in network.parameters()) == convolutions + dense == 3_861_578
    lrn = spec.LocalResponseNormalization
    assert (lrn.k, lrn.n, lrn.alpha, lrn.beta) == (2, 5, 1e-4, 0.75)


def test_cifar10_sample_runs_a_training_step_on_random_images():
    torch.manual_seed(4)
    network = compile_network(load_config(CIFAR), {"input": (32, 32, 3), "output": 10})
    images = torch.rand(2, 32 * 32 * 3)
    target = torch.nn.functional.one_hot(torch.tensor([3, 7]), 10).float()
    optimizer = torch.optim.SGD(network.parameters(), lr=0.01)
    before = [p.detach().clone() for p in network.parameters()]
    result = network({"input": images}, {"output": target})
    assert result.outputs["Output"].shape == (2, 10)
    torch.testing.assert_close(result.outputs["Output"].sum(1), torch.ones(2))
    assert torch.isfinite(result.loss)
    optimizer.zero_grad()
    result.loss.backward()
    optimizer.step()
    changed = [not torch.equal(a, p) for a, p in zip(before, network.parameters(), strict=True)]
    assert all(changed)
