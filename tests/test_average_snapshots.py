"""scripts/average_snapshots.py: meta-testing the mean of a run's last K snapshots."""

import importlib.util
from pathlib import Path

import pytest
import torch

from pearl_lite.runtime import train as train_mod

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("average_snapshots_script",
                                              ROOT / "scripts" / "average_snapshots.py")
script = importlib.util.module_from_spec(spec)
spec.loader.exec_module(script)


def test_average_states_means_floats_and_keeps_the_last_counters():
    a = {"iteration": 5, "agent": {"w": torch.tensor([0.0, 2.0]), "n": torch.tensor(1)}}
    b = {"iteration": 10, "agent": {"w": torch.tensor([1.0, 6.0]), "n": torch.tensor(2)}}
    avg = script.average_states([a, b])
    assert avg["iteration"] == 10
    assert torch.equal(avg["agent"]["w"], torch.tensor([0.5, 4.0]))
    assert avg["agent"]["n"].item() == 2
    with pytest.raises(ValueError, match="no snapshots"):
        script.average_states([])


def test_window_is_the_last_k_snapshots_up_to_the_iteration():
    its = [5, 10, 15, 20]
    assert script.window_at(its, 15, 2) == [10, 15]
    assert script.window_at(its, 10, 5) == [5, 10]
    with pytest.raises(ValueError, match="no snapshot at iteration 12"):
        script.window_at(its, 12, 2)


def test_compare_on_a_short_run(tmp_path, capsys):
    run = tmp_path / "run"
    train_mod.train("point-robot", "smoke", 0, run, iterations=3, progress=False,
                    snapshot_every=1)
    one = script.compare(run, [3], window=1, num_evals=1)[0]
    assert one["single"] == one["average"] and one["measure"] == "final_return"
    three = script.compare(run, [3], window=3, num_evals=1)[0]
    assert (three["first"], three["n"]) == (1, 3)
    assert three["single"] == one["single"] and three["average"] != one["average"]
    text = script.table([one, three])
    assert text.startswith("| iteration | snapshot alone: return |")
    # bad input: a clear error line, no traceback
    assert script.main([str(run), "--at", "7"]) == 2
    assert "no snapshot at iteration 7" in capsys.readouterr().err
    assert script.main([str(tmp_path), "--at", "1"]) == 2
    assert "no snapshots in" in capsys.readouterr().err
