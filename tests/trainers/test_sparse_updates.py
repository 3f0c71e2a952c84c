"""Row-sparse gradients: exact, densified and lazy updates; norms and clipping."""

from __future__ import annotations

import copy
import io

import pytest
import torch

from netcfg.trainers.optimizer_spec import (
    AdaDeltaSpec,
    AdaGradSpec,
    AdamSpec,
    AdamWSpec,
    MomentumSpec,
    NesterovSpec,
    RMSPropSpec,
    SGDSpec,
)
from netcfg.trainers.optimizers import (
    AdaGrad,
    clip_gradients_,
    create_optimizer,
    gradient_norm,
)

ROWS, WIDTH = 50, 4
RATES = [0.1, 0.05, 0.2]
# Each step touches 7 distinct rows, listed with one row repeated (uncoalesced input).
STEP_ROWS = [
    [3, 17, 3, 0, 49, 22, 8, 31],
    [17, 5, 40, 5, 0, 12, 26, 9],
    [3, 44, 12, 12, 30, 1, 49, 7],
]
REG = {"WeightDecay": 0.01, "L1": 0.02}

ALL_SPECS = [
    SGDSpec(**REG),
    MomentumSpec(Mu=0.8, **REG),
    NesterovSpec(Mu=0.7, **REG),
    AdaGradSpec(**REG),
    RMSPropSpec(Mu=0.6, **REG),
    AdaDeltaSpec(Mu=0.9, **REG),
    AdamSpec(Beta1=0.8, Beta2=0.95, **REG),
    AdamWSpec(Beta1=0.8, Beta2=0.95, WeightDecay=0.1, L1=0.02),
    SGDSpec(WeightDecay=0.05),
    SGDSpec(L1=0.03),
    AdaGradSpec(WeightDecay=0.05),
    AdaGradSpec(L1=0.03),
]
ALL_IDS = [f"{type(s).__name__}-wd{s.WeightDecay}-l1{s.L1}" for s in ALL_SPECS]


def sparse_grads(dtype=torch.float64, seed=0):
    """Per step: an uncoalesced [50, 4] weight gradient and a [50] bias gradient."""
    gen = torch.Generator().manual_seed(seed)
    out = []
    for rows in STEP_ROWS:
        index = torch.tensor([rows])
        w = torch.sparse_coo_tensor(
            index,
            torch.randn(len(rows), WIDTH, generator=gen, dtype=dtype),
            (ROWS, WIDTH),
            check_invariants=True,
        )
        b = torch.sparse_coo_tensor(
            index,
            torch.randn(len(rows), generator=gen, dtype=dtype),
            (ROWS,),
            check_invariants=True,
        )
        assert not w.is_coalesced() and w.sparse_dim() == 1
        out.append((w, b))
    return out


def initial(dtype=torch.float64, seed=1):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(ROWS, WIDTH, generator=gen, dtype=dtype), torch.randn(
        ROWS, generator=gen, dtype=dtype
    )


def train(spec, grads, *, densify=False, dtype=torch.float64, check_untouched=False):
    """Step an optimizer on (weight, bias) with the given gradients and RATES."""
    w0, b0 = initial(dtype)
    w, b = torch.nn.Parameter(w0), torch.nn.Parameter(b0)
    opt = create_optimizer(spec, [("emb.weight", w), ("emb.bias", b)])
    for i, (gw, gb) in enumerate(grads):
        before = (w.detach().clone(), b.detach().clone())
        state_before = {p: copy.deepcopy(dict(opt.state[p])) for p in (w, b)}
        w.grad = gw.to_dense() if densify else gw.clone()
        b.grad = gb.to_dense() if densify else gb.clone()
        for group in opt.param_groups:
            group["lr"] = RATES[i]
        opt.step()
        if check_untouched:
            untouched = sorted(set(range(ROWS)) - set(STEP_ROWS[i]))
            for param, old in zip((w, b), before, strict=True):
                assert torch.equal(param.detach()[untouched], old[untouched])
                for key, value in opt.state[param].items():
                    if isinstance(value, torch.Tensor) and value.shape == param.shape:
                        old_state = state_before[param].get(key)
                        old_state = torch.zeros_like(value) if old_state is None else old_state
                        assert torch.equal(value[untouched], old_state[untouched]), key
    return w, b, opt


