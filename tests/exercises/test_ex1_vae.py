"""Exercises 1.1-1.3 (Gaussian KL, reparameterize, ELBO), on the stubs or the references."""

import torch

from pearl_lite.course import checks


def test_gaussian_kl_check(exercise):
    assert checks.check_gaussian_kl(exercise("ex1_vae", "gaussian_kl"))


def test_gaussian_kl_zero_for_equal_distributions(exercise):
    kl = exercise("ex1_vae", "gaussian_kl")
    mu = torch.randn(4, 3, generator=torch.Generator().manual_seed(1))
    var = torch.rand(4, 3, generator=torch.Generator().manual_seed(2)) + 0.5
    assert torch.allclose(kl(mu, var, mu, var), torch.zeros(4), atol=1e-6)


# ---- Ex 1.2 (reparameterize) and Ex 1.3 (elbo) ----------------------------------------------


def test_reparameterize_check(exercise):
    assert checks.check_reparameterize(exercise("ex1_vae", "reparameterize"))


def test_reparameterize_uses_given_noise(exercise):
    rep = exercise("ex1_vae", "reparameterize")
    z = rep(torch.tensor([[1.0, 2.0]]), torch.tensor([[9.0, 0.01]]), torch.tensor([[1.0, -1.0]]))
    assert torch.allclose(z, torch.tensor([[4.0, 1.9]]))


def test_elbo_check(exercise):
    assert checks.check_elbo(exercise("ex1_vae", "elbo"))


def test_elbo_beta_zero_is_the_reconstruction(exercise):
    from pearl_lite.course.vae import VAE

    torch.manual_seed(0)
    model, x = VAE(64, 2, (16,)), torch.full((3, 64), 0.5)
    recon, kl, el = exercise("ex1_vae", "elbo")(model, x, 0.0)
    assert torch.allclose(el, recon) and (kl > 0).all()
