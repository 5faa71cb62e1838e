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
# # 4. PEARL: off-policy meta-RL with probabilistic context variables
#
# Notebooks 2 and 3 built the two halves of PEARL (Rakelly et al., ICML 2019): the
# product-of-Gaussians **context encoder** q(z | c) and **soft actor-critic**. This notebook
# wires them together and trains the result.
#
# 1. **The argument** of the paper: why an *off-policy* meta-learner must still train its
#    encoder on *recent* data, while the actor-critic may use all data.
# 2. **Algorithm 1** (meta-training) and 3. **Algorithm 2** (meta-testing), each written out
#    as pseudo-code next to the library code that implements it (`pearl_lite/pearl.py`).
# 4. **Sparse rewards, as the official code does it**: the critic sees the dense reward, the
#    encoder only the sparse one.
# 5. Training on `point-robot` live (train and test return, KL, posterior variance), then
#    meta-testing: the adaptation curve, the trajectories themselves, and the distribution
#    mismatch of section 1 measured on the trained agent.
# 6. `sparse-point-robot`: the curves of the shipped `lite` run, its networks meta-tested
#    live (20 trajectories per test task, success after k trajectories), and the exploration
#    trajectories on the semicircle, coloured by episode.
# 7. The paper's **ablations** on the point robot: deterministic context, and context drawn
#    from all data instead of recent data. 8. A summary, and what reaching the paper's numbers
#    takes.
#
# **Prerequisites:** notebook 2 (the encoder, the KL bottleneck) and notebook 3 (SAC: twin Q,
# the soft value, the tanh-Gaussian policy).
#
# **Exercises 4.1 to 4.5** live in `pearl_lite/exercises/ex4_pearl.py`: the context sampler,
# the critic loss that trains the encoder, the actor and value losses, posterior sampling at
# meta-test, and the sparse-reward protocol. Each check cell prints a verdict (`[ ]` not
# attempted, `[x]` wrong with a hint, `[ok]`) and re-reads your file, so no kernel restart is
# needed; the rest of the notebook uses the library, so it runs whether or not you have done
# them. From a shell: `python -m pytest tests/exercises/test_ex4_pearl.py`. The section *Your
# code in the loop* (end of section 4) trains PEARL with your functions.
#
# **Run time:** the full run takes **about 9 to 11 minutes** on a 2-core CPU: 545 s and 676 s
# for `python scripts/build_notebooks.py notebooks/04_pearl.py` in two builds, of which 515 s
# and 626 s are the live point-robot training (250 iterations), each measured while another
# training job shared the CPU.
# The sparse point robot is
# *not* retrained by default (its `lite` run took much longer, see section 6); set
# `RETRAIN_SPARSE = True` there to do it. With `PEARL_LITE_SMOKE=1` every budget shrinks to
# seconds and every code path, retraining included, still runs.

# %%
import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

from pearl_lite import exercises
from pearl_lite.config import PEARLConfig, get_config
from pearl_lite.course import checks
from pearl_lite.course import pearl_viz as pv
from pearl_lite.course.data import DATA_DIR
from pearl_lite.course.notebook_tools import ROOT, source_markdown
from pearl_lite.course.plotting import COLORS, use_course_style
from pearl_lite.envs import make_env
from pearl_lite.exercises import ex4_pearl
from pearl_lite.pearl import MetaTrainer, meta_test
from pearl_lite.runtime.evaluate import load_agent
from pearl_lite.runtime.train import train
from pearl_lite.utils import budget, read_csv, smoke_mode

use_course_style()
plt.rcParams["figure.dpi"] = 80
T_START = time.time()
PRESET = budget("lite", "smoke")
print("smoke mode" if smoke_mode() else "full run", f"(preset {PRESET!r})")

# %% [markdown]
# ## 1. The argument: off-policy RL, but (near) on-policy context
#
# Meta-RL trains on many tasks so that, on a *new* task, the agent adapts from a little
# experience. Earlier methods (MAML, RL²) are **on-policy**: every gradient step needs fresh
# data from the current policy, which makes meta-training cost tens of millions of steps. PEARL
# wants the sample efficiency of off-policy RL (SAC, notebook 3): re-use every transition ever
# collected. The difficulty is meta-*testing*:
#
# * At meta-test time on a new task, the context c the encoder sees is what **the current
#   policy** collects in that task, starting from nothing (z from the prior, then from the
#   posterior). It is on-policy data by construction.
# * If, during meta-training, the encoder were fed contexts drawn from the whole replay buffer,
#   it would learn to read transitions of *old* policies (early random flailing, long
#   abandoned behaviour). Its training inputs would come from a different distribution from the
#   inputs it gets at meta-test time: a **distribution mismatch** between meta-train and
#   meta-test context.
#
# PEARL's answer is to **decouple the data** of the two parts:
#
# * the **actor-critic** conditions on z and is trained with off-policy batches drawn from
#   *all* of a task's data (a Bellman backup is valid for any behaviour data once z is given);
# * the **encoder** is trained on context batches drawn from the task's **recent** data only:
#   a second buffer per task that is emptied before each new collection round, so it holds
#   transitions of the current (or very recent) policy, close to what meta-test will show it.
#
# The encoder learns only through the critic's Bellman error (plus the KL bottleneck): z must
# carry what the critic needs to predict returns of *this* task. Section 6 trains the ablation
# whose encoder sees all data.

