r"""A variational auto-encoder for the 8x8 digits and its evidence lower bound (notebook 1).

The bound, for one image x with encoder q(z|x), decoder p(x|z) and prior p(z) = N(0, I):

.. math::
    \log p(x) = \underbrace{\mathbb{E}_{q}[\log p(x|z)] - \mathrm{KL}(q(z|x)\,\|\,p(z))}_{
    \text{ELBO}} + \mathrm{KL}(q(z|x)\,\|\,p(z|x)) \;\ge\; \text{ELBO}.

:func:`elbo` returns the two parts of the ELBO separately (reconstruction log-likelihood and
KL, one value per image), with ``beta`` weighting the KL: ``beta = 1`` is the true bound,
other values give the beta-VAE objective whose ``beta`` PEARL calls ``kl_lambda``.

**Likelihood.** Each pixel of these digits is a count: the number of "on" pixels in a 4x4 block
of the original 32x32 black-and-white bitmap, an integer k from 0 to 16. So we model each pixel
as ``Binomial(16, p)`` with ``p = sigmoid(logit)`` from the decoder. This is the Bernoulli
likelihood that VAEs commonly use on intensities scaled to [0, 1] (our k/16), multiplied by 16
and plus the constant log-binomial coefficient; unlike the Bernoulli on grey values it is a
proper probability of the data, so the ELBO is a true lower bound on log p(x), in nats, and
can be compared with an importance-sampled estimate of log p(x). A Gaussian likelihood would put
probability on values the data can never take (negative, or between the 17 levels).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from pearl_lite.course.data import DATA_DIR, PIXEL_MAX, Digits
from pearl_lite.distributions import gaussian_kl
from pearl_lite.exercises import implementation
from pearl_lite.nets import MLP
from pearl_lite.utils import atomic_torch_save, seed_everything

Tensor = torch.Tensor

#: Added to the encoder's softplus output so that a posterior variance is never exactly 0.
MIN_VAR = 1e-6


@dataclass
class VAEConfig:
    """Hyperparameters of :func:`train_vae`."""

    latent_dim: int = 8
    """Dimension of the latent code z."""
    hidden_sizes: tuple[int, ...] = (128, 128)
    """Hidden layer widths of the encoder and of the decoder MLP."""
    beta: float = 1.0
    """Weight of the KL term; 1.0 trains on the true ELBO, other values give a beta-VAE."""
    lr: float = 1e-3
    """Adam learning rate."""
    batch_size: int = 128
    """Images per gradient step."""
    n_epochs: int = 400
    """Passes over the training set."""
    eval_every: int = 25
    """Epochs between evaluations of the test ELBO recorded in the history."""
    seed: int = 0
    """Seed for the initial weights, the minibatch order and the z samples."""

    def __post_init__(self) -> None:
        if self.latent_dim < 1:
            raise ValueError(f"latent_dim must be >= 1, got {self.latent_dim}")
        if self.beta < 0:
            raise ValueError(f"beta must be >= 0 (the KL weight), got {self.beta}")
        for name in ("batch_size", "n_epochs", "eval_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.lr <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        self.hidden_sizes = tuple(int(h) for h in self.hidden_sizes)


class VAE(nn.Module):
    """Encoder q(z|x) = N(mu(x), diag var(x)) and decoder p(x|z) = prod_pixels Binomial(16, p(z)).

    Args:
        x_dim: pixels per image (64 for the 8x8 digits).
        latent_dim: dimension of z.
        hidden_sizes: hidden widths of both MLPs.
    """

    def __init__(self, x_dim: int = 64, latent_dim: int = 8,
                 hidden_sizes: Sequence[int] = (128, 128)) -> None:
        super().__init__()
        self.x_dim, self.latent_dim = x_dim, latent_dim
        self.encoder = MLP(x_dim, 2 * latent_dim, hidden_sizes)
        self.decoder = MLP(latent_dim, x_dim, hidden_sizes)

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``x (B, 64) -> (mu, var)``, each ``(B, latent_dim)``.

        The variance is ``softplus(raw) + MIN_VAR``, positive by construction; PEARL's context
        encoder makes its variances the same way.
        """
        mu, raw = self.encoder(x).chunk(2, dim=-1)
        return mu, F.softplus(raw) + MIN_VAR

    def decode(self, z: Tensor) -> Tensor:
        """``z (..., latent_dim) -> logits (..., 64)``; pixel mean is ``sigmoid(logits)``."""
        return self.decoder(z)

    @torch.no_grad()
    def reconstruct(self, x: Tensor) -> Tensor:
        """Mean reconstruction in [0, 1], decoded from the posterior mean: ``(B, 64)``."""
        return torch.sigmoid(self.decode(self.encode(x)[0]))

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """``n`` new images: z from the prior, shown as the pixel means, ``(n, 64)`` in [0, 1]."""
        z = torch.randn(n, self.latent_dim, generator=generator)
        return torch.sigmoid(self.decode(z))


