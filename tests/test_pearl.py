"""PEARL's agent, batched update, data protocol and meta-testing (pearl_lite.pearl)."""

import numpy as np
import pytest
import torch

from pearl_lite.config import get_config
from pearl_lite.envs import make_vector_env
from pearl_lite.pearl import MetaTrainer, PEARLAgent, PEARLLearner, meta_test
from pearl_lite.pearl.sampler import rollout

OBS, ACT, LATENT, T, B, N = 3, 2, 4, 5, 7, 6


def _small_cfg(**kw):
    return get_config("point-robot", "smoke", latent_dim=LATENT, **kw)


def _batch(gen):
    return {"obs": torch.randn(T, B, OBS, generator=gen), "act": torch.rand(T, B, ACT,
                                                                           generator=gen) * 2 - 1,
            "rew": torch.randn(T, B, generator=gen), "next_obs": torch.randn(T, B, OBS,
                                                                            generator=gen),
            "terminated": torch.zeros(T, B)}


def _learner(seed=0, **kw):
    torch.manual_seed(seed)
    cfg = _small_cfg(**kw)
    agent = PEARLAgent(OBS, ACT, cfg)
    return agent, PEARLLearner(agent, cfg), cfg


def test_batched_update_shapes_and_finite_losses():
    agent, learner, _ = _learner()
    gen = torch.Generator().manual_seed(0)
    context = torch.randn(T, N, OBS + ACT + 1, generator=gen)
    c = learner.critic_loss(_batch(gen), context)
    assert c["q"].shape == (2, T * B) and c["z_rep"].shape == (T * B, LATENT)
    assert c["mu"].shape == c["var"].shape == (T, LATENT)
    # z is constant within a task and differs between tasks
    z = c["z_rep"].view(T, B, LATENT)
    assert torch.equal(z, z[:, :1].expand_as(z)) and not torch.equal(z[0], z[1])
    stats = learner.update(_batch(gen), context)
    for k in ("qf_loss", "vf_loss", "policy_loss", "kl", "alpha", "z_var"):
        assert stats[k].dim() == 0 and torch.isfinite(stats[k]), k


def test_encoder_gets_gradient_from_critic_loss_only():
    """Hooks record which parameters receive gradients; a marker splits the critic backward
    pass from the actor/value one. The encoder may appear only in the first."""
    agent, learner, _ = _learner()
    events = []
    for name, mod in (("encoder", agent.encoder), ("qf", agent.qf), ("policy", agent.policy),
                      ("vf", agent.vf)):
        for p in mod.parameters():
            p.register_hook(lambda g, name=name: events.append((name, bool(g.abs().sum() > 0))))
    step = learner.critic_opt.step
    learner.critic_opt.step = lambda: (events.append(("|", True)), step())
    gen = torch.Generator().manual_seed(1)
    learner.update(_batch(gen), torch.randn(T, N, OBS + ACT + 1, generator=gen))
    names = [n for n, _ in events]
    split = names.index("|")
    assert set(names[:split]) == {"encoder", "qf"}, "critic loss: critics and encoder"
    assert set(names[split + 1:]) == {"policy", "vf"}, \
        "the actor/value loss must reach neither the encoder (z detached) nor the critics' weights"
    assert any(nonzero for n, nonzero in events if n == "encoder")


def test_kl_term_is_weighted_by_kl_lambda():
    gen = torch.Generator().manual_seed(2)
    batch, context = _batch(gen), torch.randn(T, N, OBS + ACT + 1, generator=gen)
    losses = {}
    for lam in (0.0, 2.5):
        agent, learner, _ = _learner(kl_lambda=lam)
        torch.manual_seed(7)  # same z sample in both
        losses[lam] = learner.critic_loss(batch, context)
    kl = losses[0.0]["kl"]
    assert kl > 0
    torch.testing.assert_close(losses[2.5]["kl"], kl)
    torch.testing.assert_close(losses[2.5]["qf_loss"], losses[0.0]["qf_loss"])
    torch.testing.assert_close(losses[0.0]["loss"], losses[0.0]["qf_loss"])
    torch.testing.assert_close(losses[2.5]["loss"], losses[2.5]["qf_loss"] + 2.5 * kl)
    # KL summed over the tasks of the meta-batch (official), each task's KL to N(0, I)
    mu, var = losses[0.0]["mu"], losses[0.0]["var"]
    expected = 0.5 * (var + mu**2 - 1 - var.log()).sum()
    torch.testing.assert_close(kl, expected)


