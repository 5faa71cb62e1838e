"""The benchmark command (``python -m pearl_lite.benchmark``): run folders, resume, summaries,
``--jobs``, Ray, and one-line errors. Smoke preset, two iterations, the two point robots."""

import csv
import importlib
import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
import torch

from pearl_lite.config import ENV_NAMES, get_config
from pearl_lite.runtime import benchmark as bench
from pearl_lite.runtime import train as train_mod
from pearl_lite.utils import read_csv

ROOT = Path(__file__).resolve().parents[1]
FAMILIES = ["point-robot", "sparse-point-robot"]
SET = {"num_iterations": 2}
#: Columns of progress.csv that do not depend on timing.
LOGGED = ("iteration", "env_steps", "grad_steps", "train_return", "test_return", "qf_loss",
          "vf_loss", "policy_loss", "kl", "z_var")


def _suite(out, families=FAMILIES, seeds=(0,), **kw):
    kw.setdefault("progress", False)
    return bench.run_suite(families, list(seeds), "smoke", out, overrides=dict(SET), **kw)


def _assert_same_runs(a, b, names):
    """Same logs, networks and meta-test results in the run folders ``names`` of two suites."""
    for name in names:
        la, lb = read_csv(a / name / "progress.csv"), read_csv(b / name / "progress.csv")
        for key in LOGGED:
            assert np.array_equal(la[key], lb[key], equal_nan=True), (name, key)
        sa = torch.load(a / name / "checkpoint.pt", weights_only=True)["agent"]
        sb = torch.load(b / name / "checkpoint.pt", weights_only=True)["agent"]
        assert all(torch.equal(sa[k], sb[k]) for k in sa), name
        ja = json.loads((a / name / "adaptation.json").read_text())
        jb = json.loads((b / name / "adaptation.json").read_text())
        assert ja["returns"] == jb["returns"], name


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    """An uninterrupted suite: two families, seed 0, two iterations each."""
    out = tmp_path_factory.mktemp("suite")
    _suite(out)
    return out


def _files(folder):
    """{path: mtime} of every file under ``folder``."""
    return {p: p.stat().st_mtime_ns for p in Path(folder).rglob("*") if p.is_file()}


@pytest.fixture
def cli(capsys):
    """``main`` in-process: (exit code, stdout, stderr)."""

    def run(*args):
        capsys.readouterr()
        try:
            code = bench.main(list(args))
        except SystemExit as e:  # argparse usage errors
            code = e.code
        cap = capsys.readouterr()
        return code, cap.out, cap.err

    return run


def _one_line(code, err, *needles):
    lines = err.strip().splitlines()
    assert code == 1, (code, err)
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("pearl-lite-benchmark: error: "), lines[0]
    for n in needles:
        assert n in lines[0], (n, lines[0])


def test_families_all_means_the_nine_and_order_is_kept():
    assert bench.parse_families(["all"]) == list(ENV_NAMES) and len(ENV_NAMES) == 9
    assert bench.parse_families(["sparse-point-robot", "point-robot", "sparse-point-robot"]) == \
        ["sparse-point-robot", "point-robot"]
    assert bench.check_seeds([2, 0, 2]) == [2, 0]
    specs = bench.plan_runs(Path("o"), FAMILIES, [0, 1], "smoke", {})
    assert [s.name for s in specs] == ["point-robot/seed0", "sparse-point-robot/seed0",
                                       "point-robot/seed1", "sparse-point-robot/seed1"]
    assert specs[0].run_dir == str(Path("o") / "point-robot" / "seed0")


