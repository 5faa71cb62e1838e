"""The benchmark scripts still run (tiny budgets; their timings are not checked here)."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _run(script: str, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True,
                          text=True, timeout=timeout)


def _fails_with_one_line(r: subprocess.CompletedProcess, names: str) -> None:
    """Bad input: a non-zero exit and a message naming the problem, not a stack trace."""
    assert r.returncode != 0
    assert "Traceback" not in r.stderr and names in r.stderr, r.stderr


def test_preset_timing_prints_one_row_per_family():
    r = _run("preset_timing.py", "--preset", "smoke", "--names", "point-robot",
             "sparse-point-robot", "--iterations", "1")
    assert r.returncode == 0, r.stderr
    rows = [line for line in r.stdout.splitlines() if line.startswith("| ")]
    assert any(row.startswith("| point-robot |") for row in rows), r.stdout
    assert any(row.startswith("| sparse-point-robot |") for row in rows), r.stdout


def test_preset_timing_rejects_unknown_family():
    _fails_with_one_line(_run("preset_timing.py", "--names", "mars-rover"), "mars-rover")


def test_pearl_step_runs_and_reports_the_fraction_of_peak():
    r = _run("pearl_step.py", "--threads", "1", "--steps", "1")
    assert r.returncode == 0, r.stderr
    assert "gradient steps/s" in r.stdout and "fraction of peak" in r.stdout, r.stdout


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present (see gpu_check.sh)")
def test_pearl_step_without_a_gpu_says_so():
    _fails_with_one_line(_run("pearl_step.py", "--device", "cuda"), "no CUDA device")


def test_pearl_step_rejects_an_unknown_config_key():
    _fails_with_one_line(_run("pearl_step.py", "--set", "mars_rover=1"), "mars_rover")


@pytest.mark.slow
def test_widget_latency_prints_a_row_per_control():
    r = _run("widget_latency.py", "--repeats", "1", "--goals", "1", "--runs", "1")
    assert r.returncode == 0, r.stderr
    rows = [line for line in r.stdout.splitlines() if line.startswith("| ")]
    for control in ("trajectory k", "play", "goal", "run", "protocol", "angle", "context N"):
        assert any(row.startswith(f"| {control} |") for row in rows), r.stdout


def test_widget_latency_rejects_a_missing_agent(tmp_path):
    _fails_with_one_line(_run("widget_latency.py", "--agent-dir", str(tmp_path / "nope")),
                         "nope")


def test_sac_curves_trains_on_one_task_of_a_kit_family(tmp_path):
    r = _run("sac_curves.py", "--env", "point-robot", "--task", "3", "--steps", "120",
             "--eval-every", "60", "--eval-episodes", "1", "--out-dir", str(tmp_path))
    assert r.returncode == 0, r.stderr
    out = tmp_path / "sac_point_robot_task3_s0"
    assert (out / "eval.csv").read_text().count("\n") == 3, r.stdout  # header + 2 evaluations
    assert '"task": 3' in (out / "summary.json").read_text()


@pytest.mark.parametrize("args, names", [
    (["--env", "point-robot"], "--task"),
    (["--env", "point-robot", "--task", "999"], "0..99"),
    (["--env", "Pendulum-v1", "--task", "0"], "point-robot"),
])
def test_sac_curves_rejects_a_bad_task(args, names):
    _fails_with_one_line(_run("sac_curves.py", *args, "--steps", "10"), names)


def test_ant_dir_forward_only_sets_both_tasks_forward_and_trains(tmp_path, monkeypatch):
    import runpy

    from pearl_lite.envs import make_env
    from pearl_lite.envs.mujoco_tasks import AntDirEnv

    forward_tasks = runpy.run_path(str(BENCH / "ant_dir_forward_only.py"))["forward_tasks"]
    assert make_env("ant-dir", seed=0).tasks[1]["angle"] == pytest.approx(3.14159, abs=1e-4)
    monkeypatch.setattr(AntDirEnv, "_initial_tasks", forward_tasks)
    assert [t["angle"] for t in make_env("ant-dir", seed=0).tasks] == [0.0, 0.0]
    with pytest.raises(ValueError, match="exactly 2 tasks"):
        forward_tasks(make_env("ant-dir", seed=0), 3)
    r = _run("ant_dir_forward_only.py", "--preset", "smoke", "--seed", "0", "--out",
             str(tmp_path / "run"), "--no-progress")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "run" / "progress.csv").exists()


def test_ant_dir_beliefs_reads_a_shipped_run_and_rejects_other_families():
    import runpy

    import numpy as np

    from pearl_lite.envs import make_env

    mod = runpy.run_path(str(BENCH / "ant_dir_beliefs.py"))
    # The displacement is read from the observation: its index must be the torso's x-velocity.
    env = make_env("ant-dir", seed=0)
    env.reset(seed=0)
    obs, *_ = env.step(env.action_space.sample())
    assert obs[mod["_X_VELOCITY"]] == pytest.approx(env.unwrapped.data.qvel[0])
    data = Path(__file__).resolve().parents[1] / "data"
    out = mod["beliefs"](str(data / "ant_dir_lite"), trajectories=3, num_evals=1)
    assert out["returns"].shape == out["displacement"].shape == out["steps"].shape == (2, 3)
    assert np.all((out["steps"] >= 1) & (out["steps"] <= 200))
    assert out["num_exp_traj_eval"] == 2 and np.all(out["separation"][:2] == 0)
    assert out["separation"][2] > 0
    assert "| 3 | posterior |" in mod["table"]("run", out)
    r = _run("ant_dir_beliefs.py", str(data / "point_robot_lite"), "--trajectories", "1")
    _fails_with_one_line(r, "point-robot")


def test_ant_goal_costs_splits_a_shipped_run_and_rejects_other_families():
    import runpy

    import numpy as np

    from pearl_lite.envs import make_env

    mod = runpy.run_path(str(BENCH / "ant_goal_costs.py"))
    # The goal term is read from the observation's first two entries: they must be the torso's
    # x, y, so that it equals the environment's own reward_goal.
    env = make_env("ant-goal", seed=0)
    env.reset_task(env.test_task_idx[0])
    env.reset(seed=0)
    for _ in range(20):
        obs, _, _, _, info = env.step(env.action_space.sample())
    assert -np.abs(obs[:2] - env.goal).sum() == pytest.approx(info["reward_goal"], abs=1e-3)
    data = Path(__file__).resolve().parents[1] / "data"
    out = mod["split_returns"](str(data / "ant_goal_lite_seed0"), num_evals=1)
    assert out["returns"].shape == out["goal_term"].shape == out["dist_end"].shape == (3,)
    # Control and contact costs are never positive: a wrong goal term would show here.
    assert np.all(out["costs"] <= 0) and np.all(out["goal_term"] < 0)
    assert "| 3 | posterior |" in mod["table"]("run", out)
    r = _run("ant_goal_costs.py", str(data / "point_robot_lite"))
    _fails_with_one_line(r, "point-robot")


def test_ant_dir_angles_turns_the_two_tasks_and_trains(tmp_path, monkeypatch):
    import math
    import runpy

    from pearl_lite.envs import make_env
    from pearl_lite.envs.mujoco_tasks import AntDirEnv

    angle_tasks = runpy.run_path(str(BENCH / "ant_dir_angles.py"))["angle_tasks"]
    monkeypatch.setattr(AntDirEnv, "_initial_tasks", angle_tasks((229.3, 97.1)))
    angles = [t["angle"] for t in make_env("ant-dir", seed=0).tasks]
    assert angles == pytest.approx([math.radians(229.3), math.radians(97.1)])
    r = _run("ant_dir_angles.py", "--angles", "90", "45", "--preset", "smoke", "--seed", "0",
             "--out", str(tmp_path / "run"), "--no-progress")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "run" / "progress.csv").exists()
    _fails_with_one_line(_run("ant_dir_angles.py", "--preset", "smoke"), "--angles")


def test_ant_dir_oracle_shows_the_task_in_the_observation_and_trains(tmp_path, monkeypatch):
    import runpy

    import numpy as np

    from pearl_lite.envs import make_env
    from pearl_lite.envs.mujoco_tasks import AntDirEnv

    oracle = runpy.run_path(str(BENCH / "ant_dir_oracle.py"))
    monkeypatch.setattr(AntDirEnv, "_get_obs", oracle["obs_with_direction"])
    env = make_env("ant-dir", seed=0)
    assert env.observation_space.shape == (29,)
    for task, direction in ((0, (1.0, 0.0)), (1, (-1.0, 0.0))):
        env.reset_task(task)
        obs, _ = env.reset(seed=0)
        assert obs.shape == (29,) and np.allclose(obs[-2:], direction, atol=1e-6)
        obs, *_ = env.step(np.zeros(8))
        assert np.allclose(obs[-2:], direction, atol=1e-6)
    r = _run("ant_dir_oracle.py", "--preset", "smoke", "--seed", "0", "--out",
             str(tmp_path / "run"), "--no-progress")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "run" / "progress.csv").exists()

    # --zero-z: every z PEARL samples is zero, so the networks see only obs + direction
    z = oracle["zero_z"](None, torch.ones(3, 5), torch.ones(3, 5))
    assert z.shape == (3, 5) and not z.any()
    r = _run("ant_dir_oracle.py", "--zero-z", "--preset", "smoke", "--seed", "0", "--out",
             str(tmp_path / "run_z0"), "--no-progress")
    assert r.returncode == 0, r.stderr
    r = _run("ant_dir_oracle.py", "--zero-z", "evaluate", str(tmp_path / "run_z0"),
             "--num-evals", "1")
    assert r.returncode == 0, r.stderr


def test_ant_dir_multitask_sac_takes_turns_shows_the_task_and_trains(tmp_path):
    import csv
    import json
    import runpy

    import numpy as np

    from pearl_lite.envs import make_env

    wrapper = runpy.run_path(str(BENCH / "ant_dir_multitask_sac.py"))["TaskTakingTurns"]
    env = wrapper(make_env("ant-dir", seed=0), tmp_path / "episodes.csv")
    assert env.observation_space.shape == (29,)
    for episode, direction in enumerate([(1.0, 0.0), (-1.0, 0.0), (1.0, 0.0)]):
        obs, _ = env.reset(seed=episode)
        assert obs.shape == (29,) and np.allclose(obs[-2:], direction, atol=1e-6)
        for _ in range(3):
            obs, *_ = env.step(np.full(8, 0.3))
            assert np.allclose(obs[-2:], direction, atol=1e-6)
    env.unwrapped.reset_task(0)  # a plain task switch outside the wrapper does not stick
    assert np.allclose(env.reset(seed=0)[0][-2:], (-1.0, 0.0), atol=1e-6)  # episode 3: task 1
    assert (tmp_path / "episodes.csv").read_text().splitlines() == ["episode,task,return,metres"]

    r = _run("ant_dir_multitask_sac.py", "--steps", "300", "--eval-every", "150",
             "--out-dir", str(tmp_path))
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(open(tmp_path / "mtsac_ant_dir_s0" / "eval_tasks.csv")))
    assert [row["task"] for row in rows] == ["0", "1", "0", "1"] * 2  # 2 evaluations x 4
    assert all(abs(float(row["metres"])) < 20 for row in rows)
    _fails_with_one_line(_run("ant_dir_multitask_sac.py", "--eval-episodes", "3"),
                         "--eval-episodes")

    # --block: PEARL's collection, a fixed policy for N steps and then N gradient steps
    r = _run("ant_dir_multitask_sac.py", "--steps", "300", "--eval-every", "300", "--block", "100",
             "--out-dir", str(tmp_path))
    assert r.returncode == 0, r.stderr
    summary = json.loads((tmp_path / "mtsac_ant_dir_s0_b100" / "summary.json").read_text())
    blocks = {k: summary["config"][k] for k in ("train_freq", "gradient_steps", "learning_starts")}
    assert blocks == {"train_freq": 100, "gradient_steps": 100, "learning_starts": 100}
    evals = list(csv.DictReader(open(tmp_path / "mtsac_ant_dir_s0_b100" / "eval.csv")))
    assert float(evals[-1]["n_updates"]) == 200  # training phases after steps 200 and 300
    _fails_with_one_line(_run("ant_dir_multitask_sac.py", "--block", "0"), "--block")
