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
# # Notebook 3: soft actor-critic from scratch
#
# PEARL's reinforcement-learning engine is soft actor-critic (SAC; Haarnoja et al., 2018): an
# off-policy actor-critic that maximises reward *plus entropy*. Off-policy matters for PEARL:
# it trains on transitions collected long ago, which is where its sample efficiency comes
# from. This notebook builds SAC piece by piece, checks our implementation against
# Stable-Baselines3 (SB3), and trains it on a classic-control task and a MuJoCo robot.
#
# **What this notebook covers**
#
# 1. The maximum-entropy objective and the tanh-squashed Gaussian policy, with its
#    change-of-variables log-probability (**Ex 3.1**), in a form that survives saturated actions.
# 2. Twin critics and the soft Bellman backup, with the `terminated` / `truncated` distinction of
#    gymnasium 1.x (**Ex 3.2**).
# 3. The policy loss, and the automatic entropy temperature (**Ex 3.3**).
# 4. Training on `Pendulum-v1`; our SAC against SB3's at the same hyperparameters, budget and
#    seeds (curves and speed from `data/sac_vs_sb3.json`).
# 5. Training on `HalfCheetah-v5`, and what a laptop budget reaches there.
# 6. From this SAC to PEARL's: what PEARL keeps, and what its official code changes (a
#    state-value network $V$ and its target $\bar V$, $\alpha = 1$ with a reward scale).
#
# **Exercises** live in `pearl_lite/exercises/ex3_sac.py`. Each check cell prints a verdict
# (`[ ]` not attempted, `[x]` wrong with a hint, `[ok]`); the rest of the notebook uses the
# library (`pearl_lite.sac`), so it runs whether or not you have done them. From a shell:
# `python -m pytest tests/exercises/test_ex3_sac.py`.
#
# **Running time.** The full run takes **about 4 minutes on a 2-core CPU**: 226 s and 264 s in
# two runs of `python scripts/build_notebooks.py notebooks/03_sac.py` on a CPU shared with other
# jobs (the last cell prints the kernel's own time); most of it is 8,000 steps of SAC on
# Pendulum and 5,000 on HalfCheetah. The Pendulum comparison with SB3 and the 30,000-step
# HalfCheetah curve are loaded from `data/` (their commands are printed next to them). Set
# `PEARL_LITE_SMOKE=1` to shrink every budget to seconds (what the test suite does; about 30 s).

# %%
import json
import time
from pathlib import Path

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import display

from pearl_lite import exercises
from pearl_lite.config import get_config
from pearl_lite.course import checks
from pearl_lite.course.notebook_tools import source_markdown
from pearl_lite.course.plotting import COLORS, plot_mean_std, smooth, use_course_style
from pearl_lite.distributions import TanhGaussian, tanh_gaussian_log_prob
from pearl_lite.exercises import ex3_sac
from pearl_lite.sac import (
    SACConfig,
    bellman_target,
    policy_loss,
    soft_q_target,
    soft_value_target,
    temperature_loss,
    train_sac,
)
from pearl_lite.utils import budget, read_csv, smoke_mode

use_course_style()
plt.rcParams["figure.dpi"] = 80
torch.set_num_threads(1)  # small networks: one thread is as fast, and fair to a shared CPU
DATA = Path("..") / "data"
T_START = time.time()
print("smoke mode" if smoke_mode() else "full run")


