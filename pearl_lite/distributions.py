"""Diagonal Gaussians, the three ways PEARL uses them.

- :func:`gaussian_kl`: KL(q || p) between diagonal Gaussians, the regulariser of the VAE
  (notebook 1) and PEARL's information bottleneck (notebooks 2 and 4).
- :func:`product_of_gaussians`: the normalised product of Gaussian factors, PEARL's
  permutation-invariant posterior over the task variable z (notebook 2).
- :class:`TanhGaussian`: the squashed Gaussian policy of soft actor-critic (notebook 3).

Convention: batch dimensions first, the event dimension last, and *variances*
unless a name says ``std`` or ``log_std``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from pearl_lite.exercises import implementation

Tensor = torch.Tensor

#: Smallest factor variance allowed in :func:`product_of_gaussians`. PEARL's official code clamps
#: each factor's variance from below at 1e-7 before inverting it; we do the same.
MIN_FACTOR_VAR = 1e-7


#: Whether the functions of this module check their inputs' values (positive variances, no NaN).
#: Each check is one cheap reduction that turns a NaN deep inside a log into a message naming
#: its cause; it also reads a result back to the host, which some callers must avoid.
_VALIDATE_VALUES = True


def set_validate_values(value: bool) -> bool:
    """Switch the value checks of this module on (the default) or off; returns the old setting.

    Like ``torch.distributions.Distribution.set_default_validate_args``. Shape and type checks
    stay on. ``pearl_lite.runtime.cuda_graphs`` switches the value checks off while it records a
    CUDA graph (a capture may not read values back), after they ran in its eager warm-up steps.
    """
    global _VALIDATE_VALUES
    old, _VALIDATE_VALUES = _VALIDATE_VALUES, bool(value)
    return old


def _check_var(name: str, var: Tensor) -> None:
    if not torch.is_tensor(var):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(var).__name__}")
    if not torch.is_floating_point(var):
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {var.dtype}")
    if _VALIDATE_VALUES and (bool((var <= 0).any()) or bool(torch.isnan(var).any())):
        raise ValueError(
            f"{name} must be strictly positive (a variance, not a std or log-variance); "
            f"got min {var.min().item():.4g}"
        )


def _check_broadcast(**tensors: Tensor) -> None:
    shapes = {k: tuple(v.shape) for k, v in tensors.items()}
    try:
        torch.broadcast_shapes(*shapes.values())
    except RuntimeError:
        raise ValueError(f"shapes do not broadcast: {shapes}") from None


def gaussian_kl(
    mu_q: Tensor, var_q: Tensor, mu_p: Tensor | None = None, var_p: Tensor | None = None
) -> Tensor:
    r"""KL(N(mu_q, diag var_q) || N(mu_p, diag var_p)), summed over the last dimension.

    Introduced in notebook 1 (the VAE's KL term); reused as PEARL's information bottleneck.

    .. math::
        \mathrm{KL} = \tfrac12 \sum_d \Big[\log\frac{\sigma^2_{p,d}}{\sigma^2_{q,d}}
              + \frac{\sigma^2_{q,d} + (\mu_{q,d}-\mu_{p,d})^2}{\sigma^2_{p,d}} - 1\Big]

    Args:
        mu_q, var_q: mean and variance of q, shape ``(..., D)``.
        mu_p, var_p: mean and variance of p, broadcastable to ``(..., D)``; ``None`` means the
            unit Gaussian prior N(0, I).

    Returns:
        KL per batch element, shape ``(...)`` (the broadcast batch shape). It is not averaged
        or summed over the batch: the caller decides.

    Raises:
        ValueError: a variance that is not strictly positive, or shapes that do not broadcast.
    """
    _check_var("var_q", var_q)
    if mu_q.dim() == 0:
        raise ValueError("gaussian_kl needs an event dimension: mu_q has shape ()")
    if mu_p is None and var_p is None:
        # The unit Gaussian prior (the VAE's and PEARL's): log 1 = 0 and the division by 1 drop.
        _check_broadcast(mu_q=mu_q, var_q=var_q)
        return 0.5 * (var_q + mu_q**2 - 1.0 - torch.log(var_q)).sum(dim=-1)
    if mu_p is None:
        mu_p = torch.zeros_like(mu_q)
    if var_p is None:
        var_p = torch.ones_like(var_q)
    _check_var("var_p", var_p)
    _check_broadcast(mu_q=mu_q, var_q=var_q, mu_p=mu_p, var_p=var_p)
    kl = torch.log(var_p) - torch.log(var_q) + (var_q + (mu_q - mu_p) ** 2) / var_p - 1.0
    return 0.5 * kl.sum(dim=-1)


def product_of_gaussians(
    mu: Tensor, var: Tensor, dim: int = -2, mask: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    r"""The normalised product of diagonal Gaussian factors stacked along ``dim``.

    Introduced in notebook 2. A product of Gaussian densities is, once normalised, a Gaussian
    whose precision is the sum of the factors' precisions and whose mean is their
    precision-weighted average:

    .. math::
        \sigma^2 = \Big(\sum_n \sigma_n^{-2}\Big)^{-1}, \qquad
        \mu = \sigma^2 \sum_n \mu_n\,\sigma_n^{-2}

    Sums do not care about order, so the result is permutation invariant along ``dim``.

    Numerical safety: every factor variance is clamped from below at :data:`MIN_FACTOR_VAR`
    (1e-7, as PEARL's official code does) before it is inverted, so a factor that claims to be
    certain cannot produce an infinite precision; huge variances simply contribute almost
    nothing. The means are combined as precision *weights* normalised by their sum, which stays
    finite for any positive variances.

    Args:
        mu, var: factor means and variances, shape ``(..., N, D)`` with the factors along
            ``dim`` (``-2`` by default: ``(tasks, N, latent_dim)``).
        dim: the dimension that holds the factors; it is removed from the result. It must not
            be the last (event) dimension.
        mask: optional boolean or 0/1 tensor of shape ``(..., N)`` (the shape of ``mu`` without
            its last dimension): which factors take part. Lets contexts of different sizes
            share one batch. A product over zero factors is taken to be the unit Gaussian
            prior N(0, I) (the belief before any data), never NaN.

    Returns:
        ``(mu, var)``, each of shape ``mu.shape`` with ``dim`` removed.
    """
    if mu.shape != var.shape:
        raise ValueError(f"mu and var must have the same shape, got {tuple(mu.shape)} and "
                         f"{tuple(var.shape)}")
    if mu.dim() < 2:
        raise ValueError(f"need factors and an event dimension, got mu of shape {tuple(mu.shape)}")
    d = dim % mu.dim()
    if d == mu.dim() - 1:
        raise ValueError("dim must index the factors, not the last (event) dimension")
    if mask is not None:
        expected = mu.shape[:-1]
        if tuple(mask.shape) != tuple(expected):
            raise ValueError(f"mask must have shape {tuple(expected)} (mu without its last "
                             f"dimension), got {tuple(mask.shape)}")
    if mu.shape[d] == 0:  # no factors at all: the prior
        shape = mu.shape[:d] + mu.shape[d + 1:]
        return mu.new_zeros(shape), mu.new_ones(shape)
    if _VALIDATE_VALUES and (bool(torch.isnan(var).any()) or bool((var < 0).any())):
        raise ValueError("var must be non-negative and not NaN (variances, not log-variances)")

    precision = 1.0 / var.clamp(min=MIN_FACTOR_VAR)  # (..., N, D)
    if mask is not None:
        precision = precision * mask.to(precision.dtype).unsqueeze(-1)
    total_precision = precision.sum(dim=d)  # (..., D)
    empty = total_precision == 0
    safe_total = torch.where(empty, torch.ones_like(total_precision), total_precision)
    post_var = 1.0 / safe_total
    post_mu = (precision * mu).sum(dim=d) * post_var
    # Where no factor took part, fall back to the unit Gaussian prior.
    post_mu = torch.where(empty, torch.zeros_like(post_mu), post_mu)
    post_var = torch.where(empty, torch.ones_like(post_var), post_var)
    return post_mu, post_var


def log_one_minus_tanh_sq(u: Tensor) -> Tensor:
    r"""``log(1 - tanh(u)^2)`` in a form that stays finite for large ``|u|``.

    With :math:`1 - \tanh^2 u = 4 e^{-2u} / (1 + e^{-2u})^2` we get
    :math:`\log(1-\tanh^2 u) = 2\,(\log 2 - u - \mathrm{softplus}(-2u))`, which never
    computes ``log(0)`` even when ``tanh(u)`` rounds to exactly 1 in float32.
    """
    return 2.0 * (math.log(2.0) - u - F.softplus(-2.0 * u))


def tanh_gaussian_log_prob(u: Tensor, mean: Tensor, log_std: Tensor) -> Tensor:
    r"""Log-density of the action ``a = tanh(u)`` given its pre-tanh sample ``u``.

    Introduced in notebook 3 (Ex 3.1); :class:`TanhGaussian` uses it. With
    :math:`u \sim N(\mu, \sigma^2)` per dimension and :math:`a = \tanh u`,

    .. math::
        \log \pi(a) = \sum_d \Big[\log N(u_d; \mu_d, \sigma_d^2)
            - \log\big(1 - \tanh^2 u_d\big)\Big],

    the second term written with :func:`log_one_minus_tanh_sq` so that it stays finite when
    ``tanh(u)`` rounds to exactly ±1 (``u = 20`` in float32).

    Args:
        u: pre-tanh sample, shape ``(..., A)``.
        mean, log_std: the Gaussian's parameters, broadcastable to ``u``.

    Returns:
        log pi(a), shape ``(...)`` (summed over the action dimension).
    """
    var = torch.exp(2.0 * log_std)
    log_normal = -0.5 * ((u - mean) ** 2 / var + 2.0 * log_std + math.log(2.0 * math.pi))
    return (log_normal - log_one_minus_tanh_sq(u)).sum(dim=-1)


class TanhGaussian:
    r"""A diagonal Gaussian squashed through tanh: the SAC policy's action distribution.

    Introduced in notebook 3. With :math:`u \sim N(\mu, \sigma^2)` and :math:`a = \tanh u`,
    the change of variables gives

    .. math::
        \log \pi(a) = \log N(u; \mu, \sigma^2) - \sum_d \log\big(1 - \tanh^2 u_d\big)

    summed over the action dimensions. Forgetting the second term is the classic SAC bug: the
    entropy bonus then rewards pushing actions into the saturated tails.

    Args:
        mean: mean of the pre-tanh Gaussian, shape ``(..., A)``.
        log_std: log standard deviation, broadcastable to ``mean``.
    """

    def __init__(self, mean: Tensor, log_std: Tensor) -> None:
        try:
            torch.broadcast_shapes(mean.shape, log_std.shape)
        except RuntimeError:
            raise ValueError(f"mean {tuple(mean.shape)} and log_std {tuple(log_std.shape)} "
                             "do not broadcast") from None
        if mean.dim() == 0:
            raise ValueError("TanhGaussian needs an action dimension: mean has shape ()")
        self.mean = mean
        self.log_std = log_std
        self.std = log_std.exp()
        # validate_args=False: torch's value checks would read results back to the host at every
        # step (and a CUDA-graph capture forbids that). Shapes are checked above.
        self.normal = torch.distributions.Normal(mean, self.std, validate_args=False)

    def rsample(self) -> tuple[Tensor, Tensor]:
        """Reparameterised sample: ``a = tanh(mean + std * eps)``, eps ~ N(0, I).

        Returns:
            ``(action, log_prob)`` with shapes ``(..., A)`` and ``(...)``; gradients flow to
            ``mean`` and ``log_std`` through both.
        """
        u = self.normal.rsample()
        return torch.tanh(u), self._log_prob_pre_tanh(u)

    def sample(self) -> tuple[Tensor, Tensor]:
        """Like :meth:`rsample` but without gradients."""
        with torch.no_grad():
            return self.rsample()

    def log_prob(self, action: Tensor) -> Tensor:
        """Log-density of ``action`` (strictly inside (-1, 1)), summed over the last dimension."""
        if bool((action.abs() >= 1).any()):
            raise ValueError("TanhGaussian.log_prob needs actions strictly inside (-1, 1); "
                             f"got max |a| = {action.abs().max().item():.6g}")
        return self._log_prob_pre_tanh(torch.atanh(action))

    def _log_prob_pre_tanh(self, u: Tensor) -> Tensor:
        # The learner's Ex 3.1 after exercises.use("mine"); else the function above.
        log_prob = implementation("ex3_sac.tanh_gaussian_log_prob", tanh_gaussian_log_prob)
        return log_prob(u, self.mean, self.log_std)

    @property
    def mode(self) -> Tensor:
        """The deterministic action ``tanh(mean)``, used for evaluation."""
        return torch.tanh(self.mean)
