"""Batched stepping: one environment per task, several tasks at once.

``make_vector_env(name, task_indices, seed=0)`` returns

- a :class:`PointRobotVectorEnv` for the point robots: pure numpy over all tasks (thousands of
  tasks step in one call, well over 100k steps/s);
- a :class:`SyncMetaVectorEnv` for the MuJoCo tasks: a plain loop over one environment per task.

Both have the same small interface (it is *not* ``gymnasium.vector.VectorEnv``'s: ``reset``
returns only the observations, and nothing resets by itself)::

    venv = make_vector_env("sparse-point-robot", task_indices=[0, 1, 2])
    obs = venv.reset()                                     # (n, obs_dim) float32
    obs, rew, term, trunc, infos = venv.step(actions)      # actions (n, act_dim)
    # rew, term, trunc: (n,); infos: dict of arrays, e.g. infos["dense_reward"]: (n,)
    venv.reset_tasks([5, 6, 7])                            # switch the sub-envs' tasks
    switch_tasks(venv, [5, 6, 7])                          # ... only if they differ

Sub-environment ``i`` plays task ``task_indices[i]`` of the task list that
``make_env(name, n_tasks, seed)`` builds, so tasks are the same as the single environment's.
After a sub-environment is done (terminated or truncated) it keeps its last state until it is
reset: call ``reset()`` for all, or ``reset(mask=done)`` for some of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from pearl_lite.envs.base import MetaEnv
from pearl_lite.envs.point_robot import PointRobotEnv, point_robot_reward


def _as_indices(task_indices: Sequence[int] | np.ndarray, n_tasks: int) -> np.ndarray:
    idx = np.asarray(task_indices)
    if idx.ndim != 1 or idx.size == 0 or not np.issubdtype(idx.dtype, np.integer):
        raise ValueError(f"task_indices must be a non-empty 1-D sequence of ints, got {idx!r}")
    if idx.min() < 0 or idx.max() >= n_tasks:
        raise ValueError(
            f"task indices must lie in 0..{n_tasks - 1}, got min {idx.min()}, max {idx.max()}"
        )
    return idx.astype(np.int64)


class PointRobotVectorEnv:
    """The point robots, batched in numpy: sub-env ``i`` plays task ``task_indices[i]``.

    Same dynamics, reward (:func:`point_robot_reward`), horizon and start states as
    :class:`PointRobotEnv` / ``SparsePointRobotEnv``. All sub-environments step together.

    Attributes:
        num_envs: number of sub-environments ``n``.
        task_indices: array ``(n,)`` of the sub-environments' task indices.
        goals: array ``(n, 2)`` of their goals.
        horizon: episode length (20).
        single_observation_space, single_action_space: the spaces of one sub-environment.
    """

    def __init__(
        self,
        name: str,
        task_indices: Sequence[int] | np.ndarray,
        seed: int = 0,
        n_tasks: int | None = None,
        **kwargs: Any,
    ) -> None:
        from pearl_lite.envs import make_env

        env = make_env(name, n_tasks=n_tasks, seed=seed, **kwargs)
        if not isinstance(env, PointRobotEnv):
            raise ValueError(f"PointRobotVectorEnv needs a point robot, got {name!r}")
        self.name = name
        self.prototype = env  # holds the task list; never stepped
        self.sparse = env.sparse
        self.goal_radius = env.goal_radius
        self.horizon = env.horizon
        self.single_observation_space = env.observation_space
        self.single_action_space = env.action_space
        self._low = env.action_space.low.astype(np.float64)
        self._high = env.action_space.high.astype(np.float64)
        self._rng = np.random.default_rng(seed)
        self.reset_tasks(task_indices)

    @property
    def tasks(self) -> list[dict[str, Any]]:
        return self.prototype.tasks

    def reset_tasks(self, task_indices: Sequence[int] | np.ndarray) -> None:
        """Give the sub-environments new tasks (their number may change); call ``reset()``."""
        self.task_indices = _as_indices(task_indices, len(self.tasks))
        self.num_envs = len(self.task_indices)
        all_goals = np.stack([t["goal"] for t in self.tasks]).astype(np.float64)
        self.goals = all_goals[self.task_indices]
        self._state = np.zeros((self.num_envs, 2))
        self._elapsed = np.zeros(self.num_envs, dtype=np.int64)

    def reset(
        self,
        seed: int | None = None,
        options: dict[str, Any] | None = None,
        mask: np.ndarray | None = None,
    ) -> np.ndarray:
        """Start new episodes; returns the observations, shape ``(n, 2)`` float32.

        Args:
            seed: reseeds the start-state generator (point-robot starts are random).
            options: ``{"state": array (n, 2)}`` starts the sub-environments at given positions.
            mask: bool array ``(n,)``; only these sub-environments are reset (default: all).
        """
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        m = np.ones(self.num_envs, dtype=bool) if mask is None else np.asarray(mask, bool)
        if m.shape != (self.num_envs,):
            raise ValueError(f"mask must have shape ({self.num_envs},), got {m.shape}")
        if options and "state" in options:
            start = np.asarray(options["state"], dtype=np.float64).reshape(self.num_envs, 2)
        elif self.sparse:
            start = np.zeros((self.num_envs, 2))
        else:
            start = self._rng.uniform(-1.0, 1.0, size=(self.num_envs, 2))
        self._state[m] = start[m]
        self._elapsed[m] = 0
        return self._state.astype(np.float32)

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Step every sub-environment once.

        Args:
            actions: ``(n, 2)``; clipped to ``[-0.1, 0.1]``.

        Returns:
            ``obs (n, 2) float32, rewards (n,) float64, terminated (n,) bool (always False),
            truncated (n,) bool, infos`` with arrays ``(n,)``: ``reward_dist`` (point-robot) or
            ``reward_sparse``/``sparse_reward``/``dense_reward``/``success`` (sparse), and
            ``distance``.
        """
        a = np.asarray(actions, dtype=np.float64)
        if a.shape != (self.num_envs, 2):
            raise ValueError(f"expected actions of shape ({self.num_envs}, 2), got {a.shape}")
        self._state += np.clip(a, self._low, self._high)
        r = point_robot_reward(self._state, self.goals, self.sparse, self.goal_radius)
        self._elapsed += 1
        truncated = self._elapsed >= self.horizon
        terminated = np.zeros(self.num_envs, dtype=bool)
        if self.sparse:
            infos = {
                "reward_sparse": r["sparse_reward"],
                "sparse_reward": r["sparse_reward"],
                "dense_reward": r["dense_reward"],
                "success": r["success"],
                "distance": r["distance"],
            }
        else:
            infos = {"reward_dist": r["dense_reward"], "distance": r["distance"]}
        return self._state.astype(np.float32), r["reward"], terminated, truncated, infos

    def close(self) -> None:
        pass