# %% [markdown]
# ## 2. Algorithm 1: meta-training
#
# The paper's Algorithm 1, as the official code runs it (one "iteration" is one pass of the
# outer loop; the numbers in brackets are the config fields of `pearl_lite.config.PEARLConfig`):
#
# ```text
# Require: training tasks T_1..T_M, learning rates
# initialise replay buffers B_i (all data) and encoder buffers E_i (recent data) per task
# before the first iteration: for every training task i,
#     collect [num_initial_steps] transitions with z ~ prior, add to B_i and E_i
# while not done:                                          # [num_iterations]
#     for each of [num_tasks_sample] sampled training tasks i:
#         empty E_i                                        # E_i keeps only recent data
#         collect [num_steps_prior] transitions with z ~ N(0, I)          -> B_i and E_i
#         collect [num_steps_posterior] transitions with z ~ q(z | c ~ E_i)  -> B_i and E_i
#         collect [num_extra_rl_steps_posterior] with z ~ q(z | c ~ E_i)     -> B_i only
#     for step in 1..[num_train_steps_per_itr]:
#         sample [meta_batch] tasks; for each task i:
#             context  c_i ~ E_i     ([embedding_batch_size] transitions)
#             RL batch b_i ~ B_i     ([batch_size] transitions)
#             z_i ~ q(z | c_i)       (reparameterised)
#         encoder + critics: minimise  sum_i [ Bellman error of Q(s, a, z_i) on b_i ]
#                                    + [kl_lambda] * sum_i KL(q(z | c_i) || N(0, I))
#         value and policy: SAC losses on b_i with z_i detached
#     every [eval_every] iterations: meta-test (Algorithm 2) on the test tasks
# ```
#
# In the library this is `pearl_lite/pearl/meta_train.py`: `MetaTrainer.train_iteration` runs one
# iteration, whose two halves are one function each. The collection round (each sampled task's
# encoder buffer emptied, then data from the prior and from the posterior; `MetaTrainer.collect`
# steps all sampled tasks together in one vector environment):

# %%
display(source_markdown(MetaTrainer.collection_round))

# %% [markdown]
# and the gradient steps, each on a meta-batch of tasks with an RL batch and a context batch:

# %%
display(source_markdown(MetaTrainer.train_steps))

# %% [markdown]
# The two samplers are the two buffers: `self.rl_buffer` (all of a task's data) feeds
# `self.rl_buffer.sample(...)`, and `self.context_batch(...)` draws from `self.enc_buffer`, which
# `self.enc_buffer.clear(...)` empties for every sampled task before it collects anew.
#
# ### Ex 4.1: the context sampler
#
# Implement `sample_context(rl_buffer, enc_buffer, task_slots, n, use_next_obs=False)` in
# `pearl_lite/exercises/ex4_pearl.py`: the context batch `(T, n, context_dim)` that
# `MetaTrainer.context_batch` hands to the encoder, `n` transitions for each task of
# `task_slots`. You are given both buffers; the argument of section 1 says which one to draw
# from. The check builds buffers whose old and recent transitions can be told apart.

# %%
_ = checks.run(checks.check_sample_context, ex4_pearl.sample_context)

# %%
display(source_markdown(exercises.reference("ex4_pearl", "sample_context"), hidden=True))

# %% [markdown]
# Next, the loss whose gradient reaches the encoder. The z sampled from q(z | c) enters the Q
# networks, so the squared Bellman error is back-propagated *through z into the encoder*; the KL
# term pulls q(z | c) towards the prior (notebook 2's information bottleneck).
#
# ### Ex 4.2: the critic loss, with the encoder inside
#
# Implement `critic_loss(agent, batch, context, reward_scale, gamma, kl_lambda)`, the loss of
# `PEARLLearner.critic_loss`: the Bellman error of both Q heads on `[s, z]` plus `kl_lambda`
# times the KL of q(z | c) to the prior, reduced as the official code does (its docstring says
# what to return). The batch carries both `terminated` and `truncated`. The check plants a
# fixed z, compares every part, and looks at which networks receive a gradient. The library's
# version, `pearl_lite.pearl.learner.critic_loss`, is the reference: read it once yours passes.

# %%
_ = checks.run(checks.check_critic_loss, ex4_pearl.critic_loss)

# %%
display(source_markdown(exercises.reference("ex4_pearl", "critic_loss"), hidden=True))

# %% [markdown]
# The policy and value losses then see `z.detach()`: only the critic (and the KL) shape the task
# representation, as in the paper. Otherwise they are notebook 3's SAC losses, on `[s, z]`.
#
# ### Ex 4.3: the actor and value losses
#
# Implement `actor_value_loss(agent, obs, z, alpha, mean_reg, std_reg)`, the loss of
# `PEARLLearner.actor_value_loss`. `z` arrives straight from the critic loss, still attached to
# the encoder's graph. The check compares the values and then asks which networks this loss
# trains: the policy and V, and neither the encoder nor the Q networks' weights.

