"""PEARL's context encoder q(z | c_1:N): from a set of transitions to a belief over the task.

Introduced in notebook 2; used by PEARL in notebook 4.

A *context* is a set of transitions from one task, each ``(s, a, r)`` or ``(s, a, r, s')``
concatenated in that order (:func:`make_context`). The encoder turns a batch of contexts of shape
``(T, N, context_dim)`` (T tasks, N transitions each) into a Gaussian posterior over the latent
task variable z, returned as ``(mu, var)`` of shape ``(T, latent_dim)``. Three kinds:

- ``"product"`` (PEARL): every transition c_n goes through the same MLP, which outputs a Gaussian
  factor N(f_mu(c_n), f_var(c_n)); the posterior is their normalised product
  (:func:`pearl_lite.distributions.product_of_gaussians`), so it ignores the order of the
  transitions and narrows as evidence accumulates.
- ``"mean"`` (the paper's deterministic ablation): the MLP embeds each transition into z-space and
  the embeddings are averaged; z is a point, there is no KL term (``var`` is returned as zeros).
- ``"recurrent"`` (the paper's order-dependent ablation): a GRU reads the transitions in order and
  the Gaussian posterior is read off its final hidden state. (The official code's recurrent
  encoder is known to be broken; this one is tested in ``tests/test_encoder.py``.)

Facts taken from the official code (katerakelly/oyster, ``rlkit/torch/sac/agent.py`` and
``launch_experiment.py``): the per-transition network has 3 hidden layers of 200 units and
``2 * latent_dim`` outputs, the first half the factor means, the second half passed through
softplus to give the factor *variances*; factor variances are clamped at 1e-7 before the product;
the deterministic variant averages the outputs over the context; the KL to the unit Gaussian
prior is summed over tasks in the loss, weighted by ``kl_lambda`` (our ``beta``).

At meta-test time the context grows one transition at a time; :class:`OnlinePosterior` keeps
running sufficient statistics so that each update costs O(new transitions), and equals the batch
result (tested).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from pearl_lite.distributions import MIN_FACTOR_VAR, gaussian_kl, product_of_gaussians
from pearl_lite.exercises import implementation
from pearl_lite.nets import MLP

Tensor = torch.Tensor

#: The encoder variants, as the paper ablates them.
ENCODER_KINDS = ("product", "mean", "recurrent")


def make_context(obs, act, rew, next_obs=None) -> Tensor:
    """Concatenate transitions into context vectors ``(s, a, r)`` or ``(s, a, r, s')``.

    Args:
        obs: observations, shape ``(..., obs_dim)`` (NumPy array or tensor).
        act: actions, shape ``(..., act_dim)``.
        rew: rewards, shape ``(...)`` or ``(..., 1)``.
        next_obs: optional next observations, shape ``(..., obs_dim)``; PEARL's
            ``use_next_obs_in_context`` option (on for the rand-params tasks, whose dynamics
            differ between tasks).

    Returns:
        A float32 tensor of shape ``(..., obs_dim + act_dim + 1 [+ obs_dim])``.
    """
    obs, act, rew = (torch.as_tensor(np.asarray(x) if not torch.is_tensor(x) else x,
                                     dtype=torch.float32) for x in (obs, act, rew))
    batch = obs.shape[:-1]
    if obs.dim() == 0 or act.dim() == 0:
        raise ValueError("obs and act need a feature dimension")
    if rew.shape == batch:
        rew = rew.unsqueeze(-1)
    if rew.shape != (*batch, 1):
        raise ValueError(f"rew must have shape {tuple(batch)} or {(*batch, 1)} to match obs "
                         f"{tuple(obs.shape)}, got {tuple(rew.shape)}")
    if act.shape[:-1] != batch:
        raise ValueError(f"act {tuple(act.shape)} and obs {tuple(obs.shape)} must share their "
                         "leading (batch) dimensions")
    parts = [obs, act, rew]
    if next_obs is not None:
        next_obs = torch.as_tensor(next_obs, dtype=torch.float32)
        if next_obs.shape != obs.shape:
            raise ValueError(f"next_obs must have the shape of obs {tuple(obs.shape)}, "
                             f"got {tuple(next_obs.shape)}")
        parts.append(next_obs)
    return torch.cat(parts, dim=-1)


def kl_bottleneck(mu: Tensor, var: Tensor) -> Tensor:
    r"""KL(q(z | c) || N(0, I)) for each task: PEARL's information bottleneck (Ex 2.2).

    Introduced in notebook 2. For a diagonal Gaussian posterior and the unit Gaussian prior,

    .. math::
        \mathrm{KL} = \tfrac12 \sum_d \big(\sigma_d^2 + \mu_d^2 - 1 - \log \sigma_d^2\big).

    Args:
        mu, var: posterior means and variances, shape ``(T, latent_dim)`` (any leading shape).

    Returns:
        One KL per task, shape ``(T,)``: summed over the latent dimension, *not* over tasks.
        PEARL's loss adds ``beta * kl.sum()`` (the official code sums over the tasks of the
        meta-batch); the caller chooses the reduction.
    """
    if mu.shape != var.shape:
        raise ValueError(f"mu and var must have the same shape, got {tuple(mu.shape)} and "
                         f"{tuple(var.shape)}")
    return gaussian_kl(mu, var)  # notebook 1's KL, with its default unit Gaussian prior


class ContextEncoder(nn.Module):
    """q(z | c_1:N) for a batch of contexts; see the module docstring for the three kinds.

    Args:
        context_dim: length of one transition vector (``obs + act + 1`` or ``2 obs + act + 1``).
        latent_dim: size of z (PEARL uses 5).
        hidden_sizes: hidden layers of the per-transition MLP, ``(200, 200, 200)`` in PEARL. For
            ``"recurrent"`` the last size is the GRU's hidden size and the others the MLP that
            embeds each transition before the GRU.
        kind: ``"product"``, ``"mean"`` or ``"recurrent"``.

    Attributes:
        is_probabilistic: ``False`` for ``"mean"``: z is a point, with no KL term.
    """

    def __init__(
        self,
        context_dim: int,
        latent_dim: int,
        hidden_sizes: Sequence[int] = (200, 200, 200),
        kind: str = "product",
    ) -> None:
        super().__init__()
        if kind not in ENCODER_KINDS:
            raise ValueError(f"kind must be one of {ENCODER_KINDS}, got {kind!r}")
        if context_dim < 1 or latent_dim < 1:
            raise ValueError(f"context_dim and latent_dim must be positive, got {context_dim} "
                             f"and {latent_dim}")
        hidden_sizes = tuple(int(h) for h in hidden_sizes)
        if not hidden_sizes:
            raise ValueError("hidden_sizes must name at least one hidden layer")
        self.context_dim, self.latent_dim, self.kind = context_dim, latent_dim, kind
        self.hidden_sizes = hidden_sizes
        self.is_probabilistic = kind != "mean"
        if kind == "product":
            # One Gaussian factor per transition: means and pre-softplus variances.
            self.net = MLP(context_dim, 2 * latent_dim, hidden_sizes)
        elif kind == "mean":
            self.net = MLP(context_dim, latent_dim, hidden_sizes)
        else:
            *embed_sizes, gru_size = hidden_sizes
            if embed_sizes:
                self.net = MLP(context_dim, embed_sizes[-1], embed_sizes[:-1])
                gru_in = embed_sizes[-1]
            else:
                self.net = nn.Identity()
                gru_in = context_dim
            self.gru = nn.GRU(gru_in, gru_size, batch_first=True)
            self.head = nn.Linear(gru_size, 2 * latent_dim)

    # ---- shapes -----------------------------------------------------------------------------

    def _check(self, context: Tensor, mask: Tensor | None) -> Tensor | None:
        if not torch.is_tensor(context) or context.dim() != 3:
            shape = tuple(context.shape) if torch.is_tensor(context) else type(context).__name__
            raise ValueError(f"context must be a tensor of shape (T, N, {self.context_dim}) "
                             f"(tasks, transitions, context_dim), got {shape}")
        if context.shape[-1] != self.context_dim:
            raise ValueError(f"context's last dimension must be context_dim={self.context_dim}, "
                             f"got shape {tuple(context.shape)}")
        if mask is None:
            return None
        if tuple(mask.shape) != tuple(context.shape[:2]):
            raise ValueError(f"mask must have shape (T, N) = {tuple(context.shape[:2])}, got "
                             f"{tuple(mask.shape)}")
        return mask.to(device=context.device, dtype=torch.bool)

    def prior(self, n_tasks: int, device: torch.device | None = None) -> tuple[Tensor, Tensor]:
        """The belief before any data: N(0, I), or the point z = 0 for ``"mean"`` (as PEARL)."""
        mu = torch.zeros(n_tasks, self.latent_dim, device=device)
        var = torch.ones_like(mu) if self.is_probabilistic else torch.zeros_like(mu)
        return mu, var

    # ---- the pieces the kinds are made of ---------------------------------------------------

    def factors(self, context: Tensor) -> tuple[Tensor, Tensor]:
        """``"product"`` only: the per-transition Gaussian factors, each ``(T, N, latent_dim)``."""
        if self.kind != "product":
            raise ValueError(f"factors() exists for kind='product' only, not {self.kind!r}")
        params = self.net(context)
        mu, pre_var = params.split(self.latent_dim, dim=-1)
        # softplus keeps each factor variance positive, as the official code does.
        return mu, F.softplus(pre_var)

    def _head(self, h: Tensor) -> tuple[Tensor, Tensor]:
        mu, pre_var = self.head(h).split(self.latent_dim, dim=-1)
        return mu, F.softplus(pre_var) + MIN_FACTOR_VAR

    # ---- the posterior ----------------------------------------------------------------------

    def forward(self, context: Tensor, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Posterior q(z | context).

        Args:
            context: ``(T, N, context_dim)``; ``N`` may be 0, which gives the prior.
            mask: optional ``(T, N)`` booleans, True where a transition takes part; lets
                contexts of different sizes share one batch. A task with no transition gets
                the prior.

        Returns:
            ``(mu, var)``, each ``(T, latent_dim)``. For ``"mean"``, ``var`` is all zeros.
        """
        mask = self._check(context, mask)
        T, N, _ = context.shape
        if N == 0:
            return self.prior(T, context.device)
        if self.kind == "product":
            mu_n, var_n = self.factors(context)
            pog = implementation("ex2_encoder.product_of_gaussians", product_of_gaussians)
            return pog(mu_n, var_n, dim=-2, mask=mask)
        if self.kind == "mean":
            emb = self.net(context)  # (T, N, latent_dim)
            if mask is None:
                return emb.mean(dim=1), torch.zeros_like(emb[:, 0])
            w = mask.to(emb.dtype).unsqueeze(-1)
            count = w.sum(dim=1)  # (T, 1); zero for an empty context -> mu = 0 (the prior)
            mu = (emb * w).sum(dim=1) / count.clamp(min=1.0)
            return mu, torch.zeros_like(mu)
        return self._recurrent(context, mask)

    def _recurrent(self, context: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
        T, N, _ = context.shape
        x = self.net(context)  # (T, N, embed)
        if mask is None:
            lengths = torch.full((T,), N, device=context.device, dtype=torch.long)
        else:
            # Move the transitions that take part to the front, keeping their order (a stable
            # sort); a GRU is causal, so the padding behind them cannot change the hidden state
            # at the last real transition.
            order = torch.sort((~mask).to(torch.int8), dim=1, stable=True).indices
            x = torch.gather(x, 1, order.unsqueeze(-1).expand_as(x))
            lengths = mask.sum(dim=1)
        out, _ = self.gru(x)  # (T, N, hidden): the hidden state after every step
        last = (lengths - 1).clamp(min=0)
        h = out[torch.arange(T, device=context.device), last]  # (T, hidden)
        mu, var = self._head(h)
        prior_mu, prior_var = self.prior(T, context.device)
        empty = (lengths == 0).unsqueeze(-1)
        return torch.where(empty, prior_mu, mu), torch.where(empty, prior_var, var)

    # ---- using the posterior ----------------------------------------------------------------

    def rsample(self, mu: Tensor, var: Tensor) -> Tensor:
        """Reparameterised z = mu + sqrt(var) * eps, ``(T, latent_dim)``; just ``mu`` for "mean"."""
        if not self.is_probabilistic:
            return mu
        return mu + var.sqrt() * torch.randn_like(mu)

    def kl_to_prior(self, mu: Tensor, var: Tensor) -> Tensor:
        """KL(q || N(0, I)) per task, ``(T,)`` (:func:`kl_bottleneck`); zeros for ``"mean"``."""
        if not self.is_probabilistic:
            return mu.new_zeros(mu.shape[:-1])
        return implementation("ex2_encoder.kl_bottleneck", kl_bottleneck)(mu, var)

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}, context_dim={self.context_dim}, latent_dim={self.latent_dim}"


