"""Output losses against hand-written references of DSSTNE's formulas (dsstne.md §2)."""

from __future__ import annotations

import math
import zlib

import pytest
import torch

from netcfg.data.batch import SparseBatch
from netcfg.layers.activations import ActivationKind
from netcfg.networks.losses import (
    CrossEntropyLoss,
    ErrorFunctionKind,
    MaskedMSELoss,
    create_loss,
    pairing_problem,
)

E = ErrorFunctionKind
Act = ActivationKind

SIGMOID, SOFTMAX = Act.Sigmoid, Act.SoftMax
CE_FAMILY = (E.CrossEntropy, E.ScaledMarginalCrossEntropy, E.DataScaledMarginalCrossEntropy)
BOOSTED = (E.L1, E.L2, E.L2Hinge, E.CrossEntropy)
SMCE_PARAMS = {"one_target": 0.8, "zero_target": 0.2, "one_scale": 1.5, "zero_scale": 0.7}
SHAPES = [(1, 5), (3, 7), (6, 4)]

COMBOS = [
    (E.L1, SIGMOID),
    (E.L1, Act.Linear),
    (E.L2, SIGMOID),
    (E.L2, Act.Tanh),
    (E.L2Hinge, SIGMOID),
    (E.L2Hinge, Act.Linear),
    (E.Hinge, SIGMOID),
    (E.Hinge, Act.Tanh),
    (E.CrossEntropy, SIGMOID),
    (E.CrossEntropy, SOFTMAX),
    (E.ScaledMarginalCrossEntropy, SIGMOID),
    (E.ScaledMarginalCrossEntropy, SOFTMAX),
    (E.DataScaledMarginalCrossEntropy, SIGMOID),
    (E.MaskedMSE, SIGMOID),
    (E.MaskedMSE, Act.Linear),
]


# ---------------------------------------------------------------- references


def log_(x: float) -> float:
    return math.log(max(1e-12, x))


def ref_unit(kind: E, act: Act, a: float, t: float) -> float:
    """One unit's unweighted loss, straight from the table of dsstne.md §2."""
    ot, zt = SMCE_PARAMS["one_target"], SMCE_PARAMS["zero_target"]
    os_, zs = SMCE_PARAMS["one_scale"], SMCE_PARAMS["zero_scale"]
    if kind is E.L1:
        return abs(a - t)
    if kind is E.L2:
        return 0.5 * (a - t) ** 2
    if kind is E.L2Hinge:
        d = a - abs(t)
        d = min(0.0, d) if t > 0 else max(0.0, d)
        return 0.5 * d * d
    if kind is E.Hinge:
        return max(0.0, 1.0 - t * a)
    if kind is E.CrossEntropy:
        if act is SOFTMAX:
            return -t * log_(a)
        return -t * log_(a) - (1 - t) * log_(1 - a)
    # ScaledMarginalCrossEntropy and DataScaledMarginalCrossEntropy
    if t != 0:
        return -t * os_ * log_(a) if a < ot else 0.0
    if act is SOFTMAX:
        return 0.0
    return -zs * log_(1 - a) if a > zt else 0.0


def ref_loss(kind, act, a, t, *, stored=None, w=None, boost=(1.0, 1.0), ignore_zero=False):
    """The loss by explicit loops; ``stored`` is the stored-position mask of a sparse target."""
    rows, cols = a.shape
    total, count = 0.0, 0
    for b in range(rows):
        wb = 1.0 if w is None or kind is E.DataScaledMarginalCrossEntropy else float(w[b])
        for j in range(cols):
            av, tv = float(a[b, j]), float(t[b, j])
            present = bool(stored[b, j]) if stored is not None else tv != 0
            if kind is E.MaskedMSE:
                if present:
                    total += wb * (av - tv) ** 2
                    count += 1
                continue
            if ignore_zero and not present:
                continue
            factor = 1.0
            if stored is not None and kind in BOOSTED:
                factor = boost[0] if present else boost[1]
            total += factor * wb * ref_unit(kind, act, av, tv)
    if kind is E.MaskedMSE:
        return total / max(count, 1)
    return total / rows


# ---------------------------------------------------------------- inputs


def activations(act: Act, shape, g: torch.Generator):
    """Pre-activations and activations of an output layer, float64."""
    if act in (Act.Linear, Act.Tanh):
        z = torch.rand(shape, generator=g, dtype=torch.float64) * 4 - 2
    else:
        z = torch.randn(shape, generator=g, dtype=torch.float64) * 2
    a = {
        SIGMOID: torch.sigmoid,
        SOFTMAX: lambda x: torch.softmax(x, dim=1),
        Act.Linear: lambda x: x,
        Act.Tanh: torch.tanh,
    }[act](z)
    return z, a