# %% [markdown]
# ## 1. Maximum entropy and the tanh-Gaussian policy
#
# SAC maximises the return plus the policy's entropy at every visited state,
#
# $$J(\pi) = \sum_t \mathbb{E}\big[\gamma^t\big(r(s_t, a_t)
#   + \alpha\,\mathcal{H}(\pi(\cdot|s_t))\big)\big],
# \qquad \mathcal{H}(\pi(\cdot|s)) = -\mathbb{E}_{a\sim\pi}[\log \pi(a|s)].$$
#
# The temperature $\alpha$ prices randomness: the policy keeps exploring until committing to an
# action pays more than $\alpha$ per nat of entropy. PEARL needs this: its posterior sampling
# explores across episodes, SAC's entropy explores within them.
#
# Actions must lie in a box, here $[-1, 1]^A$ (the training loop rescales them to the
# environment's bounds). The policy samples a Gaussian $u \sim N(\mu(s), \sigma(s)^2)$ and
# squashes it, $a = \tanh u$. Sampling is easy; the *density* of $a$ needs the change of
# variables. Since $da/du = 1 - \tanh^2 u$ in each dimension,
#
# $$\log \pi(a|s) = \sum_d \Big[\log N(u_d; \mu_d, \sigma_d^2)
#   - \log\big(1 - \tanh^2 u_d\big)\Big].$$
#
# Written literally, $\log(1 - \tanh^2 u)$ loses its precision in float32 from about
# $|u| \approx 9$ (below: $-15.9$ instead of $-16.6$) and becomes $\log 0 = -\infty$ once
# $\tanh u$ rounds to exactly 1 ($u = 20$). With
# $1 - \tanh^2 u = 4e^{-2u}/(1 + e^{-2u})^2$ it becomes
# $2\,(\log 2 - u - \operatorname{softplus}(-2u))$, finite for every $u$:

# %%
u = torch.tensor([0.5, 5.0, 9.0, 20.0])
naive = torch.log(1 - torch.tanh(u) ** 2)
stable = 2 * (np.log(2) - u - torch.nn.functional.softplus(-2 * u))
print("u                 ", u.tolist())
print("log(1 - tanh^2 u) ", [f"{x:.3f}" for x in naive.tolist()], "  <- float32, literal")
print("stable form       ", [f"{x:.3f}" for x in stable.tolist()])

# %% [markdown]
# ### Ex 3.1: the tanh-Gaussian log-probability
#
# Implement `tanh_gaussian_log_prob(u, mean, log_std)` in `pearl_lite/exercises/ex3_sac.py`:
# the log-density of $a = \tanh u$, summed over the action dimension. The check compares it
# with torch's `TanhTransform`, and tries saturated actions ($u = 20$) in float32.

# %%
_ = checks.run(checks.check_tanh_gaussian_log_prob, ex3_sac.tanh_gaussian_log_prob)

# %% [markdown]
# The library's version, which `TanhGaussian.rsample()` uses for every policy sample:

# %%
display(source_markdown(tanh_gaussian_log_prob, hidden=True))

# %% [markdown]
# Why the correction matters: a histogram of squashed samples against the density with and
# without the $-\log(1 - \tanh^2 u)$ term. Without it, the "density" ignores how tanh piles
# probability up near $\pm 1$; an entropy bonus computed from it would reward pushing the
# mean far out into the flat tails of tanh.

# %%
dist = TanhGaussian(torch.tensor([[0.8]]), torch.tensor([[0.3]]))  # wide: std = e^0.3 = 1.35
samples = torch.tanh(dist.normal.sample((100_000,))).flatten().numpy()
a = torch.linspace(-0.999, 0.999, 500)
u_grid = torch.atanh(a)[:, None]
with_corr = tanh_gaussian_log_prob(u_grid, dist.mean, dist.log_std).exp()
without = dist.normal.log_prob(u_grid).sum(-1).exp()
fig, ax = plt.subplots(figsize=(6.4, 3.4))
ax.hist(samples, bins=100, density=True, color=COLORS["prior"], alpha=0.5,
        label="samples of tanh(u)")
ax.plot(a, with_corr, color=COLORS["pearl"], label="log N(u) - log(1 - tanh² u)")
ax.plot(a, without, color=COLORS["goal"], ls="--", label="log N(u) only (wrong)")
ax.set(xlabel="action a", ylabel="density", title="tanh-squashed Gaussian, mean 0.8, std 1.35")
ax.legend(loc="upper left")
plt.show()