class OnlinePosterior:
    """The posterior of a context that grows a few transitions at a time (meta-testing).

    Keeps running sufficient statistics instead of the whole context, so an update costs only
    the new transitions, and the result equals ``encoder(whole_context)`` (tested):

    - ``"product"``: the sums of factor precisions and of precision-weighted means (the natural
      parameters of the product: multiplying Gaussians adds them);
    - ``"mean"``: the sum of embeddings and the count;
    - ``"recurrent"``: the GRU's hidden state and the count.

    Gradients are not tracked (meta-test inference). Example::

        post = OnlinePosterior(encoder, n_tasks=4)
        post.update(make_context(o, a, r)[:, None])   # (4, 1, context_dim): one step each
        mu, var = post.posterior()
    """

    def __init__(self, encoder: ContextEncoder, n_tasks: int) -> None:
        if n_tasks < 1:
            raise ValueError(f"n_tasks must be positive, got {n_tasks}")
        self.encoder, self.n_tasks = encoder, n_tasks
        self.clear()

    def clear(self) -> None:
        """Forget every transition: back to the prior."""
        enc = self.encoder
        device = next(enc.parameters()).device
        self.count = torch.zeros(self.n_tasks, device=device)
        if enc.kind == "product":
            self._precision = torch.zeros(self.n_tasks, enc.latent_dim, device=device)
            self._weighted_mu = torch.zeros_like(self._precision)
        elif enc.kind == "mean":
            self._sum = torch.zeros(self.n_tasks, enc.latent_dim, device=device)
        else:
            self._h = torch.zeros(1, self.n_tasks, enc.gru.hidden_size, device=device)

    @torch.no_grad()
    def update(self, transitions: Tensor, mask: Tensor | None = None) -> None:
        """Add ``transitions`` of shape ``(T, k, context_dim)`` (k >= 1), in order.

        ``mask`` ``(T, k)`` marks which of them are real (e.g. a task whose episode ended adds
        nothing).
        """
        enc = self.encoder
        if transitions.dim() != 3 or transitions.shape[0] != self.n_tasks:
            raise ValueError(f"transitions must have shape ({self.n_tasks}, k, "
                             f"{enc.context_dim}), got {tuple(transitions.shape)}")
        mask = enc._check(transitions, mask)
        if mask is None:
            mask = torch.ones(transitions.shape[:2], dtype=torch.bool, device=transitions.device)
        w = mask.to(transitions.dtype).unsqueeze(-1)  # (T, k, 1)
        self.count = self.count + mask.sum(dim=1)
        if enc.kind == "product":
            mu_n, var_n = enc.factors(transitions)
            precision = w / var_n.clamp(min=MIN_FACTOR_VAR)  # the same clamp as the batch
            self._precision = self._precision + precision.sum(dim=1)
            self._weighted_mu = self._weighted_mu + (precision * mu_n).sum(dim=1)
        elif enc.kind == "mean":
            self._sum = self._sum + (enc.net(transitions) * w).sum(dim=1)
        else:
            x = enc.net(transitions)
            for i in range(x.shape[1]):  # step the GRU only where the mask says so
                _, h_new = enc.gru(x[:, i : i + 1], self._h)
                self._h = torch.where(mask[:, i].view(1, -1, 1), h_new, self._h)

    @torch.no_grad()
    def posterior(self) -> tuple[Tensor, Tensor]:
        """``(mu, var)``, each ``(T, latent_dim)``; the prior for tasks with no transition yet."""
        enc = self.encoder
        prior_mu, prior_var = enc.prior(self.n_tasks, self.count.device)
        empty = (self.count == 0).unsqueeze(-1)
        if enc.kind == "product":
            var = 1.0 / torch.where(empty, torch.ones_like(self._precision), self._precision)
            mu = self._weighted_mu * var
        elif enc.kind == "mean":
            mu = self._sum / self.count.clamp(min=1.0).unsqueeze(-1)
            var = torch.zeros_like(mu)
        else:
            mu, var = enc._head(self._h[0])
        return torch.where(empty, prior_mu, mu), torch.where(empty, prior_var, var)
