"""Presets and the config dataclass (pearl_lite.config)."""

import dataclasses
import json

import pytest

from pearl_lite.config import ENV_NAMES, PRESETS, PEARLConfig, get_config
from pearl_lite.envs import ENV_NAMES as SUITE_NAMES


def test_every_family_of_the_suite_has_presets():
    assert set(ENV_NAMES) == set(SUITE_NAMES)


@pytest.mark.parametrize("env", ENV_NAMES)
@pytest.mark.parametrize("preset", PRESETS)
def test_presets_are_valid_and_round_trip(env, preset):
    cfg = get_config(env, preset)
    assert cfg.env == env and cfg.preset == preset
    d = json.loads(json.dumps(cfg.to_dict()))  # what config.json stores
    assert PEARLConfig.from_dict(d) == cfg


def test_paper_values_follow_the_official_configs():
    spr = get_config("sparse-point-robot", "paper")
    # configs/sparse-point-robot.json
    assert (spr.gamma, spr.reward_scale, spr.kl_lambda) == (0.9, 100.0, 1.0)
    assert (spr.num_steps_per_eval, spr.max_path_length, spr.num_exp_traj_eval) == (400, 20, 5)
    assert (spr.num_tasks_sample, spr.num_steps_prior, spr.num_steps_posterior) == (10, 100, 900)
    assert spr.embedding_batch_size == 1024 and spr.num_train_steps_per_itr == 1000
    assert spr.lr_final_fraction == 1.0  # the official learning rates are constant
    # configs/default.py
    cv = get_config("cheetah-vel", "paper")
    assert (cv.net_size, cv.latent_dim, cv.meta_batch, cv.batch_size) == (300, 5, 16, 256)
    assert (cv.kl_lambda, cv.reward_scale, cv.gamma, cv.tau) == (0.1, 5.0, 0.99, 0.005)
    assert (cv.num_iterations, cv.num_train_steps_per_itr, cv.embedding_batch_size) == \
        (500, 2000, 100)
    assert cv.encoder_hidden == (200, 200, 200)
    assert get_config("ant-goal", "paper").kl_lambda == 1.0
    assert get_config("walker-rand-params", "paper").use_next_obs_in_context
    assert get_config("cheetah-dir", "paper").meta_batch == 4


def test_lite_and_smoke_are_smaller_than_paper():
    for env in ENV_NAMES:
        paper, lite, smoke = (get_config(env, p) for p in PRESETS)
        assert lite.net_size < paper.net_size and smoke.net_size <= lite.net_size
        assert smoke.num_train_steps_per_itr < lite.num_train_steps_per_itr <= \
            paper.num_train_steps_per_itr
        # the algorithm's protocol is kept
        assert (lite.gamma, lite.reward_scale, lite.kl_lambda) == \
            (paper.gamma, paper.reward_scale, paper.kl_lambda)


def test_ant_dir_lite_preset():
    """ant-dir's own lite values (data/ant_dir_investigation.md); the protocol stays the paper's."""
    lite, paper = get_config("ant-dir", "lite"), get_config("ant-dir", "paper")
    assert lite.auto_entropy and lite.target_entropy is None  # learnt alpha, target -act_dim
    assert (lite.policy_lr, lite.qf_lr, lite.vf_lr, lite.context_lr) == (1e-3,) * 4
    assert lite.tau == 0.01
    assert (lite.meta_batch, lite.batch_size, lite.embedding_batch_size) == (4, 64, 64)
    assert (lite.num_train_steps_per_itr, lite.num_iterations) == (600, 100)  # 60,000 steps
    for field in ("gamma", "reward_scale", "kl_lambda", "num_steps_prior", "num_steps_posterior",
                  "num_extra_rl_steps_posterior", "num_steps_per_eval", "num_exp_traj_eval",
                  "eval_deterministic", "max_path_length", "latent_dim"):
        assert getattr(lite, field) == getattr(paper, field), field
    # the change is ant-dir's alone
    for env in ("cheetah-dir", "ant-goal", "cheetah-vel"):
        other = get_config(env, "lite")
        assert not other.auto_entropy and other.tau == 0.005 and other.batch_size == 128


def test_unknown_env_or_preset_lists_valid_values():
    with pytest.raises(ValueError, match="sparse-point-robot"):
        get_config("sparse-point", "lite")
    with pytest.raises(ValueError, match="paper, lite, smoke"):
        get_config("point-robot", "fast")
    with pytest.raises(ValueError, match="unknown config keys"):
        get_config("point-robot", "lite", learning_rate=1.0)


