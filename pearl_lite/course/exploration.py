"""Notebook 6's measurements: how PEARL explores the sparse point robot, and why.

Introduced in notebook 6 (``notebooks/06_exploration.py``). Everything the notebook measures
and its widgets (:mod:`pearl_lite.course.widgets_explore`) draw comes from here:

- tasks with any goal: :func:`goal_at`, :func:`make_goal_venv` (a ``sparse-point-robot`` whose
  goals are given, e.g. between the training goals or off the semicircle);
- exploration strategies run side by side on the same goals (:func:`explore`):
  ``"posterior"`` (PEARL's posterior sampling: z drawn once per trajectory, the library's
  :func:`~pearl_lite.pearl.meta_test.posterior_sampling`), ``"dithering"`` (z redrawn from the
  same belief at every step, :func:`dithering_rollout`), ``"prior"`` (z from N(0, I) for
  every trajectory: no inference), ``"oracle"`` (z drawn from the posterior of a context that
  reached the goal) and ``"scripted"`` (straight to the goal: the task's optimum). A
  deterministic-encoder agent runs under ``"posterior"`` (its belief is a point, so z is the
  point estimate);
- the numbers: :func:`success_within_k`, :func:`coverage` (how much of the semicircle the
  visited points cover), :func:`strategy_summary`;
- the agent's hypotheses: :func:`hypothesis_endpoints` (where the policy goes with z drawn
  from a belief), :func:`beliefs_by_size` (the belief after the first N transitions of a
  context), :func:`near_visited` (hypotheses that point where the agent has already been);
- the latent space: :func:`final_posteriors`, :func:`pca_2d`;
- the shipped agents and an honest fallback: :class:`AgentSpec`, :func:`load_spec`.

Shapes: ``n`` tasks (goals x runs), ``K`` trajectories, ``H`` steps, ``L`` latent dims, ``S``
hypothesis samples. Positions include the start: ``(n, K, H + 1, 2)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pearl_lite.envs.point_robot import GOAL_RADIUS, MAX_STEP
from pearl_lite.envs.vector import PointRobotVectorEnv
from pearl_lite.pearl import PEARLAgent, posterior_sampling
from pearl_lite.pearl.sampler import Paths, rollout
from pearl_lite.runtime.checkpoint import AGENT_FILE, CHECKPOINT_FILE, CLIError
from pearl_lite.sac import to_env_action

Tensor = torch.Tensor
ENV = "sparse-point-robot"
HORIZON = 20
#: The 100 goal angles of sparse-point-robot (``linspace(0, pi, 100)``), used by :func:`coverage`.
SEMICIRCLE_ANGLES = np.linspace(0.0, np.pi, 100)
STRATEGIES = ("posterior", "dithering", "prior", "oracle", "scripted")


# ---------------------------------------------------------------------------------------------
# Tasks with any goal
# ---------------------------------------------------------------------------------------------


def goal_at(angle_deg: float, radius: float = 1.0) -> np.ndarray:
    """The point at ``angle_deg`` degrees and ``radius`` from the origin, shape ``(2,)``."""
    a = np.deg2rad(float(angle_deg))
    return float(radius) * np.array([np.cos(a), np.sin(a)])


def semicircle_goals(angles: np.ndarray = SEMICIRCLE_ANGLES) -> np.ndarray:
    """Goals on the unit circle at ``angles`` (radians), shape ``(len(angles), 2)``."""
    return np.stack([np.cos(angles), np.sin(angles)], axis=1)


class GoalVectorEnv(PointRobotVectorEnv):
    """``sparse-point-robot`` batched, with the goals given instead of drawn from the task list.

    Same dynamics, start (the origin), horizon and sparse reward as the real task family
    (:class:`~pearl_lite.envs.vector.PointRobotVectorEnv`); only the goals differ, so a goal
    between the 100 official ones or off the semicircle can be meta-tested.

    Args:
        goals: ``(n, 2)``, one sub-environment per goal.
        goal_radius: the sparse reward's radius (0.2 as in the task family).
    """

    def __init__(self, goals: np.ndarray, goal_radius: float = GOAL_RADIUS) -> None:
        goals = np.asarray(goals, dtype=np.float64)
        if goals.ndim != 2 or goals.shape[1] != 2 or len(goals) == 0:
            raise ValueError(f"goals must have shape (n, 2), got {goals.shape}")
        if not np.isfinite(goals).all():
            raise ValueError("goals must be finite")
        super().__init__(ENV, np.zeros(len(goals), dtype=np.int64), goal_radius=goal_radius)
        self._custom_goals = goals.copy()
        self.goals = goals.copy()

    def reset_tasks(self, task_indices: Sequence[int] | np.ndarray) -> None:
        super().reset_tasks(task_indices)
        if hasattr(self, "_custom_goals"):  # the goals are given, not looked up
            if len(self.task_indices) != len(self._custom_goals):
                raise ValueError("a GoalVectorEnv keeps its goals; build a new one for others")
            self.goals = self._custom_goals.copy()


def make_goal_venv(goals: np.ndarray, goal_radius: float = GOAL_RADIUS) -> GoalVectorEnv:
    """A batched sparse point robot with the goals ``(n, 2)`` (see :class:`GoalVectorEnv`)."""
    return GoalVectorEnv(goals, goal_radius)


# ---------------------------------------------------------------------------------------------
# The measurements
# ---------------------------------------------------------------------------------------------


def success_within_k(reached: np.ndarray) -> np.ndarray:
    """Whether the goal was found in one of the first k trajectories, for every k.

    Args:
        reached: ``(..., K)`` bool, trajectory k entered the goal region.

    Returns:
        ``(..., K)`` bool, non-decreasing along the last axis (average it over tasks for the
        fraction of goals found by trajectory k).
    """
    r = np.asarray(reached).astype(bool)
    if r.ndim == 0 or r.shape[-1] == 0:
        raise ValueError(f"reached must have shape (..., K) with K >= 1, got {r.shape}")
    return np.logical_or.accumulate(r, axis=-1)


def coverage(positions: np.ndarray, goals: np.ndarray | None = None,
             radius: float = GOAL_RADIUS) -> np.ndarray:
    """Fraction of the goals within ``radius`` of some visited position.

    The notebook's definition of how much of the semicircle a set of trajectories covers: the
    fraction of the 100 goal angles of the task family whose goal region (radius 0.2) the robot
    entered at least once, i.e. the goals it could have found.

    Args:
        positions: ``(..., T, 2)`` visited positions (e.g. the first 5 trajectories of a task,
            flattened into one ``T``).
        goals: ``(G, 2)``; default the 100 goals of the semicircle.
        radius: default 0.2, the goal radius.

    Returns:
        ``(...)`` fractions in [0, 1].
    """
    p = np.asarray(positions, dtype=np.float64)
    if p.ndim < 2 or p.shape[-1] != 2:
        raise ValueError(f"positions must have shape (..., T, 2), got {p.shape}")
    g = semicircle_goals() if goals is None else np.asarray(goals, dtype=np.float64)
    d = np.linalg.norm(p[..., :, None, :] - g, axis=-1)  # (..., T, G)
    return (d.min(axis=-2) <= radius).mean(axis=-1)


def positions_of(paths: Paths) -> np.ndarray:
    """The start and the H next positions of every task's trajectory, ``(n, H + 1, 2)``."""
    return np.concatenate([paths.obs[:, :1], paths.next_obs], axis=1).astype(np.float64)


