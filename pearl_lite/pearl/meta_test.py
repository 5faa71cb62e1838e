"""Meta-testing (Algorithm 2 of the paper): adapt to a new task by posterior sampling.

Introduced in notebook 4. For every test task, starting from an empty context: before each
trajectory sample z from the current belief and act with it for the *whole* trajectory (a
temporally extended hypothesis about the task, not per-step noise); add the trajectory to the
task's context and re-infer the belief. The official protocol (``num_exp_traj_eval``): the first
trajectories draw z from the prior (a fresh draw each), the rest from the posterior of all the
context so far. The paper's test metric is the return of the last trajectory, averaged over
tasks; :class:`MetaTestResult` keeps the whole adaptation curve too.

On sparse tasks the context holds the sparse reward, the only reward there is at meta-test.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from pearl_lite.config import PEARLConfig
from pearl_lite.envs import make_vector_env
from pearl_lite.envs.vector import switch_tasks
from pearl_lite.exercises import implementation
from pearl_lite.pearl.agent import PEARLAgent
from pearl_lite.pearl.sampler import Paths, rollout

Tensor = torch.Tensor


@dataclass
class MetaTestResult:
    """The outcome of meta-testing on some tasks.

    Attributes:
        task_indices: ``(n_tasks,)``.
        returns: ``(n_tasks, n_trajs)``, return of each successive trajectory (the adaptation
            curve), averaged over ``num_evals`` independent runs.
        success: ``(n_tasks, n_trajs)`` fraction of runs whose trajectory entered the goal
            region (sparse tasks), else None.
        paths: the trajectories of the first run, one :class:`~pearl_lite.pearl.sampler.Paths`
            per trajectory index (each covering all tasks).
        z_mu, z_var: ``(n_trajs, n_tasks, latent_dim)`` the belief each trajectory's z was
            drawn from (first run).
        success_runs: ``(num_evals, n_tasks, n_trajs)`` 0/1, did trajectory k of each run enter
            the goal region (sparse tasks; ``success`` is its mean over runs), else None.
        next_obs_runs: ``(num_evals, n_tasks, n_trajs, H, obs_dim)``, where every run went
            (sparse tasks, whose observation is the robot's position), else None.
    """

    task_indices: np.ndarray
    returns: np.ndarray
    success: np.ndarray | None
    paths: list[Paths]
    z_mu: np.ndarray
    z_var: np.ndarray
    success_runs: np.ndarray | None = None
    next_obs_runs: np.ndarray | None = None

    @property
    def final_return(self) -> float:
        """The paper's test metric: the last trajectory's return, averaged over tasks."""
        return float(self.returns[:, -1].mean())

    @property
    def final_success(self) -> float | None:
        """Success rate of the last trajectory over tasks (sparse tasks), else None."""
        return None if self.success is None else float(self.success[:, -1].mean())


@torch.no_grad()
def posterior_sampling(
    agent: PEARLAgent,
    venv: Any,
    n_trajs: int,
    num_exp_traj_eval: int,
    max_path_length: int,
    generator: torch.Generator,
    deterministic: bool = True,
    env_seed: int = 0,
) -> tuple[list[Paths], list[Tensor], list[Tensor]]:
    """One meta-test run in every task of ``venv`` at once: Algorithm 2's trajectory loop (Ex 4.4).

    Before trajectory ``k``: the belief is the prior if ``k < num_exp_traj_eval`` (or no context
    yet), else q(z | all context so far); draw z once from it (with ``generator``) and act
    with that z for the whole trajectory; then add the trajectory to the context.

    Returns:
        ``(paths, mus, vars)``: per trajectory, the :class:`Paths` of all tasks and the
        belief ``(n_tasks, latent_dim)`` its z was drawn from.
    """
    n, device = venv.num_envs, agent.log_alpha.device
    contexts: list[Tensor] = []  # one (n, H, context_dim) block per trajectory
    masks: list[Tensor] = []  # (n, H): which steps of each block are real transitions
    all_paths, mus, variances = [], [], []
    for k in range(n_trajs):
        if k < num_exp_traj_eval or not contexts:
            mu, var = agent.prior(n)
        else:
            mu, var = agent.infer_posterior(torch.cat(contexts, 1), torch.cat(masks, 1))
        eps = torch.randn(mu.shape, generator=generator).to(device)
        z = mu + var.sqrt() * eps if agent.encoder.is_probabilistic else mu
        paths = rollout(agent.policy, venv, z, max_path_length, deterministic=deterministic,
                        seed=env_seed + k)
        # The context uses the environment's reward: sparse on sparse tasks. The dense reward
        # is never seen at meta-test.
        contexts.append(agent.context(*(torch.as_tensor(x, device=device) for x in (
            paths.obs, paths.act, paths.reward, paths.next_obs))))
        masks.append(torch.as_tensor(paths.valid, device=device))
        all_paths.append(paths)
        mus.append(mu)
        variances.append(var)
    return all_paths, mus, variances


@torch.no_grad()
def meta_test(
    agent: PEARLAgent,
    cfg: PEARLConfig,
    task_indices: Sequence[int] | np.ndarray,
    n_trajs: int | None = None,
    num_exp_traj_eval: int | None = None,
    num_evals: int | None = None,
    deterministic: bool | None = None,
    seed: int = 0,
    env_seed: int = 0,
    venv: Any = None,
) -> MetaTestResult:
    """Meta-test ``agent`` on ``task_indices`` (Algorithm 2, the official protocol), batched.

    Runs :func:`posterior_sampling` ``num_evals`` times, each from an empty context, and
    averages the returns (and success rates) of each successive trajectory.

    Args:
        agent: the trained agent.
        cfg: its config (env, horizon, reward protocol, defaults of the arguments below).
        task_indices: tasks of the environment to test on (usually ``env.test_task_idx``).
        n_trajs: trajectories per task; default ``ceil(num_steps_per_eval / max_path_length)``
            (official: 20 for the sparse point robot, 3 for MuJoCo).
        num_exp_traj_eval: trajectories with z from the prior; default from ``cfg``.
        num_evals: independent runs averaged; default from ``cfg``.
        deterministic: act with the policy's mean; default ``cfg.eval_deterministic`` (True).
        seed: seeds the sampling of z (from a generator of its own: a training run's random
            stream is left as it was).
        env_seed: seeds the environments' tasks (must match training's to get its tasks).
        venv: optionally, a vector environment to reuse (switched to ``task_indices``).

    Returns:
        :class:`MetaTestResult`.
    """
    n_trajs = n_trajs or math.ceil(cfg.num_steps_per_eval / cfg.max_path_length)
    k_prior = cfg.num_exp_traj_eval if num_exp_traj_eval is None else num_exp_traj_eval
    num_evals = num_evals or cfg.num_evals
    deterministic = cfg.eval_deterministic if deterministic is None else deterministic
    idx = np.asarray(task_indices, dtype=np.int64)
    if venv is None:
        venv = make_vector_env(cfg.env, idx, seed=env_seed, n_tasks=cfg.n_tasks)
    else:
        switch_tasks(venv, idx)

    gen = torch.Generator(device="cpu").manual_seed(seed)
    returns = np.zeros((num_evals, len(idx), n_trajs))
    success = np.zeros((num_evals, len(idx), n_trajs)) if cfg.is_sparse else None
    positions: list[np.ndarray] = []  # sparse tasks: each run's (n_tasks, n_trajs, H, 2)
    was_training = agent.training
    agent.eval()
    # The learner's Ex 4.4 after exercises.use("mine"), else the function above.
    sampling = implementation("ex4_pearl.posterior_sampling", posterior_sampling)
    for run in range(num_evals):
        paths, mus, variances = sampling(
            agent, venv, n_trajs, k_prior, cfg.max_path_length, gen, deterministic,
            env_seed=env_seed + 1000 * run)
        returns[run] = np.stack([p.returns for p in paths], axis=1)
        if success is not None:
            success[run] = np.stack([p.reached for p in paths], axis=1)
            positions.append(np.stack([p.next_obs for p in paths], axis=1))
        if run == 0:
            first = (paths, np.stack([m.cpu().numpy() for m in mus]),
                     np.stack([v.cpu().numpy() for v in variances]))
    agent.train(was_training)
    return MetaTestResult(idx, returns.mean(0), None if success is None else success.mean(0),
                          *first, success_runs=success,
                          next_obs_runs=np.stack(positions) if positions else None)


__all__ = ["MetaTestResult", "meta_test", "posterior_sampling"]
