"""PEARL's MuJoCo reward-varying tasks on gymnasium's v5 robots and the ``mujoco`` bindings.

``cheetah-vel``, ``cheetah-dir``, ``ant-dir``, ``ant-goal`` and ``humanoid-dir``: the robot is
gymnasium's v5 model (``gymnasium.envs.mujoco.*_v5``: its XML, frame skip, reset noise and
observation code); what the task changes is the reward, written here after the official PEARL
code (github.com/katerakelly/oyster, ``rlkit/envs/*.py``; task counts from ``configs/*.json``).

Shared conventions (see ``base.py``): ``float32`` observations, actions clipped to the action
box, ``truncated`` at the 200-step horizon (``max_path_length`` of the official configs),
``terminated`` only where the official environment returned ``done=True`` (the official sampler
stops a path on ``done``), and reward terms under ``reward_*`` keys of ``info`` that add up to
the reward.

A difference for every task that uses contact forces: the official code ran on mujoco-py 2.0
(MuJoCo 2.0, oyster ``environment.yml``), where ``mj_rnePostConstraint`` is no longer called, so
``data.cfrc_ext`` stays zero (openai/gym issues #1541 and #1711): the official contact and impact
costs were always 0 and the contact-force entries of observations were zeros. gymnasium calls
``mj_rnePostConstraint`` after every step, so here ``cfrc_ext`` holds the real contact forces and
these (small) costs are non-zero. ``make_env(name, contact_cost_weight=0.0)`` (ant-dir, ant-goal,
humanoid-dir) drops the cost as in the official runs; the observations keep the real forces.
"""

from __future__ import annotations

import os
import re
from typing import Any

import mujoco
import numpy as np
from gymnasium import spaces
from gymnasium.envs.mujoco.ant_v5 import AntEnv
from gymnasium.envs.mujoco.half_cheetah_v5 import HalfCheetahEnv
from gymnasium.envs.mujoco.humanoid_v5 import HumanoidEnv

from pearl_lite.envs.base import MetaEnv