# %%
_ = checks.run(checks.check_actor_value_loss, ex4_pearl.actor_value_loss)

# %%
display(source_markdown(exercises.reference("ex4_pearl", "actor_value_loss"), hidden=True))

# %% [markdown]
# `PEARLLearner.update` is one gradient step: the critic loss, its optimiser step, then the
# actor and value losses with the freshly updated critics, and the Polyak step of V-bar.
#
# ## 3. Algorithm 2: meta-testing
#
# ```text
# Require: a test task T, the trained encoder, policy
# c = {}                                       # no experience of this task yet
# for k = 1..K:                                # K = ceil(num_steps_per_eval / horizon)
#     if k <= num_exp_traj_eval: belief = prior N(0, I)
#     else:                      belief = q(z | c)   (product of Gaussians over all of c)
#     z ~ belief                               # posterior sampling: one z per trajectory
#     roll out one trajectory with pi(a | s, z) (its mean action)
#     c = c ∪ {its transitions};  record the trajectory's return (and success)
# report: the return of each trajectory k (the adaptation curve); headline number: the last one
# ```
#
# Holding z fixed for a whole trajectory is what makes exploration *temporally extended*: each
# sample is a hypothesis about the task ("the goal is over there") that the agent acts on
# consistently, then discards if the rewards say otherwise (Thompson sampling). In the library
# (`pearl_lite/pearl/meta_test.py`) one such run over all test tasks at once is
# `posterior_sampling`; `meta_test` repeats it `num_evals` times and averages.
#
# ### Ex 4.4: posterior sampling (Algorithm 2's loop)
#
# Implement `posterior_sampling(agent, venv, n_trajs, num_exp_traj_eval, max_path_length,
# generator, deterministic=True, env_seed=0)`: the box above, for all tasks of `venv` at once
# (`pearl_lite.pearl.sampler.rollout` runs one trajectory per task with a z you give it). The
# check runs it on the sparse point robot with a policy that records the z it is given at
# every step, and recomputes the belief each trajectory should have been drawn from.

# %%
_ = checks.run(checks.check_posterior_sampling, ex4_pearl.posterior_sampling)

# %%
display(source_markdown(exercises.reference("ex4_pearl", "posterior_sampling"), hidden=True))

# %% [markdown]
# ## 4. Sparse rewards, as the official code does it
#
# On `sparse-point-robot` the reward is non-zero only within radius 0.2 of a goal on the upper
# unit semicircle. The official code, which produced the paper's sparse-navigation result,
# **trains the actor-critic on the dense reward** (minus the distance to the goal) while **the
# encoder's context holds only the sparse reward**; evaluation reports the sparse return and
# the success rate. So the critic has an easy learning signal, and the task must still be
# *inferred* from sparse rewards alone: at meta-test the agent sees no reward until it enters
# a goal region, so finding the goal has to come from posterior sampling.
#
# The kit does the same by default: the sampler carries the dense reward in `info`, the RL
# buffer stores it for the critic, and the encoder buffer stores the sparse one
# (`MetaTrainer.store`).
#
# ### Ex 4.5: the sparse-reward protocol
#
# Implement `store_paths(rl_buffer, enc_buffer, slots, paths, to_enc,
# sparse_rewards_for_critic=False)`, which `MetaTrainer.store` calls after growing the RL
# buffers: trajectory `i` of `paths` goes to task slot `slots[i]`, in the RL buffer (the
# critic's data) and, when `to_enc`, in the encoder buffer (the context). Which reward goes
# where is the whole exercise; the option is described just below.

# %%
_ = checks.run(checks.check_store_paths, ex4_pearl.store_paths)

# %%
display(source_markdown(exercises.reference("ex4_pearl", "store_paths"), hidden=True))

# %% [markdown]
# `get_config("sparse-point-robot", ..., sparse_rewards_for_critic=True)` trains the critic
# on the sparse reward as well: a fully sparse setting, **harder than the paper's** (the critic
# then has to learn from rare rewards too); it is an option, not what the paper reports.
#
# ### Your code in the loop
#
# `exercises.use("mine")` makes the library call your functions wherever it calls the
# references: PEARL then samples contexts, computes its losses, stores its data and meta-tests
# with what you wrote in `ex4_pearl.py` (and infers z with your `product_of_gaussians` and
# `kl_bottleneck` of notebook 2, and scores actions with your `tanh_gaussian_log_prob` of
# notebook 3). An exercise you have not done falls back to the reference, with a one-line
# notice. The cell trains `point-robot` for a few iterations twice from the same seed, once
# with your code and once with the library's (about a minute), then switches back to the
# library for the rest of the notebook. After editing your file, run the cell again:
# `use("mine")` re-reads it.
#
# What to compare: if you wrote the same operations in the same order as the library, the two
# logs are **bit-identical**. A correct version written differently (say, a mean where the
# library divides a sum) differs in the last digits at first, and training amplifies such
# rounding differences, so then compare the trends: `qf_loss` falling, the KL leaving 0, the
# posterior variance `z_var` falling, the test return rising, alike in both runs. A wrong one
# usually shows at once: a `qf_loss` that explodes, a KL stuck at 0 or growing without bound, a
# test return that stays where it started.

