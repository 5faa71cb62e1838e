"""Tests of the MuJoCo task families (cheetah, ant, humanoid, walker and hopper tasks)."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from pearl_lite.envs import (
    MUJOCO_NAMES,
    gym_id,
    headless_gl_backend,
    make_env,
    make_vector_env,
)

pytest.importorskip("mujoco")

REWARD_TASKS = ("cheetah-vel", "cheetah-dir", "ant-dir", "ant-goal", "humanoid-dir")
RAND_PARAMS = ("walker-rand-params", "hopper-rand-params")
OFFICIAL = {  # name: (n_tasks, n_train, n_test, obs_dim, act_dim)
    "cheetah-vel": (130, 100, 30, 20, 6),
    "cheetah-dir": (2, 2, 2, 20, 6),
    "ant-dir": (2, 2, 2, 27, 8),
    "ant-goal": (180, 150, 30, 107, 8),
    "humanoid-dir": (130, 100, 30, 348, 17),
    "walker-rand-params": (50, 40, 10, 17, 6),
    "hopper-rand-params": (50, 40, 10, 11, 3),
}


def reward_terms(info: dict) -> float:
    return sum(v for k, v in info.items() if k.startswith("reward_"))


def rollout(env, actions, task: int, seed: int = 0):
    """Observations (T+1, d), rewards (T,), infos of an episode of ``actions`` in ``task``."""
    env.reset_task(task)
    obs, _ = env.reset(seed=seed)
    all_obs, rewards, infos = [obs], [], []
    for a in actions:
        obs, r, term, trunc, info = env.step(a)
        all_obs.append(obs)
        rewards.append(r)
        infos.append(info)
    return np.stack(all_obs), np.array(rewards), infos


def small_actions(env, n: int = 10, seed: int = 0) -> np.ndarray:
    """Gentle random actions (so the robots do not fall within ``n`` steps)."""
    rng = np.random.default_rng(seed)
    return 0.3 * rng.uniform(
        env.action_space.low, env.action_space.high, size=(n, *env.action_space.shape)
    )


@pytest.fixture(scope="module")
def envs() -> dict:
    return {name: make_env(name, seed=0) for name in MUJOCO_NAMES}


# ----------------------------------------------------------------------------------- interface
@pytest.mark.parametrize("name", MUJOCO_NAMES)
def test_check_env(name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(make_env(name, seed=0), skip_render_check=True)


@pytest.mark.parametrize("name", MUJOCO_NAMES)
def test_official_counts_spaces_horizon(envs: dict, name: str) -> None:
    env = envs[name]
    n, n_train, n_test, obs_dim, act_dim = OFFICIAL[name]
    assert len(env.tasks) == n and env.horizon == 200
    assert env.n_train_tasks == n_train and env.n_test_tasks == n_test
    assert env.train_task_idx == list(range(n_train))
    assert env.test_task_idx == list(range(n - n_test, n))
    assert env.observation_space.shape == (obs_dim,)
    assert env.observation_space.dtype == np.float32
    assert env.action_space.shape == (act_dim,)


@pytest.mark.parametrize("name", MUJOCO_NAMES)
def test_errors(envs: dict, name: str) -> None:
    env = envs[name]
    n = len(env.tasks)
    with pytest.raises(ValueError, match=f"0..{n - 1}"):
        env.reset_task(n)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=rf"\({env.action_space.shape[0]},\)"):
        env.step(np.zeros(env.action_space.shape[0] + 1))


@pytest.mark.parametrize("name", ["cheetah-dir", "ant-dir"])
def test_direction_tasks_are_fixed_pairs(name: str) -> None:
    env = make_env(name, seed=123)
    assert env.train_task_idx == env.test_task_idx == [0, 1]
    if name == "cheetah-dir":
        assert env.tasks == [{"direction": -1}, {"direction": 1}]
    else:
        assert [t["angle"] for t in env.tasks] == [0.0, pytest.approx(np.pi)]
    with pytest.raises(ValueError, match="exactly 2 tasks"):
        make_env(name, n_tasks=5)


@pytest.mark.parametrize("name", ["cheetah-vel", "ant-goal", "humanoid-dir", *RAND_PARAMS])
def test_tasks_reproducible_from_seed(name: str) -> None:
    a, b, c = (make_env(name, n_tasks=5, seed=s) for s in (7, 7, 8))
    key = next(iter(a.tasks[0]))
    va = np.array([np.asarray(t[key]) for t in a.tasks])
    np.testing.assert_array_equal(va, np.array([np.asarray(t[key]) for t in b.tasks]))
    assert not np.array_equal(va, np.array([np.asarray(t[key]) for t in c.tasks]))


def test_task_ranges() -> None:
    vel = np.array([t["velocity"] for t in make_env("cheetah-vel").tasks])
    assert vel.min() >= 0.0 and vel.max() <= 3.0 and vel.max() > 2.0  # U(0, 3), not U(0, 2)
    goals = np.stack([t["goal"] for t in make_env("ant-goal").tasks])
    assert np.linalg.norm(goals, axis=1).max() <= 3.0
    angles = np.array([t["angle"] for t in make_env("humanoid-dir").tasks])
    assert angles.min() >= 0.0 and angles.max() <= 2 * np.pi


def test_gym_make_mujoco() -> None:
    env = gym.make(gym_id("cheetah-vel"), seed=0, n_tasks=4)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (20,) and len(env.unwrapped.tasks) == 4


# ----------------------------------------------------------------------------------- rewards
@pytest.mark.parametrize("name", MUJOCO_NAMES)
def test_reward_terms_add_up(envs: dict, name: str) -> None:
    env = envs[name]
    _, rewards, infos = rollout(env, small_actions(env), task=1)
    for r, info in zip(rewards, infos, strict=True):
        assert reward_terms(info) == pytest.approx(r, abs=1e-9)


@pytest.mark.parametrize("name", REWARD_TASKS)
def test_switching_task_changes_reward_only(envs: dict, name: str) -> None:
    env = envs[name]
    actions = small_actions(env)
    obs0, r0, _ = rollout(env, actions, task=0)
    obs1, r1, _ = rollout(env, actions, task=1)
    np.testing.assert_array_equal(obs0, obs1)  # same dynamics
    assert not np.allclose(r0, r1)  # different reward


def test_cheetah_vel_reward_by_hand(envs: dict) -> None:
    env = envs["cheetah-vel"]
    env.reset_task(3)
    env.reset(seed=0)
    a = np.array([0.5, -0.2, 0.1, 0.0, 0.3, -0.4])
    x0 = env.data.qpos[0]
    _, r, term, _, info = env.step(a)
    v = (env.data.qpos[0] - x0) / 0.05
    expected = -abs(v - env.tasks[3]["velocity"]) - 0.05 * np.sum(a**2)
    assert r == pytest.approx(expected) and not term


def test_cheetah_dir_reward_by_hand(envs: dict) -> None:
    env = envs["cheetah-dir"]
    actions = small_actions(env, 5)
    _, r_back, i_back = rollout(env, actions, task=0)
    _, r_fwd, i_fwd = rollout(env, actions, task=1)
    for b, f in zip(i_back, i_fwd, strict=True):
        assert f["reward_forward"] == pytest.approx(f["x_velocity"])
        assert b["reward_forward"] == pytest.approx(-f["x_velocity"])
        assert f["reward_ctrl"] == b["reward_ctrl"]


def test_ant_dir_reward_by_hand(envs: dict) -> None:
    env = envs["ant-dir"]
    env.reset_task(1)  # backward: angle pi
    env.reset(seed=0)
    a = np.full(8, 0.2)
    # the official get_body_com("torso") is the torso frame position data.xpos, which MuJoCo
    # computes at the start of the last physics substep (it lags qpos by one substep)
    xy0 = env.data.body("torso").xpos[:2].copy()
    _, r, _, _, info = env.step(a)
    v = (env.data.body("torso").xpos[:2] - xy0) / 0.05
    assert info["reward_forward"] == pytest.approx(-v[0], abs=1e-9)
    assert info["reward_ctrl"] == pytest.approx(-0.5 * 8 * 0.04)
    assert info["reward_survive"] == 1.0
    contact = 5e-4 * np.sum(np.clip(env.data.cfrc_ext, -1, 1) ** 2)
    assert info["reward_contact"] == pytest.approx(-contact)


def test_ant_goal_reward_by_hand(envs: dict) -> None:
    env = envs["ant-goal"]
    env.reset_task(5)
    env.reset(seed=0)
    a = np.full(8, -0.1)
    obs, r, term, _, info = env.step(a)
    goal = env.tasks[5]["goal"]
    xy = env.data.body("torso").xpos[:2]  # the official get_body_com("torso")
    assert info["reward_goal"] == pytest.approx(-np.abs(xy - goal).sum())
    np.testing.assert_allclose(obs[:2], xy, atol=1e-2)  # obs starts with the torso's qpos x, y
    assert info["reward_ctrl"] == pytest.approx(-0.1 * 8 * 0.01)
    assert not term


def test_humanoid_dir_reward_by_hand(envs: dict) -> None:
    env = envs["humanoid-dir"]
    env.reset_task(2)
    env.reset(seed=0)
    a = np.full(17, 0.1)
    _, r, _, _, info = env.step(a)
    d = np.array([np.cos(env.tasks[2]["angle"]), np.sin(env.tasks[2]["angle"])])
    v = np.array([info["x_velocity"], info["y_velocity"]])
    assert env.dt == pytest.approx(0.015)
    assert info["reward_linvel"] == pytest.approx(1.25 * v @ d)  # 0.25 / timestep == 1.25 / dt
    assert info["reward_quadctrl"] == pytest.approx(-0.1 * 17 * 0.01)
    assert info["reward_alive"] == 5.0 and -10.0 <= info["reward_impact"] <= 0.0


@pytest.mark.parametrize(
    ("name", "dt"), [("walker-rand-params", 0.01), ("hopper-rand-params", 0.008)]
)
def test_planar_reward_by_hand(envs: dict, name: str, dt: float) -> None:
    env = envs[name]
    actions = small_actions(env, 5)
    env.reset_task(0)
    env.reset(seed=0)
    x_prev = env.data.qpos[0]
    for a in actions:
        _, r, term, _, info = env.step(a)
        assert info["reward_forward"] == pytest.approx((info["x_position"] - x_prev) / dt)
        assert r == pytest.approx(info["reward_forward"] + 1.0 - 1e-3 * np.sum(a**2))
        x_prev = info["x_position"]


# ----------------------------------------------------------------------------------- termination
@pytest.mark.parametrize(
    ("name", "z", "terminates"),
    [
        ("cheetah-vel", None, False),
        ("ant-goal", 1.5, False),
        ("ant-dir", 1.5, True),
        ("humanoid-dir", 0.5, True),
        ("walker-rand-params", 0.5, True),
        ("hopper-rand-params", 0.5, True),
    ],
)
def test_termination_as_official(envs: dict, name: str, z: float | None, terminates: bool) -> None:
    env = envs[name]
    env.reset(seed=0)
    if z is not None:
        qpos = env.data.qpos.copy()
        qpos[1 if name in RAND_PARAMS else 2] = z
        env.set_state(qpos, env.data.qvel.copy())
    _, _, term, trunc, _ = env.step(np.zeros(env.action_space.shape))
    assert term is terminates and trunc is False


def test_horizon_truncates() -> None:
    env = make_env("cheetah-dir", seed=0)
    env.reset(seed=0)
    for t in range(1, 201):
        _, _, term, trunc, _ = env.step(np.zeros(6))
        assert trunc == (t == 200) and not term


# ----------------------------------------------------------------------------------- rand params
@pytest.mark.parametrize("name", RAND_PARAMS)
def test_rand_params_factors_in_official_range(envs: dict, name: str) -> None:
    env = envs[name]
    lim = {
        "body_mass": 1.5**3,
        "body_inertia": 1.5**3,
        "dof_damping": 1.3**3,
        "geom_friction": 1.5**3,
    }
    for task in env.tasks[:10]:
        for key, bound in lim.items():
            nominal = env.nominal_params[key]
            nz = nominal != 0
            factor = task[key][nz] / nominal[nz]
            assert factor.min() >= 1 / bound - 1e-12 and factor.max() <= bound + 1e-12
            assert np.all(task[key][~nz] == 0)
            assert not np.allclose(factor, 1.0)


@pytest.mark.parametrize("name", RAND_PARAMS)
def test_rand_params_switch_and_restore_exactly(name: str) -> None:
    env = make_env(name, seed=0)
    fresh = make_env(name, seed=99)
    fresh.restore_nominal()
    for key, value in env.nominal_params.items():
        np.testing.assert_array_equal(value, getattr(fresh.model, key))
    env.reset_task(3)
    for key, value in env.current_params().items():
        np.testing.assert_array_equal(value, env.tasks[3][key])
    env.reset_task(7)
    for key, value in env.current_params().items():
        np.testing.assert_array_equal(value, env.tasks[7][key])  # nothing of task 3 remains
    env.restore_nominal()
    for key, value in env.current_params().items():
        np.testing.assert_array_equal(value, env.nominal_params[key])
        np.testing.assert_array_equal(value, getattr(fresh.model, key))


@pytest.mark.parametrize("name", RAND_PARAMS)
def test_rand_params_switch_changes_dynamics_only(envs: dict, name: str) -> None:
    env = envs[name]
    actions = small_actions(env)
    obs0, r0, i0 = rollout(env, actions, task=0)
    obs1, r1, i1 = rollout(env, actions, task=1)
    np.testing.assert_array_equal(obs0[0], obs1[0])  # same reset state
    assert not np.allclose(obs0[1:], obs1[1:])  # different dynamics
    obs0b, r0b, _ = rollout(env, actions, task=0)  # back to task 0: identical again
    np.testing.assert_array_equal(obs0, obs0b)
    np.testing.assert_array_equal(r0, r0b)
    for a, b in zip(i0, i1, strict=True):  # same reward formula (ctrl term depends on a only)
        assert a["reward_ctrl"] == b["reward_ctrl"]


# ----------------------------------------------------------------------------------- vector
@pytest.mark.parametrize("name", ["cheetah-vel", "walker-rand-params"])
def test_vector_env_matches_single_envs(name: str) -> None:
    idx = [4, 0, 9]
    venv = make_vector_env(name, idx, seed=3)
    obs = venv.reset()
    singles = []
    for i, task in enumerate(idx):
        env = make_env(name, seed=3)
        env.reset_task(task)
        o, _ = env.reset(seed=3 + i)
        np.testing.assert_array_equal(obs[i], o)
        singles.append(env)
    rng = np.random.default_rng(0)
    for _ in range(5):
        actions = 0.3 * rng.uniform(-1, 1, size=(3, *venv.single_action_space.shape))
        vobs, vrew, vterm, vtrunc, vinfo = venv.step(actions)
        assert vrew.shape == vterm.shape == vtrunc.shape == (3,)
        for k, env in enumerate(singles):
            o, r, term, trunc, info = env.step(actions[k])
            np.testing.assert_array_equal(vobs[k], o)
            assert vrew[k] == r and vterm[k] == term and vtrunc[k] == trunc
            for key in info:
                assert vinfo[key][k] == info[key]
    venv.reset_tasks([1, 2])
    assert venv.reset().shape == (2, *venv.single_observation_space.shape)
    with pytest.raises(ValueError, match="expected actions of shape"):
        venv.step(np.zeros((3, *venv.single_action_space.shape)))


# ----------------------------------------------------------------------------------- rendering
RENDER_SCRIPT = """
from pearl_lite.envs import make_env
env = make_env("cheetah-vel", render_mode="rgb_array", width=64, height=48)
env.reset(seed=0)
frame = env.render()
assert frame.shape == (48, 64, 3) and frame.dtype.name == "uint8" and frame.std() > 0
print("RENDER_OK")
"""


def test_rgb_array_render_headless() -> None:
    """Renders in a fresh process (MUJOCO_GL must be set before mujoco is imported)."""
    env = dict(os.environ)
    env.setdefault("MUJOCO_GL", "egl")
    proc = subprocess.run(
        [sys.executable, "-c", RENDER_SCRIPT], capture_output=True, text=True, env=env, timeout=120
    )
    if "RENDER_OK" not in proc.stdout:
        pytest.skip(f"no off-screen GL backend ({env['MUJOCO_GL']}): {proc.stderr[-300:]}")


def test_headless_gl_backend_prefers_egl_then_osmesa_then_disable() -> None:
    def finder(*found: str):
        return lambda lib: f"lib{lib}.so" if lib in found else None

    assert headless_gl_backend(finder("EGL", "OSMesa")) == "egl"
    assert headless_gl_backend(finder("OSMesa")) == "osmesa"
    assert headless_gl_backend(finder()) == "disable"


DISABLED_GL_SCRIPT = """
import os
from pearl_lite.envs import make_env
env = make_env("cheetah-vel", n_tasks=2)
env.reset(seed=0)
env.step(env.action_space.sample())  # simulation needs no OpenGL
import gymnasium as gym
errors = []
for build in (lambda: make_env("cheetah-vel", n_tasks=2, render_mode="rgb_array"),
              lambda: gym.make("pearl_lite/walker-rand-params-v0", render_mode="rgb_array")):
    try:
        build()
    except ValueError as err:
        errors.append(str(err))
