"""PEARL: the agent, meta-training (Algorithm 1) and meta-testing (Algorithm 2).

Introduced in notebook 4. The pieces come from earlier notebooks, unchanged:
the context encoder q(z | c) (``pearl_lite.encoder``, notebook 2), soft actor-critic's policy and
twin critics (``pearl_lite.sac``, notebook 3), and per-task replay buffers
(``pearl_lite.buffers``). What is new here is how they are wired together:

- **Conditioning on z.** The policy pi(a | s, z), the critics Q(s, a, z) and the value V(s, z)
  see ``cat([obs, z])``. The official code's variant is used: twin Q, a state-value network V
  and its slowly moving copy V-bar (tau = 0.005), and a fixed temperature alpha = 1 whose role is
  played by ``reward_scale`` (``auto_entropy=True`` learns alpha instead).
- **Who trains the encoder.** Only the critic loss and the KL term: the Q target is
  ``reward_scale * r + gamma * (1 - terminated) * V-bar(s', z)`` and its squared error is
  back-propagated through Q *into z and the encoder*; the policy and V losses see z detached.
  The encoder loss adds ``kl_lambda * sum_tasks KL(q(z | c) || N(0, I))`` (summed over the
  meta-batch's tasks, as the official code does).
- **Two samplers.** RL batches come from all of a task's data (the RL buffer); context batches
  from the task's *recent* data (the encoder buffer, emptied before new data is collected for
  that task), as the paper separates them.
- **Sparse rewards, the official protocol.** On ``sparse-point-robot`` the critic is trained on
  the dense reward (the RL buffer stores it) while the encoder's context holds only the sparse
  reward (the encoder buffer stores that); meta-test returns are sparse.
  ``sparse_rewards_for_critic=True`` trains the critic on the sparse reward as well, which is
  harder than the paper's setting.
- **Batching.** One gradient step processes all ``meta_batch`` tasks in a single forward pass:
  the RL batch ``(T, B, .)`` is flattened to ``(T * B, .)`` with each task's z repeated per
  transition; data collection steps all sampled tasks together in one vector environment.

Public API::

    cfg = get_config("sparse-point-robot", "lite")
    trainer = MetaTrainer(cfg, seed=0)
    for row in trainer.iterations():          # one dict per iteration, e.g. for live plots
        print(row["iteration"], row["test_return"])
    result = meta_test(trainer.agent, cfg, trainer.env.test_task_idx)
    result.returns        # (n_tasks, n_trajs): the adaptation curve of every test task
"""

from __future__ import annotations

import copy
import dataclasses
import math
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from pearl_lite.buffers import MultiTaskReplayBuffer
from pearl_lite.config import PEARLConfig
from pearl_lite.encoder import ContextEncoder, make_context
from pearl_lite.envs import make_env, make_vector_env
from pearl_lite.nets import MLP, adam, polyak_update
from pearl_lite.sac import (
    TanhGaussianPolicy,
    TwinQ,
    bellman_target,
    policy_loss,
    soft_value_target,
    temperature_loss,
)
from pearl_lite.sampler import Paths, rollout

Tensor = torch.Tensor


# ---------------------------------------------------------------------------------------------
# The agent: encoder + actor + critics, all conditioned on z
# ---------------------------------------------------------------------------------------------


