"""Measurements on a trained PEARL agent, for notebook 4's claims to be judged by numbers.

Introduced in notebook 4 (``notebooks/04_pearl.py``).

- :func:`optimal_returns`: the best return a point-robot trajectory can earn from given start
  states, computed with the environment's own dynamics and reward: the yardstick for an
  adaptation curve.
- :func:`kl_parts`: the KL of a diagonal Gaussian belief to N(0, I), split per latent dimension
  into the part the means pay and the part the variances pay.
- :func:`wasserstein_1d`, :func:`energy_distance`: distances between two samples (1-D, and in
  any dimension).
- :func:`context_mismatch`: section 1's distribution mismatch measured on a trainer: how far
  context batches from the encoder buffer (recent data) and from the RL buffer (all data) lie
  from the contexts that posterior sampling (Algorithm 2) collects, task by task, next to the
  distance between two meta-test runs of the same task (how much meta-test contexts vary).
- :func:`training_context_beliefs`: the beliefs a trained agent infers from context batches
  like those of its training (one collection round of Algorithm 1), for the KL and the
  posterior variance that ``progress.csv`` logs.
- :func:`sparse_misses`: where a sparse meta-test's failures come from: goals that posterior
  sampling never found, against goals found and then lost.
- :func:`search_repeats` (notebook 6, section 4): while the goal is still unfound, how often
  posterior sampling searches a spot that an earlier trajectory already showed to be empty,
  against how often a search point drawn at random among the goals would.
- :func:`lost_goals` (notebook 6, section 4): of the runs that find their goal, what tells
  those that lose it again from those that keep it; :func:`lost_beliefs`, which part of such a
  run's context keeps the belief on the goal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from pearl_lite.envs import make_vector_env
from pearl_lite.pearl.meta_test import posterior_sampling
from pearl_lite.pearl.sampler import rollout

# ---------------------------------------------------------------------------------------------
# The optimum of the point robots
# ---------------------------------------------------------------------------------------------


def optimal_returns(venv: Any, starts: Any = None, seed: int | None = None,
                    horizon: int | None = None) -> np.ndarray:
    """The largest return one trajectory can earn in each task of a point-robot vector env.

    The robot moves by ``clip(action, low, high)`` per coordinate and is rewarded after every
    step (``-distance`` to the goal, or the sparse reward, which only grows as the distance
    shrinks). After ``t`` steps the reachable positions are the start plus ``t`` times the
    action box, and the greedy step ``clip(goal - position, low, high)`` lands, at *every* ``t``,
    on the reachable point closest to the goal (each coordinate moves towards the goal by as
    much as the box allows until it is there). So it minimises every term of the return at
    once: it is the optimum, straight to the goal at the largest step the box allows. It is
    rolled out with ``venv.step``, the environment's own dynamics and reward.

    Args:
        venv: a ``PointRobotVectorEnv`` (``pearl_lite.envs.make_vector_env``) on the tasks.
        starts: ``(n, 2)`` start positions (e.g. ``paths.obs[:, 0]`` of a meta-test
            trajectory); default: the environment's own reset (with ``seed``).
        seed: seed of the reset when ``starts`` is not given.
        horizon: steps per trajectory; default ``venv.horizon``.

    Returns:
        ``(n,)`` returns (the environment's reward: sparse on ``sparse-point-robot``).

    The vector environment is reset (its tasks are kept).
    """
    if not hasattr(venv, "goals"):
        raise ValueError("optimal_returns needs a point-robot vector env (with .goals)")
    if starts is not None:
        starts = np.asarray(starts, dtype=np.float64)
        if starts.shape != (venv.num_envs, 2):
            raise ValueError(f"starts must have shape ({venv.num_envs}, 2), got {starts.shape}")
        obs = venv.reset(options={"state": starts})
    else:
        obs = venv.reset(seed=seed)
    low = venv.single_action_space.low.astype(np.float64)
    high = venv.single_action_space.high.astype(np.float64)
    pos = np.asarray(obs, dtype=np.float64)
    total = np.zeros(venv.num_envs)
    for _ in range(int(horizon or venv.horizon)):
        action = np.clip(venv.goals - pos, low, high)
        obs, rew, term, _trunc, _ = venv.step(action.astype(np.float32))
        total += rew
        pos = pos + action  # the env's float64 state; its float32 obs would round
        if np.any(term):
            raise ValueError("the point robots never terminate; is this a point-robot env?")
    return total


# ---------------------------------------------------------------------------------------------
# The KL bottleneck, dimension by dimension
# ---------------------------------------------------------------------------------------------


def kl_parts(mu: Any, var: Any) -> dict[str, np.ndarray]:
    """KL(N(mu, diag var) || N(0, I)) per dimension, split into its mean and variance parts.

    ``KL = 1/2 sum_d (var_d + mu_d^2 - 1 - log var_d)``: the means pay ``mu_d^2 / 2``, the
    variances ``(var_d - 1 - log var_d) / 2`` (zero at ``var_d = 1``, positive elsewhere).

    Args:
        mu, var: beliefs ``(..., latent_dim)`` (e.g. ``MetaTestResult.z_mu``, ``z_var``).

    Returns:
        ``{"kl", "mean_part", "var_part"}``, each ``(..., latent_dim)``; ``kl`` summed over the
        last axis equals ``pearl_lite.distributions.gaussian_kl(mu, var)``.
    """
    mu, var = np.asarray(mu, dtype=np.float64), np.asarray(var, dtype=np.float64)
    if mu.shape != var.shape or mu.ndim == 0:
        raise ValueError(f"mu {mu.shape} and var {var.shape} must have the same shape")
    if np.any(var <= 0):
        raise ValueError("variances must be positive")
    mean_part = 0.5 * mu ** 2
    var_part = 0.5 * (var - 1.0 - np.log(var))
    return {"kl": mean_part + var_part, "mean_part": mean_part, "var_part": var_part}


# ---------------------------------------------------------------------------------------------
# Distances between samples
# ---------------------------------------------------------------------------------------------


def wasserstein_1d(x: Any, y: Any) -> float:
    """The 1-Wasserstein (earth mover's) distance between two 1-D samples.

    ``W1 = integral |F_x(t) - F_y(t)| dt`` over the empirical distribution functions; in the
    units of the samples (0 for equal samples, ``|a - b|`` for two point masses).
    """
    x = np.sort(np.asarray(x, dtype=np.float64).ravel())
    y = np.sort(np.asarray(y, dtype=np.float64).ravel())
    if x.size == 0 or y.size == 0:
        raise ValueError("both samples must be non-empty")
    grid = np.sort(np.concatenate([x, y]))
    widths = np.diff(grid)
    fx = np.searchsorted(x, grid[:-1], side="right") / x.size
    fy = np.searchsorted(y, grid[:-1], side="right") / y.size
    return float(np.sum(np.abs(fx - fy) * widths))


def energy_distance(x: Any, y: Any) -> float:
    """The energy distance ``2 E|X - Y| - E|X - X'| - E|Y - Y'|`` between two samples.

    Args:
        x, y: ``(n, d)`` and ``(m, d)`` samples (1-D arrays are read as ``d = 1``).

    Returns:
        a float >= 0 (the V-statistic, in the units of the samples' Euclidean norm); zero only
        for equal empirical distributions.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    x = x[:, None] if x.ndim == 1 else x
    y = y[:, None] if y.ndim == 1 else y
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1] or not len(x) or not len(y):
        raise ValueError(f"samples must be (n, d) and (m, d) with d equal, got {x.shape}, "
                         f"{y.shape}")

    def mean_dist(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)).mean())

    return max(2 * mean_dist(x, y) - mean_dist(x, x) - mean_dist(y, y), 0.0)