# %%
cfg_loop = get_config("point-robot", PRESET, num_iterations=budget(10, 1), torch_threads=1)
loop_logs = {}
try:
    for which in ("mine", "reference"):
        exercises.use(which)
        loop_logs[which] = list(MetaTrainer(cfg_loop, seed=0).iterations())
finally:
    exercises.use("reference")  # the rest of the notebook runs the library's code
loop_keys = ("train_return", "test_return", "qf_loss", "kl", "z_var")
print("each column: yours | the library's")
print(f"{'iteration':>9}" + "".join(f"{k:>24}" for k in loop_keys))
for yours, lib in zip(loop_logs["mine"], loop_logs["reference"], strict=True):
    cells = [f"{float(yours[k]):.4g} | {float(lib[k]):.4g}" if yours[k] != "" else "-"
             for k in loop_keys]
    print(f"{yours['iteration']:>9}" + "".join(f"{c:>24}" for c in cells))
identical = all(y[k] == r[k] for y, r in zip(loop_logs["mine"], loop_logs["reference"],
                                             strict=True) for k in loop_keys)
print("bit-identical to the library's run" if identical else
      "not identical: compare the trends (see above)")

# %% [markdown]
# ## 5. Training on the point robot
#
# `point-robot`: reach a goal drawn uniformly from the square [-1, 1]², dense reward minus the
# distance, 20 steps, 80 training and 20 test tasks. The `lite` preset is the paper's
# configuration (`configs/point-robot.json` of the official code) with the changes printed
# below: smaller networks, 10x fewer gradient steps per iteration, and what makes those learn
# quickly on a CPU. We run it for `POINT_ITERATIONS` iterations instead of 500, meta-testing
# every 5 (the live figure redraws as it trains).

# %%
POINT_ITERATIONS = budget(250, 2)
cfg_point = get_config("point-robot", PRESET, num_iterations=POINT_ITERATIONS, torch_threads=1)


def config_changes(cfg, base) -> dict:
    """``{field: (base value, cfg value)}`` for the fields where two configs differ."""
    a, b = base.to_dict(), cfg.to_dict()
    return {k: (a[k], b[k]) for k in b if a[k] != b[k] and k != "preset"}


print("(paper, this run):", config_changes(cfg_point, get_config("point-robot", "paper")))

# %%
trainer = MetaTrainer(cfg_point, seed=0)
live = pv.LiveTrainingPlot(every=5, live=not smoke_mode(), title="point-robot (lite)")
for row in trainer.iterations():
    live.update(row)
live.finish()
point_rows = live.rows
t_point = trainer.elapsed
print(f"{trainer.iteration} iterations, {trainer.env_steps:,} environment steps, "
      f"{trainer.grad_steps:,} gradient steps in {t_point:.0f} s "
      f"(CPU shared with other jobs)")

# %% [markdown]
# What to look for: the meta-test return of the last trajectory (blue) rises from about −20
# (a policy that does not know the goal) towards the return of going straight to the goal,
# while the first trajectory (grey, z from the prior, no information yet) stays low: the gap
# between the two is what the agent gains by inferring the task. The **KL** of q(z | c) to the
# prior rises as z starts carrying task information, then levels off where the bottleneck
# balances information against its cost; the **posterior variance** falls far below the
# prior's 1 as the encoder becomes confident from 64 transitions.
#
# Now meta-test the trained agent (Algorithm 2) on all 20 test tasks, with the official
# point-robot protocol: 3 trajectories, the first with z from the prior, then the posterior.

# %%
point_env = make_env("point-robot", n_tasks=cfg_point.n_tasks, seed=0)
res_point = meta_test(trainer.agent, cfg_point, point_env.test_task_idx,
                      num_evals=budget(5, 1), seed=0)
print("return per trajectory (mean over test tasks):", np.round(res_point.returns.mean(0), 2))
print(f"final return (the paper's metric, last trajectory): {res_point.final_return:.2f}")

fig, axes = plt.subplots(1, 4, figsize=(14, 3.4))
pv.plot_adaptation(axes[0], res_point.returns, n_prior=cfg_point.num_exp_traj_eval)
axes[0].set_title("adaptation on the test tasks")
goals_test = np.stack([point_env.tasks[i]["goal"] for i in point_env.test_task_idx])
rows = np.linspace(0, len(goals_test) - 1, 3).astype(int)  # three tasks spread over the list
for ax, row in zip(axes[1:], rows, strict=True):
    pv.plot_exploration(ax, pv.trajectories_of(res_point.paths, row), goals_test[row],
                        all_goals=goals_test, n_prior=cfg_point.num_exp_traj_eval,
                        colorbar=ax is axes[-1])
    ax.set_title(f"test task {res_point.task_indices[row]}")
    ax.set_xlim(-1.5, 1.5)
    ax.set_ylim(-1.5, 1.5)
fig.tight_layout()
plt.show()

# %% [markdown]
# The first trajectory (dashed, z from the prior) heads wherever the prior sample says; it
# earns rewards that tell the encoder where the goal is, and from the second trajectory on the
# agent moves to it. With a dense reward a single trajectory is very informative, which is why
# the point robot adapts within one episode.

