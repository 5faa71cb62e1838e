"""Exercises 4.1-4.5 (PEARL), on the stubs or on the reference solutions (``--impl``).

The second half checks the checks: each classic mistake, planted in a copy of the reference,
must be caught with the hint that names it.
"""

import numpy as np
import pytest
import torch

from pearl_lite.course import checks
from pearl_lite.encoder import make_context
from pearl_lite.pearl.learner import actor_value_loss, critic_loss
from pearl_lite.pearl.meta_test import posterior_sampling
from pearl_lite.pearl.meta_train import sample_context, store_paths
from pearl_lite.pearl.sampler import rollout
from pearl_lite.sac import bellman_target, policy_loss, soft_value_target

CHECKS = {
    "sample_context": checks.check_sample_context,
    "critic_loss": checks.check_critic_loss,
    "actor_value_loss": checks.check_actor_value_loss,
    "posterior_sampling": checks.check_posterior_sampling,
    "store_paths": checks.check_store_paths,
}


@pytest.mark.parametrize("name", list(CHECKS))
def test_exercise_passes_its_check(exercise, name):
    assert CHECKS[name](exercise("ex4_pearl", name))


def test_sample_context_rows_follow_the_task_slots(exercise):
    fn = exercise("ex4_pearl", "sample_context")
    from pearl_lite.buffers import MultiTaskReplayBuffer

    rl = MultiTaskReplayBuffer(2, 1, 1, 8, seed=0)
    enc = MultiTaskReplayBuffer(2, 1, 1, 8, seed=0)
    for t in range(2):
        enc.add(t, [[float(t)]], [[0.0]], [1.0], [[0.0]], [0.0], [0.0])
        rl.add(t, [[float(t)]], [[0.0]], [1.0], [[0.0]], [0.0], [0.0])
    ctx = fn(rl, enc, np.array([1, 1, 0]), 3)
    assert ctx.shape == (3, 3, 3)
    assert ctx[..., 0].tolist() == [[1.0] * 3, [1.0] * 3, [0.0] * 3]


# ---- the checks catch the classic mistakes -------------------------------------------------


def _sample_context_mutant(kind):
    def fn(rl_buffer, enc_buffer, task_slots, n, use_next_obs=False):
        buf = rl_buffer if kind == "all_data" else enc_buffer
        slots = np.sort(task_slots) if kind == "sorted_slots" else task_slots
        b = buf.sample(slots, n)
        nxt = b["next_obs"] if use_next_obs and kind != "no_next_obs" else None
        if kind == "act_first":
            return make_context(b["act"], b["obs"], b["rew"], nxt)
        return make_context(b["obs"], b["act"], b["rew"], nxt)

    return fn


@pytest.mark.parametrize(("kind", "hint"), [
    ("all_data", "context drawn from all data"),
    ("sorted_slots", "task_slots\\[t\\]"),
    ("act_first", "\\(s, a, r\\)"),
    ("no_next_obs", "use_next_obs=True"),
])
def test_sample_context_check_catches(kind, hint):
    wrong = _sample_context_mutant(kind)
    with pytest.raises(AssertionError, match=hint):
        checks.check_sample_context(wrong)
    assert checks.run(checks.check_sample_context, wrong) is False


def _critic_mutant(kind):
    """The reference critic loss with one mistake."""

    def fn(agent, batch, context, reward_scale, gamma, kl_lambda):
        obs, act, rew = batch["obs"], batch["act"], batch["rew"]
        next_obs, terminated = batch["next_obs"], batch["terminated"]
        if kind == "truncated_masks":
            terminated = torch.clamp(terminated + batch["truncated"], max=1.0)
        T, B, _ = obs.shape
        mu, var = agent.encoder(context)
        z = agent.sample_z(mu, var)
        if kind == "z_detached":
            z = z.detach()
        z_rep = z.repeat(B, 1) if kind == "wrong_layout" else \
            z.unsqueeze(1).expand(T, B, -1).reshape(T * B, -1)
        obs, next_obs = obs.reshape(T * B, -1), next_obs.reshape(T * B, -1)
        act, rew, terminated = act.reshape(T * B, -1), rew.reshape(-1), terminated.reshape(-1)
        q = agent.q(torch.cat([obs, z_rep], -1), act)
        with torch.no_grad():
            next_v = agent.v(torch.cat([next_obs, z_rep], -1), target=kind != "online_v")
            q_target = bellman_target((1.0 if kind == "no_scale" else reward_scale) * rew,
                                      next_v, terminated, gamma)
        qf_loss = ((q - q_target) ** 2).mean(dim=1).sum()
        kl_t = agent.encoder.kl_to_prior(mu, var)  # (T,)
        kl = {"kl_mean_tasks": kl_t.mean(), "kl_per_task": kl_t,
              "kl_mean_latent": (0.5 * (var + mu**2 - 1 - var.log())).mean(-1).sum()}.get(
            kind, kl_t.sum())
        loss = qf_loss + (kl.sum() if kind == "no_beta" else kl_lambda * kl.sum())
        return {"loss": loss, "qf_loss": qf_loss, "kl": kl, "obs": obs, "z_rep": z_rep,
                "mu": mu, "var": var, "q": q}

    return fn