def _terminated_stops_the_bootstrap(learner, batch, context):
    """The same critic loss (same z sample) with every transition alive and then terminated."""
    torch.manual_seed(0)
    q_alive = learner.critic_loss(batch, context)["qf_loss"]
    batch["terminated"] = torch.ones(T, B)
    torch.manual_seed(0)
    q_dead = learner.critic_loss(batch, context)["qf_loss"]
    return not torch.isclose(q_alive, q_dead)


def test_q_target_bootstraps_through_truncation_only():
    agent, learner, cfg = _learner()
    gen = torch.Generator().manual_seed(3)
    batch, context = _batch(gen), torch.randn(T, N, OBS + ACT + 1, generator=gen)
    with torch.no_grad():
        agent.target_vf.net[-1].bias.fill_(10.0)  # a large V-bar makes the bootstrap visible
    assert _terminated_stops_the_bootstrap(learner, batch, context)


def test_without_a_value_network_the_q_target_comes_from_target_q_networks():
    """``use_value_network=False`` (SAC v2's critic): no V, the bootstrap is min Q-bar - alpha
    log pi at a fresh a' ~ pi(s', z), and Q-bar trails Q by tau."""
    agent, learner, cfg = _learner(use_value_network=False, auto_entropy=True)
    assert agent.vf is None and agent.target_vf is None and agent.target_qf is not None
    assert _learner()[0].target_qf is None  # the paper's default keeps V and V-bar
    assert len(learner.actor_opt.param_groups) == 1  # the policy alone
    obs_z = torch.randn(B, OBS + LATENT)
    with torch.no_grad():
        agent.log_alpha.fill_(np.log(0.3))
        torch.manual_seed(5)
        got = agent.v(obs_z, target=True)
        torch.manual_seed(5)
        act, log_pi = agent.policy(obs_z).rsample()
        want = agent.target_qf(obs_z, act).min(dim=0).values - 0.3 * log_pi
    torch.testing.assert_close(got, want)
    with pytest.raises(ValueError, match="no value network"):
        agent.v(obs_z)

    gen = torch.Generator().manual_seed(3)
    batch, context = _batch(gen), torch.randn(T, N, OBS + ACT + 1, generator=gen)
    with torch.no_grad():  # a large Q-bar makes the bootstrap visible, as V-bar above
        list(agent.target_qf.parameters())[-1].fill_(10.0)  # the output layer's bias
    assert _terminated_stops_the_bootstrap(learner, batch, context)

    before = [p.clone() for p in agent.target_qf.parameters()]
    stats = learner.update(batch, context)
    assert stats["vf_loss"] == 0 and torch.isfinite(stats["policy_loss"])
    for old, q, new in zip(before, agent.qf.parameters(), agent.target_qf.parameters(),
                           strict=True):
        torch.testing.assert_close(new, (1 - cfg.tau) * old + cfg.tau * q.detach())


@pytest.fixture(scope="module")
def sparse_trainer():
    torch.manual_seed(0)
    cfg = get_config("sparse-point-robot", "smoke", num_steps_prior=20, num_steps_posterior=40,
                     num_extra_rl_steps_posterior=20, num_tasks_sample=2)
    tr = MetaTrainer(cfg, seed=0)
    tr.train_iteration()
    return tr


def test_dense_reward_for_critic_sparse_reward_in_context(sparse_trainer):
    tr = sparse_trainer
    goals = np.stack([t["goal"] for t in tr.env.tasks])[tr.train_tasks]
    for slot in range(len(tr.train_tasks)):
        n = tr.rl_buffer.size(slot)
        nxt = tr.rl_buffer.data["next_obs"][slot, :n]
        dist = np.linalg.norm(nxt - goals[slot], axis=-1)
        np.testing.assert_allclose(tr.rl_buffer.data["rew"][slot, :n], -dist, atol=1e-5)
        m = tr.enc_buffer.size(slot)
        nxt = tr.enc_buffer.data["next_obs"][slot, :m]
        dist = np.linalg.norm(nxt - goals[slot], axis=-1)
        sparse = np.where(dist <= 0.2, 1 - dist, 0.0)
        np.testing.assert_allclose(tr.enc_buffer.data["rew"][slot, :m], sparse, atol=1e-5)
    # the context tensor's reward column (after obs and act) comes from the encoder buffer
    ctx = tr.context_batch(np.arange(len(tr.train_tasks)), 50)
    r = ctx[..., OBS - 1 + 2].numpy()  # obs 2 + act 2 -> reward at index 4
    assert ((r == 0) | ((r >= 0.8 - 1e-6) & (r <= 1))).all()


