"""The training and evaluation commands: run folder, resume, atomic checkpoints, errors."""

import json
import subprocess
import sys

import pytest
import torch

from pearl_lite.runtime import train as train_mod
from pearl_lite.utils import read_csv

LOSSES = ("qf_loss", "vf_loss", "policy_loss", "kl", "train_return", "test_return")


def _train(out, iterations, resume=False):
    return train_mod.train("sparse-point-robot", "smoke", 0, out, iterations=iterations,
                           resume=resume, progress=False)


def _ckpt(path):
    return torch.load(path / "checkpoint.pt", weights_only=True)


def _assert_same_run(a, b):
    la, lb = read_csv(a / "progress.csv"), read_csv(b / "progress.csv")
    assert list(la["iteration"]) == list(lb["iteration"])
    for k in LOSSES:
        assert (la[k] == lb[k]).all(), k
    sa, sb = _ckpt(a)["agent"], _ckpt(b)["agent"]
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    out = tmp_path_factory.mktemp("straight")
    _train(out, 4)
    return out


def test_run_folder(straight):
    cfg = json.loads((straight / "config.json").read_text())
    assert cfg["env"] == "sparse-point-robot" and cfg["seed"] == 0 and cfg["num_iterations"] == 4
    log = read_csv(straight / "progress.csv")
    assert list(log["iteration"]) == [1, 2, 3, 4]
    for col in ("env_steps", "grad_steps", "train_return", "test_return", "test_success", "kl",
                "qf_loss", "vf_loss", "policy_loss", "z_var", "wall_clock"):
        assert col in log, col
    assert (log["wall_clock"][1:] >= log["wall_clock"][:-1]).all()
    assert _ckpt(straight)["iteration"] == 4


def test_resume_equals_uninterrupted_run(straight, tmp_path):
    _train(tmp_path, 2)
    _train(tmp_path, 4, resume=True)
    _assert_same_run(straight, tmp_path)


def test_killed_mid_checkpoint_keeps_previous_one_and_resumes(straight, tmp_path, monkeypatch):
    real_save = torch.save
    calls = {"n": 0}

    def dying_save(obj, f, *a, **kw):
        calls["n"] += 1
        if calls["n"] == 5:  # the 3rd checkpoint (2 files each): half a file, then "crash"
            with open(f, "wb") as fh:
                fh.write(b"PK\x03\x04 half a checkpoint")
            raise KeyboardInterrupt
        return real_save(obj, f, *a, **kw)

    monkeypatch.setattr(torch, "save", dying_save)
    with pytest.raises(KeyboardInterrupt):
        _train(tmp_path, 4)
    monkeypatch.setattr(torch, "save", real_save)
    assert _ckpt(tmp_path)["iteration"] == 2  # the previous checkpoint is intact
    assert not list(tmp_path.glob(".checkpoint.pt.*"))  # no temporary file left behind
    _train(tmp_path, 4, resume=True)  # log rows past the checkpoint are dropped and redone
    _assert_same_run(straight, tmp_path)


def test_a_ctrl_c_whose_interrupt_gets_lost_still_stops_the_run(tmp_path, monkeypatch, capsys):
    """The command's Ctrl-C handler remembers the signal: a KeyboardInterrupt that something
    swallows (as C code clearing an error can) still ends the run after that iteration."""
    import signal

    from pearl_lite.pearl import MetaTrainer

    real = MetaTrainer.train_iteration

    def iteration_that_loses_a_ctrl_c(self):
        row = real(self)
        if self.iteration == 2:
            try:
                signal.raise_signal(signal.SIGINT)
                for _ in range(1000):  # the handler runs at the next bytecode boundary
                    pass
            except KeyboardInterrupt:
                pass  # lost, as a C extension that clears any error would lose it
            else:
                pytest.fail("the SIGINT handler did not raise KeyboardInterrupt")
        return row

    monkeypatch.setattr(MetaTrainer, "train_iteration", iteration_that_loses_a_ctrl_c)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # a terminal's
    try:
        code = train_mod.main(["sparse-point-robot", "--preset", "smoke", "--out",
                               str(tmp_path), "--no-progress", "--iterations", "6"])
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored
        assert not train_mod.CTRL_C.is_set()  # a later train() here is not stopped by it
    finally:
        signal.signal(signal.SIGINT, previous)
    assert code == 130
    assert "interrupted; resume with --resume" in capsys.readouterr().err
    assert list(read_csv(tmp_path / "progress.csv")["iteration"]) == [1, 2]