def reparameterize(mu: Tensor, var: Tensor, eps: Tensor | None = None) -> Tensor:
    """A sample z ~ N(mu, diag var) written as a differentiable function of mu and var.

    Introduced in notebook 1 (Ex 1.2). ``z = mu + sqrt(var) * eps`` with ``eps ~ N(0, I)``: the
    randomness is moved into ``eps``, which does not depend on the parameters, so gradients of
    any f(z) flow back into ``mu`` and ``var`` (the reparameterisation trick).

    Args:
        mu, var: mean and variance, shape ``(..., D)``.
        eps: optional standard-normal noise of the same shape (drawn when ``None``).

    Returns:
        z, shape ``(..., D)``.
    """
    if eps is None:
        eps = torch.randn_like(mu)
    return mu + var.sqrt() * eps


def binomial_log_lik(logits: Tensor, x: Tensor) -> Tensor:
    r"""log p(x|z) of the images ``x`` under per-pixel Binomial(16, sigmoid(logits)).

    With the count :math:`k = 16 x` and :math:`n = 16`:
    :math:`\log\binom{n}{k} + k \log \sigma(l) + (n - k) \log \sigma(-l)`, summed over pixels.
    ``logsigmoid`` keeps it finite for large logits.

    Args:
        logits: decoder output, shape ``(..., 64)``.
        x: images scaled to [0, 1], broadcastable to ``logits``.

    Returns:
        the log-likelihood in nats, summed over pixels, shape ``(...)``.
    """
    try:
        torch.broadcast_shapes(logits.shape, x.shape)
    except RuntimeError:
        raise ValueError(f"logits {tuple(logits.shape)} and x {tuple(x.shape)} do not "
                         "broadcast") from None
    if bool((x < 0).any()) or bool((x > 1).any()):
        raise ValueError("x must hold pixel intensities scaled to [0, 1] (count / 16)")
    n = float(PIXEL_MAX)
    k = x * n
    log_binom = math.lgamma(n + 1) - torch.lgamma(k + 1) - torch.lgamma(n - k + 1)
    log_lik = log_binom + k * F.logsigmoid(logits) + (n - k) * F.logsigmoid(-logits)
    return log_lik.sum(dim=-1)


class ElboTerms(NamedTuple):
    """The per-image parts of the (beta-weighted) ELBO, each of shape ``(B,)``, in nats."""

    recon_log_lik: Tensor
    """Single-sample estimate of E_q[log p(x|z)] (minus the distortion)."""
    kl: Tensor
    """KL(q(z|x) || N(0, I)), in closed form (the rate)."""
    elbo: Tensor
    """``recon_log_lik - beta * kl``; with beta = 1, the evidence lower bound."""


