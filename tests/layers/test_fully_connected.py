"""FullyConnected layers against hand-written computations with the module's own weights."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from netcfg.data.batch import SparseBatch
from netcfg.layers.dropout import FillDropout
from netcfg.layers.fully_connected import FullyConnected, clip_rows
from netcfg.layers.projection import Projection, SharedProjection


def sparse_dense(batch: int, cols: int, density: float, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    mask = torch.rand(batch, cols, generator=g) < density
    return torch.where(mask, 1.0 + torch.rand(batch, cols, generator=g), torch.zeros(()))


def set_bias(layer: FullyConnected, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        layer.bias.copy_(torch.randn(layer.bias.shape, generator=g))
    return layer.bias.detach().clone()


# ---------------------------------------------------------------- forward


def test_multi_source_sum_bias_and_skips():
    torch.manual_seed(0)
    layer = FullyConnected([5, 12, 3], 4, activation=nn.Tanh())
    bias = set_bias(layer, 1)
    w = [p.weight.detach() for p in layer.projections]
    assert [tuple(x.shape) for x in w] == [(5, 4), (12, 4), (3, 4)]

    x0 = torch.randn(6, 5)
    x1 = sparse_dense(6, 12, 0.3, 2)
    x2 = torch.randn(6, 3)
    skip_a = torch.randn(6, 4)
    skip_b = torch.randn(6, 2, 2)  # a multidimensional skip is flattened

    out = layer([x0, SparseBatch.from_dense(x1), x2], skips=[skip_a, skip_b])

    z = torch.zeros(6, 4)
    for b in range(6):
        for j in range(4):
            total = bias[j].item() + skip_a[b, j].item() + skip_b[b].flatten()[j].item()
            for x, weight in ((x0, w[0]), (x1, w[1]), (x2, w[2])):
                total += sum(x[b, i].item() * weight[i, j].item() for i in range(x.shape[1]))
            z[b, j] = total
    torch.testing.assert_close(out, torch.tanh(z), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(
        layer.preactivate([x0, SparseBatch.from_dense(x1), x2], [skip_a, skip_b]),
        z,
        rtol=1e-5,
        atol=1e-5,
    )


def test_single_input_need_not_be_a_list():
    torch.manual_seed(3)
    layer = FullyConnected([7], 3)
    bias = set_bias(layer, 4)
    x = torch.randn(2, 7)
    torch.testing.assert_close(layer(x), x @ layer.projections[0].weight + bias)
    xs = sparse_dense(2, 7, 0.5, 5)
    torch.testing.assert_close(
        layer(SparseBatch.from_dense(xs)), xs @ layer.projections[0].weight + bias
    )


def test_default_activation_is_identity_and_bias_starts_at_zero():
    layer = FullyConnected([3], 2)
    assert torch.equal(layer.bias.detach(), torch.zeros(2))
    x = torch.randn(4, 3)
    torch.testing.assert_close(layer(x), x @ layer.projections[0].weight)


def test_wrong_number_of_shared_entries_is_rejected():
    with pytest.raises(ValueError, match="one entry per source"):
        FullyConnected([3, 4], 2, shared=[None])


def test_batch_norm_is_applied_to_the_preactivation():
    torch.manual_seed(6)
    layer = FullyConnected([5], 3, activation=nn.Sigmoid(), batch_norm=True)
    bias = set_bias(layer, 7)
    assert isinstance(layer.batch_norm, nn.BatchNorm1d)
    x = torch.randn(32, 5) * 3.0 + 1.0
    z = x @ layer.projections[0].weight.detach() + bias

    layer.train()
    out = layer(x)
    mean = z.mean(dim=0)
    var = ((z - mean) ** 2).mean(dim=0)  # biased variance in training
    normalized = (z - mean) / torch.sqrt(var + 1e-5)
    torch.testing.assert_close(out, torch.sigmoid(normalized), rtol=1e-5, atol=1e-5)
    # Zero mean and unit variance per unit before the activation.
    pre = layer.preactivate([x])
    torch.testing.assert_close(pre.mean(dim=0), torch.zeros(3), atol=1e-5, rtol=0)

    # Eval uses the running statistics: two training passes with momentum 0.1 so far.
    layer.eval()
    unbiased = z.var(dim=0, unbiased=True)
    running_mean = 0.1 * mean + 0.9 * (0.1 * mean)
    running_var = 0.1 * unbiased + 0.9 * (0.9 * 1.0 + 0.1 * unbiased)
    expected = torch.sigmoid((z - running_mean) / torch.sqrt(running_var + 1e-5))
    torch.testing.assert_close(layer(x), expected, rtol=1e-5, atol=1e-5)


def test_dropout_after_activation_in_training_only():
    torch.manual_seed(8)
    layer = FullyConnected(
        [4], 1000, activation=nn.Sigmoid(), dropout=FillDropout(0.5, fill=0.5, scale=1.0)
    )
    with torch.no_grad():
        layer.projections[0].weight.fill_(1.0)
    x = torch.ones(2, 4)  # every activation is sigmoid(4), not 0.5
    layer.eval()
    torch.testing.assert_close(layer(x), torch.full((2, 1000), torch.sigmoid(torch.tensor(4.0))))
    layer.train()
    out = layer(x)
    dropped = out == 0.5
    assert dropped.float().mean().item() == pytest.approx(0.5, abs=0.05)
    torch.testing.assert_close(
        out[~dropped], torch.sigmoid(torch.tensor(4.0)).expand(int((~dropped).sum()))
    )


# ---------------------------------------------------------------- DeltaNorm


def test_clip_rows_against_formula():
    g = torch.Generator().manual_seed(9)
    grad = torch.randn(10, 6, generator=g, dtype=torch.float64) * 3.0
    grad[4] = 0.0  # a zero row stays zero
    grad[7] = grad[7] / grad[7].norm() * 0.5  # a short row is untouched
    max_norm = 2.0
    out = clip_rows(grad, max_norm)
    for b in range(10):
        norm = grad[b].norm().item()
        factor = min(1.0, max_norm / norm) if norm > 0 else 1.0
        torch.testing.assert_close(out[b], grad[b] * factor)
    assert (out.norm(dim=1) <= max_norm + 1e-12).all()
    assert torch.equal(out[4], torch.zeros(6, dtype=torch.float64))
    assert torch.equal(out[7], grad[7])


def test_clip_rows_uses_the_whole_example_for_multidimensional_gradients():
    g = torch.Generator().manual_seed(10)
    grad = torch.randn(3, 4, 5, generator=g, dtype=torch.float64)
    out = clip_rows(grad, 1.0)
    for b in range(3):
        torch.testing.assert_close(out[b], grad[b] / max(1.0, grad[b].norm().item()))


def delta_norm_setup(delta_norm: float):
    """A layer fed the identity matrix, so its weight gradient is the pre-activation delta."""
    torch.manual_seed(11)
    batch, out = 6, 5
    layer = FullyConnected([batch], out, activation=nn.Tanh(), delta_norm=delta_norm)
    set_bias(layer, 12)
    x = torch.eye(batch, dtype=torch.float32)
    g = torch.Generator().manual_seed(13)
    upstream = torch.randn(batch, out, generator=g) * 4.0
    upstream[2] *= 0.01  # one example's delta is below any cap used here
    return layer, x, upstream


def test_delta_norm_clips_each_examples_delta():
    max_norm = 0.5
    layer, x, upstream = delta_norm_setup(max_norm)
    layer.train()
    (layer(x) * upstream).sum().backward()
    delta = layer.projections[0].weight.grad  # x = I, so dW = delta

    # Unclipped delta, by hand: upstream * tanh'(z).
    with torch.no_grad():
        z = x @ layer.projections[0].weight + layer.bias
        raw = upstream * (1.0 - torch.tanh(z) ** 2)
    norms = raw.norm(dim=1)
    assert (norms > max_norm).sum() >= 4 and norms[2] < max_norm
    expected = raw * torch.clamp(max_norm / norms, max=1.0).unsqueeze(1)
    torch.testing.assert_close(delta, expected)
    assert (delta.norm(dim=1) <= max_norm * (1 + 1e-5)).all()
    torch.testing.assert_close(delta[2], raw[2])
    # The bias gradient is the sum of the clipped deltas.
    torch.testing.assert_close(layer.bias.grad, expected.sum(dim=0))


def test_delta_norm_is_off_in_eval_and_when_zero():
    for delta_norm, training in ((0.5, False), (0.0, True)):
        layer, x, upstream = delta_norm_setup(delta_norm)
        layer.train(training)
        (layer(x) * upstream).sum().backward()
        with torch.no_grad():
            z = x @ layer.projections[0].weight + layer.bias
            raw = upstream * (1.0 - torch.tanh(z) ** 2)
        torch.testing.assert_close(layer.projections[0].weight.grad, raw)
        assert raw.norm(dim=1).max() > 0.5


# ---------------------------------------------------------------- WeightNorm


def test_weight_norm_caps_each_output_units_incoming_column():
    layer = FullyConnected([4], 3, weight_norm=1.0)
    w = torch.tensor(
        [[3.0, 0.1, 0.0], [4.0, 0.2, 0.6], [0.0, 0.2, 0.8], [0.0, 0.0, 0.0]]
    )  # column norms 5, 0.3, 1.0
    with torch.no_grad():
        layer.projections[0].weight.copy_(w)
    layer.apply_weight_norm_()
    after = layer.projections[0].weight.detach()
    torch.testing.assert_close(after[:, 0], torch.tensor([0.6, 0.8, 0.0, 0.0]))
    assert torch.equal(after[:, 1], w[:, 1])  # smaller column untouched
    torch.testing.assert_close(after[:, 2], w[:, 2])  # at the cap: unchanged
    torch.testing.assert_close(after.norm(dim=0), torch.tensor([1.0, 0.3, 1.0]))


def test_weight_norm_on_random_weights_against_formula():
    torch.manual_seed(14)
    layer = FullyConnected([20, 7], 9, weight_norm=1.5)
    before = [p.weight.detach().clone() * 10.0 for p in layer.projections]
    with torch.no_grad():
        for p, b in zip(layer.projections, before, strict=True):
            p.weight.copy_(b)
            p.weight[:, 0] *= 1e-3  # one short column per matrix
    before = [p.weight.detach().clone() for p in layer.projections]
    layer.apply_weight_norm_()
    for p, b in zip(layer.projections, before, strict=True):
        for j in range(9):
            norm = b[:, j].norm().item()
            torch.testing.assert_close(p.weight[:, j].detach(), b[:, j] * min(1.0, 1.5 / norm))
        assert torch.equal(p.weight[:, 0].detach(), b[:, 0])


def test_weight_norm_zero_is_off():
    layer = FullyConnected([4], 3)
    with torch.no_grad():
        layer.projections[0].weight.fill_(10.0)
    layer.apply_weight_norm_()
    assert torch.equal(layer.projections[0].weight.detach(), torch.full((4, 3), 10.0))


# ---------------------------------------------------------------- shared weights


def test_shared_projection_slot_is_used_instead_of_a_new_weight():
    torch.manual_seed(15)
    owner = Projection(3, 8)  # maps 3 -> 8; used transposed it maps 8 -> 3
    tied = SharedProjection(owner, transposed=True)
    layer = FullyConnected([8, 2], 3, shared=[tied, None])
    assert layer.projections[0] is tied
    assert isinstance(layer.projections[1], Projection)
    assert layer.own_projections() == [layer.projections[1]]
    names = sorted(name for name, _ in layer.named_parameters())
    assert names == ["bias", "projections.1.weight"]
    bias = set_bias(layer, 16)
    x0 = sparse_dense(4, 8, 0.4, 17)
    x1 = torch.randn(4, 2)
    out = layer([SparseBatch.from_dense(x0), x1])
    expected = x0 @ owner.weight.t() + x1 @ layer.projections[1].weight + bias
    torch.testing.assert_close(out, expected)
    # Gradients reach the owner's weight.
    out.sum().backward()
    torch.testing.assert_close(owner.weight.grad, (x0.t() @ torch.ones(4, 3)).t())


def test_weight_norm_leaves_a_borrowed_weight_alone():
    owner = Projection(4, 3)
    with torch.no_grad():
        owner.weight.fill_(5.0)
    layer = FullyConnected([4], 3, shared=[SharedProjection(owner)], weight_norm=1.0)
    layer.apply_weight_norm_()
    assert torch.equal(owner.weight.detach(), torch.full((4, 3), 5.0))
