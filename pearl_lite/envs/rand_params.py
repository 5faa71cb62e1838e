"""PEARL's dynamics-varying tasks: ``walker-rand-params`` and ``hopper-rand-params``.

Each task rescales four arrays of the compiled ``mujoco.MjModel`` element by element:

=================  =================  ============================================
array              shape              factor per element
=================  =================  ============================================
``body_mass``      ``(nbody,)``       ``1.5 ** U(-3, 3)``
``body_inertia``   ``(nbody, 3)``     ``1.5 ** U(-3, 3)``
``dof_damping``    ``(nv,)``          ``1.3 ** U(-3, 3)``
``geom_friction``  ``(ngeom, 3)``     ``1.5 ** U(-3, 3)``
=================  =================  ============================================

Source: the official code's submodule github.com/dennisl88/rand_param_envs
(``rand_param_envs/base.py`` ``RandomEnv``: ``log_scale_limit = 3.0``, the bases 1.5 / 1.3 and
the four arrays; ``walker_rand_params.py`` and ``hopper_rand_params.py``: rewards, termination,
observations) and oyster ``configs/walker_rand_params.json`` / ``hopper_rand_params.json``
(50 tasks: 40 train, the first, and 10 test, the last; ``max_path_length`` 200).

A task dict holds the four new arrays (as the official ``sample_tasks``); ``reset_task`` writes
them into the model and every task switch writes all four arrays completely, so no trace of an
earlier task remains. The nominal arrays are kept in ``env.nominal_params`` and
``env.restore_nominal()`` writes them back exactly. As in the official code, only these arrays
change: quantities MuJoCo derives from them when it compiles a model (``body_subtreemass``,
``dof_invweight0``, ...) are not recomputed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.envs.mujoco.hopper_v5 import HopperEnv
from gymnasium.envs.mujoco.walker2d_v5 import Walker2dEnv

from pearl_lite.envs.mujoco_tasks import MujocoMetaEnv

RAND_PARAMS: dict[str, float] = {  # model array -> base of its log-uniform factor
    "body_mass": 1.5,
    "body_inertia": 1.5,
    "dof_damping": 1.3,
    "geom_friction": 1.5,
}


class RandParamsMixin(MujocoMetaEnv):
    """Tasks are physics parameter sets; switching task rewrites the model's arrays."""

    log_scale_limit: float = 3.0
    default_n_tasks = 50
    default_n_train = 40
    default_n_test = 10

    def _save_nominal(self) -> None:
        self.nominal_params: dict[str, np.ndarray] = {
            name: getattr(self.model, name).copy() for name in RAND_PARAMS
        }

    def sample_tasks(self, n: int) -> list[dict[str, Any]]:
        """``n`` parameter sets ``{"body_mass": array, ...}`` (nominal arrays times factors)."""
        tasks = []
        lim = self.log_scale_limit
        for _ in range(n):
            task = {}
            for name, base in RAND_PARAMS.items():
                nominal = self.nominal_params[name]
                factor = base ** self._task_rng.uniform(-lim, lim, size=nominal.shape)
                task[name] = nominal * factor
            tasks.append(task)
        return tasks

    def _write_params(self, params: dict[str, np.ndarray]) -> None:
        for name in RAND_PARAMS:
            getattr(self.model, name)[:] = params[name]

    def _apply_task(self, task: dict[str, Any]) -> None:
        self._write_params(task)

    def restore_nominal(self) -> None:
        """Write the nominal (XML) parameters back into the model, exactly."""
        self._write_params(self.nominal_params)

    def current_params(self) -> dict[str, np.ndarray]:
        """Copies of the four arrays as they are in the model now."""
        return {name: getattr(self.model, name).copy() for name in RAND_PARAMS}

    def _planar_step(self, action: Any) -> tuple[float, float, float, dict[str, Any], np.ndarray]:
        """Step and compute the official walker/hopper reward; returns (x, z, angle, info, a)."""
        x_before = float(self.data.qpos[0])
        a = self._simulate(action)
        x, z, angle = (float(v) for v in self.data.qpos[0:3])
        info = {
            "reward_forward": (x - x_before) / self.dt,
            "reward_ctrl": -1e-3 * float(np.sum(np.square(a))),
            "reward_alive": 1.0,
            "x_position": x,
        }
        return x, z, angle, info, a


