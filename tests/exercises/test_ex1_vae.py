"""Exercise 1.1 (Gaussian KL), on the stubs or on the reference solution (``--impl``)."""

import torch

from pearl_lite import checks


def test_gaussian_kl_check(exercise):
    assert checks.check_gaussian_kl(exercise("ex1_vae", "gaussian_kl"))


def test_gaussian_kl_zero_for_equal_distributions(exercise):
    kl = exercise("ex1_vae", "gaussian_kl")
    mu = torch.randn(4, 3, generator=torch.Generator().manual_seed(1))
    var = torch.rand(4, 3, generator=torch.Generator().manual_seed(2)) + 0.5
    assert torch.allclose(kl(mu, var, mu, var), torch.zeros(4), atol=1e-6)