# %% [markdown]
# ## 2. Twin critics and the soft Bellman backup
#
# The soft Q-function values a state-action pair by reward plus the *soft* value of what
# follows, the expected Q minus $\alpha$ times the log-probability of the next action:
#
# $$y = r + \gamma\,(1 - \text{terminated})
#   \Big(\min_{k=1,2} \bar Q_k(s', a') - \alpha \log\pi(a'|s')\Big),
# \qquad a' \sim \pi(\cdot|s').$$
#
# - **Twin critics.** Two Q-networks are trained on the same target; the target uses the
#   smaller of the two *target* networks $\bar Q_k$ (slow Polyak averages of the critics,
#   $\bar\theta \leftarrow (1-\tau)\bar\theta + \tau\theta$ with $\tau = 0.005$). Maximising
#   over a noisy Q over-estimates; the minimum counters that bias. `TwinQ` evaluates both
#   networks in one batched matmul (`nets.EnsembleMLP`).
# - **`terminated` versus `truncated`.** Gymnasium's `step` returns both. `terminated` means
#   the MDP ended (a robot fell, a goal was absorbing): there is no future, so the bootstrap
#   stops. `truncated` means a time limit cut the episode: the state still has a future, so
#   the target *keeps* bootstrapping. `Pendulum-v1` never terminates; every episode is
#   truncated after 200 steps. Masking with `done = terminated or truncated` would teach the
#   critic that every 200th state is worth nothing; that is the classic bug of code written for
#   gym's old single `done` flag.

# %%
env = gym.make("Pendulum-v1")
obs, _ = env.reset(seed=0)
n_steps, terminated, truncated = 0, False, False
while not (terminated or truncated):
    obs, rew, terminated, truncated, _ = env.step(env.action_space.sample())
    n_steps += 1
print(f"Pendulum episode ended after {n_steps} steps: terminated={terminated}, "
      f"truncated={truncated}")

# %% [markdown]
# ### Ex 3.2: the critic target
#
# Implement `soft_q_target(reward, next_q, next_log_prob, terminated, gamma, alpha)`. `next_q`
# holds both target critics, shape `(2, B)`. The replay buffer keeps `truncated` too, but it has
# no place in the target: only `terminated` ends the future of `s'` (notebook 4's exercise on
# the critic loss checks that you never bootstrap-mask with `truncated`).

# %%
_ = checks.run(checks.check_soft_q_target, ex3_sac.soft_q_target)

# %%
display(source_markdown(soft_q_target, hidden=True))

# %% [markdown]
# The critics minimise $\tfrac12 \sum_k \mathbb{E}\big[(Q_k(s, a) - y)^2\big]$ over replayed
# transitions, with $y$ computed under `torch.no_grad()`: the target is a fixed regression
# label, not something to move.
#
# ## 3. The policy loss and the temperature
#
# The actor minimises the KL divergence from its policy to the Boltzmann distribution of the
# soft Q-function, which comes down to
#
# $$L_\pi = \mathbb{E}_{s \sim \mathcal{D},\; a = \tanh(\mu(s) + \sigma(s)\,\epsilon)}
#   \Big[\alpha \log\pi(a|s) - \min_k Q_k(s, a)\Big].$$
#
# The action is *reparameterised* (`rsample`): its gradient flows through the critic into the
# policy's mean and standard deviation, as the VAE's sample did in notebook 1.

# %%
display(source_markdown(policy_loss))

# %% [markdown]
# **The temperature.** A fixed $\alpha$ has to be retuned for every reward scale. SAC instead
# constrains the average entropy to stay above a target $\bar{\mathcal H}$ (by default $-A$,
# minus the action dimension), and the Lagrange multiplier of that constraint is $\alpha$:
#
# $$J(\alpha) = -\,\mathbb{E}_{a\sim\pi}
#   \big[\log\alpha\,\big(\log\pi(a|s) + \bar{\mathcal H}\big)\big].$$
#
# If the entropy $-\log\pi$ is below the target, the bracket is positive and gradient descent
# raises $\log\alpha$ (more reward for randomness); above the target, it lowers it. We
# optimise $\log\alpha$ (it keeps $\alpha$ positive) and, like SB3 and PEARL's official code,
# multiply $\log\alpha$, not $\alpha$, into the loss; the fixed point is the same either way.
# $\log\pi$ is a constant here (detached): this loss must not train the policy.
#
# ### Ex 3.3: the temperature loss

# %%
_ = checks.run(checks.check_temperature_loss, ex3_sac.temperature_loss)

# %%
display(source_markdown(temperature_loss, hidden=True))

# %% [markdown]
# `SAC.update` puts the pieces together in the order SB3 uses, so the two can be compared step
# for step: temperature, critics, actor (with the critics frozen, so the actor's backward pass
# skips their weight gradients), then the Polyak update of the targets. The hyperparameters
# default to SB3's:

