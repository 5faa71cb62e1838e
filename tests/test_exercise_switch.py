"""``exercises.use("mine")``: the library trains with the learner's exercises.

A planted wrong implementation must change a short SAC run and a PEARL smoke run; a planted
correct one (the reference wrapped in a plain function) must leave them bit-identical; an
untouched stub falls back to the reference with a notice printed once.
"""

import hashlib
import os
import subprocess
import sys

import pytest
import torch

from pearl_lite import exercises
from pearl_lite.config import get_config
from pearl_lite.course import checks
from pearl_lite.exercises import ex2_encoder, ex3_sac, ex4_pearl, implementation, reference
from pearl_lite.pearl import MetaTrainer
from pearl_lite.pearl.sampler import rollout
from pearl_lite.sac import SACConfig, train_sac


@pytest.fixture
def mine():
    """``use("mine")`` for one test (plant functions *after* it: it reloads the modules)."""
    exercises.use("mine")
    yield
    exercises.use("reference")


def _plain_wrapper(module, name):
    """The reference, called from a plain function: a correct learner's implementation."""
    ref = reference(module, name)

    def fn(*args, **kwargs):
        return ref(*args, **kwargs)

    return fn


def _untouched(module, name):
    """A function that behaves like a stub nobody has filled in."""

    def fn(*args, **kwargs):
        raise NotImplementedError(f"Ex 9.9: implement {name} in {module}")

    return fn


# ---- the switch itself ------------------------------------------------------------------------


def test_reference_mode_returns_the_reference_itself():
    assert exercises.mode() == "reference"
    sentinel = object()
    assert implementation("ex3_sac.soft_q_target", sentinel) is sentinel


def test_use_rejects_unknown_modes():
    with pytest.raises(ValueError, match="'reference', 'mine'.*'bogus'"):
        exercises.use("bogus")
    assert exercises.mode() == "reference"


def _python(code, value):
    env = {**os.environ, exercises.ENV_VAR: value}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=120)


def test_environment_variable_sets_the_mode():
    res = _python("from pearl_lite import exercises; print(exercises.mode())", "mine")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "mine"
    bad = _python("import pearl_lite.exercises", "bogus")
    assert bad.returncode != 0
    assert "PEARL_LITE_EXERCISES must be one of ('reference', 'mine'), got 'bogus'" in bad.stderr


def test_a_learners_own_not_implemented_error_is_not_swallowed(mine, monkeypatch):
    def half_done(*args, **kwargs):
        raise NotImplementedError("my TODO")

    monkeypatch.setattr(ex3_sac, "soft_q_target", half_done)
    with pytest.raises(NotImplementedError, match="my TODO"):
        implementation("ex3_sac.soft_q_target", reference("ex3_sac", "soft_q_target"))(
            *[torch.zeros(2)] * 4, 0.9, 0.1)


def test_check_cells_see_the_file_not_a_stale_function(monkeypatch):
    """checks.run reloads the exercise's module: a function replaced in memory is re-read."""
    def stale(*args, **kwargs):
        return None

    stale.__module__, stale.__name__ = "pearl_lite.exercises.ex3_sac", "soft_q_target"
    monkeypatch.setattr(ex3_sac, "soft_q_target", stale)
    fresh = checks._reloaded(stale)
    assert fresh is not stale and fresh is ex3_sac.soft_q_target
    assert fresh.__code__.co_filename.endswith("ex3_sac.py")


# ---- SAC (notebook 3) with the learner's code --------------------------------------------------


def _sac_run():
    cfg = SACConfig(seed=0, batch_size=32, hidden_sizes=(16, 16), learning_starts=50,
                    device="cpu")
    agent, _ = train_sac("Pendulum-v1", cfg, total_steps=200, progress=False)
    return [p.detach().clone() for p in (*agent.actor.parameters(), *agent.critic.parameters(),
                                         agent.log_alpha)]


def _same(a, b):
    return len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


@pytest.fixture(scope="module")
def sac_reference():
    return _sac_run()


def _no_min_target(reward, next_q, next_log_prob, terminated, gamma, alpha):
    return reward + gamma * (1 - terminated) * (next_q.max(0).values - alpha * next_log_prob)


def _wrong_sign_temperature(log_alpha, log_prob, target_entropy):
    return (log_alpha * (log_prob + target_entropy).detach()).mean()


