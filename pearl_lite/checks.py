"""Checks a notebook cell (or a test) runs on the learner's function, with hints.

Each ``check_*`` takes the learner's function, raises ``AssertionError`` with a hint that names
the likely mistake when it is wrong, and returns ``True`` when it passes. In a notebook, wrap it
in :func:`run` to get a one-line verdict instead of a traceback::

    from pearl_lite import checks
    from pearl_lite.exercises import ex1_vae
    checks.run(checks.check_gaussian_kl, ex1_vae.gaussian_kl)

The tests in ``tests/exercises`` call the same functions, on the stubs or on the reference
solutions (``pytest --impl=solutions``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

Tensor = torch.Tensor


def run(check: Callable[[Callable[..., Any]], bool], fn: Callable[..., Any]) -> bool:
    """Run ``check(fn)`` and print a verdict; never raises, returns whether it passed."""
    name = getattr(fn, "__name__", "your function")
    try:
        check(fn)
    except NotImplementedError as err:
        print(f"[ ] {name}: not implemented yet ({err}). The notebook uses the reference.")
        return False
    except AssertionError as err:
        print(f"[x] {name}: {err}")
        return False
    print(f"[ok] {name} passes {check.__name__}")
    return True


def _close(a: Tensor, b: Tensor, atol: float = 1e-5, rtol: float = 1e-4) -> bool:
    return a.shape == b.shape and bool(torch.allclose(a, b, atol=atol, rtol=rtol))


# ---------------------------------------------------------------------------------------------
# Notebook 1: the Gaussian KL
# ---------------------------------------------------------------------------------------------


def check_gaussian_kl(fn: Callable[..., Tensor]) -> bool:
    """Check ``fn(mu_q, var_q, mu_p=None, var_p=None)`` against closed forms and Monte Carlo.

    Catches: summing (or averaging) over the batch, using std where variance is meant, the
    reversed direction KL(p || q), a missing 1/2, and a wrong default prior.
    """
    g = torch.Generator().manual_seed(0)
    B, D = 5, 3
    mu_q = torch.randn(B, D, generator=g, dtype=torch.float64)
    var_q = torch.rand(B, D, generator=g, dtype=torch.float64) * 2 + 0.1
    mu_p = torch.randn(B, D, generator=g, dtype=torch.float64)
    var_p = torch.rand(B, D, generator=g, dtype=torch.float64) * 2 + 0.1

    def kl_ref(mq, vq, mp, vp):
        q = torch.distributions.Normal(mq, vq.sqrt())
        p = torch.distributions.Normal(mp, vp.sqrt())
        return torch.distributions.kl_divergence(q, p).sum(-1)

    expected = kl_ref(mu_q, var_q, mu_p, var_p)
    got = fn(mu_q, var_q, mu_p, var_p)
    if not torch.is_tensor(got):
        raise AssertionError(f"return a tensor, got {type(got).__name__}")
    if got.shape != expected.shape:
        hint = ""
        if got.dim() == 0:
            hint = " Did you sum or average over the batch? Sum over the last dimension only."
        elif got.shape == mu_q.shape:
            hint = " Did you forget to sum over the last (latent) dimension?"
        raise AssertionError(f"expected shape {tuple(expected.shape)} (one KL per batch "
                             f"element), got {tuple(got.shape)}.{hint}")
    if not _close(got, expected):
        hints = []
        if _close(got, kl_ref(mu_p, var_p, mu_q, var_q)):
            hints.append("you computed KL(p || q): the KL is not symmetric, q comes first.")
        if _close(got, kl_ref(mu_q, var_q.sqrt(), mu_p, var_p.sqrt())) or _close(
            got, kl_ref(mu_q, var_q**2, mu_p, var_p**2)
        ):
            hints.append("the arguments are variances, not standard deviations.")
        if _close(got, 2 * expected):
            hints.append("a factor 1/2 is missing.")
        hint = " ".join(hints) or "compare your formula term by term with the derivation."
        raise AssertionError(f"wrong value: max error {(got - expected).abs().max():.3g}. {hint}")
    # Default prior: the unit Gaussian.
    expected0 = kl_ref(mu_q, var_q, torch.zeros_like(mu_q), torch.ones_like(var_q))
    got0 = fn(mu_q, var_q)
    if not _close(got0, expected0):
        raise AssertionError("with mu_p=None and var_p=None the prior must be N(0, I).")
    # Monte Carlo: E_q[log q(z) - log p(z)] for one element, an independent estimate.
    q = torch.distributions.Normal(mu_q[0], var_q[0].sqrt())
    p = torch.distributions.Normal(mu_p[0], var_p[0].sqrt())
    z = q.sample((200_000,))
    mc = (q.log_prob(z) - p.log_prob(z)).sum(-1).mean()
    if abs(mc.item() - got[0].item()) > 0.05 * max(1.0, abs(mc.item())):
        raise AssertionError(f"disagrees with a Monte-Carlo estimate ({mc.item():.3f} vs "
                             f"{got[0].item():.3f}).")
    # Gradients must flow.
    mq = mu_q.clone().requires_grad_()
    fn(mq, var_q).sum().backward()
    if mq.grad is None or not torch.isfinite(mq.grad).all():
        raise AssertionError("no finite gradient with respect to mu_q: keep it in torch.")
    return True
