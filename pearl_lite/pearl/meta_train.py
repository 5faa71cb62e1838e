"""Meta-training (Algorithm 1 of the paper), one iteration at a time.

Introduced in notebook 4. Each iteration has three parts:

1. **Collect** (:meth:`MetaTrainer.collect`): for a few training tasks, all stepped together in
   one vector environment, run the current policy with z from the prior and then from the
   posterior, and store the transitions. Two buffers per task, the paper's two samplers: the
   RL buffer keeps all of a task's data (the actor-critic's off-policy batches); the encoder
   buffer only the *recent* data (emptied before new data is collected for that task), so that
   training contexts look like the on-policy contexts the encoder sees at meta-test.
2. **Train** (:class:`~pearl_lite.pearl.learner.PEARLLearner`): gradient steps on meta-batches of
   tasks, each a context batch from the encoder buffer and an RL batch from the RL buffer.
3. **Meta-test** now and then (:func:`~pearl_lite.pearl.meta_test.meta_test`, Algorithm 2).

With ``async_collection`` the collection of step 1 runs in a second process during step 2
(:mod:`~pearl_lite.pearl.collector`, which says exactly what that changes).

**Sparse rewards, the official protocol.** On ``sparse-point-robot`` the critic is trained on
the dense reward (the RL buffer stores it) while the encoder's context holds only the sparse
reward (the encoder buffer stores that); meta-test returns are sparse.
``sparse_rewards_for_critic=True`` trains the critic on the sparse reward as well, which is
harder than the paper's setting.

Usage::

    cfg = get_config("sparse-point-robot", "lite")
    trainer = MetaTrainer(cfg, seed=0)
    for row in trainer.iterations():          # one dict per iteration, e.g. for live plots
        print(row["iteration"], row["test_return"])
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch

from pearl_lite.buffers import MultiTaskReplayBuffer
from pearl_lite.config import PEARLConfig
from pearl_lite.encoder import make_context
from pearl_lite.envs import make_env, make_vector_env
from pearl_lite.envs.vector import switch_tasks
from pearl_lite.exercises import implementation
from pearl_lite.nets import polyak_update
from pearl_lite.pearl.agent import PEARLAgent
from pearl_lite.pearl.collector import CollectorProcess
from pearl_lite.pearl.learner import PEARLLearner
from pearl_lite.pearl.meta_test import MetaTestResult, meta_test
from pearl_lite.pearl.sampler import Paths, rollout
from pearl_lite.utils import seed_everything

Tensor = torch.Tensor


class MetaTrainer:
    """PEARL's meta-training loop (Algorithm 1), one iteration at a time.

    Each iteration: (iteration 0 only) ``num_initial_steps`` per training task with z ~ prior;
    then for ``num_tasks_sample`` distinct training tasks, all stepped together: clear the task's
    encoder buffer, collect ``num_steps_prior`` transitions with z ~ prior (to both buffers),
    ``num_steps_posterior`` with z ~ posterior (both buffers), ``num_extra_rl_steps_posterior``
    with z ~ posterior (RL buffer only); then ``num_train_steps_per_itr`` gradient steps on
    meta-batches; then (every ``eval_every`` iterations) meta-test on the test tasks.

    Args:
        cfg: the run's config.
        seed: seeds torch, NumPy, Python, the buffers and every environment reset.
        device: torch device (``"cpu"`` or ``"cuda"``).

    Side effect: ``torch.set_num_threads(cfg.torch_threads)`` (process-wide).

    Attributes:
        agent, eval_agent (what is meta-tested: ``agent``, or with ``eval_tau < 1`` a Polyak
        average of its weights), learner, gradient_step (the learner's step, or its CUDA-graph
        replay), env (a single env holding the tasks and the train/test split), rl_buffer,
        enc_buffer, iteration (iterations done), env_steps, grad_steps, elapsed (training
        seconds).

    Checkpoints (everything needed to continue exactly) are written and read by
    ``pearl_lite.runtime.checkpoint``.
    """

    def __init__(self, cfg: PEARLConfig, seed: int = 0, device: str | torch.device = "cpu"):
        self.cfg, self.seed, self.device = cfg, int(seed), torch.device(device)
        torch.set_num_threads(cfg.torch_threads)
        self.rng = seed_everything(self.seed)  # Python, NumPy and torch; and our own Generator
        # The task list does not depend on the seed: every run sees the same tasks (env seed 0).
        self.env = make_env(cfg.env, n_tasks=cfg.n_tasks, seed=0)
        if cfg.max_path_length > self.env.horizon:
            raise ValueError(f"max_path_length {cfg.max_path_length} exceeds the horizon "
                             f"{self.env.horizon} of {cfg.env}")
        self.train_tasks = np.asarray(self.env.train_task_idx, dtype=np.int64)
        self.test_tasks = np.asarray(self.env.test_task_idx, dtype=np.int64)
        obs_dim = self.env.observation_space.shape[0]
        act_dim = self.env.action_space.shape[0]
        self.agent = PEARLAgent(obs_dim, act_dim, cfg).to(self.device)
        self.learner = PEARLLearner(self.agent, cfg)
        #: The agent that is meta-tested and saved as ``agent.pt``: ``agent`` itself, or with
        #: ``eval_tau < 1`` a Polyak average of its weights (:meth:`update_eval_agent`).
        self.eval_agent = self.agent if cfg.eval_tau == 1.0 else \
            copy.deepcopy(self.agent).requires_grad_(False)
        #: The gradient step, ``(batch, context) -> stats``: the learner's eager step, or the
        #: same step replayed as a CUDA graph (``pearl_lite.runtime.cuda_graphs``).
        self.gradient_step: Callable[[dict[str, Tensor], Tensor], dict[str, Tensor]] = \
            self.learner.update
        n_train = len(self.train_tasks)
        # Buffers are indexed by position in train_tasks (0..n_train-1).
        # The RL buffers start small and double when needed, up to replay_buffer_size.
        per_visit = cfg.num_steps_prior + cfg.num_steps_posterior + \
            cfg.num_extra_rl_steps_posterior
        first = max(cfg.num_initial_steps, per_visit) + 2 * cfg.max_path_length
        self.rl_buffer = MultiTaskReplayBuffer(n_train, obs_dim, act_dim,
                                               min(first, cfg.replay_buffer_size),
                                               seed=self.seed, device=self.device)
        enc_cap = max(cfg.num_initial_steps, cfg.num_steps_prior + cfg.num_steps_posterior) + \
            2 * cfg.max_path_length
        if cfg.enc_buffer_size is not None:  # kept across iterations: grows like the RL buffer
            enc_cap = min(enc_cap, cfg.enc_buffer_size)
        self.enc_buffer = MultiTaskReplayBuffer(n_train, obs_dim, act_dim, enc_cap,
                                                seed=self.seed + 1, device=self.device)
        self.iteration = 0
        self.env_steps = 0
        self.grad_steps = 0
        self.elapsed = 0.0  # wall-clock seconds of training so far (summed over resumes)
        self.last_eval: MetaTestResult | None = None
        self._venv: Any = None
        self._eval_venv: Any = None
        #: ``async_collection``: the worker process (started on first use; :meth:`close`).
        self.collector: CollectorProcess | None = None
        self._collector_state: dict[str, Any] | None = None  # to load when it starts
        #: When a list, :meth:`store` also appends each batch to it (the collector's worker).
        self.recording: list | None = None

    @property
    def eval_tasks(self) -> np.ndarray:
        """The test tasks meta-tested during training (the first ``n_eval_tasks``, or all)."""
        n = self.cfg.n_eval_tasks
        return self.test_tasks[:n] if n else self.test_tasks

    # ---- data collection ----------------------------------------------------------------

    def _vector_env(self, tasks: np.ndarray) -> Any:
        """The trainer's one vector environment, switched to ``tasks`` (built on first use)."""
        if self._venv is None:
            self._venv = make_vector_env(self.cfg.env, tasks, seed=0, n_tasks=self.cfg.n_tasks)
        else:
            switch_tasks(self._venv, tasks)
        return self._venv

    def store(self, slots: np.ndarray, paths: Paths, to_enc: bool) -> None:
        """Add one trajectory per task slot to its RL buffer (and encoder buffer if ``to_enc``).

        The RL buffers double in size when full, up to ``replay_buffer_size``; then
        :func:`store_paths` (the learner's Ex 4.5 after ``exercises.use("mine")``) applies the
        sparse-reward protocol.
        """
        if self.recording is not None:
            self.recording.append((np.array(slots), paths, to_enc))
        need = int((self.rl_buffer.sizes[slots] + paths.lengths).max())
        _grow_to(self.rl_buffer, need, self.cfg.replay_buffer_size)
        if to_enc and self.cfg.enc_buffer_size is not None:  # a kept encoder buffer grows too
            need = int((self.enc_buffer.sizes[slots] + paths.lengths).max())
            _grow_to(self.enc_buffer, need, self.cfg.enc_buffer_size)
        implementation("ex4_pearl.store_paths", store_paths)(
            self.rl_buffer, self.enc_buffer, slots, paths, to_enc,
            self.cfg.sparse_rewards_for_critic)

    def context_batch(self, slots: np.ndarray, n: int | None = None) -> Tensor:
        """A context batch ``(T, N, context_dim)`` of each task slot's recent data.

        :func:`sample_context` (the learner's Ex 4.1 after ``exercises.use("mine")``).
        """
        sample = implementation("ex4_pearl.sample_context", sample_context)
        return sample(self.rl_buffer, self.enc_buffer, slots, n or self.cfg.embedding_batch_size,
                      self.agent.use_next_obs_in_context)

    def train_context_batch(self, task_slots: np.ndarray) -> Tensor:
        """The context batch ``(T, N, context_dim)`` of one gradient step.

        The paper's S_c (:meth:`context_batch`), except with ``prior_context_fraction``: then
        the first ``k`` rows hold only each task's prior-phase data (collected with z ~ prior,
        the first ``num_steps_prior`` transitions of a freshly emptied encoder buffer). Those
        trajectories go wherever the prior sends them, like the first ones of a meta-test, so
        on a sparse task such a context is often one in which every search failed: the context
        a meta-test holds until it finds the goal, and one the paper's S_c rarely draws once
        the agent is good (notebook 6, section 4).
        """
        cfg = self.cfg
        k = round(cfg.prior_context_fraction * len(task_slots))
        if k == 0:
            return self.context_batch(task_slots)
        b = self.enc_buffer.sample(task_slots[:k], cfg.embedding_batch_size,
                                   first=cfg.num_steps_prior)
        prior = self.agent.context(b["obs"], b["act"], b["rew"], b["next_obs"])
        if k == len(task_slots):
            return prior
        return torch.cat([prior, self.context_batch(task_slots[k:])])

    def collect(self, slots: np.ndarray, num_steps: int, posterior: bool, to_enc: bool) -> list:
        """Collect ``num_steps`` transitions (whole trajectories) in each task slot, batched.

        Starts from the prior; with ``posterior`` the belief is re-inferred from a context
        batch of the encoder buffer every ``update_post_train`` trajectories (official
        ``collect_data``). z is re-sampled before every trajectory. Returns the returns of
        the trajectories collected with the posterior (or all of them when from the prior).
        """
        cfg = self.cfg
        slots = np.asarray(slots, dtype=np.int64)
        counts = np.zeros(len(slots), dtype=np.int64)
        mu, var = self.agent.prior(len(slots))
        returns: list[float] = []
        n_traj = 0
        while (counts < num_steps).any():
            active = counts < num_steps
            venv = self._vector_env(self.train_tasks[slots[active]])
            z = self.agent.sample_z(mu[active], var[active])
            paths = rollout(self.agent.policy, venv, z, cfg.max_path_length,
                            seed=int(self.rng.integers(2**31)))
            self.store(slots[active], paths, to_enc)
            counts[active] += paths.lengths
            self.env_steps += int(paths.lengths.sum())
            if not posterior or n_traj > 0:
                returns.extend(paths.returns.tolist())
            n_traj += 1
            if posterior and n_traj % cfg.update_post_train == 0:
                mu, var = self.agent.infer_posterior(self.context_batch(slots))
        return returns

    # ---- one iteration ------------------------------------------------------------------

    def initial_collection(self) -> list[float]:
        """Algorithm 1's initial data: ``num_initial_steps`` transitions per training task
        with z from the prior, to both buffers (before the first gradient step)."""
        return self.collect(np.arange(len(self.train_tasks)), self.cfg.num_initial_steps,
                            posterior=False, to_enc=True)

    def clear_enc(self, slots: np.ndarray) -> None:
        """Empty the encoder buffers of ``slots`` (oyster: the context is only this iteration's
        data), unless ``enc_buffer_size`` keeps older data."""
        if self.cfg.enc_buffer_size is None:
            for s in slots:
                self.enc_buffer.clear(int(s))

    def collection_round(self, slots: np.ndarray) -> list[float]:
        """Algorithm 1's data collection for the sampled task slots, all stepped together.

        Each task's encoder buffer is emptied first (it holds only recent data; see
        ``enc_buffer_size``); then
        ``num_steps_prior`` transitions with z from the prior go to both buffers,
        ``num_steps_posterior`` with z from the posterior to both, and
        ``num_extra_rl_steps_posterior`` with z from the posterior to the RL buffer only.
        Returns the returns of the trajectories collected.
        """
        cfg = self.cfg
        self.clear_enc(slots)
        returns: list[float] = []
        if cfg.num_steps_prior > 0:
            returns += self.collect(slots, cfg.num_steps_prior, False, to_enc=True)
        if cfg.num_steps_posterior > 0:
            returns += self.collect(slots, cfg.num_steps_posterior, True, to_enc=True)
        if cfg.num_extra_rl_steps_posterior > 0:
            returns += self.collect(slots, cfg.num_extra_rl_steps_posterior, True, to_enc=False)
        return returns

    def train_steps(self) -> dict[str, Tensor]:
        """Algorithm 1's ``num_train_steps_per_itr`` gradient steps; the sums of their stats.

        Each step draws ``meta_batch`` training tasks (with replacement) and, for each, an RL
        batch from its RL buffer and a context batch from its encoder buffer (the two samplers;
        :meth:`train_context_batch`).
        """
        cfg = self.cfg
        self.agent.train()
        self.learner.set_lr_scale(self.learner.lr_scale(self.iteration))
        sums: dict[str, Tensor] = {}  # the sums stay tensors: no device sync per step
        for _ in range(cfg.num_train_steps_per_itr):
            task_slots = self.rng.choice(len(self.train_tasks), size=cfg.meta_batch)
            batch = self.rl_buffer.sample(task_slots, cfg.batch_size)
            stats = self.gradient_step(batch, self.train_context_batch(task_slots))
            for k, v in stats.items():
                sums[k] = sums.get(k, 0.0) + v
            self.grad_steps += 1
        return sums

    def update_eval_agent(self) -> None:
        """Move the meta-tested average towards the latest weights by ``eval_tau``.

        Every gradient step moves the weights a little; late in training those moves make the
        meta-test success swing from one snapshot to the next. An average of the last
        ~``1 / eval_tau`` iterations' weights (Polyak & Juditsky's iterate averaging) swings
        less. It is the target networks' soft update, :func:`~pearl_lite.nets.polyak_update`,
        applied to all of the agent's parameters (the agent has no buffers).
        """
        if self.eval_agent is not self.agent:
            polyak_update(self.agent.parameters(), self.eval_agent.parameters(),
                          self.cfg.eval_tau)

    # ---- the second process (async_collection) ----------------------------------------

    def _worker(self) -> CollectorProcess:
        """The collector process, started on first use."""
        if self.collector is None:
            self.collector = CollectorProcess(self.cfg, self.seed)
            if self._collector_state is not None:
                self.collector.load_state(self._collector_state)
                self._collector_state = None
        return self.collector

    def _store_collected(self, result: dict[str, Any], slots: np.ndarray | None) -> list[float]:
        """Store what the collector sent, as :meth:`collection_round` would have stored it."""
        if slots is not None:
            self.clear_enc(slots)
        for rec_slots, paths, to_enc in result["records"]:
            self.store(rec_slots, paths, to_enc)
        self.env_steps += result["env_steps"]
        return result["returns"]

    def collector_state(self) -> dict[str, Any] | None:
        """The collector's random-number states (checkpoints), or ``None`` without one."""
        if self.collector is not None:
            return self.collector.state()
        return self._collector_state

    def load_collector_state(self, state: dict[str, Any] | None) -> None:
        """Restore :meth:`collector_state` (now, or when the collector starts)."""
        if state is not None and self.collector is not None:
            self.collector.load_state(state)
        else:
            self._collector_state = state

    def close(self) -> None:
        """Stop the collector process, if any (the trainer stays usable).

        Interrupted mid-iteration (Ctrl-C), the worker is killed and its random state lost:
        continuing this trainer then starts a fresh worker, so for a run identical to an
        uninterrupted one, resume from the last checkpoint instead.
        """
        if self.collector is not None:
            try:
                self._collector_state = self.collector.state(timeout=30)
            except (RuntimeError, OSError):  # died, interrupted mid-collection, or silent
                self._collector_state = None
            self.collector.close()
            self.collector = None

    # ---- one iteration ------------------------------------------------------------------

    def train_iteration(self) -> dict[str, Any]:
        """Run one iteration (collect, update, maybe meta-test); returns its log row.

        The row's ``time_collect`` is the time spent collecting; with ``async_collection`` it
        is the time the learner waited for the collector after its gradient steps.
        """
        cfg = self.cfg
        t0 = time.perf_counter()
        n_train = len(self.train_tasks)
        if self.iteration == 0 and cfg.num_initial_steps > 0:
            if cfg.async_collection:  # nothing to train on yet: wait for it
                self._worker().submit(self.agent.state_dict(), np.arange(n_train), initial=True)
                self._store_collected(self._worker().result(), None)
            else:
                self.initial_collection()
        # num_tasks_sample distinct training tasks (the official code draws with replacement).
        slots = self.rng.choice(n_train, size=min(cfg.num_tasks_sample, n_train), replace=False)
        if cfg.async_collection:
            # Collect this round with the current weights while the learner trains on the
            # data it already has; store the round when both are done.
            self._worker().submit(self.agent.state_dict(), slots)
            t1 = time.perf_counter()
            sums = self.train_steps()
            time_train = time.perf_counter() - t1
            train_returns = self._store_collected(self._worker().result(), slots)
            t2 = time.perf_counter()
            time_collect = t2 - t0 - time_train  # what did not overlap with training
        else:
            train_returns = self.collection_round(slots)
            t1 = time.perf_counter()
            sums = self.train_steps()
            t2 = time.perf_counter()
            time_collect, time_train = t1 - t0, t2 - t1

        self.iteration += 1
        self.update_eval_agent()
        row: dict[str, Any] = {"iteration": self.iteration, "env_steps": self.env_steps,
                               "grad_steps": self.grad_steps,
                               "train_return": float(np.mean(train_returns))}
        test_now = self.iteration % cfg.eval_every == 0 or self.iteration == cfg.num_iterations
        test = {"test_return": "", "test_return_first": "", "test_success": "",
                "test_success_first": ""}
        if test_now:
            tasks = self.eval_tasks
            if self._eval_venv is None:
                self._eval_venv = make_vector_env(cfg.env, tasks, seed=0, n_tasks=cfg.n_tasks)
            res = meta_test(self.eval_agent, cfg, tasks, seed=self.seed * 100_003 + self.iteration,
                            venv=self._eval_venv)
            self.last_eval = res
            test.update(test_return=res.final_return, test_return_first=float(res.returns[:, 0]
                                                                                .mean()))
            if res.success is not None:
                test.update(test_success=res.final_success,
                            test_success_first=float(res.success[:, 0].mean()))
        t3 = time.perf_counter()
        self.elapsed += t3 - t0
        row.update(test)
        n = max(cfg.num_train_steps_per_itr, 1)
        row.update({k: float(v) / n for k, v in sums.items()})
        row.update(time_collect=time_collect, time_train=time_train, time_eval=t3 - t2,
                   wall_clock=self.elapsed)
        return row

    def iterations(self, n: int | None = None) -> Iterator[dict[str, Any]]:
        """Yield the log row of each of the next ``n`` iterations (default: until the end)."""
        stop = self.cfg.num_iterations if n is None else self.iteration + n
        while self.iteration < stop:
            yield self.train_iteration()


