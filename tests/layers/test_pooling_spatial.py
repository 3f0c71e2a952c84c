"""Max, Average, LRN and Maxout pooling against numpy and written-out references, in values
and gradients; shapes and settings through compile."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from netcfg import CompileError, ConfigError, compile_network, validate_config
from netcfg.layers.spatial_pooling import LocalResponseNorm, Maxout, WindowPooling


def windows(grid, kernel, stride, pad, extent):
    """Per output position (DSSTNE order, x fastest), the flat grid positions its window
    covers inside the grid (padding left out)."""
    strides = [math.prod(grid[:axis]) for axis in range(len(grid))]
    found = []
    for out in itertools.product(*(range(e) for e in reversed(extent))):
        out = out[::-1]
        cells = []
        for offset in itertools.product(*(range(k) for k in kernel)):
            at = [o * s - p + k for o, s, p, k in zip(out, stride, pad, offset, strict=True)]
            if all(0 <= a < g for a, g in zip(at, grid, strict=True)):
                cells.append(sum(a * s for a, s in zip(at, strides, strict=True)))
        found.append(cells)
    return found


def numpy_pool(x, upstream, function, grid, channels, kernel, stride, pad, extent):
    """Pooled values and the input gradient for an upstream gradient, in numpy: the max
    sends the gradient to its arg max, the average splits it over the window's cells."""
    area = math.prod(grid)
    cells = windows(grid, kernel, stride, pad, extent)
    out = np.zeros((x.shape[0], channels * len(cells)))
    grad = np.zeros_like(x)
    for b, c, (p, window) in itertools.product(
        range(x.shape[0]), range(channels), enumerate(cells)
    ):
        units = [c * area + cell for cell in window]
        unit_out = c * len(cells) + p
        if function == "Max":
            best = units[int(np.argmax(x[b, units]))]
            out[b, unit_out] = x[b, best]
            grad[b, best] += upstream[b, unit_out]
        else:
            out[b, unit_out] = x[b, units].mean()
            grad[b, units] += upstream[b, unit_out] / len(units)
    return out, grad


CASES = [
    # grid, channels, kernel, stride, expected extent, expected padding
    ((8, 6), 3, (4, 4), (2, 2), (3, 2), (0, 0)),  # CIFAR's pooling: (w - f) // s + 1
    ((7, 5), 2, (3, 3), (1, 1), (7, 5), (1, 1)),  # stride 1 keeps the size, padded
    ((3, 6), 2, (5, 2), (2, 2), (1, 3), (1, 0)),  # narrower than the window: 1
    ((9,), 4, (3,), (2,), (4,), (0,)),  # 1-D
    ((4, 4, 3), 2, (2, 2, 3), (2, 2, 1), (2, 2, 1), (0, 0, 1)),  # 3-D
]


@pytest.mark.parametrize("function", ["Max", "Average"])
@pytest.mark.parametrize("grid, channels, kernel, stride, extent, pad", CASES)
def test_window_pooling_matches_numpy(function, grid, channels, kernel, stride, extent, pad):
    rng = np.random.default_rng(len(grid) + channels)
    x = rng.normal(size=(3, math.prod(grid) * channels))
    pool = WindowPooling(function, grid, channels, kernel, stride)
    assert pool.dims == (*extent, channels)
    assert pool.window.padding == pad
    xt = torch.tensor(x, requires_grad=True)
    out = pool([xt])
    upstream = rng.normal(size=tuple(out.shape))
    expected, grad = numpy_pool(x, upstream, function, grid, channels, kernel, stride, pad, extent)
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-12)
    out.backward(torch.tensor(upstream))
    np.testing.assert_allclose(xt.grad.numpy(), grad, rtol=1e-12, atol=1e-12)


def test_several_sources_are_pooled_and_summed_then_skips_added():
    rng = np.random.default_rng(5)
    a, b = (torch.tensor(rng.normal(size=(2, 32))) for _ in range(2))
    skip = torch.tensor(rng.normal(size=(2, 8)))
    pool = WindowPooling("Max", (4, 4), 2, (2, 2), (2, 2))
    torch.testing.assert_close(pool.preactivate([a, b], [skip]), pool([a]) + pool([b]) + skip)