class WalkerRandParamsEnv(RandParamsMixin, Walker2dEnv):
    """``walker-rand-params``: Walker2d whose masses, inertias, damping and friction vary.

    Facts (rand_param_envs ``walker_rand_params.py``, oyster ``configs/walker_rand_params.json``):

    - tasks: see the module docstring; 50 tasks, 40 train and 10 test;
    - reward: ``(x_after - x_before) / dt + 1 - 1e-3 * sum(a**2)`` with ``dt = 5 * 0.002``
      (``reward_forward``, ``reward_alive`` (constant, as in the official code),
      ``reward_ctrl``);
    - terminated unless ``0.8 < height < 2.0`` and ``-1 < angle < 1`` (the official ``done``);
    - observation (17): ``qpos[1:]`` (8) and ``clip(qvel, -10, 10)`` (9); reset noise
      ``U(-0.005, 0.005)`` on qpos and qvel; action ``[-1, 1]^6``; horizon 200.

    Built on gymnasium's v5 ``Walker2dEnv`` with its older ``walker2d.xml`` (right foot friction
    0.9, left 1.9, as the gym model the official code used; v5's default model sets both to 1.9)
    and ``frame_skip=5`` (the official value; v5's default is 4).
    """

    name = "walker-rand-params"

    def __init__(
        self,
        n_tasks: int | None = None,
        seed: int = 0,
        render_mode: str | None = None,
        log_scale_limit: float = 3.0,
        **kwargs: Any,
    ) -> None:
        self.log_scale_limit = float(log_scale_limit)
        kwargs = {"xml_file": "walker2d.xml", "frame_skip": 5, **kwargs}
        Walker2dEnv.__init__(self, render_mode=render_mode, **kwargs)
        self._save_nominal()
        self._finish_init(n_tasks, seed)

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        _, z, angle, info, _ = self._planar_step(action)
        reward = info["reward_forward"] + info["reward_alive"] + info["reward_ctrl"]
        healthy = 0.8 < z < 2.0 and -1.0 < angle < 1.0
        return self._get_obs().astype(np.float32), reward, not healthy, self._tick(), info


class HopperRandParamsEnv(RandParamsMixin, HopperEnv):
    """``hopper-rand-params``: Hopper whose masses, inertias, damping and friction vary.

    Facts (rand_param_envs ``hopper_rand_params.py``, oyster ``configs/hopper_rand_params.json``):

    - tasks: see the module docstring; 50 tasks, 40 train and 10 test;
    - reward: ``(x_after - x_before) / dt + 1 - 1e-3 * sum(a**2)`` with ``dt = 4 * 0.002``;
    - terminated unless the state is finite, ``|state[2:]| < 100``, ``height > 0.7`` and
      ``|angle| < 0.2`` (the official ``done``);
    - observation (11): ``qpos[1:]`` (5) and ``clip(qvel, -10, 10)`` (6); reset noise
      ``U(-0.005, 0.005)``; action ``[-1, 1]^3``; horizon 200.

    Built on gymnasium's v5 ``HopperEnv`` (``hopper.xml``, ``frame_skip=4``, as the official).
    """

    name = "hopper-rand-params"

    def __init__(
        self,
        n_tasks: int | None = None,
        seed: int = 0,
        render_mode: str | None = None,
        log_scale_limit: float = 3.0,
        **kwargs: Any,
    ) -> None:
        self.log_scale_limit = float(log_scale_limit)
        HopperEnv.__init__(self, render_mode=render_mode, **kwargs)
        self._save_nominal()
        self._finish_init(n_tasks, seed)

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        _, z, angle, info, _ = self._planar_step(action)
        reward = info["reward_forward"] + info["reward_alive"] + info["reward_ctrl"]
        state = self.state_vector()
        healthy = bool(
            np.isfinite(state).all()
            and (np.abs(state[2:]) < 100).all()
            and z > 0.7
            and abs(angle) < 0.2
        )
        return self._get_obs().astype(np.float32), reward, not healthy, self._tick(), info
