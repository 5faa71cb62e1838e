"""Exercises of notebook 4 (PEARL itself). Fill in the bodies; keep the signatures.

Check: ``pytest tests/exercises/test_ex4_pearl.py`` or, in the notebook,
``checks.run(checks.check_sample_context, ex4_pearl.sample_context)`` (likewise
``check_critic_loss``, ``check_actor_value_loss``, ``check_posterior_sampling`` and
``check_store_paths``).

Put your code in the loop with ``exercises.use("mine")``: PEARL then trains and meta-tests with
the functions you wrote here (an untouched stub falls back to the library's reference).

The objects you get: ``agent`` is a ``pearl_lite.pearl.PEARLAgent`` (``agent.encoder(context)
-> (mu, var)``, ``agent.sample_z(mu, var)``, ``agent.q(obs_z, act) -> (2, B)``, ``agent.v(obs_z,
target=False) -> (B,)``, ``agent.policy(obs_z) -> TanhGaussian``, ``agent.prior(n)``,
``agent.infer_posterior(context, mask)``, ``agent.context(obs, act, rew, next_obs)``);
buffers are ``pearl_lite.buffers.MultiTaskReplayBuffer`` (``sample(task_slots, n)`` returns a
dict of ``(T, n, ...)`` tensors, ``add(slot, obs, act, rew, next_obs, terminated, truncated)``);
``paths`` is a ``pearl_lite.pearl.sampler.Paths``.
"""

from __future__ import annotations

import torch

REFERENCES = {
    "sample_context": "pearl_lite.pearl.meta_train:sample_context",
    "critic_loss": "pearl_lite.pearl.learner:critic_loss",
    "actor_value_loss": "pearl_lite.pearl.learner:actor_value_loss",
    "posterior_sampling": "pearl_lite.pearl.meta_test:posterior_sampling",
    "store_paths": "pearl_lite.pearl.meta_train:store_paths",
}


def sample_context(rl_buffer, enc_buffer, task_slots, n: int,
                   use_next_obs: bool = False) -> torch.Tensor:
    """Ex 4.1: the context batch the encoder trains on, shape ``(T, n, context_dim)``.

    ``task_slots`` ``(T,)`` names the tasks of the meta-batch (repeats allowed); row ``t`` of
    the result holds ``n`` transitions of task ``task_slots[t]``, each the vector ``(s, a, r)``,
    or ``(s, a, r, s')`` when ``use_next_obs`` (``pearl_lite.encoder.make_context`` builds
    them).

    You get both buffers of each task: ``rl_buffer`` holds all of its data since training
    began, ``enc_buffer`` only what the current round of collection gathered. Hint: at
    meta-test the encoder will see contexts collected by the *current* policy. Which buffer
    gives training contexts like those?
    """
    raise NotImplementedError(
        "Ex 4.1: implement sample_context in pearl_lite/exercises/ex4_pearl.py"
    )


def critic_loss(agent, batch: dict[str, torch.Tensor], context: torch.Tensor,
                reward_scale: float, gamma: float, kl_lambda: float) -> dict[str, torch.Tensor]:
    """Ex 4.2: the loss that trains the critics *and the encoder*.

    ``batch``: ``obs (T, B, o)``, ``act (T, B, a)``, ``rew (T, B)``, ``next_obs (T, B, o)``,
    ``terminated (T, B)``, ``truncated (T, B)``; ``context`` ``(T, N, context_dim)``.

    Steps: infer ``mu, var`` (each ``(T, L)``) with ``agent.encoder``; draw one z per task
    with ``agent.sample_z``; give every transition of task t that task's z and flatten to
    ``T*B`` rows; both Q heads at ``[s, z]``; the target ``reward_scale * r + gamma * mask *
    V-bar(s', z)`` from the *target* value network; ``qf_loss`` = the MSE of Q1 plus the MSE of
    Q2; ``kl`` = KL(q(z|c) || N(0, I)) (``agent.encoder.kl_to_prior``), reduced as PEARL's
    official code does; ``loss = qf_loss + kl_lambda * kl``.

    Return a dict with ``loss``, ``qf_loss``, ``kl`` (0-d), ``obs`` ``(T*B, o)``, ``z_rep``
    ``(T*B, L)``, ``mu``, ``var`` ``(T, L)`` and ``q`` ``(2, T*B)``.

    Hints: the Bellman error is the encoder's only learning signal besides the KL, so think
    about where a gradient must (and must not) flow. The batch carries two flags: which one
    says s' has no future? Is the KL summed or averaged, over which axes?
    """
    raise NotImplementedError("Ex 4.2: implement critic_loss in pearl_lite/exercises/ex4_pearl.py")