def _no_tanh_correction(u, mean, log_std):
    return torch.distributions.Normal(mean, log_std.exp()).log_prob(u).sum(-1)


SAC_WRONG = {"soft_q_target": _no_min_target, "temperature_loss": _wrong_sign_temperature,
             "tanh_gaussian_log_prob": _no_tanh_correction}


@pytest.mark.parametrize("name", list(SAC_WRONG))
def test_sac_trains_with_the_learners_code(name, sac_reference, mine, monkeypatch):
    monkeypatch.setattr(ex3_sac, name, SAC_WRONG[name])
    assert not _same(_sac_run(), sac_reference), f"a wrong {name} changed nothing"
    monkeypatch.setattr(ex3_sac, name, _plain_wrapper("ex3_sac", name))
    assert _same(_sac_run(), sac_reference), f"a correct {name} must be bit-identical"


def test_untouched_sac_stubs_fall_back_with_one_notice_each(sac_reference, mine, monkeypatch,
                                                            capsys):
    for name in SAC_WRONG:
        monkeypatch.setattr(ex3_sac, name, _untouched("ex3_sac", name))
    assert _same(_sac_run(), sac_reference)
    out = capsys.readouterr().out
    for name in SAC_WRONG:
        notice = f"[exercises] ex3_sac.{name} is not implemented yet: using the reference"
        assert out.count(notice) == 1, out


# ---- PEARL (notebook 4) with the learner's code ------------------------------------------------


def _pearl_run(env="point-robot", iterations=2):
    trainer = MetaTrainer(get_config(env, "smoke"), seed=0)
    rows = [{k: v for k, v in row.items() if not k.startswith(("time_", "wall_"))}
            for row in trainer.iterations(iterations)]
    h = hashlib.sha256()
    for t in trainer.agent.state_dict().values():
        h.update(t.detach().contiguous().numpy().tobytes())
    return rows, h.hexdigest()


@pytest.fixture(scope="module")
def pearl_reference():
    return {env: _pearl_run(env) for env in ("point-robot", "sparse-point-robot")}


def _context_from_all_data(rl_buffer, enc_buffer, task_slots, n, use_next_obs=False):
    return reference("ex4_pearl", "sample_context")(enc_buffer, rl_buffer, task_slots, n,
                                                    use_next_obs)


def _critic_z_detached(agent, batch, context, reward_scale, gamma, kl_lambda):
    sample_z = agent.sample_z
    agent.sample_z = lambda mu, var: sample_z(mu, var).detach()
    try:
        return reference("ex4_pearl", "critic_loss")(agent, batch, context, reward_scale, gamma,
                                                     kl_lambda)
    finally:
        del agent.sample_z


def _actor_no_regulariser(agent, obs, z, alpha, mean_reg, std_reg):
    return reference("ex4_pearl", "actor_value_loss")(agent, obs, z, alpha, 0.0, 0.0)


def _sampling_prior_only(agent, venv, n_trajs, num_exp_traj_eval, max_path_length,
                             generator, deterministic=True, env_seed=0):
    paths, mus, variances = [], [], []
    for k in range(n_trajs):
        mu, var = agent.prior(venv.num_envs)
        paths.append(rollout(agent.policy, venv, mu + var.sqrt() * torch.randn(
            mu.shape, generator=generator), max_path_length, deterministic, env_seed + k))
        mus.append(mu)
        variances.append(var)
    return paths, mus, variances


def _store_dense_in_context(rl_buffer, enc_buffer, slots, paths, to_enc,
                            sparse_rewards_for_critic=False):
    paths.reward = paths.dense_reward
    reference("ex4_pearl", "store_paths")(rl_buffer, enc_buffer, slots, paths, to_enc, True)


def _pog_plain_average(mu, var, dim=-2, mask=None):
    return mu.mean(dim), var.mean(dim)


PEARL_WRONG = {
    "sample_context": (ex4_pearl, _context_from_all_data, "point-robot"),
    "critic_loss": (ex4_pearl, _critic_z_detached, "point-robot"),
    "actor_value_loss": (ex4_pearl, _actor_no_regulariser, "point-robot"),
    "posterior_sampling": (ex4_pearl, _sampling_prior_only, "point-robot"),
    "store_paths": (ex4_pearl, _store_dense_in_context, "sparse-point-robot"),
    "product_of_gaussians": (ex2_encoder, _pog_plain_average, "point-robot"),
}