def lrn_reference(x, dims, n, alpha, beta, k):
    """DSSTNE's (cuDNN's) LRN written out in torch: channels are the last dimension; the
    window of channel c is c - n // 2 .. c + (n - 1) // 2, cut at the ends."""
    batch, channels = x.shape[0], dims[-1]
    cells = x.view(batch, channels, -1)
    out = []
    for c in range(channels):
        window = range(max(0, c - n // 2), min(channels, c + (n - 1) // 2 + 1))
        total = sum(cells[:, j] ** 2 for j in window)
        out.append(cells[:, c] / (k + alpha / n * total) ** beta)
    return torch.stack(out, dim=1).reshape(batch, -1)


@pytest.mark.parametrize(
    "dims, n, alpha, beta, k",
    [((4, 3, 7), 5, 1e-4, 0.75, 2.0), ((5, 6), 3, 0.5, 0.6, 1.0), ((6,), 4, 2.0, 1.5, 0.5)],
)
def test_lrn_matches_the_written_out_formula(dims, n, alpha, beta, k):
    torch.manual_seed(6)
    x = (3 * torch.randn(2, math.prod(dims), dtype=torch.float64)).requires_grad_()
    x_ref = x.detach().clone().requires_grad_()
    out = LocalResponseNorm(dims, n, alpha, beta, k)([x])
    expected = lrn_reference(x_ref, dims, n, alpha, beta, k)
    torch.testing.assert_close(out, expected)
    upstream = torch.randn_like(out)
    (out * upstream).sum().backward()
    (expected * upstream).sum().backward()
    torch.testing.assert_close(x.grad, x_ref.grad)


def test_lrn_numbers_by_hand():
    # one position, three channels, n = 3: channel 0 sees channels 0 and 1
    x = torch.tensor([[1.0, 2.0, 3.0]])
    out = LocalResponseNorm((1, 3), size=3, alpha=3.0, beta=1.0, k=1.0)([x])
    expected = [1 / (1 + 1 * (1 + 4)), 2 / (1 + 1 * (1 + 4 + 9)), 3 / (1 + 1 * (4 + 9))]
    torch.testing.assert_close(out, torch.tensor([expected]))


def test_maxout_takes_the_elementwise_maximum_and_routes_the_gradient():
    a = torch.tensor([[1.0, 5.0, -2.0]], requires_grad=True)
    b = torch.tensor([[3.0, 2.0, -4.0]], requires_grad=True)
    out = Maxout()([a, b])
    torch.testing.assert_close(out, torch.tensor([[3.0, 5.0, -2.0]]))
    out.backward(torch.tensor([[10.0, 20.0, 30.0]]))
    torch.testing.assert_close(a.grad, torch.tensor([[0.0, 20.0, 30.0]]))
    torch.testing.assert_close(b.grad, torch.tensor([[10.0, 0.0, 0.0]]))


def _spec(*layers, **network):
    return validate_config(
        {
            "ErrorFunction": "CrossEntropy",
            **network,
            "Layers": [
                {"Name": "In", "Kind": "Input", "N": [6, 6, 4], "DataSet": "x"},
                {"Name": "Other", "Kind": "Input", "N": [6, 6, 4], "DataSet": "x2"},
                *layers,
                {"Name": "Out", "Kind": "Output", "N": 3, "DataSet": "y", "Activation": "SoftMax"},
            ],
        }
    )


def test_pooling_shapes_and_lrn_settings_through_compile():
    lrn_block = {"k": 1.5, "n": 3, "alpha": 0.01, "beta": 0.5}
    spec = _spec(
        {"Name": "L", "Source": "In", "Type": "Pooling", "Function": "LRN"},
        {"Name": "M", "Source": ["L", "Other"], "Type": "Pooling", "Function": "Maxout"},
        {
            "Name": "A",
            "Type": "Pooling",
            "Function": "Average",
            "Kernel": [3, 3],
            "KernelStride": [3, 3],
        },
        {"Name": "P", "Type": "Pooling", "Function": "Max", "Kernel": 2, "N": [1, 2, 4]},
        LocalResponseNormalization=lrn_block,
    )
    with torch.device("meta"):
        network = compile_network(spec)
    assert network.shapes["L"] == network.shapes["M"] == (6, 6, 4)
    assert network.shapes["A"] == (2, 2, 4)
    assert network.shapes["P"] == (1, 2, 4)  # a 1-D window: y and the channels stay
    lrn = network.layers["L"]
    assert (lrn.k, lrn.size, lrn.alpha, lrn.beta) == (1.5, 3, 0.01, 0.5)
    assert sum(p.numel() for p in network.parameters()) == 8 * 3 + 3


def test_pooling_problems_are_reported():
    with pytest.raises(ConfigError, match="Kernel has no effect on Pooling Function 'LRN'"):
        _spec({"Name": "L", "Type": "Pooling", "Function": "LRN", "Kernel": [3, 3]})
    spec = _spec(
        {"Name": "H", "Source": "In", "N": [2, 2]},
        {"Name": "M", "Source": ["H", "Other"], "Type": "Pooling", "Function": "Maxout"},
        {"Name": "Flat", "Source": "In", "N": 36},
        {"Name": "P", "Source": "Flat", "Type": "Pooling", "Function": "Max", "Kernel": [2, 2]},
    )
    with pytest.raises(CompileError) as err:
        compile_network(spec)
    assert [str(i) for i in err.value.issues] == [
        "Layers[3].Source: the sources of a Maxout layer must have equal dimensions "
        "(got 2x2, 6x6x4)",
        "Layers[5].Kernel: a 2-D Kernel reads a grid, but source 'Flat' has dimensions 36; "
        "give the source its dimensions (N: [x, y, channels] on a layer, or data of those "
        'dimensions for "auto")',
    ]