def test_fully_sparse_variant_trains_critic_on_sparse_reward():
    cfg = get_config("sparse-point-robot", "smoke", sparse_rewards_for_critic=True)
    tr = MetaTrainer(cfg, seed=0)
    tr.collect(np.arange(2), 20, posterior=False, to_enc=True)
    r = tr.rl_buffer.data["rew"][:2, :20]
    assert (r >= 0).all()


def test_encoder_buffer_holds_only_recent_data(sparse_trainer):
    tr = sparse_trainer
    cfg = tr.cfg
    before_rl = tr.rl_buffer.sizes.copy()
    tr.train_iteration()
    grown = np.flatnonzero(tr.rl_buffer.sizes != before_rl)
    assert len(grown) == cfg.num_tasks_sample
    for slot in grown:
        recent = cfg.num_steps_prior + cfg.num_steps_posterior
        assert tr.enc_buffer.size(slot) == recent  # cleared, then refilled
        assert tr.rl_buffer.size(slot) == before_rl[slot] + recent + \
            cfg.num_extra_rl_steps_posterior  # the RL buffer keeps everything
        # the encoder buffer's data are the newest prior + posterior transitions
        start = before_rl[slot]
        np.testing.assert_array_equal(tr.enc_buffer.data["obs"][slot, :recent],
                                      tr.rl_buffer.data["obs"][slot, start:start + recent])
    untouched = np.setdiff1d(np.arange(len(tr.train_tasks)), grown)
    assert all(tr.enc_buffer.size(s) > 0 for s in untouched)


@pytest.mark.parametrize("keep", [50, 10_000])
def test_kept_encoder_buffer_holds_older_iterations_too(keep):
    """``enc_buffer_size``: nothing is cleared; the buffer grows up to that size, then keeps
    the latest transitions (a ring)."""
    cfg = get_config("point-robot", "smoke", enc_buffer_size=keep)
    tr = MetaTrainer(cfg, seed=0)
    tr.train_iteration()  # the initial data and one round
    enc_before, rl_before = tr.enc_buffer.sizes.copy(), tr.rl_buffer.sizes.copy()
    tr.train_iteration()
    grown = np.flatnonzero(tr.rl_buffer.sizes > rl_before)
    assert len(grown) == cfg.num_tasks_sample
    new = cfg.num_steps_prior + cfg.num_steps_posterior
    for slot in grown:
        size = tr.enc_buffer.size(slot)
        assert size == min(enc_before[slot] + new, keep)  # not emptied first
        # oldest first, then the newest `new` are the round's prior + posterior transitions
        stored = np.roll(tr.enc_buffer.data["obs"][slot, :size], -tr.enc_buffer.pos[slot], 0) \
            if size == tr.enc_buffer.capacity else tr.enc_buffer.data["obs"][slot, :size]
        n_rl = tr.rl_buffer.size(slot) - cfg.num_extra_rl_steps_posterior
        np.testing.assert_array_equal(stored[-new:],
                                      tr.rl_buffer.data["obs"][slot, n_rl - new:n_rl])
    assert tr.enc_buffer.capacity <= keep


def test_enc_buffer_size_must_be_positive():
    with pytest.raises(ValueError, match="enc_buffer_size must be a positive integer or None"):
        get_config("point-robot", "smoke", enc_buffer_size=0)


def test_prior_context_fraction_draws_those_rows_from_the_prior_phase_only():
    """The first round(fraction * meta_batch) rows of a training context come from the first
    num_steps_prior transitions of the task's encoder buffer (z ~ prior); the rest from all of
    it. Fraction 0 is the paper's sampler, draw for draw."""
    cfg = get_config("sparse-point-robot", "smoke", num_steps_prior=20, num_steps_posterior=40,
                     num_tasks_sample=2, meta_batch=4, embedding_batch_size=200,
                     prior_context_fraction=0.5)
    tr = MetaTrainer(cfg, seed=0)
    tr.train_iteration()  # initial data for all tasks, then a round for two of them
    visited = np.flatnonzero(tr.enc_buffer.sizes == 60)  # emptied, then 20 prior + 40 posterior
    assert len(visited) == 2
    slots = np.repeat(visited, 2)
    ctx = tr.train_context_batch(slots)
    assert ctx.shape[:2] == (4, 200)
    d = tr.enc_buffer.obs_dim
    for row, slot in enumerate(slots):
        seen = {tuple(o) for o in ctx[row, :, :d].numpy().round(5)}
        n = tr.enc_buffer.size(slot)
        first = {tuple(o) for o in tr.enc_buffer.data["obs"][slot, :20].round(5)}
        rest = {tuple(o) for o in tr.enc_buffer.data["obs"][slot, 20:n].round(5)}
        if row < 2:
            assert seen <= first
        else:  # 200 draws from all n: some come from later than the prior phase
            assert seen & (rest - first)
    plain = get_config("sparse-point-robot", "smoke")
    a = MetaTrainer(plain, seed=0)  # each trainer seeds torch's global RNG: one at a time
    a.train_iteration()
    b = MetaTrainer(plain, seed=0)
    b.train_iteration()
    s = np.arange(4)
    torch.testing.assert_close(a.train_context_batch(s), b.context_batch(s))


