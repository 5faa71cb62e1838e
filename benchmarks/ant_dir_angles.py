"""PEARL on ant-dir with two other directions than forward and backward (the official config's).

    python benchmarks/ant_dir_angles.py --angles 229.3 97.1 --preset lite --seed 0 \\
        --out runs/ant_angles --set net_size=256 ...   # then any arguments of pearl_lite.train
    python benchmarks/ant_dir_angles.py --angles 229.3 97.1 evaluate runs/ant_angles --num-evals 3

An experiment of ``data/ant_dir_investigation.md``, not a task of the kit. oyster's
``configs/ant-dir.json`` builds its ``AntDirEnv`` without ``forward_backward=True``, so its two
tasks are two angles drawn from ``U(0, 2 pi)``, not the paper's forward and backward. Two
directions less than 180 degrees apart share a bisector that earns in both tasks, so a policy
that cannot yet tell them apart is not pushed to stand still. This script sets ant-dir's two
tasks to the given angles (degrees) and runs ``pearl_lite.train`` (or, after ``evaluate``,
``pearl_lite.evaluate``) unchanged; the run folder's ``config.json`` cannot say so, so the
folder name should, and its meta-test must go through this script with the same angles.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from pearl_lite.envs.mujoco_tasks import AntDirEnv
from pearl_lite.runtime.evaluate import main as evaluate_main
from pearl_lite.runtime.train import main

_PAPER_TASKS = AntDirEnv._initial_tasks  # forward and backward; checks that n is 2


def angle_tasks(degrees: tuple[float, float]):
    """A replacement for ``AntDirEnv._initial_tasks``: its 2 tasks turned to ``degrees``."""

    def tasks(self: AntDirEnv, n: int) -> list[dict[str, Any]]:
        return [dict(task, angle=math.radians(d))
                for task, d in zip(_PAPER_TASKS(self, n), degrees, strict=True)]

    return tasks


if __name__ == "__main__":
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--angles", type=float, nargs=2, required=True, metavar="DEGREES")
    args, rest = parser.parse_known_args()
    AntDirEnv._initial_tasks = angle_tasks(tuple(args.angles))  # before any env is built
    if rest[:1] == ["evaluate"]:
        raise SystemExit(evaluate_main(rest[1:]))
    raise SystemExit(main(["ant-dir", *rest]))
