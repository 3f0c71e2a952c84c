"""DSSTNE's update rules (dsstne.md §3) against hand-written computations."""

from __future__ import annotations

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
from netcfg.trainers.optimizers import create_optimizer, regularization_loss

W0 = torch.tensor([[0.5, -1.0], [0.0, 2.0], [-0.3, 0.7]], dtype=torch.float64)
B0 = torch.tensor([0.1, -0.2], dtype=torch.float64)
GW = [
    torch.tensor([[0.2, -0.1], [0.4, 0.0], [-0.5, 0.3]], dtype=torch.float64),
    torch.tensor([[-0.3, 0.2], [0.1, 0.6], [0.0, -0.2]], dtype=torch.float64),
    torch.tensor([[0.1, 0.1], [-0.2, 0.3], [0.4, -0.4]], dtype=torch.float64),
]
GB = [
    torch.tensor([0.3, 0.0], dtype=torch.float64),
    torch.tensor([-0.1, 0.2], dtype=torch.float64),
    torch.tensor([0.2, -0.5], dtype=torch.float64),
]
RATES = [0.1, 0.05, 0.2]
REG = {"WeightDecay": 0.01, "L1": 0.02}


def make_params():
    return torch.nn.Parameter(W0.clone()), torch.nn.Parameter(B0.clone())


def run(spec, steps=3, rates=RATES, params=None, opt=None):
    """Our optimizer on (weight, bias) with the fixed gradients and per-step rates."""
    w, b = params or make_params()
    opt = opt or create_optimizer(spec, [("layer.weight", w), ("layer.bias", b)])
    for i in range(steps):
        w.grad, b.grad = GW[i].clone(), GB[i].clone()
        for group in opt.param_groups:
            group["lr"] = rates[i]
        opt.step()
    return w, b, opt


def reference(rule, spec, steps=3, rates=RATES):
    """The rules written out: r = g + lambda w + lambda1 sign(w) on the weight, g on the bias."""
    out = []
    for p0, grads, regularized in ((W0, GW, True), (B0, GB, False)):
        w, s = p0.clone(), {}
        for i in range(steps):
            r = grads[i].clone()
            if regularized:
                if not isinstance(spec, AdamWSpec):
                    r = r + spec.WeightDecay * w
                r = r + spec.L1 * torch.sign(w)
            w = rule(w, r, rates[i], spec, s, regularized)
        out.append((w, s))
    return out


def floor(x):
    return torch.maximum(x, torch.full_like(x, 1e-9))


def sgd(w, r, lr, spec, s, reg):
    return w - lr * r


def momentum(w, r, lr, spec, s, reg):
    s["velocity"] = spec.Mu * s.get("velocity", torch.zeros_like(w)) - lr * r
    return w + s["velocity"]


def nesterov(w, r, lr, spec, s, reg):
    v = s.get("velocity", torch.zeros_like(w))
    v_new = spec.Mu * v - lr * r
    s["velocity"] = v_new
    return w + v_new + spec.Mu * (v_new - v)


def adagrad(w, r, lr, spec, s, reg):
    s["sum_sq"] = s.get("sum_sq", torch.zeros_like(w)) + r * r
    return w - lr * r / torch.sqrt(floor(s["sum_sq"]))


def rmsprop(w, r, lr, spec, s, reg):
    s["mean_sq"] = spec.Mu * s.get("mean_sq", torch.zeros_like(w)) + (1 - spec.Mu) * r**2
    return w - lr * r / torch.sqrt(floor(s["mean_sq"]))


def adadelta(w, r, lr, spec, s, reg):
    mu = spec.Mu
    sg = mu * s.get("mean_sq_grad", torch.zeros_like(w)) + (1 - mu) * r**2
    sd = s.get("mean_sq_delta", torch.zeros_like(w))
    d = torch.sqrt(floor(sd) / floor(sg)) * r
    s["mean_sq_grad"], s["mean_sq_delta"] = sg, mu * sd + (1 - mu) * d**2
    return w - lr * d


