"""sparse_misses, search_repeats, lost_goals, lost_beliefs (pearl_lite.course.pearl_measures) and
scripts/sparse_misses.py."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from pearl_lite.course.pearl_measures import (
    BELIEF_PARTS,
    busiest_sector,
    lost_beliefs,
    lost_goals,
    search_repeats,
    sparse_misses,
)

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


def _lost_and_kept_runs():
    """One run, two tasks with the goal at 90 degrees, four trajectories of two steps (the
    first from the prior): task 0 finds the goal by a graze and then misses 15 degrees to the
    left of it, on the side the graze came from; task 1 finds it dead centre and keeps it."""
    def aim(degrees, reach=1.0):
        a = np.radians(degrees)
        return [[0.5 * np.cos(a), 0.5 * np.sin(a)], [reach * np.cos(a), reach * np.sin(a)]]

    pos = np.zeros((1, 2, 4, 2, 2))
    pos[0, 0] = [aim(0), aim(99), aim(105), aim(105)]  # graze: 9 degrees off, 0.16 from the goal
    pos[0, 1] = [aim(0), aim(90), aim(90), aim(90)]
    success = np.array([[[0, 1, 0, 0], [0, 1, 1, 1]]])
    goals = np.array([[0.0, 1.0], [0.0, 1.0]])
    return pos, success, goals


def test_lost_goals_compares_the_find_and_the_later_hits_of_lost_and_kept_runs():
    pos, success, goals = _lost_and_kept_runs()
    m = lost_goals(pos, success, goals, num_exp_traj_eval=1)
    assert (m["found"], m["lost"]) == (2, 1)
    assert m["closest_kept"] == pytest.approx(0.0)
    assert m["closest_lost"] == pytest.approx(2 * np.sin(np.radians(4.5)))  # chord of 9 degrees
    assert (m["later_kept"], m["later_lost"]) == (1.0, 0.0)
    assert m["miss_angle"] == pytest.approx(15.0)
    assert m["same_side"] == 1.0
    pos[0, 0, 2:] = [np.array([[0.5, 0.0], [np.cos(np.radians(75)), np.sin(np.radians(75))]])] * 2
    m = lost_goals(pos, success, goals, num_exp_traj_eval=1)  # misses on the other side now
    assert (m["miss_angle"], m["same_side"]) == (pytest.approx(15.0), 0.0)


def test_lost_goals_is_nan_where_nothing_is_counted_and_rejects_a_goal_per_family():
    pos, success, goals = _lost_and_kept_runs()
    m = lost_goals(pos, np.zeros_like(success), goals, num_exp_traj_eval=1)
    assert (m["found"], m["lost"]) == (0, 0)
    assert all(np.isnan(m[k]) for k in ("closest_kept", "later_lost", "miss_angle", "same_side"))
    with pytest.raises(ValueError, match=r"goals must be \(tasks, 2\) = \(2, 2\)"):
        lost_goals(pos, success, np.zeros((100, 2)), 1)


def test_lost_beliefs_counts_the_same_runs_as_the_meta_test():
    from pearl_lite.envs import make_env
    from pearl_lite.pearl.meta_test import meta_test
    from pearl_lite.runtime.evaluate import load_agent

    # an agent that loses some goals it found (3 of its 20 runs with this seed)
    agent, cfg, _ = load_agent(ROOT / "data" / "sparse_point_robot_lite_fast_pc25_seed2")
    idx = make_env(cfg.env, n_tasks=cfg.n_tasks).test_task_idx
    res = meta_test(agent, cfg, idx, num_evals=1)
    b = lost_beliefs(agent, cfg, idx, num_evals=1)
    m = sparse_misses(res.success_runs)
    n = res.success_runs.shape[0] * res.success_runs.shape[1]
    assert set(b) == set(BELIEF_PARTS) and b["whole"]["lost"][1] > 0
    for part in BELIEF_PARTS:  # every part splits the same found runs into kept and lost
        assert b[part]["lost"][1] == round(m["lost"] * n)
        assert b[part]["kept"][1] == round((m["found"] - m["lost"]) * n)
        assert 0 <= b[part]["kept"][0] <= b[part]["kept"][1]


def test_script_lost_adds_the_found_then_lost_columns(capsys):
    run = ROOT / "data" / "sparse_point_robot_lite_decay_seed6"
    assert script.main([str(run), "--num-evals", "1", "--lost"]) == 0
    head, _, row = capsys.readouterr().out.strip().splitlines()[-3:]
    assert "first find's closest approach: kept / lost" in head
    assert row.split("|")[-2].strip().split(" of ")[0].count("/") == 2
