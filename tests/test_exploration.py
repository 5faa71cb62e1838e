"""Notebook 6's measurements (pearl_lite.course.exploration) on hand-made data and tiny agents."""

import json

import numpy as np
import pytest
import torch

from pearl_lite.config import get_config
from pearl_lite.course import exploration as ex
from pearl_lite.envs.point_robot import GOAL_RADIUS
from pearl_lite.pearl import PEARLAgent, posterior_sampling
from pearl_lite.runtime.checkpoint import CLIError


def _agent(seed: int = 0, **overrides) -> PEARLAgent:
    torch.manual_seed(seed)
    cfg = get_config("sparse-point-robot", "smoke", **overrides)
    return PEARLAgent(2, 2, cfg).eval()


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


GOALS = ex.semicircle_goals(np.radians([10.0, 90.0, 170.0]))


# --------------------------------------------------------------------------- custom-goal task
def test_goal_at_and_the_custom_goal_task():
    assert ex.goal_at(90.0) == pytest.approx([0.0, 1.0], abs=1e-12)
    assert ex.goal_at(0.0, 1.5) == pytest.approx([1.5, 0.0])
    goal = ex.goal_at(-60.0)  # below the semicircle: no task of the family has it
    venv = ex.make_goal_venv(np.stack([goal, ex.goal_at(60.0, 1.5)]))
    assert np.allclose(venv.goals[0], goal) and venv.num_envs == 2
    obs = venv.reset()
    assert np.allclose(obs, 0.0)  # starts at the origin, as sparse-point-robot does
    hits = []
    for _ in range(20):  # walk straight towards goal 0; goal 1 is never approached
        step = np.clip(goal - venv._state[0], -0.1, 0.1)
        obs, rew, term, trunc, info = venv.step(np.stack([step, np.zeros(2)]))
        hits.append(info["success"].copy())
        assert rew[1] == 0.0 and not term.any()
    hits = np.array(hits)
    assert hits[:, 0].any() and not hits[:, 1].any()
    assert trunc.all()  # horizon 20, as the task family
    # Sparse reward in the official form: 1 - distance inside the radius.
    d = np.linalg.norm(obs[0] - goal)
    assert d <= GOAL_RADIUS and rew[0] == pytest.approx(1 - d, abs=1e-6)
    venv.reset_tasks([0, 0])  # keeps the given goals
    assert np.allclose(venv.goals[0], goal)
    with pytest.raises(ValueError, match="keeps its goals"):
        venv.reset_tasks([0, 0, 0])
    with pytest.raises(ValueError, match="shape"):
        ex.make_goal_venv(np.zeros(2))


# --------------------------------------------------------------------------- the measures
def test_success_within_k_on_hand_made_paths():
    reached = np.array([[0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]], bool)
    within = ex.success_within_k(reached)
    assert within.astype(int).tolist() == [[0, 1, 1, 1], [0, 0, 0, 1], [0, 0, 0, 0]]
    assert within.mean(0).tolist() == pytest.approx([0, 1 / 3, 1 / 3, 2 / 3])
    with pytest.raises(ValueError):
        ex.success_within_k(np.zeros((2, 0)))


def test_coverage_on_hand_made_paths():
    angles = ex.SEMICIRCLE_ANGLES
    # Standing at the origin covers nothing; one point on the circle at 90° covers the goals
    # within 0.2 of it (chord 2 sin(d/2) <= 0.2).
    assert ex.coverage(np.zeros((5, 2))) == 0.0
    expected = np.mean(2 * np.sin(np.abs(angles - np.pi / 2) / 2) <= 0.2)
    assert ex.coverage(np.array([[0.0, 1.0]])) == pytest.approx(expected)
    assert 0.1 < expected < 0.15  # about 13 of the 100 goals
    # A sweep along the whole semicircle covers all of it; half of it about half.
    sweep = ex.semicircle_goals(np.linspace(0, np.pi, 40))
    assert ex.coverage(sweep) == 1.0
    half = ex.coverage(sweep[:20])
    assert 0.5 < half < 0.65
    # Batched: (runs, T, 2) -> (runs,)
    both = ex.coverage(np.stack([np.zeros((40, 2)), sweep]))
    assert both.tolist() == [0.0, 1.0]
    # The scripted optimum's straight path covers the goals near its own goal only.
    pos = ex.scripted_positions(GOALS)
    assert np.linalg.norm(pos[:, -1] - GOALS, axis=-1).max() < 1e-9
    assert (ex.coverage(pos) < 0.2).all()


def test_near_visited_and_angles():
    ends = np.array([[0.0, 1.0], [1.0, 0.0], [0.05, 1.0], [-1.0, 0.0]])
    visited = np.array([[0.0, 0.95], [0.0, 0.5]])
    assert ex.near_visited(ends, visited) == pytest.approx(0.5)
    assert ex.near_visited(np.stack([ends, ends + 5]), visited).tolist() == [0.5, 0.0]
    assert ex.endpoint_angles(ends).tolist() == pytest.approx([90.0, 0.0, 87.1376, 180.0],
                                                              abs=1e-3)