class MujocoMetaEnv(MetaEnv):
    """Mixin for a gymnasium ``MujocoEnv`` subclass: float32 observations, tasks, horizon.

    Subclasses call the robot's ``__init__`` and then :meth:`_finish_init`.
    """

    horizon = 200

    def _finish_init(self, n_tasks: int | None, seed: int) -> None:
        if self.render_mode and os.environ.get("MUJOCO_GL", "").lower() in (
                "disable", "disabled", "off", "false", "0"):
            # pearl_lite.envs.headless_gl_backend found neither libEGL nor libOSMesa
            raise ValueError(
                f"render_mode={self.render_mode!r} needs an off-screen OpenGL library, but "
                "MUJOCO_GL is 'disable' (no libEGL or libOSMesa was found). Install one "
                "(Debian/Ubuntu: apt-get install libegl1, or libosmesa6 with MUJOCO_GL=osmesa) "
                "and start a new Python process.")
        obs_dim = self._get_obs().shape[0]
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(obs_dim,), dtype=np.float32)
        self._setup_tasks(n_tasks, seed)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset the robot (gymnasium's reset noise); ``options={"task": idx}`` switches task."""
        self._handle_reset_options(options)
        obs, info = super().reset(seed=seed)
        info["task_idx"] = self._task_idx
        return obs.astype(np.float32), info

    def _simulate(self, action: Any) -> np.ndarray:
        """Check and clip the action, then advance the simulation ``frame_skip`` steps."""
        a = self._check_action(action)
        self.do_simulation(a, self.frame_skip)
        return a

    def _clipped_contact_cost(self, weight: float) -> float:
        """``weight * sum(clip(cfrc_ext, -1, 1)**2)`` over all bodies (the official ant term)."""
        return weight * float(np.sum(np.square(np.clip(self.data.cfrc_ext, -1.0, 1.0))))


def compile_model(xml_path: str) -> tuple[mujoco.MjModel, mujoco.MjData]:
    """Compile a MuJoCo model, applying a ``settotalmass`` attribute after compiling.

    gymnasium's ``half_cheetah.xml`` sets its total mass with the compiler attribute
    ``settotalmass="14"``, which MuJoCo deprecates (4.0.1, the version tested here, prints a
    warning at every compile).
    We compile the XML without it and then rescale exactly as the compiler would
    (``mj_setTotalmass`` and ``mj_setConst``): the same masses, inertias and trajectories, bit
    for bit (``tests/test_envs_mujoco.py``). Models without the attribute compile as they are.
    """
    with open(xml_path, encoding="utf-8") as f:
        xml = f.read()
    match = re.search(r'\s+settotalmass="([^"]+)"', xml)
    if match is None:
        model = mujoco.MjModel.from_xml_path(xml_path)
        return model, mujoco.MjData(model)
    model = mujoco.MjModel.from_xml_string(xml[:match.start()] + xml[match.end():])
    data = mujoco.MjData(model)
    mujoco.mj_setTotalmass(model, float(match.group(1)))
    mujoco.mj_setConst(model, data)
    return model, data


# ======================================================================================= cheetah
class _CheetahTask(MujocoMetaEnv, HalfCheetahEnv):
    """Half-cheetah with the official rlkit observation (20 numbers, see subclasses)."""

    ctrl_cost_weight = 0.05  # official: 0.5 * 1e-1 * sum(a**2)

    def __init__(
        self,
        n_tasks: int | None = None,
        seed: int = 0,
        render_mode: str | None = None,
        **kwargs: Any,
    ) -> None:
        HalfCheetahEnv.__init__(self, render_mode=render_mode, **kwargs)
        self._finish_init(n_tasks, seed)

    def _initialize_simulation(self) -> tuple[mujoco.MjModel, mujoco.MjData]:
        # gymnasium's own, but through compile_model: no deprecation warning at every build
        model, data = compile_model(self.fullpath)
        model.vis.global_.offwidth = max(model.vis.global_.offwidth, self.width)
        model.vis.global_.offheight = max(model.vis.global_.offheight, self.height)
        return model, data

    def _get_obs(self) -> np.ndarray:
        # official rlkit HalfCheetahEnv: qpos[1:] (8), qvel (9), torso position xyz (3)
        return np.concatenate(
            [self.data.qpos[1:], self.data.qvel, self.data.body("torso").xpos]
        ).astype(np.float32)

    def _forward_reward(self, velocity: float) -> float:
        raise NotImplementedError

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        x_before = float(self.data.qpos[0])
        a = self._simulate(action)
        velocity = (float(self.data.qpos[0]) - x_before) / self.dt
        reward_forward = self._forward_reward(velocity)
        reward_ctrl = -self.ctrl_cost_weight * float(np.sum(np.square(a)))
        info = {
            "reward_forward": reward_forward,
            "reward_ctrl": reward_ctrl,
            "x_velocity": velocity,
        }
        reward = reward_forward + reward_ctrl
        return self._get_obs(), reward, False, self._tick(), info


class CheetahVelEnv(_CheetahTask):
    """``cheetah-vel``: run at a target forward velocity.

    Facts (oyster ``rlkit/envs/half_cheetah_vel.py``, ``configs/cheetah-vel.json``):

    - tasks: target velocity ``U(0, 3)``; 130 tasks, 100 train (first) and 30 test (last). The
      official docstring says ``[0, 2]`` (copied from MAML) but its code samples ``U(0, 3)``,
      and the paper's numbers came from that code, so this follows the code;
    - reward: ``-|v - v_goal| - 0.05 * sum(a**2)`` with ``v`` the rootx displacement over
      ``dt = 0.05`` (``info["reward_forward"]``, ``info["reward_ctrl"]``);
    - observation (20, as rlkit's ``HalfCheetahEnv``): ``qpos[1:]`` (8), ``qvel`` (9) and the
      torso position ``xyz`` (3; note its x coordinate grows as the cheetah runs);
    - action ``[-1, 1]^6``; never terminates; horizon 200.

    Differences from the official environment: gymnasium's v5 ``half_cheetah.xml`` and reset
    noise (``U(-0.1, 0.1)`` on qpos, ``0.1 * N(0, 1)`` on qvel, as gym's v2).
    """

    name = "cheetah-vel"
    default_n_tasks = 130
    default_n_train = 100
    default_n_test = 30

    def sample_tasks(self, n: int) -> list[dict[str, Any]]:
        """``[{"velocity": float}, ...]`` with velocities ``U(0, 3)``."""
        return [{"velocity": float(v)} for v in self._task_rng.uniform(0.0, 3.0, size=n)]

    def _apply_task(self, task: dict[str, Any]) -> None:
        self.goal_velocity = float(task["velocity"])

    def _forward_reward(self, velocity: float) -> float:
        return -abs(velocity - self.goal_velocity)


class CheetahDirEnv(_CheetahTask):
    """``cheetah-dir``: run forward (task 1) or backward (task 0).

    Facts (oyster ``rlkit/envs/half_cheetah_dir.py``, ``configs/cheetah-dir.json``):

    - tasks: the two directions ``[-1, +1]`` (in that order); ``n_train_tasks = n_eval_tasks =
      2``, so **the train and test tasks are the same two tasks**;
    - reward: ``direction * v - 0.05 * sum(a**2)``;
    - observation, action, horizon and termination as :class:`CheetahVelEnv`.

    ``sample_tasks(n)`` draws directions ``+-1`` with probability 1/2 each (as the official
    ``sample_tasks``); the environment's own tasks are the fixed pair.
    """

    name = "cheetah-dir"
    default_n_tasks = 2
    default_n_train = 2
    default_n_test = 2

    def _initial_tasks(self, n: int) -> list[dict[str, Any]]:
        if n != 2:
            raise ValueError(f"{self.name} has exactly 2 tasks (backward, forward); got {n}")
        return [{"direction": -1}, {"direction": 1}]

    def sample_tasks(self, n: int) -> list[dict[str, Any]]:
        """``n`` random directions, each ``-1`` or ``+1`` with probability 1/2."""
        return [{"direction": int(d)} for d in 2 * self._task_rng.integers(0, 2, size=n) - 1]

    def _apply_task(self, task: dict[str, Any]) -> None:
        self.direction = int(task["direction"])

    def _forward_reward(self, velocity: float) -> float:
        return self.direction * velocity


# ======================================================================================= ant
class _AntTask(MujocoMetaEnv, AntEnv):
    contact_cost_weight = 5e-4  # official: 0.5 * 1e-3 * sum(clip(cfrc_ext, -1, 1)**2)

    def __init__(
        self,
        n_tasks: int | None = None,
        seed: int = 0,
        render_mode: str | None = None,
        contact_cost_weight: float = 5e-4,
        **kwargs: Any,
    ) -> None:
        self.contact_cost_weight = float(contact_cost_weight)
        AntEnv.__init__(self, render_mode=render_mode, **self._obs_kwargs(), **kwargs)
        self._finish_init(n_tasks, seed)

    def _obs_kwargs(self) -> dict[str, bool]:
        raise NotImplementedError


class AntDirEnv(_AntTask):
    """``ant-dir``: the paper's Ant-Fwd-Back, run forward (angle 0) or backward (angle pi).

    Facts (oyster ``rlkit/envs/ant_dir.py``, ``rlkit/envs/ant.py``, ``configs/ant-dir.json``):

    - tasks: the two directions ``0`` and ``pi`` (the paper's Ant-Fwd-Back). **Difference:** the
      official config builds ``AntDirEnv`` without ``forward_backward=True`` and so draws two
      random angles ``U(0, 2 pi)``; this kit builds the paper's task. ``n_train_tasks =
      n_eval_tasks = 2``: **the train and test tasks are the same two tasks**;
    - reward: ``v_xy . (cos a, sin a) - 0.5 * sum(a**2) - 5e-4 * sum(clip(cfrc_ext, -1, 1)**2)
      + 1`` with ``v_xy`` the torso displacement over ``dt = 0.05``
      (``reward_forward``, ``reward_ctrl``, ``reward_contact``, ``reward_survive``; the survive
      bonus is the constant 1, also on the terminating step, as in the official code);
    - terminated when the state is not finite or the torso height leaves ``[0.2, 1.0]`` (the
      official ``done``);
    - observation (27, as rlkit's ``AntEnv``): ``qpos[2:]`` (13) and ``qvel`` (14), no contact
      forces; action ``[-1, 1]^8``; horizon 200.

    Other differences: gymnasium's v5 ``ant.xml`` and reset noise (as gym's), and real contact
    forces in the contact cost (see the module docstring).
    """

    name = "ant-dir"
    default_n_tasks = 2
    default_n_train = 2
    default_n_test = 2

    def _obs_kwargs(self) -> dict[str, bool]:
        return {
            "exclude_current_positions_from_observation": True,
            "include_cfrc_ext_in_observation": False,
        }

    def _initial_tasks(self, n: int) -> list[dict[str, Any]]:
        if n != 2:
            raise ValueError(f"{self.name} has exactly 2 tasks (forward, backward); got {n}")
        return [{"angle": 0.0}, {"angle": float(np.pi)}]

    def sample_tasks(self, n: int) -> list[dict[str, Any]]:
        """``n`` random directions ``U(0, 2 pi)`` (the official config's variant)."""
        return [{"angle": float(a)} for a in self._task_rng.uniform(0.0, 2 * np.pi, size=n)]

    def _apply_task(self, task: dict[str, Any]) -> None:
        self.angle = float(task["angle"])
        self.direction = np.array([np.cos(self.angle), np.sin(self.angle)])

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        xy_before = self.data.body("torso").xpos[:2].copy()
        a = self._simulate(action)
        xy_velocity = (self.data.body("torso").xpos[:2] - xy_before) / self.dt
        info = {
            "reward_forward": float(xy_velocity @ self.direction),
            "reward_ctrl": -0.5 * float(np.sum(np.square(a))),
            "reward_contact": -self._clipped_contact_cost(self.contact_cost_weight),
            "reward_survive": 1.0,
            "x_velocity": float(xy_velocity[0]),
            "y_velocity": float(xy_velocity[1]),
        }
        reward = sum(v for k, v in info.items() if k.startswith("reward_"))
        state = self.state_vector()
        healthy = bool(np.isfinite(state).all() and 0.2 <= state[2] <= 1.0)
        return self._get_obs().astype(np.float32), reward, not healthy, self._tick(), info


class AntGoalEnv(_AntTask):
    """``ant-goal``: walk to a goal position in the plane.

    Facts (oyster ``rlkit/envs/ant_goal.py``, ``configs/ant-goal.json``):

    - tasks: goals uniform in the disc of radius 3 (angle ``U(0, 2 pi)``, radius
      ``3 * sqrt(U(0, 1))``); 180 tasks, 150 train (first) and 30 test (last);
    - reward: ``-||xy_torso - goal||_1 - 0.1 * sum(a**2)
      - 5e-4 * sum(clip(cfrc_ext, -1, 1)**2)`` (``reward_goal``, ``reward_ctrl``,
      ``reward_contact``; the official survive bonus is 0). Note the L1 distance, as in the
      official code;
    - never terminates (the official ``done`` is always False); horizon 200;
    - observation: the full ``qpos`` (15, including the torso x, y), ``qvel`` (14) and the
      clipped contact forces ``clip(cfrc_ext, -1, 1)`` of the 13 bodies (78), 107 in all; the
      official observation also held the world body's 6 always-zero entries (113);
    - action ``[-1, 1]^8``.
    """

    name = "ant-goal"
    default_n_tasks = 180
    default_n_train = 150
    default_n_test = 30

    def _obs_kwargs(self) -> dict[str, bool]:
        return {
            "exclude_current_positions_from_observation": False,
            "include_cfrc_ext_in_observation": True,
        }

    def sample_tasks(self, n: int) -> list[dict[str, Any]]:
        """``[{"goal": array (2,)}, ...]`` uniform in the disc of radius 3."""
        angle = self._task_rng.uniform(0.0, 2 * np.pi, size=n)
        radius = 3.0 * np.sqrt(self._task_rng.uniform(0.0, 1.0, size=n))
        goals = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=-1)
        return [{"goal": g} for g in goals]

    def _apply_task(self, task: dict[str, Any]) -> None:
        self.goal = np.asarray(task["goal"], dtype=np.float64)

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        a = self._simulate(action)
        xy = self.data.body("torso").xpos[:2]
        info = {
            "reward_goal": -float(np.sum(np.abs(xy - self.goal))),
            "reward_ctrl": -0.1 * float(np.sum(np.square(a))),
            "reward_contact": -self._clipped_contact_cost(self.contact_cost_weight),
            "x_position": float(xy[0]),
            "y_position": float(xy[1]),
        }
        reward = sum(v for k, v in info.items() if k.startswith("reward_"))
        return self._get_obs().astype(np.float32), reward, False, self._tick(), info


