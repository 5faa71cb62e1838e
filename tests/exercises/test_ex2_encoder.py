"""Exercises 2.1 (product of Gaussians) and 2.2 (bottleneck KL), on the stubs or the references.

The second half checks the checks: each classic mistake must be caught, with the right hint.
"""

import pytest
import torch

from pearl_lite.course import checks
from pearl_lite.distributions import product_of_gaussians
from pearl_lite.encoder import kl_bottleneck


def test_product_of_gaussians_check(exercise):
    assert checks.check_product_of_gaussians(exercise("ex2_encoder", "product_of_gaussians"))


def test_product_of_two_equal_factors_halves_the_variance(exercise):
    pog = exercise("ex2_encoder", "product_of_gaussians")
    mu, var = pog(torch.tensor([[[1.0, -1.0], [1.0, -1.0]]]), torch.tensor([[[2.0, 0.5]] * 2]))
    assert torch.allclose(mu, torch.tensor([[1.0, -1.0]]))
    assert torch.allclose(var, torch.tensor([[1.0, 0.25]]))


def test_kl_bottleneck_check(exercise):
    assert checks.check_kl_bottleneck(exercise("ex2_encoder", "kl_bottleneck"))


# ---- the checks catch the classic mistakes -------------------------------------------------


def _pog_mutant(kind):
    def fn(mu, var, dim=-2, mask=None):
        d = dim % mu.dim()
        prec = 1 / var.clamp(min=1e-7)
        if kind == "no_clamp":
            prec = 1 / var
        if mask is not None and kind != "ignore_mask":
            prec = prec * mask.to(prec.dtype).unsqueeze(-1)
        post_var = 1 / prec.sum(d)
        post_mu = post_var * (prec * mu).sum(d)
        if kind == "average_means":
            post_mu = mu.mean(d)
        elif kind == "sum_variances":
            post_var = var.sum(d)
        elif kind == "unnormalised":
            post_mu = (prec * mu).sum(d)
        elif kind == "order_weighted":  # e.g. a running average that favours late factors
            w = torch.arange(1, mu.shape[d] + 1, dtype=mu.dtype).view(-1, 1)
            post_mu = post_var * (prec * mu * w).sum(d) / w.mean()
        elif kind == "hard_coded_dim":
            return product_of_gaussians(mu, var, dim=-2, mask=mask)
        elif kind == "nan_when_empty":
            return post_mu, post_var
        if kind in ("average_means", "sum_variances", "unnormalised", "order_weighted",
                    "no_clamp", "ignore_mask"):
            return post_mu, post_var
        raise AssertionError(kind)

    fn.__name__ = f"pog_{kind}"
    return fn


@pytest.mark.parametrize(("kind", "hint"), [
    ("average_means", "averaged the means"),
    ("sum_variances", "added \\(or averaged\\) the variances"),
    ("unnormalised", "forgot to normalise"),
    ("hard_coded_dim", "dim=0"),
    ("order_weighted", "reordered"),
    ("no_clamp", "clamp"),
    ("ignore_mask", "mask"),
    ("nan_when_empty", "prior"),
])
def test_product_check_catches_classic_mistakes(kind, hint):
    wrong = _pog_mutant(kind)
    with pytest.raises(AssertionError, match=hint):
        checks.check_product_of_gaussians(wrong)
    assert checks.run(checks.check_product_of_gaussians, wrong) is False


def test_product_check_passes_reference_and_turns_crashes_into_verdicts():
    assert checks.check_product_of_gaussians(product_of_gaussians)

    def crashes_on_mask(mu, var, dim=-2, mask=None):
        if mask is not None:
            raise TypeError("unsupported operand")
        return product_of_gaussians(mu, var, dim)

    with pytest.raises(AssertionError, match="mask=mask\\) raised TypeError"):
        checks.check_product_of_gaussians(crashes_on_mask)
    assert checks.run(checks.check_product_of_gaussians, crashes_on_mask) is False


@pytest.mark.parametrize(("wrong", "hint"), [
    (lambda mu, var: kl_bottleneck(mu, var).sum(), "reduced over the tasks"),
    (lambda mu, var: kl_bottleneck(mu, var).mean(), "reduced over the tasks"),
    (lambda mu, var: 0.5 * (var + mu**2 - 1 - torch.log(var)), "Sum over the latent"),
    (lambda mu, var: 0.5 * (var + mu**2 - 1 - torch.log(var)).mean(-1), "averaged over the latent"),
    (lambda mu, var: kl_bottleneck(mu, var**2), "not a standard deviation"),
    (lambda mu, var: 2 * kl_bottleneck(mu, var), "1/2 is missing"),
    (lambda mu, var: 0.5 * (var + mu**2 - 1 + torch.log(var)).sum(-1), "sign of log var"),
])
def test_kl_check_catches_classic_mistakes(wrong, hint):
    with pytest.raises(AssertionError, match=hint):
        checks.check_kl_bottleneck(wrong)
    assert checks.run(checks.check_kl_bottleneck, wrong) is False
    assert checks.check_kl_bottleneck(kl_bottleneck)
