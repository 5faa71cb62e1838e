"""pearl_lite.course.pearl_measures: the point robots' optimum, the KL split, sample distances
and the context mismatch of notebook 4, on small inputs and a smoke-trained agent."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pearl_lite.config import get_config
from pearl_lite.course import pearl_measures as pm
from pearl_lite.distributions import gaussian_kl
from pearl_lite.envs import make_env, make_vector_env
from pearl_lite.pearl import MetaTrainer, PEARLAgent


def test_optimal_return_by_hand():
    venv = make_vector_env("point-robot", [0, 1])
    goals = venv.goals
    starts = goals + np.array([[-0.35, 0.0], [0.25, -0.15]])
    ret = pm.optimal_returns(venv, starts=starts)
    # task 0: distances 0.25, 0.15, 0.05, then 0; task 1: per-coordinate steps of 0.1
    d1 = [np.hypot(0.15, 0.05), 0.05, 0.0]
    np.testing.assert_allclose(ret, [-0.45, -sum(d1)], atol=1e-6)


@pytest.mark.parametrize("name", ["point-robot", "sparse-point-robot"])
def test_optimal_return_beats_every_other_action_sequence(name):
    rng = np.random.default_rng(0)
    env = make_env(name, seed=0)
    tasks = env.test_task_idx[:5]
    venv = make_vector_env(name, tasks)
    starts = venv.reset(seed=3).astype(np.float64)
    best = pm.optimal_returns(venv, starts=starts)
    # Against noisy versions of the greedy policy and random policies, in the single env.
    for row, task in enumerate(tasks):
        env.reset_task(task)
        for trial in range(20):
            env.reset(options={"state": starts[row]})
            total = 0.0
            for _ in range(env.horizon):
                greedy = np.clip(env.goal - env.state, -0.1, 0.1)
                noise = rng.normal(scale=0.05 if trial < 10 else 1.0, size=2)
                action = np.clip(greedy + noise, -0.1, 0.1).astype(np.float32)
                total += env.step(action)[1]
            assert total <= best[row] + 1e-6
    # The greedy rollout in the single env gives the same number.
    env.reset_task(tasks[0])
    env.reset(options={"state": starts[0]})
    total = sum(env.step(np.clip(env.goal - env.state, -0.1, 0.1).astype(np.float32))[1]
                for _ in range(env.horizon))
    assert total == pytest.approx(best[0], abs=1e-5)


def test_optimal_return_on_the_sparse_semicircle():
    venv = make_vector_env("sparse-point-robot", list(range(10)))
    ret = pm.optimal_returns(venv)  # starts at the origin
    # The goal (distance 1) is entered within 10 steps and held; each step inside earns
    # 1 - distance <= 1, so the return lies between 10 and 20 steps' worth.
    assert np.all(ret > 10) and np.all(ret < 20)


def test_optimal_return_checks_its_inputs():
    venv = make_vector_env("point-robot", [0, 1])
    with pytest.raises(ValueError, match="starts"):
        pm.optimal_returns(venv, starts=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="point-robot"):
        pm.optimal_returns(object())


def test_kl_parts_sum_to_the_gaussian_kl():
    rng = np.random.default_rng(0)
    mu, var = rng.normal(size=(4, 5)), rng.uniform(0.01, 3.0, size=(4, 5))
    parts = pm.kl_parts(mu, var)
    expected = gaussian_kl(torch.as_tensor(mu), torch.as_tensor(var)).numpy()
    np.testing.assert_allclose(parts["kl"].sum(-1), expected, rtol=1e-10)
    np.testing.assert_allclose(parts["kl"], parts["mean_part"] + parts["var_part"])
    assert np.all(parts["var_part"] >= 0)
    zero = pm.kl_parts(np.zeros(3), np.ones(3))
    assert np.all(zero["kl"] == 0)
    with pytest.raises(ValueError):
        pm.kl_parts(np.zeros(3), np.ones(2))
    with pytest.raises(ValueError, match="positive"):
        pm.kl_parts(np.zeros(2), np.array([1.0, 0.0]))


def test_wasserstein_1d():
    assert pm.wasserstein_1d([0.0], [2.5]) == pytest.approx(2.5)
    x = np.random.default_rng(0).normal(size=50)
    assert pm.wasserstein_1d(x, x) == 0.0
    assert pm.wasserstein_1d(x, x + 0.3) == pytest.approx(0.3)
    assert pm.wasserstein_1d([0, 1], [0, 0, 1, 1]) == pytest.approx(0.0)  # same distribution
    assert pm.wasserstein_1d([0, 0, 0, 1], [0, 1]) == pytest.approx(0.25)
    stats = pytest.importorskip("scipy.stats")
    y = np.random.default_rng(1).exponential(size=37)
    assert pm.wasserstein_1d(x, y) == pytest.approx(stats.wasserstein_distance(x, y))
    with pytest.raises(ValueError):
        pm.wasserstein_1d([], [1.0])


def test_energy_distance():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 3)), rng.normal(loc=1.0, size=(30, 3))
    assert pm.energy_distance(x, x) == pytest.approx(0.0, abs=1e-12)
    d = pm.energy_distance(x, y)
    assert d > 0 and d == pytest.approx(pm.energy_distance(y, x))
    assert pm.energy_distance(x, y) > pm.energy_distance(x, x + 0.1)
    stats = pytest.importorskip("scipy.stats")
    a, b = rng.normal(size=25), rng.normal(size=20) + 0.5
    # scipy reports the square root of the same statistic (in 1-D)
    assert pm.energy_distance(a, b) == pytest.approx(stats.energy_distance(a, b) ** 2)
    with pytest.raises(ValueError):
        pm.energy_distance(x, y[:, :2])


@pytest.fixture(scope="module")
def smoke_trainer():
    torch.set_num_threads(1)
    trainer = MetaTrainer(get_config("point-robot", "smoke"), seed=0)
    for _ in trainer.iterations():
        pass
    return trainer


def test_context_mismatch_on_a_smoke_trainer(smoke_trainer):
    tr = smoke_trainer
    rng_state = tr.rng.bit_generator.state
    enc_rng = tr.enc_buffer.rng.bit_generator.state
    weights = {k: v.clone() for k, v in tr.agent.state_dict().items()}
    m = pm.context_mismatch(tr, n_runs=2, seed=0)
    assert tr.rng.bit_generator.state == rng_state  # the trainer's streams are left alone
    assert tr.enc_buffer.rng.bit_generator.state == enc_rng
    assert all(torch.equal(v, tr.agent.state_dict()[k]) for k, v in weights.items())
    n_train = len(tr.train_tasks)
    assert len(m.references) == 2 and m.tasks.shape == (n_train,)
    n_trajs = int(np.ceil(tr.cfg.num_steps_per_eval / tr.cfg.max_path_length))
    ref_all, ref_prior = m.references
    assert m.sizes[ref_all] == n_trajs * tr.cfg.max_path_length
    assert m.sizes[ref_prior] == tr.cfg.num_exp_traj_eval * tr.cfg.max_path_length
    for table in (m.w1, m.energy):
        for ref in m.references:
            assert set(table[ref]) == set(pm.MISMATCH_SOURCES)
            for d in table[ref].values():
                assert d.shape == (n_train, 2) and np.all(np.isfinite(d)) and np.all(d >= 0)
    summary = m.summary("energy")
    assert set(summary) == set(m.references)
    assert 0.0 <= m.closer_fraction(ref_all) <= 1.0
    again = pm.context_mismatch(tr, n_runs=2, seed=0)  # reproducible
    np.testing.assert_allclose(again.w1[ref_all][pm.MISMATCH_SOURCES[0]],
                               m.w1[ref_all][pm.MISMATCH_SOURCES[0]])
    one_task = pm.context_mismatch(tr, n_runs=1, tasks=[0])
    assert one_task.w1[ref_all][pm.MISMATCH_SOURCES[1]].shape == (1, 1)


def test_context_mismatch_refuses_buffers_with_different_rewards():
    tr = MetaTrainer(get_config("sparse-point-robot", "smoke"), seed=0)
    with pytest.raises(ValueError, match="dense reward"):
        pm.context_mismatch(tr)


def test_training_context_beliefs_match_the_logged_quantities():
    cfg = get_config("sparse-point-robot", "smoke")
    env = make_env(cfg.env, n_tasks=cfg.n_tasks, seed=0)
    agent = PEARLAgent(env.observation_space.shape[0], env.action_space.shape[0], cfg)
    out = pm.training_context_beliefs(agent, cfg, seed=0, n_batches=2)
    n = 2 * len(env.train_task_idx)
    assert out["mu"].shape == (n, cfg.latent_dim) == out["var"].shape
    assert out["reward_fraction"].shape == (n,)
    assert np.all((out["reward_fraction"] >= 0) & (out["reward_fraction"] <= 1))
    assert np.all(out["var"] > 0)


def test_training_context_beliefs_of_the_untrained_agent_is_the_runs_start():
    cfg = get_config("sparse-point-robot", "smoke")
    start = pm.training_context_beliefs(None, cfg, seed=0)
    same = pm.training_context_beliefs(MetaTrainer(cfg, seed=0).agent, cfg, seed=0)
    np.testing.assert_allclose(start["var"], same["var"])