class PEARLAgent(nn.Module):
    """PEARL's networks: q(z | c), pi(a | s, z), Q_1,2(s, a, z), V(s, z) and V-bar(s, z).

    Args:
        obs_dim: observation size.
        act_dim: action size (the agent acts in [-1, 1]; the sampler rescales).
        cfg: the run's :class:`~pearl_lite.config.PEARLConfig` (network sizes, encoder kind).
    """

    def __init__(self, obs_dim: int, act_dim: int, cfg: PEARLConfig) -> None:
        super().__init__()
        self.obs_dim, self.act_dim, self.latent_dim = obs_dim, act_dim, cfg.latent_dim
        self.use_next_obs_in_context = cfg.use_next_obs_in_context
        context_dim = obs_dim + act_dim + 1 + (obs_dim if cfg.use_next_obs_in_context else 0)
        kind = cfg.encoder_kind
        if not cfg.use_information_bottleneck and kind == "product":
            kind = "mean"  # the official use_information_bottleneck=False: a point estimate
        self.encoder = ContextEncoder(context_dim, cfg.latent_dim, cfg.encoder_hidden, kind)
        hidden = (cfg.net_size,) * cfg.n_layers
        in_dim = obs_dim + cfg.latent_dim
        self.policy = TanhGaussianPolicy(in_dim, act_dim, hidden)
        self.qf = TwinQ(in_dim, act_dim, hidden)  # both Q networks in one batched matmul
        self.vf = MLP(in_dim, 1, hidden)
        self.target_vf = copy.deepcopy(self.vf).requires_grad_(False)
        # With reward_scale 100 the values are in the hundreds; an output scale lets small
        # networks reach them without first growing their last layer (same function class).
        self.value_scale = float(cfg.value_scale)
        # log alpha: trained only with auto_entropy; the official code keeps alpha = 1.
        self.log_alpha = nn.Parameter(torch.zeros(()), requires_grad=cfg.auto_entropy)

    def q(self, obs_z: Tensor, act: Tensor) -> Tensor:
        """Twin Q values ``(2, B)`` of ``obs_z = cat([obs, z])`` ``(B, o + L)`` and ``act``."""
        return self.value_scale * self.qf(obs_z, act)

    def v(self, obs_z: Tensor, target: bool = False) -> Tensor:
        """V(s, z) (or the target V-bar), shape ``(B,)``."""
        net = self.target_vf if target else self.vf
        return self.value_scale * net(obs_z).squeeze(-1)

    def context(self, obs: Tensor, act: Tensor, rew: Tensor, next_obs: Tensor) -> Tensor:
        """Context vectors ``(..., context_dim)`` from transitions, as the encoder expects."""
        return make_context(obs, act, rew, next_obs if self.use_next_obs_in_context else None)

    def prior(self, n_tasks: int) -> tuple[Tensor, Tensor]:
        """The belief before any data, ``(mu, var)`` each ``(n_tasks, latent_dim)``."""
        return self.encoder.prior(n_tasks, self.log_alpha.device)

    def sample_z(self, mu: Tensor, var: Tensor) -> Tensor:
        """z ~ N(mu, var), reparameterised, ``(n_tasks, latent_dim)``."""
        return self.encoder.rsample(mu, var)

    @torch.no_grad()
    def infer_posterior(self, context: Tensor, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """q(z | c) for contexts ``(T, N, context_dim)`` without gradients (data collection)."""
        return self.encoder(context, mask)


# ---------------------------------------------------------------------------------------------
# One gradient step on a meta-batch: all tasks in one forward pass
# ---------------------------------------------------------------------------------------------


class PEARLLearner:
    """The optimisers of a :class:`PEARLAgent` and PEARL's batched gradient step.

    Two Adam optimisers, one per backward pass: (Q networks + encoder) and (policy + V); a
    third for log alpha with ``auto_entropy``.
    """

    def __init__(self, agent: PEARLAgent, cfg: PEARLConfig) -> None:
        self.agent, self.cfg = agent, cfg
        self.critic_opt = adam([
            {"params": agent.qf.parameters(), "lr": cfg.qf_lr},
            {"params": agent.encoder.parameters(), "lr": cfg.context_lr},
        ])
        self.actor_opt = adam([
            {"params": agent.policy.parameters(), "lr": cfg.policy_lr},
            {"params": agent.vf.parameters(), "lr": cfg.vf_lr},
        ])
        self.alpha_opt = adam([agent.log_alpha], cfg.policy_lr) if cfg.auto_entropy else None
        self.target_entropy = float(-agent.act_dim if cfg.target_entropy is None
                                    else cfg.target_entropy)
        self._vf_params = list(agent.vf.parameters())
        self._target_params = list(agent.target_vf.parameters())
        self._graph: torch.cuda.CUDAGraph | None = None  # with cfg.cuda_graphs on a GPU
        self._static: dict[str, Any] = {}

    @property
    def optimizers(self) -> list[torch.optim.Optimizer]:
        """The Adam optimisers: critic (Q + encoder), actor (policy + V), and log alpha."""
        return [self.critic_opt, self.actor_opt] + \
            ([self.alpha_opt] if self.alpha_opt is not None else [])

    def lr_scale(self, iteration: int) -> float:
        """The learning-rate multiplier in iteration ``iteration`` (0-based).

        Falls linearly from 1 at the first iteration to ``cfg.lr_final_fraction`` at the last
        (``num_iterations - 1``); constant 1 with the official ``lr_final_fraction = 1``.
        """
        cfg = self.cfg
        progress = min(iteration / max(cfg.num_iterations - 1, 1), 1.0)
        return 1.0 - (1.0 - cfg.lr_final_fraction) * progress

    def set_lr_scale(self, scale: float) -> None:
        """Set every optimiser's learning rate to ``scale`` times its configured value."""
        cfg = self.cfg
        base = [(self.critic_opt, (cfg.qf_lr, cfg.context_lr)),
                (self.actor_opt, (cfg.policy_lr, cfg.vf_lr))]
        if self.alpha_opt is not None:
            base.append((self.alpha_opt, (cfg.policy_lr,)))
        for opt, lrs in base:
            for group, lr in zip(opt.param_groups, lrs, strict=True):
                if torch.is_tensor(group["lr"]):  # a captured CUDA graph reads it in place
                    group["lr"].fill_(lr * scale)
                else:
                    group["lr"] = lr * scale

    def critic_loss(self, batch: dict[str, Tensor], context: Tensor) -> dict[str, Tensor]:
        """The encoder's and critics' loss ``qf_loss + kl_lambda * kl`` of a meta-batch.

        Infers q(z | c) for each task, samples one z per task and repeats it for the task's
        ``B`` transitions; the Q target is ``reward_scale * r + gamma * (1 - terminated) *
        V-bar(s', z)`` (no gradient). Returns a dict with ``loss`` and its parts ``qf_loss``
        and ``kl`` (summed over tasks), and, for the rest of the step, ``obs`` ``(T*B, o)``,
        ``z_rep`` ``(T*B, L)`` (attached to the encoder's graph), ``mu``/``var`` ``(T, L)``
        and ``q`` ``(2, T*B)``.
        """
        agent, cfg = self.agent, self.cfg
        obs, act, rew = batch["obs"], batch["act"], batch["rew"]
        next_obs, terminated = batch["next_obs"], batch["terminated"]
        T, B, _ = obs.shape
        mu, var = agent.encoder(context)  # (T, L) each
        z = agent.sample_z(mu, var)  # (T, L), carries gradient into the encoder
        # Flatten (T, B, .) -> (T * B, .); task t's z is repeated for its B transitions.
        z_rep = z.unsqueeze(1).expand(T, B, -1).reshape(T * B, -1)
        obs, next_obs = obs.reshape(T * B, -1), next_obs.reshape(T * B, -1)
        act, rew, terminated = act.reshape(T * B, -1), rew.reshape(-1), terminated.reshape(-1)
        q = agent.q(torch.cat([obs, z_rep], -1), act)  # (2, T*B); gradient flows into z
        with torch.no_grad():
            next_v = agent.v(torch.cat([next_obs, z_rep], -1), target=True)
            # Only `terminated` stops the bootstrap: a time-limit truncation does not.
            q_target = bellman_target(cfg.reward_scale * rew, next_v, terminated, cfg.gamma)
        qf_loss = ((q - q_target) ** 2).mean(dim=1).sum()  # MSE of Q1 + MSE of Q2 (official)
        kl = agent.encoder.kl_to_prior(mu, var).sum()  # summed over tasks, as the official code
        return {"loss": qf_loss + cfg.kl_lambda * kl, "qf_loss": qf_loss, "kl": kl, "obs": obs,
                "z_rep": z_rep, "mu": mu, "var": var, "q": q}

    def update(self, batch: dict[str, Tensor], context: Tensor) -> dict[str, Tensor]:
        """One PEARL gradient step on a meta-batch of ``T`` tasks (see :meth:`_update`).

        With ``cfg.cuda_graphs`` on a GPU, the step is captured once as a CUDA graph and then
        replayed: the same kernels on the same memory, launched by one call instead of
        hundreds (at the paper's sizes the eager step is bound by launch overhead, not by
        arithmetic; ``benchmarks/pearl_step.py``). Inputs must keep their shapes.
        """
        if self.cfg.cuda_graphs and batch["obs"].is_cuda:
            return self._graph_update(batch, context)
        return self._update(batch, context)

    def _graph_update(self, batch: dict[str, Tensor], context: Tensor) -> dict[str, Tensor]:
        if self._graph is None:
            self._capture(batch, context)
        static_batch, static_context = self._static["batch"], self._static["context"]
        if set(batch) != set(static_batch) or context.shape != static_context.shape or any(
                batch[k].shape != v.shape for k, v in static_batch.items()):
            raise ValueError("cuda_graphs: every step must have the shapes of the first "
                             f"(context {tuple(static_context.shape)}, batch "
                             f"{ {k: tuple(v.shape) for k, v in static_batch.items()} })")
        for k, v in static_batch.items():
            v.copy_(batch[k])
        static_context.copy_(context)
        self._graph.replay()
        return {k: v.clone() for k, v in self._static["out"].items()}

    def _capture(self, batch: dict[str, Tensor], context: Tensor) -> None:
        """Record one gradient step into a CUDA graph (PyTorch's whole-network recipe).

        A few eager warm-up steps on a side stream allocate the gradients and Adam's state
        (allocated inside the capture instead, Adam's zero-initialised moments would be zeroed
        again at every replay). Their effect on the networks, Adam's moments and the random
        stream is then undone in place, so that capturing changes nothing but the speed.
        """
        agent, device = self.agent, batch["obs"].device
        self._static = {"batch": {k: v.clone() for k, v in batch.items()},
                        "context": context.clone()}
        tensors = list(agent.parameters()) + list(agent.buffers())
        saved_tensors = [t.detach().clone() for t in tensors]
        saved_moments = [{p: {k: v.clone() for k, v in st.items() if torch.is_tensor(v)}
                          for p, st in opt.state.items()} for opt in self.optimizers]
        saved_rng = torch.cuda.get_rng_state(device)
        side = torch.cuda.Stream(device)
        side.wait_stream(torch.cuda.current_stream(device))
        with torch.cuda.stream(side):
            for _ in range(3):
                self._update(self._static["batch"], self._static["context"])
        torch.cuda.current_stream(device).wait_stream(side)
        with torch.no_grad():
            for t, saved in zip(tensors, saved_tensors, strict=True):
                t.copy_(saved)
            for opt, saved in zip(self.optimizers, saved_moments, strict=True):
                for p, st in opt.state.items():  # step counts and moments; never seen: zero
                    for k, v in st.items():
                        if not torch.is_tensor(v):
                            continue
                        if p in saved:
                            v.copy_(saved[p][k])
                        else:
                            v.zero_()
        for opt in self.optimizers:
            for group in opt.param_groups:  # a graph may replay only capturable optimisers,
                group["capturable"] = True  # whose learning rate is a tensor on the device
                group["lr"] = torch.tensor(float(group["lr"]), device=device)
        torch.cuda.set_rng_state(saved_rng, device)
        self._graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self._graph):
            self._static["out"] = self._update(self._static["batch"], self._static["context"])

    def _update(self, batch: dict[str, Tensor], context: Tensor) -> dict[str, Tensor]:
        """One PEARL gradient step on a meta-batch of ``T`` tasks, eagerly.

        Args:
            batch: the RL batch, tensors ``obs (T, B, o)``, ``act (T, B, a)``, ``rew (T, B)``
                (the critic's reward: dense on sparse tasks by default), ``next_obs (T, B, o)``,
                ``terminated (T, B)``.
            context: the context batch ``(T, N, context_dim)`` from the encoder buffer (its
                rewards are the sparse ones on sparse tasks).

        Returns:
            detached 0-d tensors: ``qf_loss``, ``vf_loss``, ``policy_loss``, ``kl``,
            ``alpha``, ``z_var`` (mean posterior variance), ``q_mean``.
        """
        agent, cfg = self.agent, self.cfg
        T, B, _ = batch["obs"].shape
        alpha = agent.log_alpha.detach().exp()

        # ---- 1. critics + encoder: the only losses whose gradient reaches the encoder
        c = self.critic_loss(batch, context)
        self.critic_opt.zero_grad(set_to_none=True)
        c["loss"].backward()
        self.critic_opt.step()
        obs, z_rep, var = c["obs"], c["z_rep"], c["var"]
        qf_loss, kl, q = c["qf_loss"], c["kl"], c["q"]

        # ---- 2. value + policy on the *detached* z, with the freshly updated critics
        obs_z = torch.cat([obs, z_rep.detach()], -1)
        dist = agent.policy(obs_z)
        new_act, log_pi = dist.rsample()
        agent.qf.requires_grad_(False)  # dQ/da for the policy, but no Q weight gradients
        q_new = agent.q(obs_z, new_act)  # (2, T*B)
        agent.qf.requires_grad_(True)
        v_pred = agent.v(obs_z)
        v_target = soft_value_target(q_new, log_pi, alpha).detach()
        vf_loss = ((v_pred - v_target) ** 2).mean()
        pi_loss = policy_loss(log_pi, q_new, alpha)
        reg = cfg.policy_mean_reg * (dist.mean ** 2).mean() + \
            cfg.policy_std_reg * (dist.log_std ** 2).mean()
        # V and the policy have disjoint parameters, so one backward of the sum equals two.
        self.actor_opt.zero_grad(set_to_none=True)
        (vf_loss + pi_loss + reg).backward()
        self.actor_opt.step()

        if self.alpha_opt is not None:
            alpha_loss = temperature_loss(agent.log_alpha, log_pi, self.target_entropy)
            self.alpha_opt.zero_grad(set_to_none=True)
            alpha_loss.backward()
            self.alpha_opt.step()

        # ---- 3. the target value network trails V
        polyak_update(self._vf_params, self._target_params, cfg.tau)
        return {"qf_loss": qf_loss.detach(), "vf_loss": vf_loss.detach(),
                "policy_loss": pi_loss.detach(), "kl": kl.detach() / T, "alpha": alpha,
                "z_var": var.detach().mean(), "q_mean": q.detach().mean()}

    def state_dict(self) -> dict[str, Any]:
        def portable(opt: torch.optim.Optimizer) -> dict[str, Any]:
            # A captured graph's optimisers hold their learning rate as a device tensor and are
            # "capturable"; saved as plain floats, the checkpoint resumes on any device.
            state = opt.state_dict()
            for group in state["param_groups"]:
                group["lr"] = float(group["lr"])
                group["capturable"] = False
            return state

        state = {"critic_opt": portable(self.critic_opt), "actor_opt": portable(self.actor_opt)}
        if self.alpha_opt is not None:
            state["alpha_opt"] = portable(self.alpha_opt)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self._graph is not None:
            raise RuntimeError("load the optimisers' state before the first CUDA-graph step")
        self.critic_opt.load_state_dict(state["critic_opt"])
        self.actor_opt.load_state_dict(state["actor_opt"])
        if self.alpha_opt is not None:
            self.alpha_opt.load_state_dict(state["alpha_opt"])


