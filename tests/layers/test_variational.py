"""Variational layers: the reparameterised sample, the KL term, its annealing, the config."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from netcfg import ConfigError, validate_config
from netcfg.cli import main
from netcfg.data.batch import SparseBatch
from netcfg.layers import Variational
from netcfg.networks.compile import compile_network
from netcfg.trainers.checkpoint import load_weights, save_weights


def numpy_kl(mu: np.ndarray, logvar: np.ndarray) -> float:
    """Mean over rows of KL(N(mu, diag(exp(logvar))) || N(0, I)), from the densities'
    closed form: 0.5 * (trace(S) + mu'mu - k - log det S)."""
    var = np.exp(logvar.astype(np.float64))
    k = mu.shape[1]
    per_row = 0.5 * (var.sum(1) + (mu.astype(np.float64) ** 2).sum(1) - k - np.log(var).sum(1))
    return float(per_row.mean())


def test_kl_term_equals_the_closed_form():
    rng = np.random.default_rng(0)
    mu = rng.normal(size=(5, 3)).astype(np.float32)
    logvar = rng.normal(scale=0.7, size=(5, 3)).astype(np.float32)
    layer = Variational(3, cap=0.7, anneal_steps=0).train()
    terms = layer.loss_terms([torch.from_numpy(np.concatenate([mu, logvar], axis=1))])
    assert set(terms) == {"KL"}
    assert terms["KL"].item() == pytest.approx(0.7 * numpy_kl(mu, logvar), rel=1e-5)


def test_two_sources_are_mean_and_log_variance():
    mu, logvar = torch.randn(4, 2), torch.randn(4, 2)
    one = Variational(2, cap=1.0, anneal_steps=0).eval()
    assert one.loss_terms([mu, logvar])["KL"].item() == pytest.approx(
        numpy_kl(mu.numpy(), logvar.numpy()), rel=1e-5
    )
    torch.testing.assert_close(one([mu, logvar]), mu, rtol=0, atol=0)


def test_kl_is_zero_at_the_prior():
    layer = Variational(4, cap=1.0, anneal_steps=0)
    assert layer.loss_terms([torch.zeros(3, 8)])["KL"].item() == 0.0


def test_training_samples_have_the_gaussian_mean_and_variance():
    torch.manual_seed(0)
    rows = 200_000
    mu = torch.tensor([1.5, -2.0]).expand(rows, 2)
    logvar = torch.tensor([math.log(0.25), math.log(4.0)]).expand(rows, 2)
    z = Variational(2).train()([mu, logvar])
    # standard errors: sd / sqrt(n) for the mean, about sd^2 * sqrt(2 / n) for the variance
    torch.testing.assert_close(z.mean(0), torch.tensor([1.5, -2.0]), rtol=0, atol=0.02)
    torch.testing.assert_close(z.var(0), torch.tensor([0.25, 4.0]), rtol=0.02, atol=0)
    assert abs(np.corrcoef(z.T.numpy())[0, 1]) < 0.01  # independent coordinates


def test_evaluation_returns_the_mean_exactly():
    layer = Variational(3).eval()
    params = torch.randn(6, 6)
    assert torch.equal(layer([params]), params[:, :3])
    assert torch.equal(layer([params]), layer([params]))
    layer.train()
    assert not torch.equal(layer([params]), params[:, :3])


def test_sparse_sources_and_skips():
    params = torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.0, 2.0, 0.0, 0.0]])
    layer = Variational(2).eval()
    skip = torch.ones(2, 2)
    expected = params[:, :2] + skip
    assert torch.equal(layer([SparseBatch.from_dense(params)], [skip]), expected)


def test_beta_grows_linearly_to_the_cap_with_updates():
    layer = Variational(1, cap=0.3, anneal_steps=10).train()
    params = [torch.tensor([[1.0, 0.0]], requires_grad=True)]  # KL = 0.5
    seen = [layer.loss_terms(params)["KL"].item() / 0.5 for _ in range(6)]
    assert seen == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.3, 0.3])
    assert int(layer.updates) == 6


