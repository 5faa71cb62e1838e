"""PEARL's losses and its gradient step on a meta-batch of tasks.

Introduced in notebook 4. Who trains what:

- **The critic loss trains the encoder.** The Q target is ``reward_scale * r + gamma *
  (1 - terminated) * V-bar(s', z)`` and its squared error is back-propagated through Q *into z
  and the encoder*, plus ``kl_lambda * sum_tasks KL(q(z | c) || N(0, I))`` (summed over the
  meta-batch's tasks, as the official code does): :func:`critic_loss` (Ex 4.2).
- **The actor and value losses see z detached**, so the policy cannot shape the task
  variable to suit itself: :func:`actor_value_loss` (Ex 4.3).
- **Batching.** One gradient step processes all ``meta_batch`` tasks in one forward pass: the RL
  batch ``(T, B, .)`` is flattened to ``(T * B, .)`` with each task's z repeated for its
  transitions.

:meth:`PEARLLearner.update` is one gradient step, eagerly: the paper's maths and nothing else.
On a GPU, ``pearl_lite.runtime.cuda_graphs`` records that step once and replays it.
"""

from __future__ import annotations

from typing import Any

import torch

from pearl_lite.config import PEARLConfig
from pearl_lite.exercises import implementation
from pearl_lite.nets import adam, polyak_update
from pearl_lite.pearl.agent import PEARLAgent
from pearl_lite.sac import bellman_target, policy_loss, soft_value_target, temperature_loss

Tensor = torch.Tensor


