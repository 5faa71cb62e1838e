"""PEARL on ant-dir with both tasks forward: is the opposite second task what keeps the ant still?

    python benchmarks/ant_dir_forward_only.py --preset lite --seed 0 --out runs/ant_fwd \\
        --set net_size=256 n_layers=2 ...      # any arguments of python -m pearl_lite.train
    python benchmarks/ant_dir_forward_only.py evaluate runs/ant_fwd --num-evals 3   # [--snapshots]

An experiment of ``data/ant_dir_investigation.md``, not a task of the kit: it runs
``pearl_lite.train`` unchanged, with ``AntDirEnv``'s two tasks both set to angle 0 (forward), so
that PEARL meets exactly plain SAC's task (``benchmarks/sac_curves.py --env ant-dir --task 0``)
with its own machinery (the latent context, the value network, data collected 1,000 steps at a
time). The run folder's ``config.json`` cannot say so; the folder name should, and its
meta-test must be run through this script too (``evaluate``, then the arguments of
``python -m pearl_lite.evaluate``): plain ``pearl_lite.evaluate`` would test it on the backward
task.
"""

from __future__ import annotations

import sys
from typing import Any

from pearl_lite.envs.mujoco_tasks import AntDirEnv
from pearl_lite.runtime.evaluate import main as evaluate_main
from pearl_lite.runtime.train import main

_PAPER_TASKS = AntDirEnv._initial_tasks  # forward and backward; checks that n is 2


def forward_tasks(self: AntDirEnv, n: int) -> list[dict[str, Any]]:
    """Replaces ``AntDirEnv._initial_tasks``: its ``n`` (= 2) tasks, all turned forward."""
    return [dict(task, angle=0.0) for task in _PAPER_TASKS(self, n)]


if __name__ == "__main__":
    AntDirEnv._initial_tasks = forward_tasks  # before train builds any environment
    if sys.argv[1:2] == ["evaluate"]:
        raise SystemExit(evaluate_main(sys.argv[2:]))
    raise SystemExit(main(["ant-dir", *sys.argv[1:]]))