def test_evaluation_and_no_grad_passes_do_not_count_as_updates():
    layer = Variational(1, cap=1.0, anneal_steps=4).train()
    params = [torch.zeros(2, 2)]
    with torch.no_grad():
        layer.loss_terms(params)
    layer.eval().loss_terms(params)
    assert int(layer.updates) == 0
    layer.train().loss_terms(params)
    assert int(layer.updates) == 1
    assert layer.beta() == 0.25


def test_no_annealing_holds_beta_at_the_cap():
    layer = Variational(1, cap=0.2, anneal_steps=0)
    assert layer.beta() == 0.2


def test_update_count_persists_through_state_dict_and_weight_files(tmp_path):
    layer = Variational(2, cap=1.0, anneal_steps=20).train()
    for _ in range(7):
        layer.loss_terms([torch.zeros(1, 4)])
    assert "updates" in layer.state_dict()
    restored = Variational(2, cap=1.0, anneal_steps=20)
    restored.load_state_dict(layer.state_dict())
    assert int(restored.updates) == 7 and restored.beta() == pytest.approx(0.35)
    save_weights(layer, tmp_path / "w.safetensors")
    from_file = Variational(2, cap=1.0, anneal_steps=20)
    load_weights(from_file, tmp_path / "w.safetensors")
    assert int(from_file.updates) == 7


def test_gradients_reach_the_mean_and_log_variance():
    torch.manual_seed(1)
    mu = torch.randn(4, 3, requires_grad=True)
    logvar = torch.randn(4, 3, requires_grad=True)
    layer = Variational(3, cap=0.5, anneal_steps=0).train()
    z = layer([mu, logvar])
    eps = ((z - mu) / (0.5 * logvar).exp()).detach()
    (z.sum() + layer.loss_terms([mu, logvar])["KL"]).backward()
    # d z / d mu = 1 and d z / d logvar = eps * sigma / 2; KL / B: beta * (mu, (e^lv - 1) / 2) / B
    expected_mu = 1.0 + 0.5 * mu.detach() / 4
    sigma = (0.5 * logvar.detach()).exp()
    expected_logvar = 0.5 * eps * sigma + 0.5 * 0.5 * (logvar.detach().exp() - 1.0) / 4
    torch.testing.assert_close(mu.grad, expected_mu)
    torch.testing.assert_close(logvar.grad, expected_logvar)


# ---------------------------------------------------------------- in a network


def vae_config(z: dict | None = None, *, two_sources: bool = False) -> dict:
    """A small Mult-VAE: Input 10 -> Enc 8 -> Gaussian 6 (or Mu 3, LogVar 3) -> Z 3 -> Out."""
    if two_sources:
        gaussian = [
            {"Name": "Mu", "N": 3, "Activation": "Linear", "Source": ["Enc"]},
            {"Name": "LogVar", "N": 3, "Activation": "Linear", "Source": ["Enc"]},
        ]
        sources = ["Mu", "LogVar"]
    else:
        gaussian = [{"Name": "Gaussian", "N": 6, "Activation": "Linear"}]
        sources = ["Gaussian"]
    layer = {"Name": "Z", "Type": "Variational", "Source": sources, **(z or {})}
    return {
        "ErrorFunction": "CrossEntropy",
        "Denoising": {"p": 0.5},
        "Layers": [
            {"Name": "In", "Kind": "Input", "N": "auto", "DataSet": "x", "Sparse": True},
            {"Name": "Enc", "N": 8, "Activation": "Tanh"},
            *gaussian,
            layer,
            {"Name": "Dec", "N": 8, "Activation": "Tanh", "Source": ["Z"]},
            {
                "Name": "Out",
                "Kind": "Output",
                "N": "auto",
                "DataSet": "x",
                "Sparse": True,
                "Activation": "SoftMax",
            },
        ],
    }