# %%
SACConfig()

# %% [markdown]
# ## 4. Pendulum
#
# Swing a pendulum up and hold it: 3-D observation, 1-D torque, 200 steps per episode,
# returns from about −1,600 (flailing) to about −100 to −200 (swung up fast and balanced). We train
# with the defaults above and evaluate the deterministic policy $\tanh\mu(s)$ on 5 fixed
# episodes every 1,000 steps.

# %%
PENDULUM_STEPS = budget(8_000, 300)
t0 = time.time()
agent, log = train_sac("Pendulum-v1", SACConfig(seed=0, device="cpu"), PENDULUM_STEPS,
                       eval_every=budget(1_000, 150), eval_episodes=budget(5, 1),
                       progress=False)  # True shows a progress bar
pendulum_minutes = (time.time() - t0) / 60
ep, ev = log.arrays("episodes"), log.arrays("evals")
print(f"{PENDULUM_STEPS} steps in {pendulum_minutes:.1f} min; last evaluation "
      f"{ev['eval_return'][-1]:.0f}")

# %%
fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
axes[0].plot(ep["step"], ep["episode_return"], ".", color=COLORS["prior"], label="training episode")
axes[0].plot(ev["step"], ev["eval_return"], "o-", color=COLORS["pearl"], label="deterministic eval")
axes[0].set(xlabel="environment steps", ylabel="return", title="Pendulum-v1")
axes[0].legend()
axes[1].plot(ep["step"], ep["alpha"], color=COLORS["accent"])
axes[1].set(xlabel="environment steps", ylabel="α", yscale="log", title="temperature")
axes[2].plot(ep["step"], ep["entropy"], color=COLORS["posterior"], label="policy entropy")
axes[2].axhline(-1.0, color="k", ls=":", label="target −A = −1")
axes[2].set(xlabel="environment steps", ylabel="nats", title="entropy (batch estimate)")
axes[2].legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# The temperature falls steadily while the policy's entropy is above the target, and the
# entropy drifts down towards $-1$ nat as the policy commits to the torques that pay; after
# 8,000 steps it has not reached the target yet, so $\alpha$ is still falling.
#
# ### Your code in the loop
#
# `exercises.use("mine")` makes the library call your Ex 3.1 to 3.3 wherever it calls the
# references: `SAC.update` then builds its critic target with your `soft_q_target`, tunes
# alpha with your `temperature_loss`, and every policy sample is scored by your
# `tanh_gaussian_log_prob`. An exercise you have not done falls back to the reference, with a
# one-line notice. The cell trains Pendulum twice from the same seed, once with your code and
# once with the library's (under a minute), then switches back to the library for the rest of
# the notebook. After editing your file, run the cell again: `use("mine")` re-reads it.
#
# What to compare: if you wrote the same operations in the same order as the library, the two
# runs are **bit-identical**, to the last weight. A correct version written differently
# differs in the last digits at first, and training amplifies rounding differences, so then
# compare the trends: the critic loss, alpha falling, the entropy approaching its target. A
# wrong one usually shows at once: alpha running away (a sign error in the temperature loss),
# an entropy that never falls, critic losses that grow.

# %%
LOOP_STEPS = budget(1_000, 200)
loop_logs = {}
try:
    for which in ("mine", "reference"):
        exercises.use(which)
        loop_agent, loop_log = train_sac("Pendulum-v1", SACConfig(seed=0, device="cpu"),
                                         LOOP_STEPS, progress=False)
        actor_weights = torch.cat([p.detach().flatten() for p in loop_agent.actor.parameters()])
        loop_logs[which] = (loop_log.arrays("episodes"), actor_weights)
finally:
    exercises.use("reference")  # the rest of the notebook runs the library's code
loop_keys = ("episode_return", "critic_loss", "alpha", "entropy")
print("each column: yours | the library's, at the end of each training episode")
print(f"{'step':>6}" + "".join(f"{k:>24}" for k in loop_keys))
(ep_yours, actor_yours), (ep_lib, actor_lib) = loop_logs["mine"], loop_logs["reference"]
for i, step in enumerate(ep_lib["step"]):
    print(f"{step:>6.0f}" + "".join(f"{f'{ep_yours[k][i]:.4g} | {ep_lib[k][i]:.4g}':>24}"
                                   for k in loop_keys))