@pytest.mark.parametrize(("kind", "hint"), [
    ("z_detached", "z detached in the critic loss"),
    ("truncated_masks", "masked with truncated"),
    ("wrong_layout", "wrong layout"),
    ("no_scale", "not scaled"),
    ("online_v", "target network V-bar"),
    ("kl_mean_tasks", "averaged over tasks"),
    ("kl_per_task", "sum it over the meta-batch's tasks"),
    ("kl_mean_latent", "averaged over the latent dimensions"),
    ("no_beta", "beta is missing"),
])
def test_critic_loss_check_catches(kind, hint):
    wrong = _critic_mutant(kind)
    with pytest.raises(AssertionError, match=hint):
        checks.check_critic_loss(wrong)
    assert checks.run(checks.check_critic_loss, wrong) is False


def _actor_mutant(kind):
    def fn(agent, obs, z, alpha, mean_reg, std_reg):
        obs_z = torch.cat([obs, z if kind == "z_attached" else z.detach()], -1)
        dist = agent.policy(obs_z)
        new_act, log_pi = dist.rsample()
        if kind != "critics_not_frozen":
            agent.qf.requires_grad_(False)
        q_new = agent.q(obs_z, new_act)
        if kind != "left_frozen":
            agent.qf.requires_grad_(True)
        v_pred = agent.v(obs_z)
        v_target = soft_value_target(q_new, log_pi, alpha)
        if kind != "v_target_attached":
            v_target = v_target.detach()
        vf_loss = ((v_pred - v_target) ** 2).mean()
        pi_loss = (alpha * log_pi - q_new.max(0).values).mean() if kind == "max_q" else \
            policy_loss(log_pi, q_new, alpha)
        reg = mean_reg * (dist.mean ** 2).mean() + std_reg * (dist.log_std ** 2).mean()
        return {"loss": vf_loss + pi_loss + reg, "vf_loss": vf_loss, "policy_loss": pi_loss,
                "log_pi": log_pi}

    return fn


@pytest.mark.parametrize(("kind", "hint"), [
    ("z_attached", "z not detached in the actor loss"),
    ("critics_not_frozen", "freeze them"),
    ("left_frozen", "left frozen"),
    ("v_target_attached", "detach the soft value"),
    ("max_q", "not the maximum"),
])
def test_actor_value_loss_check_catches(kind, hint):
    wrong = _actor_mutant(kind)
    try:
        with pytest.raises(AssertionError, match=hint):
            checks.check_actor_value_loss(wrong)
        assert checks.run(checks.check_actor_value_loss, wrong) is False
    finally:
        torch.set_grad_enabled(True)


class _Dither(torch.nn.Module):
    """A policy wrapper that draws a fresh z from the belief at every step."""

    def __init__(self, policy, mu, var, generator):
        super().__init__()
        self.policy, self.mu, self.var, self.generator = policy, mu, var, generator

    def forward(self, obs_z):
        L = self.mu.shape[-1]
        z = self.mu + self.var.sqrt() * torch.randn(self.mu.shape, generator=self.generator)
        return self.policy(torch.cat([obs_z[..., :-L], z], -1))


