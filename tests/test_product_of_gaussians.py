"""pearl_lite.distributions.product_of_gaussians against closed forms and brute-force grids."""

import math

import pytest
import torch

from pearl_lite.distributions import MIN_FACTOR_VAR, product_of_gaussians


def _normal_logpdf(x, mu, var):
    return -0.5 * (math.log(2 * math.pi) + torch.log(var) + (x - mu) ** 2 / var)


def _factors(T=3, N=5, D=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    mu = torch.randn(T, N, D, generator=g, dtype=torch.float64)
    var = torch.rand(T, N, D, generator=g, dtype=torch.float64) * 2 + 0.05
    return mu, var


def test_closed_form():
    mu, var = _factors()
    pm, pv = product_of_gaussians(mu, var)
    assert pm.shape == pv.shape == (3, 2)
    prec = (1 / var).sum(1)
    assert torch.allclose(pv, 1 / prec)
    assert torch.allclose(pm, (mu / var).sum(1) / prec)


def test_matches_brute_force_product_of_densities_1d():
    mu = torch.tensor([[-1.0], [0.5], [2.0]], dtype=torch.float64)  # three factors, D = 1
    var = torch.tensor([[0.5], [2.0], [1.0]], dtype=torch.float64)
    x = torch.linspace(-8, 8, 20001, dtype=torch.float64)
    log_p = sum(_normal_logpdf(x, mu[n, 0], var[n, 0]) for n in range(3))
    p = torch.exp(log_p - log_p.max())
    p = p / torch.trapezoid(p, x)  # normalise the product numerically
    mean = torch.trapezoid(p * x, x)
    variance = torch.trapezoid(p * (x - mean) ** 2, x)
    pm, pv = product_of_gaussians(mu, var, dim=0)
    assert torch.allclose(pm, mean.view(1), atol=1e-6)
    assert torch.allclose(pv, variance.view(1), atol=1e-6)
    # The normalised product is exactly Gaussian: compare the whole density, not two moments.
    assert torch.allclose(p, _normal_logpdf(x, pm, pv).exp(), atol=1e-6)


def test_matches_brute_force_product_of_densities_2d():
    mu = torch.tensor([[0.0, 1.0], [1.0, -1.0], [-0.5, 0.0]], dtype=torch.float64)
    var = torch.tensor([[0.3, 2.0], [1.5, 0.4], [0.8, 0.8]], dtype=torch.float64)
    grid = torch.linspace(-5, 5, 801, dtype=torch.float64)
    X, Y = torch.meshgrid(grid, grid, indexing="ij")
    log_p = sum(_normal_logpdf(X, mu[n, 0], var[n, 0]) + _normal_logpdf(Y, mu[n, 1], var[n, 1])
                for n in range(3))
    p = torch.exp(log_p - log_p.max())
    p = p / p.sum()
    mean = torch.stack([(p * X).sum(), (p * Y).sum()])
    cov_xy = (p * (X - mean[0]) * (Y - mean[1])).sum()
    variance = torch.stack([(p * (X - mean[0]) ** 2).sum(), (p * (Y - mean[1]) ** 2).sum()])
    pm, pv = product_of_gaussians(mu, var, dim=0)
    assert torch.allclose(pm, mean, atol=1e-5)
    assert torch.allclose(pv, variance, atol=1e-5)
    assert abs(cov_xy.item()) < 1e-8  # a product of axis-aligned factors stays axis-aligned


def test_permutation_invariant_and_dim_argument():
    mu, var = _factors(N=7)
    perm = torch.randperm(7, generator=torch.Generator().manual_seed(1))
    a = product_of_gaussians(mu, var)
    b = product_of_gaussians(mu[:, perm], var[:, perm])
    assert all(torch.allclose(x, y) for x, y in zip(a, b, strict=True))
    c = product_of_gaussians(mu.transpose(0, 1), var.transpose(0, 1), dim=0)
    assert all(torch.allclose(x, y) for x, y in zip(a, c, strict=True))


def test_single_factor_is_itself_and_more_factors_narrow():
    mu, var = _factors(N=6)
    pm, pv = product_of_gaussians(mu[:, :1], var[:, :1])
    assert torch.allclose(pm, mu[:, 0]) and torch.allclose(pv, var[:, 0])
    prev = pv
    for n in range(2, 7):
        _, pv = product_of_gaussians(mu[:, :n], var[:, :n])
        assert (pv < prev).all()
        prev = pv


def test_extreme_variances_stay_finite_and_are_clamped():
    mu = torch.tensor([[[1.0], [3.0], [-2.0]]])
    var = torch.tensor([[[0.0], [1e-12], [1e12]]])  # certain, nearly certain, uninformative
    pm, pv = product_of_gaussians(mu, var)
    assert torch.isfinite(pm).all() and torch.isfinite(pv).all()
    # Both tiny variances are clamped to MIN_FACTOR_VAR, so they get equal weight.
    assert torch.allclose(pm, torch.tensor([[2.0]]), atol=1e-4)
    assert torch.allclose(pv, torch.tensor([[MIN_FACTOR_VAR / 2]]), rtol=1e-3)
    # A gradient through the clamp is finite too.
    m = mu.clone().requires_grad_()
    product_of_gaussians(m, var)[0].sum().backward()
    assert torch.isfinite(m.grad).all()


def test_mask_drops_factors_and_empty_gives_the_prior():
    mu, var = _factors(T=3, N=5)
    mask = torch.tensor([[1, 1, 0, 1, 0], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0]], dtype=torch.bool)
    pm, pv = product_of_gaussians(mu, var, mask=mask)
    ref = product_of_gaussians(mu[0, mask[0]], var[0, mask[0]], dim=0)
    assert torch.allclose(pm[0], ref[0]) and torch.allclose(pv[0], ref[1])
    assert torch.allclose(pm[1], product_of_gaussians(mu, var)[0][1])
    assert torch.equal(pm[2], torch.zeros(2, dtype=pm.dtype))
    assert torch.equal(pv[2], torch.ones(2, dtype=pv.dtype))
    # 0/1 float masks work like booleans; no factors at all (N = 0) give the prior.
    pm_f, _ = product_of_gaussians(mu, var, mask=mask.double())
    assert torch.allclose(pm_f, pm)
    pm0, pv0 = product_of_gaussians(mu[:, :0], var[:, :0])
    assert torch.equal(pm0, torch.zeros(3, 2, dtype=pm.dtype))
    assert torch.equal(pv0, torch.ones_like(pv0))


def test_bad_input_raises():
    mu, var = _factors()
    with pytest.raises(ValueError, match="same shape"):
        product_of_gaussians(mu, var[..., :1])
    with pytest.raises(ValueError, match="mask must have shape"):
        product_of_gaussians(mu, var, mask=torch.ones(3, 4))
    with pytest.raises(ValueError, match="event"):
        product_of_gaussians(mu, var, dim=-1)
    with pytest.raises(ValueError, match="non-negative"):
        product_of_gaussians(mu, -var)
