"""Tests of the digits data, the VAE and its ELBO (notebook 1), and the beta-slider logic."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from torch.distributions import Binomial, Normal, kl_divergence

from pearl_lite.course.data import Digits, load_digits
from pearl_lite.course.vae import (
    VAE,
    VAEConfig,
    binomial_log_lik,
    elbo,
    evaluate_vae,
    gradient_estimator_variance,
    grid_model,
    importance_log_likelihood,
    kl_per_dimension,
    load_beta_grid,
    reparameterize,
    save_beta_grid,
    train_beta_grid,
    train_vae,
)
from pearl_lite.course.widgets_vae import (
    beta_figure,
    beta_slider,
    beta_view,
    nearest_beta_index,
    tile_images,
)


@pytest.fixture(scope="module")
def digits() -> Digits:
    return load_digits()


@pytest.fixture(scope="module")
def small_digits(digits) -> Digits:
    """A slice of the data, so that training in tests takes a fraction of a second."""
    return Digits(digits.x_train[:256], digits.y_train[:256], digits.x_test[:64],
                  digits.y_test[:64])


def _model(latent_dim=3, seed=0) -> VAE:
    torch.manual_seed(seed)
    return VAE(64, latent_dim, (32,))


# ---- data ------------------------------------------------------------------------------------


def test_load_digits_split_and_scaling(digits):
    assert digits.x_train.shape == (1497, 64) and digits.x_test.shape == (300, 64)
    assert digits.x_train.dtype == torch.float32
    assert digits.x_train.min() == 0 and digits.x_train.max() == 1
    counts = digits.x_train * 16  # pixels are counts 0..16
    assert torch.equal(counts, counts.round())
    assert set(digits.y_test.tolist()) == set(range(10))
    assert len(digits.y_train) + len(digits.y_test) == 1797


def test_load_digits_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="make_digits"):
        load_digits(tmp_path / "nope.npz")


# ---- likelihood, reparameterisation, ELBO ------------------------------------------------------


def test_binomial_log_lik_matches_torch_distributions(digits):
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(10, 64, generator=g) * 4
    x = digits.x_test[:10]
    expected = Binomial(16, logits=logits).log_prob(x * 16).sum(-1)
    assert torch.allclose(binomial_log_lik(logits, x), expected, atol=1e-3)
    # Stable for saturated logits: finite, and near 0 when the prediction is certain and right.
    sure = binomial_log_lik(torch.full((1, 64), 60.0), torch.ones(1, 64))
    assert torch.isfinite(sure).all() and sure.abs().item() < 1e-6


def test_binomial_log_lik_bad_input():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        binomial_log_lik(torch.zeros(2, 64), torch.full((2, 64), 16.0))
    with pytest.raises(ValueError, match="do not broadcast"):
        binomial_log_lik(torch.zeros(2, 64), torch.zeros(2, 63))


def test_reparameterize_value_and_gradient():
    mu = torch.tensor([[0.5, -1.0]], requires_grad=True)
    var = torch.tensor([[4.0, 0.25]], requires_grad=True)
    eps = torch.tensor([[1.0, -2.0]])
    z = reparameterize(mu, var, eps)
    assert torch.allclose(z, torch.tensor([[2.5, -2.0]]))
    z.sum().backward()
    assert torch.allclose(mu.grad, torch.ones(1, 2))
    assert torch.allclose(var.grad, eps / (2 * var.detach().sqrt()))


def test_elbo_terms_match_independent_computations(digits):
    model, x, beta = _model(), digits.x_test[:8], 0.3
    torch.manual_seed(123)
    terms = elbo(model, x, beta=beta)
    # Same z, computed independently with torch.distributions.
    torch.manual_seed(123)
    with torch.no_grad():
        mu, var = model.encode(x)
        z = mu + var.sqrt() * torch.randn_like(mu)
        recon = Binomial(16, logits=model.decode(z)).log_prob(x * 16).sum(-1)
        kl = kl_divergence(Normal(mu, var.sqrt()), Normal(0.0, 1.0)).sum(-1)
    assert terms.recon_log_lik.shape == terms.kl.shape == terms.elbo.shape == (8,)
    assert torch.allclose(terms.recon_log_lik, recon, atol=1e-3)
    assert torch.allclose(terms.kl, kl, atol=1e-4)
    assert torch.allclose(terms.elbo, terms.recon_log_lik - beta * terms.kl)


def test_elbo_rejects_wrong_shape():
    with pytest.raises(ValueError, match=r"\(B, 64\)"):
        elbo(_model(), torch.zeros(8, 8))


def test_elbo_is_below_importance_sampled_log_likelihood(small_digits):
    """Jensen: E[ELBO] <= E[log-mean-exp of K weights] for K > 1, rising with K."""
    model, _ = train_vae(VAEConfig(latent_dim=2, hidden_sizes=(32,), n_epochs=40, seed=0),
                         small_digits)
    x = small_digits.x_test[:32]
    torch.manual_seed(0)
    with torch.no_grad():
        elbos = elbo(model, x.repeat(200, 1)).elbo.view(200, 32)  # 200 draws per image
    iw10 = importance_log_likelihood(model, x, n_samples=10)
    iw2000 = importance_log_likelihood(model, x, n_samples=2000)
    assert elbos.mean() < iw10.mean() < iw2000.mean()
    # ... and for K = 1 it is the same quantity as the ELBO (in expectation), computed with
    # Monte-Carlo log p(z) - log q(z|x) in place of the closed-form KL.
    iw1 = importance_log_likelihood(model, x.repeat(200, 1), n_samples=1).view(200, 32)
    diff = (iw1 - elbos).flatten()  # independent draws
    assert diff.mean().abs() < 4 * diff.std() / len(diff) ** 0.5


def test_train_vae_learns_and_is_deterministic(small_digits):
    cfg = VAEConfig(latent_dim=2, hidden_sizes=(32,), n_epochs=12, eval_every=4, seed=3)
    model, hist = train_vae(cfg, small_digits)
    assert hist["epoch"] == [4.0, 8.0, 12.0]
    assert hist["test_elbo"][-1] > hist["test_elbo"][0] + 5  # nats
    _, hist2 = train_vae(cfg, small_digits)
    assert hist2["test_elbo"] == hist["test_elbo"]
    ev = evaluate_vae(model, small_digits.x_test, n_importance=50)
    assert ev["elbo"] < ev["log_px"]
    assert math.isclose(ev["elbo"], hist["test_elbo"][-1], rel_tol=1e-6)


@pytest.mark.parametrize("field, value", [("latent_dim", 0), ("beta", -1.0), ("lr", 0.0),
                                          ("n_epochs", 0), ("batch_size", 0)])
def test_config_rejects_bad_values(field, value):
    with pytest.raises(ValueError, match=field):
        VAEConfig(**{field: value})


def test_kl_per_dimension_sums_to_kl(digits):
    model, x = _model(latent_dim=4), digits.x_test[:20]
    with torch.no_grad():
        total = elbo(model, x).kl.mean()
    per_dim = kl_per_dimension(model, x)
    assert per_dim.shape == (4,) and torch.allclose(per_dim.sum(), total, atol=1e-5)


def test_model_samples_and_reconstructions_are_images(digits):
    model = _model()
    assert model.sample(5, torch.Generator().manual_seed(0)).shape == (5, 64)
    r = model.reconstruct(digits.x_test[:3])
    assert r.shape == (3, 64) and (r >= 0).all() and (r <= 1).all()


# ---- gradient estimators -------------------------------------------------------------------


def test_both_gradient_estimators_unbiased_reparam_lower_variance():
    out = gradient_estimator_variance(mu=0.0, sigma=1.0, target=3.0, n_repeats=20_000)
    n = 20_000
    assert abs(out["reparam_mean"] - out["true_grad"]) < 4 * math.sqrt(out["reparam_var"] / n)
    assert abs(out["score_mean"] - out["true_grad"]) < 4 * math.sqrt(out["score_var"] / n)
    # For f(z) = (z - 3)^2 the reparameterised gradient 2 (z - 3) has variance 4 sigma^2.
    assert out["reparam_var"] == pytest.approx(4.0, rel=0.05)
    assert out["score_var"] > 10 * out["reparam_var"]
    # Averaging n_samples draws divides both variances by n_samples.
    out10 = gradient_estimator_variance(n_samples=10, n_repeats=20_000)
    assert out10["reparam_var"] == pytest.approx(0.4, rel=0.05)


def test_gradient_estimator_bad_input():
    with pytest.raises(ValueError, match="sigma > 0"):
        gradient_estimator_variance(sigma=0.0)


# ---- the beta grid -------------------------------------------------------------------------


def test_beta_grid_round_trip(tmp_path, small_digits):
    cfg = VAEConfig(latent_dim=2, hidden_sizes=(16,), n_epochs=2)
    grid = train_beta_grid([0.5, 2.0], cfg, small_digits)
    path = save_beta_grid(grid, tmp_path / "grid.pt")
    loaded = load_beta_grid(path)
    assert loaded["betas"] == [0.5, 2.0] and len(loaded["kl_per_dim"][1]) == 2
    m = grid_model(loaded, 1)
    ev = evaluate_vae(m, small_digits.x_test)
    assert ev["kl"] == pytest.approx(loaded["test_kl"][1], rel=1e-5)
    with pytest.raises(ValueError, match="increasing"):
        train_beta_grid([2.0, 0.5], cfg, small_digits)
    with pytest.raises(ValueError, match="index"):
        grid_model(loaded, 2)


def test_shipped_beta_grid_is_consistent(digits):
    grid = load_beta_grid()
    betas = grid["betas"]
    assert betas == sorted(betas) and 1.0 in betas
    # The rate falls as beta rises (on training and test images alike), and the training
    # distortion rises: the rate-distortion trade-off the slider shows.
    for key in ("train_kl", "test_kl"):
        assert all(a > b for a, b in zip(grid[key], grid[key][1:], strict=False)), key
    # (Within half a nat: at the smallest betas the reconstruction has saturated.)
    recon = grid["train_recon_log_lik"]
    assert all(a > b - 0.5 for a, b in zip(recon, recon[1:], strict=False))
    assert recon[0] > recon[betas.index(1.0)] + 2 > recon[-1] + 4
    # The stored numbers belong to the stored weights.
    i = betas.index(1.0)
    ev = evaluate_vae(grid_model(grid, i), digits.x_test)
    assert ev["elbo"] == pytest.approx(grid["test_elbo"][i], abs=1e-3)


def teardown_module():
    plt.close("all")


# ---- the beta slider's logic (no browser needed) --------------------------------------------


def test_tile_images_layout():
    tiles = tile_images(torch.arange(3 * 64, dtype=torch.float32).reshape(3, 64), n_cols=2)
    assert tiles.shape == (17, 17)
    assert tiles[0, 0] == 0 and tiles[9, 0] == 128  # third image starts the second row
    assert np.isnan(tiles[9, 9])  # blank fourth cell
    with pytest.raises(ValueError, match="n_cols"):
        tile_images(np.zeros((1, 64)), 0)


def test_nearest_beta_index_is_log_scale():
    betas = [0.1, 1.0, 10.0]
    assert nearest_beta_index(betas, 0.5) == 1  # log-nearer 1.0 than 0.1
    assert nearest_beta_index(betas, 0.2) == 0
    with pytest.raises(ValueError, match="beta must be > 0"):
        nearest_beta_index(betas, 0.0)


def test_beta_view_and_figure(digits):
    grid = load_beta_grid()
    x, y = digits.x_test[:100], digits.y_test[:100]
    low, high = beta_view(grid, 0.1, x, y), beta_view(grid, 100.0, x, y)
    assert low["beta"] == grid["betas"][0] and high["beta"] == grid["betas"][-1]
    assert low["reconstructions"].shape == (10, 64) and low["latent"].shape == (100, 2)
    # Reconstructions get worse and the KL smaller as beta grows.
    err = lambda v: np.abs(v["reconstructions"] - v["originals"]).mean()
    assert err(low) < err(high)
    assert low["kl_per_dim"].sum() > high["kl_per_dim"].sum()
    fig = beta_figure(low)
    assert len(fig.axes) >= 4
    plt.close(fig)
    with pytest.raises(ValueError, match=r"\(N, 64\)"):
        beta_view(grid, 1.0, x[:, :10], y)


def test_beta_slider_redraws_on_change(digits):
    grid = load_beta_grid()
    box, slider = beta_slider(grid, digits.x_test[:50], digits.y_test[:50], beta=1.0)
    assert slider.value == 1.0 and len(slider.options) == len(grid["betas"])
    slider.value = grid["betas"][-1]  # runs the callback, as dragging the slider would
    assert box.children[0] is slider


# ---- the notebook-1 checks catch the classic mistakes ----------------------------------------


def test_check_reparameterize_hints():
    from pearl_lite.course import checks

    assert checks.check_reparameterize(reparameterize)
    wrong = {
        "scale eps by its square root": lambda mu, var, eps=None: mu + var * (
            torch.randn_like(mu) if eps is None else eps),
        "not a log-variance": lambda mu, var, eps=None: mu + torch.exp(0.5 * var) * (
            torch.randn_like(mu) if eps is None else eps),
        "no gradient flows": lambda mu, var, eps=None: (mu + var.sqrt() * (
            torch.randn_like(mu) if eps is None else eps)).detach(),
        "mean": lambda mu, var, eps=None: mu + var.sqrt() * (
            torch.rand_like(mu) if eps is None else eps),  # uniform noise
    }
    for hint, fn in wrong.items():
        with pytest.raises(AssertionError, match=hint):
            checks.check_reparameterize(fn)


def test_check_elbo_hints():
    from pearl_lite.course import checks
    from pearl_lite.course.vae import ElboTerms
    from pearl_lite.distributions import gaussian_kl

    assert checks.check_elbo(elbo)

    def averaged(model, x, beta=1.0):
        t = elbo(model, x, beta)
        return ElboTerms(t.recon_log_lik.mean(), t.kl.mean(), t.elbo.mean())

    def weighted_kl(model, x, beta=1.0):
        t = elbo(model, x, beta)
        return ElboTerms(t.recon_log_lik, beta * t.kl, t.elbo)

    def ignores_beta(model, x, beta=1.0):
        return elbo(model, x, 1.0)

    def decodes_mean(model, x, beta=1.0):
        mu, var = model.encode(x)
        recon, kl = binomial_log_lik(model.decode(mu), x), gaussian_kl(mu, var)
        return ElboTerms(recon, kl, recon - beta * kl)

    def no_reparam(model, x, beta=1.0):
        mu, var = model.encode(x)
        z = torch.distributions.Normal(mu, var.sqrt()).sample()
        recon, kl = binomial_log_lik(model.decode(z), x), gaussian_kl(mu, var)
        return ElboTerms(recon, kl, recon - beta * kl)

    def bernoulli(model, x, beta=1.0):
        mu, var = model.encode(x)
        logits = model.decode(reparameterize(mu, var))
        recon = -torch.nn.functional.binary_cross_entropy_with_logits(
            logits, x, reduction="none").sum(-1)
        kl = gaussian_kl(mu, var)
        return ElboTerms(recon, kl, recon - beta * kl)

    for fn, hint in [(averaged, "Do not average over the batch"),
                     (weighted_kl, "unweighted KL"), (ignores_beta, "ignored beta"),
                     (decodes_mean, "posterior mean"), (no_reparam, "no gradient"),
                     (bernoulli, "binomial_log_lik")]:
        with pytest.raises(AssertionError, match=hint):
            checks.check_elbo(fn)
