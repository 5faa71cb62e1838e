"""PEARL's meta-RL task suite on gymnasium 1.x and the official ``mujoco`` bindings.

Build an environment by its suite name::

    from pearl_lite.envs import make_env, make_vector_env, ENV_NAMES

    env = make_env("sparse-point-robot", seed=0)     # the official 100 tasks
    env.reset_task(env.test_task_idx[0])             # switch task, then reset
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())

Every environment is a ``gymnasium.Env`` and a :class:`~pearl_lite.envs.base.MetaEnv`:
``tasks``, ``sample_tasks(n)``, ``get_all_task_idx()``, ``reset_task(idx)``,
``train_task_idx`` / ``test_task_idx`` (the official split), ``n_train_tasks``,
``n_test_tasks`` and ``horizon`` (20 for the point robots, 200 for MuJoCo).

Actions are in each environment's own action box, as in the environment definitions
(point robots ``[-0.1, 0.1]``, humanoid ``[-0.4, 0.4]``, the others ``[-1, 1]``) and are clipped
to it. A tanh policy's output ``u`` in ``[-1, 1]`` maps to the box with
``low + (u + 1) / 2 * (high - low)`` (what the official ``NormalizedBoxEnv`` does), which is
``pearl_lite.sac.to_env_action``.

Each environment is also registered with gymnasium as ``pearl_lite/<name>-v0``, e.g.
``gymnasium.make("pearl_lite/cheetah-vel-v0", seed=0)`` (same keyword arguments as
``make_env``; the horizon is built into the environment, so no ``TimeLimit`` is added).

Rendering MuJoCo tasks without a display: ``make_env(name, render_mode="rgb_array")`` renders
off-screen through ``MUJOCO_GL``. On Linux without ``DISPLAY``/``WAYLAND_DISPLAY`` this module
sets ``MUJOCO_GL`` when it is unset (it must be set before ``mujoco`` is first imported; see
:func:`headless_gl_backend`): ``egl`` where ``libEGL`` is installed (Debian/Ubuntu:
``libegl1``), else ``osmesa`` where ``libOSMesa`` is (``libosmesa6``), else ``disable``: then
MuJoCo simulates but cannot render, and asking for a ``render_mode`` says what to install.

=====================  ==========================================  =======  ============
name                   tasks                                       tasks    train / test
=====================  ==========================================  =======  ============
point-robot            goal uniform in [-1, 1]^2                   100      80 / 20
sparse-point-robot     goal on the upper unit semicircle           100      80 / 20
cheetah-vel            target velocity U(0, 3)                     130      100 / 30
cheetah-dir            forward / backward                          2        2 / 2 (same)
ant-dir                forward / backward (paper's Ant-Fwd-Back)   2        2 / 2 (same)
ant-goal               goal uniform in the disc of radius 3        180      150 / 30
humanoid-dir           direction U(0, 2 pi) in the plane           130      100 / 30
walker-rand-params     mass, inertia, damping, friction            50       40 / 10
hopper-rand-params     mass, inertia, damping, friction            50       40 / 10
=====================  ==========================================  =======  ============
"""

from __future__ import annotations

import ctypes.util
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from pearl_lite.envs.base import MetaEnv, official_split


def headless_gl_backend(find_library: Any = ctypes.util.find_library) -> str:
    """The ``MUJOCO_GL`` value for a Linux machine without a display.

    glfw (MuJoCo's default) needs a window. EGL renders off-screen on a GPU or with Mesa;
    OSMesa in software. With neither library, ``"disable"``: importing ``mujoco`` with
    ``MUJOCO_GL=egl`` but no ``libEGL`` fails deep inside PyOpenGL, even for simulation only.
    """
    if find_library("EGL"):
        return "egl"
    if find_library("OSMesa"):
        return "osmesa"
    return "disable"


if (
    sys.platform.startswith("linux")
    and "MUJOCO_GL" not in os.environ
    and not os.environ.get("DISPLAY")
    and not os.environ.get("WAYLAND_DISPLAY")
):
    os.environ["MUJOCO_GL"] = headless_gl_backend()

