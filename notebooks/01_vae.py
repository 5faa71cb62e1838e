# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Notebook 1: the variational auto-encoder and the evidence lower bound
#
# PEARL infers a task from a handful of transitions by fitting an approximate posterior
# q(z | context) and keeping it close to a prior with a KL penalty. That is a variational
# auto-encoder (VAE) in disguise, so we start with a plain VAE on small images, where every
# term can be looked at.
#
# **What this notebook covers**
#
# 1. The evidence lower bound (ELBO) on log p(x), and the gap KL(q(z|x) ‖ p(z|x)), derived
#    step by step, with the code that computes each term.
# 2. The KL between two diagonal Gaussians in closed form (**Ex 1.1**).
# 3. The reparameterisation trick (**Ex 1.2**), and a measured comparison of its gradient
#    variance with the score-function (REINFORCE) estimator.
# 4. The per-image ELBO of a VAE (**Ex 1.3**); training it on 8x8 handwritten digits; the test
#    ELBO in nats against an importance-sampled estimate of log p(x); reconstructions, samples
#    and a 2-D latent map.
# 5. β-VAE: a slider over models trained ahead with different KL weights β, showing the
#    rate–distortion trade-off that PEARL's information bottleneck (its `kl_lambda`) controls.
#
# **Exercises** live in `pearl_lite/exercises/ex1_vae.py`. Each check cell below prints a verdict
# (`[ ]` not attempted, `[x]` wrong with a hint, `[ok]`); the rest of the notebook uses the
# library's reference solutions, so it runs whether or not you have done them. From a shell:
# `python -m pytest tests/exercises/test_ex1_vae.py`.
#
# **Running time.** The full run (two VAEs trained from scratch, the β grid loaded from
# `data/`) takes **about one minute on a 2-core CPU**: 53 s to 74 s in four runs of
# `python scripts/build_notebooks.py notebooks/01_vae.py` on a CPU shared with other jobs
# (the last cell prints the kernel's own time). Set `PEARL_LITE_SMOKE=1` to shrink every
# budget to seconds (what the test suite does; about 20 s). Retraining the β grid
# (`RETRAIN_GRID = True` below) adds about 3.5 minutes.

# %%
import json
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

from pearl_lite.course import checks
from pearl_lite.course.data import DATA_DIR, PIXEL_MAX, load_digits
from pearl_lite.course.plotting import COLORS, use_course_style
from pearl_lite.course.vae import (
    VAEConfig,
    binomial_log_lik,
    elbo,
    evaluate_vae,
    gradient_estimator_variance,
    importance_log_likelihood,
    kl_per_dimension,
    load_beta_grid,
    save_beta_grid,
    train_beta_grid,
    train_vae,
)
from pearl_lite.course.widgets_vae import beta_figure, beta_slider, beta_view, tile_images
from pearl_lite.distributions import gaussian_kl
from pearl_lite.exercises import ex1_vae
from pearl_lite.utils import budget, seed_everything, smoke_mode

use_course_style()
plt.rcParams["figure.dpi"] = 80
torch.set_num_threads(1)  # these networks are tiny: one thread is fastest on a laptop
seed_everything(0)
NOTEBOOK_START = time.perf_counter()
print("smoke mode:", smoke_mode())

# %% [markdown]
# ## The data: 8x8 handwritten digits
#
# `data/digits.npz` holds the 1,797 digits that scikit-learn ships (a copy of the test set of
# the UCI *Optical Recognition of Handwritten Digits* data), split once, with a fixed seed, into
# 1,497 training and 300 test images (`scripts/make_digits.py`). Each pixel **counts** the "on"
# pixels of a 4x4 block of a 32x32 black-and-white scan: an integer from 0 to 16. The loader
# divides by 16, so images are vectors of 64 values in [0, 1]. The test images are never
# trained on.

