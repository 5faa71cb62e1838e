"""Soft actor-critic: targets and losses by hand, the agent's update, and a short learning run."""

import copy
import json

import gymnasium as gym
import numpy as np
import pytest
import torch

from pearl_lite.buffers import ReplayBuffer
from pearl_lite.course import checks
from pearl_lite.nets import polyak_update
from pearl_lite.sac import (
    SAC,
    SACConfig,
    TwinQ,
    bellman_target,
    policy_loss,
    soft_q_target,
    soft_value_target,
    temperature_loss,
    to_env_action,
    train_sac,
)
from pearl_lite.utils import read_csv


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny networks: a second OpenMP thread only adds overhead (and spins on a busy CPU)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)

# ---- targets and losses, against numbers worked out by hand ----------------------------------


def test_soft_q_target_by_hand():
    reward = torch.tensor([1.0, 2.0, -1.0])
    next_q = torch.tensor([[4.0, 1.0, 10.0], [2.0, 3.0, 12.0]])  # min: 2, 1, 10
    next_log_prob = torch.tensor([-1.0, 2.0, 0.0])
    terminated = torch.tensor([0.0, 0.0, 1.0])
    # alpha = 0.5: soft values 2.5, 0.0, 10; gamma = 0.9 -> 1 + 2.25, 2 + 0, -1 (terminal)
    out = soft_q_target(reward, next_q, next_log_prob, terminated, 0.9, 0.5)
    assert torch.allclose(out, torch.tensor([3.25, 2.0, -1.0]))
    # alpha may be a tensor.
    out2 = soft_q_target(reward, next_q, next_log_prob, terminated, 0.9, torch.tensor(0.5))
    assert torch.equal(out, out2)
    with pytest.raises(ValueError, match="next_q must have shape"):
        soft_q_target(reward, next_q[0], next_log_prob, terminated, 0.9, 0.5)


def test_value_network_targets_by_hand():
    assert torch.allclose(bellman_target(torch.tensor([1.0, 1.0]), torch.tensor([5.0, 5.0]),
                                         torch.tensor([0.0, 1.0]), 0.5), torch.tensor([3.5, 1.0]))
    q = torch.tensor([[3.0, -1.0], [2.0, 0.0]])
    assert torch.allclose(soft_value_target(q, torch.tensor([-2.0, 1.0]), 0.1),
                          torch.tensor([2.2, -1.1]))


def test_policy_and_temperature_losses_by_hand():
    q = torch.tensor([[3.0, -1.0], [2.0, 0.0]])  # min 2, -1
    log_prob = torch.tensor([-2.0, 1.0])
    assert policy_loss(log_prob, q, 0.5).item() == pytest.approx(((-1 - 2) + (0.5 + 1)) / 2)
    log_alpha = torch.tensor(np.log(0.5), requires_grad=True)
    loss = temperature_loss(log_alpha, log_prob, target_entropy=-1.0)
    assert loss.item() == pytest.approx(-np.log(0.5) * ((-3.0) + 0.0) / 2)
    loss.backward()
    assert log_alpha.grad.item() == pytest.approx(1.5)  # entropy above target: lower alpha


@pytest.mark.parametrize(("wrong", "hint"), [
    (lambda r, q, lp, term, g, a: bellman_target(r, q.min(0).values - a * lp, 1 - term, g),
     "inverted"),
    (lambda r, q, lp, term, g, a: bellman_target(r, q[0] - a * lp, term, g),
     "minimum of the two"),
    (lambda r, q, lp, term, g, a: bellman_target(r, q.min(0).values, term, g),
     "entropy term is missing"),
    (lambda r, q, lp, term, g, a:
     bellman_target(r, q.min(0).values + a * lp, term, g), "wrong sign"),
    (lambda r, q, lp, term, g, a: r + g * (q.min(0).values - a * lp),
     r"no \(1 - terminated\) mask"),
    (lambda r, q, lp, term, g, a: bellman_target(r, q - a * lp, term, g),
     "minimum over the twin"),
])
def test_soft_q_target_check_catches_classic_mistakes(wrong, hint):
    assert checks.check_soft_q_target(soft_q_target)
    with pytest.raises(AssertionError, match=hint):
        checks.check_soft_q_target(wrong)


@pytest.mark.parametrize(("wrong", "hint"), [
    (lambda la, lp, te: (la * (lp + te).detach()).mean(), "wrong sign"),
    (lambda la, lp, te: -(la * (lp + te)).mean(), "detach"),
    (lambda la, lp, te: -(la.exp() * (lp + te).detach()).mean(), "alpha form"),
    (lambda la, lp, te: -(la * lp.detach()).mean(), "target_entropy is missing"),
    (lambda la, lp, te: -(la * (lp + te).detach()).sum(), "do not sum"),
])
def test_temperature_loss_check_catches_classic_mistakes(wrong, hint):
    assert checks.check_temperature_loss(temperature_loss)
    with pytest.raises(AssertionError, match=hint):
        checks.check_temperature_loss(wrong)