def target_values(kind: E, shape, g: torch.Generator) -> torch.Tensor:
    """Nonzero target values: ones and analog values (signed for the distance losses)."""
    analog = torch.rand(shape, generator=g, dtype=torch.float64)
    if kind is E.DataScaledMarginalCrossEntropy:
        analog = 0.5 + 4.5 * analog
    elif kind in CE_FAMILY:
        analog = 0.2 + 0.8 * analog
    else:
        sign = torch.where(torch.rand(shape, generator=g) < 0.5, -1.0, 1.0).double()
        analog = sign * (0.2 + 1.3 * analog)
    ones = torch.rand(shape, generator=g) < 0.5
    return torch.where(ones, torch.ones_like(analog), analog)


def stored_mask(shape, g: torch.Generator) -> torch.Tensor:
    mask = torch.rand(shape, generator=g) < 0.4
    mask[0, 0] = True
    if shape[0] > 2:
        mask[1] = False  # a row with no stored entry
    return mask


def csr(mask: torch.Tensor, values: torch.Tensor | None, g: torch.Generator) -> SparseBatch:
    """A SparseBatch of the masked entries, columns shuffled within each row."""
    offsets, indices, stored = [0], [], []
    for b in range(mask.shape[0]):
        cols = mask[b].nonzero().flatten()
        cols = cols[torch.randperm(cols.numel(), generator=g)]
        indices += cols.tolist()
        if values is not None:
            stored += values[b, cols].tolist()
        offsets.append(len(indices))
    vals = None if values is None else torch.tensor(stored, dtype=torch.float64)
    return SparseBatch(
        torch.tensor(offsets), torch.tensor(indices, dtype=torch.int64), vals, mask.shape[1]
    )


def build(kind: E, act: Act, **kw):
    return create_loss(kind, act, **SMCE_PARAMS, **kw)


# ---------------------------------------------------------------- 1. values


OPTIONS = {
    "plain": {},
    "weights": {"weights": True},
    "boost": {"boost": (2.5, 0.4)},
    "ignore_zero": {"ignore_zero": True},
    "all": {"weights": True, "boost": (0.3, 1.7), "ignore_zero": True},
}


@pytest.mark.parametrize("option", list(OPTIONS))
@pytest.mark.parametrize("mode", ["dense", "sparse_indicator", "sparse_analog"])
@pytest.mark.parametrize(("kind", "act"), COMBOS, ids=lambda x: x.value)
def test_loss_matches_reference(kind, act, mode, option):
    opts = OPTIONS[option]
    boost = opts.get("boost", (1.0, 1.0))
    ignore_zero = opts.get("ignore_zero", False)
    loss_fn = build(kind, act, delta_boost=boost, ignore_zero=ignore_zero)
    seed = zlib.crc32(f"{kind.value}/{act.value}/{mode}/{option}".encode())
    g = torch.Generator().manual_seed(seed)
    for shape in SHAPES:
        z, a = activations(act, shape, g)
        mask = stored_mask(shape, g)
        values = target_values(kind, shape, g)
        w = torch.rand(shape[0], generator=g, dtype=torch.float64) + 0.5
        weight = w if opts.get("weights") else None
        dense_t = torch.where(mask, values, torch.zeros_like(values))
        if mode == "dense":
            target, stored = dense_t, None
        elif mode == "sparse_indicator":
            dense_t = mask.double()
            target, stored = csr(mask, None, g), mask
        else:
            target, stored = csr(mask, values, g), mask
        expected = ref_loss(
            kind, act, a, dense_t, stored=stored, w=weight, boost=boost, ignore_zero=ignore_zero
        )
        got = loss_fn(a, target, weight=weight)
        assert got.dim() == 0
        assert got.item() == pytest.approx(expected, rel=1e-10, abs=1e-12)
        got_z = loss_fn(a, target, z=z, weight=weight)
        assert got_z.item() == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_delta_boost_changes_sparse_but_not_dense_loss():
    g = torch.Generator().manual_seed(7)
    _, a = activations(SIGMOID, (3, 6), g)
    mask = stored_mask((3, 6), g)
    plain = create_loss(E.CrossEntropy, SIGMOID)
    boosted = create_loss(E.CrossEntropy, SIGMOID, delta_boost=(3.0, 0.5))
    dense_t = mask.double()
    assert boosted(a, dense_t).item() == pytest.approx(plain(a, dense_t).item(), rel=1e-12)
    sparse_t = csr(mask, None, g)
    assert boosted(a, sparse_t).item() != pytest.approx(plain(a, sparse_t).item(), rel=1e-3)