# %%
digits = load_digits()
print("train", tuple(digits.x_train.shape), " test", tuple(digits.x_test.shape))
print("pixel values (x 16):", sorted(set((digits.x_train * PIXEL_MAX).unique().int().tolist())))
fig, ax = plt.subplots(figsize=(9, 2.2))
ax.imshow(tile_images(digits.x_train[:30], 15), cmap="gray_r", vmin=0, vmax=1)
ax.set_title("the first 30 training images")
ax.axis("off")
plt.show()

# %% [markdown]
# ## The evidence lower bound
#
# A latent-variable model draws a code z from a prior p(z) = N(0, I) and then an image from a
# decoder p(x | z). The likelihood of an image, the *evidence*, integrates over all codes,
#
# $$\log p(x) = \log \int p(x \mid z)\, p(z)\, dz ,$$
#
# which no one can compute for a neural decoder. Take any distribution q(z | x) (the
# *encoder*) and multiply and divide by it inside the integral:
#
# $$\log p(x) = \log \mathbb{E}_{q(z|x)}\Big[\frac{p(x \mid z)\,p(z)}{q(z \mid x)}\Big]
#   \;\ge\; \mathbb{E}_{q(z|x)}\Big[\log \frac{p(x \mid z)\,p(z)}{q(z \mid x)}\Big]
#   \quad\text{(Jensen: log is concave).}$$
#
# Split the right-hand side into a reconstruction term and a KL to the prior:
#
# $$\mathrm{ELBO}(x) = \underbrace{\mathbb{E}_{q(z|x)}[\log p(x \mid z)]}_{\text{reconstruction}}
#   - \underbrace{\mathrm{KL}\big(q(z \mid x)\,\|\,p(z)\big)}_{\text{rate}} .$$
#
# How loose is it? Write p(x | z) p(z) = p(z | x) p(x) (Bayes) inside the expectation:
#
# $$\mathbb{E}_q\Big[\log \frac{p(z \mid x)\,p(x)}{q(z \mid x)}\Big]
#   = \log p(x) - \mathrm{KL}\big(q(z \mid x)\,\|\,p(z \mid x)\big),$$
#
# so **log p(x) = ELBO + KL(q(z|x) ‖ p(z|x))**: the gap is exactly how far the encoder is from
# the true posterior, and maximising the ELBO over the encoder closes it while maximising over
# the decoder raises log p(x).
#
# Each term in code (all in `pearl_lite.course.vae`, one value per image):
#
# | term | code |
# | --- | --- |
# | q(z \| x) = N(μ, diag σ²) | `mu, var = model.encode(x)` |
# | a sample z ~ q(z \| x) | `z = reparameterize(mu, var)` (Ex 1.2) |
# | log p(x \| z), a one-sample estimate | `binomial_log_lik(model.decode(z), x)` |
# | KL(q(z \| x) ‖ p(z)), exact | `gaussian_kl(mu, var)` (Ex 1.1) |
# | ELBO | `elbo(model, x).elbo` (Ex 1.3) |
# | log p(x), importance-sampled | `importance_log_likelihood(model, x, n_samples)` |
# | the gap KL(q ‖ p(z \| x)) | `log_px - elbo` (estimated below, after training) |
#
# **The likelihood.** Because a pixel is a count of 16 on/off sub-pixels, the decoder gives
# each pixel a probability p = sigmoid(logit) and we score the count k with a
# Binomial(16, p):
#
# $$\log p(x \mid z) = \sum_{\text{pixels}}
#   \Big[\log \tbinom{16}{k} + k \log p + (16 - k) \log(1-p)\Big].$$
#
# That is the usual "Bernoulli on intensities in [0, 1]" cross-entropy, times 16, plus a
# constant; unlike it, it is a proper probability of the data, so the ELBO is a real bound on
# log p(x) in nats. Check it against `torch.distributions`:

# %%
logits = torch.randn(3, 64, generator=torch.Generator().manual_seed(0))
x3 = digits.x_test[:3]
print("ours              ", binomial_log_lik(logits, x3))
reference = torch.distributions.Binomial(16, logits=logits).log_prob(x3 * 16).sum(-1)
print("torch.distributions", reference)