@pytest.mark.parametrize("spec", [SGDSpec(), AdaGradSpec()], ids=["SGD", "AdaGrad"])
@pytest.mark.parametrize("lazy", [False, True])
def test_exact_sparse_update_equals_dense_and_leaves_other_rows_bit_identical(
    spec, lazy, monkeypatch
):
    spec = spec.model_copy(update={"Lazy": lazy})
    grads = sparse_grads()
    calls = []
    original = type(create_optimizer(spec, [("w", torch.nn.Parameter(torch.ones(2, 2)))]))
    rows_update = original._update_rows

    def spy(self, p, rows, values, group, state):
        calls.append(rows.numel())
        return rows_update(self, p, rows, values, group, state)

    monkeypatch.setattr(original, "_update_rows", spy)
    w, b, opt = train(spec, grads, check_untouched=True)
    assert calls == [7] * 6  # weight and bias, 3 steps, 7 coalesced rows each
    w_ref, b_ref, ref = train(spec, grads, densify=True)
    torch.testing.assert_close(w.detach(), w_ref.detach(), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(b.detach(), b_ref.detach(), rtol=1e-12, atol=1e-12)
    if isinstance(opt, AdaGrad):
        for p, p_ref in ((w, w_ref), (b, b_ref)):
            torch.testing.assert_close(opt.state[p]["sum_sq"], ref.state[p_ref]["sum_sq"])


@pytest.mark.parametrize("spec", ALL_SPECS, ids=ALL_IDS)
def test_non_lazy_sparse_gradient_equals_dense_gradient(spec):
    grads = sparse_grads(torch.float32)
    w, b, opt = train(spec, grads, dtype=torch.float32)
    w_ref, b_ref, ref = train(spec, grads, densify=True, dtype=torch.float32)
    torch.testing.assert_close(w.detach(), w_ref.detach(), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(b.detach(), b_ref.detach(), rtol=1e-6, atol=1e-6)
    for p, p_ref in ((w, w_ref), (b, b_ref)):
        for key, value in ref.state[p_ref].items():
            got = torch.as_tensor(opt.state[p][key])
            torch.testing.assert_close(got, torch.as_tensor(value), rtol=1e-6, atol=1e-6)
    # Regularized rules move the untouched rows too, so this is not the exact path.
    untouched = sorted(set(range(ROWS)) - {r for rows in STEP_ROWS for r in rows})
    assert not torch.equal(w.detach()[untouched], initial(torch.float32)[0][untouched])


def lazy(spec):
    return spec.model_copy(update={"Lazy": True})


@pytest.mark.parametrize("spec", ALL_SPECS, ids=ALL_IDS)
def test_lazy_leaves_untouched_rows_and_their_state_alone(spec):
    w, b, opt = train(lazy(spec), sparse_grads(), check_untouched=True)
    assert not torch.equal(w.detach(), initial()[0])


def test_lazy_momentum_written_out():
    mu, wd, l1 = 0.8, 0.01, 0.02
    spec = MomentumSpec(Mu=mu, WeightDecay=wd, L1=l1, Lazy=True)
    grads = sparse_grads()
    w, b, opt = train(spec, grads)
    w_ref, b_ref = initial()
    v_w, v_b = torch.zeros_like(w_ref), torch.zeros_like(b_ref)
    for (gw, gb), lr in zip(grads, RATES, strict=True):
        gw, gb = gw.coalesce(), gb.coalesce()
        rows = gw.indices()[0]
        # Present rows only: r = g + wd w + l1 sign(w); v = mu v - lr r; w += v.
        r = gw.values() + wd * w_ref[rows] + l1 * torch.sign(w_ref[rows])
        v_w[rows] = mu * v_w[rows] - lr * r
        w_ref[rows] = w_ref[rows] + v_w[rows]
        # The bias is not regularized.
        v_b[rows] = mu * v_b[rows] - lr * gb.values()
        b_ref[rows] = b_ref[rows] + v_b[rows]
    torch.testing.assert_close(w.detach(), w_ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(b.detach(), b_ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(opt.state[w]["velocity"], v_w, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(opt.state[b]["velocity"], v_b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("decoupled", [False, True], ids=["Adam", "AdamW"])
def test_lazy_adam_written_out(decoupled):
    b1, b2, eps, wd, l1 = 0.8, 0.95, 1e-8, 0.1, 0.02
    cls = AdamWSpec if decoupled else AdamSpec
    spec = cls(Beta1=b1, Beta2=b2, Epsilon=eps, WeightDecay=wd, L1=l1, Lazy=True)
    grads = sparse_grads()
    w, b, opt = train(spec, grads)
    refs = []
    for p0, index, regularized in ((initial()[0], 0, True), (initial()[1], 1, False)):
        p, m, v = p0.clone(), torch.zeros_like(p0), torch.zeros_like(p0)
        for t, (step_grads, lr) in enumerate(zip(grads, RATES, strict=True), start=1):
            g = step_grads[index].coalesce()
            rows, r = g.indices()[0], g.values()
            if regularized:
                if decoupled:
                    p[rows] = p[rows] * (1 - lr * wd)  # decoupled decay, present rows only
                else:
                    r = r + wd * p[rows]
                r = r + l1 * torch.sign(p[rows])
            m[rows] = b1 * m[rows] + (1 - b1) * r
            v[rows] = b2 * v[rows] + (1 - b2) * r * r
            # Bias correction with the global step t, not the number of times a row was seen.
            m_hat, v_hat = m[rows] / (1 - b1**t), v[rows] / (1 - b2**t)
            p[rows] = p[rows] - lr * m_hat / (torch.sqrt(v_hat) + eps)
        refs.append((p, m, v))
    for param, (p, m, v) in zip((w, b), refs, strict=True):
        torch.testing.assert_close(param.detach(), p, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(opt.state[param]["exp_avg"], m, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(opt.state[param]["exp_avg_sq"], v, rtol=1e-12, atol=1e-12)
        assert opt.state[param]["step"] == 3


@pytest.mark.parametrize(
    "spec",
    [s for s in ALL_SPECS if not isinstance(s, AdamSpec)],
    ids=[i for s, i in zip(ALL_SPECS, ALL_IDS, strict=True) if not isinstance(s, AdamSpec)],
)
def test_lazy_row_follows_the_dense_rule_stepped_only_when_present(spec):
    # Without a global step count, a lazy row evolves as a one-row parameter under the
    # dense rule, stepped only in the steps where the row is present.
    grads = sparse_grads()
    w, _, _ = train(lazy(spec), grads)
    w0 = initial()[0]
    for row in range(ROWS):
        p = torch.nn.Parameter(w0[row : row + 1].clone())
        opt = create_optimizer(spec, [("row", p)])
        for (gw, _), lr, rows in zip(grads, RATES, STEP_ROWS, strict=True):
            if row in rows:
                p.grad = gw.to_dense()[row : row + 1]
                opt.param_groups[0]["lr"] = lr
                opt.step()
        torch.testing.assert_close(w.detach()[row : row + 1], p.detach(), rtol=1e-12, atol=1e-12)


def test_lazy_adam_is_torch_sparse_adam_up_to_the_placement_of_eps():
    grads = sparse_grads()
    emb = torch.nn.Parameter(initial()[0])
    ours = create_optimizer(AdamSpec(Beta1=0.85, Beta2=0.99, Lazy=True), [("e.weight", emb)])
    ref = torch.nn.Parameter(initial()[0])
    sparse_adam = torch.optim.SparseAdam([ref], lr=1.0, betas=(0.85, 0.99), eps=1e-8)
    for (gw, _), lr in zip(grads, RATES, strict=True):
        emb.grad, ref.grad = gw.clone(), gw.clone()
        ours.param_groups[0]["lr"] = sparse_adam.param_groups[0]["lr"] = lr
        ours.step()
        sparse_adam.step()
    torch.testing.assert_close(emb, ref, rtol=1e-6, atol=1e-6)


class Model(torch.nn.Module):
    def __init__(self, sparse: bool):
        super().__init__()
        torch.manual_seed(7)
        self.embedding = torch.nn.Embedding(ROWS, WIDTH, sparse=sparse)
        self.linear = torch.nn.Linear(WIDTH, 3)

    def forward(self, ids):
        return torch.tanh(self.linear(self.embedding(ids))).square().sum()


def train_model(spec, sparse, steps=3):
    model = Model(sparse).double()
    opt = create_optimizer(spec, model.named_parameters())
    for i in range(steps):
        opt.zero_grad(set_to_none=True)
        model(torch.tensor(STEP_ROWS[i])).backward()
        assert model.embedding.weight.grad.is_sparse == sparse
        assert model.linear.weight.grad.layout is torch.strided
        for group in opt.param_groups:
            group["lr"] = RATES[i]
        opt.step()
    return model, opt


@pytest.mark.parametrize("spec", ALL_SPECS, ids=ALL_IDS)
def test_mixed_model_sparse_embedding_and_dense_layers(spec):
    model, _ = train_model(spec, sparse=True)
    reference, _ = train_model(spec, sparse=False)
    for (name, p), (_, p_ref) in zip(
        model.named_parameters(), reference.named_parameters(), strict=True
    ):
        torch.testing.assert_close(p, p_ref, rtol=1e-6, atol=1e-6, msg=name)


@pytest.mark.parametrize("spec", ALL_SPECS, ids=ALL_IDS)
def test_mixed_model_lazy_touches_only_seen_embedding_rows(spec):
    model, _ = train_model(lazy(spec), sparse=True, steps=1)
    reference, _ = train_model(spec, sparse=False, steps=1)
    untouched = sorted(set(range(ROWS)) - set(STEP_ROWS[0]))
    initial_embedding = Model(False).double().embedding.weight
    assert torch.equal(model.embedding.weight[untouched], initial_embedding[untouched])
    # The dense layers follow the dense rule, as without Lazy.
    torch.testing.assert_close(model.linear.weight, reference.linear.weight)
    torch.testing.assert_close(model.linear.bias, reference.linear.bias)


@pytest.mark.parametrize("spec", ALL_SPECS, ids=ALL_IDS)
def test_state_dict_round_trip_with_lazy_sparse_updates(spec):
    spec = lazy(spec)
    grads = sparse_grads()
    w, b, opt = train(spec, grads[:2])
    buffer = io.BytesIO()
    torch.save(opt.state_dict(), buffer)
    buffer.seek(0)
    w2, b2 = torch.nn.Parameter(w.detach().clone()), torch.nn.Parameter(b.detach().clone())
    fresh = create_optimizer(spec.model_copy(update={"Lazy": False}), [("w", w2), ("b", b2)])
    fresh.load_state_dict(torch.load(buffer, weights_only=True))
    assert all(group["lazy"] for group in fresh.param_groups)  # saved with the state
    for params, optimizer in (((w, b), opt), ((w2, b2), fresh)):
        params[0].grad, params[1].grad = grads[2][0].clone(), grads[2][1].clone()
        optimizer.step()
    assert torch.equal(w, w2) and torch.equal(b, b2)
    for p, p2 in ((w, w2), (b, b2)):
        for key, value in opt.state[p].items():
            assert torch.equal(torch.as_tensor(value), torch.as_tensor(fresh.state[p2][key]))


def test_state_dict_saved_without_lazy_loads_as_not_lazy():
    w = torch.nn.Parameter(initial()[0])
    opt = create_optimizer(MomentumSpec(Lazy=True), [("w", w)])
    saved = opt.state_dict()
    for group in saved["param_groups"]:
        del group["lazy"]
    opt.load_state_dict(saved)
    assert opt.param_groups[0]["lazy"] is False


def test_element_sparse_gradients_refused_before_any_update():
    w, b = (torch.nn.Parameter(x) for x in initial())
    opt = create_optimizer(SGDSpec(), [("w", w), ("b", b)])
    b.grad = torch.ones(ROWS, dtype=torch.float64)
    w.grad = torch.ones(ROWS, WIDTH, dtype=torch.float64).to_sparse()  # sparse_dim 2
    with pytest.raises(RuntimeError, match=r"parameter w has a sparse gradient \(sparse_dim 2"):
        opt.step()
    assert torch.equal(b.detach(), initial()[1])


def dense_norm(grads):
    return torch.sqrt(sum(g.to_dense().double().square().sum() for g in grads))


def norm_case():
    (gw, gb), (gw2, _), _ = sparse_grads()
    params = [torch.nn.Parameter(torch.zeros(ROWS, WIDTH, dtype=torch.float64)) for _ in "ab"]
    bias = torch.nn.Parameter(torch.zeros(ROWS, dtype=torch.float64))
    dense = torch.nn.Parameter(torch.zeros(3, 2, dtype=torch.float64))
    no_grad = torch.nn.Parameter(torch.zeros(2))
    params[0].grad, params[1].grad, bias.grad = gw.clone(), gw2.clone(), gb.clone()
    dense.grad = torch.arange(6, dtype=torch.float64).reshape(3, 2)
    return [*params, bias, dense, no_grad]


def test_gradient_norm_sums_duplicates_before_the_norm():
    params = norm_case()
    grads = [p.grad for p in params if p.grad is not None]
    expected = dense_norm(grads)
    norm = gradient_norm(params)
    torch.testing.assert_close(norm, expected, rtol=1e-12, atol=0)
    assert norm.dtype == torch.float64
    # Squaring the uncoalesced values would count the repeated row as two rows.
    sparse = [g for g in grads if g.is_sparse]
    naive = torch.sqrt(sum(g._values().square().sum() for g in sparse))
    assert abs(float(naive) - float(dense_norm(sparse))) > 1e-3
    assert gradient_norm(params[0]) == pytest.approx(float(dense_norm([grads[0]])))
    assert gradient_norm([torch.nn.Parameter(torch.zeros(2))]).item() == 0.0


@pytest.mark.parametrize("fraction", [0.5, 2.0, float("inf")])
def test_clip_gradients_scales_dense_and_sparse_gradients_in_place(fraction):
    params = norm_case()
    grads = [p.grad for p in params if p.grad is not None]
    before = [g.to_dense().clone() for g in grads]
    expected_norm = dense_norm(grads)
    max_norm = float(expected_norm) * fraction
    norm = clip_gradients_(params, max_norm)
    torch.testing.assert_close(norm, expected_norm, rtol=1e-12, atol=0)
    scale = min(1.0, max_norm / (float(expected_norm) + 1e-6))
    for p, old, grad in zip([p for p in params if p.grad is not None], before, grads, strict=True):
        assert p.grad is grad  # in place
        torch.testing.assert_close(p.grad.to_dense(), old * scale, rtol=1e-12, atol=1e-15)
    if fraction < 1:
        assert float(gradient_norm(params)) == pytest.approx(max_norm, rel=1e-6)


def test_clip_gradients_refuses_a_negative_limit():
    with pytest.raises(ValueError, match="max_norm"):
        clip_gradients_(norm_case(), -1.0)
