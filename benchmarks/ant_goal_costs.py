"""Where does an ant-goal agent's return go: distance to the goal, or the costs of moving?

    python benchmarks/ant_goal_costs.py data/ant_goal_lite_seed0 [RUN ...] [--num-evals 3]

For each run folder it meta-tests the agent on the test tasks with the official protocol and
splits each trajectory's return into its two parts (``AntGoalEnv``'s reward):

- the goal term ``-sum_t ||xy_t - goal||_1``, computed from the torso's x, y, which are the
  first two entries of ant-goal's observation;
- the costs, the rest of the return: ``-0.1 sum(a**2)`` and the contact cost.

It also prints the L1 distance to the goal at the first and at the last step. The zero action
(standing still, ``data/baseline_returns.md``) keeps the ant near the start, so its goal term is
about ``-200 * ||goal||_1`` and its costs are near 0: an agent below standing still either does
not get closer to the goal than it started, or pays more in costs than it gains in distance.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np
import torch

from pearl_lite.envs import make_env
from pearl_lite.pearl.meta_test import meta_test
from pearl_lite.runtime.checkpoint import CLIError
from pearl_lite.runtime.evaluate import load_agent


def split_returns(run_dir: str, num_evals: int = 3) -> dict[str, Any]:
    """Per-trajectory return, goal term, costs and distances of a run, means over tasks.

    Returns:
        ``returns``, ``goal_term``, ``costs``, ``dist_start``, ``dist_end``: ``(n_trajs,)``
        means over the test tasks and ``num_evals`` runs; ``num_exp_traj_eval``: how many
        trajectories used the prior.
    """
    agent, cfg, _ = load_agent(run_dir)
    if cfg.env != "ant-goal":
        raise CLIError(f"{run_dir} is a {cfg.env} run; this script reads ant-goal runs")
    env = make_env(cfg.env, n_tasks=cfg.n_tasks, seed=0)
    idx = list(env.test_task_idx)
    goals = np.stack([np.asarray(env.tasks[i]["goal"]) for i in idx])  # (n, 2)
    parts: dict[str, list[np.ndarray]] = {k: [] for k in
                                          ("returns", "goal_term", "dist_start", "dist_end")}
    for run in range(num_evals):
        res = meta_test(agent, cfg, idx, num_evals=1, seed=run, env_seed=1000 * run)
        per_traj = {k: [] for k in parts}
        for paths in res.paths:  # one per trajectory index, each (n, H, ...)
            dist = np.abs(paths.next_obs[..., :2] - goals[:, None, :]).sum(-1)  # (n, H)
            per_traj["returns"].append(paths.returns)
            per_traj["goal_term"].append(-(dist * paths.valid).sum(1))
            per_traj["dist_start"].append(np.abs(paths.obs[:, 0, :2] - goals).sum(-1))
            per_traj["dist_end"].append(dist[:, -1])
        for k in parts:
            parts[k].append(np.stack(per_traj[k], axis=1))  # (n, n_trajs)
    out: dict[str, Any] = {k: np.mean(v, axis=(0, 1)) for k, v in parts.items()}
    out["costs"] = out["returns"] - out["goal_term"]
    out["num_exp_traj_eval"] = cfg.num_exp_traj_eval
    return out


def table(run_dir: str, out: dict[str, Any]) -> str:
    """A markdown table of :func:`split_returns`' result."""
    rows = [f"**{run_dir}**", "",
            "| trajectory | z from | return | goal term | costs | L1 to goal, start | "
            "L1 to goal, end |", "| ---: | --- | ---: | ---: | ---: | ---: | ---: |"]
    for k in range(len(out["returns"])):
        prior = k < out["num_exp_traj_eval"]
        rows.append(
            f"| {k + 1} | {'prior' if prior else 'posterior'} | {out['returns'][k]:.1f} | "
            f"{out['goal_term'][k]:.1f} | {out['costs'][k]:.1f} | "
            f"{out['dist_start'][k]:.2f} | {out['dist_end'][k]:.2f} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("runs", nargs="+", help="ant-goal run folders")
    p.add_argument("--num-evals", type=int, default=3)
    args = p.parse_args(argv)
    if args.num_evals < 1:
        print("error: --num-evals must be at least 1", file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    for run in args.runs:
        try:
            out = split_returns(run, args.num_evals)
        except CLIError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        print(table(run, out), end="\n\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