# ---------------------------------------------------------------------------------------------
# Meta-testing (Algorithm 2)
# ---------------------------------------------------------------------------------------------


@dataclass
class MetaTestResult:
    """The outcome of meta-testing on some tasks.

    Attributes:
        task_indices: ``(n_tasks,)``.
        returns: ``(n_tasks, n_trajs)``, return of each successive trajectory (the adaptation
            curve), averaged over ``num_evals`` independent runs.
        success: ``(n_tasks, n_trajs)`` fraction of runs whose trajectory entered the goal
            region (sparse tasks), else None.
        paths: the trajectories of the first run, one :class:`~pearl_lite.sampler.Paths` per
            trajectory index (each covering all tasks).
        z_mu, z_var: ``(n_trajs, n_tasks, latent_dim)`` the belief each trajectory's z was
            drawn from (first run).
    """

    task_indices: np.ndarray
    returns: np.ndarray
    success: np.ndarray | None
    paths: list[Paths]
    z_mu: np.ndarray
    z_var: np.ndarray

    @property
    def final_return(self) -> float:
        """The paper's test metric: the last trajectory's return, averaged over tasks."""
        return float(self.returns[:, -1].mean())

    @property
    def final_success(self) -> float | None:
        """Success rate of the last trajectory over tasks (sparse tasks), else None."""
        return None if self.success is None else float(self.success[:, -1].mean())


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

    For every task, starting from an empty context: before each trajectory sample z from the
    current belief and act with it for the whole trajectory; add the trajectory to the task's
    context. The belief is the prior for the first ``num_exp_traj_eval`` trajectories (a fresh
    prior sample each, as the official sampler resamples z after every trajectory), and after
    that the posterior q(z | all context so far), re-inferred after every trajectory.

    Args:
        agent: the trained agent.
        cfg: its config (env, horizon, reward protocol, defaults of the arguments below).
        task_indices: tasks of the environment to test on (usually ``env.test_task_idx``).
        n_trajs: trajectories per task; default ``ceil(num_steps_per_eval / max_path_length)``
            (official: 20 for the sparse point robot, 3 for MuJoCo).
        num_exp_traj_eval: trajectories with z from the prior; default from ``cfg``.
        num_evals: independent runs averaged; default from ``cfg``.
        deterministic: act with the policy's mean; default ``cfg.eval_deterministic`` (True).
        seed: seeds torch's sampling of z (the agent's RNG state is restored afterwards).
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
    elif venv.num_envs != len(idx) or (venv.task_indices != idx).any():
        venv.reset_tasks(idx)
    device = agent.log_alpha.device
    H = cfg.max_path_length

    # Sample z from our own generator so that evaluating never changes a training run's RNG.
    gen = torch.Generator(device="cpu").manual_seed(seed)
    returns = np.zeros((num_evals, len(idx), n_trajs))
    success = np.zeros((num_evals, len(idx), n_trajs)) if cfg.is_sparse else None
    first_paths: list[Paths] = []
    z_mus, z_vars = [], []
    was_training = agent.training
    agent.eval()
    for run in range(num_evals):
        contexts: list[Tensor] = []
        masks: list[Tensor] = []
        for k in range(n_trajs):
            if k < k_prior or not contexts:
                mu, var = agent.prior(len(idx))
            else:
                mu, var = agent.infer_posterior(torch.cat(contexts, 1), torch.cat(masks, 1))
            eps = torch.randn(mu.shape, generator=gen).to(device)
            z = mu + var.sqrt() * eps if agent.encoder.is_probabilistic else mu
            paths = rollout(agent.policy, venv, z, H, deterministic=deterministic,
                            seed=env_seed + 1000 * run + k)
            # The context (and the reported return) use the environment's reward: sparse on
            # sparse tasks. The dense reward is never seen at meta-test.
            contexts.append(agent.context(*(torch.as_tensor(x, device=device) for x in (
                paths.obs, paths.act, paths.reward, paths.next_obs))))
            masks.append(torch.as_tensor(paths.valid, device=device))
            returns[run, :, k] = paths.returns
            if success is not None:
                success[run, :, k] = paths.reached
            if run == 0:
                first_paths.append(paths)
                z_mus.append(mu.cpu().numpy())
                z_vars.append(var.cpu().numpy())
    agent.train(was_training)
    return MetaTestResult(idx, returns.mean(0), None if success is None else success.mean(0),
                          first_paths, np.stack(z_mus), np.stack(z_vars))