# %% [markdown]
# ### The distribution mismatch, measured
#
# Section 1's argument, looked at on the agent just trained: the reward of every transition
# (minus the distance to the goal) held by the two training buffers, and by the contexts the
# encoder saw at meta-test above. Three different distributions:
#
# * the **RL buffer** mixes the data of every policy since the first, random iterations, and
#   also the trajectories collected with z from the posterior (`num_extra_rl_steps_posterior`),
#   which go to the RL buffer only;
# * the **encoder buffer** holds only each task's latest collection round, and in the official
#   point-robot configuration (`num_steps_posterior = 0`) only trajectories with z from the
#   prior: what the current policy does before it knows the task;
# * the **meta-test contexts** mix one such prior trajectory with two posterior ones.
#
# The encoder is trained on the second and must work on the third; the all-data ablation of
# section 7 trains it on the first, whose make-up keeps changing as old policies' data pile up.
# Compare the shapes, not only the means: which buffer is "closer" depends on the
# configuration, which is one reason the paper tunes how much posterior data enters the
# encoder buffer (`num_steps_posterior`, 900 of 1,000 steps on the sparse point robot).

# %%
def stored_rewards(buf) -> np.ndarray:
    """All rewards stored in a MultiTaskReplayBuffer, over its tasks, ``(n_transitions,)``."""
    return np.concatenate([buf.data["rew"][i, : buf.sizes[i]] for i in range(len(buf.sizes))])


sources = {
    "RL buffer (all data)": stored_rewards(trainer.rl_buffer),
    "encoder buffer (recent data)": stored_rewards(trainer.enc_buffer),
    "meta-test contexts": np.concatenate([p.reward[p.valid] for p in res_point.paths]),
}
fig, ax = plt.subplots(figsize=(7.5, 3.2))
bins = np.linspace(-3.0, 0.0, 46)
for (name, r), color in zip(sources.items(), (COLORS["prior"], COLORS["pearl"], COLORS["goal"]),
                            strict=True):
    ax.hist(r, bins=bins, density=True, histtype="step", lw=2, color=color,
            label=f"{name}: {len(r):,} transitions, mean reward {r.mean():.2f}")
ax.set_xlabel("reward of a transition (minus the distance to the goal)")
ax.set_ylabel("density")
ax.legend(fontsize=8, loc="upper left")
plt.show()

# %% [markdown]
# ## 6. The sparse point robot
#
# Here the goal is one of 100 points on the upper unit semicircle, and the reward is zero
# unless the robot is within 0.2 of it. The `lite` preset is the official sparse configuration
# (kl_lambda 1, discount 0.9, reward scale 100, 5 prior trajectories at meta-test) with the
# changes printed below (smaller networks and batches, fewer gradient steps, learning
# rates that decay over the run). Training it takes much
# longer than the notebook should, so by default we show the run that was trained with the
# command line and committed to `data/sparse_point_robot_lite_decay_seed0/` (`progress.csv`,
# `config.json` and the trained networks), and meta-test them live. Of the runs of this preset
# it is the median one by final success (see below). Set `RETRAIN_SPARSE = True` to retrain it from
# scratch here (in smoke mode that code path runs with the `smoke` preset; if the shipped run is
# missing, the cell trains a short, clearly labelled run instead).

# %%
RETRAIN_SPARSE = False
SPARSE_RUN = DATA_DIR / "sparse_point_robot_lite_decay_seed0"
# The shipped run holds the full checkpoint or only the networks (agent.pt).
have_shipped = any((SPARSE_RUN / f).exists() for f in ("checkpoint.pt", "agent.pt"))

if RETRAIN_SPARSE or smoke_mode() or not have_shipped:
    iterations = None  # the preset's
    if not (RETRAIN_SPARSE or smoke_mode()):
        iterations = 20
        print(f"NOTE: no trained run in {SPARSE_RUN}; training a short run of {iterations} "
              "iterations instead. It shows the pipeline, not a trained agent.")
    sparse_dir = Path(tempfile.mkdtemp(prefix="pearl_sparse_")) / "run"
    t0 = time.time()
    train("sparse-point-robot", PRESET, seed=0, out=sparse_dir, iterations=iterations,
          progress=False)
    print(f"trained into {sparse_dir} in {time.time() - t0:.0f} s")
else:
    sparse_dir = SPARSE_RUN
    # How the shipped run was produced (its row in data/README.md):
    for line in (DATA_DIR / "README.md").read_text().splitlines():
        if line.startswith(f"| `{SPARSE_RUN.name}/`"):
            print(line)

sparse_log = read_csv(sparse_dir / "progress.csv")
saved = json.loads((sparse_dir / "config.json").read_text())
saved_cfg = PEARLConfig.from_dict({k: v for k, v in saved.items() if k != "seed"})
print(f"seed {saved['seed']}; (paper, this run):",
      config_changes(saved_cfg, get_config("sparse-point-robot", "paper")))
fig = pv.plot_training(sparse_log, title="sparse-point-robot: "
                       f"{int(sparse_log['iteration'][-1])} iterations, "
                       f"{sparse_log['wall_clock'][-1] / 60:.0f} min of training")
plt.show()

