"""The benchmark scripts still run (tiny budgets; their timings are not checked here)."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def test_preset_timing_prints_one_row_per_family():
    r = subprocess.run([sys.executable, str(BENCH / "preset_timing.py"), "--preset", "smoke",
                        "--names", "point-robot", "sparse-point-robot", "--iterations", "1"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    rows = [line for line in r.stdout.splitlines() if line.startswith("| ")]
    assert any(row.startswith("| point-robot |") for row in rows), r.stdout
    assert any(row.startswith("| sparse-point-robot |") for row in rows), r.stdout


def test_preset_timing_rejects_unknown_family():
    r = subprocess.run([sys.executable, str(BENCH / "preset_timing.py"), "--names", "mars-rover"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr and "mars-rover" in r.stderr


def test_pearl_step_runs_and_reports_the_fraction_of_peak():
    r = subprocess.run([sys.executable, str(BENCH / "pearl_step.py"), "--threads", "1",
                        "--steps", "1"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "gradient steps/s" in r.stdout and "fraction of peak" in r.stdout, r.stdout


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present (see gpu_check.sh)")
def test_pearl_step_without_a_gpu_says_so():
    r = subprocess.run([sys.executable, str(BENCH / "pearl_step.py"), "--device", "cuda"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr and "no CUDA device" in r.stderr


def test_pearl_step_rejects_an_unknown_config_key():
    r = subprocess.run([sys.executable, str(BENCH / "pearl_step.py"), "--set", "mars_rover=1"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr and "mars_rover" in r.stderr