def test_pca_2d():
    rng = np.random.default_rng(0)
    plane = rng.normal(size=(50, 2)) * [3.0, 1.0]
    x = np.c_[plane, np.zeros(50)] @ np.linalg.qr(rng.normal(size=(3, 3)))[0]
    proj, expl = ex.pca_2d(x)
    assert proj.shape == (50, 2) and expl.sum() == pytest.approx(1.0)
    assert expl[0] > expl[1]
    with pytest.raises(ValueError):
        ex.pca_2d(np.zeros(3))


# --------------------------------------------------------------------------- the strategies
def test_dithering_redraws_z_every_step_and_posterior_holds_it():
    agent = _agent()
    K = 3
    dith = ex.explore(agent, GOALS, "dithering", n_trajs=K, k_prior=1, seed=0)
    post = ex.explore(agent, GOALS, "posterior", n_trajs=K, k_prior=1, seed=0)
    for run in (dith, post):
        assert run.z.shape == (3, K, 20, agent.latent_dim)
        assert run.positions.shape == (3, K, 21, 2) and run.reached.shape == (3, K)
    # Posterior sampling: one z per trajectory, held for all 20 steps ...
    assert np.array_equal(post.z, np.repeat(post.z[:, :, :1], 20, axis=2))
    # ... a new one for each trajectory.
    assert not np.allclose(post.z[:, 0, 0], post.z[:, 1, 0])
    # Dithering: every step has its own z (no two steps share one).
    steps = dith.z.reshape(3 * K, 20, -1)
    diffs = np.abs(steps[:, 1:] - steps[:, :-1]).max(-1)
    assert (diffs > 1e-6).all()
    # The first trajectory's belief is the prior for both; later ones a posterior.
    assert np.allclose(dith.mu[:, 0], 0) and np.allclose(dith.var[:, 0], 1)
    assert not np.allclose(dith.var[:, 1], 1)


def test_the_z_recorded_per_step_is_the_z_that_acted():
    agent = _agent(1)
    venv = ex.make_goal_venv(GOALS)
    mu, var = agent.prior(3)
    paths, z = ex.dithering_rollout(agent, venv, mu, var, 20, torch.Generator().manual_seed(0))
    obs_z = torch.cat([torch.as_tensor(paths.obs), torch.as_tensor(z, dtype=torch.float32)], -1)
    with torch.no_grad():
        act = agent.policy(obs_z).mode.numpy()
    assert np.allclose(act, paths.act, atol=1e-6)
    # ... and the positions follow from those actions (the env's dynamics).
    assert np.allclose(paths.next_obs, paths.obs + 0.1 * paths.act, atol=1e-6)


def test_posterior_strategy_is_the_librarys_posterior_sampling():
    agent = _agent(2)
    run = ex.explore(agent, GOALS, "posterior", n_trajs=4, k_prior=2, seed=5)
    paths, mus, variances = posterior_sampling(agent, ex.make_goal_venv(GOALS), 4, 2, 20,
                                               torch.Generator().manual_seed(5))
    assert np.array_equal(run.positions[:, :, 1:], np.stack([p.next_obs for p in paths], 1))
    assert np.allclose(run.var, np.stack([v.numpy() for v in variances], 1))
    assert np.allclose(run.var[:, :2], 1.0)  # k_prior = 2: the first two from the prior


def test_prior_only_never_infers_and_oracle_and_scripted():
    agent = _agent(3)
    prior = ex.explore(agent, GOALS, "prior", n_trajs=4, seed=0)
    assert np.allclose(prior.mu, 0) and np.allclose(prior.var, 1)
    oracle = ex.explore(agent, GOALS, "oracle", n_trajs=2, seed=0)
    mu, var = ex.oracle_belief(agent, GOALS)
    assert np.allclose(oracle.mu[:, 0], mu.numpy()) and (var.numpy() < 1).any()
    scripted = ex.explore(None, GOALS, "scripted", n_trajs=3)
    assert scripted.reached.all() and np.isnan(scripted.z).all()
    s = ex.strategy_summary(scripted, 1)
    assert s["within_at"][1] == 1.0 and s["last"] == 1.0 and s["first_k"] == 1.0
    # Straight to the goal (about 1 away at up to 0.14 a step), then waiting there.
    assert 1.0 <= s["path_length"] <= 1.2 and 0.4 < s["idle"] < 0.7
    with pytest.raises(ValueError, match="strategy must be one of"):
        ex.explore(agent, GOALS, "epsilon-greedy")
    with pytest.raises(ValueError, match="needs an agent"):
        ex.explore(None, GOALS, "posterior")