def test_prior_context_fraction_needs_prior_data_first():
    with pytest.raises(ValueError, match=r"prior_context_fraction must be in \[0, 1\]"):
        get_config("sparse-point-robot", "smoke", prior_context_fraction=1.5)
    with pytest.raises(ValueError, match="needs num_steps_prior > 0 and enc_buffer_size=None"):
        get_config("sparse-point-robot", "smoke", prior_context_fraction=0.25,
                   enc_buffer_size=1000)
    with pytest.raises(ValueError, match="needs num_steps_prior > 0"):
        get_config("sparse-point-robot", "smoke", prior_context_fraction=0.25,
                   num_steps_prior=0)


def test_meta_test_adaptation_curve(sparse_trainer):
    tr = sparse_trainer
    cfg = tr.cfg
    tasks = tr.test_tasks
    res = meta_test(tr.agent, cfg, tasks, n_trajs=4, num_exp_traj_eval=2, seed=0)
    assert res.returns.shape == (len(tasks), 4)
    assert res.success.shape == (len(tasks), 4)
    assert len(res.paths) == 4 and res.z_var.shape == (4, len(tasks), cfg.latent_dim)
    np.testing.assert_array_equal(res.z_var[:2], 1.0)  # prior for the exploration trajectories
    assert (res.z_var[2:] < 1.0).all()  # then the posterior of the context gathered so far
    assert np.isfinite(res.final_return) and 0.0 <= res.final_success <= 1.0
    # every run's success is kept: its mean over runs is `success`, its first run the paths'
    runs = meta_test(tr.agent, cfg, tasks, n_trajs=4, num_exp_traj_eval=2, num_evals=3, seed=0)
    assert runs.success_runs.shape == (3, len(tasks), 4)
    np.testing.assert_allclose(runs.success_runs.mean(0), runs.success)
    np.testing.assert_array_equal(runs.success_runs[0],
                                  np.stack([p.reached for p in runs.paths], axis=1))
    # the official protocol by default: 400 steps = 20 trajectories, 5 from the prior
    full = meta_test(tr.agent, get_config("sparse-point-robot", "paper", n_tasks=8), tasks[:1],
                     num_evals=1)
    assert full.returns.shape == (1, 20)
    np.testing.assert_array_equal(full.z_var[:5], 1.0)
    assert (full.z_var[5:] < 1.0).all()
    # evaluating does not disturb the training RNG
    state = torch.get_rng_state()
    meta_test(tr.agent, cfg, tasks, n_trajs=2, seed=1)
    assert torch.equal(state, torch.get_rng_state())


def test_sampler_marks_time_limit_as_truncation():
    cfg = _small_cfg()
    agent = PEARLAgent(2, 2, cfg)
    venv = make_vector_env("point-robot", [0, 1, 2], seed=0)
    p = rollout(agent.policy, venv, torch.zeros(3, LATENT), max_path_length=20, seed=0)
    assert p.obs.shape == (3, 20, 2) and p.valid.all()
    assert not p.terminated.any() and p.truncated[:, -1].all() and not p.truncated[:, :-1].any()
    np.testing.assert_array_equal(p.obs[:, 1:], p.next_obs[:, :-1])


def test_same_seed_same_first_100_updates():
    def run():
        cfg = get_config("point-robot", "smoke", num_train_steps_per_itr=100, num_iterations=1)
        tr = MetaTrainer(cfg, seed=3)
        losses = []
        orig = tr.gradient_step

        def spy(batch, context):
            out = orig(batch, context)
            losses.append(torch.stack([out["qf_loss"], out["vf_loss"], out["policy_loss"]]))
            return out

        tr.gradient_step = spy
        tr.train_iteration()
        return torch.stack(losses), tr.agent.state_dict()

    (l1, s1), (l2, s2) = run(), run()
    assert l1.shape == (100, 3)
    assert torch.equal(l1, l2)
    for k in s1:
        assert torch.equal(s1[k], s2[k]), k
    # a different seed gives different updates (the test can fail)
    cfg = get_config("point-robot", "smoke", num_train_steps_per_itr=1)
    other = MetaTrainer(cfg, seed=4)
    assert not all(torch.equal(v, s1[k]) for k, v in other.agent.state_dict().items())


