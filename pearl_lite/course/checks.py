"""Checks a notebook cell (or a test) runs on the learner's function, with hints.

Each ``check_*`` takes the learner's function, raises ``AssertionError`` with a hint that names
the likely mistake when it is wrong, and returns ``True`` when it passes. In a notebook, wrap it
in :func:`run` to get a one-line verdict instead of a traceback::

    from pearl_lite.course import checks
    from pearl_lite.exercises import ex1_vae
    checks.run(checks.check_gaussian_kl, ex1_vae.gaussian_kl)

The tests in ``tests/exercises`` call the same functions, on the stubs or on the reference
solutions (``pytest --impl=solutions``).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

Tensor = torch.Tensor


def run(check: Callable[[Callable[..., Any]], bool], fn: Callable[..., Any]) -> bool:
    """Run ``check(fn)`` and print a verdict; never raises, returns whether it passed.

    A function of ``pearl_lite.exercises`` is re-read from its file first (its module is
    reloaded), so a check cell sees the learner's latest edit without a kernel restart. In a
    notebook write ``_ = checks.run(...)``, or the returned ``False`` shows under the verdict.
    """
    name = getattr(fn, "__name__", "your function")
    try:
        fn = _reloaded(fn)
    except Exception as err:  # a syntax error in the learner's file: a verdict, not a traceback
        print(f"[x] {name}: {getattr(fn, '__module__', 'its module')} does not load: "
              f"{type(err).__name__}: {err}")
        return False
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


def _reloaded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The current version of an exercise function: its module reloaded from the file.

    Only a function that is its module's attribute of that name is re-read (a wrapper of it,
    or a function defined elsewhere, is checked as it is).
    """
    module, name = getattr(fn, "__module__", "") or "", getattr(fn, "__name__", "")
    if not module.startswith("pearl_lite.exercises.ex") or \
            getattr(sys.modules.get(module), name, None) is not fn:
        return fn
    return getattr(importlib.reload(sys.modules[module]), name, fn)


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


# ---- Notebook 1: the reparameterised sample (Ex 1.2) and the per-image ELBO (Ex 1.3) ----


def check_reparameterize(fn: Callable[..., Tensor]) -> bool:
    """Check ``fn(mu, var, eps=None)`` returns ``mu + sqrt(var) * eps`` with gradients.

    Catches: scaling eps by the variance (or by exp of a log-variance) instead of the std,
    ignoring a given ``eps``, sampling without a path for the gradient, wrong sample statistics.
    """
    g = torch.Generator().manual_seed(0)
    mu = torch.randn(4, 3, generator=g, dtype=torch.float64)
    var = torch.rand(4, 3, generator=g, dtype=torch.float64) * 3 + 0.2
    eps = torch.randn(4, 3, generator=g, dtype=torch.float64)
    expected = mu + var.sqrt() * eps
    mu_g, var_g = mu.clone().requires_grad_(), var.clone().requires_grad_()
    got = fn(mu_g, var_g, eps)
    if not torch.is_tensor(got) or got.shape != expected.shape:
        shape = tuple(got.shape) if torch.is_tensor(got) else type(got).__name__
        raise AssertionError(f"expected a tensor of shape {tuple(expected.shape)}, got {shape}")
    if not _close(got.detach(), expected):
        hint = "z = mu + sqrt(var) * eps, using the eps you are given."
        if _close(got.detach(), mu + var * eps):
            hint = "var is a variance: scale eps by its square root, the std."
        elif _close(got.detach(), mu + torch.exp(0.5 * var) * eps):
            hint = "var is a variance, not a log-variance: std = sqrt(var)."
        raise AssertionError(f"wrong value for a given eps. {hint}")
    if not got.requires_grad:
        raise AssertionError("no gradient flows from z to mu and var: build z from them with "
                             "torch operations (no .sample(), no .detach(), no torch.no_grad).")
    got.sum().backward()
    if mu_g.grad is None or var_g.grad is None or not _close(var_g.grad, eps / (2 * var.sqrt())):
        raise AssertionError("the gradient of z with respect to var should be eps / (2 sqrt(var))"
                             ": build z as mu + sqrt(var) * eps.")
    # eps=None: fresh standard-normal noise, so z has mean mu and variance var.
    n = 200_000
    m, v = torch.tensor([1.5, -2.0]), torch.tensor([0.25, 4.0])
    z = fn(m.expand(n, 2), v.expand(n, 2))
    if not torch.is_tensor(z) or z.shape != (n, 2):
        raise AssertionError("with eps=None return one sample per row, same shape as mu")
    if not (_close(z.mean(0), m, atol=0.03, rtol=0) and _close(z.var(0), v, atol=0.05, rtol=0.02)):
        raise AssertionError(f"with eps=None the samples should have mean {m.tolist()} and "
                             f"variance {v.tolist()}; got mean {z.mean(0).tolist()} and variance "
                             f"{z.var(0).tolist()}. Draw eps with torch.randn_like(mu).")
    return True


def check_elbo(fn: Callable[..., Any]) -> bool:
    """Check ``fn(model, x, beta)`` returns the per-image ``(recon_log_lik, kl, elbo)``.

    Catches: averaging over the batch, weighting the returned ``kl`` by beta, ignoring beta or
    adding the KL, decoding the posterior mean instead of a sample, a likelihood other than
    :func:`pearl_lite.course.vae.binomial_log_lik`, and a sample with no gradient path to the
    encoder.
    """
    from pearl_lite.course.vae import VAE, binomial_log_lik
    from pearl_lite.distributions import gaussian_kl

    torch.manual_seed(0)
    model = VAE(64, 3, (32,))
    g = torch.Generator().manual_seed(1)
    B, beta = 6, 0.5
    x = torch.randint(0, 17, (B, 64), generator=g).float() / 16
    out = fn(model, x, beta)
    try:
        recon, kl, el = out
    except (TypeError, ValueError):
        raise AssertionError("return ElboTerms(recon_log_lik, kl, elbo): three tensors") from None
    for name, t in (("recon_log_lik", recon), ("kl", kl), ("elbo", el)):
        if not torch.is_tensor(t) or t.shape != (B,):
            shape = tuple(t.shape) if torch.is_tensor(t) else type(t).__name__
            hint = " Do not average over the batch." if torch.is_tensor(t) and t.dim() == 0 else ""
            raise AssertionError(f"{name} must have shape ({B},), one value per image; got "
                                 f"{shape}.{hint}")
    with torch.no_grad():
        mu, var = model.encode(x)
        kl_ref = gaussian_kl(mu, var)
    if not _close(kl.detach(), kl_ref):
        hint = ("return the unweighted KL; beta enters only the elbo." if
                _close(kl.detach(), beta * kl_ref) else
                "kl is KL(q(z|x) || N(0, I)) for mu, var = model.encode(x).")
        raise AssertionError(f"wrong kl. {hint}")
    if not _close(el.detach(), (recon - beta * kl).detach()):
        hint = "elbo = recon_log_lik - beta * kl."
        if _close(el.detach(), (recon - kl).detach()):
            hint += " You ignored beta."
        elif _close(el.detach(), (recon + beta * kl).detach()):
            hint += " The KL is subtracted, not added."
        raise AssertionError(f"wrong elbo. {hint}")
    # The reconstruction term must use a *sample* z ~ q(z|x), scored by binomial_log_lik.
    with torch.no_grad():
        at_mean = binomial_log_lik(model.decode(mu), x)
        z = mu + var.sqrt() * torch.randn(4000, *mu.shape, generator=g)
        samples = binomial_log_lik(model.decode(z), x)  # (4000, B)
        mine = torch.stack([fn(model, x, beta)[0].detach() for _ in range(100)])
    if _close(mine.std(0), torch.zeros(B), atol=1e-6) and _close(mine[0], at_mean):
        raise AssertionError("recon_log_lik decodes the posterior mean; the ELBO's expectation "
                             "needs a sample z = reparameterize(mu, var).")
    tol = 5 * samples.std(0) * (1 / 100 + 1 / 4000) ** 0.5 + 0.05  # 5 standard errors
    if not bool(((mine.mean(0) - samples.mean(0)).abs() <= tol).all()):
        raise AssertionError("recon_log_lik does not match E_q[log p(x|z)]: score x with "
                             "binomial_log_lik(model.decode(z), x) for z ~ q(z|x).")
    # A gradient from the reconstruction term alone must reach the encoder.
    model.zero_grad()
    fn(model, x, beta)[0].sum().backward()
    w = model.encoder.net[0].weight.grad
    if w is None or float(w.abs().sum()) == 0.0:
        raise AssertionError("no gradient from recon_log_lik reaches the encoder: draw z with "
                             "reparameterize (mu + sqrt(var) * eps), not .sample() or no_grad.")
    return True