# ======================================================================================= humanoid
class HumanoidDirEnv(MujocoMetaEnv, HumanoidEnv):
    """``humanoid-dir``: run in a direction of the plane.

    Facts (oyster ``rlkit/envs/humanoid_dir.py``, ``configs/humanoid-dir.json``):

    - tasks: direction angle ``U(0, 2 pi)``; 130 tasks, 100 train (first) and 30 test (last);
    - reward: ``0.25 * (d . delta_com_xy) / timestep - 0.1 * sum(ctrl**2)
      - min(5e-7 * sum(cfrc_ext**2), 10) + 5`` with ``d = (cos a, sin a)``, ``delta_com_xy``
      the displacement of the mass-weighted centre of mass over one environment step and
      ``timestep = 0.003`` the *physics* timestep (so it equals ``1.25 * velocity`` with
      ``dt = 5 * 0.003``, gymnasium's forward weight): ``reward_linvel``, ``reward_quadctrl``,
      ``reward_impact``, ``reward_alive`` (the alive bonus is the constant 5, also on the
      terminating step, as in the official code);
    - terminated when the torso height ``qpos[2]`` leaves ``[1, 2]`` (the official ``done``);
    - action ``[-0.4, 0.4]^17``; horizon 200.

    Differences: gymnasium's v5 ``humanoid.xml`` and observation, 348 numbers (``qpos[2:]``,
    ``qvel``, and ``cinert``, ``cvel``, ``qfrc_actuator``, ``cfrc_ext`` without the world body's
    entries) where the official (gym v2) had 376 with the world body; real contact forces in the
    impact cost and observation (zeros in the official mujoco-py 2.0 runs).
    """

    name = "humanoid-dir"
    default_n_tasks = 130
    default_n_train = 100
    default_n_test = 30

    def __init__(
        self,
        n_tasks: int | None = None,
        seed: int = 0,
        render_mode: str | None = None,
        contact_cost_weight: float = 5e-7,
        **kwargs: Any,
    ) -> None:
        self.impact_cost_weight = float(contact_cost_weight)
        HumanoidEnv.__init__(self, render_mode=render_mode, **kwargs)
        self._finish_init(n_tasks, seed)

    def sample_tasks(self, n: int) -> list[dict[str, Any]]:
        """``[{"angle": float}, ...]`` with angles ``U(0, 2 pi)``."""
        return [{"angle": float(a)} for a in self._task_rng.uniform(0.0, 2 * np.pi, size=n)]

    def _apply_task(self, task: dict[str, Any]) -> None:
        self.angle = float(task["angle"])
        self.direction = np.array([np.cos(self.angle), np.sin(self.angle)])

    def _com_xy(self) -> np.ndarray:
        mass = self.model.body_mass[:, None]
        return (np.sum(mass * self.data.xipos, axis=0) / np.sum(mass))[:2].copy()

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        com_before = self._com_xy()
        self._simulate(action)
        com_after = self._com_xy()
        displacement = com_after - com_before
        impact = self.impact_cost_weight * float(np.sum(np.square(self.data.cfrc_ext)))
        info = {
            "reward_linvel": 0.25 * float(displacement @ self.direction) / self.model.opt.timestep,
            "reward_quadctrl": -0.1 * float(np.sum(np.square(self.data.ctrl))),
            "reward_impact": -min(impact, 10.0),
            "reward_alive": 5.0,
            "x_velocity": float(displacement[0] / self.dt),
            "y_velocity": float(displacement[1] / self.dt),
        }
        reward = sum(v for k, v in info.items() if k.startswith("reward_"))
        z = float(self.data.qpos[2])
        terminated = bool(z < 1.0 or z > 2.0)
        return self._get_obs().astype(np.float32), reward, terminated, self._tick(), info
