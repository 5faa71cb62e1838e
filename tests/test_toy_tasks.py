"""pearl_lite.course.toy_tasks: goal-velocity toy tasks, exact posterior, training, cache."""

import math

import pytest
import torch

from pearl_lite.course.toy_tasks import (
    MASS_IN_2SIGMA_2D,
    GoalTasks,
    ToyConfig,
    build_cache,
    elbo_terms,
    exact_metrics_by_size,
    exact_posterior,
    load_cache,
    make_eval_set,
    metrics_by_size,
    model_name,
    order_sensitivity,
    posterior_for_size,
    train_toy_encoder,
)
from pearl_lite.encoder import ContextEncoder

TASKS = GoalTasks()


@pytest.fixture(autouse=True)
def one_thread():
    """Small networks train faster on one thread, above all on a shared, busy CPU."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def test_rewards_are_progress_along_the_goal_plus_noise():
    g = torch.Generator().manual_seed(0)
    goals = TASKS.sample_goals(3, g)
    ctx = TASKS.sample_context(goals, 20000, g)
    assert ctx.shape == (3, 20000, 5)
    noise = ctx[..., -1] - TASKS.decode(ctx, goals)
    assert abs(noise.std().item() - TASKS.reward_noise) < 0.01
    assert abs(noise.mean().item()) < 0.01
    assert TASKS.decode(ctx[:, :7], torch.zeros(3, 4, 2)).shape == (3, 4, 7)


def test_exact_posterior_matches_a_brute_force_grid():
    g = torch.Generator().manual_seed(1)
    ctx = TASKS.sample_context(torch.tensor([[0.7, -0.4]]), 3, g).double()
    mu, cov = exact_posterior(TASKS, ctx)
    grid = torch.linspace(-4, 4, 801, dtype=torch.float64)
    Z = torch.stack(torch.meshgrid(grid, grid, indexing="ij"), -1).view(-1, 2)  # (G, 2)
    act, rew = ctx[0, :, 2:4], ctx[0, :, -1]
    log_p = -0.5 * (Z**2).sum(-1) - ((rew - Z @ act.T) ** 2).sum(-1) / (2 * TASKS.reward_noise**2)
    p = torch.softmax(log_p, 0)
    mean = p @ Z
    cov_grid = (p[:, None] * (Z - mean)).T @ (Z - mean)
    assert torch.allclose(mu[0], mean, atol=1e-4)
    assert torch.allclose(cov[0], cov_grid, atol=1e-4)
    mu0, cov0 = exact_posterior(TASKS, ctx[:, :0])
    assert torch.equal(mu0, torch.zeros(1, 2, dtype=mu0.dtype))
    assert torch.allclose(cov0, torch.eye(2, dtype=cov0.dtype))


def test_exact_posterior_is_calibrated():
    ev = make_eval_set(TASKS, n_tasks=2000, n_context=8)
    m = exact_metrics_by_size(ev, [0, 2, 8], TASKS)
    assert all(abs(c - MASS_IN_2SIGMA_2D) < 0.03 for c in m["coverage"]), m["coverage"]
    assert m["error"][0] > m["error"][1] > m["error"][2]


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="kind must be one of"):
        ToyConfig(kind="lstm")
    with pytest.raises(ValueError, match="beta must be non-negative"):
        ToyConfig(beta=-1.0)
    with pytest.raises(ValueError, match="kind must be one of"):
        model_name("lstm", 1.0)


def test_elbo_terms_mask_and_shapes():
    torch.manual_seed(0)
    enc = ContextEncoder(5, 2, (16,), "product")
    ctx = TASKS.sample_context(torch.zeros(4, 2), 6, torch.Generator().manual_seed(2))
    mask = torch.arange(6) < torch.tensor([[0], [1], [3], [6]])
    recon, kl = elbo_terms(enc, TASKS, ctx, mask)
    assert recon.shape == kl.shape == (4,)
    assert recon[0] == 0 and kl[0] == 0  # an empty context: the prior, nothing to reconstruct
    assert (recon[1:] > 0).all()


def test_training_learns_to_infer_the_task():
    torch.manual_seed(0)
    cfg = ToyConfig(hidden_sizes=(32, 32), gradient_steps=200, meta_batch=16, max_context=16)
    enc, hist = train_toy_encoder(cfg, log_every=50)
    assert hist["step"][-1] == 200 and len(hist["loss"]) == 4
    assert hist["loss"][-1] < hist["loss"][0]
    ev = make_eval_set(cfg.tasks, n_tasks=100, n_context=16)
    m = metrics_by_size(enc, ev, [0, 16], cfg.tasks)
    assert m["error"][1] < 0.75 * m["error"][0]  # the context tells it about the task
    assert m["std"][1] < m["std"][0]
    assert m["order_sensitivity"][1] < 1e-5  # the product ignores the order


def test_order_sensitivity_of_the_recurrent_encoder():
    torch.manual_seed(0)
    enc = ContextEncoder(5, 2, (16, 16), "recurrent")
    ev = make_eval_set(TASKS, n_tasks=10, n_context=6)
    assert order_sensitivity(enc, ev, 6) > 1e-4
    mu, var = posterior_for_size(enc, ev, 0)
    assert torch.equal(mu, torch.zeros(10, 2)) and torch.equal(var, torch.ones(10, 2))
    with pytest.raises(ValueError, match="order must be"):
        posterior_for_size(enc, ev, 3, "reversed")
    with pytest.raises(ValueError, match="n must be in 0..6"):
        posterior_for_size(enc, ev, 7)


def test_cache_round_trip(tmp_path):
    cfgs = {model_name(k, 1.0): ToyConfig(kind=k, hidden_sizes=(8, 8), gradient_steps=3)
            for k in ("product", "mean", "recurrent")}
    build_cache(cfgs, tmp_path / "c.pt", verbose=False)
    models = load_cache(tmp_path / "c.pt")
    assert set(models) == {"product/beta=1", "mean", "recurrent/beta=1"}
    ctx = TASKS.sample_context(torch.zeros(2, 2), 4, torch.Generator().manual_seed(3))
    for name, cfg in cfgs.items():
        enc, loaded_cfg, hist = models[name]
        assert loaded_cfg == cfg and hist["step"][-1] == 3 and math.isfinite(hist["loss"][-1])
        torch.manual_seed(cfg.seed)
        mu, _ = enc(ctx)
        assert torch.isfinite(mu).all()


def test_shipped_cache_matches_its_recorded_command():
    """data/encoder_toy_cache.pt was made by `python scripts/train_encoder_cache.py` (defaults)."""
    from pathlib import Path

    from pearl_lite.course.toy_tasks import cache_configs

    path = Path(__file__).resolve().parents[1] / "data" / "encoder_toy_cache.pt"
    models = load_cache(path)
    expected = cache_configs()
    assert list(models) == list(expected)
    for name, (_, cfg, hist) in models.items():
        assert cfg == expected[name]
        assert hist["step"][-1] == cfg.gradient_steps
