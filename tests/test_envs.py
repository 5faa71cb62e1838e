"""Tests of the task suite's shared interface and of the point robots.

The MuJoCo task families are tested in ``tests/test_envs_mujoco.py``.
"""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from pearl_lite.envs import (
    ENV_NAMES,
    POINT_ROBOT_NAMES,
    gym_id,
    make_env,
    make_vector_env,
    official_split,
    register_envs,
)
from pearl_lite.envs.point_robot import point_robot_reward

ALL_NINE = {
    "point-robot",
    "sparse-point-robot",
    "cheetah-vel",
    "cheetah-dir",
    "ant-dir",
    "ant-goal",
    "humanoid-dir",
    "walker-rand-params",
    "hopper-rand-params",
}


def reward_terms(info: dict) -> float:
    return sum(v for k, v in info.items() if k.startswith("reward_"))


# ----------------------------------------------------------------------------------- registry
def test_env_names_are_the_papers_nine() -> None:
    assert set(ENV_NAMES) == ALL_NINE


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(ValueError) as excinfo:
        make_env("cheetah-velocity")
    for name in ENV_NAMES:
        assert name in str(excinfo.value)


def test_gymnasium_registration_is_idempotent_and_makes_the_env() -> None:
    register_envs()
    register_envs()
    for name in ENV_NAMES:
        assert gym_id(name) in gym.registry
    env = gym.make(gym_id("sparse-point-robot"), seed=3)
    obs, _ = env.reset(seed=0)
    assert obs.dtype == np.float32 and obs.shape == (2,)
    assert env.unwrapped.tasks[0]["goal"] == pytest.approx(
        make_env("sparse-point-robot", seed=3).tasks[0]["goal"]
    )


def test_official_split() -> None:
    assert official_split(100, 100, 80, 20) == (list(range(80)), list(range(80, 100)))
    # two direction tasks: train and test are the same two tasks
    assert official_split(2, 2, 2, 2) == ([0, 1], [0, 1])
    train, test = official_split(10, 100, 80, 20)
    assert train == list(range(8)) and test == [8, 9]


# ----------------------------------------------------------------------------------- point robots
@pytest.mark.parametrize("name", POINT_ROBOT_NAMES)
def test_point_robot_check_env(name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unbounded observation box warns
        check_env(make_env(name, seed=0), skip_render_check=True)
        check_env(make_env(name, seed=0, render_mode="rgb_array"))


@pytest.mark.parametrize("name", POINT_ROBOT_NAMES)
def test_point_robot_official_task_counts(name: str) -> None:
    env = make_env(name)
    assert len(env.tasks) == 100 and env.horizon == 20
    assert env.train_task_idx == list(range(80))
    assert env.test_task_idx == list(range(80, 100))
    assert env.n_train_tasks == 80 and env.n_test_tasks == 20
    assert list(env.get_all_task_idx()) == list(range(100))
    assert env.action_space.shape == (2,) and np.allclose(env.action_space.high, 0.1)


@pytest.mark.parametrize("name", POINT_ROBOT_NAMES)
def test_point_robot_tasks_reproducible_from_seed(name: str) -> None:
    a, b, c = make_env(name, seed=5), make_env(name, seed=5), make_env(name, seed=6)
    ga = np.stack([t["goal"] for t in a.tasks])
    np.testing.assert_array_equal(ga, np.stack([t["goal"] for t in b.tasks]))
    assert not np.array_equal(ga, np.stack([t["goal"] for t in c.tasks]))
    assert len(make_env(name, n_tasks=7).tasks) == 7


def test_point_robot_goals_in_square() -> None:
    goals = np.stack([t["goal"] for t in make_env("point-robot").tasks])
    assert np.all(np.abs(goals) <= 1.0)


def test_sparse_point_robot_goals_on_semicircle() -> None:
    env = make_env("sparse-point-robot")
    goals = np.stack([t["goal"] for t in env.tasks])
    np.testing.assert_allclose(np.linalg.norm(goals, axis=1), 1.0)
    angles = np.sort(np.arctan2(goals[:, 1], goals[:, 0]))
    np.testing.assert_allclose(angles, np.linspace(0, np.pi, 100), atol=1e-12)


@pytest.mark.parametrize("name", POINT_ROBOT_NAMES)
def test_switching_task_changes_reward_only(name: str) -> None:
    env = make_env(name, seed=0)
    actions = np.random.default_rng(0).uniform(-0.1, 0.1, size=(20, 2))
    runs = {}
    for idx in (0, 1):
        env.reset_task(idx)
        obs0, _ = env.reset(seed=11)
        traj = [obs0]
        rewards = []
        for a in actions:
            obs, r, term, trunc, info = env.step(a)
            traj.append(obs)
            rewards.append(info["distance"])
        runs[idx] = (np.stack(traj), np.array(rewards))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])  # same states
    assert not np.allclose(runs[0][1], runs[1][1])  # different goals -> different rewards