# %% [markdown]
# The return panel shows the **sparse** return (the dense one trains the critic but is never
# reported). The success panel is the meta-test success of the first trajectory (grey, z from
# the prior: the goal is found only by luck) and of the last, 20th trajectory (blue).
#
# Now the checkpoint, meta-tested live with the official protocol: 20 trajectories per test
# task, the first 5 with z from the prior while the context accumulates, then posterior
# sampling, re-inferring the posterior after every trajectory.

# %%
agent_sparse, cfg_sparse, _ = load_agent(sparse_dir)
sparse_env = make_env("sparse-point-robot", n_tasks=cfg_sparse.n_tasks, seed=0)
t0 = time.time()
# num_evals=5, seed=0: as `python -m pearl_lite.evaluate ... --num-evals 5` (data/README.md).
res_sparse = meta_test(agent_sparse, cfg_sparse, sparse_env.test_task_idx,
                       num_evals=budget(5, 1), seed=0)
k_prior = cfg_sparse.num_exp_traj_eval
reached = np.stack([p.reached for p in res_sparse.paths], axis=1)  # first run, (tasks, trajs)
print(f"meta-test on {len(res_sparse.task_indices)} test tasks x {res_sparse.returns.shape[1]} "
      f"trajectories x {budget(5, 1)} runs in {time.time() - t0:.1f} s")
print("success rate of trajectory k:", np.round(res_sparse.success.mean(0), 2))
print("goal found within k trajectories (run 1):", np.round(pv.success_within(reached), 2))
print(f"final sparse return {res_sparse.final_return:.2f}, "
      f"final success rate {res_sparse.final_success:.2f}")

fig, axes = plt.subplots(1, 3, figsize=(14, 3.4))
pv.plot_adaptation(axes[0], res_sparse.returns, n_prior=k_prior)
axes[0].set_title("sparse return per trajectory")
pv.plot_success(axes[1], res_sparse.success, reached=reached, n_prior=k_prior)
axes[1].set_title("success")
z_var = res_sparse.z_var.mean(axis=(1, 2))  # (n_trajs,): belief width per trajectory
axes[2].plot(np.arange(1, len(z_var) + 1), z_var, "-o", ms=3, color=COLORS["posterior"])
axes[2].axvspan(0.5, k_prior + 0.5, color=COLORS["prior"], alpha=0.15, lw=0)
axes[2].set_yscale("log")
axes[2].set_xlabel("meta-test trajectory k")
axes[2].set_title("variance of the belief z is drawn from")
fig.tight_layout()
plt.show()

# %% [markdown]
# And the trajectories themselves, for a few test tasks: dark = early, light = late; dashed =
# z from the prior. With posterior sampling the early trajectories should spread over the
# semicircle (each one a guess of where the goal is) and later ones go to the goal once a
# reward has been seen. How clearly this happens depends on how well the committed `lite`
# run learnt; compare with the success numbers above.

# %%
goals_all = np.stack([t["goal"] for t in sparse_env.tasks])
rows = np.linspace(0, len(res_sparse.task_indices) - 1, 4).astype(int)
fig, axes = plt.subplots(1, 4, figsize=(15, 3.6))
for ax, row in zip(axes, rows, strict=True):
    task = int(res_sparse.task_indices[row])
    pv.plot_exploration(ax, pv.trajectories_of(res_sparse.paths, row), goals_all[task],
                        goal_radius=sparse_env.goal_radius, all_goals=goals_all,
                        n_prior=k_prior, colorbar=ax is axes[-1])
    found = np.flatnonzero(reached[row])
    ax.set_title(f"task {task}: first success at k = {found[0] + 1}" if found.size
                 else f"task {task}: goal not found")
    ax.set_xlim(-1.4, 1.4)
    ax.set_ylim(-0.4, 1.4)
fig.tight_layout()
plt.show()

# %% [markdown]
# **How reliable is this run?** One seed is an anecdote. The same `lite` command was run with
# several seeds, keeping the networks every 25 iterations (`--snapshot-every 25`);
# `python -m pearl_lite.evaluate RUN --snapshots --num-evals 5` meta-tested each snapshot with
# the full protocol. The cell plots what those runs recorded in their `snapshots.json`, next to
# (faded) the same measurement for the former `lite` preset, which collected 200 instead of 900
# posterior-sampling steps per task and kept the learning rates at 1e-3 throughout:

# %%
fig, ax = plt.subplots(figsize=(6.4, 3.4))
former = sorted(DATA_DIR.glob("sparse_point_robot_lite_seed*_fixed/snapshots.json"))
for i, snap_file in enumerate(former):
    snaps = json.loads(snap_file.read_text())["snapshots"]
    ax.plot([r["wall_clock_min"] for r in snaps], [r["final_success"] for r in snaps], "-",
            color="grey", alpha=0.4, lw=1, label="former preset" if i == 0 else None)