# ---- networks and the agent ------------------------------------------------------------------


def test_twin_q_shapes_and_independent_members():
    torch.manual_seed(0)
    q = TwinQ(obs_dim=4, act_dim=2, hidden_sizes=(16, 16))
    out = q(torch.randn(5, 4), torch.randn(5, 2))
    assert out.shape == (2, 5)
    assert not torch.allclose(out[0], out[1])


def _random_batch(seed, n=64, obs_dim=3, act_dim=1):
    g = torch.Generator().manual_seed(seed)
    return {"obs": torch.randn(n, obs_dim, generator=g),
            "act": torch.rand(n, act_dim, generator=g) * 2 - 1,
            "rew": torch.randn(n, generator=g),
            "next_obs": torch.randn(n, obs_dim, generator=g),
            "terminated": (torch.rand(n, generator=g) < 0.1).float(),
            "truncated": (torch.rand(n, generator=g) < 0.1).float()}


def _params(agent):
    return torch.cat([p.detach().flatten() for m in (agent.actor, agent.critic)
                      for p in m.parameters()])


@pytest.mark.parametrize("use_value_network", [False, True])
def test_same_seed_gives_identical_updates(use_value_network):
    cfg = SACConfig(hidden_sizes=(32, 32), seed=5, device="cpu",
                    use_value_network=use_value_network)
    a, b = SAC(3, 1, cfg), SAC(3, 1, cfg)
    assert torch.equal(_params(a), _params(b))
    torch.manual_seed(0)
    la = [a.update(_random_batch(i)) for i in range(3)]
    torch.manual_seed(0)
    lb = [b.update(_random_batch(i)) for i in range(3)]
    for x, y in zip(la, lb, strict=True):
        assert x.keys() == y.keys()
        assert all(torch.equal(x[k], y[k]) for k in x)
    assert torch.equal(_params(a), _params(b))
    if use_value_network:
        assert "value_loss" in la[0]
    c = SAC(3, 1, SACConfig(hidden_sizes=(32, 32), seed=6, device="cpu"))
    assert not torch.equal(_params(a), _params(c))


def test_update_moves_targets_by_polyak_and_tunes_alpha():
    agent = SAC(3, 1, SACConfig(hidden_sizes=(16, 16), seed=0, device="cpu", tau=0.1))
    target_before = copy.deepcopy(agent.critic_target)
    critic_before = copy.deepcopy(agent.critic)
    alpha_before = agent.alpha.item()
    losses = agent.update(_random_batch(0))
    assert {"critic_loss", "actor_loss", "alpha", "alpha_loss", "entropy"} <= set(losses)
    assert all(v.dim() == 0 and not v.requires_grad for v in losses.values())
    assert agent.alpha.item() != alpha_before
    assert not torch.equal(next(critic_before.parameters()), next(agent.critic.parameters()))
    polyak_update(agent.critic.parameters(), target_before.parameters(), 0.1)
    for p, q in zip(target_before.parameters(), agent.critic_target.parameters(), strict=True):
        assert torch.allclose(p, q)


def test_fixed_ent_coef_is_not_trained():
    agent = SAC(3, 1, SACConfig(hidden_sizes=(16,), ent_coef=0.2, seed=0, device="cpu"))
    agent.update(_random_batch(1))
    assert agent.alpha.item() == pytest.approx(0.2)


def test_state_dict_round_trip():
    cfg = SACConfig(hidden_sizes=(16,), seed=0, device="cpu")
    a = SAC(3, 1, cfg)
    a.update(_random_batch(0))
    b = SAC(3, 1, SACConfig(hidden_sizes=(16,), seed=1, device="cpu"))
    b.load_state_dict(a.state_dict())
    assert torch.equal(_params(a), _params(b)) and b.n_updates == 1
    torch.manual_seed(0)
    la = a.update(_random_batch(2))
    torch.manual_seed(0)
    lb = b.update(_random_batch(2))
    assert torch.equal(la["critic_loss"], lb["critic_loss"])


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"ent_coef": "learned"}, "ent_coef must be 'auto' or a float"),
    ({"target_entropy": "high"}, "target_entropy must be 'auto' or a float"),
    ({"gamma": 1.5}, r"gamma must be in \[0, 1\]"),
    ({"tau": 0.0}, r"tau must be in \(0, 1\]"),
    ({"batch_size": 0}, "batch_size must be positive"),
])
def test_config_rejects_bad_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SACConfig(**kwargs)


def test_to_env_action_maps_the_unit_box():
    low, high = np.array([-2.0, 0.0]), np.array([2.0, 1.0])
    out = to_env_action(np.array([[-1.0, -1.0], [0.0, 0.0], [1.0, 1.0]]), low, high)
    assert np.allclose(out, [[-2.0, 0.0], [0.0, 0.5], [2.0, 1.0]])


def test_train_sac_rejects_discrete_actions():
    with pytest.raises(ValueError, match="continuous"):
        train_sac("CartPole-v1", SACConfig(device="cpu"), 10, progress=False)