class PEARLLearner:
    """The optimisers of a :class:`~pearl_lite.pearl.agent.PEARLAgent` and PEARL's gradient step.

    Two Adam optimisers, one per backward pass: (Q networks + encoder) and (policy + V; the
    policy alone with ``use_value_network=False``); a third for log alpha with
    ``auto_entropy``.
    """

    def __init__(self, agent: PEARLAgent, cfg: PEARLConfig) -> None:
        self.agent, self.cfg = agent, cfg
        self.critic_opt = adam([
            {"params": agent.qf.parameters(), "lr": cfg.qf_lr},
            {"params": agent.encoder.parameters(), "lr": cfg.context_lr},
        ])
        actor_groups = [{"params": agent.policy.parameters(), "lr": cfg.policy_lr}]
        if agent.vf is not None:  # SAC v1 (the paper); SAC v2 has no V to train
            actor_groups.append({"params": agent.vf.parameters(), "lr": cfg.vf_lr})
        self.actor_opt = adam(actor_groups)
        self.alpha_opt = adam([agent.log_alpha], cfg.policy_lr) if cfg.auto_entropy else None
        self.target_entropy = float(-agent.act_dim if cfg.target_entropy is None
                                    else cfg.target_entropy)

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
        actor_lrs = (cfg.policy_lr, cfg.vf_lr) if self.agent.vf is not None else (cfg.policy_lr,)
        base = [(self.critic_opt, (cfg.qf_lr, cfg.context_lr)), (self.actor_opt, actor_lrs)]
        if self.alpha_opt is not None:
            base.append((self.alpha_opt, (cfg.policy_lr,)))
        for opt, lrs in base:
            for group, lr in zip(opt.param_groups, lrs, strict=True):
                group["lr"] = lr * scale

    def critic_loss(self, batch: dict[str, Tensor], context: Tensor) -> dict[str, Tensor]:
        """:func:`critic_loss` with this learner's agent and config (the learner's Ex 4.2 after
        ``exercises.use("mine")``)."""
        cfg = self.cfg
        loss = implementation("ex4_pearl.critic_loss", critic_loss)
        return loss(self.agent, batch, context, cfg.reward_scale, cfg.gamma, cfg.kl_lambda)

    def actor_value_loss(self, obs: Tensor, z: Tensor, alpha: Tensor) -> dict[str, Tensor]:
        """:func:`actor_value_loss` with this learner's agent and config (the learner's Ex 4.3
        after ``exercises.use("mine")``)."""
        cfg = self.cfg
        if self.agent.vf is None:  # SAC v2 (use_value_network=False): no V to regress
            return actor_loss(self.agent, obs, z, alpha, cfg.policy_mean_reg, cfg.policy_std_reg)
        loss = implementation("ex4_pearl.actor_value_loss", actor_value_loss)
        return loss(self.agent, obs, z, alpha, cfg.policy_mean_reg, cfg.policy_std_reg)

    def update(self, batch: dict[str, Tensor], context: Tensor) -> dict[str, Tensor]:
        """One PEARL gradient step on a meta-batch of ``T`` tasks.

        Args:
            batch: the RL batch, tensors ``obs (T, B, o)``, ``act (T, B, a)``, ``rew (T, B)``
                (the critic's reward: dense on sparse tasks by default), ``next_obs (T, B, o)``,
                ``terminated (T, B)``.
            context: the context batch ``(T, N, context_dim)`` from the encoder buffer (its
                rewards are the sparse ones on sparse tasks).

        Returns:
            detached 0-d tensors: ``qf_loss``, ``vf_loss``, ``policy_loss``, ``kl`` (per task),
            ``alpha``, ``z_var`` (mean posterior variance), ``q_mean``.
        """
        agent, cfg = self.agent, self.cfg
        T = batch["obs"].shape[0]
        alpha = agent.log_alpha.detach().exp()

        # ---- 1. critics + encoder: the only losses whose gradient reaches the encoder
        critic = self.critic_loss(batch, context)
        self.critic_opt.zero_grad(set_to_none=True)
        critic["loss"].backward()
        self.critic_opt.step()

        # ---- 2. value + policy on the detached z, with the freshly updated critics
        actor = self.actor_value_loss(critic["obs"], critic["z_rep"], alpha)
        self.actor_opt.zero_grad(set_to_none=True)
        actor["loss"].backward()
        self.actor_opt.step()

        if self.alpha_opt is not None:
            alpha_loss = implementation("ex3_sac.temperature_loss", temperature_loss)(
                agent.log_alpha, actor["log_pi"], self.target_entropy)
            self.alpha_opt.zero_grad(set_to_none=True)
            alpha_loss.backward()
            self.alpha_opt.step()

        # ---- 3. the target network trails its online network: V-bar (SAC v1) or Q-bar (v2)
        if agent.target_qf is None:
            polyak_update(agent.vf.parameters(), agent.target_vf.parameters(), cfg.tau)
        else:
            polyak_update(agent.qf.parameters(), agent.target_qf.parameters(), cfg.tau)
        return {"qf_loss": critic["qf_loss"].detach(), "vf_loss": actor["vf_loss"].detach(),
                "policy_loss": actor["policy_loss"].detach(), "kl": critic["kl"].detach() / T,
                "alpha": alpha, "z_var": critic["var"].detach().mean(),
                "q_mean": critic["q"].detach().mean()}

    def state_dict(self) -> dict[str, Any]:
        """The optimisers' states (for checkpoints)."""
        state = {"critic_opt": self.critic_opt.state_dict(),
                 "actor_opt": self.actor_opt.state_dict()}
        if self.alpha_opt is not None:
            state["alpha_opt"] = self.alpha_opt.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        self.critic_opt.load_state_dict(state["critic_opt"])
        self.actor_opt.load_state_dict(state["actor_opt"])
        if self.alpha_opt is not None:
            self.alpha_opt.load_state_dict(state["alpha_opt"])


def critic_loss(
    agent: PEARLAgent,
    batch: dict[str, Tensor],
    context: Tensor,
    reward_scale: float,
    gamma: float,
    kl_lambda: float,
) -> dict[str, Tensor]:
    """The encoder's and critics' loss ``qf_loss + kl_lambda * kl`` of a meta-batch (Ex 4.2).

    Infers q(z | c) for each task, samples one z per task and repeats it for the task's
    ``B`` transitions; the Q target is ``reward_scale * r + gamma * (1 - terminated) *
    V-bar(s', z)`` (no gradient; ``truncated`` does not stop the bootstrap). Both Q heads
    regress on it, and the gradient flows through Q into z and the encoder.

    Args:
        agent: the :class:`~pearl_lite.pearl.agent.PEARLAgent`.
        batch: the RL batch, ``obs (T, B, o)``, ``act (T, B, a)``, ``rew (T, B)``,
            ``next_obs (T, B, o)``, ``terminated (T, B)`` and ``truncated (T, B)``.
        context: ``(T, N, context_dim)``, the context batch of the same tasks.
        reward_scale, gamma, kl_lambda: the config's reward scale, discount and KL weight.

    Returns:
        a dict with ``loss`` and its parts ``qf_loss`` and ``kl`` (summed over tasks), and, for
        the rest of the step, ``obs`` ``(T*B, o)``, ``z_rep`` ``(T*B, L)`` (attached to the
        encoder's graph), ``mu``/``var`` ``(T, L)`` and ``q`` ``(2, T*B)``.
    """
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
        q_target = bellman_target(reward_scale * rew, next_v, terminated, gamma)
    qf_loss = ((q - q_target) ** 2).mean(dim=1).sum()  # MSE of Q1 + MSE of Q2 (official)
    kl = agent.encoder.kl_to_prior(mu, var).sum()  # summed over tasks, as the official code
    return {"loss": qf_loss + kl_lambda * kl, "qf_loss": qf_loss, "kl": kl, "obs": obs,
            "z_rep": z_rep, "mu": mu, "var": var, "q": q}


