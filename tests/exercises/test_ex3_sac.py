"""Exercises 3.1-3.3 (SAC), on the stubs or on the reference solutions (``--impl``)."""

import torch

from pearl_lite.course import checks


def test_tanh_gaussian_log_prob_check(exercise):
    assert checks.check_tanh_gaussian_log_prob(exercise("ex3_sac", "tanh_gaussian_log_prob"))


def test_tanh_gaussian_log_prob_matches_torch_transformed_distribution(exercise):
    fn = exercise("ex3_sac", "tanh_gaussian_log_prob")
    g = torch.Generator().manual_seed(7)
    mean, log_std = torch.randn(4, 2, generator=g), torch.randn(4, 2, generator=g) * 0.3
    base = torch.distributions.Normal(mean, log_std.exp())
    ref = torch.distributions.TransformedDistribution(
        base, [torch.distributions.transforms.TanhTransform(cache_size=1)])
    a = ref.rsample()  # cached: log_prob(a) uses the pre-tanh sample, no atanh round trip
    u = ref.transforms[0]._cached_x_y[0]
    assert torch.allclose(fn(u, mean, log_std), ref.log_prob(a).sum(-1), atol=1e-4)


def test_soft_q_target_check(exercise):
    assert checks.check_soft_q_target(exercise("ex3_sac", "soft_q_target"))


def test_soft_q_target_hand_example(exercise):
    fn = exercise("ex3_sac", "soft_q_target")
    # r = 1, twins (3, 5) -> min 3, log pi = -2, alpha = 0.5: soft value 3 + 1 = 4;
    # gamma = 0.5 -> 1 + 0.5 * 4 = 3. Terminated -> just r = 1.
    out = fn(torch.tensor([1.0, 1.0, 1.0]), torch.tensor([[3.0, 3.0, 3.0], [5.0, 5.0, 5.0]]),
             torch.tensor([-2.0, -2.0, -2.0]), torch.tensor([0.0, 1.0, 0.0]), 0.5, 0.5)
    assert torch.allclose(out, torch.tensor([3.0, 1.0, 3.0]))


def test_temperature_loss_check(exercise):
    assert checks.check_temperature_loss(exercise("ex3_sac", "temperature_loss"))


def test_temperature_loss_raises_alpha_when_entropy_is_low(exercise):
    fn = exercise("ex3_sac", "temperature_loss")
    log_alpha = torch.zeros((), requires_grad=True)
    # log pi = 1 means entropy about -1, below the target 0: one SGD step must raise alpha.
    fn(log_alpha, torch.ones(8), 0.0).backward()
    assert log_alpha.grad < 0
