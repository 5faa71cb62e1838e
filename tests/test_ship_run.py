"""scripts/ship_run.py: a finished run into data/, meta-tested, or its meta-test reused."""

import importlib.util
import json
from pathlib import Path

import pytest

from pearl_lite.runtime.train import train

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "ship_run.py"
spec = importlib.util.spec_from_file_location("ship_run", SCRIPT)
ship_run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ship_run)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A finished two-iteration smoke run of the point robot."""
    out = tmp_path_factory.mktemp("run") / "pr"
    train("point-robot", "smoke", 0, out, progress=False, overrides={"num_iterations": 2})
    return out


def test_ships_the_small_files_and_meta_tests(run, tmp_path, capsys):
    assert ship_run.main([str(run), "pr_seed0", "--num-evals", "1",
                          "--data-dir", str(tmp_path)]) == 0
    shipped = sorted(p.name for p in (tmp_path / "pr_seed0").iterdir())
    assert shipped == ["adaptation.json", "agent.pt", "config.json", "progress.csv"]
    assert json.loads((tmp_path / "pr_seed0" / "adaptation.json").read_text())["num_evals"] == 1


def test_an_existing_meta_test_with_as_many_runs_is_copied(run, tmp_path, monkeypatch):
    (run / "adaptation.json").write_text(json.dumps({"num_evals": 3, "final_return": -1.5}))
    (run / "snapshots.json").write_text(json.dumps({"num_evals": 3, "snapshots": []}))
    import pearl_lite.evaluate

    monkeypatch.setattr(pearl_lite.evaluate, "main", lambda argv: pytest.fail("meta-tested"))
    assert ship_run.main([str(run), "a", "--num-evals", "3", "--data-dir", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "a" / "adaptation.json").read_text())["final_return"] == -1.5
    assert (tmp_path / "a" / "snapshots.json").is_file()

    # with another number of runs it is meta-tested again, and the old files are not copied
    monkeypatch.undo()
    assert ship_run.main([str(run), "b", "--num-evals", "1", "--data-dir", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "b" / "adaptation.json").read_text())["num_evals"] == 1
    assert not (tmp_path / "b" / "snapshots.json").exists()


def test_a_meta_test_older_than_the_networks_is_not_reused(run, tmp_path):
    """An adaptation.json written before the run was resumed is stale, even with as many runs."""
    import os

    (run / "adaptation.json").write_text(json.dumps({"num_evals": 1, "final_return": -1.5}))
    later = (run / "adaptation.json").stat().st_mtime + 60
    os.utime(run / "checkpoint.pt", (later, later))
    assert ship_run.main([str(run), "c", "--num-evals", "1", "--data-dir", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "c" / "adaptation.json").read_text())["final_return"] != -1.5


def test_an_unfinished_run_is_refused(run, tmp_path, capsys):
    cfg = json.loads((run / "config.json").read_text())
    unfinished = tmp_path / "u"
    unfinished.mkdir()
    for f in ship_run.FILES:
        (unfinished / f).write_bytes((run / f).read_bytes())
    (unfinished / "config.json").write_text(json.dumps({**cfg, "num_iterations": 5}))
    assert ship_run.main([str(unfinished), "u", "--data-dir", str(tmp_path / "d")]) == 1
    assert "iteration 2 of 5" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()


def test_no_agent_ships_curves_and_meta_test_without_the_networks(run, tmp_path):
    assert ship_run.main([str(run), "n", "--num-evals", "1", "--no-agent",
                          "--data-dir", str(tmp_path)]) == 0
    shipped = sorted(p.name for p in (tmp_path / "n").iterdir())
    assert shipped == ["adaptation.json", "config.json", "progress.csv"]
    assert json.loads((tmp_path / "n" / "adaptation.json").read_text())["num_evals"] == 1