def test_point_robot_step_by_hand() -> None:
    env = make_env("point-robot", seed=0)
    env.reset_task(4)
    goal = env.tasks[4]["goal"]
    obs, info = env.reset(options={"state": [0.3, -0.2]})
    np.testing.assert_allclose(obs, [0.3, -0.2], rtol=1e-6)
    obs, r, term, trunc, info = env.step(np.array([0.05, 0.5]))  # second coord clipped to 0.1
    pos = np.array([0.35, -0.1])
    np.testing.assert_allclose(obs, pos, rtol=1e-6)
    assert r == pytest.approx(-np.hypot(*(pos - goal)))
    assert reward_terms(info) == pytest.approx(r)
    assert not term and not trunc


def test_sparse_point_robot_reward_official_form() -> None:
    env = make_env("sparse-point-robot", seed=0)
    goal = env.tasks[0]["goal"]
    # start at 0.15 from the goal: inside the radius; reward = 1 - distance
    start = goal + np.array([0.15, 0.0])
    env.reset(options={"state": start})
    obs, r, _, _, info = env.step(np.zeros(2))
    assert info["success"] is True
    assert r == pytest.approx(1.0 - 0.15)
    assert info["dense_reward"] == pytest.approx(-0.15)
    assert info["sparse_reward"] == r and reward_terms(info) == pytest.approx(r)
    # 0.25 away: outside; reward 0, dense still shaped
    env.reset(options={"state": goal + np.array([0.0, 0.25])})
    _, r, _, _, info = env.step(np.zeros(2))
    assert r == 0.0 and info["success"] is False
    assert info["dense_reward"] == pytest.approx(-0.25)
    # the radius is inclusive, as in the official `r >= -goal_radius`
    out = point_robot_reward(np.array([0.2, 0.0]), np.zeros(2), sparse=True)
    assert bool(out["success"]) and out["reward"] == pytest.approx(0.8)


def test_sparse_point_robot_starts_at_origin() -> None:
    env = make_env("sparse-point-robot", seed=0)
    for s in range(3):
        obs, _ = env.reset(seed=s)
        np.testing.assert_array_equal(obs, [0.0, 0.0])