# ---------------------------------------------------------------------------------------------
# The strategies
# ---------------------------------------------------------------------------------------------


@dataclass
class ExplorationRun:
    """One meta-test of ``n`` tasks by one strategy (goals may repeat: one row per run).

    Attributes:
        strategy: the strategy's name (:data:`STRATEGIES`).
        goals: ``(n, 2)``.
        positions: ``(n, K, H + 1, 2)`` the start and every position of each trajectory.
        reached: ``(n, K)`` bool, trajectory k entered the goal region.
        returns: ``(n, K)`` sparse return of each trajectory.
        z: ``(n, K, H, L)`` the z the policy acted with at every step (NaN for ``"scripted"``).
        mu, var: ``(n, K, L)`` the belief each trajectory's z was drawn from.
        obs, act, reward: ``(n, K, H, ...)`` the transitions (the meta-test context).
    """

    strategy: str
    goals: np.ndarray
    positions: np.ndarray
    reached: np.ndarray
    returns: np.ndarray
    z: np.ndarray
    mu: np.ndarray
    var: np.ndarray
    obs: np.ndarray
    act: np.ndarray
    reward: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_trajs(self) -> int:
        return self.reached.shape[1]

    def context(self, agent: PEARLAgent, row: int, n_trajs: int | None = None) -> Tensor:
        """Task ``row``'s first ``n_trajs`` trajectories as a context ``(k * H, context_dim)``."""
        k = self.n_trajs if n_trajs is None else int(n_trajs)
        obs, act, rew = (torch.as_tensor(x[row, :k]).reshape(k * x.shape[2], *x.shape[3:])
                         for x in (self.obs, self.act, self.reward))
        nxt = torch.as_tensor(self.positions[row, :k, 1:], dtype=torch.float32).reshape(-1, 2)
        return agent.context(obs, act, rew, nxt)


def _from_paths(strategy: str, goals: np.ndarray, paths: list[Paths], z: list[np.ndarray],
                mus: list[Tensor], variances: list[Tensor], **meta: Any) -> ExplorationRun:
    return ExplorationRun(
        strategy=strategy, goals=np.asarray(goals, dtype=np.float64),
        positions=np.stack([positions_of(p) for p in paths], axis=1),
        reached=np.stack([p.reached for p in paths], axis=1),
        returns=np.stack([p.returns for p in paths], axis=1),
        z=np.stack(z, axis=1),
        mu=np.stack([m.cpu().numpy() for m in mus], axis=1),
        var=np.stack([v.cpu().numpy() for v in variances], axis=1),
        obs=np.stack([p.obs for p in paths], axis=1),
        act=np.stack([p.act for p in paths], axis=1),
        reward=np.stack([p.reward for p in paths], axis=1), meta=meta)


