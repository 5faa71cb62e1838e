"""scripts/eval_noise.py: repeated meta-tests of one agent with other z seeds."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("eval_noise", ROOT / "scripts" / "eval_noise.py")
script = importlib.util.module_from_spec(spec)
spec.loader.exec_module(script)


def test_seeds_parse_as_a_range_or_a_list():
    assert script.parse_seeds("1-4") == [1, 2, 3, 4]
    assert script.parse_seeds("3,5,8") == [3, 5, 8]
    for bad in ("5-1", "a-b", "1-2-3", ""):
        with pytest.raises(ValueError, match="1-20 or 3,5,8"):
            script.parse_seeds(bad)


def test_spread_is_the_sample_statistics_and_the_share_below():
    s = script.spread([0.9, 0.7, 0.8, 1.0], threshold=0.8)
    assert s["mean"] == pytest.approx(0.85)
    assert s["std"] == pytest.approx(0.1290994, rel=1e-6)  # ddof=1, not 0.1118
    assert (s["min"], s["max"], s["below"]) == (0.7, 1.0, 0.25)
    with pytest.raises(ValueError, match="at least 2"):
        script.spread([0.9])


def test_script_on_a_shipped_sparse_agent(capsys):
    run = ROOT / "data" / "sparse_point_robot_lite_decay_seed6"
    assert script.main([str(run), "--seeds", "1,2", "--num-evals", "1"]) == 0
    row = capsys.readouterr().out.strip().splitlines()[-1].split("|")
    n, mean, std, lo, hi = int(row[3]), *(float(x) for x in row[4:8])
    assert n == 2 and lo <= mean <= hi and std >= 0
    assert "(< 0.8)" in row[8]
    # the two seeds are the meta-tests `python -m pearl_lite.evaluate RUN --seed S` makes
    from pearl_lite.runtime.evaluate import evaluate_run
    first = [evaluate_run(run, num_evals=1, seed=s)[1]["final_success"] for s in (1, 2)]
    assert (lo, hi) == (round(min(first), 2), round(max(first), 2))


def test_script_rejects_bad_seeds_and_a_missing_run(tmp_path, capsys):
    with pytest.raises(SystemExit):
        script.main([str(tmp_path), "--seeds", "9-1"])
    assert "1-20 or 3,5,8" in capsys.readouterr().err
    assert script.main([str(tmp_path / "nope"), "--seeds", "1,2"]) == 1
    assert "error:" in capsys.readouterr().err