def test_suite_writes_run_folders_and_summaries(suite):
    for family in FAMILIES:
        run = suite / family / "seed0"
        for f in ("config.json", "progress.csv", "checkpoint.pt", "agent.pt", "adaptation.json"):
            assert (run / f).is_file(), (run, f)
        assert torch.load(run / "checkpoint.pt", weights_only=True)["iteration"] == 2
    record = json.loads((suite / "suite.json").read_text())
    assert record["preset"] == "smoke" and record["overrides"] == SET
    assert record["families"] == FAMILIES and record["seeds"] == [0]
    assert record["configs"]["point-robot"]["num_iterations"] == 2
    assert record["configs"]["sparse-point-robot"]["env"] == "sparse-point-robot"

    with open(suite / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["family"] for r in rows] == FAMILIES
    assert list(rows[0]) == list(bench.SUMMARY_COLUMNS)
    for row in rows:
        run = suite / row["run"]
        adaptation = json.loads((run / "adaptation.json").read_text())
        log = read_csv(run / "progress.csv")
        assert row["preset"] == "smoke" and row["seed"] == "0" and row["iterations"] == "2"
        assert int(row["env_steps"]) == int(log["env_steps"][-1])
        assert float(row["wall_clock_min"]) == pytest.approx(log["wall_clock"][-1] / 60, 1e-4)
        assert float(row["final_return"]) == pytest.approx(adaptation["final_return"], rel=1e-8)
        assert float(row["first_return"]) == pytest.approx(
            adaptation["return_per_trajectory"][0], rel=1e-8)
    assert rows[0]["final_success"] == ""  # dense task: no success rate
    assert 0.0 <= float(rows[1]["final_success"]) <= 1.0
    md = (suite / "summary.md").read_text()
    assert "| **point-robot** | smoke | 1 seed |" in md
    assert "| **sparse-point-robot** | smoke | 1 seed |" in md


def test_rerun_skips_finished_runs(suite, tmp_path, monkeypatch, capsys):
    out = tmp_path / "again"
    shutil.copytree(suite, out)  # copy2: the mtimes come along
    before = _files(out / "point-robot")
    calls = []
    monkeypatch.setattr(bench, "train", lambda *a, **k: calls.append(("train", a, k)))
    monkeypatch.setattr(bench, "evaluate_run", lambda *a, **k: calls.append(("eval", a, k)))
    rows = _suite(out, progress=True)
    assert calls == []  # nothing trained, nothing meta-tested again
    assert _files(out / "point-robot") == before
    assert [r["family"] for r in rows] == FAMILIES
    assert "runs 2/2" in capsys.readouterr().err  # the suite's progress bar

    from pearl_lite.runtime.evaluate import evaluate_run as real_evaluate

    # another --num-evals: meta-tested again, not trained again
    monkeypatch.setattr(bench, "evaluate_run", lambda *a, **k: (
        calls.append(("eval", k["num_evals"])), real_evaluate(*a, **k))[1])
    _suite(out, num_evals=2)
    assert calls == [("eval", 2), ("eval", 2)]
    assert json.loads((out / "point-robot/seed0/adaptation.json").read_text())["num_evals"] == 2


def test_snapshot_every_meta_tests_the_snapshots_once(tmp_path, monkeypatch, cli):
    """``--snapshot-every 1``: the networks of both iterations are kept and meta-tested into
    ``snapshots.json``; a repeated command leaves that file alone."""
    out = tmp_path / "curves"
    _suite(out, families=["point-robot"], snapshot_every=1)
    run = out / "point-robot" / "seed0"
    assert sorted(p.name for p in (run / "snapshots").iterdir()) == \
        ["agent_it0001.pt", "agent_it0002.pt"]
    curve = json.loads((run / "snapshots.json").read_text())
    assert [r["iteration"] for r in curve["snapshots"]] == [1, 2]
    log = read_csv(run / "progress.csv")
    assert [r["env_steps"] for r in curve["snapshots"]] == [int(v) for v in log["env_steps"]]
    # the last snapshot is the final agent: the same meta-test as adaptation.json
    final = json.loads((run / "adaptation.json").read_text())
    assert curve["snapshots"][-1]["final_return"] == pytest.approx(final["final_return"])
    assert not bench.needs_snapshot_test(run)

    before = _files(run)
    calls = []
    monkeypatch.setattr(bench, "evaluate_snapshots", lambda *a, **k: calls.append(a))
    _suite(out, families=["point-robot"], snapshot_every=1)
    assert calls == [] and _files(run) == before
    # a run without snapshots has nothing to meta-test
    assert not bench.needs_snapshot_test(tmp_path)
    _one_line(*cli("--envs", "point-robot", "--preset", "smoke", "--out", str(tmp_path / "n"),
                   "--snapshot-every", "-1")[::2], "--snapshot-every", "-1")
    assert not (tmp_path / "n").exists()


