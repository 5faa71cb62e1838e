"""Exercises of notebook 1 (the VAE and the ELBO). Fill in the bodies; keep the signatures.

Check: ``pytest tests/exercises/test_ex1_vae.py`` or, in the notebook,
``checks.run(checks.check_gaussian_kl, ex1_vae.gaussian_kl)`` (likewise
``check_reparameterize`` for Ex 1.2 and ``check_elbo`` for Ex 1.3).
"""

from __future__ import annotations

import torch

REFERENCES = {
    "gaussian_kl": "pearl_lite.distributions:gaussian_kl",
    "reparameterize": "pearl_lite.course.vae:reparameterize",
    "elbo": "pearl_lite.course.vae:elbo",
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


def reparameterize(
    mu: torch.Tensor, var: torch.Tensor, eps: torch.Tensor | None = None
) -> torch.Tensor:
    """Ex 1.2: a sample z ~ N(mu, diag var) that gradients can flow through.

    Shapes: ``mu``, ``var`` and ``eps`` are ``(..., D)``; return ``z`` of shape ``(..., D)``.
    When ``eps`` is ``None``, draw it from N(0, I) (``torch.randn_like``).
    Hint: z = mu + std * eps, and ``var`` is a variance (std = its square root). Do not use
    ``torch.distributions.Normal(...).sample()``: it cuts the gradient.
    """
    raise NotImplementedError("Ex 1.2: implement reparameterize in pearl_lite/exercises/ex1_vae.py")


def elbo(model, x: torch.Tensor, beta: float = 1.0):
    """Ex 1.3: the per-image ELBO of ``x`` (B, 64) and its two parts, with KL weight ``beta``.

    Return ``pearl_lite.course.vae.ElboTerms(recon_log_lik, kl, elbo)``, each of shape ``(B,)``:
    encode (``mu, var = model.encode(x)``), draw z with your ``reparameterize``, decode
    (``logits = model.decode(z)``), score with
    ``pearl_lite.course.vae.binomial_log_lik(logits, x)``,
    KL to N(0, I) with your ``gaussian_kl``, and ``elbo = recon_log_lik - beta * kl``.
    Hint: no ``.mean()`` here (one value per image); ``kl`` is the unweighted KL.
    """
    raise NotImplementedError("Ex 1.3: implement elbo in pearl_lite/exercises/ex1_vae.py")
