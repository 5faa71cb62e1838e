"""Seeding, smoke mode, device choice, the CSV logger and atomic writes."""

import json
import os

import numpy as np
import pytest
import torch

from pearl_lite import utils


def test_seed_everything_repeats_torch_and_numpy():
    rng1 = utils.seed_everything(3)
    a = (torch.rand(3), np.random.rand(3), rng1.random(3))
    rng2 = utils.seed_everything(3)
    b = (torch.rand(3), np.random.rand(3), rng2.random(3))
    assert torch.equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_array_equal(a[2], b[2])


@pytest.mark.parametrize("bad", [-1, 1.5, "3"])
def test_seed_everything_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        utils.seed_everything(bad)


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("0", False), ("", False),
                                                 ("true", True), ("no", False)])
def test_smoke_mode_and_budget(monkeypatch, value, expected):
    monkeypatch.setenv("PEARL_LITE_SMOKE", value)
    assert utils.smoke_mode() is expected
    assert utils.budget(100, 2) == (2 if expected else 100)


def test_get_device():
    assert utils.get_device("cpu") == torch.device("cpu")
    assert utils.get_device().type in ("cpu", "cuda")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="cuda"):
            utils.get_device("cuda")


def test_csv_logger_roundtrip_and_append(tmp_path):
    path = tmp_path / "log" / "progress.csv"
    log = utils.CSVLogger(path)
    log.write({"step": 1, "return": -3.25, "loss": torch.tensor(0.5)})
    log.write({"step": 2, "return": -1.0})  # a missing key is an empty cell
    log2 = utils.CSVLogger(path, append=True)
    log2.write({"step": 3, "return": 0.0, "loss": 0.1})
    data = utils.read_csv(path)
    np.testing.assert_allclose(data["step"], [1, 2, 3])
    np.testing.assert_allclose(data["return"], [-3.25, -1.0, 0.0])
    assert np.isnan(data["loss"][1]) and data["loss"][0] == 0.5
    with pytest.raises(ValueError, match="not in the header"):
        log2.write({"step": 4, "new_column": 1})


def test_atomic_writes_leave_old_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "config.json"
    utils.atomic_write_json(path, {"a": 1})
    assert json.loads(path.read_text()) == {"a": 1}

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        utils.atomic_write_json(path, {"a": 2})
    with pytest.raises(OSError, match="disk full"):
        utils.atomic_torch_save({"w": torch.ones(2)}, tmp_path / "ckpt.pt")
    monkeypatch.undo()
    assert json.loads(path.read_text()) == {"a": 1}  # the old file is intact
    assert not (tmp_path / "ckpt.pt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json"]  # no temp files left


def test_atomic_torch_save_roundtrip(tmp_path):
    utils.atomic_torch_save({"w": torch.arange(3)}, tmp_path / "a" / "ckpt.pt")
    assert torch.equal(torch.load(tmp_path / "a" / "ckpt.pt")["w"], torch.arange(3))