@pytest.mark.parametrize("name", list(PEARL_WRONG))
def test_pearl_trains_with_the_learners_code(name, pearl_reference, mine, monkeypatch):
    module, wrong, env = PEARL_WRONG[name]
    monkeypatch.setattr(module, name, wrong)
    assert _pearl_run(env) != pearl_reference[env], f"a wrong {name} changed nothing"
    monkeypatch.setattr(module, name, _plain_wrapper(module.__name__.rsplit(".", 1)[1], name))
    assert _pearl_run(env) == pearl_reference[env], f"a correct {name} must be bit-identical"


def test_untouched_pearl_stubs_fall_back_with_one_notice_each(pearl_reference, mine,
                                                              monkeypatch, capsys):
    names = [n for n, (m, _, _) in PEARL_WRONG.items() if m is ex4_pearl]
    for name in names:
        monkeypatch.setattr(ex4_pearl, name, _untouched("ex4_pearl", name))
    assert _pearl_run() == pearl_reference["point-robot"]
    out = capsys.readouterr().out
    for name in names:
        assert out.count(f"[exercises] ex4_pearl.{name} is not implemented yet") == 1, out


# ---- every lookup in the library names an exercise and passes its reference -------------------


def _lookups():
    import re
    from pathlib import Path

    import pearl_lite

    root = Path(pearl_lite.__file__).parent
    pattern = re.compile(r'implementation\(\s*"(\w+)\.(\w+)",\s*(\w+)\)')
    for path in sorted(root.rglob("*.py")):
        if "exercises" not in path.parts:
            for module, name, default in pattern.findall(path.read_text()):
                yield path.relative_to(root).as_posix(), module, name, default


def test_every_lookup_names_an_exercise_and_its_reference():
    found = list(_lookups())
    wired = {(m, n) for _, m, n, _ in found}
    for where, module, name, default in found:
        ref = reference(module, name)  # raises for an unknown exercise
        assert ref.__name__ == default, f"{where}: {module}.{name} falls back to {default}"
    # every exercise of notebooks 2-4 reaches the library; of notebook 1, the ELBO
    import importlib

    for module in ("ex2_encoder", "ex3_sac", "ex4_pearl"):
        for name in importlib.import_module(f"pearl_lite.exercises.{module}").REFERENCES:
            assert (module, name) in wired, f"{module}.{name} is never looked up"
    assert ("ex1_vae", "elbo") in wired


def _vae_run():
    from pearl_lite.course.data import load_digits
    from pearl_lite.course.vae import VAEConfig, train_vae

    data = load_digits()
    model, history = train_vae(VAEConfig(latent_dim=2, hidden_sizes=(16,), n_epochs=2,
                                         eval_every=1, batch_size=256), data)
    return [p.detach().clone() for p in model.parameters()], history["test_elbo"]


def test_vae_trains_with_the_learners_elbo(mine, monkeypatch):
    from pearl_lite.course.vae import ElboTerms

    exercises.use("reference")
    weights, test_elbo = _vae_run()
    exercises.use("mine")
    ref = reference("ex1_vae", "elbo")

    def kl_ignored(model, x, beta=1.0):
        t = ref(model, x, beta)
        return ElboTerms(t.recon_log_lik, t.kl, t.recon_log_lik)

    from pearl_lite.exercises import ex1_vae

    monkeypatch.setattr(ex1_vae, "elbo", kl_ignored)
    assert not _same(_vae_run()[0], weights)
    monkeypatch.setattr(ex1_vae, "elbo", _plain_wrapper("ex1_vae", "elbo"))
    got_weights, got_elbo = _vae_run()
    assert _same(got_weights, weights) and got_elbo == test_elbo


def test_a_check_cell_reports_a_file_that_does_not_load(monkeypatch, capsys):
    import importlib

    def broken(*args, **kwargs):
        return None

    broken.__module__, broken.__name__ = "pearl_lite.exercises.ex3_sac", "soft_q_target"
    monkeypatch.setattr(ex3_sac, "soft_q_target", broken)
    monkeypatch.setattr(importlib, "reload", lambda m: (_ for _ in ()).throw(
        SyntaxError("invalid syntax (ex3_sac.py, line 3)")))
    assert checks.run(checks.check_soft_q_target, broken) is False
    assert "does not load: SyntaxError" in capsys.readouterr().out
