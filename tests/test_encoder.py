"""pearl_lite.encoder: the context encoders, their masks, online updates and the bottleneck KL."""

import pytest
import torch

from pearl_lite.encoder import (
    ENCODER_KINDS,
    ContextEncoder,
    OnlinePosterior,
    kl_bottleneck,
    make_context,
)

C, L = 5, 3  # context_dim, latent_dim


def _encoder(kind, seed=0, hidden=(32, 32)):
    torch.manual_seed(seed)
    return ContextEncoder(C, L, hidden, kind=kind)


def _context(T=4, N=6, seed=1):
    return torch.randn(T, N, C, generator=torch.Generator().manual_seed(seed))


# ---- make_context --------------------------------------------------------------------------


def test_make_context_orders_s_a_r_then_next_obs():
    obs, act, rew = torch.ones(3, 2), 2 * torch.ones(3, 1), 3 * torch.ones(3)
    nxt = 4 * torch.ones(3, 2)
    c = make_context(obs, act, rew)
    assert c.shape == (3, 4) and c[0].tolist() == [1, 1, 2, 3]
    c = make_context(obs, act, rew[:, None], nxt)
    assert c.shape == (3, 6) and c[0].tolist() == [1, 1, 2, 3, 4, 4]
    import numpy as np

    c = make_context(np.zeros((2, 5, 2)), np.zeros((2, 5, 1)), np.zeros((2, 5)))
    assert c.shape == (2, 5, 4) and c.dtype == torch.float32


def test_make_context_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="rew must have shape"):
        make_context(torch.zeros(3, 2), torch.zeros(3, 1), torch.zeros(4))
    with pytest.raises(ValueError, match="leading"):
        make_context(torch.zeros(3, 2), torch.zeros(2, 1), torch.zeros(3))
    with pytest.raises(ValueError, match="next_obs"):
        make_context(torch.zeros(3, 2), torch.zeros(3, 1), torch.zeros(3), torch.zeros(3, 3))


# ---- construction and bad input ------------------------------------------------------------


def test_paper_architecture_by_default():
    enc = ContextEncoder(C, L)
    linears = [m for m in enc.net.modules() if isinstance(m, torch.nn.Linear)]
    assert [m.out_features for m in linears] == [200, 200, 200, 2 * L]
    assert enc.is_probabilistic
    assert not ContextEncoder(C, L, kind="mean").is_probabilistic


def test_bad_input_raises_clear_errors():
    with pytest.raises(ValueError, match="kind must be one of"):
        ContextEncoder(C, L, kind="attention")
    enc = _encoder("product")
    with pytest.raises(ValueError, match=r"\(T, N, 5\)"):
        enc(torch.zeros(6, C))
    with pytest.raises(ValueError, match="context_dim=5"):
        enc(torch.zeros(2, 3, C + 1))
    with pytest.raises(ValueError, match="mask must have shape"):
        enc(torch.zeros(2, 3, C), mask=torch.ones(2, 4, dtype=torch.bool))


# ---- the posterior -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ENCODER_KINDS)
def test_shapes_and_empty_context_is_the_prior(kind):
    enc = _encoder(kind)
    mu, var = enc(_context())
    assert mu.shape == var.shape == (4, L)
    mu0, var0 = enc(torch.zeros(4, 0, C))
    assert torch.equal(mu0, torch.zeros(4, L))
    assert torch.equal(var0, torch.ones(4, L) if enc.is_probabilistic else torch.zeros(4, L))
    # A task whose mask is all False gets the prior too, without NaN; the others are untouched.
    mask = torch.ones(4, 6, dtype=torch.bool)
    mask[2] = False
    mu_m, var_m = enc(_context(), mask)
    assert torch.isfinite(mu_m).all() and torch.isfinite(var_m).all()
    assert torch.equal(mu_m[2], mu0[2]) and torch.equal(var_m[2], var0[2])
    assert torch.allclose(mu_m[[0, 1, 3]], mu[[0, 1, 3]], atol=1e-6)


@pytest.mark.parametrize("kind", ["product", "mean"])
def test_permutation_invariance(kind):
    enc, c = _encoder(kind), _context(N=9)
    perm = torch.randperm(9, generator=torch.Generator().manual_seed(3))
    mu, var = enc(c)
    mu_p, var_p = enc(c[:, perm])
    assert torch.allclose(mu, mu_p, atol=1e-6) and torch.allclose(var, var_p, atol=1e-6)


def test_recurrent_depends_on_order():
    enc, c = _encoder("recurrent"), _context(N=9)
    mu, _ = enc(c)
    mu_r, _ = enc(c.flip(1))
    assert (mu - mu_r).abs().max() > 1e-4


def test_product_posterior_is_the_product_of_the_factors():
    enc, c = _encoder("product"), _context()
    mu_n, var_n = enc.factors(c)
    assert (var_n > 0).all()
    mu, var = enc(c)
    prec = (1 / var_n).sum(1)
    assert torch.allclose(var, 1 / prec, rtol=1e-5)
    assert torch.allclose(mu, (mu_n / var_n).sum(1) / prec, atol=1e-5)