def test_interrupted_suite_resumes_to_the_same_result(suite, tmp_path, monkeypatch):
    """Killed in its second run, after that run's first checkpoint, then repeated: the same
    run folders as the uninterrupted suite."""
    out = tmp_path / "stopped"
    real_save, real_train = train_mod.save_checkpoint, bench.train
    calls = []

    def save_then_die(trainer, run_dir):
        real_save(trainer, run_dir)
        if "sparse-point-robot" in str(run_dir):
            raise KeyboardInterrupt  # Ctrl-C right after the checkpoint of iteration 1

    def spy(family, *args, **kw):
        calls.append((family, kw["resume"]))
        return real_train(family, *args, **kw)

    monkeypatch.setattr(bench, "train", spy)
    monkeypatch.setattr(train_mod, "save_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        _suite(out)
    assert bench.run_state(out / "point-robot" / "seed0", 2) == "done"
    assert bench.run_state(out / "sparse-point-robot" / "seed0", 2) == "resume"
    assert bench.checkpoint_iteration(out / "sparse-point-robot" / "seed0") == 1
    assert not (out / "summary.csv").exists()

    monkeypatch.setattr(train_mod, "save_checkpoint", real_save)
    _suite(out)
    assert calls == [("point-robot", False), ("sparse-point-robot", False),
                     ("sparse-point-robot", True)]  # point-robot skipped, the other resumed
    _assert_same_runs(suite, out, [f"{f}/seed0" for f in FAMILIES])
    assert len((out / "summary.csv").read_text().splitlines()) == 3


@pytest.mark.slow
def test_jobs_2_gives_the_same_results_as_jobs_1(suite, tmp_path):
    out = tmp_path / "jobs2"
    _suite(out, jobs=2)  # two spawned worker processes
    _assert_same_runs(suite, out, [f"{f}/seed0" for f in FAMILIES])
    a, b = (list(csv.DictReader(open(d / "summary.csv"))) for d in (suite, out))
    for ra, rb in zip(a, b, strict=True):  # the same summary but for the wall-clock column
        ra.pop("wall_clock_min"), rb.pop("wall_clock_min")
        assert ra == rb


def test_bad_input_gives_one_line_and_writes_nothing(suite, tmp_path, cli, monkeypatch):
    new = tmp_path / "new"
    base = ["--preset", "smoke", "--out", str(new), "--no-progress"]
    _one_line(*cli("--envs", "mars-rover", *base)[::2], "mars-rover", "all",
              ", ".join(ENV_NAMES))
    _one_line(*cli("--envs", *base)[::2], "--envs")
    _one_line(*cli("--seeds", *base)[::2], "--seeds")
    _one_line(*cli("--seeds", "0", "-1", *base)[::2], "-1")
    _one_line(*cli("--envs", "point-robot", "--preset", "huge", "--out", str(new))[::2],
              "unknown preset", "paper, lite, smoke")
    _one_line(*cli("--jobs", "0", *base)[::2], "--jobs")
    _one_line(*cli("--set", "warp_speed=9", *base)[::2], "warp_speed")
    _one_line(*cli("--set", "kl_lambda", *base)[::2], "key=value")
    _one_line(*cli("--num-evals", "0", *base)[::2], "--num-evals")
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    _one_line(*cli("--envs", "point-robot", "--ray", "local", *base)[::2],
              'pip install -e ".[cluster]"')
    monkeypatch.undo()
    assert not new.exists()

    # an --out holding a suite of another preset or other overrides
    before = _files(suite)
    fam = ["--envs", "point-robot", "--seeds", "0", "--out", str(suite), "--no-progress"]
    _one_line(*cli(*fam, "--preset", "lite")[::2], "--preset smoke --set num_iterations=2")
    _one_line(*cli(*fam, "--preset", "smoke", "--set", "num_iterations=3")[::2],
              "--preset smoke --set num_iterations=2")
    _one_line(*cli(*fam, "--preset", "smoke")[::2], "and no --set")
    assert _files(suite) == before

    # an --out holding a run of another config, without suite.json
    other = tmp_path / "other"
    shutil.copytree(suite / "point-robot", other / "point-robot")
    before = _files(other)
    _one_line(*cli(*fam[:4], "--out", str(other), "--preset", "smoke", "--set",
                   "num_iterations=2", "kl_lambda=0.5")[::2], "another config", "kl_lambda")
    assert _files(other) == before


def test_a_failing_run_is_reported_after_the_others(suite, tmp_path, cli):
    out = tmp_path / "broken"
    shutil.copytree(suite, out)
    (out / "sparse-point-robot" / "seed0" / "checkpoint.pt").write_bytes(b"not a checkpoint")
    (out / "summary.csv").unlink()
    code, _, err = cli("--envs", *FAMILIES, "--seeds", "0", "--preset", "smoke", "--set",
                       "num_iterations=2", "--out", str(out), "--no-progress")
    _one_line(code, err, "1 of 2 runs failed", "sparse-point-robot/seed0", "corrupt checkpoint")
    assert (out / "summary.csv").exists()  # the summary of what there is, all the same


def test_console_script_and_cluster_extra_are_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    module, _, func = project["scripts"]["pearl-lite-benchmark"].partition(":")
    assert getattr(importlib.import_module(module), func) is bench.main
    assert any(r.startswith("ray") for r in project["optional-dependencies"]["cluster"])


def test_command_line_entry_point(tmp_path):
    out = tmp_path / "x"
    r = subprocess.run([sys.executable, "-m", "pearl_lite.benchmark", "--envs", "mars-rover",
                        "--out", str(out)], capture_output=True, text=True, timeout=120)
    _one_line(r.returncode, r.stderr, "unknown task family 'mars-rover'")
    assert not out.exists()


def test_summary_only_and_summarize_of_shipped_data(suite, tmp_path, cli):
    out = tmp_path / "s"
    shutil.copytree(suite, out)
    for f in ("summary.csv", "summary.md"):
        (out / f).unlink()
    code, stdout, err = cli("--out", str(out), "--summary-only")
    assert code == 0, err
    assert (out / "summary.csv").read_text() == (suite / "summary.csv").read_text()
    assert "| **point-robot** | smoke | 1 seed |" in stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    _one_line(*cli("--out", str(empty), "--summary-only")[::2], "no run folders")

    rows = bench.summarize(ROOT / "data", write=False)  # what notebook 5 does
    lite = bench.config_id(get_config("cheetah-vel", "lite"))
    cv = [r for r in rows if r["family"] == "cheetah-vel" and r["config_id"] == lite]
    # data/cheetah_vel_lite{,_seed1,_seed2}: the seeds of today's preset group together
    assert sorted(r["seed"] for r in cv) == [0, 1, 2]
    shipped = json.loads((ROOT / "data" / cv[0]["run"] / "adaptation.json").read_text())
    assert cv[0]["final_return"] == shipped["final_return"]
    assert all(r["family"] in ENV_NAMES for r in rows)  # the SAC run in data/ is left out
    assert not (ROOT / "data" / "summary.csv").exists()


class FakeRay:
    """Just enough of Ray's API to run ``run_ray`` here, synchronously: each task runs when
    its result is asked for. Records ``init`` calls, task options and the most in flight."""

    def __init__(self):
        self.connected, self.inits, self.options, self.in_flight, self.most = False, [], [], 0, 0

    def is_initialized(self):
        return self.connected

    def init(self, **kw):
        self.connected = True
        self.inits.append(kw)

    def shutdown(self):
        self.connected = False

    def remote(self, fn):
        ray = self

        class Task:
            def options(self, **kw):
                ray.options.append(kw)
                return self

            def remote(self, *args):
                ray.in_flight += 1
                ray.most = max(ray.most, ray.in_flight)
                return lambda: fn(*args)

        return Task()

    def wait(self, refs, num_returns=1):
        return refs[:num_returns], refs[num_returns:]

    def get(self, ref):
        self.in_flight -= 1
        return ref()

    def cancel(self, ref, force=False):
        pass


def test_ray_path_with_a_stand_in_for_ray(suite, tmp_path, monkeypatch):
    """``run_ray``'s own logic (connect, one task per run with its CPUs, the --jobs cap,
    disconnect), whether or not a real Ray cluster can start on this machine."""
    fake = FakeRay()
    monkeypatch.setitem(sys.modules, "ray", fake)
    out = tmp_path / "fake"
    _suite(out, ray_address="local", jobs=1)
    assert fake.inits == [{"num_cpus": 1, "include_dashboard": False, "logging_level": "WARNING"}]
    assert fake.options == [{"num_cpus": 1, "num_gpus": 0}] * 2 and fake.most == 1
    assert not fake.connected  # it connected, so it disconnected
    _assert_same_runs(suite, out, [f"{f}/seed0" for f in FAMILIES])
    fake.connected = True  # already connected (a notebook's own ray.init): used, left open
    _suite(tmp_path / "fake2", families=["point-robot"], ray_address="ray://head:10001")
    assert len(fake.inits) == 1 and fake.connected
    fake.connected = False
    _suite(tmp_path / "fake3", families=["point-robot"], ray_address="ray://head:10001")
    assert fake.inits[-1] == {"address": "ray://head:10001", "logging_level": "WARNING"}


@pytest.mark.slow
def test_ray_local_suite_gives_the_same_results(suite, tmp_path):
    ray = pytest.importorskip("ray", reason="ray is not installed (pip install -e '.[cluster]')")
    try:
        ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    except Exception as err:  # Ray's own start-up timeout, not this package: see the reason
        pytest.skip("Ray could not start a local cluster on this machine (on a heavily loaded "
                    "one its agents can miss Ray's fixed 15 s start-up timeout, "
                    f"ray-project/ray#65983): {str(err).splitlines()[0]}")
    try:
        out = tmp_path / "ray"
        rows = _suite(out, families=["point-robot"], ray_address="local")
        assert ray.is_initialized()  # run_ray used this connection and left it open
    finally:
        ray.shutdown()
    assert [r["family"] for r in rows] == ["point-robot"]
    _assert_same_runs(suite, out, ["point-robot/seed0"])


@pytest.mark.parametrize("signame, code, collector", [("SIGTERM", 143, True),
                                                     ("SIGINT", 130, False)])
def test_signalling_the_driver_alone_stops_its_workers_too(tmp_path, signame, code, collector):
    """``kill PID`` (or ``kill -INT PID``) of a ``--jobs 2`` benchmark reaches the driver only,
    not its worker processes as a terminal's Ctrl-C would. The driver must stop the runs in
    flight itself: before the fix the workers trained on as orphans after the driver had gone.
    Then the same command resumes the runs from their checkpoints."""
    import os
    import signal
    import time

    out = tmp_path / "suite"
    cmd = [sys.executable, "-m", "pearl_lite.benchmark", "--envs", "point-robot", "--seeds",
           "0", "1", "--preset", "smoke", "--jobs", "2", "--out", str(out), "--no-progress",
           "--set", "num_iterations=100000", "checkpoint_every=1",
           f"async_collection={collector}"]  # with a collector process per worker, too
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    logs = [out / "point-robot" / f"seed{s}" / "progress.csv" for s in (0, 1)]
    deadline = time.monotonic() + 180
    while not all(p.exists() and len(p.read_text().splitlines()) >= 3 for p in logs):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1]
        time.sleep(0.2)
    os.kill(proc.pid, getattr(signal, signame))  # the driver alone
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail(f"the driver did not stop within 60 s of {signame}")
    assert proc.returncode == code, err
    assert "interrupted; repeat the command to resume" in err and "Traceback" not in err, err
    deadline = time.monotonic() + 15  # the workers, and multiprocessing's resource tracker
    while True:  # after them, leave the suite's process group (zombies until reaped)
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("processes of the suite still alive 15 s after the driver stopped")
        time.sleep(0.2)
    sizes = [len(p.read_text().splitlines()) for p in logs]
    time.sleep(2)  # and no run writes on
    assert [len(p.read_text().splitlines()) for p in logs] == sizes
    state = [bench.run_state(p.parent, 100000) for p in logs]
    assert state == ["resume", "resume"], state
