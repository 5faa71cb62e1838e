"""sparse_misses, search_repeats (pearl_lite.course.pearl_measures) and scripts/sparse_misses.py."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from pearl_lite.course.pearl_measures import busiest_sector, search_repeats, sparse_misses

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


def test_search_repeats_counts_searches_of_empty_spots_until_the_goal_is_found():
    # one run, two tasks, three trajectories of two steps; the first trajectory is a prior one
    pos = np.zeros((1, 2, 3, 2, 2))
    pos[0, 0, 0] = [[0, 0.5], [0, 1]]    # prior: up to (0, 1), nothing there
    pos[0, 0, 1] = [[0, 0.5], [0, 1.05]]  # searches (0, 1) again: a repeat
    pos[0, 0, 2] = [[0.5, 0], [1, 0]]     # searches (1, 0), new: not a repeat
    success = np.zeros((1, 2, 3))
    success[0, 1, 0] = 1                  # task 1: found by the prior trajectory, not counted
    goals = np.array([[0.0, 1.0], [1.0, 0.0], [-1.0, 0.0], [0.7, 0.7]])
    m = search_repeats(pos, success, goals, num_exp_traj_eval=1)
    # before each counted search, 1 of the 4 goals lies within 0.1 of an empty spot: (0, 1)
    # searched at 90 degrees (a repeat) and at 0 degrees
    assert m == {"repeat": 0.5, "chance": 0.25, "n": 2, "sectors": [(0, 1), (0, 0), (1, 1), (0, 0)]}
    assert busiest_sector(m["sectors"]) == (90, 135, 1, 1)
    success[0, 0, 1] = 1                  # task 0 found by trajectory 1: only it is counted
    m = search_repeats(pos, success, goals, 1)
    assert (m["repeat"], m["chance"], m["n"]) == (1.0, 0.25, 1)
    assert np.isnan(search_repeats(pos, success, goals, 3)["repeat"])  # nothing counted


def test_search_repeats_reject_shapes_that_do_not_match():
    with pytest.raises(ValueError, match=r"\(runs, tasks, trajectories, H, 2\)"):
        search_repeats(np.zeros((1, 2, 3, 2, 2)), np.zeros((1, 2, 4)), np.zeros((4, 2)), 1)
    with pytest.raises(ValueError, match=r"goals must be \(G, 2\)"):
        search_repeats(np.zeros((1, 2, 3, 2, 2)), np.zeros((1, 2, 3)), np.zeros(4), 1)


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


def test_script_repeats_adds_two_fractions(capsys):
    run = ROOT / "data" / "sparse_point_robot_lite_decay_seed6"
    assert script.main([str(run), "--num-evals", "2", "--repeats"]) == 0
    head, _, row = capsys.readouterr().out.strip().splitlines()[-3:]
    assert head.split("|")[-4:-2] == [" searches repeated ", " chance "]
    repeat, chance = (float(x) for x in row.split("|")[-4:-2])
    assert "degrees (" in row.split("|")[-2]
    assert 0 <= repeat <= 1 and 0 < chance < 1