class SyncMetaVectorEnv:
    """A loop over one meta-environment per task (used for the MuJoCo tasks).

    Sub-environment ``i`` is ``make_env(name, n_tasks, seed)`` switched to task
    ``task_indices[i]``; its reset noise is seeded with ``seed + i``.
    Same interface as :class:`PointRobotVectorEnv`.
    """

    def __init__(
        self,
        name: str,
        task_indices: Sequence[int] | np.ndarray,
        seed: int = 0,
        n_tasks: int | None = None,
        **kwargs: Any,
    ) -> None:
        from pearl_lite.envs import make_env

        self.name = name
        self._make = lambda: make_env(name, n_tasks=n_tasks, seed=seed, **kwargs)
        self._seed = seed
        self.envs: list[MetaEnv] = []
        first = self._make()
        self.horizon = first.horizon
        self.single_observation_space = first.observation_space
        self.single_action_space = first.action_space
        self._pool = [first]
        self._needs_seed = True
        self.reset_tasks(task_indices)

    @property
    def tasks(self) -> list[dict[str, Any]]:
        return self.envs[0].tasks

    def reset_tasks(self, task_indices: Sequence[int] | np.ndarray) -> None:
        """Give the sub-environments new tasks (their number may change); call ``reset()``."""
        idx = _as_indices(task_indices, len(self._pool[0].tasks))
        while len(self._pool) < len(idx):
            self._pool.append(self._make())
        self.envs = self._pool[: len(idx)]
        for env, i in zip(self.envs, idx, strict=True):
            env.reset_task(int(i))
        self.task_indices = idx
        self.num_envs = len(idx)
        self._obs = np.zeros((self.num_envs, *self.single_observation_space.shape), np.float32)

    def reset(
        self,
        seed: int | None = None,
        options: dict[str, Any] | None = None,
        mask: np.ndarray | None = None,
    ) -> np.ndarray:
        """Start new episodes; returns the observations ``(n, obs_dim)`` float32.

        The first reset seeds sub-environment ``i`` with ``seed + i`` (``seed`` defaults to the
        construction seed); later resets continue their random streams unless ``seed`` is given.
        """
        if seed is None and self._needs_seed:
            seed = self._seed
        self._needs_seed = False
        m = np.ones(self.num_envs, dtype=bool) if mask is None else np.asarray(mask, bool)
        for i, env in enumerate(self.envs):
            if m[i]:
                s = None if seed is None else seed + i
                self._obs[i], _ = env.reset(seed=s, options=options)
        return self._obs.copy()

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Step every sub-environment once; ``infos`` stacks each numeric info key."""
        a = np.asarray(actions)
        expected = (self.num_envs, *self.single_action_space.shape)
        if a.shape != expected:
            raise ValueError(f"expected actions of shape {expected}, got {a.shape}")
        rewards = np.zeros(self.num_envs)
        terminated = np.zeros(self.num_envs, dtype=bool)
        truncated = np.zeros(self.num_envs, dtype=bool)
        infos: list[dict[str, Any]] = []
        for i, env in enumerate(self.envs):
            self._obs[i], rewards[i], terminated[i], truncated[i], info = env.step(a[i])
            infos.append(info)
        keys = [
            k for k, v in infos[0].items() if isinstance(v, (int, float, np.generic, np.ndarray))
        ]
        stacked = {k: np.stack([np.asarray(info[k]) for info in infos]) for k in keys}
        return self._obs.copy(), rewards, terminated, truncated, stacked

    def close(self) -> None:
        for env in self._pool:
            env.close()


def switch_tasks(venv: PointRobotVectorEnv | SyncMetaVectorEnv,
                 task_indices: Sequence[int] | np.ndarray) -> None:
    """Give ``venv``'s sub-environments the tasks ``task_indices``, unless they have them."""
    idx = np.asarray(task_indices)
    if venv.num_envs != len(idx) or (venv.task_indices != idx).any():
        venv.reset_tasks(idx)