def elbo(model: VAE, x: Tensor, beta: float = 1.0) -> ElboTerms:
    """Per-image ELBO of ``x`` (B, 64) under ``model``, with its two parts (notebook 1, Ex 1.3).

    Encode, draw one z by :func:`reparameterize` (so the reconstruction term has a gradient with
    respect to the encoder), decode, and score the image under :func:`binomial_log_lik`. The KL
    to the unit-Gaussian prior is exact (:func:`~pearl_lite.distributions.gaussian_kl`).
    Nothing is averaged over the batch: the caller takes ``.mean()`` for a loss.
    """
    if x.dim() != 2 or x.shape[-1] != model.x_dim:
        raise ValueError(f"x must have shape (B, {model.x_dim}), got {tuple(x.shape)}")
    mu, var = model.encode(x)
    z = reparameterize(mu, var)
    recon = binomial_log_lik(model.decode(z), x)
    kl = gaussian_kl(mu, var)
    return ElboTerms(recon, kl, recon - beta * kl)


@torch.no_grad()
def importance_log_likelihood(model: VAE, x: Tensor, n_samples: int = 1000,
                              chunk_size: int = 250) -> Tensor:
    r"""Importance-sampled estimate of log p(x) per image (the IWAE bound), shape ``(B,)``.

    .. math::
        \log p(x) \approx \log \frac1K \sum_{k=1}^K \frac{p(x|z_k)\,p(z_k)}{q(z_k|x)},
        \quad z_k \sim q(z|x).

    For K = 1 its expectation is the ELBO; it rises towards log p(x) as K grows (Burda et al.,
    2016), so the difference to the ELBO measures the gap KL(q(z|x) || p(z|x)).
    """
    if n_samples < 1:
        raise ValueError(f"n_samples must be >= 1, got {n_samples}")
    mu, var = model.encode(x)  # (B, D)
    q = torch.distributions.Normal(mu, var.sqrt())
    log_w = []
    for start in range(0, n_samples, chunk_size):
        k = min(chunk_size, n_samples - start)
        z = q.sample((k,))  # (k, B, D)
        log_prior = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)
        log_w.append(binomial_log_lik(model.decode(z), x) + log_prior - q.log_prob(z).sum(-1))
    log_w = torch.cat(log_w)  # (K, B)
    return torch.logsumexp(log_w, dim=0) - math.log(n_samples)


@torch.no_grad()
def evaluate_vae(model: VAE, x: Tensor, beta: float = 1.0, n_importance: int = 0,
             seed: int = 0) -> dict[str, float]:
    """Mean ELBO, reconstruction and KL over ``x`` (and log p(x) if ``n_importance > 0``).

    Uses its own seed for the z samples, so repeated evaluations agree and the global random
    stream of a training run is left untouched.
    """
    with torch.random.fork_rng(devices=[]):  # CPU generator only
        torch.manual_seed(seed)
        terms = elbo(model, x, beta=1.0)
        out = {"elbo": terms.elbo.mean().item(), "recon_log_lik": terms.recon_log_lik.mean().item(),
               "kl": terms.kl.mean().item(),
               "beta_elbo": (terms.recon_log_lik - beta * terms.kl).mean().item()}
        if n_importance > 0:
            out["log_px"] = importance_log_likelihood(model, x, n_importance).mean().item()
    return out