def _cli(*args):
    """Run a command line in a fresh interpreter (the real entry point): (exit code, stderr)."""
    r = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, timeout=120)
    return r.returncode, r.stderr


@pytest.fixture
def cli(capsys):
    """The same ``main`` functions in-process (fast): (exit code, stderr)."""
    from pearl_lite.runtime import evaluate

    mains = {"pearl_lite.train": train_mod.main, "pearl_lite.evaluate": evaluate.main}

    def run(module, *args):
        capsys.readouterr()
        try:
            code = mains[module](list(args))
        except SystemExit as e:  # argparse usage errors
            code = e.code
        return code, capsys.readouterr().err

    return run


def _one_line_error(code, err, *needles):
    lines = err.strip().splitlines()
    assert code != 0
    assert len(lines) == 1 and "Traceback" not in err, err
    for n in needles:
        assert n in lines[0], (n, lines[0])


def test_cli_entry_point_bad_input(tmp_path):
    _one_line_error(*_cli("pearl_lite.train", "mars-rover", "--out", str(tmp_path / "a")),
                    "unknown environment", "sparse-point-robot")


def test_cli_bad_input_gives_one_error_line(straight, tmp_path, cli):
    _cli = cli
    t = "pearl_lite.train"
    _one_line_error(*_cli(t, "--preset", "smoke"), "required")  # usage error: no ENV, no --out
    _one_line_error(*_cli(t, "point-robot", "--preset", "huge", "--out", str(tmp_path / "a")),
                    "unknown preset", "paper, lite, smoke")
    _one_line_error(*_cli(t, "point-robot", "--iterations", "0", "--out", str(tmp_path / "a")),
                    "num_iterations")
    # an existing run is not overwritten
    _one_line_error(*_cli(t, "sparse-point-robot", "--preset", "smoke", "--out", str(straight)),
                    "--resume")
    # resuming with another config
    _one_line_error(*_cli(t, "point-robot", "--preset", "smoke", "--out", str(straight),
                          "--resume"), "another config")
    # a corrupt checkpoint
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text((straight / "config.json").read_text())
    (bad / "checkpoint.pt").write_bytes(b"not a checkpoint")
    _one_line_error(*_cli(t, "sparse-point-robot", "--preset", "smoke", "--out", str(bad),
                          "--resume"), "corrupt checkpoint")
    _one_line_error(*_cli("pearl_lite.evaluate", str(bad)), "corrupt checkpoint")


def test_evaluate_rejects_checkpoint_of_another_config(straight, tmp_path, cli):
    other = tmp_path / "other"
    train_mod.train("point-robot", "smoke", 0, other, progress=False)
    code, err = cli("pearl_lite.evaluate", str(straight), "--checkpoint",
                     str(other / "checkpoint.pt"))
    _one_line_error(code, err, "another config")