assert len(errors) == 2 and all("libegl1" in e for e in errors), errors
print("CLEAR_ERROR")
"""


def test_without_gl_mujoco_simulates_and_render_mode_says_what_to_install() -> None:
    """A headless machine with no libEGL/libOSMesa: MUJOCO_GL=disable, as the module picks."""
    env = {**os.environ, "MUJOCO_GL": "disable"}
    proc = subprocess.run([sys.executable, "-c", DISABLED_GL_SCRIPT], capture_output=True,
                          text=True, env=env, timeout=120)
    assert "CLEAR_ERROR" in proc.stdout, proc.stderr[-2000:]


def test_cheetah_model_compiles_without_settotalmass_yet_is_the_same_robot(capfd):
    """gymnasium's half_cheetah.xml sets its mass with a deprecated compiler attribute; the kit
    compiles it without and rescales afterwards: same masses, inertias and motion, no warning."""
    import mujoco

    from pearl_lite.envs.mujoco_tasks import compile_model

    path = os.path.join(os.path.dirname(gym.__file__), "envs", "mujoco", "assets",
                        "half_cheetah.xml")
    reference = mujoco.MjModel.from_xml_path(path)  # may print MuJoCo's deprecation warning
    capfd.readouterr()
    model, data = compile_model(path)
    assert "settotalmass" not in "".join(capfd.readouterr())
    np.testing.assert_array_equal(model.body_mass, reference.body_mass)
    np.testing.assert_array_equal(model.body_inertia, reference.body_inertia)
    np.testing.assert_array_equal(model.dof_invweight0, reference.dof_invweight0)
    ref_data = mujoco.MjData(reference)
    rng = np.random.default_rng(0)
    for _ in range(200):
        data.ctrl[:] = ref_data.ctrl[:] = rng.uniform(-1, 1, reference.nu)
        mujoco.mj_step(model, data)
        mujoco.mj_step(reference, ref_data)
    np.testing.assert_array_equal(data.qpos, ref_data.qpos)
    env = make_env("cheetah-vel", n_tasks=2, seed=0)
    np.testing.assert_array_equal(env.unwrapped.model.body_mass, reference.body_mass)