current = sorted(DATA_DIR.glob("sparse_point_robot_lite_decay_seed*/snapshots.json"))
for snap_file in current:
    snaps = json.loads(snap_file.read_text())["snapshots"]
    seed = json.loads((snap_file.parent / "config.json").read_text())["seed"]
    minutes = [r["wall_clock_min"] for r in snaps]
    success = np.array([r["final_success"] for r in snaps])
    ax.plot(minutes, success, "-o", ms=3, label=f"seed {seed}")
    reached = np.flatnonzero(success >= 0.8)
    print(f"seed {seed}: success at the 20th trajectory, last {success[-1]:.2f} "
          f"(at {minutes[-1]:.1f} min), mean of the last 5 snapshots {success[-5:].mean():.2f}, "
          + (f"first >= 0.8 at {minutes[reached[0]]:.1f} min" if reached.size
             else "never >= 0.8"))
ax.axhline(0.8, color="grey", ls="--", lw=1)
ax.set(xlabel="minutes of training (2-core CPU, 1 thread)", ylabel="success, 20th trajectory",
       title="sparse-point-robot, lite: meta-test of snapshots (5 runs each)", ylim=(0, 1))
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# Read this plot before trusting any single number. With the current preset (900
# posterior-sampling steps per sampled task, the paper's value, instead of 200; learning rates
# falling linearly from 1e-3 to 1e-4 over the 500 iterations), five seeds end at 0.87, 0.92,
# 0.71, 0.77 and 0.90 after 21–22.5 minutes: a mean of 0.83, above this course's 0.8 goal,
# reached by four of the five seeds at some snapshot (between 6 and 16 minutes). Three end
# above 0.8; seed 2 learns late and stays at 0.7–0.76. The faded curves are the former preset
# (constant learning rates, 200 posterior steps): the same seeds 0–2 climbed as fast but then
# wandered by ±0.15 between snapshots and ended at 0.70, 0.90 and 0.62. The averaged late
# snapshots tell the change most plainly: the mean of the last five snapshots of seeds 0, 1
# and 2 went from 0.69, 0.69 and 0.59 to 0.79, 0.90 and 0.70. The 900 posterior steps let the
# encoder train on contexts much like those of meta-test (data is cheap here, gradient steps
# are not); the decaying learning rate lets the last few thousand updates refine the policy
# instead of shaking it. Neither is a cure: one seed in five is still a slow learner.
#
# ## 7. Ablations: deterministic context, and context from all data
#
# The paper's Section 6.3 ablates the two choices argued for above. We run both on the point
# robot with the `lite` preset, against the default, with `scripts/run_ablations.py`.
#
# * **deterministic**: `use_information_bottleneck=False` (the official flag): the encoder
#   mean-pools its per-transition outputs into a point estimate of z, with no KL term and
#   nothing to sample, so no posterior sampling;
# * **all-data**: the encoder's context is drawn from the *whole* replay buffer of the task
#   instead of the recent-data buffer. The config has no field for this, so the script
#   subclasses `MetaTrainer` and overrides the one method that draws context batches:

# %%
spec = importlib.util.spec_from_file_location("run_ablations", ROOT / "scripts" /
                                              "run_ablations.py")
run_ablations = importlib.util.module_from_spec(spec)
sys.modules["run_ablations"] = run_ablations
spec.loader.exec_module(run_ablations)
display(source_markdown(run_ablations.AllDataContextTrainer.context_batch))

# %% [markdown]
# The runs are saved in `data/ablations_point_robot/` (one CSV per run, the final adaptation
# curves as JSON, and `config.json` with the exact command and configs); the cell below plots
# them. `RERUN_ABLATIONS = True` repeats them into `runs/ablations_point_robot/` (about as long
# as `config.json` records); in smoke mode that path runs with the `smoke` preset.

# %%
RERUN_ABLATIONS = False
ABLATIONS = DATA_DIR / "ablations_point_robot"

if RERUN_ABLATIONS or smoke_mode():
    abl_dir = (ROOT / "runs" / "ablations_point_robot" if RERUN_ABLATIONS
               else Path(tempfile.mkdtemp(prefix="pearl_abl_")))
    saved_cmd = json.loads((ABLATIONS / "config.json").read_text()) if (
        ABLATIONS / "config.json").exists() else {"iterations": 100, "seeds": [0]}
    args = ["--preset", PRESET, "--out", str(abl_dir), "--seeds",
            *map(str, budget(saved_cmd["seeds"], [0]))]
    if not smoke_mode() and saved_cmd.get("iterations"):
        args += ["--iterations", str(saved_cmd["iterations"])]
    run_ablations.main(args)
else:
    abl_dir = ABLATIONS
abl_meta = json.loads((abl_dir / "config.json").read_text())
print("command:", abl_meta["command"])
abl = pv.load_ablation_results(abl_dir)
for variant, res in abl.items():
    finals = np.array([f["final_return"] for f in res["final"]])
    times = np.array([f["wall_clock"] for f in res["final"]])
    print(f"{variant:>13}: final return {finals.mean():7.2f} (seeds {res['seeds']}: "
          f"{np.round(finals, 2).tolist()}), training {times.mean() / 60:.1f} min per seed")
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
pv.plot_ablations(axes, abl, colors={"default": COLORS["pearl"], "deterministic":
                                     COLORS["goal"], "all-data": COLORS["posterior"]})
fig.suptitle(f"point-robot ({abl_meta['preset']}), {len(abl['default']['seeds'])} seed(s)")
fig.tight_layout()
plt.show()