def train_vae(cfg: VAEConfig, data: Digits,
              log: Callable[[str], None] | None = None) -> tuple[VAE, dict[str, list[float]]]:
    """Train a VAE on ``data.x_train`` with minibatch Adam on ``-mean(recon - beta * kl)``.

    Introduced in notebook 1. The test set is used only for the evaluations in the history.

    Returns:
        ``(model, history)``; ``history`` maps ``epoch``, ``train_elbo`` (running mean of the
        beta-weighted objective over the epoch), ``test_elbo``, ``test_recon_log_lik``,
        ``test_kl`` and ``seconds`` to lists, one entry per evaluation.
    """
    seed_everything(cfg.seed)
    model = VAE(data.x_train.shape[1], cfg.latent_dim, cfg.hidden_sizes)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    x_train, n = data.x_train, len(data.x_train)
    keys = ("epoch", "train_elbo", "test_elbo", "test_recon_log_lik", "test_kl", "seconds")
    history: dict[str, list[float]] = {k: [] for k in keys}
    t0 = time.perf_counter()
    for epoch in range(1, cfg.n_epochs + 1):
        total = 0.0
        for idx in torch.randperm(n).split(cfg.batch_size):
            # The learner's Ex 1.3 after exercises.use("mine"); evaluations keep the reference.
            terms = implementation("ex1_vae.elbo", elbo)(model, x_train[idx], beta=cfg.beta)
            loss = -terms.elbo.mean()  # maximise the (beta-)ELBO, averaged over the batch
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += -loss.item() * len(idx)
        if epoch % cfg.eval_every == 0 or epoch == cfg.n_epochs:
            ev = evaluate_vae(model, data.x_test)
            row = (epoch, total / n, ev["elbo"], ev["recon_log_lik"], ev["kl"],
                   time.perf_counter() - t0)
            for k, v in zip(keys, row, strict=True):
                history[k].append(float(v))
            if log is not None:
                log(f"epoch {epoch:4d}  train beta-ELBO {total / n:8.2f}  test ELBO "
                    f"{ev['elbo']:8.2f}  (recon {ev['recon_log_lik']:8.2f}, KL {ev['kl']:6.2f})")
    return model, history


@torch.no_grad()
def kl_per_dimension(model: VAE, x: Tensor) -> Tensor:
    """Average KL of each latent dimension over ``x``, shape ``(latent_dim,)``.

    A dimension whose KL is near 0 is unused: its posterior equals the prior for every image.
    (Adding a trailing dimension of size 1 makes :func:`gaussian_kl` return one KL per
    dimension instead of their sum.)
    """
    mu, var = model.encode(x)
    return gaussian_kl(mu.unsqueeze(-1), var.unsqueeze(-1)).mean(0)


# ---- Gradient estimators: why the reparameterisation trick --------------------------------


def gradient_estimator_variance(mu: float = 0.0, sigma: float = 1.0, target: float = 3.0,
                                n_samples: int = 1, n_repeats: int = 10_000,
                                seed: int = 0) -> dict[str, float]:
    r"""Mean and variance of two estimators of d/dmu E_{z~N(mu, sigma^2)}[(z - target)^2].

    The exact gradient is ``2 (mu - target)``. Each estimate averages ``n_samples`` draws; we
    repeat it ``n_repeats`` times (vectorised) and report the spread.

    - Score function (REINFORCE): :math:`f(z)\, \partial_\mu \log N(z; \mu, \sigma^2)`, using
      only values of f. Built as the gradient of the surrogate ``f(z).detach() * log q(z)``.
    - Reparameterisation: :math:`z = \mu + \sigma \epsilon`, gradient :math:`f'(z)`, obtained by
      backpropagating through the sample.
    """
    if n_samples < 1 or n_repeats < 2 or sigma <= 0:
        raise ValueError("need n_samples >= 1, n_repeats >= 2 and sigma > 0")
    g = torch.Generator().manual_seed(seed)
    eps = torch.randn(n_repeats, n_samples, generator=g, dtype=torch.float64)
    f = lambda z: (z - target) ** 2

    # One copy of mu per repeat, so that one backward pass yields every repeat's gradient.
    mu_r = torch.full((n_repeats, 1), float(mu), dtype=torch.float64, requires_grad=True)
    f(mu_r + sigma * eps).mean(dim=1).sum().backward()
    reparam = mu_r.grad.squeeze(1).clone()

    mu_s = torch.full((n_repeats, 1), float(mu), dtype=torch.float64, requires_grad=True)
    z = (mu_s + sigma * eps).detach()  # a plain sample: no path from z back to mu
    log_q = torch.distributions.Normal(mu_s, sigma).log_prob(z)
    (f(z) * log_q).mean(dim=1).sum().backward()
    score = mu_s.grad.squeeze(1).clone()

    return {"true_grad": 2.0 * (mu - target),
            "reparam_mean": reparam.mean().item(), "reparam_var": reparam.var().item(),
            "score_mean": score.mean().item(), "score_var": score.var().item()}