# %% [markdown]
# ## Ex 1.1: the KL between diagonal Gaussians
#
# For one dimension, with q = N(μ_q, σ_q²) and p = N(μ_p, σ_p²),
#
# $$\mathrm{KL}(q \,\|\, p) = \mathbb{E}_q[\log q(z) - \log p(z)]
#   = \tfrac12 \Big[\log \frac{\sigma_p^2}{\sigma_q^2}
#   + \frac{\sigma_q^2 + (\mu_q - \mu_p)^2}{\sigma_p^2} - 1\Big],$$
#
# (expand the two Gaussian log-densities; E_q[(z − μ_p)²] = σ_q² + (μ_q − μ_p)²). For a
# diagonal Gaussian the dimensions are independent, so their KLs add: sum over the last
# dimension, **not** over the batch. With the prior p = N(0, I) this is the VAE's rate term,
# and in notebook 2 it becomes PEARL's information bottleneck.
#
# Implement `gaussian_kl(mu_q, var_q, mu_p=None, var_p=None)` in
# `pearl_lite/exercises/ex1_vae.py`. Hints: the arguments are *variances*; q comes first (the
# KL is not symmetric); `None` means the unit Gaussian.

# %%
_ = checks.run(checks.check_gaussian_kl, ex1_vae.gaussian_kl)

# %% [markdown]
# The reference, checked against `torch.distributions` and a Monte-Carlo estimate
# E_q[log q(z) − log p(z)] with 100,000 samples:

# %%
mu_q, var_q = torch.tensor([[0.5, -1.0]]), torch.tensor([[0.3, 2.0]])
q = torch.distributions.Normal(mu_q, var_q.sqrt())
p = torch.distributions.Normal(0.0, 1.0)
z = q.sample((100_000,))
print("closed form        ", gaussian_kl(mu_q, var_q).item())
print("torch.distributions", torch.distributions.kl_divergence(q, p).sum(-1).item())
print("Monte Carlo        ", (q.log_prob(z) - p.log_prob(z)).sum(-1).mean().item())

# %% [markdown]
# ## Ex 1.2: the reparameterisation trick
#
# The reconstruction term E_q[log p(x|z)] depends on the encoder's parameters through the
# *distribution* we sample z from; we need its gradient. Two unbiased estimators exist:
#
# - **Score function** (REINFORCE, the likelihood-ratio trick):
#   ∇_μ E_q[f(z)] = E_q[f(z) ∇_μ log q(z)]. It needs only values of f, but multiplies them by
#   a noisy score, so its variance grows with |f|.
# - **Reparameterisation**: write z = μ + σ ε with ε ~ N(0, I). The randomness no longer
#   depends on μ or σ, so ∇_μ E_ε[f(μ + σε)] = E_ε[∇_μ f(μ + σε)]: backpropagate *through the
#   sample*. It uses the derivative of f, which tells each sample which way to move.
#
# Implement `reparameterize(mu, var, eps=None)`: return `mu + sqrt(var) * eps`, drawing
# `eps` with `torch.randn_like(mu)` when it is not given.

# %%
_ = checks.run(checks.check_reparameterize, ex1_vae.reparameterize)

# %% [markdown]
# **Measured: how much lower is the variance?** Take the objective
# E_{z~N(μ, σ²)}[(z − 3)²] at μ = 0, σ = 1, whose exact gradient with respect to μ is
# 2(μ − 3) = −6. `gradient_estimator_variance` computes each estimator many times (each
# estimate averaging `n_samples` draws) and reports their mean and variance.

# %%
n_repeats = budget(20_000, 2_000)
rows = []
for n_samples in (1, 10, 100):
    r = gradient_estimator_variance(mu=0.0, sigma=1.0, target=3.0, n_samples=n_samples,
                                    n_repeats=n_repeats, seed=0)
    rows.append(r)
    print(f"n_samples={n_samples:4d}  exact {r['true_grad']:.2f} | reparameterised: mean "
          f"{r['reparam_mean']:7.3f}, variance {r['reparam_var']:8.3f} | score function: mean "
          f"{r['score_mean']:7.3f}, variance {r['score_var']:8.3f} | ratio "
          f"{r['score_var'] / r['reparam_var']:5.1f}x")