@pytest.mark.parametrize("two_sources", [False, True])
def test_network_adds_the_kl_term_in_training_and_uses_the_mean_otherwise(two_sources):
    config = vae_config({"KL": {"Cap": 0.4, "AnnealSteps": 0}}, two_sources=two_sources)
    config["Denoising"] = {"p": 0.0}  # the only randomness left in training is the sample
    spec = validate_config(config)
    torch.manual_seed(0)
    network = compile_network(spec, {"x": 10})
    assert network.shapes["Z"] == (3,)
    assert isinstance(network.layers["Z"], Variational)
    dense = (torch.rand(5, 10) < 0.4).float()
    batch = SparseBatch.from_dense(dense)

    out = network.train()(batch, batch)
    assert set(out.losses) == {"Out", "Z.KL"}
    with torch.no_grad():
        enc = network.layers["Enc"]([dense])
        if two_sources:
            mu, logvar = network.layers["Mu"]([enc]), network.layers["LogVar"]([enc])
        else:
            mu, logvar = network.layers["Gaussian"]([enc]).split(3, dim=1)
    expected = 0.4 * numpy_kl(mu.numpy(), logvar.numpy())
    assert out.losses["Z.KL"].item() == pytest.approx(expected, rel=1e-5)
    out.loss.backward()
    grads = [p.grad for p in network.layers["Enc"].parameters()]
    assert all(g is not None and g.abs().sum() > 0 for g in grads)

    network.eval()
    assert set(network(batch, batch).losses) == {"Out"}
    a, b = network(batch).outputs["Out"], network(batch).outputs["Out"]
    assert torch.equal(a, b)  # evaluation is deterministic: the mean
    with torch.no_grad():
        decoded = network.layers["Out"]([network.layers["Dec"]([mu])])
    torch.testing.assert_close(a, decoded)


def test_network_update_count_lives_in_its_state_dict():
    spec = validate_config(vae_config({"KL": {"AnnealSteps": 100}}))
    network = compile_network(spec, {"x": 10}).train()
    batch = SparseBatch.from_dense(torch.eye(10)[:4])
    for _ in range(3):
        network(batch, batch)
    assert int(network.state_dict()["layers.Z.updates"]) == 3
    assert network.layers["Z"].beta() == pytest.approx(0.03)


def test_width_comes_from_the_sources_and_n_must_agree():
    with torch.device("meta"):
        spec = validate_config(vae_config({"N": 3}))
        assert compile_network(spec, {"x": 10}).shapes["Z"] == (3,)
        with pytest.raises(Exception, match="sources give it N = 3, not 4"):
            compile_network(validate_config(vae_config({"N": 4})), {"x": 10})


def test_odd_or_unequal_sources_are_compile_errors():
    odd = vae_config()
    odd["Layers"][2]["N"] = 7
    with pytest.raises(Exception, match="even width \\(got 7\\)"):
        compile_network(validate_config(odd), {"x": 10})
    unequal = vae_config(two_sources=True)
    unequal["Layers"][3]["N"] = 4
    with pytest.raises(Exception, match="equal widths \\(got 3 and 4\\)"):
        compile_network(validate_config(unequal), {"x": 10})


def problems(config: dict) -> list[str]:
    with pytest.raises(ConfigError) as err:
        validate_config(config)
    return [f"{'.'.join(map(str, i.path))}: {i.message}" for i in err.value.issues]


@pytest.mark.parametrize(
    ("z", "expected"),
    [
        ({"KL": {"Capp": 0.2}}, "Layers.3.KL.Capp: unknown key 'Capp'; did you mean 'Cap'?"),
        ({"KL": {"Cap": -1}}, "Layers.3.KL.Cap: must be greater than or equal to 0 (got -1)"),
        ({"KL": {"AnnealSteps": 1.5}}, "Layers.3.KL.AnnealSteps: must be a valid integer"),
        ({"Type": "Variatonal"}, "did you mean 'Variational'?"),
        ({"Source": ["In", "Enc", "Gaussian"]}, "reads 1 source (mean and log-variance"),
        ({"Kind": "Output"}, "a Variational layer must be Hidden (got Kind 'Output')"),
        ({"WeightInit": {}}, "does not apply to Variational layers"),
    ],
)
def test_bad_keys_are_validation_errors(z, expected):
    found = problems(vae_config(z))
    assert len(found) == 1 and expected in found[0]
    assert found[0].startswith("Layers.3.")


def test_the_cli_reports_bad_keys_with_exit_2(tmp_path, capsys):
    path = tmp_path / "vae.json"
    path.write_text(json.dumps(vae_config({"KL": {"Cap": 0.2, "Anneal": 5}}), indent=2))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "KL.Anneal" in err and "did you mean 'AnnealSteps'" in err