# ---- The beta grid: VAEs trained ahead for the notebook's slider --------------------------

#: The cached grid that notebook 1's beta slider reads (``scripts/train_vae_grid.py``).
BETA_GRID_PATH = DATA_DIR / "vae_beta_grid.pt"


def train_beta_grid(betas: Sequence[float], cfg: VAEConfig, data: Digits,
                    log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Train one VAE per beta (all else from ``cfg``) and collect what the slider shows.

    Returns:
        a dict with ``betas``, ``config`` (``cfg`` as a dict, its ``beta`` ignored),
        ``state_dicts`` (one per beta), and metrics per beta, each a list over betas:
        ``{train,test}_{recon_log_lik,kl,elbo}`` (the ELBO with beta = 1, the true bound),
        ``kl_per_dim`` (test set, ``(len(betas), latent_dim)``) and ``seconds`` (training time).
    """
    betas = [float(b) for b in betas]
    if not betas or any(b < 0 for b in betas) or sorted(betas) != betas:
        raise ValueError(f"betas must be a non-empty increasing list of values >= 0, got {betas}")
    grid: dict[str, Any] = {"betas": betas, "config": asdict(cfg), "state_dicts": [],
                            "kl_per_dim": [], "seconds": []}
    for split in ("train", "test"):
        for key in ("recon_log_lik", "kl", "elbo"):
            grid[f"{split}_{key}"] = []
    for beta in betas:
        t0 = time.perf_counter()
        model, _ = train_vae(VAEConfig(**{**asdict(cfg), "beta": beta}), data)
        grid["state_dicts"].append({k: v.detach().clone() for k, v in model.state_dict().items()})
        for split, x in (("train", data.x_train), ("test", data.x_test)):
            ev = evaluate_vae(model, x)
            for key in ("recon_log_lik", "kl", "elbo"):
                grid[f"{split}_{key}"].append(ev[key])
        grid["kl_per_dim"].append(kl_per_dimension(model, data.x_test).tolist())
        grid["seconds"].append(time.perf_counter() - t0)
        if log is not None:
            log(f"beta {beta:6.3g}: test recon {ev['recon_log_lik']:8.2f}  KL {ev['kl']:6.2f}  "
                f"ELBO {ev['elbo']:8.2f}  ({grid['seconds'][-1]:.0f} s)")
    return grid


def save_beta_grid(grid: dict[str, Any], path: str | Path) -> Path:
    """Write a grid from :func:`train_beta_grid` with ``torch.save``, atomically."""
    atomic_torch_save(grid, path)
    return Path(path)


def load_beta_grid(path: str | Path | None = None) -> dict[str, Any]:
    """Read a grid written by :func:`save_beta_grid` (default: the shipped ``data/`` file)."""
    path = BETA_GRID_PATH if path is None else Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} not found; make it with python scripts/train_vae_grid.py")
    return torch.load(path, weights_only=True)


def grid_model(grid: dict[str, Any], index: int) -> VAE:
    """The VAE trained with ``grid["betas"][index]``, in eval mode."""
    if not 0 <= index < len(grid["betas"]):
        raise ValueError(f"index must be in 0..{len(grid['betas']) - 1}, got {index}")
    cfg = grid["config"]
    model = VAE(64, cfg["latent_dim"], cfg["hidden_sizes"])
    model.load_state_dict(grid["state_dicts"][index])
    return model.eval()