# ---- a short, deterministic learning run -----------------------------------------------------


class Bandit(gym.Env):
    """A one-step task: reward -4 (a - 0.5)^2, then the episode terminates. Best action 0.5."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
    action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(1, np.float32), {}

    def step(self, action):
        return np.zeros(1, np.float32), float(-4 * (action[0] - 0.5) ** 2), True, False, {}


@pytest.mark.parametrize("use_value_network", [False, True])
def test_sac_learns_a_bandit_and_logs(tmp_path, use_value_network):
    cfg = SACConfig(hidden_sizes=(32, 32), batch_size=32, lr=3e-3, learning_starts=50, seed=0,
                    device="cpu", use_value_network=use_value_network)
    buffer = ReplayBuffer(1, 1, 1000, seed=0)
    agent, log = train_sac(Bandit(), cfg, 300, eval_every=150, eval_episodes=3,
                           out_dir=tmp_path, progress=False, buffer=buffer)
    best = agent.act(np.zeros(1, np.float32), deterministic=True)
    assert abs(best.item() - 0.5) < 0.15
    assert len(buffer) == 300 and agent.n_updates == 250
    ep = log.arrays()
    assert len(ep["episode_return"]) == 300
    assert ep["episode_return"][-50:].mean() > ep["episode_return"][:50].mean()
    evals = read_csv(tmp_path / "eval.csv")
    assert evals["step"].tolist() == [150.0, 300.0] and evals["eval_return"][-1] > -0.1
    assert json.loads((tmp_path / "config.json").read_text())["total_steps"] == 300
    assert len(read_csv(tmp_path / "progress.csv")["episode_return"]) == 300


class ShiftedBandit(Bandit):
    """The bandit with its reward moved by -100: tells which environment an evaluation used."""

    def step(self, action):
        obs, reward, terminated, truncated, info = super().step(action)
        return obs, reward - 100.0, terminated, truncated, info


def test_train_sac_evaluates_on_the_given_eval_env(tmp_path):
    # An environment that cannot be deep-copied (the kit's MuJoCo tasks) is evaluated on a
    # second instance passed as eval_env; training returns stay the training env's.
    cfg = SACConfig(hidden_sizes=(16,), batch_size=16, learning_starts=20, seed=0, device="cpu")
    _, log = train_sac(Bandit(), cfg, 40, eval_every=20, eval_episodes=2, out_dir=tmp_path,
                       progress=False, eval_env=ShiftedBandit())
    assert (log.arrays()["episode_return"] >= -9).all()  # the bandit: -4 (a - 0.5)^2 >= -9
    assert (read_csv(tmp_path / "eval.csv")["eval_return"] < -99).all()


def test_train_sac_is_deterministic():
    cfg = SACConfig(hidden_sizes=(16,), batch_size=16, learning_starts=20, seed=3, device="cpu")
    runs = [train_sac(Bandit(), cfg, 60, progress=False)[1].arrays() for _ in range(2)]
    assert np.array_equal(runs[0]["episode_return"], runs[1]["episode_return"])
    assert np.array_equal(runs[0]["critic_loss"], runs[1]["critic_loss"], equal_nan=True)


# ---- the benchmark script against Stable-Baselines3 still runs -------------------------------


@pytest.mark.slow
def test_sac_vs_sb3_benchmark_runs(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    pytest.importorskip("stable_baselines3")
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "sac_vs_sb3.py"
    out = tmp_path / "bench"
    common = [sys.executable, str(script), "--out", str(out), "--seeds", "0"]
    subprocess.run([*common, "--steps", "200", "--eval-every", "100", "--eval-episodes", "1",
                    "--update-steps", "3"], check=True, capture_output=True)
    result = json.loads(out.with_suffix(".json").read_text())
    assert {r["impl"] for r in result["runs"]} == {"pearl_lite", "sb3"}
    assert all(r["steps"] == [100, 200] for r in result["runs"])
    subprocess.run([*common, "--updates-only", "--rounds", "2", "--block", "2",
                    "--fill-steps", "300"], check=True, capture_output=True)
    upd = json.loads((tmp_path / "bench_updates.json").read_text())
    assert len(upd["updates_per_s"]["sb3"]) == 2
    # SB3 with the exact tanh correction, then the pooled summary of both result files
    exact = tmp_path / "exact"
    subprocess.run([sys.executable, str(script), "--out", str(exact), "--seeds", "1",
                    "--impls", "sb3_exact", "--steps", "200", "--eval-every", "100",
                    "--eval-episodes", "1", "--update-steps", "3"], check=True,
                   capture_output=True)
    merged = subprocess.run([sys.executable, str(script), "--merge", str(out.with_suffix(".json")),
                             str(exact.with_suffix(".json"))], check=True, capture_output=True,
                            text=True).stdout
    assert "| sb3_exact | 1 (1–1) |" in merged and "| pearl_lite | 1 (0–0) |" in merged