# ---------------------------------------------------------------------------------------------
# Section 1's distribution mismatch, measured on a trainer
# ---------------------------------------------------------------------------------------------

#: The sources compared with the meta-test contexts, in the order of the tables.
MISMATCH_SOURCES = ("encoder buffer (recent data)", "RL buffer (all data)",
                    "another meta-test run")


@dataclass
class ContextMismatch:
    """Distances between context batches and meta-test contexts, per training task and run.

    Attributes:
        tasks: ``(n_tasks,)`` the training tasks (indices into the environment's task list).
        references: the two meta-test contexts compared with: the whole context, and the
            part the first posterior is inferred from (the trajectories with z from the prior).
        sizes: ``{reference: transitions in that context}``; every batch compared with it has
            the same size.
        w1: ``{reference: {source: (n_tasks, n_runs)}}`` 1-Wasserstein distance of the rewards.
        energy: the same layout, energy distance of the whole context vectors (what the
            encoder reads).
    """

    tasks: np.ndarray
    references: tuple[str, ...]
    sizes: dict[str, int]
    w1: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    energy: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)

    def summary(self, metric: str = "w1") -> dict[str, dict[str, tuple[float, float]]]:
        """``{reference: {source: (mean, std)}}`` over tasks of the per-task mean over runs."""
        table = {"w1": self.w1, "energy": self.energy}[metric]
        return {ref: {src: (float(d.mean(1).mean()), float(d.mean(1).std()))
                      for src, d in per_src.items()} for ref, per_src in table.items()}

    def closer_fraction(self, reference: str, metric: str = "w1") -> float:
        """Fraction of tasks where the encoder buffer is closer than the RL buffer (run means)."""
        table = {"w1": self.w1, "energy": self.energy}[metric][reference]
        enc, rl = (table[s].mean(1) for s in MISMATCH_SOURCES[:2])
        return float((enc < rl).mean())