print("bit-identical actor weights" if torch.equal(actor_yours, actor_lib) else
      "the actors differ: compare the trends (see above)")

# %% [markdown]
# ### Our SAC against Stable-Baselines3
#
# `benchmarks/sac_vs_sb3.py` trains our SAC and SB3's with the same hyperparameters (SB3's
# defaults), budget and seeds on Pendulum, evaluates both on the same deterministic episodes,
# and times them with the same number of torch threads; which of the two runs first alternates
# seed by seed, to even out the background load. Its result file ships in `data/`
# (re-running it takes about an hour on a busy 2-core CPU):

# %%
bench = json.loads((DATA / "sac_vs_sb3.json").read_text())
print("command:", bench["command"])
print(f"{bench['env']}, {bench['total_steps']} steps, seeds {bench['seeds']}, "
      f"{bench['eval_episodes']} evaluation episodes, torch threads {bench['torch_threads']}")
print(f"{'':<12}{'final return':>18}{'env steps/s':>13}{'grad steps/s':>14}{'updates/s @256':>16}")
for impl, s in bench["summary"].items():
    print(f"{impl:<12}{s['final_return_mean']:>10.1f} ± {s['final_return_std']:<5.1f}"
          f"{s['env_steps_per_s_mean']:>13.1f}{s['grad_steps_per_s_in_training_mean']:>14.1f}"
          f"{s['update_bench_steps_per_s_mean']:>16.1f}")

upd = json.loads((DATA / "sac_vs_sb3_updates.json").read_text())
print(f"\nupdate throughput, alternating blocks on the same data ({upd['command']}):")
print("  median updates/s at batch 256: " + ", ".join(
    f"{k} {v:.1f}" for k, v in upd["median_updates_per_s"].items())
    + f"; median ratio ours / SB3 {upd['median_ratio_ours_over_sb3']:.2f}")

# The headline comparison pools every seed run so far: the three above plus the extra seeds
# in `data/sac_vs_sb3_extra_seeds/` (same script, budget and hyperparameters). `sb3_exact` is
# SB3 with one number changed, explained below.
bench_files = [DATA / "sac_vs_sb3.json", *sorted((DATA / "sac_vs_sb3_extra_seeds").glob("*.json"))]
pooled = [r for f in bench_files for r in json.loads(f.read_text())["runs"]]
impl_colors = {"pearl_lite": COLORS["pearl"], "sb3": COLORS["reference"],
               "sb3_exact": COLORS["posterior"]}
print(f"\n{'':<12}{'seeds':>6}{'final return':>22}{'mean of last 5 evaluations':>30}")
fig, ax = plt.subplots(figsize=(6.4, 3.6))
for impl, color in impl_colors.items():
    runs = [r for r in pooled if r["impl"] == impl]
    if not runs:
        continue
    curves = np.array([r["eval_return"] for r in runs])
    final, last5 = curves[:, -1], curves[:, -5:].mean(axis=1)
    print(f"{impl:<12}{len(runs):>6}{final.mean():>14.2f} ± {final.std():<5.2f}"
          f"{last5.mean():>22.2f} ± {last5.std():.2f}")
    plot_mean_std(ax, np.array(runs[0]["steps"]), curves, label=f"{impl} ({len(runs)} seeds)",
                  color=color)
ax.set(xlabel="environment steps", ylabel="deterministic return",
       title="Pendulum-v1: mean ± std over seeds")
ax.legend()
plt.show()

# %% [markdown]
# The same pooled runs split by seed range (the first seven seeds were run first), and every
# evaluation after the first 5,000 steps that fell below −400, a transient collapse:

# %%
for impl in impl_colors:
    parts = []
    for lo, hi in ((0, 6), (7, 13)):
        final = np.array([r["eval_return"][-1] for r in pooled
                          if r["impl"] == impl and lo <= r["seed"] <= hi])
        if final.size:
            parts.append(f"seeds {lo}-{hi}: {final.mean():.2f} ± {final.std():.2f} "
                         f"(lowest {final.min():.1f})")
    runs = sorted((r for r in pooled if r["impl"] == impl), key=lambda r: r["seed"])
    dips = [f"seed {r['seed']} at {s:,.0f} steps: {v:.0f}" for r in runs
            for s, v in zip(r["steps"], r["eval_return"], strict=True) if s > 5000 and v < -400]
    print(f"{impl:<12}" + "; ".join(parts))
    print(f"{'':<12}late collapses: {', '.join(dips) or 'none'}")