def test_multidimensional_output_is_flattened():
    g = torch.Generator().manual_seed(3)
    z = torch.randn(2, 3, 4, generator=g, dtype=torch.float64)
    a = torch.softmax(z.flatten(1), dim=1).view_as(z)
    t = (torch.rand(2, 3, 4, generator=g) < 0.3).double()
    loss_fn = create_loss(E.CrossEntropy, SOFTMAX)
    expected = ref_loss(E.CrossEntropy, SOFTMAX, a.flatten(1), t.flatten(1))
    assert loss_fn(a, t, z=z).item() == pytest.approx(expected, rel=1e-10)


def test_mismatched_shapes_are_rejected():
    loss_fn = create_loss(E.L2, Act.Linear)
    a = torch.zeros(2, 3)
    with pytest.raises(ValueError, match="target shape"):
        loss_fn(a, torch.zeros(2, 4))
    with pytest.raises(ValueError, match="sparse target is 2 x 4"):
        loss_fn(a, SparseBatch.from_dense(torch.zeros(2, 4)))
    with pytest.raises(ValueError, match="data weights"):
        loss_fn(a, torch.zeros(2, 3), weight=torch.ones(3))
    with pytest.raises(ValueError, match="pre-activation shape"):
        loss_fn(a, torch.zeros(2, 3), z=torch.zeros(3, 2))


# ---------------------------------------------------------------- 2. DSSTNE's deltas


def ref_delta(kind: E, a: float, t: float, w: float) -> float:
    """dL/dz of a Sigmoid output, the "Delta" column of dsstne.md §2."""
    ot, zt = SMCE_PARAMS["one_target"], SMCE_PARAMS["zero_target"]
    os_, zs = SMCE_PARAMS["one_scale"], SMCE_PARAMS["zero_scale"]
    slope = a * (1 - a)
    if kind is E.L1:
        return w * math.copysign(1.0, a - t) * slope
    if kind is E.L2:
        return w * (a - t) * slope
    if kind is E.L2Hinge:
        d = a - abs(t)
        d = min(0.0, d) if t > 0 else max(0.0, d)
        return w * d * slope
    if kind is E.CrossEntropy:
        return w * (a - t)
    if kind is E.ScaledMarginalCrossEntropy:
        if t == 1 and a < ot:
            return w * os_ * (a - 1)
        if t == 0 and a > zt:
            return w * zs * a
        return 0.0
    # DataScaledMarginalCrossEntropy: t is the value v, data weights ignored
    if t != 0:
        return os_ * t * (a - 1) if a < ot else 0.0
    return zs * a if a > zt else 0.0


def sigmoid_grad(loss_fn, z, target, weight, with_z):
    z = z.clone().requires_grad_(True)
    a = torch.sigmoid(z)
    summed = loss_fn(a, target, z=z if with_z else None, weight=weight) * z.shape[0]
    (grad,) = torch.autograd.grad(summed, z)
    return grad


