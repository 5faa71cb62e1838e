"""scripts/run_ablations.py: the variants are what they claim, and a smoke run writes its files."""

from __future__ import annotations

import importlib.util
import json
import sys

import numpy as np
import pytest

from pearl_lite.course.notebook_tools import ROOT
from pearl_lite.course.pearl_viz import load_ablation_results


@pytest.fixture(scope="module")
def ra():
    spec = importlib.util.spec_from_file_location("run_ablations",
                                                  ROOT / "scripts" / "run_ablations.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["run_ablations"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_deterministic_variant_has_no_distribution(ra):
    cfg = ra.variant_config("point-robot", "smoke", "deterministic", iterations=1)
    assert cfg.use_information_bottleneck is False and cfg.num_iterations == 1
    trainer = ra.make_trainer(cfg, "deterministic", seed=0)
    assert trainer.agent.encoder.kind == "mean"
    assert not trainer.agent.encoder.is_probabilistic
    with pytest.raises(ValueError, match="unknown variant"):
        ra.variant_config("point-robot", "smoke", "nope", iterations=1)


def test_all_data_context_comes_from_the_rl_buffer(ra):
    cfg = ra.variant_config("point-robot", "smoke", "all-data", iterations=1)
    trainer = ra.make_trainer(cfg, "all-data", seed=0)
    assert isinstance(trainer, ra.AllDataContextTrainer)
    trainer.train_iteration()

    def forbidden(*args, **kwargs):
        raise AssertionError("the all-data trainer must not read the encoder buffer")

    trainer.enc_buffer.sample = forbidden
    slots = np.array([0, 1])
    ctx = trainer.context_batch(slots)
    assert ctx.shape == (2, cfg.embedding_batch_size, 2 + 2 + 1)
    # Every context transition is one of the task's RL-buffer transitions.
    n = int(trainer.rl_buffer.sizes[0])
    stored = trainer.rl_buffer.data["obs"][0, :n]
    for obs in ctx[0, :, :2].numpy():
        assert np.isclose(stored, obs).all(axis=1).any()


def test_all_data_refuses_sparse_tasks(ra):
    cfg = ra.variant_config("sparse-point-robot", "smoke", "all-data", iterations=1)
    with pytest.raises(ValueError, match="dense reward"):
        ra.make_trainer(cfg, "all-data", seed=0)


def test_smoke_run_writes_results_and_skips_when_done(ra, tmp_path, capsys):
    args = ["--preset", "smoke", "--out", str(tmp_path), "--seeds", "0",
            "--variants", "default", "all-data", "--final-evals", "1"]
    assert ra.main(args) == 0
    meta = json.loads((tmp_path / "config.json").read_text())
    assert meta["command"].startswith("python scripts/run_ablations.py --preset smoke")
    assert set(meta["configs"]) == {"default", "all-data"}
    res = load_ablation_results(tmp_path)
    assert set(res) == {"default", "all-data"}
    final = res["default"]["final"][0]
    assert len(final["return_per_trajectory"]) == 3 and final["iterations"] == 2
    capsys.readouterr()
    assert ra.main(args) == 0  # complete runs are not redone
    assert capsys.readouterr().out.count("already there") == 2