# ---------------------------------------------------------------------------------------------
# Notebook 2: the product of Gaussians and the bottleneck KL
# ---------------------------------------------------------------------------------------------


def _call2(fn: Callable[..., Any], *args: Any, what: str, **kwargs: Any) -> Any:
    """Call the learner's function; turn a crash into an AssertionError that says where."""
    try:
        return fn(*args, **kwargs)
    except (NotImplementedError, AssertionError):
        raise
    except Exception as err:  # a learner's bug should give a verdict, not a traceback
        raise AssertionError(f"{what} raised {type(err).__name__}: {err}") from None


def _pog_ref(mu: Tensor, var: Tensor, dim: int = -2) -> tuple[Tensor, Tensor]:
    prec = 1.0 / var.clamp(min=1e-7)
    post_var = 1.0 / prec.sum(dim)
    return post_var * (prec * mu).sum(dim), post_var


def _pair(out: Any, what: str) -> tuple[Tensor, Tensor]:
    if not (isinstance(out, tuple | list) and len(out) == 2 and all(map(torch.is_tensor, out))):
        raise AssertionError(f"{what}: return a tuple (mu, var) of two tensors, got "
                             f"{type(out).__name__}")
    return out[0], out[1]


def check_product_of_gaussians(fn: Callable[..., Any]) -> bool:
    """Check ``fn(mu, var, dim=-2, mask=None) -> (mu, var)``, the normalised product (Ex 2.1).

    Catches: averaging the means without precision weights, adding variances instead of
    precisions, forgetting to normalise the weighted mean, returning a std, ignoring ``dim``,
    order dependence, forgetting the 1e-7 clamp (inf/NaN for a zero-variance factor), ignoring
    the mask, and NaN instead of the prior for an empty context.
    """
    g = torch.Generator().manual_seed(0)
    T, N, D = 3, 5, 2
    mu = torch.randn(T, N, D, generator=g, dtype=torch.float64) * 2
    var = torch.rand(T, N, D, generator=g, dtype=torch.float64) * 3 + 0.05
    exp_mu, exp_var = _pog_ref(mu, var)
    got_mu, got_var = _pair(_call2(fn, mu, var, what="fn(mu, var)"), "fn(mu, var)")
    if got_mu.shape != (T, D) or got_var.shape != (T, D):
        raise AssertionError(f"expected mu and var of shape {(T, D)} (the factor dimension "
                             f"removed), got {tuple(got_mu.shape)} and {tuple(got_var.shape)}.")
    # Permutation invariance.
    perm = torch.tensor([3, 0, 4, 2, 1])
    mp, vp = _pair(_call2(fn, mu[:, perm], var[:, perm], what="fn on permuted factors"), "fn")
    if not (_close(mp, got_mu) and _close(vp, got_var)):
        raise AssertionError("the result changes when the factors are reordered: a product (a "
                             "sum of precisions) must not depend on the order.")
    if not _close(got_var, exp_var):
        hint = "the precisions (1 / var) of the factors add up; invert their sum."
        if _close(got_var, var.sum(1)) or _close(got_var, var.mean(1)):
            hint = "you added (or averaged) the variances: it is the precisions 1/var that add."
        elif _close(got_var, exp_var.sqrt()):
            hint = "you returned a standard deviation: return the variance."
        raise AssertionError(f"wrong variance: max error {(got_var - exp_var).abs().max():.3g}. "
                             f"{hint}")
    if not _close(got_mu, exp_mu):
        hint = "the mean is sum_n mu_n / var_n, times the product's variance."
        if _close(got_mu, mu.mean(1)):
            hint = ("you averaged the means: weight each factor by its precision 1/var_n, so "
                    "confident factors count more.")
        elif _close(got_mu, (mu / var).sum(1)):
            hint = "you forgot to normalise: multiply sum_n mu_n / var_n by the product's variance."
        raise AssertionError(f"wrong mean: max error {(got_mu - exp_mu).abs().max():.3g}. {hint}")
    # dim: the same factors stacked along dimension 0.
    out = _call2(fn, mu.transpose(0, 1), var.transpose(0, 1), dim=0, what="fn(..., dim=0)")
    m0, v0 = _pair(out, "fn(..., dim=0)")
    if not (_close(m0, exp_mu) and _close(v0, exp_var)):
        raise AssertionError("wrong result with dim=0: reduce over the dimension `dim`, not a "
                             "hard-coded one.")
    # The clamp: a factor with variance exactly 0 (a certain factor) must not give inf or NaN.
    var0 = var.clone()
    var0[0, 1] = 0.0
    m_c, v_c = _pair(_call2(fn, mu, var0, what="fn with a zero-variance factor"), "fn")
    if not (torch.isfinite(m_c).all() and torch.isfinite(v_c).all()):
        raise AssertionError("inf or NaN for a factor with variance 0: clamp the factor variances "
                             "from below at 1e-7 before inverting them (as PEARL does).")
    ref_m, ref_v = _pog_ref(mu, var0)
    if not (_close(m_c, ref_m, atol=1e-4) and _close(v_c, ref_v, atol=1e-9, rtol=1e-3)):
        raise AssertionError("wrong result for a zero-variance factor: clamp the factor variance "
                             "at 1e-7 (not larger), then invert.")
    # The mask: masked factors contribute nothing; a fully masked task gets the prior N(0, I).
    mask = torch.tensor([[1, 0, 1, 1, 0], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0]], dtype=torch.bool)
    m_m, v_m = _pair(_call2(fn, mu, var, mask=mask, what="fn(mu, var, mask=mask)"), "fn")
    keep = mask[0]
    r_m, r_v = _pog_ref(mu[0, keep], var[0, keep], dim=0)
    if not (_close(m_m[0], r_m) and _close(v_m[0], r_v)):
        raise AssertionError("the mask is ignored or misapplied: a factor with mask 0 must "
                             "contribute zero precision (multiply the precisions by the mask).")
    if not (torch.isfinite(m_m[2]).all() and torch.isfinite(v_m[2]).all()):
        raise AssertionError("NaN for a task whose factors are all masked out: the product of "
                             "no factors is the prior N(0, I).")
    if not (_close(m_m[2], torch.zeros(D, dtype=mu.dtype))
            and _close(v_m[2], torch.ones(D, dtype=mu.dtype))):
        raise AssertionError("a task whose factors are all masked out must get the prior: "
                             "mean 0, variance 1.")
    # No factors at all.
    m_e, v_e = _pair(_call2(fn, mu[:, :0], var[:, :0], what="fn with N = 0 factors"), "fn")
    if not (_close(m_e, torch.zeros(T, D, dtype=mu.dtype))
            and _close(v_e, torch.ones(T, D, dtype=mu.dtype))):
        raise AssertionError("with no factors (N = 0) return the prior N(0, I), not NaN.")
    # Gradients flow.
    mu_g = mu.clone().requires_grad_()
    sum(t.sum() for t in _pair(fn(mu_g, var), "fn")).backward()
    if mu_g.grad is None or not torch.isfinite(mu_g.grad).all():
        raise AssertionError("no finite gradient with respect to mu: keep it in torch.")
    return True


