"""sparse_misses (pearl_lite.course.pearl_measures) and scripts/sparse_misses.py."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from pearl_lite.course.pearl_measures import sparse_misses

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "sparse_misses.py"
spec = importlib.util.spec_from_file_location("sparse_misses_script", SCRIPT)
script = importlib.util.module_from_spec(spec)
spec.loader.exec_module(script)


def test_misses_split_never_found_from_found_then_lost():
    # one meta-test run, four tasks, three trajectories
    s = np.array([[[0, 1, 1],    # found, kept
                   [1, 0, 0],    # found, lost
                   [0, 0, 0],    # never found
                   [0, 0, 1]]])  # the last one finds it without an earlier one
    m = sparse_misses(s)
    assert m == {"final": 0.5, "found": 0.5, "lost": 0.25, "never": 0.5, "lucky": 0.25}
    assert m["final"] == pytest.approx(m["found"] - m["lost"] + m["lucky"])


def test_misses_reject_a_shape_without_runs_tasks_and_trajectories():
    with pytest.raises(ValueError, match=r"\(runs, tasks, trajectories\)"):
        sparse_misses(np.zeros((4, 20)))
    with pytest.raises(ValueError, match="at least 2"):
        sparse_misses(np.zeros((1, 4, 1)))


def test_script_on_a_shipped_agent_and_on_a_dense_run(capsys):
    run = ROOT / "data" / "sparse_point_robot_lite_decay_seed6"
    assert script.main([str(run), "--num-evals", "1"]) == 0
    row = capsys.readouterr().out.strip().splitlines()[-1].split("|")
    final, found, lost, never = (float(x) for x in row[2:6])
    assert final == pytest.approx(found - lost, abs=0.051)  # "lucky" is rare; rounding
    assert never == pytest.approx(1 - found, abs=0.011)
    assert script.main([str(ROOT / "data" / "cheetah_vel_lite"), "--num-evals", "1"]) == 1
    assert "only sparse-point-robot" in capsys.readouterr().err


def test_script_snapshots_give_a_row_per_snapshot_then_the_final_agent(tmp_path, capsys):
    import shutil

    src = ROOT / "data" / "sparse_point_robot_lite_decay_seed6"
    run = tmp_path / "run"
    shutil.copytree(src, run)
    (run / "snapshots").mkdir()
    shutil.copy(src / "agent.pt", run / "snapshots" / "agent_it0500.pt")
    assert script.main([str(run), "--num-evals", "1", "--snapshots"]) == 0
    rows = [r for r in capsys.readouterr().out.splitlines() if r.startswith("| run")][-2:]
    assert [r.split("|")[1].strip() for r in rows] == ["run agent_it0500", "run"]
    assert rows[0].split("|")[2:] == rows[1].split("|")[2:]  # the same networks, same numbers