@torch.no_grad()
def dithering_rollout(agent: PEARLAgent, venv: Any, mu: Tensor, var: Tensor,
                      max_path_length: int, generator: torch.Generator,
                      deterministic: bool = True) -> tuple[Paths, np.ndarray]:
    """One trajectory per task with z **redrawn from N(mu, var) at every step** (dithering).

    The per-step counterpart of :func:`~pearl_lite.pearl.sampler.rollout`, which holds z fixed
    for the whole trajectory: the same belief, the same policy, the same mean action; only
    when z is drawn differs. Notebook 6 uses it to test the paper's claim that temporally
    extended exploration (one hypothesis per trajectory) beats per-step randomness.

    Args:
        agent: the agent (its ``policy`` acts on ``cat([obs, z])``).
        venv: a point-robot vector environment with ``n`` tasks.
        mu, var: the belief, ``(n, L)`` each.
        max_path_length: steps per trajectory.
        generator: draws the per-step z (CPU generator).
        deterministic: act with the policy's mean action (as meta-testing does).

    Returns:
        ``(paths, z)``: the :class:`~pearl_lite.pearl.sampler.Paths` (its ``z`` holds the
        first step's z) and every step's z, ``(n, H, L)``.
    """
    n, H = venv.num_envs, int(max_path_length)
    low = venv.single_action_space.low.astype(np.float64)
    high = venv.single_action_space.high.astype(np.float64)
    obs = venv.reset()
    cols: dict[str, list[np.ndarray]] = {k: [] for k in
                                         ("obs", "act", "rew", "dense", "next", "succ", "z")}
    for _ in range(H):
        eps = torch.randn(mu.shape, generator=generator).to(mu.device)
        z = mu + var.sqrt() * eps
        dist = agent.policy(torch.cat([torch.as_tensor(obs, device=mu.device), z], dim=-1))
        a = (dist.mode if deterministic else dist.sample()[0]).cpu().numpy()
        next_obs, rew, _, _, infos = venv.step(to_env_action(a, low, high))
        for key, val in (("obs", obs), ("act", a), ("rew", rew), ("dense", infos["dense_reward"]),
                         ("next", next_obs), ("succ", infos["success"]),
                         ("z", z.cpu().numpy())):
            cols[key].append(np.asarray(val))
        obs = next_obs
    st = {k: np.stack(v, axis=1) for k, v in cols.items()}
    trunc = np.zeros((n, H), bool)
    trunc[:, -1] = True
    paths = Paths(st["obs"].astype(np.float32), st["act"].astype(np.float32),
                  st["rew"].astype(np.float32), st["dense"].astype(np.float32),
                  st["next"].astype(np.float32), np.zeros((n, H), bool), trunc,
                  np.ones((n, H), bool), st["succ"].astype(bool), st["z"][:, 0])
    return paths, st["z"]


def scripted_positions(goals: np.ndarray, horizon: int = HORIZON) -> np.ndarray:
    """Straight from the origin to each goal at full speed, then stay: ``(n, H + 1, 2)``.

    Each action coordinate is limited to 0.1 (the robot's box), so the controller moves along
    the clipped direction: the fastest way there. It knows the goal: the task's optimum.
    """
    goals = np.asarray(goals, dtype=np.float64)
    pos = np.zeros((len(goals), horizon + 1, 2))
    for t in range(horizon):
        pos[:, t + 1] = pos[:, t] + np.clip(goals - pos[:, t], -MAX_STEP, MAX_STEP)
    return pos


def _scripted_paths(venv: Any, goals: np.ndarray, horizon: int, L: int) -> tuple[Paths, Any]:
    target = scripted_positions(goals, horizon)
    obs = venv.reset()
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("obs", "act", "rew", "dense", "next",
                                                          "succ")}
    for t in range(horizon):
        step = target[:, t + 1] - target[:, t]
        a = step / MAX_STEP  # agent units, in [-1, 1]
        next_obs, rew, _, _, infos = venv.step(step)
        for key, val in (("obs", obs), ("act", a), ("rew", rew), ("dense", infos["dense_reward"]),
                         ("next", next_obs), ("succ", infos["success"])):
            cols[key].append(np.asarray(val))
        obs = next_obs
    st = {k: np.stack(v, axis=1) for k, v in cols.items()}
    n = len(goals)
    trunc = np.zeros((n, horizon), bool)
    trunc[:, -1] = True
    paths = Paths(st["obs"].astype(np.float32), st["act"].astype(np.float32),
                  st["rew"].astype(np.float32), st["dense"].astype(np.float32),
                  st["next"].astype(np.float32), np.zeros((n, horizon), bool), trunc,
                  np.ones((n, horizon), bool), st["succ"].astype(bool), np.full((n, L), np.nan))
    return paths, None