def check_kl_bottleneck(fn: Callable[..., Tensor]) -> bool:
    """Check ``fn(mu, var) -> (T,)``, KL(N(mu, diag var) || N(0, I)) per task (Ex 2.2).

    Catches: reducing over tasks, not summing (or averaging) over the latent dimension, using a
    std for the variance, a sign error on log var, a missing 1/2, and a KL not zero at the prior.
    """
    g = torch.Generator().manual_seed(0)
    T, D = 6, 4
    mu = torch.randn(T, D, generator=g, dtype=torch.float64)
    var = torch.rand(T, D, generator=g, dtype=torch.float64) * 2 + 0.05

    def ref(m: Tensor, v: Tensor) -> Tensor:
        q = torch.distributions.Normal(m, v.sqrt())
        p = torch.distributions.Normal(torch.zeros_like(m), torch.ones_like(v))
        return torch.distributions.kl_divergence(q, p).sum(-1)

    expected = ref(mu, var)
    got = _call2(fn, mu, var, what="fn(mu, var)")
    if not torch.is_tensor(got):
        raise AssertionError(f"return a tensor, got {type(got).__name__}")
    if got.shape != (T,):
        hint = ""
        if got.dim() == 0:
            hint = (" You reduced over the tasks: return one KL per task; PEARL's loss sums "
                    "over tasks later.")
        elif got.shape == mu.shape:
            hint = " Sum over the latent (last) dimension."
        raise AssertionError(f"expected shape {(T,)} (one KL per task), got "
                             f"{tuple(got.shape)}.{hint}")
    if not _close(got, expected):
        hints = []
        if _close(got, expected / D):
            hints.append("you averaged over the latent dimension: sum it.")
        if _close(got, ref(mu, var**2)) or _close(got, ref(mu, var.sqrt())):
            hints.append("var is a variance, not a standard deviation.")
        if _close(got, 2 * expected):
            hints.append("a factor 1/2 is missing.")
        if _close(got, 0.5 * (var + mu**2 - 1 + torch.log(var)).sum(-1)):
            hints.append("the sign of log var is wrong: it is - log var.")
        hint = " ".join(hints) or "compare with 1/2 sum_d (var + mu^2 - 1 - log var)."
        raise AssertionError(f"wrong value: max error {(got - expected).abs().max():.3g}. {hint}")
    zero = _call2(fn, torch.zeros(2, D), torch.ones(2, D), what="fn at the prior")
    if not _close(zero, torch.zeros(2), atol=1e-6):
        raise AssertionError("the KL of the prior to itself must be 0.")
    narrow = _call2(fn, mu, torch.full_like(var, 1e-7), what="fn for a narrow posterior")
    if not torch.isfinite(narrow).all():
        raise AssertionError("not finite for a narrow posterior (var = 1e-7): use torch.log(var).")
    mu_g, var_g = mu.clone().requires_grad_(), var.clone().requires_grad_()
    fn(mu_g, var_g).sum().backward()
    for name, t in (("mu", mu_g), ("var", var_g)):
        if t.grad is None or not torch.isfinite(t.grad).all():
            raise AssertionError(f"no finite gradient with respect to {name}: keep it in torch.")
    return True


# ---------------------------------------------------------------------------------------------
# Notebook 3: soft actor-critic (tanh-Gaussian log-prob, critic target, temperature loss)
# ---------------------------------------------------------------------------------------------


def _tanh_logp_ref(u: Tensor, mean: Tensor, log_std: Tensor) -> Tensor:
    """Independent reference: torch's Normal and TanhTransform's log|det J| (float64 inside)."""
    u64, m64, s64 = u.double(), mean.double(), log_std.double()
    normal = torch.distributions.Normal(m64, s64.exp())
    tanh = torch.distributions.transforms.TanhTransform()
    return (normal.log_prob(u64) - tanh.log_abs_det_jacobian(u64, torch.tanh(u64))).sum(-1)


def check_tanh_gaussian_log_prob(fn: Callable[..., Tensor]) -> bool:
    """Check ``fn(u, mean, log_std)``, the log-prob of ``a = tanh(u)``, summed over actions.

    Catches: the missing tanh correction, its wrong sign, the unstable ``log(1 - tanh(u)^2)`` at
    saturated actions (u = 20 in float32), an epsilon inside that log, and summing over the
    wrong dimension.
    """
    g = torch.Generator().manual_seed(3)
    B, A = 5, 3
    mean = torch.randn(B, A, generator=g)
    log_std = torch.rand(B, A, generator=g) - 0.5
    u = mean + log_std.exp() * torch.randn(B, A, generator=g)
    expected = _tanh_logp_ref(u, mean, log_std).float()
    got = fn(u, mean, log_std)
    if not torch.is_tensor(got):
        raise AssertionError(f"return a tensor, got {type(got).__name__}")
    if got.shape != expected.shape:
        hint = ""
        if got.shape == u.shape:
            hint = " Sum the log-density over the action (last) dimension."
        elif got.dim() == 0:
            hint = " Do not reduce over the batch: one log-prob per sample."
        elif got.shape == (A,):
            hint = " You summed over the batch dimension: sum over the last (action) one."
        raise AssertionError(f"expected shape {tuple(expected.shape)} (one log-prob per "
                             f"sample), got {tuple(got.shape)}.{hint}")
    if not _close(got, expected, atol=1e-4):
        normal = torch.distributions.Normal(mean, log_std.exp())
        base = normal.log_prob(u).sum(-1)
        correction = expected - base
        if _close(got, base, atol=1e-4):
            hint = ("the tanh correction is missing: subtract sum_d log(1 - tanh(u_d)^2), the "
                    "log-Jacobian of a = tanh(u).")
        elif _close(got, base - correction, atol=1e-4):
            hint = "the correction has the wrong sign: log pi(a) = log N(u) - log(1 - tanh(u)^2)."
        else:
            hint = ("compare term by term with log N(u; mean, std) - sum_d log(1 - tanh(u_d)^2); "
                    "log_std is the log of the standard deviation.")
        raise AssertionError(f"wrong value: max error {(got - expected).abs().max():.3g}; {hint}")
    # Saturated actions: tanh(20) is exactly 1.0 in float32.
    u_sat = torch.tensor([[20.0, -20.0], [15.0, 0.5]])
    mean_sat = torch.tensor([[19.5, -19.0], [14.0, 0.0]])
    log_std_sat = torch.zeros(2, 2)
    got_sat = fn(u_sat, mean_sat, log_std_sat)
    exp_sat = _tanh_logp_ref(u_sat, mean_sat, log_std_sat).float()
    if not torch.isfinite(got_sat).all():
        raise AssertionError("not finite at saturated actions (u = 20): log(1 - tanh(u)^2) is "
                             "log(0) in float32. Use 2 * (log 2 - u - softplus(-2u)).")
    if not _close(got_sat, exp_sat, atol=1e-3, rtol=1e-4):
        raise AssertionError(
            f"wrong at saturated actions (u = 20): got {got_sat.tolist()}, expected "
            f"{exp_sat.tolist()}. An epsilon inside log(1 - tanh(u)^2 + eps) keeps it finite "
            "but wrong; use the exact form 2 * (log 2 - u - softplus(-2u))."
        )
    # Gradients must reach the policy's outputs, also at saturation.
    m = mean_sat.clone().requires_grad_()
    s = log_std_sat.clone().requires_grad_()
    fn(u_sat, m, s).sum().backward()
    for name, t in (("mean", m), ("log_std", s)):
        if t.grad is None or not torch.isfinite(t.grad).all():
            raise AssertionError(f"no finite gradient with respect to {name}: keep it in torch.")
    return True


