"""Unit tests of ``pearl_lite.distributions``: the Gaussian KL in depth, bad input for the rest.

(The product of Gaussians and the tanh-Gaussian are tested in depth with notebooks 2 and 3.)
"""

from __future__ import annotations

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from pearl_lite.distributions import TanhGaussian, gaussian_kl, product_of_gaussians


def _rand(*shape, seed=0, low=None):
    g = torch.Generator().manual_seed(seed)
    t = torch.randn(*shape, generator=g, dtype=torch.float64)
    return t if low is None else t.abs() + low


def test_gaussian_kl_matches_torch_distributions():
    mu_q, var_q = _rand(7, 4, seed=0), _rand(7, 4, seed=1, low=0.05)
    mu_p, var_p = _rand(7, 4, seed=2), _rand(7, 4, seed=3, low=0.05)
    expected = kl_divergence(Normal(mu_q, var_q.sqrt()), Normal(mu_p, var_p.sqrt())).sum(-1)
    got = gaussian_kl(mu_q, var_q, mu_p, var_p)
    assert got.shape == (7,)
    assert torch.allclose(got, expected, atol=1e-10)


def test_gaussian_kl_default_prior_is_unit_gaussian():
    mu_q, var_q = _rand(5, 3, seed=4), _rand(5, 3, seed=5, low=0.1)
    expected = kl_divergence(Normal(mu_q, var_q.sqrt()), Normal(0.0, 1.0)).sum(-1)
    assert torch.allclose(gaussian_kl(mu_q, var_q), expected, atol=1e-10)


def test_gaussian_kl_agrees_with_monte_carlo():
    mu_q, var_q = torch.tensor([0.3, -1.0]), torch.tensor([0.5, 2.0])
    mu_p, var_p = torch.tensor([1.0, 0.0]), torch.tensor([1.5, 0.7])
    q, p = Normal(mu_q, var_q.sqrt()), Normal(mu_p, var_p.sqrt())
    torch.manual_seed(0)
    z = q.sample((400_000,))
    log_ratio = (q.log_prob(z) - p.log_prob(z)).sum(-1)
    mc, se = log_ratio.mean(), log_ratio.std() / len(z) ** 0.5
    assert abs(gaussian_kl(mu_q, var_q, mu_p, var_p) - mc) < 4 * se


def test_gaussian_kl_is_zero_iff_equal_and_not_symmetric():
    mu, var = _rand(3, 2, seed=6), _rand(3, 2, seed=7, low=0.2)
    assert torch.allclose(gaussian_kl(mu, var, mu, var), torch.zeros(3, dtype=torch.float64))
    a = gaussian_kl(mu, var)
    b = gaussian_kl(torch.zeros_like(mu), torch.ones_like(var), mu, var)
    assert (a > 0).all() and not torch.allclose(a, b)


def test_gaussian_kl_broadcasts_a_shared_prior():
    mu_q, var_q = _rand(4, 6, 3, seed=8), _rand(4, 6, 3, seed=9, low=0.1)
    mu_p, var_p = _rand(3, seed=10), _rand(3, seed=11, low=0.1)  # one prior for every element
    got = gaussian_kl(mu_q, var_q, mu_p, var_p)
    assert got.shape == (4, 6)
    loop = torch.stack([torch.stack([gaussian_kl(mu_q[i, j], var_q[i, j], mu_p, var_p)
                                     for j in range(6)]) for i in range(4)])
    assert torch.allclose(got, loop)


def test_gaussian_kl_gradient_matches_closed_form():
    mu_q = _rand(2, 3, seed=12).requires_grad_()
    var_q = _rand(2, 3, seed=13, low=0.1).requires_grad_()
    gaussian_kl(mu_q, var_q).sum().backward()
    # d/dmu KL(q || N(0,1)) = mu ; d/dvar = (1 - 1/var) / 2
    assert torch.allclose(mu_q.grad, mu_q.detach())
    assert torch.allclose(var_q.grad, 0.5 * (1 - 1 / var_q.detach()))
    assert torch.autograd.gradcheck(lambda m, v: gaussian_kl(m, v, mu_q.detach() * 0.5),
                                    (mu_q.detach().clone().requires_grad_(),
                                     var_q.detach().clone().requires_grad_()))


@pytest.mark.parametrize("bad", [0.0, -0.5, float("nan")])
def test_gaussian_kl_rejects_non_positive_variance(bad):
    mu, var = torch.zeros(2, 3), torch.ones(2, 3)
    var[1, 2] = bad
    with pytest.raises(ValueError, match="strictly positive"):
        gaussian_kl(mu, var)
    with pytest.raises(ValueError, match="var_p must be strictly positive"):
        gaussian_kl(mu, torch.ones(2, 3), torch.zeros(3), var[1])


def test_gaussian_kl_rejects_shapes_that_do_not_broadcast():
    with pytest.raises(ValueError, match="do not broadcast"):
        gaussian_kl(torch.zeros(4, 3), torch.ones(4, 2))
    with pytest.raises(ValueError, match="do not broadcast"):
        gaussian_kl(torch.zeros(4, 3), torch.ones(4, 3), torch.zeros(5, 3), torch.ones(5, 3))
    with pytest.raises(ValueError, match="event dimension"):
        gaussian_kl(torch.tensor(0.0), torch.tensor(1.0))


def test_gaussian_kl_rejects_non_tensor_variance():
    with pytest.raises(TypeError, match="torch.Tensor"):
        gaussian_kl(torch.zeros(3), [1.0, 1.0, 1.0])


def test_product_of_gaussians_bad_input():
    mu, var = torch.zeros(2, 5, 3), torch.ones(2, 5, 3)
    with pytest.raises(ValueError, match="same shape"):
        product_of_gaussians(mu, var[..., :2])
    with pytest.raises(ValueError, match="non-negative"):
        product_of_gaussians(mu, -var)
    with pytest.raises(ValueError, match="event"):
        product_of_gaussians(mu, var, dim=-1)
    with pytest.raises(ValueError, match="mask must have shape"):
        product_of_gaussians(mu, var, mask=torch.ones(2, 4))


def test_tanh_gaussian_bad_input():
    with pytest.raises(ValueError, match="do not broadcast"):
        TanhGaussian(torch.zeros(4, 2), torch.zeros(4, 3))
    with pytest.raises(ValueError, match="strictly inside"):
        TanhGaussian(torch.zeros(2), torch.zeros(2)).log_prob(torch.tensor([0.0, 1.0]))
