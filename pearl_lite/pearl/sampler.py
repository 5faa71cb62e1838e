"""Batched rollouts: one trajectory in each of several tasks at once.

Introduced in notebook 4. PEARL collects data task by task in the official code; here every task
of a call is a sub-environment of one vector environment (``pearl_lite.envs.make_vector_env``),
so a time step of all tasks costs one batched policy forward pass. For the point robots the
vector environment is pure numpy, so hundreds of tasks step in microseconds.

:func:`rollout` runs one trajectory per sub-environment with a fixed task variable ``z`` per
task (PEARL's posterior sampling holds z fixed for a whole trajectory) and returns a
:class:`Paths` of arrays shaped ``(n_tasks, horizon, ...)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from pearl_lite.sac import to_env_action

Tensor = torch.Tensor


@dataclass
class Paths:
    """One trajectory per task; every array has leading shape ``(n, H)`` (tasks, time).

    Attributes:
        obs, act, next_obs: ``(n, H, obs_dim)``, ``(n, H, act_dim)`` (agent actions in [-1, 1]),
            ``(n, H, obs_dim)``.
        reward: ``(n, H)`` the reward the environment returned (sparse on sparse tasks).
        dense_reward: ``(n, H)`` the dense (shaped) reward; equals ``reward`` on dense tasks.
        terminated, truncated: ``(n, H)`` bool. Truncated marks the last step of a trajectory
            cut by the horizon (the critic bootstraps through it); terminated marks a real end.
        valid: ``(n, H)`` bool; False after a sub-environment terminated early.
        success: ``(n, H)`` bool when the environment reports ``info["success"]``, else None.
        z: ``(n, latent_dim)``, the task variable each trajectory was collected with.
    """

    obs: np.ndarray
    act: np.ndarray
    reward: np.ndarray
    dense_reward: np.ndarray
    next_obs: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    valid: np.ndarray
    success: np.ndarray | None
    z: np.ndarray

    @property
    def returns(self) -> np.ndarray:
        """Undiscounted return of each trajectory (environment reward), shape ``(n,)``."""
        return (self.reward * self.valid).sum(axis=1)

    @property
    def lengths(self) -> np.ndarray:
        """Number of valid steps per trajectory, ``(n,)``."""
        return self.valid.sum(axis=1)

    @property
    def reached(self) -> np.ndarray | None:
        """Sparse tasks: did the trajectory ever enter the goal region? ``(n,)`` bool."""
        return None if self.success is None else (self.success & self.valid).any(axis=1)

    def task(self, i: int) -> dict[str, np.ndarray]:
        """The valid transitions of trajectory ``i`` as flat arrays ``(T_i, ...)``."""
        m = self.valid[i]
        return {"obs": self.obs[i][m], "act": self.act[i][m], "reward": self.reward[i][m],
                "dense_reward": self.dense_reward[i][m], "next_obs": self.next_obs[i][m],
                "terminated": self.terminated[i][m], "truncated": self.truncated[i][m]}


@torch.no_grad()
def rollout(
    policy: torch.nn.Module,
    venv: Any,
    z: Tensor,
    max_path_length: int,
    deterministic: bool = False,
    seed: int | None = None,
) -> Paths:
    """Run one trajectory in every sub-environment of ``venv``, task ``i`` acting with ``z[i]``.

    Args:
        policy: maps ``cat([obs, z], -1)`` of shape ``(n, obs_dim + latent_dim)`` to a
            :class:`~pearl_lite.distributions.TanhGaussian` (``pearl_lite.sac.TanhGaussianPolicy``).
        venv: a vector environment from ``pearl_lite.envs.make_vector_env`` with ``n`` tasks.
        z: ``(n, latent_dim)`` task variables, held fixed for the whole trajectory.
        max_path_length: cut trajectories after this many steps (marked ``truncated``).
        deterministic: act with ``tanh(mean)`` (meta-test) instead of sampling.
        seed: seeds the reset of the sub-environments (reset noise), for reproducibility.

    Returns:
        :class:`Paths` with ``H = max_path_length``.
    """
    n = venv.num_envs
    if z.shape[0] != n:
        raise ValueError(f"z must have one row per sub-environment ({n}), got {tuple(z.shape)}")
    device = z.device
    low = venv.single_action_space.low.astype(np.float64)
    high = venv.single_action_space.high.astype(np.float64)
    obs_dim = venv.single_observation_space.shape[0]
    act_dim = venv.single_action_space.shape[0]
    H = int(max_path_length)
    out_obs = np.zeros((n, H, obs_dim), np.float32)
    out_next = np.zeros((n, H, obs_dim), np.float32)
    out_act = np.zeros((n, H, act_dim), np.float32)
    out_rew = np.zeros((n, H), np.float32)
    out_dense = np.zeros((n, H), np.float32)
    out_term = np.zeros((n, H), bool)
    out_trunc = np.zeros((n, H), bool)
    valid = np.zeros((n, H), bool)
    success: np.ndarray | None = None

    obs = venv.reset(seed=seed)
    alive = np.ones(n, dtype=bool)
    for t in range(H):
        obs_z = torch.cat([torch.as_tensor(obs, device=device), z], dim=-1)
        dist = policy(obs_z)
        action = dist.mode if deterministic else dist.sample()[0]
        a = action.cpu().numpy()
        next_obs, rew, term, trunc, infos = venv.step(to_env_action(a, low, high))
        out_obs[:, t], out_act[:, t], out_next[:, t] = obs, a, next_obs
        out_rew[:, t] = rew
        out_dense[:, t] = infos.get("dense_reward", rew)
        if "success" in infos:
            if success is None:
                success = np.zeros((n, H), bool)
            success[:, t] = infos["success"]
        out_term[:, t] = term
        # The horizon of the sampler counts as a time limit, like the env's own.
        out_trunc[:, t] = (trunc | (t == H - 1)) & ~term
        valid[:, t] = alive
        alive = alive & ~term & ~trunc
        if not alive.any():
            break
        obs = next_obs
    return Paths(out_obs, out_act, out_rew, out_dense, out_next, out_term, out_trunc, valid,
                 success, z.detach().cpu().numpy())