def check_soft_q_target(fn: Callable[..., Tensor]) -> bool:
    """Check ``fn(reward, next_q, next_log_prob, terminated, gamma, alpha)``.

    Catches: no ``(1 - terminated)`` mask (or an inverted one), no minimum over the twin
    critics, a missing or wrong-signed entropy term. (Bootstrapping through a time limit is
    checked where both flags are at hand: the PEARL critic loss of notebook 4.)
    """
    reward = torch.tensor([1.0, -0.5, 2.0, 0.0, 0.3, -1.2])
    next_q = torch.tensor([[10.0, 4.0, -2.0, 7.0, 1.0, 3.0],
                           [8.0, 6.0, -1.0, 7.5, 2.0, -3.0]])
    next_log_prob = torch.tensor([-1.0, 0.5, -2.0, 1.5, 0.0, -0.3])
    terminated = torch.tensor([0.0, 1.0, 0.0, 0.0, 1.0, 0.0])
    gamma, alpha = 0.9, 0.2

    def target(mask: Tensor, q: Tensor, ent_sign: float = -1.0, ent: bool = True) -> Tensor:
        v = q + (ent_sign * alpha * next_log_prob if ent else 0.0)
        return reward + gamma * (1.0 - mask) * v

    qmin = next_q.min(0).values
    expected = target(terminated, qmin)
    got = fn(reward, next_q, next_log_prob, terminated, gamma, alpha)
    if not torch.is_tensor(got):
        raise AssertionError(f"return a tensor, got {type(got).__name__}")
    if got.shape != expected.shape:
        hint = ""
        if got.shape == next_q.shape:
            hint = " Take the minimum over the twin critics (dimension 0) first."
        raise AssertionError(f"expected shape {tuple(expected.shape)}, got "
                             f"{tuple(got.shape)}.{hint}")
    if not _close(got, expected):
        candidates = [
            (target(1.0 - terminated, qmin), "the mask is inverted: multiply the bootstrap by "
             "(1 - terminated), which is 0 where s' is terminal."),
            (target(torch.zeros_like(terminated), qmin), "no (1 - terminated) mask: a terminal "
             "state has no future value."),
            (target(terminated, next_q[0]), "use the minimum of the two target critics, not "
             "the first (clipped double-Q)."),
            (target(terminated, next_q.mean(0)), "use the minimum of the two target critics, "
             "not their mean (clipped double-Q)."),
            (target(terminated, next_q.max(0).values), "use the minimum of the two target "
             "critics, not the maximum."),
            (target(terminated, qmin, ent=False), "the entropy term is missing: the soft value "
             "of s' is min Q - alpha * log pi(a'|s')."),
            (target(terminated, qmin, ent_sign=+1.0), "wrong sign of the entropy term: it is "
             "min Q - alpha * log pi (low log-prob = high entropy = bonus)."),
        ]
        hint = next((h for c, h in candidates if _close(got, c)),
                    "compare with r + gamma * (1 - terminated) * (min_k Q_k - alpha * log pi).")
        raise AssertionError(f"wrong value: max error {(got - expected).abs().max():.3g}. {hint}")
    if not _close(fn(reward, next_q, next_log_prob, terminated, gamma, torch.tensor(alpha)),
                  expected):
        raise AssertionError("must also work when alpha is a 0-d tensor.")
    return True


def check_temperature_loss(fn: Callable[..., Tensor]) -> bool:
    """Check ``fn(log_alpha, log_prob, target_entropy)``: value, gradient, and detached log_prob.

    Catches: the wrong sign, a non-detached ``log_prob`` (the loss would train the policy), the
    alpha form ``-alpha * (...)``, a missing target entropy, and a sum instead of a mean.
    """
    target_entropy = -2.0
    log_prob_values = torch.tensor([3.0, 1.5, 2.5, 0.5])
    log_alpha = torch.tensor(0.4, requires_grad=True)
    log_prob = log_prob_values.clone().requires_grad_()
    got = fn(log_alpha, log_prob, target_entropy)
    if not torch.is_tensor(got) or got.dim() != 0:
        raise AssertionError("return a scalar (0-d tensor): average over the batch.")
    bracket = log_prob_values + target_entropy
    la = log_alpha.detach()
    expected = -(la * bracket).mean()
    if not _close(got.detach(), expected):
        candidates = [
            ((la * bracket).mean(), "wrong sign. When the entropy -log pi is below the target, "
             "log_prob + target_entropy > 0 and minimising must increase log_alpha."),
            (-(la.exp() * bracket).mean(), "this is the alpha form -alpha * (...). The course "
             "(like SB3 and PEARL's code) multiplies log_alpha, so the gradient is not scaled "
             "by alpha."),
            (-(la * log_prob_values).mean(), "target_entropy is missing: log_prob + "
             "target_entropy."),
            (-(la * bracket).sum(), "average over the batch, do not sum."),
        ]
        hint = next((h for c, h in candidates if _close(got.detach(), c)),
                    "compare with -mean(log_alpha * (log_prob + target_entropy)).")
        raise AssertionError(f"wrong value: got {got.item():.4f}, expected "
                             f"{expected.item():.4f}. {hint}")
    got.backward()
    if log_prob.grad is not None and bool(log_prob.grad.abs().sum() > 0):
        raise AssertionError("gradient flows into log_prob: detach (log_prob + target_entropy), "
                             "this loss must train alpha only, never the policy.")
    if log_alpha.grad is None:
        raise AssertionError("no gradient reaches log_alpha: keep it in the graph.")
    if not _close(log_alpha.grad, -bracket.mean()):
        raise AssertionError(f"gradient wrt log_alpha is {log_alpha.grad.item():.4f}, expected "
                             f"{-bracket.mean().item():.4f}: use log_alpha itself, not alpha.")
    return True


# ---------------------------------------------------------------------------------------------
# Notebook 4: PEARL (context sampler, critic loss, actor/value loss, posterior sampling, the
# sparse-reward protocol)
# ---------------------------------------------------------------------------------------------


def _small_agent(env: str = "point-robot", obs_dim: int = 3, act_dim: int = 2, seed: int = 0,
                 **overrides: Any):
    """A tiny PEARL agent (16-unit networks, latent size 4), the same for every call."""
    from pearl_lite.config import get_config
    from pearl_lite.pearl.agent import PEARLAgent

    cfg = get_config(env, "smoke", latent_dim=4, **overrides)
    torch.manual_seed(seed)
    return PEARLAgent(obs_dim, act_dim, cfg), cfg


def _first_hint(got: Tensor, candidates: list[tuple[Tensor, str]], default: str,
                atol: float = 1e-5) -> str:
    return next((h for c, h in candidates if _close(got, c, atol=atol)), default)