# suite name -> "module:Class"; modules are imported on first use (MuJoCo only when needed).
_ENTRY_POINTS: dict[str, str] = {
    "point-robot": "pearl_lite.envs.point_robot:PointRobotEnv",
    "sparse-point-robot": "pearl_lite.envs.point_robot:SparsePointRobotEnv",
    "cheetah-vel": "pearl_lite.envs.mujoco_tasks:CheetahVelEnv",
    "cheetah-dir": "pearl_lite.envs.mujoco_tasks:CheetahDirEnv",
    "ant-dir": "pearl_lite.envs.mujoco_tasks:AntDirEnv",
    "ant-goal": "pearl_lite.envs.mujoco_tasks:AntGoalEnv",
    "humanoid-dir": "pearl_lite.envs.mujoco_tasks:HumanoidDirEnv",
    "walker-rand-params": "pearl_lite.envs.rand_params:WalkerRandParamsEnv",
    "hopper-rand-params": "pearl_lite.envs.rand_params:HopperRandParamsEnv",
}

ENV_NAMES: tuple[str, ...] = tuple(_ENTRY_POINTS)
POINT_ROBOT_NAMES: tuple[str, ...] = ("point-robot", "sparse-point-robot")
MUJOCO_NAMES: tuple[str, ...] = tuple(n for n in ENV_NAMES if n not in POINT_ROBOT_NAMES)


def gym_id(name: str) -> str:
    """The gymnasium id of a suite name: ``"cheetah-vel"`` -> ``"pearl_lite/cheetah-vel-v0"``."""
    _check_name(name)
    return f"pearl_lite/{name}-v0"


def _check_name(name: str) -> None:
    if name not in _ENTRY_POINTS:
        raise ValueError(f"unknown environment {name!r}; valid names: {', '.join(ENV_NAMES)}")


def env_class(name: str) -> type:
    """The environment class of a suite name (imports its module)."""
    _check_name(name)
    module, cls = _ENTRY_POINTS[name].split(":")
    return getattr(importlib.import_module(module), cls)


def make_env(name: str, n_tasks: int | None = None, seed: int = 0, **kwargs: Any) -> MetaEnv:
    """Build the meta-environment ``name`` with its tasks.

    Args:
        name: one of :data:`ENV_NAMES`.
        n_tasks: number of tasks; ``None`` means the official total (train + test).
        seed: seeds the tasks, the reset noise and the action/observation spaces.
        **kwargs: passed to the environment class (e.g. ``render_mode="rgb_array"``).

    Raises:
        ValueError: for an unknown name (the message lists the valid names), or a
            ``render_mode`` for a MuJoCo task where no off-screen GL library was found.
    """
    return env_class(name)(n_tasks=n_tasks, seed=seed, **kwargs)


def make_vector_env(
    name: str,
    task_indices: Sequence[int] | np.ndarray,
    seed: int = 0,
    n_tasks: int | None = None,
    **kwargs: Any,
) -> Any:
    """One sub-environment per task in ``task_indices``, stepped together (see ``vector.py``).

    Point robots get the pure-numpy :class:`~pearl_lite.envs.vector.PointRobotVectorEnv`,
    MuJoCo tasks a loop, :class:`~pearl_lite.envs.vector.SyncMetaVectorEnv`.
    ``reset() -> obs (n, obs_dim)``; ``step(actions (n, act_dim)) -> obs, rewards (n,),
    terminated (n,), truncated (n,), infos`` (dict of arrays); ``reset_tasks(indices)``.
    """
    from pearl_lite.envs.vector import PointRobotVectorEnv, SyncMetaVectorEnv

    _check_name(name)
    cls = PointRobotVectorEnv if name in POINT_ROBOT_NAMES else SyncMetaVectorEnv
    return cls(name, task_indices, seed=seed, n_tasks=n_tasks, **kwargs)


def register_envs() -> None:
    """Register every suite environment with gymnasium (idempotent)."""
    for name, entry_point in _ENTRY_POINTS.items():
        env_id = f"pearl_lite/{name}-v0"
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry_point, disable_env_checker=False)


register_envs()

__all__ = [
    "ENV_NAMES",
    "MUJOCO_NAMES",
    "POINT_ROBOT_NAMES",
    "MetaEnv",
    "env_class",
    "gym_id",
    "headless_gl_backend",
    "make_env",
    "make_vector_env",
    "official_split",
    "register_envs",
]