# %% [markdown]
# Ours is faster per step: fewer Python layers around each environment step, and the critics
# are frozen during the actor's backward pass (SB3 computes their weight gradients there and
# throws them away). The training-time speeds in the first table also carry the background
# load of a shared machine, which changed between runs; the alternating-block measurement, both
# update loops on the same replayed data, is the fairer comparison of update throughput.
#
# The returns are close. Over the first seven seeds SB3 ended about 0.9 points (under 1%)
# above us, more than one SB3 standard deviation (the bar this course set itself). Is that the
# algorithm, or chance?
#
# ### Same weights, same batches, same noise: a lockstep test
#
# `benchmarks/sac_lockstep_sb3.py` answers the first half exactly. It copies SB3's initial
# weights into our networks, feeds both the same batches and resets the random seed before
# each update (both draw the policy noise in the same order), then measures how far apart the
# two actors are after each update, relative to how far SB3's actor has moved from its
# initial weights. `tests/test_sac_matches_sb3.py` runs the same check in the test suite.

# %%
lock = json.loads((DATA / "sac_lockstep_sb3.json").read_text())
print("command:", lock["command"])
fig, ax = plt.subplots(figsize=(6.4, 3.4))
for setting, color in zip(lock["settings"], (COLORS["pearl"], COLORS["reference"],
                                             COLORS["posterior"], COLORS["goal"]), strict=True):
    rel = np.maximum(np.array(setting["relative_actor_distance"]), 1e-17)
    exact = setting["sb3_tanh_epsilon"] == 0
    ax.plot(np.arange(1, len(rel) + 1), rel, color=color, ls="-" if exact else "--",
            label=f"{setting['precision']}, SB3's epsilon = {setting['sb3_tanh_epsilon']:g}")
ax.set(yscale="log", xlabel="gradient step", ylabel="|θ_ours − θ_SB3| / |θ_SB3 − θ_init|",
       title="our actor vs SB3's, from the same start")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# In float64, and with one constant of SB3 set to zero, the two stay $10^{-15}$ apart for 200
# updates: every loss, the order of the steps (temperature, critics, actor, targets) and every
# optimiser setting agree. That constant is SB3's only deviation from the formula of
# Section 2: its tanh correction is $\log(1 - \tanh^2 u + 10^{-6})$, ours the exact, stable
# form. With it, the two actors drift apart; so do two float32 runs of the *same* update,
# only more slowly. SAC's training is chaotic: a difference of $10^{-7}$ grows to a few percent
# within 200 updates, and after thousands of updates two runs differ as much as two seeds. So
# the final returns can differ for two reasons only: the $10^{-6}$, and chance.
#
# The pooled table above measures both, over fourteen seeds (0–13) of each implementation.
# `sb3_exact` is SB3 with that constant at zero (`python benchmarks/sac_vs_sb3.py --impls
# sb3_exact --seeds 0 1 2 3 4 5 6`, then `--impls sb3 sb3_exact --seeds 7 8 9 10 11 12 13`).
# On seeds 0–6 SB3 was ahead by 0.9 points (−108.38 ± 0.30 against our −109.26 ± 0.80), which
# missed this course's bar, "within one SB3 standard deviation", and the question was whether
# that was more than chance. Seeds 7–13 answered it: there the order flips (ours −109.07,
# SB3 −109.76, with SB3's seed 8 at −113.3), and over all fourteen seeds the three
# implementations sit within 0.25 points of each other: ours −109.17 ± 1.02, SB3 −109.07 ±
# 1.33, `sb3_exact` −108.92 ± 1.05. The bar is met: the 0.10 between us and SB3 is a
# thirteenth of SB3's own spread over seeds. The first seven seeds were simply kind to SB3:
# the lesson of the lockstep plot, told by the returns. One Pendulum seed says little, and
# seven say less than it seems.
#
# Look at the "last 5 evaluations" column, too, and at the late collapses printed above: they
# happen in all three implementations (ours: seeds 6 and 11; SB3: seeds 1, 4 and 13;
# `sb3_exact`: seeds 1, 3 and 13), and all of them recover. SB3's seed 13 fell twice, to −637
# and −798 at 10,000 and 11,000 steps (−707 at 11,000 in `sb3_exact`), the second time within
# the last five evaluations, which is why SB3's "last 5" mean lies so far below its final
# return; the dips in SB3's band of the plot are seeds 4 and 13. SAC's occasional transient
# collapse is not a bug of either implementation. We keep the exact tanh
# correction: it is the formula of the exercise and of PEARL's derivation.
#
# ## 5. HalfCheetah
#
# A 6-joint planar cheetah (17-D observation, 6-D action, 1,000 steps per episode), rewarded
# for forward speed minus a control cost; PEARL's `cheetah-vel` and `cheetah-dir` tasks are
# built on it. First a short live run, to see the same code drive a MuJoCo robot:

# %%
CHEETAH_STEPS = budget(5_000, 300)
hc_cfg = SACConfig(seed=1, device="cpu")
t0 = time.time()
_, hc_log = train_sac("HalfCheetah-v5", hc_cfg, CHEETAH_STEPS,
                      eval_every=budget(2_500, 300), eval_episodes=1, progress=False)
cheetah_minutes = (time.time() - t0) / 60
hc_live = hc_log.arrays("evals")
print(f"{CHEETAH_STEPS} steps in {cheetah_minutes:.1f} min; deterministic returns at steps "
      f"{hc_live['step'].astype(int).tolist()}: {np.round(hc_live['eval_return'], 1).tolist()}")
episode_steps = gym.spec("HalfCheetah-v5").max_episode_steps
n_updates = (CHEETAH_STEPS - hc_cfg.learning_starts) // hc_cfg.train_freq * hc_cfg.gradient_steps
print(f"{CHEETAH_STEPS:,} steps = {CHEETAH_STEPS / episode_steps:g} episodes of "
      f"{episode_steps:,} steps; uniformly random actions for the first "
      f"learning_starts = {hc_cfg.learning_starts} steps only "
      f"({hc_cfg.learning_starts / episode_steps:.0%} of the first episode), then the policy "
      f"acts, with {n_updates:,} gradient steps in all")

# %% [markdown]
# As printed above: the live run is five episodes, with random actions only for the first
# `learning_starts` = 100 steps, a tenth of the first episode (SB3's default), and one gradient
# step per environment step after that. Far too few steps for a gait. The curve below is a
# longer run of the same code, shipped in `data/sac_halfcheetah_s0/` (command in its
# `summary.json`):

# %%
hc_dir = DATA / "sac_halfcheetah_s0"
hc_summary = json.loads((hc_dir / "summary.json").read_text())
hc_progress, hc_eval = read_csv(hc_dir / "progress.csv"), read_csv(hc_dir / "eval.csv")
print("command:", hc_summary["command"])
print(f"{hc_summary['total_steps']} steps, {hc_summary['train_time_s'] / 60:.0f} min of training "
      "on a shared 2-core CPU")
for step, ret in zip(hc_eval["step"], hc_eval["eval_return"], strict=True):
    print(f"  step {step:>6.0f}: deterministic return {ret:7.1f}")
fig, ax = plt.subplots(figsize=(6.4, 3.6))
ax.plot(hc_progress["step"], hc_progress["episode_return"], ".", color=COLORS["prior"],
        label="training episode")
ax.plot(hc_progress["step"], smooth(hc_progress["episode_return"], 5), color=COLORS["prior"])
ax.plot(hc_eval["step"], hc_eval["eval_return"], "o-", color=COLORS["pearl"],
        label="deterministic eval (3 episodes)")
ax.plot(hc_live["step"], hc_live["eval_return"], "x", color=COLORS["goal"], ms=9,
        label="this notebook's live run (eval)")
ax.set(xlabel="environment steps", ylabel="return (1,000 steps)", title="HalfCheetah-v5")
ax.legend()
plt.show()

