"""Does an ant-dir agent's posterior tell forward from backward, and does its policy act on it?

    python benchmarks/ant_dir_beliefs.py data/ant_dir_lite_sacsize_seed0 [RUN ...] \\
        [--trajectories 4] [--num-evals 3]

An experiment of ``data/ant_dir_investigation.md``. For each run folder it meta-tests the agent
on ant-dir's two tasks with the official protocol (the first ``num_exp_traj_eval`` trajectories
with z from the prior, then z from the posterior over all context so far) and prints, per task
and trajectory:

- the return and the torso's displacement along the task's direction (metres; the sum of the
  observed x-velocity ``qvel[0]`` times ``dt``, turned by the task's angle), and how many of
  the 200 steps the trajectory lasted (an ant whose torso leaves the healthy height range ends
  its episode early and loses the survive bonus of the steps it did not live);
- for the posterior trajectories, how far apart the two tasks' beliefs are: the largest over the
  latent dimensions of ``|mu_fwd - mu_bwd| / sqrt((var_fwd + var_bwd) / 2)`` (a z-score; above
  about 3 the two posteriors do not overlap in that dimension).

A standing policy with separated beliefs means the encoder has learnt the task and the policy
has not (yet) learnt to act on it; a standing policy with overlapping beliefs, that z is blind.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np
import torch

from pearl_lite.pearl.meta_test import meta_test
from pearl_lite.runtime.checkpoint import CLIError
from pearl_lite.runtime.evaluate import load_agent

#: ``qvel`` starts after ``qpos[2:]`` (13 entries) in ant-dir's observation; ``qvel[0]`` is the
#: torso's x-velocity.
_X_VELOCITY = 13


def beliefs(run_dir: str, trajectories: int = 4, num_evals: int = 3) -> dict[str, Any]:
    """Per-task, per-trajectory returns, displacements and the posterior separation of a run.

    Returns:
        ``returns``, ``displacement`` and ``steps`` (the trajectory's length):
        ``(2, trajectories)`` means over ``num_evals`` runs (task 0 forward, task 1 backward);
        ``separation``: ``(trajectories,)``, the z-score
        above for each trajectory of the first run (0 for prior trajectories);
        ``num_exp_traj_eval``: how many trajectories used the prior.
    """
    agent, cfg, _ = load_agent(run_dir)
    if cfg.env != "ant-dir":
        raise CLIError(f"{run_dir} is a {cfg.env} run; this script reads ant-dir runs")
    disp = np.zeros((2, trajectories))
    returns = np.zeros((2, trajectories))
    steps = np.zeros((2, trajectories))
    sep = np.zeros(trajectories)
    sign = np.array([1.0, -1.0])[:, None]  # forward along +x, backward along -x
    for run in range(num_evals):
        res = meta_test(agent, cfg, [0, 1], n_trajs=trajectories, num_evals=1, seed=run,
                        env_seed=1000 * run)
        returns += res.returns / num_evals
        for k, paths in enumerate(res.paths):
            vx = paths.next_obs[..., _X_VELOCITY] * paths.valid  # (2, H)
            disp[:, k] += sign[:, 0] * vx.sum(1) * 0.05 / num_evals  # dt = 0.05
            steps[:, k] += paths.valid.sum(1) / num_evals
        if run == 0:
            mu, var = res.z_mu, res.z_var  # (trajectories, 2, latent_dim)
            gap, sd = np.abs(mu[:, 0] - mu[:, 1]), np.sqrt((var[:, 0] + var[:, 1]) / 2)
            # a deterministic encoder (use_information_bottleneck=False) has sd 0: any gap is inf
            with np.errstate(divide="ignore", invalid="ignore"):
                sep = np.where(gap > 0, gap / sd, 0.0).max(1)
    return {"returns": returns, "displacement": disp, "steps": steps, "separation": sep,
            "num_exp_traj_eval": cfg.num_exp_traj_eval}


def table(run_dir: str, out: dict[str, Any]) -> str:
    """A markdown table of :func:`beliefs`' result."""
    n = out["returns"].shape[1]
    rows = [f"**{run_dir}**", "",
            "| trajectory | z from | return fwd | return bwd | metres fwd | metres bwd | "
            "steps fwd | steps bwd | belief z-score |",
            "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for k in range(n):
        prior = k < out["num_exp_traj_eval"]
        rows.append(
            f"| {k + 1} | {'prior' if prior else 'posterior'} | {out['returns'][0, k]:.0f} | "
            f"{out['returns'][1, k]:.0f} | {out['displacement'][0, k]:.2f} | "
            f"{out['displacement'][1, k]:.2f} | {out['steps'][0, k]:.0f} | "
            f"{out['steps'][1, k]:.0f} | "
            f"{'' if prior else format(out['separation'][k], '.1f')} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("runs", nargs="+", help="ant-dir run folders")
    p.add_argument("--trajectories", type=int, default=4)
    p.add_argument("--num-evals", type=int, default=3)
    args = p.parse_args(argv)
    if args.trajectories < 1 or args.num_evals < 1:
        print("error: --trajectories and --num-evals must be at least 1", file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    for run in args.runs:
        try:
            out = beliefs(run, args.trajectories, args.num_evals)
        except CLIError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        print(table(run, out), end="\n\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