def adam(w, r, lr, spec, s, reg):
    if isinstance(spec, AdamWSpec) and reg:
        w = w - lr * spec.WeightDecay * w
    b1, b2, t = spec.Beta1, spec.Beta2, s.get("step", 0) + 1
    s["step"] = t
    s["exp_avg"] = b1 * s.get("exp_avg", torch.zeros_like(w)) + (1 - b1) * r
    s["exp_avg_sq"] = b2 * s.get("exp_avg_sq", torch.zeros_like(w)) + (1 - b2) * r * r
    m_hat = s["exp_avg"] / (1 - b1**t)
    v_hat = s["exp_avg_sq"] / (1 - b2**t)
    return w - lr * m_hat / (torch.sqrt(v_hat) + spec.Epsilon)


CASES = [
    (SGDSpec(**REG), sgd),
    (MomentumSpec(Mu=0.8, **REG), momentum),
    (NesterovSpec(Mu=0.7, **REG), nesterov),
    (AdaGradSpec(**REG), adagrad),
    (RMSPropSpec(Mu=0.6, **REG), rmsprop),
    (AdaDeltaSpec(Mu=0.9, **REG), adadelta),
    (AdamSpec(Beta1=0.8, Beta2=0.95, **REG), adam),
    (AdamWSpec(Beta1=0.8, Beta2=0.95, WeightDecay=0.1, L1=0.02), adam),
]
IDS = [type(spec).__name__ for spec, _ in CASES]