@pytest.mark.parametrize("with_z", [False, True], ids=["from_a", "from_z"])
@pytest.mark.parametrize(
    "kind", [E.L1, E.L2, E.L2Hinge, E.CrossEntropy, E.ScaledMarginalCrossEntropy]
)
def test_sigmoid_gradient_is_dsstne_delta(kind, with_z):
    g = torch.Generator().manual_seed(11)
    shape = (4, 6)
    z = torch.randn(shape, generator=g, dtype=torch.float64) * 2
    if kind in (E.CrossEntropy, E.ScaledMarginalCrossEntropy):
        t = (torch.rand(shape, generator=g) < 0.5).double()
    else:
        t = target_values(kind, shape, g) * (torch.rand(shape, generator=g) < 0.6)
    w = torch.rand(shape[0], generator=g, dtype=torch.float64) + 0.5
    grad = sigmoid_grad(build(kind, SIGMOID), z, t, w, with_z)
    a = torch.sigmoid(z)
    for b in range(shape[0]):
        for j in range(shape[1]):
            expected = ref_delta(kind, float(a[b, j]), float(t[b, j]), float(w[b]))
            assert float(grad[b, j]) == pytest.approx(expected, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("with_z", [False, True], ids=["from_a", "from_z"])
def test_data_scaled_gradient_is_dsstne_delta(with_z):
    g = torch.Generator().manual_seed(12)
    shape = (5, 6)
    z = torch.randn(shape, generator=g, dtype=torch.float64) * 2
    mask = stored_mask(shape, g)
    values = target_values(E.DataScaledMarginalCrossEntropy, shape, g)
    w = torch.rand(shape[0], generator=g, dtype=torch.float64) + 0.5
    loss_fn = build(E.DataScaledMarginalCrossEntropy, SIGMOID)
    grad = sigmoid_grad(loss_fn, z, csr(mask, values, g), w, with_z)
    a = torch.sigmoid(z)
    for b in range(shape[0]):
        for j in range(shape[1]):
            v = float(values[b, j]) if mask[b, j] else 0.0
            expected = ref_delta(E.DataScaledMarginalCrossEntropy, float(a[b, j]), v, 1.0)
            assert float(grad[b, j]) == pytest.approx(expected, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("with_z", [False, True], ids=["from_a", "from_z"])
@pytest.mark.parametrize("kind", BOOSTED)
def test_delta_boost_scales_sparse_deltas(kind, with_z):
    g = torch.Generator().manual_seed(13)
    shape = (4, 5)
    z = torch.randn(shape, generator=g, dtype=torch.float64) * 2
    mask = stored_mask(shape, g)
    w = torch.rand(shape[0], generator=g, dtype=torch.float64) + 0.5
    loss_fn = build(kind, SIGMOID, delta_boost=(2.5, 0.4))
    grad = sigmoid_grad(loss_fn, z, csr(mask, None, g), w, with_z)
    a = torch.sigmoid(z)
    for b in range(shape[0]):
        for j in range(shape[1]):
            t = 1.0 if mask[b, j] else 0.0
            boost = 2.5 if mask[b, j] else 0.4
            expected = boost * ref_delta(kind, float(a[b, j]), t, float(w[b]))
            assert float(grad[b, j]) == pytest.approx(expected, rel=1e-9, abs=1e-12)


# ---------------------------------------------------------------- 3. gradcheck


def smooth_case(shape, g: torch.Generator):
    """Activations in (0, 1) away from every kink and margin, binary targets."""
    pick = torch.randint(0, 3, shape, generator=g)
    u = torch.rand(shape, generator=g, dtype=torch.float64)
    low, width = torch.tensor([0.03, 0.25, 0.93]).double(), torch.tensor([0.04, 0.45, 0.04])
    a = low[pick] + width.double()[pick] * u
    t = (torch.rand(shape, generator=g) < 0.5).double()
    t[0, 0] = 1.0
    return a, t


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize(("kind", "act"), COMBOS, ids=lambda x: x.value)
def test_gradcheck_wrt_activations(kind, act, sparse):
    g = torch.Generator().manual_seed(21)
    a, t = smooth_case((3, 5), g)
    target = csr(t.bool(), None, g) if sparse else t
    w = torch.rand(3, generator=g, dtype=torch.float64) + 0.5
    params = {"one_target": 0.9, "zero_target": 0.1, "one_scale": 1.5, "zero_scale": 0.7}
    loss_fn = create_loss(kind, act, delta_boost=(2.0, 0.5), **params)
    a = a.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x: loss_fn(x, target, weight=w), (a,))


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize(
    ("kind", "act"),
    [(k, act) for k, act in COMBOS if k in CE_FAMILY],
    ids=lambda x: x.value,
)
def test_gradcheck_wrt_preactivations(kind, act, sparse):
    g = torch.Generator().manual_seed(22)
    a, t = smooth_case((3, 5), g)
    if act is SIGMOID:
        z = torch.logit(a)
        squash = torch.sigmoid
    else:
        z = torch.randn(3, 5, generator=g, dtype=torch.float64)
        squash = lambda x: torch.softmax(x, dim=1)  # noqa: E731
        assert (squash(z) - 0.9).abs().min() > 1e-3
    target = csr(t.bool(), None, g) if sparse else t
    w = torch.rand(3, generator=g, dtype=torch.float64) + 0.5
    loss_fn = create_loss(kind, act, delta_boost=(2.0, 0.5), one_scale=1.5, zero_scale=0.7)
    z = z.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x: loss_fn(squash(x), target, z=x, weight=w), (z,))


# ---------------------------------------------------------------- 4. saturation