@torch.no_grad()
def oracle_belief(agent: PEARLAgent, goals: np.ndarray,
                  horizon: int = HORIZON) -> tuple[Tensor, Tensor]:
    """The posterior q(z | c*) from a context c* that went straight to the goal, ``(n, L)``.

    c* is one trajectory of the scripted controller (:func:`scripted_positions`) with its
    sparse rewards: the evidence of a perfect first trajectory. It is the best belief the
    encoder can form about each goal from one episode's worth of transitions.
    """
    venv = make_goal_venv(goals)
    paths, _ = _scripted_paths(venv, goals, horizon, agent.latent_dim)
    ctx = agent.context(*(torch.as_tensor(x) for x in (paths.obs, paths.act, paths.reward,
                                                       paths.next_obs)))
    return agent.infer_posterior(ctx)


@torch.no_grad()
def explore(agent: PEARLAgent | None, goals: np.ndarray, strategy: str = "posterior",
            n_trajs: int = 20, k_prior: int = 1, seed: int = 0,
            horizon: int = HORIZON) -> ExplorationRun:
    """Meta-test ``n_trajs`` trajectories on each goal with one exploration strategy.

    Args:
        agent: a trained agent (``None`` only for ``"scripted"``).
        goals: ``(n, 2)``; repeat goals to run several independent runs at once (the z draws
            differ between rows).
        strategy: one of :data:`STRATEGIES`:

            - ``"posterior"``: PEARL (Algorithm 2): before trajectory k the belief is the prior
              for ``k <= k_prior`` (or without context), else q(z | all context so far); z is
              drawn **once** and held for the trajectory. Runs the library's
              :func:`~pearl_lite.pearl.meta_test.posterior_sampling`.
            - ``"dithering"``: the same beliefs, but z is **redrawn at every step**
              (:func:`dithering_rollout`).
            - ``"prior"``: z from N(0, I) once per trajectory, for every trajectory; the
              context is collected but never used (``posterior_sampling`` with all
              trajectories from the prior).
            - ``"oracle"``: z drawn once per trajectory from :func:`oracle_belief`, the
              posterior of a context that reached the goal.
            - ``"scripted"``: straight to the goal (:func:`scripted_positions`), no agent.
        n_trajs: trajectories per task (20: the official 400 steps).
        k_prior: trajectories drawn from the prior first (1: the belief is updated after every
            trajectory, as in the paper's Algorithm 2; 5: the official sparse configuration).
        seed: seeds the z draws.
        horizon: steps per trajectory.

    Returns:
        :class:`ExplorationRun`.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    if strategy != "scripted" and agent is None:
        raise ValueError(f"strategy {strategy!r} needs an agent")
    goals = np.asarray(goals, dtype=np.float64)
    venv = make_goal_venv(goals)
    n = len(goals)
    gen = torch.Generator().manual_seed(int(seed))
    if strategy == "scripted":
        L = agent.latent_dim if agent is not None else 1
        paths, _ = _scripted_paths(venv, goals, horizon, L)
        nan = np.full((n, horizon, L), np.nan)
        zeros = torch.zeros(n, L)
        return _from_paths(strategy, goals, [paths] * n_trajs, [nan] * n_trajs,
                           [zeros] * n_trajs, [zeros] * n_trajs, k_prior=0)
    was_training = agent.training
    agent.eval()
    try:
        if strategy in ("posterior", "prior"):
            kp = n_trajs if strategy == "prior" else k_prior
            paths, mus, variances = posterior_sampling(agent, venv, n_trajs, kp, horizon, gen)
            z = [np.repeat(p.z[:, None], horizon, axis=1) for p in paths]
            return _from_paths(strategy, goals, paths, z, mus, variances, k_prior=kp)
        if strategy == "oracle":
            mu, var = oracle_belief(agent, goals, horizon)
            paths, zs = [], []
            for k in range(n_trajs):
                eps = torch.randn(mu.shape, generator=gen)
                z = mu + var.sqrt() * eps if agent.encoder.is_probabilistic else mu
                p = rollout(agent.policy, venv, z, horizon, deterministic=True, seed=k)
                paths.append(p)
                zs.append(np.repeat(p.z[:, None], horizon, axis=1))
            return _from_paths(strategy, goals, paths, zs, [mu] * n_trajs, [var] * n_trajs,
                               k_prior=0)
        # dithering: Algorithm 2's beliefs, z redrawn at every step
        paths, zs, mus, variances = [], [], [], []
        contexts: list[Tensor] = []
        for k in range(n_trajs):
            if k < k_prior or not contexts:
                mu, var = agent.prior(n)
            else:
                mu, var = agent.infer_posterior(torch.cat(contexts, 1))
            p, z = dithering_rollout(agent, venv, mu, var, horizon, gen)
            contexts.append(agent.context(*(torch.as_tensor(x) for x in (
                p.obs, p.act, p.reward, p.next_obs))))
            paths.append(p)
            zs.append(z)
            mus.append(mu)
            variances.append(var)
        return _from_paths(strategy, goals, paths, zs, mus, variances, k_prior=k_prior)
    finally:
        agent.train(was_training)


def strategy_summary(run: ExplorationRun, n_runs: int, ks: Sequence[int] = (1, 2, 5, 10, 20),
                     n_cover: int = 5) -> dict[str, Any]:
    """The numbers of notebook 6's table for one strategy.

    Args:
        run: an :class:`ExplorationRun` whose ``n`` rows are ``n_runs`` blocks of the same goals
            (``np.tile(goals, (n_runs, 1))``).
        n_runs: how many runs the rows hold.
        ks: the k at which "found within k trajectories" is reported.
        n_cover: coverage is measured over the first ``n_cover`` trajectories.

    Returns:
        dict with ``within`` ``(K,)`` (fraction of goals found within k trajectories, mean over
        runs), ``within_std`` ``(K,)`` (std over runs), ``within_at`` ``{k: mean}``,
        ``last`` (success of the K-th trajectory), ``coverage``/``coverage_std`` (fraction of
        the semicircle's 100 goals within 0.2 of a point visited in the first ``n_cover``
        trajectories, mean over tasks and runs; std over runs), ``path_length`` (distance
        travelled per trajectory in those trajectories), ``idle`` (the share of their steps
        that move less than 0.02, a fifth of a full step: waiting) and ``first_k`` (mean
        index of the first successful trajectory over tasks that found the goal).
    """
    n = len(run.reached)
    if n % n_runs:
        raise ValueError(f"{n} rows are not {n_runs} runs of the same goals")
    within = success_within_k(run.reached).reshape(n_runs, n // n_runs, -1).mean(1)  # (R, K)
    pos = run.positions[:, :n_cover].reshape(n, -1, 2)
    cov = coverage(pos).reshape(n_runs, -1).mean(1)  # (R,)
    found = run.reached.any(1)
    first = np.argmax(run.reached, axis=1) + 1
    steps = np.linalg.norm(np.diff(run.positions[:, :n_cover], axis=2), axis=-1)  # (n, k, H)
    return {
        "path_length": float(steps.sum(-1).mean()), "idle": float((steps < 0.02).mean()),
        "strategy": run.strategy, "within": within.mean(0), "within_std": within.std(0),
        "within_at": {int(k): float(within.mean(0)[k - 1]) for k in ks if k <= run.n_trajs},
        "last": float(run.reached[:, -1].mean()),
        "coverage": float(cov.mean()), "coverage_std": float(cov.std()),
        "first_k": float(first[found].mean()) if found.any() else float("nan"),
    }


# ---------------------------------------------------------------------------------------------
# Hypotheses: where the policy goes with z drawn from a belief
# ---------------------------------------------------------------------------------------------


@torch.no_grad()
def hypothesis_endpoints(agent: PEARLAgent, mu: Tensor | np.ndarray, var: Tensor | np.ndarray,
                         eps: Tensor, horizon: int = HORIZON) -> np.ndarray:
    """Where the agent would go on each of its hypotheses: the end of one episode per z.

    For every belief ``b`` and sample ``s``, ``z = mu[b] + sqrt(var[b]) * eps[s]`` and a
    deterministic rollout of ``horizon`` steps from the start (the origin) with that z; its
    last position is the goal that z "believes in". The same ``eps`` for every belief (common
    random numbers) makes a cloud of hypotheses move smoothly as the belief changes.

    Args:
        agent: the agent.
        mu, var: beliefs ``(B, L)``.
        eps: standard-normal draws ``(S, L)``.
        horizon: steps of each rollout (20, one episode).

    Returns:
        ``(B, S, 2)`` end positions.
    """
    mu, var = torch.as_tensor(mu, dtype=torch.float32), torch.as_tensor(var, dtype=torch.float32)
    if mu.dim() != 2 or mu.shape != var.shape or eps.dim() != 2 or eps.shape[1] != mu.shape[1]:
        raise ValueError(f"mu, var must be (B, L) and eps (S, L), got {tuple(mu.shape)}, "
                         f"{tuple(var.shape)}, {tuple(eps.shape)}")
    B, S = mu.shape[0], eps.shape[0]
    z = (mu[:, None] + var.clamp(min=0).sqrt()[:, None] * eps[None]).reshape(B * S, -1)
    venv = make_goal_venv(np.zeros((B * S, 2)) + 10.0)  # the goal does not matter here
    paths = rollout(agent.policy, venv, z, horizon, deterministic=True)
    return paths.next_obs[:, -1].astype(np.float64).reshape(B, S, 2)


@torch.no_grad()
def beliefs_by_size(agent: PEARLAgent, context: Tensor) -> tuple[np.ndarray, np.ndarray]:
    """The belief q(z | first N transitions) for every N = 0..len(context).

    Args:
        agent: the agent.
        context: ``(N_max, context_dim)``, in the order collected.

    Returns:
        ``(mu, var)``, each ``(N_max + 1, L)``; row 0 is the prior. Computed with running sums
        of the product's natural parameters (the product encoder) or of the embeddings (the
        mean encoder), equal to ``agent.infer_posterior(context[None, :N])`` (tested).
    """
    enc = agent.encoder
    if context.dim() != 2:
        raise ValueError(f"context must be (N, context_dim), got {tuple(context.shape)}")
    prior_mu, prior_var = enc.prior(1)
    N = context.shape[0]
    if N == 0:
        return prior_mu.numpy(), prior_var.numpy()
    if enc.kind == "product":
        from pearl_lite.distributions import MIN_FACTOR_VAR

        f_mu, f_var = enc.factors(context[None])
        prec = 1.0 / f_var[0].clamp(min=MIN_FACTOR_VAR)  # (N, L)
        var = 1.0 / prec.cumsum(0)
        mu = (prec * f_mu[0]).cumsum(0) * var
    elif enc.kind == "mean":
        emb = enc.net(context)
        mu = emb.cumsum(0) / torch.arange(1, N + 1, dtype=emb.dtype)[:, None]
        var = torch.zeros_like(mu)
    else:  # recurrent: encode every prefix
        pairs = [agent.infer_posterior(context[None, :i]) for i in range(1, N + 1)]
        mu = torch.cat([p[0] for p in pairs])
        var = torch.cat([p[1] for p in pairs])
    return (torch.cat([prior_mu, mu]).numpy().astype(np.float64),
            torch.cat([prior_var, var]).numpy().astype(np.float64))


def near_visited(endpoints: np.ndarray, visited: np.ndarray,
                 radius: float = GOAL_RADIUS) -> np.ndarray:
    """Fraction of hypotheses that end within ``radius`` of a position already visited.

    Args:
        endpoints: ``(..., S, 2)`` (:func:`hypothesis_endpoints`).
        visited: ``(T, 2)`` positions of the context so far (without reward: places where the
            goal is not).

    Returns:
        ``(...)`` fractions: the share of the agent's hypotheses pointing where it already
        looked and found nothing. Notebook 6 compares it before and after encoding the
        zero-reward context.
    """
    e, v = np.asarray(endpoints, dtype=np.float64), np.asarray(visited, dtype=np.float64)
    d = np.linalg.norm(e[..., :, None, :] - v.reshape(-1, 2), axis=-1)  # (..., S, T)
    return (d.min(axis=-1) <= radius).mean(axis=-1)


def endpoint_angles(endpoints: np.ndarray) -> np.ndarray:
    """Angles (degrees, in (-180, 180]) of positions ``(..., 2)``."""
    e = np.asarray(endpoints, dtype=np.float64)
    return np.degrees(np.arctan2(e[..., 1], e[..., 0]))


@torch.no_grad()
def beliefs_after(agent: PEARLAgent, run: ExplorationRun,
                  n_trajs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """q(z | the first ``n_trajs[i]`` trajectories of task i) for every task, ``(n, L)`` each.

    ``n_trajs[i] = 0`` gives the prior. Contexts of different lengths share one batch (masks).
    """
    n, K, H = run.obs.shape[:3]
    m = np.asarray(n_trajs, dtype=np.int64)
    if m.shape != (n,) or m.min() < 0 or m.max() > K:
        raise ValueError(f"n_trajs must be (n,) = ({n},) ints in 0..{K}, got {m}")
    ctx = torch.stack([run.context(agent, i) for i in range(n)])  # (n, K * H, C)
    mask = torch.as_tensor(np.arange(K * H)[None] < (m * H)[:, None])
    mu, var = agent.infer_posterior(ctx, mask)
    return mu.numpy().astype(np.float64), var.numpy().astype(np.float64)


def _kl(mu: np.ndarray, var: np.ndarray) -> np.ndarray:
    from pearl_lite.distributions import gaussian_kl

    return gaussian_kl(torch.as_tensor(mu), torch.as_tensor(var).clamp(min=1e-12)).numpy()


def belief_measurements(agent: PEARLAgent, run: ExplorationRun, eps: Tensor,
                        radius: float = GOAL_RADIUS) -> dict[str, Any]:
    """Notebook 6's numbers for one agent: its hypotheses before any data and after a reward.

    Args:
        agent: the agent.
        run: a ``"posterior"`` :class:`ExplorationRun` of that agent.
        eps: ``(S, L)`` standard-normal draws for the hypotheses.

    Returns:
        dict of floats (means over tasks): ``prior_on_circle`` (share of the prior's
        hypotheses ending within ``radius`` of the unit semicircle), ``prior_spread`` (the
        circular std, in degrees, of their angles), ``prior_on_goal`` (share ending within
        ``radius`` of the goal), ``reward_on_goal`` and ``reward_spread`` (the same after the
        first trajectory that reached the goal, over the tasks that did), ``reward_var`` and
        ``reward_kl`` (the belief's mean variance and KL to the prior then), ``final_var`` and
        ``final_kl`` (after all trajectories), ``found`` (share of tasks with a reward).
    """
    n, K = run.reached.shape
    found = run.reached.any(1)
    first = np.argmax(run.reached, axis=1) + 1  # trajectories up to the first reward
    mu0, var0 = agent.prior(1)
    ends0 = hypothesis_endpoints(agent, mu0, var0, eps)[0]  # (S, 2): the prior's hypotheses
    out: dict[str, Any] = {"found": float(found.mean())}
    r0 = np.linalg.norm(ends0, axis=-1)
    upper = ends0[:, 1] >= -radius
    out["prior_on_circle"] = float(((np.abs(r0 - 1) <= radius) & upper).mean())
    out["prior_spread"] = _circ_std(endpoint_angles(ends0))
    out["prior_on_goal"] = float(np.mean([near_visited(ends0, g[None], radius)
                                          for g in run.goals]))
    mu_f, var_f = beliefs_after(agent, run, np.full(n, K))
    out["final_var"] = float(var_f.mean())
    out["final_kl"] = float(_kl(mu_f, var_f).mean()) if agent.encoder.is_probabilistic else \
        float("nan")
    if found.any():
        idx = np.flatnonzero(found)
        mu_r, var_r = beliefs_after(agent, run, np.where(found, first, 0))
        ends = hypothesis_endpoints(agent, mu_r[idx], var_r[idx], eps)  # (m, S, 2)
        out["reward_on_goal"] = float(np.mean([near_visited(e, run.goals[i][None], radius)
                                               for e, i in zip(ends, idx, strict=True)]))
        out["reward_spread"] = float(np.mean([_circ_std(endpoint_angles(e)) for e in ends]))
        out["reward_var"] = float(var_r[idx].mean())
        out["reward_kl"] = (float(_kl(mu_r[idx], var_r[idx]).mean())
                            if agent.encoder.is_probabilistic else float("nan"))
    else:
        for key in ("reward_on_goal", "reward_spread", "reward_var", "reward_kl"):
            out[key] = float("nan")
    return out


def _circ_std(angles_deg: np.ndarray) -> float:
    """Circular standard deviation of angles in degrees (0 when all agree)."""
    a = np.deg2rad(np.asarray(angles_deg, dtype=np.float64))
    R = min(float(np.hypot(np.cos(a).mean(), np.sin(a).mean())), 1.0)
    return abs(float(np.degrees(np.sqrt(max(-2.0 * np.log(max(R, 1e-12)), 0.0)))))


def zero_reward_test(agent: PEARLAgent, run: ExplorationRun, eps: Tensor,
                     radius: float = GOAL_RADIUS, max_trajs: int | None = None
                     ) -> dict[str, np.ndarray]:
    """Does a context without reward move the hypotheses away from where the agent has been?

    For every task of ``run`` whose first trajectory found nothing, with ``m`` = the number
    of reward-free trajectories before the first reward (at most ``max_trajs``; default the
    run's ``k_prior``, so that what was visited does not depend on the encoder), two tests:

    - after one trajectory: the share of hypotheses ending within ``radius`` of a position of
      that trajectory, for the prior (``one_prior``) and for q(z | its 20 transitions)
      (``one_post``);
    - after all ``m``: the same for the positions of the ``m`` trajectories (``all_prior``,
      ``all_post``).

    The prior's share is the baseline: an agent that learnt nothing from "no reward here"
    would keep it. Use a run whose first trajectories come from the prior (``k_prior`` 5, the
    official protocol).

    Returns:
        dict of arrays over those tasks: ``rows``, ``m``, ``one_prior``, ``one_post``,
        ``all_prior``, ``all_post``, ``var_one``, ``var_all`` (mean belief variances),
        ``kl_one`` (KL of the belief after one trajectory to the prior), ``spread_one`` (the
        circular std of the hypotheses' angles after one trajectory, degrees) and
        ``cover_one`` (the :func:`coverage` of those hypotheses' endpoints: how much of the
        semicircle they still consider); ``spread_prior`` and ``cover_prior`` are the prior's
        (one number each, as arrays of length 1).
    """
    n, K, H = run.obs.shape[:3]
    cap = int(max_trajs if max_trajs is not None else run.meta.get("k_prior", K)) or K
    found = run.reached.any(1)
    m = np.minimum(np.where(found, np.argmax(run.reached, axis=1), K), cap)
    rows = np.flatnonzero(m >= 1)
    keys = ("rows", "m", "one_prior", "one_post", "all_prior", "all_post", "var_one", "var_all",
            "kl_one", "spread_one", "cover_one", "spread_prior", "cover_prior")
    if rows.size == 0:
        return {k: np.zeros(0) for k in keys}
    mu1, var1 = beliefs_after(agent, run, np.minimum(m, 1))
    mua, vara = beliefs_after(agent, run, m)
    mu0, var0 = agent.prior(1)
    ends0 = hypothesis_endpoints(agent, mu0, var0, eps)[0]
    ends1 = hypothesis_endpoints(agent, mu1[rows], var1[rows], eps)
    endsa = hypothesis_endpoints(agent, mua[rows], vara[rows], eps)
    acc: dict[str, list[float]] = {k: [] for k in keys[2:6]}
    for j, i in enumerate(rows):
        one = run.positions[i, 0, 1:]
        every = run.positions[i, : m[i], 1:].reshape(-1, 2)
        acc["one_prior"].append(near_visited(ends0, one, radius))
        acc["one_post"].append(near_visited(ends1[j], one, radius))
        acc["all_prior"].append(near_visited(ends0, every, radius))
        acc["all_post"].append(near_visited(endsa[j], every, radius))
    out = {k: np.asarray(v, dtype=np.float64) for k, v in acc.items()}
    out.update(rows=rows, m=m[rows], var_one=var1[rows].mean(1), var_all=vara[rows].mean(1),
               kl_one=_kl(mu1[rows], var1[rows]) if agent.encoder.is_probabilistic
               else np.full(rows.size, np.nan),
               spread_one=np.array([_circ_std(endpoint_angles(e)) for e in ends1]),
               cover_one=coverage(ends1),
               spread_prior=np.array([_circ_std(endpoint_angles(ends0))]),
               cover_prior=np.array([coverage(ends0)]))
    return out


# ---------------------------------------------------------------------------------------------
# The latent space
# ---------------------------------------------------------------------------------------------


@torch.no_grad()
def final_posteriors(agent: PEARLAgent, run: ExplorationRun) -> tuple[np.ndarray, np.ndarray]:
    """q(z | whole context) of every task of ``run``: ``(mu, var)`` each ``(n, L)``."""
    ctx = torch.stack([run.context(agent, i) for i in range(len(run.goals))])
    mu, var = agent.infer_posterior(ctx)
    return mu.numpy().astype(np.float64), var.numpy().astype(np.float64)


def pca_2d(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project rows ``(n, d)`` on their two principal axes: ``(proj (n, 2), explained (2,))``.

    ``explained`` is the fraction of the total variance each axis carries.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"x must have shape (n >= 2, d), got {x.shape}")
    xc = x - x.mean(0)
    _, s, vt = np.linalg.svd(xc, full_matrices=False)
    total = (s ** 2).sum()
    k = min(2, vt.shape[0])
    proj = xc @ vt[:k].T
    if k < 2:
        proj = np.concatenate([proj, np.zeros((len(x), 2 - k))], axis=1)
    expl = np.zeros(2)
    expl[:k] = (s[:k] ** 2) / total if total > 0 else 0.0
    return proj, expl


# ---------------------------------------------------------------------------------------------
# The shipped agents
# ---------------------------------------------------------------------------------------------


@dataclass
class AgentSpec:
    """A shipped agent: its folder and the command that recreates it.

    Attributes:
        label: how the notebook names it (e.g. ``"β = 1"``).
        folder: the run folder (``config.json``, ``agent.pt``).
        overrides: the ``--set`` values of its training command.
        kl_lambda: its KL weight (``None`` for the deterministic encoder).
    """

    label: str
    folder: Path
    overrides: dict[str, Any]
    kl_lambda: float | None
    out_name: str = ""

    @property
    def command(self) -> str:
        """The training command that makes the folder's files."""
        sets = " ".join(f"{k}={v}" for k, v in self.overrides.items())
        out = self.out_name or f"runs/{self.folder.name}"
        return (f"python -m pearl_lite.train {ENV} --preset lite --seed 0"
                + (f" --set {sets}" if sets else "")
                + f" --out {out} --snapshot-every 100 --no-progress")


def agent_specs(data_dir: Path) -> list[AgentSpec]:
    """Notebook 6's agents: the lite preset at kl_lambda 0.1, 1 (shipped), 10, deterministic."""
    d = Path(data_dir)
    return [
        AgentSpec("β = 0.1", d / "sparse_point_robot_lite_kl0.1_seed0",
                  {"kl_lambda": 0.1}, 0.1, "runs/spr_kl0.1"),
        AgentSpec("β = 1", d / "sparse_point_robot_lite_decay_seed0", {}, 1.0,
                  "runs/spr_p900_lrd_s0"),
        AgentSpec("β = 10", d / "sparse_point_robot_lite_kl10_seed0",
                  {"kl_lambda": 10.0}, 10.0, "runs/spr_kl10"),
        AgentSpec("deterministic", d / "sparse_point_robot_lite_det_seed0",
                  {"use_information_bottleneck": False}, None, "runs/spr_det"),
    ]


def load_spec(spec: AgentSpec) -> tuple[PEARLAgent, Any]:
    """Load a shipped agent; one clear line if it is missing or broken.

    Raises:
        CLIError: with one line naming the file and the command that recreates it.
    """
    from pearl_lite.runtime.evaluate import load_agent

    folder = spec.folder
    path = folder / CHECKPOINT_FILE
    if not path.exists():
        path = folder / AGENT_FILE
    try:
        agent, cfg, _ = load_agent(folder)
    except CLIError as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise CLIError(f"cannot load {path} ({reason}); recreate it with `{spec.command}` and "
                       f"copy config.json, progress.csv and agent.pt into {folder}/") from None
    agent.eval()
    return agent, cfg


__all__ = ["AgentSpec", "ExplorationRun", "GoalVectorEnv", "SEMICIRCLE_ANGLES", "STRATEGIES",
           "agent_specs", "belief_measurements", "beliefs_after", "beliefs_by_size", "coverage",
           "dithering_rollout", "endpoint_angles", "explore", "final_posteriors", "goal_at",
           "hypothesis_endpoints", "load_spec", "make_goal_venv", "near_visited", "oracle_belief",
           "pca_2d", "positions_of", "scripted_positions", "semicircle_goals", "strategy_summary",
           "success_within_k", "zero_reward_test"]