def _sampling_mutant(kind):
    """The reference posterior sampling with one mistake."""

    def fn(agent, venv, n_trajs, num_exp_traj_eval, max_path_length, generator,
           deterministic=True, env_seed=0):
        n = venv.num_envs
        contexts, masks, all_paths, mus, variances = [], [], [], [], []
        z_fixed = None
        for k in range(n_trajs):
            if kind == "posterior_once" and k > num_exp_traj_eval and mus:
                mu, var = mus[-1], variances[-1]
            elif k < num_exp_traj_eval or not contexts or kind == "prior_only":
                mu, var = agent.prior(n)
            elif kind == "last_only":
                mu, var = agent.infer_posterior(contexts[-1], masks[-1])
            else:
                mu, var = agent.infer_posterior(torch.cat(contexts, 1), torch.cat(masks, 1))
            if kind == "posterior_from_start" and k == 0:
                mu, var = agent.infer_posterior(torch.zeros(n, 1, agent.encoder.context_dim))
            eps = torch.randn(mu.shape, generator=generator if kind != "global_rng" else None)
            z = mu + var.sqrt() * eps
            if kind == "mean":
                z = mu if k >= num_exp_traj_eval else z
            if kind == "one_prior_z":
                z_fixed = z if z_fixed is None else z_fixed
                z = z_fixed if k < num_exp_traj_eval else z
            policy = agent.policy
            if kind == "dithering":
                policy = _Dither(agent.policy, mu, var, generator)
            paths = rollout(policy, venv, z, max_path_length, deterministic=deterministic,
                            seed=env_seed + k)
            reward = paths.dense_reward if kind == "dense_context" else paths.reward
            contexts.append(agent.context(*(torch.as_tensor(x) for x in (
                paths.obs, paths.act, reward, paths.next_obs))))
            masks.append(torch.as_tensor(paths.valid))
            all_paths.append(paths)
            mus.append(mu)
            variances.append(var)
        return all_paths, mus, variances

    return fn


@pytest.mark.parametrize(("kind", "hint"), [
    ("dithering", "dithering"),
    ("posterior_once", "never updated between trajectories"),
    ("prior_only", "never updated between trajectories"),
    ("last_only", "only the last trajectory"),
    ("dense_context", "dense reward leaks into the context"),
    ("posterior_from_start", "from the prior"),
    ("one_prior_z", "redraw z from the prior"),
    ("mean", "posterior mean"),
    ("global_rng", "generator"),
])
def test_posterior_sampling_check_catches(kind, hint):
    wrong = _sampling_mutant(kind)
    with pytest.raises(AssertionError, match=hint):
        checks.check_posterior_sampling(wrong)
    assert checks.run(checks.check_posterior_sampling, wrong) is False


def test_the_reference_mutant_without_a_mistake_passes():
    """The mutant factories are the reference when no mistake is planted."""
    assert checks.check_posterior_sampling(_sampling_mutant("none"))
    assert checks.check_critic_loss(_critic_mutant("none"))
    assert checks.check_actor_value_loss(_actor_mutant("none"))
    assert checks.check_sample_context(_sample_context_mutant("none"))
    assert checks.check_store_paths(_store_mutant("none"))


def _store_mutant(kind):
    def fn(rl_buffer, enc_buffer, slots, paths, to_enc, sparse_rewards_for_critic=False):
        for row, slot in enumerate(slots):
            p = paths.task(row)
            critic_r = p["reward"] if sparse_rewards_for_critic else p["dense_reward"]
            if kind == "critic_sparse":
                critic_r = p["reward"]
            enc_r = p["dense_reward"] if kind == "dense_context" else p["reward"]
            slot = row if kind == "wrong_slot" else slot
            trunc = p["terminated"] | p["truncated"] if kind == "merged_flags" else p["truncated"]
            rl_buffer.add(int(slot), p["obs"], p["act"], critic_r, p["next_obs"],
                          p["terminated"], trunc)
            if to_enc or kind == "ignore_to_enc":
                enc_buffer.add(int(slot), p["obs"], p["act"], enc_r, p["next_obs"],
                               p["terminated"], p["truncated"])

    return fn


@pytest.mark.parametrize(("kind", "hint"), [
    ("dense_context", "dense reward leaks into the sparse task's context"),
    ("critic_sparse", "critic's buffer got the sparse reward"),
    ("wrong_slot", "slots\\[i\\]"),
    ("merged_flags", "terminated and truncated"),
    ("ignore_to_enc", "to_enc=False"),
])
def test_store_paths_check_catches(kind, hint):
    wrong = _store_mutant(kind)
    with pytest.raises(AssertionError, match=hint):
        checks.check_store_paths(wrong)
    assert checks.run(checks.check_store_paths, wrong) is False


def test_store_paths_check_catches_an_ignored_option():
    def ignores_option(rl_buffer, enc_buffer, slots, paths, to_enc,
                       sparse_rewards_for_critic=False):
        return store_paths(rl_buffer, enc_buffer, slots, paths, to_enc)

    with pytest.raises(AssertionError, match="sparse_rewards_for_critic=True"):
        checks.check_store_paths(ignores_option)


def test_checks_pass_the_library_references():
    assert checks.check_sample_context(sample_context)
    assert checks.check_critic_loss(critic_loss)
    assert checks.check_actor_value_loss(actor_value_loss)
    assert checks.check_posterior_sampling(posterior_sampling)
    assert checks.check_store_paths(store_paths)