def _grad_sum(module: torch.nn.Module) -> float:
    return float(sum(p.grad.abs().sum() for p in module.parameters() if p.grad is not None))


def _dict_with(out: Any, keys: tuple[str, ...], what: str) -> dict[str, Any]:
    if not isinstance(out, dict):
        raise AssertionError(f"{what}: return a dict with keys {list(keys)}, got "
                             f"{type(out).__name__}")
    missing = [k for k in keys if k not in out]
    if missing:
        raise AssertionError(f"{what}: the returned dict lacks {missing}; it needs {list(keys)}")
    return out


def _two_buffers():
    """An RL buffer with old and recent data per task and an encoder buffer with the recent data.

    Three tasks, obs ``(task, i)``: ``i >= 100`` marks old data (RL buffer only), ``i < 8``
    the recent round (both buffers). Recent rewards: dense ``-0.25`` in the RL buffer, sparse
    ``0.5`` in the encoder buffer, as the sparse-reward protocol stores them.
    """
    from pearl_lite.buffers import MultiTaskReplayBuffer

    rl = MultiTaskReplayBuffer(3, 2, 1, 64, seed=0)
    enc = MultiTaskReplayBuffer(3, 2, 1, 16, seed=1)
    for t in range(3):
        old = np.stack([np.full(30, t), 100 + np.arange(30)], 1).astype(np.float32)
        rl.add(t, old, np.full((30, 1), -0.7), np.full(30, -3.0), old + 0.5, np.zeros(30),
               np.zeros(30))
        new = np.stack([np.full(8, t), np.arange(8)], 1).astype(np.float32)
        act = (np.arange(8) / 10.0 - 0.3).reshape(8, 1)
        rl.add(t, new, act, np.full(8, -0.25), new + 0.5, np.zeros(8), np.zeros(8))
        enc.add(t, new, act, np.full(8, 0.5), new + 0.5, np.zeros(8), np.zeros(8))
    return rl, enc


def check_sample_context(fn: Callable[..., Tensor]) -> bool:
    """Check ``fn(rl_buffer, enc_buffer, task_slots, n, use_next_obs=False)`` (Ex 4.1).

    Catches: context drawn from all data (the RL buffer) instead of the recent data of the
    encoder buffer, rows that do not follow ``task_slots``, columns in the wrong order, one
    transition repeated, and ``use_next_obs`` ignored.
    """
    rl, enc = _two_buffers()
    slots = np.array([2, 0, 2])
    got = _call2(fn, rl, enc, slots, 20, what="fn(rl_buffer, enc_buffer, task_slots, 20)")
    if not torch.is_tensor(got):
        raise AssertionError(f"return a tensor (T, n, context_dim), got {type(got).__name__}")
    if got.shape != (3, 20, 4):
        hint = ""
        if got.shape == (3, 20, 6):
            hint = " With use_next_obs=False a context is (s, a, r), without s'."
        elif got.shape[:2] == (20, 3):
            hint = " Tasks first: (T, n, context_dim)."
        raise AssertionError(f"expected shape (3, 20, 4) for 3 tasks, n = 20 and (s, a, r) with "
                             f"obs_dim 2, act_dim 1; got {tuple(got.shape)}.{hint}")
    got = got.detach().float()
    if bool((got[..., 1] >= 100).any()) or bool((got[..., 3] < 0).any()):
        raise AssertionError("context drawn from all data: these transitions come from the RL "
                             "buffer, which holds every policy's data since training began. "
                             "Sample the encoder buffer: its recent data (the paper's S_c) "
                             "looks like the on-policy context of meta-test.")
    i = got[..., 1]
    expected = torch.stack([got[..., 0], i, i / 10.0 - 0.3, torch.full_like(i, 0.5)], -1)
    if not _close(got, expected):
        raise AssertionError("each context vector must be one stored transition in the order "
                             "(s, a, r): pearl_lite.encoder.make_context(obs, act, rew).")
    if not bool((got[..., 0] == torch.as_tensor(slots, dtype=got.dtype)[:, None]).all()):
        raise AssertionError("row t must hold transitions of task task_slots[t] (here [2, 0, "
                             "2], repeats included): pass task_slots to the buffer's sample.")
    if any(len(torch.unique(got[t, :, 1])) < 2 for t in range(3)):
        raise AssertionError("a row repeats one transition: draw n transitions at random "
                             "(enc_buffer.sample(task_slots, n)).")
    got2 = _call2(fn, rl, enc, slots, 5, True, what="fn(..., use_next_obs=True)")
    if not torch.is_tensor(got2) or got2.shape != (3, 5, 6) or not _close(
            got2[..., 4:].float(), got2[..., :2].float() + 0.5):
        raise AssertionError("with use_next_obs=True each context is (s, a, r, s'), shape "
                             "(3, 5, 6): pass next_obs to make_context.")
    return True


def _critic_setup():
    agent, _ = _small_agent()
    g = torch.Generator().manual_seed(11)
    T, B, N, o, a = 3, 5, 6, 3, 2
    with torch.no_grad():
        agent.target_vf.net[-1].bias.add_(5.0)  # V-bar differs from V; the bootstrap shows
    terminated = torch.zeros(T, B)
    truncated = torch.zeros(T, B)
    terminated[0, 1] = terminated[2, 4] = 1.0
    truncated[0, 4] = truncated[1, 2] = truncated[2, 0] = 1.0
    batch = {"obs": torch.randn(T, B, o, generator=g),
             "act": torch.rand(T, B, a, generator=g) * 2 - 1,
             "rew": torch.randn(T, B, generator=g),
             "next_obs": torch.randn(T, B, o, generator=g),
             "terminated": terminated, "truncated": truncated}
    context = torch.randn(T, N, o + a + 1, generator=g)
    eps = torch.randn(T, agent.latent_dim, generator=g)
    # A deterministic reparameterised sample, so the check knows the z that was drawn.
    agent.sample_z = lambda mu, var: mu + var.sqrt() * eps
    return agent, batch, context, eps