def test_point_robot_reset_is_seeded() -> None:
    env = make_env("point-robot", seed=0)
    a, _ = env.reset(seed=3)
    b, _ = env.reset(seed=3)
    c, _ = env.reset(seed=4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.all(np.abs(a) <= 1.0)


@pytest.mark.parametrize("name", POINT_ROBOT_NAMES)
def test_point_robot_horizon_truncates(name: str) -> None:
    env = make_env(name, seed=0)
    env.reset(seed=0)
    for t in range(1, 21):
        _, _, term, trunc, _ = env.step(np.zeros(2))
        assert not term
        assert trunc == (t == 20)
    env.reset()
    _, _, _, trunc, _ = env.step(np.zeros(2))
    assert not trunc


@pytest.mark.parametrize("name", POINT_ROBOT_NAMES)
def test_point_robot_errors(name: str) -> None:
    env = make_env(name, seed=0)
    with pytest.raises(ValueError, match="0..99"):
        env.reset_task(100)
    with pytest.raises(ValueError, match="0..99"):
        env.reset_task(-1)
    env.reset()
    with pytest.raises(ValueError, match=r"\(2,\)"):
        env.step(np.zeros(3))
    with pytest.raises(ValueError, match=r"\(2,\)"):
        env.step(np.zeros((1, 2)))


def test_reset_option_switches_task() -> None:
    env = make_env("point-robot", seed=0)
    _, info = env.reset(options={"task": 42})
    assert env.task_idx == 42 and info["task_idx"] == 42
    np.testing.assert_array_equal(env.goal, env.tasks[42]["goal"])


# ----------------------------------------------------------------------------------- vector
@pytest.mark.parametrize("name", POINT_ROBOT_NAMES)
def test_point_vector_env_matches_single_envs(name: str) -> None:
    idx = [3, 80, 17, 99]
    venv = make_vector_env(name, idx, seed=2)
    obs = venv.reset()
    assert obs.shape == (4, 2) and obs.dtype == np.float32
    starts = venv._state.copy()
    envs = [make_env(name, seed=2) for _ in idx]
    for env, i, s in zip(envs, idx, starts, strict=True):
        env.reset_task(i)
        env.reset(options={"state": s})
    rng = np.random.default_rng(1)
    for _ in range(20):
        actions = rng.uniform(-0.15, 0.15, size=(4, 2))
        vobs, vrew, vterm, vtrunc, vinfo = venv.step(actions)
        assert vrew.shape == (4,) and vterm.shape == (4,) and vtrunc.shape == (4,)
        for k, env in enumerate(envs):
            obs, r, term, trunc, info = env.step(actions[k])
            np.testing.assert_array_equal(vobs[k], obs)
            assert vrew[k] == r and vterm[k] == term and vtrunc[k] == trunc
            for key, value in info.items():
                assert vinfo[key][k] == value
    assert vtrunc.all()


def test_point_vector_env_thousands_of_tasks_and_reset_tasks() -> None:
    venv = make_vector_env("sparse-point-robot", np.arange(100).repeat(20), seed=0)
    assert venv.num_envs == 2000
    obs = venv.reset()
    assert obs.shape == (2000, 2) and not obs.any()
    _, rew, _, _, infos = venv.step(np.full((2000, 2), 0.1))
    assert rew.shape == (2000,) and infos["dense_reward"].shape == (2000,)
    venv.reset_tasks([5, 6])
    assert venv.reset().shape == (2, 2)
    np.testing.assert_array_equal(venv.goals[0], venv.tasks[5]["goal"])
    with pytest.raises(ValueError, match=r"\(2, 2\)"):
        venv.step(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="0..99"):
        venv.reset_tasks([100])


def test_point_vector_env_masked_reset() -> None:
    venv = make_vector_env("point-robot", [0, 1, 2], seed=0)
    obs = venv.reset()
    moved, *_ = venv.step(np.full((3, 2), 0.1))
    again = venv.reset(mask=np.array([True, False, False]))
    np.testing.assert_array_equal(again[1:], moved[1:])
    assert not np.array_equal(again[0], moved[0])
    assert obs.shape == (3, 2)


# ----------------------------------------------------------------------------------- rendering
def test_point_robot_render_and_plot() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pearl_lite.envs.rendering import plot_point_task

    env = make_env("sparse-point-robot", seed=0, render_mode="rgb_array")
    obs, _ = env.reset()
    frame = env.render()
    assert frame.shape == (128, 128, 3) and frame.dtype == np.uint8
    traj = [obs]
    for _ in range(5):
        obs, *_ = env.step(np.array([0.1, 0.1]))
        traj.append(obs)
    fig, ax = plt.subplots()
    plot_point_task(ax, env, trajectory=np.stack(traj), task_idx=env.test_task_idx)
    plot_point_task(ax, np.array([0.5, 0.5]), goal_radius=0.2)
    assert len(ax.patches) == 2  # two goal-radius circles
    plt.close(fig)