def test_evaluate_prints_and_writes_adaptation_curve(straight, tmp_path):
    out = tmp_path / "curve.json"
    r = subprocess.run([sys.executable, "-m", "pearl_lite.evaluate", str(straight), "--out",
                        str(out)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "final success rate" in r.stdout
    res = json.loads(out.read_text())
    cfg = json.loads((straight / "config.json").read_text())
    n = -(-cfg["num_steps_per_eval"] // cfg["max_path_length"])
    assert len(res["return_per_trajectory"]) == len(res["success_per_trajectory"]) == n


def test_networks_only_file_evaluates_but_does_not_resume(straight, tmp_path, cli):
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    for f in ("config.json", "agent.pt"):
        (shipped / f).write_bytes((straight / f).read_bytes())
    assert (straight / "agent.pt").stat().st_size < (straight / "checkpoint.pt").stat().st_size
    code, err = cli("pearl_lite.evaluate", str(shipped))
    assert code == 0, err
    assert json.loads((shipped / "adaptation.json").read_text())["final_success"] >= 0.0
    (shipped / "checkpoint.pt").write_bytes((straight / "agent.pt").read_bytes())
    _one_line_error(*cli("pearl_lite.train", "sparse-point-robot", "--preset", "smoke", "--out",
                         str(shipped), "--resume"), "cannot be resumed")


def test_snapshots_are_the_agent_of_their_iteration_and_evaluate(tmp_path, cli):
    run = tmp_path / "snap"
    train_mod.train("sparse-point-robot", "smoke", 0, run, iterations=4, progress=False,
                    snapshot_every=2)
    names = sorted(p.name for p in (run / "snapshots").iterdir())
    assert names == ["agent_it0002.pt", "agent_it0004.pt"]
    last = torch.load(run / "snapshots" / "agent_it0004.pt", weights_only=True)
    assert last["iteration"] == 4 and last["format"] == "pearl-lite-agent-v1"
    final = _ckpt(run)["agent"]
    assert all(torch.equal(last["agent"][k], final[k]) for k in final)
    code, err = cli("pearl_lite.evaluate", str(run), "--snapshots", "--num-evals", "1")
    assert code == 0, err
    rows = json.loads((run / "snapshots.json").read_text())["snapshots"]
    assert [r["iteration"] for r in rows] == [2, 4]
    assert all(0.0 <= r["final_success"] <= 1.0 for r in rows)
    # bad input: one error line
    _one_line_error(*cli("pearl_lite.train", "sparse-point-robot", "--preset", "smoke", "--out",
                         str(tmp_path / "neg"), "--snapshot-every", "-1"), "snapshot_every")
    _one_line_error(*cli("pearl_lite.evaluate", str(tmp_path / "neg"), "--snapshots"))


def test_set_overrides_the_preset_and_is_recorded(tmp_path, cli):
    run = tmp_path / "set"
    code, err = cli("pearl_lite.train", "sparse-point-robot", "--preset", "smoke", "--out",
                    str(run), "--no-progress", "--set", "num_iterations=1", "kl_lambda=0.5",
                    "--set", "lr_final_fraction=0.5")  # a second --set adds, not replaces
    assert code == 0, err
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["num_iterations"] == 1 and cfg["kl_lambda"] == 0.5
    assert cfg["lr_final_fraction"] == 0.5
    # resuming without the same overrides is a config mismatch
    _one_line_error(*cli("pearl_lite.train", "sparse-point-robot", "--preset", "smoke", "--out",
                         str(run), "--resume"), "another config")
    _one_line_error(*cli("pearl_lite.train", "point-robot", "--out", str(tmp_path / "a"),
                         "--set", "kl_lambda"), "--set", "key=value")
    _one_line_error(*cli("pearl_lite.train", "point-robot", "--out", str(tmp_path / "a"),
                         "--set", "warp_speed=9"), "unknown config keys", "warp_speed")


def test_eval_tau_average_is_saved_resumed_and_evaluated(tmp_path):
    from pearl_lite.runtime.evaluate import evaluate_run

    def run(out, iterations, resume=False):
        train_mod.train("point-robot", "smoke", 0, out, iterations=iterations,  # dense returns
                        resume=resume, progress=False, overrides={"eval_tau": 0.5})

    run(tmp_path / "straight", 4)
    run(tmp_path / "resumed", 2)
    run(tmp_path / "resumed", 4, resume=True)
    a, b = _ckpt(tmp_path / "straight"), _ckpt(tmp_path / "resumed")
    for k in a["eval_agent"]:  # resume continues the average exactly
        assert torch.equal(a["eval_agent"][k], b["eval_agent"][k]), k
    # agent.pt holds the average (what is meta-tested), checkpoint.pt both
    shipped = torch.load(tmp_path / "straight" / "agent.pt", weights_only=True)["agent"]
    assert all(torch.equal(shipped[k], v) for k, v in a["eval_agent"].items())
    assert not all(torch.equal(a["agent"][k], v) for k, v in a["eval_agent"].items())
    # evaluating the run folder (its checkpoint.pt) meta-tests the average too
    _, from_ckpt = evaluate_run(tmp_path / "straight", num_evals=1)
    _, from_agent = evaluate_run(tmp_path / "straight", tmp_path / "straight" / "agent.pt",
                                 num_evals=1)
    assert from_ckpt["returns"] == from_agent["returns"]
    latest = dict(a, eval_agent=None)  # the same checkpoint without the average
    torch.save(latest, tmp_path / "latest.pt")
    _, from_latest = evaluate_run(tmp_path / "straight", tmp_path / "latest.pt", num_evals=1)
    assert from_latest["returns"] != from_ckpt["returns"]