def check_critic_loss(fn: Callable[..., Any]) -> bool:
    """Check ``fn(agent, batch, context, reward_scale, gamma, kl_lambda)`` (Ex 4.2).

    Catches: z detached (the encoder gets no gradient), z repeated in the wrong layout, the
    bootstrap masked with ``truncated`` (or not masked, or inverted), a missing reward scale,
    the online V instead of V-bar, one Q head or their mean, the KL averaged or summed over the
    wrong axis, a missing beta (``kl_lambda``), and a target that carries gradient.
    """
    agent, batch, context, eps = _critic_setup()
    T, B = batch["rew"].shape
    scale, gamma, beta = 5.0, 0.9, 0.3
    keys = ("loss", "qf_loss", "kl", "obs", "z_rep", "mu", "var", "q")
    out = _dict_with(_call2(fn, agent, batch, context, scale, gamma, beta,
                            what="fn(agent, batch, context, ...)"), keys, "critic_loss")
    with torch.no_grad():
        mu, var = agent.encoder(context)
        z = mu + var.sqrt() * eps
        z_rep = z.unsqueeze(1).expand(T, B, -1).reshape(T * B, -1)
        obs = batch["obs"].reshape(T * B, -1)
        nxt = batch["next_obs"].reshape(T * B, -1)
        q = agent.q(torch.cat([obs, z_rep], -1), batch["act"].reshape(T * B, -1))
        v_bar = agent.v(torch.cat([nxt, z_rep], -1), target=True)
        v_online = agent.v(torch.cat([nxt, z_rep], -1))
        rew, term = batch["rew"].reshape(-1), batch["terminated"].reshape(-1)
        trunc = batch["truncated"].reshape(-1)

        def qf(mask: Tensor, s: float = scale, v: Tensor = v_bar, heads: str = "sum") -> Tensor:
            y = s * rew + gamma * (1.0 - mask) * v
            per_head = ((q - y) ** 2).mean(dim=1)
            return {"sum": per_head.sum(), "mean": per_head.mean(), "first": per_head[0]}[heads]

        kl_td = 0.5 * (var + mu**2 - 1.0 - var.log())  # (T, L)
    if not (_close(out["mu"].detach(), mu) and _close(out["var"].detach(), var)):
        raise AssertionError("mu and var must be the posterior of the context: mu, var = "
                             "agent.encoder(context), each (T, L).")
    got_z = out["z_rep"]
    if not torch.is_tensor(got_z) or got_z.shape != z_rep.shape:
        raise AssertionError(f"z_rep must have shape {tuple(z_rep.shape)} (one row per "
                             "transition, T*B rows).")
    if not _close(got_z.detach(), z_rep):
        hint = _first_hint(got_z.detach(), [
            (z.repeat(B, 1), "z is repeated in the wrong layout: rows t*B .. (t+1)*B-1 belong "
             "to task t (z.unsqueeze(1).expand(T, B, L).reshape(T*B, L)), not z.repeat(B, 1)."),
            (mu.unsqueeze(1).expand(T, B, -1).reshape(T * B, -1), "z is the posterior mean: "
             "sample it, z = agent.sample_z(mu, var), so the critic sees the encoder's "
             "uncertainty."),
        ], "draw z = agent.sample_z(mu, var) once per task and repeat it for the task's B "
           "transitions.")
        raise AssertionError(f"wrong z_rep. {hint}")
    if not _close(out["q"].detach(), q):
        raise AssertionError("q must be both Q heads at [s, z], agent.q(torch.cat([obs, z_rep], "
                             "-1), act), shape (2, T*B).")
    got_qf = out["qf_loss"].detach()
    exp_qf = qf(term)
    if not _close(got_qf, exp_qf):
        both = torch.clamp(term + trunc, max=1.0)
        hint = _first_hint(got_qf, [
            (qf(both), "the bootstrap is masked with truncated: a time-limit cut does not end "
             "the future of s', so the target must bootstrap through it. Only terminated may "
             "mask: (1 - terminated)."),
            (qf(torch.zeros_like(term)), "no (1 - terminated) mask: a terminal s' has no "
             "future value."),
            (qf(1.0 - term), "the mask is inverted: multiply V-bar(s') by (1 - terminated)."),
            (qf(term, s=1.0), "the reward is not scaled: the target is reward_scale * r + ..."),
            (qf(term, v=v_online), "bootstrap from the target network V-bar: agent.v(next_obs_z, "
             "target=True), not the online V."),
            (qf(term, heads="mean"), "sum the two heads' MSEs (MSE of Q1 + MSE of Q2, as the "
             "official code), do not average them."),
            (qf(term, heads="first"), "train both Q heads: qf_loss = MSE of Q1 + MSE of Q2."),
        ], "compare with sum_k mean((Q_k(s, a, z) - (reward_scale r + gamma (1 - terminated) "
           "V-bar(s', z)))^2).")
        raise AssertionError(f"wrong qf_loss: got {got_qf.item():.4f}, expected "
                             f"{exp_qf.item():.4f}. {hint}")
    got_kl, exp_kl = out["kl"], kl_td.sum()
    if not torch.is_tensor(got_kl) or got_kl.dim() != 0 or not _close(got_kl.detach(), exp_kl):
        shape = tuple(got_kl.shape) if torch.is_tensor(got_kl) else type(got_kl).__name__
        if shape == (T,):
            hint = "the KL is per task: sum it over the meta-batch's tasks too (a 0-d tensor)."
        elif shape == tuple(mu.shape[-1:]):
            hint = "the KL is summed over tasks but not over the latent dimensions: sum both."
        else:
            hint = _first_hint(got_kl.detach(), [
                (kl_td.sum(-1).mean(), "the KL is averaged over tasks: PEARL's official code sums "
                 "it over the meta-batch's tasks."),
                (kl_td.mean(-1).sum(), "the KL is averaged over the latent dimensions: a KL of "
                 "a diagonal Gaussian sums over them."),
                (kl_td.mean(), "the KL is averaged over tasks and latent dimensions: sum over "
                 "both, as the official code."),
                (beta * exp_kl, "return the unweighted kl; kl_lambda weights it in loss only."),
            ], "kl = sum over tasks and latent dims of KL(N(mu, var) || N(0, I)) "
               "(agent.encoder.kl_to_prior(mu, var).sum()).")
        raise AssertionError(f"wrong kl (shape {shape}). {hint}")
    got_loss = out["loss"].detach()
    if not _close(got_loss, exp_qf + beta * exp_kl):
        hint = _first_hint(got_loss, [
            (exp_qf + exp_kl, "beta is missing: loss = qf_loss + kl_lambda * kl."),
            (exp_qf, "the KL term is missing: loss = qf_loss + kl_lambda * kl."),
        ], "loss = qf_loss + kl_lambda * kl.")
        raise AssertionError(f"wrong loss. {hint}")
    # Gradients, with beta = 0: the encoder must learn through Q alone; V gets none.
    agent.zero_grad(set_to_none=True)
    out0 = _call2(fn, agent, batch, context, scale, gamma, 0.0, what="fn with kl_lambda=0")
    out0["loss"].backward()
    if _grad_sum(agent.encoder) == 0.0:
        raise AssertionError("z detached in the critic loss: the encoder gets no gradient from "
                             "the Bellman error (with kl_lambda = 0 it gets none at all). Keep "
                             "z attached when it enters Q.")
    if _grad_sum(agent.vf) != 0.0 or _grad_sum(agent.policy) != 0.0:
        raise AssertionError("the target carries gradient into V or the policy: compute it "
                             "under torch.no_grad(), from V-bar.")
    if _grad_sum(agent.qf) == 0.0:
        raise AssertionError("no gradient reaches the Q networks: qf_loss must come from q.")
    return True