# ---------------------------------------------------------------------------------------------
# Meta-training (Algorithm 1)
# ---------------------------------------------------------------------------------------------


def config_mismatch(saved: dict[str, Any], cfg: PEARLConfig) -> list[str]:
    """Fields in which a saved config differs from ``cfg``.

    ``num_iterations`` may differ (a run can be extended on resume) unless the learning rates
    decay over the run (``lr_final_fraction < 1``), whose schedule depends on it;
    ``cuda_graphs`` may always differ. A field the
    saved config lacks (written by an older version) counts as its default.
    """
    now = cfg.to_dict()
    defaults = {f.name: f.default for f in dataclasses.fields(PEARLConfig)}
    ignored = {"cuda_graphs"}  # how fast, not what is computed
    if cfg.lr_final_fraction == 1.0:
        ignored.add("num_iterations")
    keys = (set(now) | set(saved)) - ignored
    return sorted(k for k in keys if saved.get(k, defaults.get(k)) != now.get(k))


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
        agent, learner, env (a single env holding the tasks and the train/test split),
        rl_buffer, enc_buffer, iteration (iterations done), env_steps, grad_steps.
    """

    def __init__(self, cfg: PEARLConfig, seed: int = 0, device: str | torch.device = "cpu"):
        self.cfg, self.seed, self.device = cfg, int(seed), torch.device(device)
        torch.set_num_threads(cfg.torch_threads)
        random.seed(self.seed)
        np.random.seed(self.seed % 2**32)
        torch.manual_seed(self.seed)
        self.rng = np.random.default_rng(self.seed)
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
        n_train = len(self.train_tasks)
        # Buffers are indexed by position in train_tasks (0..n_train-1).
        # The RL buffers start small and double when needed, up to replay_buffer_size.
        per_visit = cfg.num_steps_prior + cfg.num_steps_posterior + \
            cfg.num_extra_rl_steps_posterior
        first = max(cfg.num_initial_steps, per_visit) + 2 * cfg.max_path_length
        self.rl_buffer = MultiTaskReplayBuffer(n_train, obs_dim, act_dim,
                                               min(first, cfg.replay_buffer_size),
                                               seed=self.seed, device=self.device)
        enc_cap = max(cfg.num_initial_steps, cfg.num_steps_prior + cfg.num_steps_posterior)
        self.enc_buffer = MultiTaskReplayBuffer(n_train, obs_dim, act_dim,
                                                enc_cap + 2 * cfg.max_path_length,
                                                seed=self.seed + 1, device=self.device)
        self.critic_reward = "env" if (not cfg.is_sparse or cfg.sparse_rewards_for_critic) \
            else "dense"
        self.iteration = 0
        self.env_steps = 0
        self.grad_steps = 0
        self.elapsed = 0.0  # wall-clock seconds of training so far (summed over resumes)
        self.last_eval: MetaTestResult | None = None
        self._venv: Any = None
        self._eval_venv: Any = None

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
        elif self._venv.num_envs != len(tasks) or (self._venv.task_indices != tasks).any():
            self._venv.reset_tasks(tasks)
        return self._venv

    def _add(self, slots: np.ndarray, paths: Paths, to_enc: bool) -> None:
        buf = self.rl_buffer
        need = int((buf.sizes[slots] + paths.lengths).max())
        if need > buf.capacity and buf.capacity < self.cfg.replay_buffer_size:
            buf.grow(min(max(2 * buf.capacity, need), self.cfg.replay_buffer_size))
        for row, slot in enumerate(slots):
            p = paths.task(row)
            critic_r = p["dense_reward"] if self.critic_reward == "dense" else p["reward"]
            self.rl_buffer.add(int(slot), p["obs"], p["act"], critic_r, p["next_obs"],
                               p["terminated"], p["truncated"])
            if to_enc:  # the context keeps the environment's reward (sparse on sparse tasks)
                self.enc_buffer.add(int(slot), p["obs"], p["act"], p["reward"], p["next_obs"],
                                    p["terminated"], p["truncated"])

    def _context(self, slots: np.ndarray, n: int | None = None) -> Tensor:
        """A context batch ``(T, N, context_dim)`` from the encoder buffer of each task slot."""
        b = self.enc_buffer.sample(slots, n or self.cfg.embedding_batch_size)
        return self.agent.context(b["obs"], b["act"], b["rew"], b["next_obs"])

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
            self._add(slots[active], paths, to_enc)
            counts[active] += paths.lengths
            self.env_steps += int(paths.lengths.sum())
            if not posterior or n_traj > 0:
                returns.extend(paths.returns.tolist())
            n_traj += 1
            if posterior and n_traj % cfg.update_post_train == 0:
                mu, var = self.agent.infer_posterior(self._context(slots))
        return returns

    # ---- one iteration ------------------------------------------------------------------

    def train_iteration(self) -> dict[str, Any]:
        """Run one iteration (collect, update, maybe meta-test); returns its log row."""
        cfg = self.cfg
        t0 = time.perf_counter()
        n_train = len(self.train_tasks)
        if self.iteration == 0 and cfg.num_initial_steps > 0:
            self.collect(np.arange(n_train), cfg.num_initial_steps, posterior=False, to_enc=True)
        # num_tasks_sample distinct training tasks (the official code draws with replacement).
        slots = self.rng.choice(n_train, size=min(cfg.num_tasks_sample, n_train), replace=False)
        for s in slots:
            self.enc_buffer.clear(int(s))  # the encoder buffer holds only recent data
        train_returns: list[float] = []
        if cfg.num_steps_prior > 0:
            train_returns += self.collect(slots, cfg.num_steps_prior, False, to_enc=True)
        if cfg.num_steps_posterior > 0:
            train_returns += self.collect(slots, cfg.num_steps_posterior, True, to_enc=True)
        if cfg.num_extra_rl_steps_posterior > 0:
            train_returns += self.collect(slots, cfg.num_extra_rl_steps_posterior, True,
                                          to_enc=False)
        t1 = time.perf_counter()

        # ---- gradient steps: sums of the losses stay tensors (no device sync per step)
        self.agent.train()
        self.learner.set_lr_scale(self.learner.lr_scale(self.iteration))
        sums: dict[str, Tensor] = {}
        for _ in range(cfg.num_train_steps_per_itr):
            task_slots = self.rng.choice(n_train, size=cfg.meta_batch)  # with replacement
            batch = self.rl_buffer.sample(task_slots, cfg.batch_size)
            stats = self.learner.update(batch, self._context(task_slots))
            for k, v in stats.items():
                sums[k] = sums.get(k, 0.0) + v
            self.grad_steps += 1
        t2 = time.perf_counter()

        self.iteration += 1
        row: dict[str, Any] = {"iteration": self.iteration, "env_steps": self.env_steps,
                               "grad_steps": self.grad_steps,
                               "train_return": float(np.mean(train_returns))}
        evaluate = self.iteration % cfg.eval_every == 0 or self.iteration == cfg.num_iterations
        test = {"test_return": "", "test_return_first": "", "test_success": "",
                "test_success_first": ""}
        if evaluate:
            tasks = self.eval_tasks
            if self._eval_venv is None:
                self._eval_venv = make_vector_env(cfg.env, tasks, seed=0, n_tasks=cfg.n_tasks)
            res = meta_test(self.agent, cfg, tasks, seed=self.seed * 100_003 + self.iteration,
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
        row.update(time_collect=t1 - t0, time_train=t2 - t1, time_eval=t3 - t2,
                   wall_clock=self.elapsed)
        return row

    def iterations(self, n: int | None = None) -> Iterator[dict[str, Any]]:
        """Yield the log row of each of the next ``n`` iterations (default: until the end)."""
        stop = self.cfg.num_iterations if n is None else self.iteration + n
        while self.iteration < stop:
            yield self.train_iteration()

    # ---- checkpoints --------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Everything to continue exactly: nets, optimisers, buffers, RNG states, counters."""
        np_state = np.random.get_state()

        return {
            "format": "pearl-lite-checkpoint-v1",
            "config": self.cfg.to_dict(), "seed": self.seed, "iteration": self.iteration,
            "env_steps": self.env_steps, "grad_steps": self.grad_steps, "elapsed": self.elapsed,
            "agent": self.agent.state_dict(), "learner": self.learner.state_dict(),
            "rl_buffer": self.rl_buffer.state_dict(), "enc_buffer": self.enc_buffer.state_dict(),
            "rng": {"numpy_generator": self.rng.bit_generator.state,
                    "numpy_global": [np_state[0], torch.from_numpy(np_state[1].copy()),
                                     *np_state[2:]],
                    "python": random.getstate(),
                    "torch": torch.get_rng_state(),
                    "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`; raises ``ValueError`` if it belongs to another config."""
        if not isinstance(state, dict) or state.get("format") != "pearl-lite-checkpoint-v1":
            raise ValueError("not a pearl-lite checkpoint")
        diff = config_mismatch(state["config"], self.cfg)
        if diff:
            raise ValueError(f"checkpoint belongs to another config (differs in {diff})")
        self.agent.load_state_dict(state["agent"])
        self.learner.load_state_dict(state["learner"])
        self.rl_buffer.load_state_dict(state["rl_buffer"])
        self.enc_buffer.load_state_dict(state["enc_buffer"])
        self.seed, self.iteration = state["seed"], state["iteration"]
        self.env_steps, self.grad_steps = state["env_steps"], state["grad_steps"]
        self.elapsed = state["elapsed"]
        rng = state["rng"]
        self.rng.bit_generator.state = rng["numpy_generator"]
        g = rng["numpy_global"]
        np.random.set_state((g[0], g[1].numpy(), *g[2:]))
        random.setstate(rng["python"])
        torch.set_rng_state(rng["torch"])
        if rng["cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(rng["cuda"])


def meta_train(cfg: PEARLConfig, seed: int = 0, device: str = "cpu",
               num_iterations: int | None = None) -> tuple[MetaTrainer, list[dict[str, Any]]]:
    """Train PEARL for ``num_iterations`` (default ``cfg.num_iterations``) in memory.

    Returns the trainer (``trainer.agent`` is the trained agent) and the per-iteration log rows.
    For live plots, iterate over ``MetaTrainer(cfg).iterations()`` instead.
    """
    trainer = MetaTrainer(cfg, seed=seed, device=device)
    rows = list(trainer.iterations(num_iterations))
    return trainer, rows


__all__ = ["MetaTestResult", "MetaTrainer", "PEARLAgent", "PEARLLearner", "config_mismatch",
           "meta_test", "meta_train"]