# ---- the two data paths of Algorithm 1, one function each ---------------------------------------


def _grow_to(buf: MultiTaskReplayBuffer, need: int, limit: int) -> None:
    """Double ``buf``'s capacity (at least to ``need``, at most to ``limit``) when it is full."""
    if need > buf.capacity and buf.capacity < limit:
        buf.grow(min(max(2 * buf.capacity, need), limit))


def store_paths(
    rl_buffer: MultiTaskReplayBuffer,
    enc_buffer: MultiTaskReplayBuffer,
    slots: np.ndarray,
    paths: Paths,
    to_enc: bool,
    sparse_rewards_for_critic: bool = False,
) -> None:
    """Add trajectory ``i`` of ``paths`` to task slot ``slots[i]`` of the buffers (Ex 4.5).

    The sparse-reward protocol of the official code lives here: the RL buffer (the critic's
    data) gets the dense reward ``paths.dense_reward``, unless ``sparse_rewards_for_critic``
    (the harder, fully sparse variant); the encoder buffer (the context) gets the
    environment's reward ``paths.reward``, so the context never sees the dense reward. On dense
    tasks the two rewards are the same. Only ``to_enc`` trajectories go to the encoder buffer.

    Args:
        rl_buffer, enc_buffer: the per-task buffers, indexed by slot.
        slots: ``(n,)`` the task slot of each trajectory.
        paths: ``n`` trajectories; :meth:`Paths.task` gives trajectory ``i``'s valid steps.
        to_enc: also store in the encoder buffer.
        sparse_rewards_for_critic: train the critic on the environment's (sparse) reward.
    """
    for row, slot in enumerate(slots):
        p = paths.task(row)
        critic_r = p["reward"] if sparse_rewards_for_critic else p["dense_reward"]
        rl_buffer.add(int(slot), p["obs"], p["act"], critic_r, p["next_obs"],
                      p["terminated"], p["truncated"])
        if to_enc:  # the context keeps the environment's reward (sparse on sparse tasks)
            enc_buffer.add(int(slot), p["obs"], p["act"], p["reward"], p["next_obs"],
                           p["terminated"], p["truncated"])


def sample_context(
    rl_buffer: MultiTaskReplayBuffer,
    enc_buffer: MultiTaskReplayBuffer,
    task_slots: np.ndarray,
    n: int,
    use_next_obs: bool = False,
) -> Tensor:
    """A context batch ``(T, n, context_dim)``: ``n`` transitions of each task's recent data.

    Ex 4.1. Row ``t`` holds transitions of task slot ``task_slots[t]`` drawn from the encoder
    buffer (the paper's S_c: data of the current, or very recent, policy, like the contexts of
    meta-test), never from the RL buffer's older data. Each transition becomes ``(s, a, r)``,
    or ``(s, a, r, s')`` with ``use_next_obs`` (:func:`pearl_lite.encoder.make_context`).
    """
    b = enc_buffer.sample(task_slots, n)
    return make_context(b["obs"], b["act"], b["rew"], b["next_obs"] if use_next_obs else None)


__all__ = ["MetaTrainer", "sample_context", "store_paths"]
