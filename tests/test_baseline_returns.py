"""scripts/baseline_returns.py: the floor of trivial policies (tiny run, point robot)."""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "baseline_returns.py"


def test_prints_one_row_per_family_with_the_zero_action_return():
    r = subprocess.run([sys.executable, str(SCRIPT), "point-robot", "--steps", "5"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    row = next(line for line in r.stdout.splitlines() if line.startswith("| point-robot |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "20"  # the official 20 test goals
    # Standing still for 5 steps: reward = -distance to the goal each step, so negative.
    assert float(cells[2]) < 0


def test_rejects_an_unknown_family():
    r = subprocess.run([sys.executable, str(SCRIPT), "mars-rover"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode != 0 and "Traceback" not in r.stderr and "mars-rover" in r.stderr


def test_json_records_each_family_and_keeps_the_others(tmp_path):
    import json

    out = tmp_path / "floors.json"
    for name in ("sparse-point-robot", "point-robot"):
        r = subprocess.run([sys.executable, str(SCRIPT), name, "--steps", "3", "--json", str(out)],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
    saved = json.loads(out.read_text())
    assert list(saved) == ["point-robot", "sparse-point-robot"]  # both kept, in suite order
    sparse = saved["sparse-point-robot"]
    assert sparse["test_tasks"] == 20 and sparse["steps"] == 3
    assert len(sparse["zero"]["per_task"]) == 20
    # Three steps from the origin never reach a goal on the unit semicircle: return and success 0.
    assert sparse["zero"]["return"] == 0.0 and sparse["zero"]["success"] == 0.0
    assert "success" not in saved["point-robot"]["zero"]  # the dense robot reports none