def test_auto_entropy_learns_alpha():
    agent, learner, _ = _learner(auto_entropy=True)
    gen = torch.Generator().manual_seed(5)
    before = agent.log_alpha.detach().clone()
    stats = learner.update(_batch(gen), torch.randn(T, N, OBS + ACT + 1, generator=gen))
    assert stats["alpha"] == 1.0 and not torch.equal(agent.log_alpha.detach(), before)
    fixed, fixed_learner, _ = _learner()
    fixed_learner.update(_batch(gen), torch.randn(T, N, OBS + ACT + 1, generator=gen))
    assert fixed.log_alpha.item() == 0.0  # the official fixed alpha = 1


@pytest.mark.parametrize("kind", ["mean", "recurrent"])
def test_encoder_ablations_train(kind):
    cfg = get_config("sparse-point-robot", "smoke", encoder_kind=kind, num_iterations=1)
    tr = MetaTrainer(cfg, seed=0)
    row = tr.train_iteration()
    assert np.isfinite(row["qf_loss"]) and row["test_success"] >= 0.0
    if kind == "mean":
        assert row["kl"] == 0.0  # a point estimate: no information bottleneck


def test_learning_rates_decay_linearly_to_the_final_fraction():
    cfg = get_config("point-robot", "smoke", num_iterations=5, lr_final_fraction=0.2,
                     qf_lr=1e-3, context_lr=2e-3, policy_lr=3e-3, vf_lr=4e-3)
    tr = MetaTrainer(cfg, seed=0)
    seen = []
    for _ in tr.iterations():
        seen.append([g["lr"] for opt in (tr.learner.critic_opt, tr.learner.actor_opt)
                     for g in opt.param_groups])
    scale = np.array([1.0, 0.8, 0.6, 0.4, 0.2])  # iterations 0..4: from 1 down to 0.2
    np.testing.assert_allclose(np.array(seen), scale[:, None] * [1e-3, 2e-3, 3e-3, 4e-3])
    # the official constant learning rate
    const = MetaTrainer(get_config("point-robot", "smoke", num_iterations=3), seed=0)
    assert [const.learner.lr_scale(i) for i in range(3)] == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="lr_final_fraction must be in"):
        get_config("point-robot", "smoke", lr_final_fraction=0.0)


def test_eval_tau_meta_tests_a_polyak_average_of_the_weights(monkeypatch):
    from pearl_lite.pearl import meta_train

    tau = 0.25
    tested = []
    orig = meta_train.meta_test
    monkeypatch.setattr(meta_train, "meta_test",
                        lambda agent, *a, **kw: tested.append(agent) or orig(agent, *a, **kw))
    avg = MetaTrainer(get_config("sparse-point-robot", "smoke", eval_tau=tau), seed=1)
    assert avg.eval_agent is not avg.agent
    for _ in range(2):
        before = {k: v.clone() for k, v in avg.eval_agent.state_dict().items()}
        avg.train_iteration()
        online = avg.agent.state_dict()
        for k, v in avg.eval_agent.state_dict().items():
            if v.is_floating_point():  # avg <- (1 - tau) avg + tau online
                torch.testing.assert_close(v, (1 - tau) * before[k] + tau * online[k])
    latest = MetaTrainer(get_config("sparse-point-robot", "smoke"), seed=1)  # re-seeds torch
    assert latest.eval_agent is latest.agent
    for _ in range(2):
        latest.train_iteration()
    # the average is what is meta-tested; it is not the latest weights
    assert tested[0] is avg.eval_agent and tested[-1] is latest.agent
    assert not torch.equal(next(avg.eval_agent.policy.parameters()),
                           next(avg.agent.policy.parameters()))
    # collection and training never see the average: the same run as eval_tau = 1
    for k, v in latest.agent.state_dict().items():
        assert torch.equal(v, avg.agent.state_dict()[k]), k
    for bad in (0.0, 1.5):
        with pytest.raises(ValueError, match=r"eval_tau must be in \(0, 1\]"):
            get_config("sparse-point-robot", "smoke", eval_tau=bad)