def test_strategy_summary_over_runs():
    agent = _agent(4)
    run = ex.explore(agent, np.tile(GOALS, (2, 1)), "prior", n_trajs=5, seed=0)
    s = ex.strategy_summary(run, n_runs=2)
    assert s["within"].shape == (5,) and (np.diff(s["within"]) >= 0).all()
    assert 0 <= s["coverage"] <= 1 and s["coverage_std"] >= 0
    with pytest.raises(ValueError, match="runs"):
        ex.strategy_summary(run, n_runs=4)


# --------------------------------------------------------------------------- beliefs, hypotheses
@pytest.mark.parametrize("bottleneck", [True, False])
def test_beliefs_by_size_equal_the_encoder_on_each_prefix(bottleneck):
    agent = _agent(5, use_information_bottleneck=bottleneck)
    run = ex.explore(agent, GOALS[:1], "posterior", n_trajs=2, seed=0)
    ctx = run.context(agent, 0)
    assert ctx.shape == (40, agent.encoder.context_dim)
    mu, var = ex.beliefs_by_size(agent, ctx)
    assert mu.shape == (41, agent.latent_dim)
    for n in (1, 7, 40):
        m, v = agent.infer_posterior(ctx[None, :n])
        assert np.allclose(mu[n], m[0].numpy(), atol=1e-5)
        assert np.allclose(var[n], v[0].numpy(), atol=1e-5, rtol=1e-4)
    p_mu, p_var = agent.prior(1)
    assert np.allclose(mu[0], p_mu.numpy()) and np.allclose(var[0], p_var.numpy())
    # beliefs_after agrees (masked batch of prefixes).
    a_mu, a_var = ex.beliefs_after(agent, run, np.array([1]))
    assert np.allclose(a_mu[0], mu[20], atol=1e-5)


def test_hypothesis_endpoints():
    agent = _agent(6)
    eps = torch.randn(16, agent.latent_dim, generator=torch.Generator().manual_seed(0))
    mu, var = torch.zeros(2, agent.latent_dim), torch.ones(2, agent.latent_dim)
    var[1] = 0.0
    ends = ex.hypothesis_endpoints(agent, mu, var, eps)
    assert ends.shape == (2, 16, 2)
    assert np.allclose(ends[1], ends[1, :1])  # zero variance: one hypothesis, 16 times
    assert not np.allclose(ends[0], ends[0, :1])
    assert np.array_equal(ends, ex.hypothesis_endpoints(agent, mu, var, eps))  # deterministic
    assert (np.abs(ends) <= 20 * 0.1 * np.sqrt(2) + 1e-6).all()  # 20 steps of at most 0.1
    with pytest.raises(ValueError):
        ex.hypothesis_endpoints(agent, mu, var, eps[:, :2])


def test_zero_reward_test_and_belief_measurements_run_on_any_agent():
    agent = _agent(7)
    eps = torch.randn(8, agent.latent_dim, generator=torch.Generator().manual_seed(0))
    run = ex.explore(agent, np.tile(GOALS, (2, 1)), "posterior", n_trajs=5, k_prior=5, seed=0)
    z = ex.zero_reward_test(agent, run, eps)
    n = len(z["rows"])
    assert n >= 1 and (z["m"] >= 1).all() and (z["m"] <= 5).all()
    for key in ("one_prior", "one_post", "all_prior", "all_post", "var_one", "var_all"):
        assert z[key].shape == (n,) and np.isfinite(z[key]).all()
    m = ex.belief_measurements(agent, run, eps)
    assert 0 <= m["prior_on_circle"] <= 1 and np.isfinite(m["final_kl"])


# --------------------------------------------------------------------------- shipped agents
def test_a_missing_or_corrupt_agent_file_gives_one_line_with_the_command(tmp_path):
    spec = ex.agent_specs(tmp_path)[0]
    with pytest.raises(CLIError) as err:
        ex.load_spec(spec)
    msg = str(err.value)
    assert "\n" not in msg and str(spec.folder / "agent.pt") in msg
    assert ("python -m pearl_lite.train sparse-point-robot --preset lite --seed 0 --set "
            "kl_lambda=0.1") in msg
    spec.folder.mkdir()
    cfg = get_config("sparse-point-robot", "lite", kl_lambda=0.1).to_dict()
    (spec.folder / "config.json").write_text(json.dumps({**cfg, "seed": 0}))
    (spec.folder / "agent.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CLIError) as err:
        ex.load_spec(spec)
    msg = str(err.value)
    assert "\n" not in msg and "corrupt" in msg and str(spec.folder / "agent.pt") in msg
    assert "--out runs/spr_kl0.1" in msg


def test_agent_specs_name_the_training_commands(tmp_path):
    specs = {s.label: s for s in ex.agent_specs(tmp_path)}
    assert list(specs) == ["β = 0.1", "β = 1", "β = 10", "deterministic"]
    assert specs["deterministic"].command == (
        "python -m pearl_lite.train sparse-point-robot --preset lite --seed 0 --set "
        "use_information_bottleneck=False --out runs/spr_det --snapshot-every 100 --no-progress")
    assert specs["β = 1"].folder.name == "sparse_point_robot_lite_decay_seed0"