# %% [markdown]
# Read these curves with care: they are short runs with few seeds on the *dense* point robot,
# the easiest task of the suite, where one trajectory already reveals the goal. The paper's
# ablations were run where the choices matter most: the deterministic context on **sparse**
# navigation (without a distribution over z there is nothing to sample, so no directed
# exploration; the paper reports it fails there), and off-policy context on half-cheetah
# (slower, less stable learning). In the shipped runs (2 seeds of 100 iterations, rerun on the
# current code) the three variants end within about 2 points of each other, and the spread
# between the two seeds of one variant is as large as the gaps between variants: on the dense
# point robot, at this budget, these runs cannot tell the variants apart. That is a result
# too: the paper's claims are about harder tasks, and reproducing them needs those tasks.
#
# So here is the one that matters most for this notebook: the deterministic context on the
# **sparse** point robot, full budget of the former `lite` preset (200 posterior steps, constant
# learning rates; the comparison is like for like), against three PEARL seeds of that preset
# (`python scripts/run_ablations.py --env sparse-point-robot --variants deterministic --seeds 0
# --final-evals 5`, run before the preset changed and saved with its full config in
# `data/ablations_sparse_point_robot/`):

# %%
SPARSE_ABL = DATA_DIR / "ablations_sparse_point_robot"
if (SPARSE_ABL / "deterministic_seed0_final.json").exists():
    det = json.loads((SPARSE_ABL / "deterministic_seed0_final.json").read_text())
    print("command:", json.loads((SPARSE_ABL / "config.json").read_text())["command"])
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    for seed in (0, 1, 2):
        ad = json.loads((DATA_DIR / f"sparse_point_robot_lite_seed{seed}_fixed" /
                         "adaptation.json").read_text())
        ax.plot(np.arange(1, 21), ad["success_per_trajectory"], color=COLORS["pearl"],
                alpha=0.8, label="PEARL, former preset (seeds 0, 1, 2)" if seed == 0 else None)
    ax.plot(np.arange(1, 21), det["success_per_trajectory"], color=COLORS["goal"], lw=2,
            label="deterministic context (seed 0)")
    ax.axvspan(0.5, 5.5, color=COLORS["prior"], alpha=0.15, lw=0)
    ax.set(xlabel="meta-test trajectory k", ylabel="success rate", ylim=(0, 1),
           title="sparse-point-robot, lite: success of the k-th trajectory")
    ax.legend()
    plt.show()
    print(f"deterministic context: success of the 20th trajectory "
          f"{det['success_per_trajectory'][-1]:.2f}")
else:
    print(f"{SPARSE_ABL} is missing: run the command above to make it.")

# %% [markdown]
# Here the ablation is not subtle. With a deterministic context the success rate is the same
# for the 1st and the 20th trajectory (about 0.25): the agent has a point estimate of the task
# and nothing to sample, and the zero-reward transitions of a failed trajectory do not move
# that estimate anywhere useful, so it keeps making the same kind of guess. PEARL's posterior
# sampling turns the same failed trajectories into "not there", and its success climbs
# trajectory after trajectory. One seed of the ablation against three of PEARL: the gap is
# far larger than the spread between PEARL's seeds.
#
# ## 8. Summary, and what comes next
#
# * PEARL = SAC conditioned on a task variable z + an encoder q(z | c) trained through the
#   critic's Bellman error and a KL bottleneck. The **actor-critic** learns from *all* data
#   (off-policy); the **encoder** from *recent* data, so that the contexts it sees in training
#   look like the on-policy contexts of meta-test.
# * Meta-testing is **posterior sampling**: sample z, act on it for a whole trajectory, update
#   the belief, resample. On sparse tasks that is the exploration strategy.
# * On the sparse point robot the kit follows the official protocol: dense reward for the
#   critic, sparse reward in the context and in every reported number
#   (`sparse_rewards_for_critic=True` is the harder, fully sparse variant).
#
# **Reaching the paper's numbers** needs the paper's budget: the `paper` preset (300-unit
# networks, 1,000 to 4,000 gradient steps per iteration, 500 iterations), best on a GPU:
#
# ```bash
# python -m pearl_lite.train sparse-point-robot --preset paper --seed 0 \
#     --out runs/spr_paper --device cuda --set cuda_graphs=True
# python -m pearl_lite.evaluate runs/spr_paper
# ```
#
# On an H100 this takes about 5.7 s per iteration, under an hour for the 500 iterations
# (`data/gpu_check/`); `cuda_graphs=True` replays each gradient step as one captured CUDA
# graph (the same step, 2.5 times faster than launching its kernels one by one).
#
# The `lite` runs here are the same algorithm at a fraction of the compute; they show the
# mechanisms, not the paper's final performance.
#
# **Next:** notebook 5 runs the MuJoCo benchmarks (cheetah-vel, cheetah-dir, ant, humanoid,
# walker and hopper with random parameters) and plots them against the paper's curves;
# notebook 6 returns to sparse 2-D navigation with interactive views of exploration: posterior
# samples, trajectories per exploration episode, and sliders for β and the context size.

# %%
print(f"notebook run time: {time.time() - T_START:.0f} s "
      f"(point-robot training {t_point:.0f} s)")
