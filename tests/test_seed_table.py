"""scripts/seed_table.py: time and data to a solution per seed, from snapshots.json."""

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "seed_table.py"
spec = importlib.util.spec_from_file_location("seed_table", SCRIPT)
seed_table = importlib.util.module_from_spec(spec)
spec.loader.exec_module(seed_table)


def _run(tmp_path, name, seed, successes):
    d = tmp_path / name
    d.mkdir()
    (d / "config.json").write_text(json.dumps({"seed": seed}))
    snaps = [{"iteration": 25 * (i + 1), "env_steps": 400_000 * (i + 1),
              "wall_clock_min": 2.0 * (i + 1), "final_success": s}
             for i, s in enumerate(successes)]
    (d / "snapshots.json").write_text(json.dumps({"snapshots": snaps[::-1]}))  # any order
    return d


def test_rows_and_summary(tmp_path):
    stays = _run(tmp_path, "a", 0, [0.2, 0.5, 0.85, 0.9, 0.8, 0.95])
    dips = _run(tmp_path, "b", 1, [0.3, 0.81, 0.7, 0.9])
    never = _run(tmp_path, "c", 2, [0.1, 0.79])
    rows = [seed_table.seed_row(d, 0.8) for d in (stays, dips, never)]
    a, b, c = rows
    assert (a["first_min"], a["first_steps"], a["first_iteration"]) == (6.0, 1_200_000, 75)
    assert a["stays"] and a["min_after"] == 0.8 and a["last"] == 0.95
    assert b["first_iteration"] == 50 and not b["stays"] and b["min_after"] == 0.7
    assert c["first_min"] is None and not c["stays"]
    # settles: a from its first 0.8 (it stays); b only after its dip, at the last snapshot
    assert (a["settled_min"], a["settled_iteration"]) == (6.0, 75)
    assert (b["settled_min"], b["settled_iteration"]) == (8.0, 100)
    assert c["settled_min"] is None
    text = seed_table.table(rows, 0.8)
    assert "| c | 2 | never | |  |  | never | 0.79 |" in text
    assert "| b | 1 | 4.0 | 0.80M | 50 | no (0.70) | 8.0 (100) | 0.90 |" in text
    assert "2 of 3 runs reach 0.8 (minutes to the first such snapshot: median 5.0, worst 6.0), " \
           "1 stay at or above it; 2 settle (at or above it from some snapshot to the end: " \
           "median 7.0 min, worst 8.0); 1 end with a mean of the last five snapshots >= 0.8" \
           in text


def test_missing_snapshots_and_dense_runs_are_clear_errors(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert seed_table.main([str(tmp_path / "empty")]) == 1
    assert "snapshots.json is missing" in capsys.readouterr().err
    dense = _run(tmp_path, "dense", 0, [None])
    with pytest.raises(ValueError, match="no success rates"):
        seed_table.seed_row(dense, 0.8)