# %% [markdown]
# Both estimators are centred on −6, but the score function's variance is many times larger at
# every sample size (both fall as 1/n_samples). It also grows as the target moves away, because
# f itself grows while the reparameterised gradient only feels f's slope:

# %%
targets = [0.0, 1.0, 3.0, 10.0]
var_rep, var_score = [], []
for t in targets:
    r = gradient_estimator_variance(mu=0.0, sigma=1.0, target=t, n_samples=1,
                                    n_repeats=n_repeats, seed=1)
    var_rep.append(r["reparam_var"])
    var_score.append(r["score_var"])
fig, ax = plt.subplots(figsize=(5.5, 3.4))
ax.semilogy(targets, var_score, "o-", label="score function (REINFORCE)", color=COLORS["goal"])
ax.semilogy(targets, var_rep, "o-", label="reparameterisation", color=COLORS["pearl"])
ax.set(xlabel="target in f(z) = (z − target)²", ylabel="variance of a 1-sample gradient",
       title="gradient variance at μ = 0, σ = 1")
ax.legend()
plt.show()
for t, vs, vr in zip(targets, var_score, var_rep, strict=True):
    print(f"target {t:4.0f}: variance score function {vs:9.1f}, reparameterisation {vr:5.2f}")

# %% [markdown]
# ## Ex 1.3: the per-image ELBO
#
# The VAE in `pearl_lite.course.vae.VAE` has an MLP encoder x → (μ, σ²) (σ² through a softplus, as
# in
# PEARL's encoder) and an MLP decoder z → 64 logits. Write `elbo(model, x, beta=1.0)`: encode,
# sample z with the reparameterisation trick, decode, score the image with `binomial_log_lik`,
# compute the KL to N(0, I), and return `ElboTerms(recon_log_lik, kl, elbo)` with
# `elbo = recon_log_lik − beta * kl`, each of shape (B,). `beta = 1` is the bound above; other
# values give the β-VAE objective of the last section. Hints: no `.mean()` inside (one value
# per image: the caller averages for a loss); the returned `kl` is unweighted.

# %%
_ = checks.run(checks.check_elbo, ex1_vae.elbo)

# %% [markdown]
# ## Training on the digits
#
# `train_vae` maximises the mean ELBO over minibatches of 128 training images with Adam, and
# records the test-set ELBO every 25 epochs. 400 epochs (4,800 gradient steps) take seconds to
# a minute on a laptop CPU.

# %%
cfg = VAEConfig(latent_dim=8, hidden_sizes=(128, 128), beta=1.0, lr=1e-3, batch_size=128,
                n_epochs=budget(400, 10), eval_every=budget(25, 5), seed=0)
t0 = time.perf_counter()
model, history = train_vae(cfg, digits, log=print if smoke_mode() else None)
print(f"trained {cfg.n_epochs} epochs in {time.perf_counter() - t0:.0f} s")
print(cfg)

# %%
fig, ax = plt.subplots(figsize=(6, 3.6))
ax.plot(history["epoch"], history["train_elbo"], "o-", label="train (mean over each epoch)")
ax.plot(history["epoch"], history["test_elbo"], "o-", label="test")
ax.set(xlabel="epoch", ylabel="ELBO (nats per image)", title="learning curve")
ax.legend()
plt.show()

# %% [markdown]
# At 400 epochs both curves are still rising, the training ELBO faster than the test ELBO. Is
# 400 epochs too few, then? The same training continued to 1,600 epochs (same seed, so its
# first 400 epochs are the run above; `scripts/vae_learning_curve.py`, shipped in `data/`)
# answers it:

