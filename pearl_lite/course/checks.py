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
