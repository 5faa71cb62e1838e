"""Exercises of notebook 2 (the product-of-Gaussians context encoder). Fill in the bodies; keep
the signatures.

Check: ``pytest tests/exercises/test_ex2_encoder.py`` or, in the notebook,
``checks.run(checks.check_product_of_gaussians, ex2_encoder.product_of_gaussians)`` and
``checks.run(checks.check_kl_bottleneck, ex2_encoder.kl_bottleneck)``.
"""

from __future__ import annotations

import torch

REFERENCES = {
    "product_of_gaussians": "pearl_lite.distributions:product_of_gaussians",
    "kl_bottleneck": "pearl_lite.encoder:kl_bottleneck",
}


def product_of_gaussians(
    mu: torch.Tensor, var: torch.Tensor, dim: int = -2, mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Ex 2.1: the normalised product of diagonal Gaussian factors stacked along ``dim``.

    Shapes: ``mu``, ``var`` ``(..., N, D)`` with the N factors along ``dim``; ``mask``
    (optional) ``(..., N)``, True (or 1) for the factors that take part. Returns ``(mu, var)``
    with ``dim`` removed.

    Hints:
      - precisions add: 1 / var = sum_n 1 / var_n; the mean is the *precision-weighted*
        average of the factor means, not their plain average;
      - clamp each factor variance from below at 1e-7 (``MIN_FACTOR_VAR`` in
        ``pearl_lite.distributions``) before inverting it, so a factor with variance 0 cannot
        produce inf or NaN;
      - a masked-out factor contributes zero precision; a product over no factors at all is
        the unit Gaussian prior N(0, I).
    """
    raise NotImplementedError(
        "Ex 2.1: implement product_of_gaussians in pearl_lite/exercises/ex2_encoder.py"
    )


def kl_bottleneck(mu: torch.Tensor, var: torch.Tensor) -> torch.Tensor:
    """Ex 2.2: KL(N(mu, diag var) || N(0, I)) for each task, PEARL's information bottleneck.

    Shapes: ``mu``, ``var`` ``(T, latent_dim)`` (the posterior of each task) -> ``(T,)``.

    Hints: ``var`` is a variance. Sum over the latent dimension, but not over tasks (PEARL's
    loss sums over tasks later, times beta). Write it in closed form; it must be exactly 0 when
    the posterior is the prior.
    """
    raise NotImplementedError(
        "Ex 2.2: implement kl_bottleneck in pearl_lite/exercises/ex2_encoder.py"
    )