# %%
long_run = json.loads((DATA_DIR / "vae_learning_curve.json").read_text())
best = int(np.argmax(long_run["test_elbo"]))
fig, ax = plt.subplots(figsize=(6, 3.6))
ax.plot(long_run["epoch"], long_run["train_elbo"], "-", label="train")
ax.plot(long_run["epoch"], long_run["test_elbo"], "-", label="test")
ax.axvline(cfg.n_epochs, color="grey", ls=":", label=f"this notebook ({cfg.n_epochs} epochs)")
ax.set(xlabel="epoch", ylabel="ELBO (nats per image)", ylim=(-130, -70),
       title=f"the same VAE trained for {long_run['epoch'][-1]:.0f} epochs")
ax.legend()
plt.show()
print(f"best test ELBO {long_run['test_elbo'][best]:.2f} at epoch {long_run['epoch'][best]:.0f}; "
      f"at epoch {long_run['epoch'][-1]:.0f}: test {long_run['test_elbo'][-1]:.2f}, "
      f"train {long_run['train_elbo'][-1]:.2f}")

# %% [markdown]
# The test ELBO peaks about where this notebook stops, and afterwards it falls while the
# training ELBO keeps improving: from there on the gap between the curves grows by over-fitting
# (with 1,497 training images the decoder starts to memorise them). Before the peak, the gap is
# the ordinary generalisation gap of a model fitted to one sample of images and scored on
# another; it is not yet over-fitting in the sense of a test curve that gets worse.
#
# ### The test ELBO, log p(x), and the gap
#
# The ELBO below is averaged over the 300 test images (one z per image, seeded). The
# importance-sampled estimate (the IWAE bound of Burda et al., 2016) averages K weights
# p(x|z_k) p(z_k) / q(z_k|x) inside the log; it is itself a lower bound that rises to log p(x)
# as K grows, so `log_px − elbo` estimates the gap KL(q(z|x) ‖ p(z|x)) from below.

# %%
n_importance = budget(1000, 20)
ev_test = evaluate_vae(model, digits.x_test, n_importance=n_importance)
ev_train = evaluate_vae(model, digits.x_train)
print(f"TEST  ELBO  {ev_test['elbo']:8.2f} nats/image  (reconstruction "
      f"{ev_test['recon_log_lik']:.2f}, KL {ev_test['kl']:.2f})")
print(f"TEST  log p(x) >= {ev_test['log_px']:8.2f} nats/image  (importance sampling, "
      f"K = {n_importance})  ->  gap KL(q || p(z|x)) ~ {ev_test['log_px'] - ev_test['elbo']:.2f}")
print(f"TRAIN ELBO  {ev_train['elbo']:8.2f} nats/image")
print(f"per pixel: test ELBO {ev_test['elbo'] / 64:.3f} nats")

# %% [markdown]
# How quickly the importance-sampled estimate climbs with K (the same model, test images):

# %%
with torch.no_grad():
    torch.manual_seed(0)
    mean_elbo = torch.stack([elbo(model, digits.x_test).elbo for _ in range(10)]).mean().item()
    ks = sorted({1, 10, 100, n_importance})
    iw = [importance_log_likelihood(model, digits.x_test, n_samples=k).mean().item() for k in ks]
for k, v in zip(ks, iw, strict=True):
    print(f"K = {k:5d}: {v:8.2f} nats")
print(f"ELBO (10-sample average): {mean_elbo:8.2f} nats  (K = 1 estimates the same quantity)")

# %% [markdown]
# ### Reconstructions and samples
#
# Top: test images. Middle: their reconstructions (decoded from the posterior mean μ; shown as
# the decoder's pixel means). Bottom: new digits decoded from z ~ N(0, I).

# %%
n_show = 12
with torch.no_grad():
    strip = torch.cat([digits.x_test[:n_show], model.reconstruct(digits.x_test[:n_show]),
                       model.sample(n_show, torch.Generator().manual_seed(0))])
fig, ax = plt.subplots(figsize=(9, 2.6))
ax.imshow(tile_images(strip, n_show), cmap="gray_r", vmin=0, vmax=1)
ax.set_yticks([4, 13, 22], ["test", "reconstruction", "sample"])
ax.set_xticks([])
ax.grid(False)
plt.show()