def _buffer_sample(buf: Any, slot: int, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """``n`` transitions of one task's buffer, without replacement when it holds enough.

    Reads the buffer's arrays directly, so the trainer's own random streams are left alone.
    """
    size = int(buf.sizes[slot])
    if size == 0:
        raise ValueError(f"task slot {slot} has an empty buffer")
    idx = rng.choice(size, size=n, replace=size < n)
    return {k: buf.data[k][slot, idx] for k in ("obs", "act", "rew", "next_obs")}


def _context_matrix(agent: Any, t: dict[str, np.ndarray]) -> np.ndarray:
    """The context vectors the encoder reads, ``(n, context_dim)``."""
    ctx = agent.context(*(torch.as_tensor(np.asarray(t[k], dtype=np.float32))
                          for k in ("obs", "act", "rew", "next_obs")))
    return ctx.cpu().numpy()


def context_mismatch(trainer: Any, n_runs: int = 3, tasks: Any = None, seed: int = 0
                     ) -> ContextMismatch:
    """Section 1's distribution mismatch on a trainer's buffers, per training task.

    For each training task (default: all of them) and each of ``n_runs`` runs:

    1. run posterior sampling (Algorithm 2, :func:`~pearl_lite.pearl.meta_test.
       posterior_sampling`, the config's protocol) with the trainer's agent on the *training*
       tasks, so that buffers and meta-test contexts belong to the same task;
    2. take two references from that run: the whole meta-test context (all its trajectories),
       and the context the first posterior is inferred from (the ``num_exp_traj_eval``
       trajectories with z from the prior);
    3. for each reference of ``n`` transitions, draw ``n`` transitions from the task's encoder
       buffer (recent data), ``n`` from its RL buffer (all data), and take the same reference
       of an independent meta-test run of the task (two samples of one distribution are not at
       distance 0; a meta-test context is a few whole trajectories, strongly correlated
       transitions, so a batch drawn independently from a broad buffer can even come closer to
       it than another run does);
    4. compute the 1-Wasserstein distance of their rewards (the statistic of section 1) and the
       energy distance of the context vectors.

    The trainer is not changed (its random streams neither). On sparse tasks the RL buffer
    stores the critic's dense reward and the contexts the sparse one, so the comparison is only
    meaningful where both hold the same reward: a ``ValueError`` otherwise.

    Args:
        trainer: a :class:`~pearl_lite.pearl.meta_train.MetaTrainer` that has trained.
        n_runs: independent meta-test runs (the run-to-run comparison uses one more).
        tasks: training-task slots (positions in ``trainer.train_tasks``); default all.
        seed: seeds z, the reset noise and the buffer draws.

    Returns:
        :class:`ContextMismatch`.
    """
    cfg, agent = trainer.cfg, trainer.agent
    if cfg.is_sparse and not cfg.sparse_rewards_for_critic:  # the RL buffer has the dense one
        raise ValueError("the RL buffer holds the dense reward and the contexts the sparse one; "
                         "context_mismatch compares buffers that store the same reward")
    if n_runs < 1:
        raise ValueError(f"n_runs must be positive, got {n_runs}")
    slots = np.arange(len(trainer.train_tasks)) if tasks is None else np.asarray(tasks, int)
    task_idx = trainer.train_tasks[slots]
    n_trajs = int(np.ceil(cfg.num_steps_per_eval / cfg.max_path_length))
    k_prior = min(cfg.num_exp_traj_eval, n_trajs)
    venv = make_vector_env(cfg.env, task_idx, seed=0, n_tasks=cfg.n_tasks)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    rng = np.random.default_rng(seed)
    was_training = agent.training
    agent.eval()
    runs = []  # per run, per reference: a list over tasks of transition dicts
    for run in range(n_runs + 1):
        paths, _, _ = posterior_sampling(agent, venv, n_trajs, k_prior, cfg.max_path_length,
                                         gen, cfg.eval_deterministic,
                                         env_seed=seed * 7919 + 1000 * run)
        per_ref = {}
        prior_name = "trajectory" if k_prior == 1 else f"{k_prior} trajectories"
        for ref, ps in ((f"whole meta-test context ({n_trajs} trajectories)", paths),
                        (f"first posterior's context (the prior {prior_name})",
                         paths[:k_prior])):
            per_ref[ref] = [
                {k: np.concatenate([p.task(row)[k2] for p in ps]) for k, k2 in
                 (("obs", "obs"), ("act", "act"), ("rew", "reward"), ("next_obs", "next_obs"))}
                for row in range(len(slots))]
        runs.append(per_ref)
    agent.train(was_training)

    references = tuple(runs[0])
    sizes = {ref: len(runs[0][ref][0]["rew"]) for ref in references}
    out = ContextMismatch(np.asarray(task_idx, dtype=np.int64), references, sizes)
    for ref in references:
        n = sizes[ref]
        w1 = {s: np.zeros((len(slots), n_runs)) for s in MISMATCH_SOURCES}
        en = {s: np.zeros((len(slots), n_runs)) for s in MISMATCH_SOURCES}
        for i, slot in enumerate(slots):
            for r in range(n_runs):
                target = runs[r][ref][i]
                others = {
                    MISMATCH_SOURCES[0]: _buffer_sample(trainer.enc_buffer, int(slot), n, rng),
                    MISMATCH_SOURCES[1]: _buffer_sample(trainer.rl_buffer, int(slot), n, rng),
                    MISMATCH_SOURCES[2]: runs[r + 1][ref][i],
                }
                tgt_ctx = _context_matrix(agent, target)
                for src, batch in others.items():
                    w1[src][i, r] = wasserstein_1d(batch["rew"], target["rew"])
                    en[src][i, r] = energy_distance(_context_matrix(agent, batch), tgt_ctx)
        out.w1[ref], out.energy[ref] = w1, en
    return out


def training_context_beliefs(agent: Any, cfg: Any, seed: int = 0, n_batches: int = 1
                             ) -> dict[str, np.ndarray]:
    """q(z | c) of an agent on context batches like those of its training.

    Runs one collection round of Algorithm 1 (``MetaTrainer.collection_round``: each training
    task's encoder buffer filled with ``num_steps_prior`` transitions with z from the prior and
    ``num_steps_posterior`` with z from the posterior) with ``agent``'s networks (``None``: the
    networks a ``MetaTrainer(cfg, seed)`` starts from, i.e. a run's untrained agent), then draws
    ``n_batches`` context batches of ``embedding_batch_size`` per task, as a gradient step does,
    and infers the belief from each. What ``progress.csv`` logs as ``kl`` and ``z_var`` is the
    mean over tasks of this belief's KL and of its variance (over dimensions too).

    Side effect: seeds the global random generators (``MetaTrainer`` does).

    Returns:
        ``{"mu", "var"}`` ``(n_batches * n_train, latent_dim)`` and ``"reward_fraction"``
        ``(n_batches * n_train,)``: the fraction of each batch's transitions with a non-zero
        reward (on sparse tasks: transitions inside the goal radius).
    """
    from pearl_lite.pearl.meta_train import MetaTrainer

    device = "cpu" if agent is None else agent.log_alpha.device
    trainer = MetaTrainer(cfg, seed=seed, device=device)
    if agent is not None:
        trainer.agent.load_state_dict(agent.state_dict())
    slots = np.arange(len(trainer.train_tasks))
    trainer.collection_round(slots)
    mus, variances, fracs = [], [], []
    with torch.no_grad():
        for _ in range(n_batches):
            b = trainer.enc_buffer.sample(slots, cfg.embedding_batch_size)
            mu, var = trainer.agent.encoder(trainer.agent.context(b["obs"], b["act"], b["rew"],
                                                                  b["next_obs"]))
            mus.append(mu.cpu().numpy())
            variances.append(var.cpu().numpy())
            fracs.append((b["rew"] != 0).float().mean(1).cpu().numpy())
    return {"mu": np.concatenate(mus), "var": np.concatenate(variances),
            "reward_fraction": np.concatenate(fracs)}


# ---------------------------------------------------------------------------------------------
# Sparse tasks: failures of exploration against failures of exploitation
# ---------------------------------------------------------------------------------------------


def sparse_misses(success_runs: Any) -> dict[str, float]:
    """Split the failures of a sparse meta-test into never finding the goal and losing it.

    Args:
        success_runs: ``(runs, tasks, trajectories)`` of 0/1, whether each trajectory of each
            meta-test run reached the goal region (``MetaTestResult.success_runs``).

    Returns:
        fractions of the ``runs * tasks`` meta-test runs: ``final`` (the last trajectory
        succeeds: the paper's metric), ``found`` (some earlier trajectory did), ``lost``
        (found earlier, yet the last one fails: the posterior did not keep to the goal),
        ``never`` (no trajectory before the last found it: exploration failed), and
        ``lucky`` (the last succeeds without an earlier one). ``final = found - lost + lucky``.
    """
    s = np.asarray(success_runs, dtype=float)
    if s.ndim != 3 or s.shape[-1] < 2:
        raise ValueError("success_runs must be (runs, tasks, trajectories) with at least 2 "
                         f"trajectories, got shape {s.shape}")
    found = s[:, :, :-1].max(-1) > 0
    final = s[:, :, -1] > 0
    return {"final": float(final.mean()), "found": float(found.mean()),
            "lost": float((found & ~final).mean()), "never": float((~found).mean()),
            "lucky": float((~found & final).mean())}


def _positions_and_success(next_obs_runs: Any, success_runs: Any) -> tuple[np.ndarray, np.ndarray]:
    """``next_obs_runs`` and ``success_runs`` as float arrays, their shapes checked together."""
    pos = np.asarray(next_obs_runs, dtype=float)
    s = np.asarray(success_runs, dtype=float)
    if pos.ndim != 5 or pos.shape[-1] != 2 or pos.shape[:3] != s.shape:
        raise ValueError("next_obs_runs must be (runs, tasks, trajectories, H, 2) and "
                         "success_runs (runs, tasks, trajectories) with the same first three "
                         f"sizes, got shapes {pos.shape} and {s.shape}")
    return pos, s


def search_repeats(next_obs_runs: Any, success_runs: Any, goals: Any,
                   num_exp_traj_eval: int, radius: float = 0.1) -> dict[str, float]:
    """How often posterior sampling searches again where an earlier trajectory found nothing.

    For every meta-test run and every posterior trajectory (index ``k >= num_exp_traj_eval``)
    before the run's first success: its *search point* is the position farthest from the
    origin (where the robot starts; for the sparse point robot, where the trajectory aimed).
    The trajectory *repeats* if that point lies within ``radius`` of a position that an
    earlier trajectory of the same run visited (all of them rewardless, since the goal is not
    yet found). The *chance* rate is the fraction of ``goals`` within ``radius`` of those same
    earlier positions: how often a search point drawn at random among the possible goals
    would repeat. A belief that learns from empty searches repeats less often than chance;
    one that is drawn back to where it has been, more often.

    Args:
        next_obs_runs: ``(runs, tasks, trajectories, H, 2)`` positions
            (``MetaTestResult.next_obs_runs``).
        success_runs: ``(runs, tasks, trajectories)`` 0/1, did each trajectory reach the goal.
        goals: ``(G, 2)`` the goals of the task family (all tasks, for the chance rate).
        num_exp_traj_eval: the trajectories with z from the prior, which are not counted.
        radius: how close counts as the same spot (default: half the goal radius, 0.1).

    Returns:
        ``repeat`` and ``chance`` (fractions of the counted trajectories; NaN when none is
        counted), ``n``, how many trajectories were counted, and ``sectors``: for each quarter
        of the upper half-plane by the search point's angle (0-45, 45-90, 90-135 and 135-180
        degrees; angles below 0 count as 0 and above 180 as 180), ``(repeats, searches)``.
    """
    pos, s = _positions_and_success(next_obs_runs, success_runs)
    g = np.asarray(goals, dtype=float)
    if g.ndim != 2 or g.shape[1] != 2:
        raise ValueError(f"goals must be (G, 2), got shape {g.shape}")
    repeats, chance, sectors = [], [], np.zeros((4, 2), dtype=int)
    for r in range(s.shape[0]):
        for t in range(s.shape[1]):
            for k in range(num_exp_traj_eval, s.shape[2]):
                if s[r, t, :k].any():
                    break  # found: the search is over
                far = _search_point(pos[r, t, k])
                earlier = pos[r, t, :k].reshape(-1, 2)
                repeats.append(np.linalg.norm(earlier - far, axis=-1).min() < radius)
                angle = np.degrees(np.arctan2(far[1], far[0]))
                sectors[int(np.clip(angle // 45, 0, 3))] += (int(repeats[-1]), 1)
                d = np.linalg.norm(g[:, None] - earlier[None], axis=-1).min(-1)  # (G,)
                chance.append((d < radius).mean())
    n = len(repeats)
    return {"repeat": float(np.mean(repeats)) if n else float("nan"),
            "chance": float(np.mean(chance)) if n else float("nan"), "n": n,
            "sectors": [tuple(int(x) for x in row) for row in sectors]}


def _search_point(traj: np.ndarray) -> np.ndarray:
    """The position of a ``(H, 2)`` trajectory farthest from the origin: where it aimed."""
    return traj[np.argmax(np.linalg.norm(traj, axis=-1))]


def _angle_from(goal: np.ndarray, p: np.ndarray) -> float:
    """Signed angle in degrees from the direction of ``goal`` to that of ``p``, in [-180, 180)."""
    a = np.degrees(np.arctan2(p[1], p[0]) - np.arctan2(goal[1], goal[0]))
    return float((a + 180) % 360 - 180)


def lost_goals(next_obs_runs: Any, success_runs: Any, goals: Any,
               num_exp_traj_eval: int) -> dict[str, float]:
    """Sparse meta-test runs that find their goal: what tells those that lose it from the rest.

    For every meta-test run in which a trajectory before the last reaches the goal, take the
    first such trajectory (the *find*) and the posterior trajectories after it (index at least
    ``num_exp_traj_eval``). The run is *lost* when its last trajectory misses (as in
    :func:`sparse_misses`), else *kept*. Compared between the two: how close the find came to
    the goal (a find at the edge of the goal region, a graze, says less about where the goal
    is than one through its middle), and how many of the later trajectories reach the goal.
    For the lost runs, where the later misses aim: the signed angle from the goal to each
    miss's search point (the position farthest from the origin), on the goals' semicircle.

    Args:
        next_obs_runs: ``(runs, tasks, trajectories, H, 2)`` positions
            (``MetaTestResult.next_obs_runs``).
        success_runs: ``(runs, tasks, trajectories)`` 0/1, did each trajectory reach the goal.
        goals: ``(tasks, 2)`` the goal of each meta-tested task.
        num_exp_traj_eval: the trajectories with z from the prior.

    Returns:
        ``found`` and ``lost``, counts of runs; ``closest_kept`` and ``closest_lost``, the median
        over runs of the find's smallest distance to the goal; ``later_kept`` and
        ``later_lost``, the share of the later trajectories that reach the goal (pooled over
        runs); ``miss_angle``, the median absolute angle in degrees from the goal to the later
        misses of lost runs; ``same_side``, the share of lost runs whose misses (their median
        angle) lie on the side of the goal the find aimed at. NaN where nothing is counted.
    """
    pos, s = _positions_and_success(next_obs_runs, success_runs)
    g = np.asarray(goals, dtype=float)
    if g.shape != (s.shape[1], 2):
        raise ValueError(f"goals must be (tasks, 2) = ({s.shape[1]}, 2), one goal per task, "
                         f"got shape {g.shape}")

    closest: dict[bool, list[float]] = {True: [], False: []}  # keyed by "lost"
    later: dict[bool, list[float]] = {True: [], False: []}
    miss_angles, same_side = [], []
    for r in range(s.shape[0]):
        for t in range(s.shape[1]):
            hits = np.flatnonzero(s[r, t, :-1])
            if hits.size == 0:
                continue  # never found
            find, goal = hits[0], g[t]
            lost = not s[r, t, -1]
            closest[lost].append(float(np.linalg.norm(pos[r, t, find] - goal, axis=-1).min()))
            ks = range(max(find + 1, num_exp_traj_eval), s.shape[2])
            later[lost] += [float(s[r, t, k]) for k in ks]
            misses = [_angle_from(goal, _search_point(pos[r, t, k])) for k in ks
                      if not s[r, t, k]]
            if lost and misses:
                miss_angles += misses
                aim = _angle_from(goal, _search_point(pos[r, t, find]))
                same_side.append(float(np.sign(np.median(misses)) * np.sign(aim) > 0))
    nan = float("nan")
    return {"found": len(closest[False]) + len(closest[True]), "lost": len(closest[True]),
            "closest_kept": float(np.median(closest[False])) if closest[False] else nan,
            "closest_lost": float(np.median(closest[True])) if closest[True] else nan,
            "later_kept": float(np.mean(later[False])) if later[False] else nan,
            "later_lost": float(np.mean(later[True])) if later[True] else nan,
            "miss_angle": float(np.median(np.abs(miss_angles))) if miss_angles else nan,
            "same_side": float(np.mean(same_side)) if same_side else nan}


#: The parts of a found run's context that :func:`lost_beliefs` infers a belief from.
BELIEF_PARTS = ("whole", "find", "find_and_later")


@torch.no_grad()
def lost_beliefs(agent: Any, cfg: Any, task_indices: Any, num_evals: int = 5,
                 seed: int = 0) -> dict[str, dict[str, tuple[int, int]]]:
    """Which part of a found run's context keeps the belief on the goal, and which pulls it off.

    Meta-tests ``agent`` as :func:`pearl_lite.pearl.meta_test.meta_test` does with the same
    ``seed`` (the same draws of z, the same start states: the same runs). For every run in which
    a trajectory before the last reaches the goal (the first one is the *find*), the belief is
    inferred again after the last trajectory from one part of the run's context:

    - ``"whole"``: all of it (the belief the next trajectory would be drawn from);
    - ``"find"``: the find alone;
    - ``"find_and_later"``: the find and every trajectory after it.

    One trajectory is then run with the *mean* of each belief (no draw), and it is counted
    whether it reaches the goal, separately for runs whose last trajectory kept the goal and
    runs that lost it (:func:`lost_goals`).

    Returns:
        ``{part: {"kept": (hits, runs), "lost": (hits, runs)}}`` for each part in
        :data:`BELIEF_PARTS`.
    """
    idx = np.asarray(task_indices, dtype=np.int64)
    venv = make_vector_env(cfg.env, idx, seed=0, n_tasks=cfg.n_tasks)
    n_trajs = math.ceil(cfg.num_steps_per_eval / cfg.max_path_length)
    horizon, device = cfg.max_path_length, agent.log_alpha.device
    gen = torch.Generator(device="cpu").manual_seed(seed)
    counts = {part: {"kept": [0, 0], "lost": [0, 0]} for part in BELIEF_PARTS}
    was_training = agent.training
    agent.eval()
    for run in range(num_evals):
        paths, _, _ = posterior_sampling(agent, venv, n_trajs, cfg.num_exp_traj_eval, horizon,
                                         gen, cfg.eval_deterministic, env_seed=1000 * run)
        context = torch.cat([agent.context(*(torch.as_tensor(x, device=device) for x in (
            p.obs, p.act, p.reward, p.next_obs))) for p in paths], 1)  # (n, K * H, context_dim)
        valid = np.concatenate([p.valid for p in paths], 1)  # (n, K * H)
        s = np.stack([p.reached for p in paths], 1)  # (n, K): did trajectory k reach the goal
        found, lost = s[:, :-1].any(1), ~s[:, -1]
        find = s[:, :-1].argmax(1)[:, None]  # (n, 1): the first trajectory that reached it
        traj = np.repeat(np.arange(n_trajs), horizon)[None]  # (1, K * H): each step's trajectory
        parts = {"whole": traj >= 0, "find": traj == find, "find_and_later": traj >= find}
        for part, keep in parts.items():
            mu, _ = agent.infer_posterior(context, torch.as_tensor(valid & keep, device=device))
            hit = rollout(agent.policy, venv, mu, horizon, deterministic=True,
                          seed=1000 * run + n_trajs).reached
            for name, runs in (("kept", found & ~lost), ("lost", found & lost)):
                counts[part][name][0] += int(hit[runs].sum())
                counts[part][name][1] += int(runs.sum())
    agent.train(was_training)
    return {part: {k: (v[0], v[1]) for k, v in c.items()} for part, c in counts.items()}


def busiest_sector(sectors: Any) -> tuple[int, int, int, int]:
    """The quarter of :func:`search_repeats`'s ``sectors`` with the most repeated searches.

    Returns ``(from_degrees, to_degrees, repeats, searches)``, e.g. ``(135, 180, 251, 333)``.
    """
    k = max(range(len(sectors)), key=lambda i: sectors[i][0])
    return 45 * k, 45 * k + 45, *sectors[k]


__all__ = ["BELIEF_PARTS", "MISMATCH_SOURCES", "ContextMismatch", "busiest_sector",
           "context_mismatch", "energy_distance", "kl_parts", "lost_beliefs", "lost_goals",
           "optimal_returns", "search_repeats", "sparse_misses", "training_context_beliefs",
           "wasserstein_1d"]