def test_adding_a_transition_never_increases_any_variance():
    enc, c = _encoder("product"), _context(T=8, N=12)
    prev = torch.ones(8, L)  # the prior
    for n in range(1, 13):
        _, var = enc(c[:, :n])
        assert (var <= prev + 1e-7).all(), n
        prev = var


@pytest.mark.parametrize("kind", ENCODER_KINDS)
def test_mask_equals_dropping_the_masked_transitions(kind):
    enc, c = _encoder(kind), _context(T=3, N=7)
    mask = torch.tensor([[1, 0, 1, 1, 0, 1, 0], [1, 1, 1, 1, 1, 1, 1], [0, 0, 0, 1, 0, 0, 0]],
                        dtype=torch.bool)
    mu, var = enc(c, mask)
    for t in range(3):
        mu_t, var_t = enc(c[t : t + 1, mask[t]])
        assert torch.allclose(mu[t], mu_t[0], atol=1e-5), (kind, t)
        assert torch.allclose(var[t], var_t[0], atol=1e-5), (kind, t)


@pytest.mark.parametrize("kind", ENCODER_KINDS)
def test_online_updates_equal_the_batch_result(kind):
    enc, c = _encoder(kind), _context(T=3, N=8)
    mask = torch.rand(3, 8, generator=torch.Generator().manual_seed(4)) > 0.3
    post = OnlinePosterior(enc, n_tasks=3)
    mu0, var0 = post.posterior()
    assert torch.equal(mu0, torch.zeros(3, L))
    for lo, hi in [(0, 1), (1, 2), (2, 5), (5, 8)]:  # one at a time, then in chunks
        post.update(c[:, lo:hi], mask[:, lo:hi])
        mu, var = post.posterior()
        mu_b, var_b = enc(c[:, :hi], mask[:, :hi])
        assert torch.allclose(mu, mu_b, atol=1e-5) and torch.allclose(var, var_b, atol=1e-5)
    post.clear()
    assert torch.equal(post.posterior()[0], mu0) and torch.equal(post.posterior()[1], var0)


def test_online_posterior_rejects_wrong_task_count():
    post = OnlinePosterior(_encoder("product"), n_tasks=3)
    with pytest.raises(ValueError, match=r"\(3, k, 5\)"):
        post.update(torch.zeros(2, 1, C))


@pytest.mark.parametrize("kind", ENCODER_KINDS)
def test_gradients_are_finite(kind):
    enc = _encoder(kind)
    c = (10 * _context()).requires_grad_()  # large inputs push factor variances to extremes
    mask = torch.ones(4, 6, dtype=torch.bool)
    mask[1] = False
    mask[3, 2:] = False
    mu, var = enc(c, mask)
    z = enc.rsample(mu, var)
    loss = (z**2).sum() + enc.kl_to_prior(mu, var).sum()
    loss.backward()
    grads = [p.grad for p in enc.parameters() if p.grad is not None] + [c.grad]
    assert len(grads) > 1
    assert all(torch.isfinite(g).all() for g in grads)


# ---- sampling and the KL -------------------------------------------------------------------


def test_rsample_is_reparameterised_and_deterministic_for_mean():
    enc = _encoder("product")
    mu = torch.tensor([[1.0, -2.0, 0.5]]).expand(20000, L).clone().requires_grad_()
    var = torch.tensor([[0.25, 4.0, 1.0]]).expand(20000, L).clone().requires_grad_()
    torch.manual_seed(5)
    z = enc.rsample(mu, var)
    assert torch.allclose(z.mean(0), mu[0], atol=0.05)
    assert torch.allclose(z.var(0), var[0], rtol=0.05)
    z.sum().backward()
    assert mu.grad is not None and var.grad is not None
    det = _encoder("mean")
    m = torch.randn(3, L)
    assert torch.equal(det.rsample(m, torch.zeros(3, L)), m)


def test_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(6)
    mu, var = torch.randn(7, L, generator=g), torch.rand(7, L, generator=g) * 3 + 1e-3
    q = torch.distributions.Normal(mu, var.sqrt())
    p = torch.distributions.Normal(torch.zeros(L), torch.ones(L))
    expected = torch.distributions.kl_divergence(q, p).sum(-1)
    assert torch.allclose(kl_bottleneck(mu, var), expected, atol=1e-5)
    assert torch.allclose(_encoder("product").kl_to_prior(mu, var), expected, atol=1e-5)
    assert torch.equal(_encoder("mean").kl_to_prior(mu, var), torch.zeros(7))
    assert torch.allclose(kl_bottleneck(torch.zeros(2, L), torch.ones(2, L)), torch.zeros(2))
    with pytest.raises(ValueError, match="same shape"):
        kl_bottleneck(mu, var[:, :2])