# %% [markdown]
# Which of the 8 latent dimensions does the model use? The KL of each dimension, averaged over
# test images (a dimension at KL ≈ 0 has q = p(z) for every image and carries nothing):

# %%
print(np.round(kl_per_dimension(model, digits.x_test).numpy(), 2))

# %% [markdown]
# ### A 2-D latent space
#
# With two latent dimensions we can look at the whole code space: the posterior means of the
# test images coloured by digit (the labels are never used in training), and the decoder's
# images on a grid of z values at the prior's quantiles.

# %%
cfg2 = VAEConfig(latent_dim=2, n_epochs=budget(400, 10), eval_every=budget(400, 10), seed=0)
t0 = time.perf_counter()
model2, _ = train_vae(cfg2, digits)
ev2 = evaluate_vae(model2, digits.x_test)
print(f"2-D model: trained in {time.perf_counter() - t0:.0f} s; test ELBO {ev2['elbo']:.2f} "
      f"(recon {ev2['recon_log_lik']:.2f}, KL {ev2['kl']:.2f})")

with torch.no_grad():
    mu2, _ = model2.encode(digits.x_test)
    # A 12 x 12 grid of z at the N(0, 1) quantiles 2.5% ... 97.5%.
    qs = torch.distributions.Normal(0.0, 1.0).icdf(torch.linspace(0.025, 0.975, 12))
    zz = torch.stack(torch.meshgrid(qs, qs.flip(0), indexing="xy"), -1).reshape(-1, 2)
    manifold = torch.sigmoid(model2.decode(zz))
fig, axes = plt.subplots(1, 2, figsize=(11, 5))
sc = axes[0].scatter(mu2[:, 0], mu2[:, 1], c=digits.y_test, cmap="tab10", s=14,
                     vmin=-0.5, vmax=9.5)
fig.colorbar(sc, ax=axes[0], ticks=range(10), label="digit")
axes[0].set(xlabel="z[0] (posterior mean)", ylabel="z[1]", title="test images in latent space")
axes[1].imshow(tile_images(manifold, 12, pad=0), cmap="gray_r", vmin=0, vmax=1)
axes[1].set_title("decoded z on a grid of prior quantiles")
axes[1].axis("off")
plt.show()

# %% [markdown]
# ## β-VAE: the KL weight as an information bottleneck
#
# Weight the KL term by β: maximise E_q[log p(x|z)] − β KL(q(z|x) ‖ p(z)). The KL averaged
# over images is the **rate**, an upper bound on the information (in nats) that z carries about
# x; minus the reconstruction term is the **distortion**. β is the price of a nat: small β
# buys detailed reconstructions with a large rate; large β squeezes the code until only the
# broad shape of a digit passes (and unused dimensions collapse onto the prior). Only β = 1 is
# a bound on log p(x).
#
# PEARL uses exactly this objective for its task encoder: `kl_lambda` (0.1 on the MuJoCo tasks
# in the official configs, 1.0 on the sparse point robot) is β, and the bottleneck keeps the
# task variable z from memorising the context.
#
# The slider reads a grid of VAEs trained ahead, one per β (same configuration and seed as the
# model above, β aside), cached in `data/vae_beta_grid.pt` by `python scripts/train_vae_grid.py`.
# Set `RETRAIN_GRID = True` to retrain it here (about 3.5 minutes); the result goes to
# `runs/`, never over the shipped file.

# %%
RETRAIN_GRID = False

if RETRAIN_GRID:
    grid_cfg = VAEConfig(n_epochs=budget(400, 3), seed=0)
    grid = train_beta_grid([0.1, 0.2, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0], grid_cfg, digits, log=print)
    print("saved to", save_beta_grid(grid, DATA_DIR.parent / "runs" / "vae_beta_grid.pt"))
else:
    grid = load_beta_grid()
    print("loaded the shipped grid, made by:", grid["command"])
print("betas:", grid["betas"])
print("test KL (rate):       ", np.round(grid["test_kl"], 2))
print("test recon log-lik:   ", np.round(grid["test_recon_log_lik"], 2))
print("test ELBO (beta = 1): ", np.round(grid["test_elbo"], 2))

