"""PEARL's agent: the context encoder, the policy and the critics, all conditioned on z.

Introduced in notebook 4. The pieces come from earlier notebooks, unchanged: the context
encoder q(z | c) (:mod:`pearl_lite.encoder`, notebook 2) and soft actor-critic's policy and
twin critics (:mod:`pearl_lite.sac`, notebook 3). What is new is the wiring: the policy
pi(a | s, z), the critics Q(s, a, z) and the value V(s, z) all see ``cat([obs, z])``.

The official code's variant is used: twin Q, a state-value network V and its slowly moving
copy V-bar (tau = 0.005), and a fixed temperature alpha = 1 whose role is played by
``reward_scale`` (``auto_entropy=True`` learns alpha instead). ``use_value_network=False``
swaps V and V-bar for SAC v2's slowly moving copies of the twin Q networks (notebook 3's SAC).
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from pearl_lite.config import PEARLConfig
from pearl_lite.encoder import ContextEncoder, make_context
from pearl_lite.nets import MLP
from pearl_lite.sac import TanhGaussianPolicy, TwinQ

Tensor = torch.Tensor


class PEARLAgent(nn.Module):
    """PEARL's networks: q(z | c), pi(a | s, z), Q_1,2(s, a, z), V(s, z) and V-bar(s, z).

    (With ``use_value_network=False``: target copies Q-bar_1,2(s, a, z) instead of V and V-bar.)

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
        if cfg.use_value_network:  # SAC v1 (the paper): V and its target V-bar
            self.vf: MLP | None = MLP(in_dim, 1, hidden)
            self.target_vf: MLP | None = copy.deepcopy(self.vf).requires_grad_(False)
            self.target_qf: TwinQ | None = None
        else:  # SAC v2: target copies of the twin Qs stand in for V-bar; there is no V
            self.vf = self.target_vf = None
            self.target_qf = copy.deepcopy(self.qf).requires_grad_(False)
        # With reward_scale 100 the values are in the hundreds; an output scale lets small
        # networks reach them without first growing their last layer (same function class).
        self.value_scale = float(cfg.value_scale)
        # log alpha: trained only with auto_entropy; the official code keeps alpha = 1.
        self.log_alpha = nn.Parameter(torch.zeros(()), requires_grad=cfg.auto_entropy)

    def q(self, obs_z: Tensor, act: Tensor) -> Tensor:
        """Twin Q values ``(2, B)`` of ``obs_z = cat([obs, z])`` ``(B, o + L)`` and ``act``."""
        return self.value_scale * self.qf(obs_z, act)

    def v(self, obs_z: Tensor, target: bool = False) -> Tensor:
        """V(s, z) (or the target V-bar), shape ``(B,)``.

        Without a value network (``use_value_network=False``) only the target exists, as SAC
        v2's one-sample estimate of the soft value: ``min_k Q-bar_k(s, a) - alpha * log pi(a |
        s, z)`` at a fresh ``a ~ pi(. | s, z)`` (call it under ``torch.no_grad()``).
        """
        if self.target_qf is None:
            net = self.target_vf if target else self.vf
            return self.value_scale * net(obs_z).squeeze(-1)
        if not target:
            raise ValueError("this agent has no value network V (use_value_network=False): "
                             "only v(obs_z, target=True), the target soft value, exists")
        act, log_pi = self.policy(obs_z).rsample()
        next_q = self.value_scale * self.target_qf(obs_z, act)  # (2, B)
        return next_q.min(dim=0).values - self.log_alpha.exp() * log_pi

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


__all__ = ["PEARLAgent"]