@pytest.mark.parametrize(("spec", "rule"), CASES, ids=IDS)
def test_three_steps_match_the_written_out_rule(spec, rule):
    rates = [1.0, 0.5, 2.0] if isinstance(spec, AdaDeltaSpec) else RATES
    w, b, opt = run(spec, rates=rates)
    (w_ref, w_state), (b_ref, b_state) = reference(rule, spec, rates=rates)
    torch.testing.assert_close(w.detach(), w_ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(b.detach(), b_ref, rtol=1e-12, atol=1e-12)
    for param, expected in ((w, w_state), (b, b_state)):
        for key, value in expected.items():
            got = torch.as_tensor(opt.state[param][key], dtype=torch.float64)
            torch.testing.assert_close(got, torch.as_tensor(value, dtype=torch.float64))
    assert not torch.equal(w.detach(), W0) and not torch.equal(b.detach(), B0)


def test_adam_without_regularization_equals_torch_adam():
    # DSSTNE's w -= lr * mhat / (sqrt(vhat) + eps) is exactly torch's placement of eps.
    spec = AdamSpec(Beta1=0.85, Beta2=0.99, Epsilon=1e-3)
    w, b, _ = run(spec)
    tw, tb = make_params()
    torch_opt = torch.optim.Adam([tw, tb], lr=1.0, betas=(0.85, 0.99), eps=1e-3)
    run(None, params=(tw, tb), opt=torch_opt)
    torch.testing.assert_close(w, tw, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(b, tb, rtol=1e-12, atol=1e-12)


def test_coupled_weight_decay_equals_torch_adam_weight_decay_on_weights():
    w, b, _ = run(AdamSpec(WeightDecay=0.3))
    tw, tb = make_params()
    groups = [{"params": [tw], "weight_decay": 0.3}, {"params": [tb], "weight_decay": 0.0}]
    run(None, params=(tw, tb), opt=torch.optim.Adam(groups, lr=1.0))
    torch.testing.assert_close(w, tw, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(b, tb, rtol=1e-12, atol=1e-12)


def test_adamw_equals_torch_adamw_with_decay_on_weights_only():
    w, b, _ = run(AdamWSpec(WeightDecay=0.5))
    tw, tb = make_params()
    groups = [{"params": [tw], "weight_decay": 0.5}, {"params": [tb], "weight_decay": 0.0}]
    run(None, params=(tw, tb), opt=torch.optim.AdamW(groups, lr=1.0))
    torch.testing.assert_close(w, tw, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(b, tb, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("spec", [spec for spec, _ in CASES], ids=IDS)
def test_state_dict_round_trip_resumes_exactly(spec):
    w, b, opt = run(spec, steps=2, rates=[0.1, 0.1, 0.1])
    buffer = io.BytesIO()
    torch.save(opt.state_dict(), buffer)
    buffer.seek(0)
    w2, b2 = torch.nn.Parameter(w.detach().clone()), torch.nn.Parameter(b.detach().clone())
    fresh = create_optimizer(spec, [("layer.weight", w2), ("layer.bias", b2)])
    fresh.load_state_dict(torch.load(buffer, weights_only=True))
    for params, optimizer in (((w, b), opt), ((w2, b2), fresh)):
        params[0].grad, params[1].grad = GW[2].clone(), GB[2].clone()
        optimizer.step()
    assert torch.equal(w, w2) and torch.equal(b, b2)


def test_groups_hold_name_and_regularization_and_biases_are_not_decayed():
    lin = torch.nn.Linear(2, 3)
    opt = create_optimizer(
        SGDSpec(LearningRate=1.0, WeightDecay=0.5, L1=0.25), lin.named_parameters()
    )
    groups = {g["name"]: g for g in opt.param_groups}
    assert groups["weights"]["params"] == [lin.weight]
    assert groups["biases"]["params"] == [lin.bias]
    assert (groups["weights"]["weight_decay"], groups["weights"]["l1"]) == (0.5, 0.25)
    assert (groups["biases"]["weight_decay"], groups["biases"]["l1"]) == (0.0, 0.0)
    bias0, weight0 = lin.bias.detach().clone(), lin.weight.detach().clone()
    lin.weight.grad, lin.bias.grad = torch.zeros(3, 2), torch.zeros(3)
    opt.step()
    assert torch.equal(lin.bias, bias0)
    expected = weight0 - 0.5 * weight0 - 0.25 * torch.sign(weight0)
    torch.testing.assert_close(lin.weight.detach(), expected)


def test_shared_parameter_is_added_once_and_updated_once():
    shared = torch.nn.Parameter(torch.ones(2, 2))
    opt = create_optimizer(
        SGDSpec(LearningRate=0.5), [("enc.weight", shared), ("dec.weight", shared)]
    )
    assert len(opt.param_groups) == 1
    assert opt.param_groups[0]["param_names"] == ["enc.weight"]
    shared.grad = torch.ones(2, 2)
    opt.step()
    assert torch.equal(shared.detach(), torch.full((2, 2), 0.5))


def test_empty_groups_omitted_and_frozen_parameters_skipped():
    only_weights = torch.nn.Linear(2, 3, bias=False)
    opt = create_optimizer(SGDSpec(), only_weights.named_parameters())
    assert [g["name"] for g in opt.param_groups] == ["weights"]
    norm = torch.nn.BatchNorm1d(4)
    opt = create_optimizer(AdamSpec(), norm.named_parameters())
    assert [g["name"] for g in opt.param_groups] == ["biases"]
    frozen = torch.nn.Linear(2, 3)
    frozen.weight.requires_grad_(False)
    opt = create_optimizer(SGDSpec(), frozen.named_parameters())
    assert [g["params"] for g in opt.param_groups] == [[frozen.bias]]
    frozen.bias.requires_grad_(False)
    with pytest.raises(ValueError, match="no trainable parameters"):
        create_optimizer(SGDSpec(), frozen.named_parameters())


@pytest.mark.parametrize("spec", [spec for spec, _ in CASES], ids=IDS)
def test_missing_gradients_skipped_and_sparse_gradients_refused(spec):
    w, b = make_params()
    opt = create_optimizer(spec, [("emb.weight", w), ("emb.bias", b)])
    b.grad = GB[0].clone()
    opt.step()
    assert torch.equal(w.detach(), W0) and len(opt.state[w]) == 0
    w.grad = GW[0].to_sparse()
    with pytest.raises(RuntimeError, match="emb.weight.*sparse gradient"):
        opt.step()


def test_regularization_loss_is_dsstne_penalty_over_weights():
    w, b = make_params()
    opt = create_optimizer(SGDSpec(WeightDecay=0.3, L1=0.2), [("w", w), ("b", b)])
    expected = 0.5 * 0.3 * sum(x * x for x in W0.flatten().tolist())
    expected += 0.2 * sum(abs(x) for x in W0.flatten().tolist())
    assert regularization_loss(opt).item() == pytest.approx(expected, rel=1e-12)
    assert not regularization_loss(opt).requires_grad
    plain = create_optimizer(SGDSpec(), [("w", w), ("b", b)])
    assert regularization_loss(plain).item() == 0.0


@pytest.mark.parametrize(("spec", "rule"), CASES, ids=IDS)
def test_lazy_has_no_effect_on_dense_gradients(spec, rule):
    rates = [1.0, 0.5, 2.0] if isinstance(spec, AdaDeltaSpec) else RATES
    w, b, _ = run(spec, rates=rates)
    w_lazy, b_lazy, opt = run(spec.model_copy(update={"Lazy": True}), rates=rates)
    assert all(group["lazy"] for group in opt.param_groups)
    assert torch.equal(w, w_lazy) and torch.equal(b, b_lazy)


@pytest.mark.parametrize("spec", [spec for spec, _ in CASES], ids=IDS)
def test_every_optimizer_type_has_lazy_off_by_default_and_in_its_groups(spec):
    assert spec.Lazy is False
    assert "Lazy" in type(spec).model_fields
    assert "SparseAdam" in type(spec).model_fields["Lazy"].description
    lazy = type(spec)(Lazy=True)
    opt = create_optimizer(lazy, torch.nn.Linear(2, 3).named_parameters())
    assert [g["lazy"] for g in opt.param_groups] == [True, True]
    opt = create_optimizer(spec, torch.nn.Linear(2, 3).named_parameters())
    assert [g["lazy"] for g in opt.param_groups] == [False, False]


@pytest.mark.parametrize("compute", ["Auto", "Dense"])
def test_what_readme_says_about_plain_torch_optimizers(compute):
    # README, Python: a sparse Input's row-sparse gradient is refused by torch.optim.Adam,
    # accepted by netcfg's optimizers, SGD and Adagrad; Compute Dense makes it dense
    from netcfg import compile_network, validate_config
    from netcfg.data import SparseBatch

    spec = validate_config(
        {
            "ErrorFunction": "MaskedMSE",
            "Training": {"Optimizer": {"Type": "Adam", "LearningRate": 0.001}},
            "Layers": [
                {"Name": "In", "N": 200, "DataSet": "r", "Sparse": True, "Compute": compute},
                {"Name": "H", "N": 5},
                {
                    "Name": "Out",
                    "Kind": "Output",
                    "N": 200,
                    "DataSet": "r",
                    "Sparse": True,
                    "Activation": "Linear",
                },
            ],
        }
    )
    network = compile_network(spec)
    g = torch.Generator().manual_seed(0)
    x = SparseBatch.from_dense((torch.rand(3, 200, generator=g) < 0.03) * 5.0)

    def step(optimizer):
        network.zero_grad()
        network(x, x).loss.backward()
        optimizer.step()

    assert network.layers["H"].projections[0].weight.grad is None
    for make in (
        lambda: create_optimizer(spec.Training.Optimizer, network.named_parameters()),
        lambda: torch.optim.SGD(network.parameters(), lr=0.1),
        lambda: torch.optim.Adagrad(network.parameters()),
    ):
        step(make())
    assert network.layers["H"].projections[0].weight.grad.is_sparse == (compute == "Auto")
    if compute == "Auto":
        with pytest.raises(RuntimeError, match="does not support sparse gradients"):
            step(torch.optim.Adam(network.parameters()))
    else:
        step(torch.optim.Adam(network.parameters()))