def test_saturated_sigmoid_keeps_its_gradient_through_z():
    z = torch.full((1, 1), -40.0, requires_grad=True)
    loss_fn = CrossEntropyLoss(SIGMOID)
    target = torch.ones(1, 1)
    (from_z,) = torch.autograd.grad(loss_fn(torch.sigmoid(z), target, z=z), z)
    assert from_z.item() == pytest.approx(-1.0, abs=1e-6)
    # Without z the log is floored at 1e-12, as in DSSTNE, and the gradient vanishes.
    (from_a,) = torch.autograd.grad(loss_fn(torch.sigmoid(z), target), z)
    assert from_a.item() == 0.0


def test_saturated_softmax_keeps_its_gradient_through_z():
    z = torch.tensor([[-40.0, 40.0]], requires_grad=True)
    loss_fn = CrossEntropyLoss(SOFTMAX)
    target = torch.tensor([[1.0, 0.0]])
    (grad,) = torch.autograd.grad(loss_fn(torch.softmax(z, dim=1), target, z=z), z)
    assert grad[0].tolist() == pytest.approx([-1.0, 1.0], abs=1e-6)


# ---------------------------------------------------------------- 5. pairings


RESTRICTED = {
    E.CrossEntropy: {SIGMOID, SOFTMAX},
    E.ScaledMarginalCrossEntropy: {SIGMOID, SOFTMAX},
    E.DataScaledMarginalCrossEntropy: {SIGMOID},
}


@pytest.mark.parametrize("kind", list(E), ids=lambda x: x.value)
def test_pairing_problem_flags_exactly_undefined_pairs(kind):
    for act in Act:
        problem = pairing_problem(kind, act)
        defined = act in RESTRICTED.get(kind, set(Act))
        assert (problem is None) == defined, (kind, act)


def test_pairing_messages():
    assert pairing_problem(E.CrossEntropy, Act.Relu) == (
        "ErrorFunction 'CrossEntropy' is defined only for Sigmoid or SoftMax outputs (got 'Relu')"
    )
    assert pairing_problem(E.ScaledMarginalCrossEntropy, Act.Tanh) == (
        "ErrorFunction 'ScaledMarginalCrossEntropy' is defined only for Sigmoid or SoftMax "
        "outputs (got 'Tanh')"
    )
    assert pairing_problem(E.DataScaledMarginalCrossEntropy, SOFTMAX) == (
        "ErrorFunction 'DataScaledMarginalCrossEntropy' is defined only for Sigmoid outputs "
        "(got 'SoftMax')"
    )
    assert pairing_problem(E.Hinge, Act.Relu) is None


def test_create_loss_rejects_undefined_pairs():
    with pytest.raises(ValueError, match=r"^ErrorFunction 'CrossEntropy' is defined only"):
        create_loss(E.CrossEntropy, Act.Linear)


# ---------------------------------------------------------------- 6. MaskedMSE


def test_masked_mse_dense_and_sparse():
    a = torch.tensor([[0.5, 0.2, 0.9], [0.1, 0.9, 0.4]], dtype=torch.float64)
    t = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.5, 2.0]], dtype=torch.float64)
    expected = ((0.5 - 1.0) ** 2 + (0.9 - 0.5) ** 2 + (0.4 - 2.0) ** 2) / 3
    loss_fn = create_loss(E.MaskedMSE, Act.Linear)
    assert loss_fn(a, t).item() == pytest.approx(expected, rel=1e-12)
    assert loss_fn(a, SparseBatch.from_dense(t)).item() == pytest.approx(expected, rel=1e-12)
    w = torch.tensor([2.0, 0.5], dtype=torch.float64)
    weighted = (2.0 * 0.25 + 0.5 * 0.16 + 0.5 * 2.56) / 3
    assert loss_fn(a, t, weight=w).item() == pytest.approx(weighted, rel=1e-12)


def test_masked_mse_counts_stored_zeros_of_a_sparse_target():
    a = torch.tensor([[0.5, 0.2], [0.3, 0.9]])
    # Row 0 stores column 1 with the value 0; row 1 stores column 0 (indicator would be 1).
    target = SparseBatch(torch.tensor([0, 1, 2]), torch.tensor([1, 0]), torch.tensor([0.0, 1.0]), 2)
    expected = (0.2**2 + 0.7**2) / 2
    assert MaskedMSELoss()(a, target).item() == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_masked_mse_without_observed_entries_is_a_differentiable_zero(sparse):
    a = torch.rand(3, 4, requires_grad=True)
    t = torch.zeros(3, 4)
    loss = MaskedMSELoss()(a, SparseBatch.from_dense(t) if sparse else t)
    assert loss.item() == 0.0
    assert loss.grad_fn is not None
    (grad,) = torch.autograd.grad(loss, a)
    assert torch.equal(grad, torch.zeros(3, 4))
