"""PEARL on ant-dir with the task's direction in the observation: is inferring z the trap?

    python benchmarks/ant_dir_oracle.py --preset lite --seed 0 --out runs/ant_oracle \\
        --set net_size=256 ...        # any arguments of python -m pearl_lite.train
    python benchmarks/ant_dir_oracle.py evaluate runs/ant_oracle --num-evals 3   # [--snapshots]
    python benchmarks/ant_dir_oracle.py --zero-z ...    # and "evaluate --zero-z": z = 0 always

An experiment of ``data/ant_dir_investigation.md``, not a task of the kit. Every observation of
``ant-dir`` gets two more numbers, the task's direction ``(cos a, sin a)``: ``(1, 0)`` forward,
``(-1, 0)`` backward. The policy and the critics then see which task they are in from the first
step, as a multi-task SAC given the task's identity would, and z has nothing left to tell them.
Everything else is PEARL unchanged (``pearl_lite.train``, or ``pearl_lite.evaluate`` after
``evaluate``): if such a run still stands still, the trap is learning two opposite gaits in one
network, not inferring which one to use. The run folder's ``config.json`` cannot say so (the
observation size it records is one that ant-dir does not have), so the folder name should.

``--zero-z`` (first argument, before ``evaluate`` too) also takes z out: every z that PEARL
samples is replaced by zeros, so the policy and the critics see only the observation and the
direction, and the encoder, with no critic gradient left, is trained by the KL term alone.
What remains is a multi-task SAC that keeps PEARL's data protocol, meta-batches, scales and
regularisers: if it walks where the plain oracle stands, z in the inputs is the trap.
"""

from __future__ import annotations

import sys

import numpy as np
import torch

from pearl_lite.envs.mujoco_tasks import AntDirEnv
from pearl_lite.pearl.agent import PEARLAgent
from pearl_lite.runtime.evaluate import main as evaluate_main
from pearl_lite.runtime.train import main

_ANT_OBS = AntDirEnv._get_obs  # gymnasium's ant observation (27 numbers for ant-dir)


def obs_with_direction(self: AntDirEnv) -> np.ndarray:
    """Replaces ``AntDirEnv._get_obs``: the ant's 27 numbers, then ``(cos a, sin a)`` (29)."""
    # The observation size is read once before any task is set; zeros stand in for it there.
    direction = getattr(self, "direction", np.zeros(2))
    return np.concatenate([_ANT_OBS(self), direction])


def zero_z(self: PEARLAgent, mu: torch.Tensor, var: torch.Tensor) -> torch.Tensor:
    """Replaces ``PEARLAgent.sample_z`` for ``--zero-z``: z = 0, ``(n_tasks, latent_dim)``."""
    return torch.zeros_like(mu)


if __name__ == "__main__":
    AntDirEnv._get_obs = obs_with_direction  # before train builds any environment
    args = sys.argv[1:]
    if args[:1] == ["--zero-z"]:
        PEARLAgent.sample_z = zero_z
        args = args[1:]
    if args[:1] == ["evaluate"]:
        raise SystemExit(evaluate_main(args[1:]))
    raise SystemExit(main(["ant-dir", *args]))
