"""Exercises of notebook 1 (the VAE and the ELBO). Fill in the bodies; keep the signatures.

Check: ``pytest tests/exercises/test_ex1_vae.py`` or, in the notebook,
``checks.run(checks.check_gaussian_kl, ex1_vae.gaussian_kl)``.
"""

from __future__ import annotations

import torch

REFERENCES = {
    "gaussian_kl": "pearl_lite.distributions:gaussian_kl",
}


def gaussian_kl(
    mu_q: torch.Tensor,
    var_q: torch.Tensor,
    mu_p: torch.Tensor | None = None,
    var_p: torch.Tensor | None = None,
) -> torch.Tensor:
    """Ex 1.1: KL(N(mu_q, diag var_q) || N(mu_p, diag var_p)), summed over the last dimension.

    Shapes: ``(..., D)`` in, ``(...)`` out. ``None`` for the prior means N(0, I).
    Hint: the arguments are *variances*. Sum over the latent dimension only, not the batch.
    """
    raise NotImplementedError("Ex 1.1: implement gaussian_kl in pearl_lite/exercises/ex1_vae.py")