def check_actor_value_loss(fn: Callable[..., Any]) -> bool:
    """Check ``fn(agent, obs, z, alpha, mean_reg, std_reg)`` (Ex 4.3).

    Catches: z not detached (the policy trains the encoder), gradients into the Q weights
    (critics not frozen) or critics left frozen, V's target not detached, the wrong twin (max
    or first instead of min), a missing or wrong-signed entropy term, the target V-bar instead
    of V, and missing regularisers.
    """
    agent, _, context, eps = _critic_setup()
    T, B, o = 3, 5, 3
    g = torch.Generator().manual_seed(12)
    obs = torch.randn(T * B, o, generator=g)
    mean_reg, std_reg, alpha = 0.01, 0.02, torch.tensor(0.2)

    def z_attached() -> Tensor:
        mu, var = agent.encoder(context)
        return agent.sample_z(mu, var).unsqueeze(1).expand(T, B, -1).reshape(T * B, -1)

    torch.manual_seed(3)
    out = _dict_with(_call2(fn, agent, obs, z_attached(), alpha, mean_reg, std_reg,
                            what="fn(agent, obs, z, alpha, ...)"),
                     ("loss", "vf_loss", "policy_loss", "log_pi"), "actor_value_loss")
    if not all(p.requires_grad for p in agent.qf.parameters()):
        raise AssertionError("the Q networks are left frozen: after Q(s, a~pi, z), unfreeze them "
                             "(agent.qf.requires_grad_(True)), or the critic stops learning.")
    torch.manual_seed(3)
    with torch.no_grad():
        obs_z = torch.cat([obs, z_attached()], -1)
        dist = agent.policy(obs_z)
        act, log_pi = dist.rsample()
        q_new = agent.q(obs_z, act)
        soft_v = q_new.min(0).values - alpha * log_pi
        vf = ((agent.v(obs_z) - soft_v) ** 2).mean()
        vf_bar = ((agent.v(obs_z, target=True) - soft_v) ** 2).mean()
        pi = (alpha * log_pi - q_new.min(0).values).mean()
        reg = mean_reg * (dist.mean**2).mean() + std_reg * (dist.log_std**2).mean()
    if not _close(out["log_pi"].detach(), log_pi):
        raise AssertionError("log_pi must be log pi(a|s, z) of one fresh sample, (a, log_pi) = "
                             "agent.policy(obs_z).rsample(), shape (T*B,).")
    got_pi = out["policy_loss"].detach()
    if not _close(got_pi, pi):
        hint = _first_hint(got_pi, [
            ((alpha * log_pi - q_new.max(0).values).mean(), "use the minimum of the two Q heads, "
             "not the maximum."),
            ((alpha * log_pi - q_new[0]).mean(), "use the minimum of the two Q heads, not the "
             "first."),
            ((alpha * log_pi - q_new.mean(0)).mean(), "use the minimum of the two Q heads, not "
             "their mean."),
            ((-q_new.min(0).values).mean(), "the entropy term is missing: alpha * log pi - min Q."),
            ((-alpha * log_pi - q_new.min(0).values).mean(), "wrong sign of the entropy term: "
             "alpha * log pi - min Q."),
        ], "policy_loss = mean(alpha * log pi - min_k Q_k(s, a~pi, z)).")
        raise AssertionError(f"wrong policy_loss. {hint}")
    got_vf = out["vf_loss"].detach()
    if not _close(got_vf, vf):
        hint = _first_hint(got_vf, [
            (vf_bar, "V's prediction comes from the online V, agent.v(obs_z); V-bar is only the "
             "critic's bootstrap."),
        ], "vf_loss = mean((V(s, z) - (min_k Q_k(s, a~pi, z) - alpha log pi))^2).")
        raise AssertionError(f"wrong vf_loss. {hint}")
    if not _close(out["loss"].detach(), vf + pi + reg):
        hint = _first_hint(out["loss"].detach(), [
            (vf + pi, "the regularisers are missing: + mean_reg * mean(mean^2) + std_reg * "
             "mean(log_std^2) of the policy's Gaussian (dist.mean, dist.log_std)."),
        ], "loss = vf_loss + policy_loss + the two regularisers.")
        raise AssertionError(f"wrong loss. {hint}")
    # Who gets gradients.
    agent.zero_grad(set_to_none=True)
    torch.manual_seed(3)
    out = _call2(fn, agent, obs, z_attached(), alpha, mean_reg, std_reg, what="fn")
    out["loss"].backward()
    if _grad_sum(agent.encoder) != 0.0:
        raise AssertionError("z not detached in the actor loss: the policy (and V) train the "
                             "encoder. PEARL trains the encoder through the critic only: use "
                             "z.detach() in [s, z].")
    if _grad_sum(agent.qf) != 0.0:
        raise AssertionError("the actor loss puts gradients into the Q networks' weights: "
                             "freeze them while computing Q(s, a~pi, z) "
                             "(agent.qf.requires_grad_(False), then True again).")
    if _grad_sum(agent.policy) == 0.0 or _grad_sum(agent.vf) == 0.0:
        raise AssertionError("the policy and V must both get gradients from loss.")
    agent.zero_grad(set_to_none=True)
    torch.manual_seed(3)
    _call2(fn, agent, obs, z_attached(), alpha, mean_reg, std_reg, what="fn")["vf_loss"].backward()
    if _grad_sum(agent.policy) != 0.0:
        raise AssertionError("V's target carries gradient into the policy: detach the soft "
                             "value min Q - alpha log pi, it is a regression label.")
    return True


class _ZRecorder(torch.nn.Module):
    """Wraps a policy and records the z (last ``latent_dim`` inputs) of every call."""

    def __init__(self, policy: torch.nn.Module, latent_dim: int) -> None:
        super().__init__()
        self.inner, self.latent_dim, self.calls = policy, latent_dim, []

    def forward(self, obs_z: Tensor) -> Any:
        self.calls.append(obs_z[..., -self.latent_dim:].detach().clone())
        return self.inner(obs_z)


def check_posterior_sampling(fn: Callable[..., Any]) -> bool:
    """Check ``fn(agent, venv, n_trajs, num_exp_traj_eval, max_path_length, generator, ...)``.

    Ex 4.4, on the sparse point robot. Catches: z redrawn every step (dithering), the prior
    not used (or not redrawn) for the first ``num_exp_traj_eval`` trajectories, the posterior
    never updated between trajectories, a context that does not accumulate, the dense reward
    leaking into the context, the posterior mean instead of a sample, and a z not drawn with
    the given generator.
    """
    from pearl_lite.envs import make_vector_env

    agent, cfg = _small_agent("sparse-point-robot", obs_dim=2, act_dim=2)
    recorder = _ZRecorder(agent.policy, agent.latent_dim)
    agent.policy = recorder
    agent.eval()
    venv = make_vector_env("sparse-point-robot", [0, 3, 5], seed=0, n_tasks=cfg.n_tasks)
    n, K, k_prior, H = 3, 5, 2, 6

    def call(seed: int) -> Any:
        recorder.calls.clear()
        with torch.no_grad():
            return _call2(fn, agent, venv, K, k_prior, H, torch.Generator().manual_seed(seed),
                          True, 0, what="fn(agent, venv, ...)")

    torch.manual_seed(100)
    out = call(7)
    if not (isinstance(out, tuple | list) and len(out) == 3 and
            all(isinstance(x, list | tuple) and len(x) == K for x in out)):
        raise AssertionError(f"return (paths, mus, vars): three lists with one entry per "
                             f"trajectory ({K} here).")
    paths, mus, variances = out
    if len(recorder.calls) != K * H or any(c.shape != (n, agent.latent_dim)
                                            for c in recorder.calls):
        raise AssertionError(f"expected {K} trajectories of {H} steps in all {n} tasks at once "
                             f"({K * H} policy calls on (n, obs + latent) inputs), got "
                             f"{len(recorder.calls)}: use rollout(agent.policy, venv, z, "
                             "max_path_length, ...) once per trajectory.")
    zs = torch.stack(recorder.calls).view(K, H, n, -1)  # (trajectory, step, task, L)
    if not torch.equal(zs, zs[:, :1].expand_as(zs)):
        raise AssertionError("z changes within a trajectory (dithering): draw z once per "
                             "trajectory and act on it for the whole trajectory. Posterior "
                             "sampling explores by committing to one hypothesis per episode.")
    z_traj = zs[:, 0]  # (K, n, L)
    prior_mu, prior_var = agent.prior(n)
    for k in range(k_prior):
        if not (_close(mus[k], prior_mu) and _close(variances[k], prior_var)):
            raise AssertionError(f"trajectory {k + 1} must draw z from the prior N(0, I) "
                                 f"(agent.prior(n)): the first num_exp_traj_eval = {k_prior} "
                                 "trajectories explore before the posterior is used.")
    if torch.equal(z_traj[0], z_traj[1]):
        raise AssertionError("the exploration trajectories share one z: redraw z from the prior "
                             "before each of them, as the official sampler does.")

    def context(ps: list, reward: str = "reward") -> tuple[Tensor, Tensor]:
        c = torch.cat([agent.context(*(torch.as_tensor(x) for x in (
            p.obs, p.act, getattr(p, reward), p.next_obs))) for p in ps], 1)
        return c, torch.cat([torch.as_tensor(p.valid) for p in ps], 1)

    for k in range(k_prior, K):
        exp_mu, exp_var = agent.infer_posterior(*context(paths[:k]))
        if _close(mus[k], exp_mu) and _close(variances[k], exp_var):
            continue
        dense = agent.infer_posterior(*context(paths[:k], "dense_reward"))[0]
        last = agent.infer_posterior(*context(paths[k - 1:k]))[0]
        if _close(mus[k], dense):
            hint = ("the dense reward leaks into the context: at meta-test the agent sees only "
                    "the environment's reward, paths.reward (sparse on a sparse task).")
        elif _close(mus[k], prior_mu) or (k > k_prior and _close(mus[k], mus[k - 1])):
            hint = ("the posterior is never updated between trajectories: after each trajectory "
                    "add it to the context and infer the belief again.")
        elif _close(mus[k], last):
            hint = ("the context holds only the last trajectory: it must accumulate every "
                    "trajectory so far, the exploration ones included.")
        else:
            hint = ("before trajectory k the belief is agent.infer_posterior(context, mask) of "
                    "all trajectories 0..k-1 (mask = paths.valid).")
        raise AssertionError(f"wrong belief before trajectory {k + 1}. {hint}")
    implied_eps = (z_traj - torch.stack(list(mus))) / torch.stack(list(variances)).sqrt()
    if bool((implied_eps[k_prior:].abs() < 1e-6).all()):
        raise AssertionError("z is the posterior mean: sample it, z = mu + sqrt(var) * eps. "
                             "Posterior sampling acts on a sample of the belief.")
    torch.manual_seed(200)  # another global seed: z must come from the generator alone
    again = call(7)
    if not all(torch.equal(a, b) for a, b in zip(again[1], mus, strict=True)) or \
            not torch.equal(torch.stack(recorder.calls).view(K, H, n, -1)[:, 0], z_traj):
        raise AssertionError("z is not reproducible from the generator: draw eps with "
                             "torch.randn(mu.shape, generator=generator).")
    return True