# %% [markdown]
# The rate–distortion curve on training and test images, and the two terms against β. Along the
# training curve, the slope of distortion against rate is about −β: a model trained with β
# stops buying rate where one more nat of KL would save less than β nats of distortion.

# %%
betas = np.asarray(grid["betas"])
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for split, style in (("train", "o--"), ("test", "o-")):
    rate, dist = np.asarray(grid[f"{split}_kl"]), -np.asarray(grid[f"{split}_recon_log_lik"])
    axes[0].plot(rate, dist, style, label=split)
    if split == "test":
        for b, r, d in zip(betas, rate, dist, strict=True):
            axes[0].annotate(f"β={b:g}", (r, d), textcoords="offset points", xytext=(5, 3),
                             fontsize=8)
axes[0].set(xlabel="rate = KL (nats)", ylabel="distortion = −E log p(x|z) (nats)",
            title="rate–distortion")
axes[0].legend()
axes[1].semilogx(betas, grid["test_kl"], "o-", label="KL (rate)")
axes[1].semilogx(betas, -np.asarray(grid["test_recon_log_lik"]), "o-",
                 label="−reconstruction (distortion)")
axes[1].semilogx(betas, -np.asarray(grid["test_elbo"]), "o-", label="−ELBO (β = 1 bound)")
axes[1].set(xlabel="β", ylabel="nats per test image", title="the terms against β")
axes[1].legend()
plt.show()
best = int(np.argmax(grid["test_elbo"]))
print(f"best test ELBO in the grid: {grid['test_elbo'][best]:.2f} nats at beta = {betas[best]:g}")

# %% [markdown]
# On the training images, distortion falls as the rate grows (flattening out below β = 0.5).
# On test images it stops falling, and β = 0.1 reconstructs *worse* than β = 0.2 or 0.5: a high
# rate also lets the model memorise its training images, and the KL bottleneck acts as a
# regulariser. The same reason makes PEARL's `kl_lambda` matter when only a few tasks are
# seen in training.
#
# Two snapshots (what the slider shows), β = 0.2 and β = 8:

# %%
for b in (0.2, 8.0):
    fig = beta_figure(beta_view(grid, b, digits.x_test, digits.y_test))
    plt.show()

# %% [markdown]
# Compare the two. At β = 8 whole dimensions switch off (KL ≈ 0: their posterior is the prior
# for every image) and reconstructions keep only the broad shape. Yet its samples from the
# prior look *more* like digits than those at β = 0.2: with a cheap KL the encoder spreads the
# codes of the training images away from N(0, I), so a z drawn from the prior often lands where
# no image was encoded; the bottleneck keeps the codes where the prior puts its mass.
#
# Now drag the slider (it needs a live kernel; the figures above are its output at two
# values).

# %%
box, slider = beta_slider(grid, digits.x_test, digits.y_test, beta=1.0)
box

# %% [markdown]
# ## Summary, and what notebook 2 takes from here
#
# - log p(x) = ELBO + KL(q(z|x) ‖ p(z|x)); the ELBO is a reconstruction term minus the KL to
#   the prior. Measured on the 300 test digits above: the ELBO and the importance-sampled
#   log p(x), whose difference estimates the gap.
# - `gaussian_kl` (Ex 1.1) is the closed-form KL between diagonal Gaussians. In notebook 2 it is
#   PEARL's **information bottleneck**: KL(q(z | context) ‖ N(0, I)) on the task posterior.
# - The reparameterisation trick (Ex 1.2) gives far lower-variance gradients than the
#   score-function estimator (measured above). PEARL samples its task variable z from the
#   posterior the same way, so the critic's loss trains the encoder through z.
# - β trades rate against distortion. PEARL's `kl_lambda` is this β: notebook 2 puts a slider
#   on it again, for a context encoder instead of an image encoder.

# %%
print(f"notebook ran in {time.perf_counter() - NOTEBOOK_START:.0f} s "
      f"({'smoke' if smoke_mode() else 'full'} mode)")