# %% [markdown]
# What this budget reaches: with SB3's defaults (random actions for only the first 100
# steps, one gradient step per environment step) 30,000 steps take the cheetah from negative
# returns (flailing, paying the control cost) to a slow forward gait; the evaluations printed
# above are noisy from one to the next. The SAC paper reports returns of about 10,000 or more
# on HalfCheetah after about a million steps (Haarnoja et al., 2018, Fig. 1): a laptop budget
# shows the learning signal, not the final gait. PEARL's cheetah tasks are meta-trained for
# millions of steps (notebook 5).
#
# ## 6. From this SAC to PEARL's
#
# PEARL (notebook 4) **keeps** the tanh-Gaussian policy and its log-probability (Ex 3.1), the
# twin critics and their minimum, the reparameterised actor loss, the Polyak-averaged target
# and off-policy replay. `TanhGaussianPolicy` and `TwinQ` are reused unchanged, built with
# `obs_dim + latent_dim` inputs. It **changes** three things:
#
# 1. **The task variable.** The policy and the critics see $[s, z]$ instead of $s$, where $z$
#    is sampled from the posterior that the context encoder of notebook 2 infers from the
#    task's recent transitions. This is the change the paper is about.
# 2. **A state-value network.** PEARL's official code is built on the first version of SAC
#    (Haarnoja et al., ICML 2018), which learns a state value $V(s)$ besides the critics and
#    bootstraps them from $\bar V$, a Polyak-averaged copy of $V$, instead of from target
#    critics:
#    $$y = r + \gamma\,(1 - \text{terminated})\,\bar V(s'), \qquad
#      V(s) \to \min_k Q_k(s, \tilde a) - \alpha \log\pi(\tilde a|s),\;
#      \tilde a \sim \pi(\cdot|s).$$
#    The soft value of $s'$ that Section 2's target computes from a sampled $a'$ is here learnt
#    by a network of its own; at their fixed points the two targets agree. `pearl_lite.sac`
#    has this variant, `SACConfig(use_value_network=True)`; its two halves are
#    `bellman_target` and `soft_value_target` (below), and PEARL's losses in notebook 4 are
#    built from them.
# 3. **No automatic temperature.** The official code fixes $\alpha = 1$ and never runs
#    Section 3's temperature loss; it multiplies the rewards by a hand-set `reward_scale`
#    instead (set per environment in the official configs; printed below). Scaling the
#    reward by $c$ at $\alpha = 1$ is the same objective as the reward itself at
#    $\alpha = 1/c$, with every value $c$ times larger, since
#    $c\,r + \mathcal H = c\,(r + \mathcal H / c)$: the reward scale *is* an inverse
#    temperature, tuned per environment (the first SAC paper tuned it per task too; the
#    automatic temperature came later, in Haarnoja et al., "Soft Actor-Critic Algorithms and
#    Applications", 2018). The kit follows the official
#    code so that the paper's hyperparameters mean what they meant there; PEARL's config
#    offers `auto_entropy=True` to learn $\alpha$ instead.
#
# The cell checks the equivalence of item 3 on random numbers with the library's target, and
# shows the value-network variant's two halves:

# %%
c, gamma = 100.0, 0.9
gen = torch.Generator().manual_seed(0)
r, next_q = (torch.randn(shape, generator=gen, dtype=torch.float64) for shape in (6, (2, 6)))
next_log_prob = torch.randn(6, generator=gen, dtype=torch.float64)
terminated = torch.zeros(6, dtype=torch.float64)
scaled = soft_q_target(c * r, c * next_q, next_log_prob, terminated, gamma, alpha=1.0)
tempered = soft_q_target(r, next_q, next_log_prob, terminated, gamma, alpha=1.0 / c)
print(f"reward scale {c:g} at alpha = 1 vs reward 1 at alpha = 1/{c:g}: largest difference of "
      f"the targets (the second times {c:g}) {(scaled - c * tempered).abs().max():.1e}")
print("reward_scale of the official configs:", {env: get_config(env, "paper").reward_scale for
      env in ("point-robot", "sparse-point-robot", "cheetah-vel", "ant-dir", "humanoid-dir")})
display(source_markdown(bellman_target))
display(source_markdown(soft_value_target))

# %%
print(f"notebook run time: {(time.time() - T_START) / 60:.1f} min")
