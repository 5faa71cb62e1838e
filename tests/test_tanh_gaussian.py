"""The tanh-squashed Gaussian policy distribution and the Ex 3.1 check's hints."""

import math

import pytest
import torch
import torch.nn.functional as F

from pearl_lite.course import checks
from pearl_lite.distributions import TanhGaussian, tanh_gaussian_log_prob
from pearl_lite.sac import LOG_STD_MAX, LOG_STD_MIN, TanhGaussianPolicy


def _torch_reference(mean, log_std):
    base = torch.distributions.Normal(mean, log_std.exp())
    return torch.distributions.TransformedDistribution(
        base, [torch.distributions.transforms.TanhTransform(cache_size=1)])


def test_rsample_log_prob_matches_transformed_distribution():
    torch.manual_seed(0)
    mean, log_std = torch.randn(64, 3), torch.randn(64, 3) * 0.5
    dist = TanhGaussian(mean, log_std)
    torch.manual_seed(1)
    action, log_prob = dist.rsample()
    torch.manual_seed(1)
    ref = _torch_reference(mean, log_std)
    ref_action = ref.rsample()
    assert torch.allclose(action, ref_action)
    assert log_prob.shape == (64,)
    assert torch.allclose(log_prob, ref.log_prob(ref_action).sum(-1), atol=1e-4)


def test_log_prob_of_action_matches_rsample():
    torch.manual_seed(2)
    dist = TanhGaussian(torch.randn(16, 2) * 0.5, torch.full((16, 2), -0.5))
    action, log_prob = dist.rsample()
    assert torch.allclose(dist.log_prob(action), log_prob, atol=1e-3)
    with pytest.raises(ValueError, match="strictly inside"):
        dist.log_prob(torch.ones(16, 2))


def test_log_prob_integrates_to_one_in_1d():
    mean, log_std = torch.tensor([[0.7]]), torch.tensor([[-0.2]])
    a = torch.linspace(-0.999999, 0.999999, 200_001, dtype=torch.float64)
    u = torch.atanh(a)[:, None]
    density = tanh_gaussian_log_prob(u, mean.double(), log_std.double()).exp()
    assert abs(torch.trapezoid(density, a).item() - 1.0) < 1e-3


def test_saturated_actions_stay_finite_in_float32():
    u = torch.tensor([[20.0, -20.0, 40.0]])
    lp = tanh_gaussian_log_prob(u, u - 0.5, torch.zeros(1, 3))
    exact = 3 * (-0.5 * 0.25 - 0.5 * math.log(2 * math.pi)) - sum(
        2 * (math.log(2) - abs(x) - math.log1p(math.exp(-2 * abs(x)))) for x in (20.0, 20.0, 40.0))
    assert torch.isfinite(lp).all()
    assert lp.item() == pytest.approx(exact, rel=1e-5)


def test_rsample_gradients_flow():
    mean = torch.zeros(4, 2, requires_grad=True)
    log_std = torch.zeros(4, 2, requires_grad=True)
    action, log_prob = TanhGaussian(mean, log_std).rsample()
    (action.sum() + log_prob.sum()).backward()
    assert mean.grad is not None and log_std.grad is not None
    assert torch.isfinite(mean.grad).all() and torch.isfinite(log_std.grad).all()


def test_policy_clamps_log_std_and_outputs_bounded_actions():
    torch.manual_seed(3)
    policy = TanhGaussianPolicy(5, 2, (16, 16))
    with torch.no_grad():
        policy.net.net[-1].bias.copy_(torch.tensor([0.0, 0.0, 50.0, -50.0]))
    dist = policy(torch.randn(7, 5))
    assert dist.log_std.max() <= LOG_STD_MAX and dist.log_std.min() >= LOG_STD_MIN
    action, log_prob = dist.rsample()
    assert action.shape == (7, 2) and log_prob.shape == (7,)
    assert action.abs().max() <= 1.0


def test_policy_conditions_on_z_by_concatenation():
    policy = TanhGaussianPolicy(3 + 4, 1)
    obs, z = torch.randn(6, 3), torch.randn(6, 4)
    assert policy(torch.cat([obs, z], -1)).mean.shape == (6, 1)


def _normal_part(u, mean, log_std):
    return torch.distributions.Normal(mean, log_std.exp()).log_prob(u)


@pytest.mark.parametrize(("wrong", "hint"), [
    (lambda u, m, s: _normal_part(u, m, s).sum(-1), "correction is missing"),
    (lambda u, m, s: (_normal_part(u, m, s) - torch.log(1 - torch.tanh(u) ** 2)).sum(-1),
     "not finite at saturated"),
    (lambda u, m, s: (_normal_part(u, m, s) - torch.log(1 - torch.tanh(u) ** 2 + 1e-6)).sum(-1),
     "epsilon"),
    (lambda u, m, s: (_normal_part(u, m, s) - torch.log(1 - torch.tanh(u) ** 2)).sum(0),
     "summed over the batch"),
    (lambda u, m, s: (_normal_part(u, m, s) - torch.log(1 - torch.tanh(u) ** 2)),
     "over the action"),
    (lambda u, m, s: (_normal_part(u, m, s)
                      + 2 * (math.log(2) - u - F.softplus(-2 * u))).sum(-1), "wrong sign"),
])
def test_check_catches_classic_mistakes(wrong, hint):
    assert checks.check_tanh_gaussian_log_prob(tanh_gaussian_log_prob)
    with pytest.raises(AssertionError, match=hint):
        checks.check_tanh_gaussian_log_prob(wrong)
    assert checks.run(checks.check_tanh_gaussian_log_prob, wrong) is False