def _fake_paths():
    """Two trajectories of a sparse task: 4 valid steps, and 3 (then padding)."""
    from pearl_lite.pearl.sampler import Paths

    n, H = 2, 4
    obs = np.arange(n * H * 2, dtype=np.float32).reshape(n, H, 2) / 10
    act = -obs[..., ::-1].copy()
    dense = -(np.arange(n * H, dtype=np.float32).reshape(n, H) + 1) / 10
    sparse = np.array([[0.0, 0.0, 0.9, 0.95], [0.0, 0.8, 0.0, 0.0]], np.float32)
    valid = np.array([[True] * 4, [True, True, True, False]])
    terminated = np.zeros((n, H), bool)
    terminated[1, 2] = True
    truncated = np.zeros((n, H), bool)
    truncated[0, 3] = True
    return Paths(obs, act, sparse, dense, obs + 1, terminated, truncated, valid, None,
                 np.zeros((n, 3), np.float32))


def check_store_paths(fn: Callable[..., Any]) -> bool:
    """Check ``fn(rl_buffer, enc_buffer, slots, paths, to_enc, sparse_rewards_for_critic)``.

    Ex 4.5, the sparse-reward protocol. Catches: the dense reward leaking into the context
    (encoder buffer), the critic trained on the sparse reward by default, the option ignored,
    ``to_enc`` ignored, trajectories stored under the wrong slot, padding stored, and the
    ``terminated``/``truncated`` flags lost.
    """
    from pearl_lite.buffers import MultiTaskReplayBuffer

    paths = _fake_paths()
    slots = np.array([2, 0])

    def fresh() -> tuple[Any, Any]:
        return (MultiTaskReplayBuffer(3, 2, 2, 16, seed=0),
                MultiTaskReplayBuffer(3, 2, 2, 16, seed=1))

    def stored(buf: Any, slot: int, key: str) -> np.ndarray:
        return buf.data[key][slot, : buf.size(slot)]

    rl, enc = fresh()
    _call2(fn, rl, enc, slots, paths, True, what="fn(rl_buffer, enc_buffer, slots, paths, True)")
    sizes = [rl.size(s) for s in range(3)]
    if sizes != [3, 0, 4]:
        hint = "trajectory i goes to task slot slots[i]."
        if sorted(sizes) == [0, 4, 4] or sum(sizes) == 8:
            hint = ("store only the valid steps of each trajectory (paths.task(i)); the padding "
                    "after an early end is not data.")
        raise AssertionError(f"RL buffer sizes per slot {sizes}, expected [3, 0, 4]. {hint}")
    rows = {2: 0, 0: 1}
    for slot, row in rows.items():
        m = paths.valid[row]
        for key, want in (("obs", paths.obs[row][m]), ("next_obs", paths.next_obs[row][m]),
                          ("act", paths.act[row][m])):
            if not np.allclose(stored(rl, slot, key), want):
                raise AssertionError(f"wrong {key} in the RL buffer: store the trajectory's own "
                                     "obs, act and next_obs, in order.")
        if not (np.array_equal(stored(rl, slot, "terminated"), paths.terminated[row][m]) and
                np.array_equal(stored(rl, slot, "truncated"), paths.truncated[row][m])):
            raise AssertionError("store terminated and truncated as they are, each in its own "
                                 "field: the critic bootstraps through truncated, not through "
                                 "terminated.")
        rl_r, enc_r = stored(rl, slot, "rew"), stored(enc, slot, "rew")
        dense, sparse = paths.dense_reward[row][m], paths.reward[row][m]
        if enc_r.shape != sparse.shape or not np.allclose(enc_r, sparse):
            hint = ("the dense reward leaks into the sparse task's context: the encoder buffer "
                    "must hold the environment's reward (paths.reward), the only reward there "
                    "is at meta-test." if enc_r.shape == dense.shape and np.allclose(enc_r, dense)
                    else "the encoder buffer must hold the trajectory with the environment's "
                    "reward (paths.reward).")
            raise AssertionError(f"wrong context data. {hint}")
        if not np.allclose(rl_r, dense):
            hint = ("the critic's buffer got the sparse reward: the official protocol trains "
                    "the critic on the dense reward (dense_reward) unless "
                    "sparse_rewards_for_critic." if np.allclose(rl_r, sparse)
                    else "the RL buffer's reward must be the dense one (dense_reward).")
            raise AssertionError(f"wrong critic reward. {hint}")
    rl, enc = fresh()
    _call2(fn, rl, enc, slots, paths, False, what="fn(..., to_enc=False)")
    if any(enc.size(s) for s in range(3)):
        raise AssertionError("with to_enc=False (the extra RL-only steps of Algorithm 1) the "
                             "encoder buffer must stay as it was.")
    if rl.size(2) != 4:
        raise AssertionError("with to_enc=False the RL buffer must still get the trajectories.")
    rl, enc = fresh()
    _call2(fn, rl, enc, slots, paths, True, True, what="fn(..., sparse_rewards_for_critic=True)")
    if not np.allclose(stored(rl, 2, "rew"), paths.reward[0]) or \
            not np.allclose(stored(enc, 2, "rew"), paths.reward[0]):
        raise AssertionError("with sparse_rewards_for_critic=True the critic gets the sparse "
                             "reward too (the fully sparse variant); the context keeps it.")
    return True