@pytest.mark.parametrize("field", ["num_iterations", "num_train_steps_per_itr", "meta_batch",
                                   "batch_size", "embedding_batch_size", "num_steps_per_eval"])
@pytest.mark.parametrize("value", [0, -5])
def test_non_positive_budget_is_rejected(field, value):
    with pytest.raises(ValueError, match=field):
        get_config("point-robot", "smoke", **{field: value})


def test_other_bad_values():
    for kw in ({"gamma": 1.0}, {"tau": 0.0}, {"encoder_kind": "lstm"}, {"kl_lambda": -1.0},
               {"num_steps_prior": -1}, {"n_tasks": 0}):
        with pytest.raises(ValueError):
            get_config("point-robot", "smoke", **kw)
    with pytest.raises(ValueError, match="unknown config keys"):
        PEARLConfig.from_dict({"env": "point-robot", "bogus": 1})


def test_every_field_has_a_docstring():
    import inspect

    import pearl_lite.config as mod

    src = inspect.getsource(mod.PEARLConfig)
    for f in dataclasses.fields(PEARLConfig):
        line = next(i for i, s in enumerate(src.splitlines()) if s.strip().startswith(f"{f.name}:"))
        assert src.splitlines()[line + 1].strip().startswith('"""'), f.name


def test_smoke_keeps_the_two_tasks_of_the_direction_families():
    """``_SMOKE``'s 8 tasks would not build cheetah-dir or ant-dir (exactly 2 tasks each)."""
    from pearl_lite.envs import make_env

    for env in ("cheetah-dir", "ant-dir"):
        cfg = get_config(env, "smoke")
        assert cfg.n_tasks is None
        assert len(make_env(env, n_tasks=cfg.n_tasks, seed=0).get_all_task_idx()) == 2


def test_sparse_sample_efficient_recipe_is_lite_with_the_papers_ratio_and_context():
    """SPARSE_SAMPLE_EFFICIENT changes only how much data and how many updates per iteration,
    and the context batch, to the official values; its whole run fits in the paper's ~1M steps."""
    from pearl_lite.config import SPARSE_SAMPLE_EFFICIENT
    from pearl_lite.envs import make_env

    lite = get_config("sparse-point-robot", "lite")
    paper = get_config("sparse-point-robot", "paper")
    se = get_config("sparse-point-robot", "lite", **SPARSE_SAMPLE_EFFICIENT)
    changed = {k for k, v in se.to_dict().items() if lite.to_dict()[k] != v}
    assert changed == {"num_tasks_sample", "num_train_steps_per_itr", "num_iterations",
                       "embedding_batch_size"}
    for field in ("num_tasks_sample", "num_train_steps_per_itr", "embedding_batch_size",
                  "num_steps_prior", "num_steps_posterior", "num_extra_rl_steps_posterior"):
        assert getattr(se, field) == getattr(paper, field), field
    n_train = make_env("sparse-point-robot", seed=0).n_train_tasks
    per_itr = se.num_tasks_sample * (se.num_steps_prior + se.num_steps_posterior
                                     + se.num_extra_rl_steps_posterior)
    total = n_train * se.num_initial_steps + se.num_iterations * per_itr
    assert total == 1_016_000  # the runs' progress.csv: 1,016,000 environment steps


def test_cheetah_vel_fast_recipe_keeps_lites_data_and_gradient_steps():
    """CHEETAH_VEL_FAST changes how the learner steps (temperature, learning rates) and which
    cores it uses, never how much data is collected or how many gradient steps are taken."""
    from pearl_lite.config import CHEETAH_VEL_FAST

    lite = get_config("cheetah-vel", "lite")
    fast = get_config("cheetah-vel", "lite", **CHEETAH_VEL_FAST)
    changed = {k for k, v in fast.to_dict().items() if lite.to_dict()[k] != v}
    assert changed == {"auto_entropy", "policy_lr", "qf_lr", "vf_lr", "context_lr",
                       "lr_final_fraction", "torch_threads", "async_collection"}
    assert fast.auto_entropy and fast.async_collection and fast.torch_threads == 2
    for lr in (fast.policy_lr, fast.qf_lr, fast.vf_lr, fast.context_lr):
        assert lr * fast.lr_final_fraction == pytest.approx(1e-4)
    for field in ("num_iterations", "num_train_steps_per_itr", "meta_batch", "batch_size",
                  "num_tasks_sample", "num_steps_prior", "num_extra_rl_steps_posterior",
                  "reward_scale", "kl_lambda"):
        assert getattr(fast, field) == getattr(lite, field), field