def actor_value_loss(agent, obs: torch.Tensor, z: torch.Tensor, alpha: torch.Tensor,
                     mean_reg: float, std_reg: float) -> dict[str, torch.Tensor]:
    """Ex 4.3: the policy's and V's loss, on ``obs`` ``(T*B, o)`` and ``z`` ``(T*B, L)``.

    ``z`` is ``critic_loss``'s ``z_rep``: still attached to the encoder's graph. ``alpha`` is
    the (detached) temperature. Notebook 3's SAC losses, conditioned on ``[s, z]``:

    - the policy: ``mean(alpha * log pi(a|s, z) - min_k Q_k(s, a, z))`` with ``a`` a fresh
      reparameterised sample (``agent.policy(obs_z).rsample()`` -> ``(a, log_pi)``);
    - V: the MSE of ``agent.v(obs_z)`` against the soft value ``min_k Q_k - alpha * log pi``
      (a regression label: no gradient through it);
    - ``mean_reg * mean(mean^2) + std_reg * mean(log_std^2)`` of the policy's Gaussian.

    Return ``loss`` (the sum of the three), ``vf_loss``, ``policy_loss`` and ``log_pi``
    ``(T*B,)``.

    Hints: which networks may this loss train? Not the encoder (PEARL trains it through the
    critic only), and not the Q networks' weights, although dQ/da must still reach the policy.
    """
    raise NotImplementedError(
        "Ex 4.3: implement actor_value_loss in pearl_lite/exercises/ex4_pearl.py"
    )


def posterior_sampling(agent, venv, n_trajs: int, num_exp_traj_eval: int, max_path_length: int,
                       generator: torch.Generator, deterministic: bool = True, env_seed: int = 0):
    """Ex 4.4: one meta-test run in all tasks of ``venv`` at once (Algorithm 2's loop).

    For ``k = 0 .. n_trajs - 1``: pick the belief (``mu, var``, each ``(n, L)`` with
    ``n = venv.num_envs``): the prior ``agent.prior(n)`` for the first ``num_exp_traj_eval``
    trajectories, afterwards ``agent.infer_posterior(context, mask)`` of the context gathered
    so far; draw z from it with ``torch.randn(mu.shape, generator=generator)`` (``mu`` itself
    if ``not agent.encoder.is_probabilistic``); run one trajectory per task with
    ``pearl_lite.pearl.sampler.rollout(agent.policy, venv, z, max_path_length,
    deterministic=deterministic, seed=env_seed + k)``; add it to the context
    (``agent.context(obs, act, reward, next_obs)`` of its ``Paths``, ``(n, H, context_dim)``,
    with ``paths.valid`` ``(n, H)`` as the mask).

    Return ``(paths, mus, vars)``: three lists of length ``n_trajs``, the ``Paths`` of each
    trajectory and the belief its z was drawn from.

    Hints: how often should z change, and why does that matter for exploration? Which reward
    does the agent get to see at meta-test on a sparse task? Everything here runs without
    gradients (``torch.no_grad``).
    """
    raise NotImplementedError(
        "Ex 4.4: implement posterior_sampling in pearl_lite/exercises/ex4_pearl.py"
    )


def store_paths(rl_buffer, enc_buffer, slots, paths, to_enc: bool,
                sparse_rewards_for_critic: bool = False) -> None:
    """Ex 4.5: store trajectory ``i`` of ``paths`` under task slot ``slots[i]``.

    ``paths.task(i)`` gives its valid transitions as flat arrays: ``obs``, ``act``, ``reward``
    (the environment's: sparse on sparse tasks), ``dense_reward`` (the shaped reward; the same
    as ``reward`` on dense tasks), ``next_obs``, ``terminated``, ``truncated``. The RL buffer
    feeds the critic; the encoder buffer feeds the context, and only trajectories collected
    with ``to_enc`` go there.

    Hint: the official code's sparse-reward protocol (notebook 4, section 4). Which reward does
    the critic learn from, which one may the encoder see, and what does
    ``sparse_rewards_for_critic`` change?
    """
    raise NotImplementedError("Ex 4.5: implement store_paths in pearl_lite/exercises/ex4_pearl.py")