def actor_value_loss(
    agent: PEARLAgent,
    obs: Tensor,
    z: Tensor,
    alpha: Tensor,
    mean_reg: float,
    std_reg: float,
) -> dict[str, Tensor]:
    """The policy's and V's loss on ``obs`` ``(T*B, o)`` and a *detached* ``z`` ``(T*B, L)``.

    Ex 4.3. The policy maximises ``min(Q1, Q2)(s, a~pi, z) - alpha * log pi`` (SAC's actor loss),
    with the critics frozen so that only dQ/da flows; V regresses on the soft value
    ``min Q - alpha * log pi``; the official code adds small penalties on the policy's
    mean and log-std (weights ``mean_reg`` and ``std_reg``). V and the policy have disjoint
    parameters, so one backward of the sum ``loss`` equals two. ``z`` arrives attached to the
    encoder's graph (``critic_loss``'s ``z_rep``) and is detached here. Returns ``loss``,
    ``vf_loss``, ``policy_loss`` and ``log_pi`` ``(T*B,)`` (for the temperature).
    """
    obs_z = torch.cat([obs, z.detach()], -1)  # the policy does not train the encoder
    dist = agent.policy(obs_z)
    new_act, log_pi = dist.rsample()
    agent.qf.requires_grad_(False)  # dQ/da for the policy, but no Q weight gradients
    q_new = agent.q(obs_z, new_act)  # (2, T*B)
    agent.qf.requires_grad_(True)
    v_pred = agent.v(obs_z)
    v_target = soft_value_target(q_new, log_pi, alpha).detach()
    vf_loss = ((v_pred - v_target) ** 2).mean()
    pi_loss = policy_loss(log_pi, q_new, alpha)
    reg = mean_reg * (dist.mean ** 2).mean() + std_reg * (dist.log_std ** 2).mean()
    return {"loss": vf_loss + pi_loss + reg, "vf_loss": vf_loss, "policy_loss": pi_loss,
            "log_pi": log_pi}


def actor_loss(
    agent: PEARLAgent,
    obs: Tensor,
    z: Tensor,
    alpha: Tensor,
    mean_reg: float,
    std_reg: float,
) -> dict[str, Tensor]:
    """:func:`actor_value_loss` without V, for ``use_value_network=False`` (SAC v2's critic).

    The same policy loss and regularisers on the detached ``z``; ``vf_loss`` is a zero, kept so
    that both variants log the same keys. The critics' targets come from Q-bar instead
    (``PEARLAgent.v(.., target=True)``), so there is nothing else to train here.
    """
    obs_z = torch.cat([obs, z.detach()], -1)
    dist = agent.policy(obs_z)
    new_act, log_pi = dist.rsample()
    agent.qf.requires_grad_(False)  # dQ/da for the policy, but no Q weight gradients
    q_new = agent.q(obs_z, new_act)  # (2, T*B)
    agent.qf.requires_grad_(True)
    pi_loss = policy_loss(log_pi, q_new, alpha)
    reg = mean_reg * (dist.mean ** 2).mean() + std_reg * (dist.log_std ** 2).mean()
    return {"loss": pi_loss + reg, "vf_loss": torch.zeros((), device=obs.device),
            "policy_loss": pi_loss, "log_pi": log_pi}


__all__ = ["PEARLLearner", "actor_loss", "actor_value_loss", "critic_loss"]
