"""Why a sparse run misses goals: never found by posterior sampling, or found and then lost.

Meta-tests each run folder's final agent with the official protocol (20 trajectories, the first
5 with z from the prior) and splits the meta-test runs whose last trajectory fails into
*never found* (no earlier trajectory reached the goal: exploration failed) and *lost* (an
earlier one did, the last did not: the posterior did not keep to it), with
:func:`pearl_lite.course.pearl_measures.sparse_misses`. Prints a Markdown table.

    python scripts/sparse_misses.py data/sparse_point_robot_lite_decay_seed* --num-evals 5
    python scripts/sparse_misses.py runs/spr_ae_s2 --snapshots   # every kept snapshot too
    python scripts/sparse_misses.py data/sparse_point_robot_lite_decay_seed? --repeats
    python scripts/sparse_misses.py data/sparse_point_robot_lite_fast_pc25_seed? --lost

``--repeats`` adds two columns from :func:`pearl_lite.course.pearl_measures.search_repeats`:
of the posterior-sampling trajectories made while the goal was still unfound, the share that
searched within half a goal radius of a spot an earlier trajectory had already found empty,
and the share a search point drawn at random among the family's goals would have; and the
quarter of the semicircle where most of the repeated searches went.

``--lost`` adds the columns of :func:`pearl_lite.course.pearl_measures.lost_goals`: of the runs
that find their goal, how close the first find came to it in the runs that keep it and in
those that lose it, how many later trajectories reach it in each, and how far from the goal
(degrees on the semicircle) the lost runs' later misses aim; and, from
:func:`pearl_lite.course.pearl_measures.lost_beliefs`, how often one trajectory acting with the
mean of the belief inferred from the find alone, and from the find and everything after it,
reaches the goal in the lost runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pearl_lite.course.pearl_measures import (
    busiest_sector,
    lost_beliefs,
    lost_goals,
    search_repeats,
    sparse_misses,
)
from pearl_lite.envs import make_env
from pearl_lite.runtime.checkpoint import CLIError, read_run_config, snapshot_paths
from pearl_lite.runtime.evaluate import evaluate_run, load_agent


def run_misses(run_dir: Path, num_evals: int, checkpoint: Path | None = None,
               repeats: bool = False, lost: bool = False) -> dict[str, Any]:
    """:func:`sparse_misses` of ``run_dir``'s final agent (or ``checkpoint``) on its test tasks,
    meta-tested as ``pearl_lite.evaluate`` does; with ``repeats``, also :func:`search_repeats`
    (keys ``repeat``, ``chance``, ``sectors``); with ``lost``, also :func:`lost_goals` (under
    the key ``lost_goals``)."""
    cfg, _ = read_run_config(run_dir)
    if not cfg.is_sparse:
        raise ValueError(f"{run_dir} is a {cfg.env} run; only sparse-point-robot has goals "
                         "to find")
    res, _ = evaluate_run(run_dir, checkpoint, num_evals=num_evals)
    out: dict[str, Any] = sparse_misses(res.success_runs)
    env = make_env(cfg.env, n_tasks=cfg.n_tasks)
    if repeats:
        goals = np.stack([task["goal"] for task in env.tasks])
        rep = search_repeats(res.next_obs_runs, res.success_runs, goals, cfg.num_exp_traj_eval)
        out.update(repeat=rep["repeat"], chance=rep["chance"], sectors=rep["sectors"])
    if lost:
        goals = np.stack([env.tasks[i]["goal"] for i in res.task_indices])
        out["lost_goals"] = lost_goals(res.next_obs_runs, res.success_runs, goals,
                                       cfg.num_exp_traj_eval)
        agent, _, _ = load_agent(run_dir, checkpoint)
        out["lost_beliefs"] = lost_beliefs(agent, cfg, res.task_indices, num_evals)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="sparse-point-robot run folders")
    parser.add_argument("--num-evals", type=int, default=5, help="meta-test runs per task")
    parser.add_argument("--snapshots", action="store_true",
                        help="also every RUN/snapshots/agent_it*.pt, a row each")
    parser.add_argument("--repeats", action="store_true",
                        help="add the search-repeat columns (posterior trajectories that search "
                             "an already empty spot, and the chance rate)")
    parser.add_argument("--lost", action="store_true",
                        help="add the found-then-lost columns (closest approach of the first "
                             "find and later hits, in kept and in lost runs; where lost runs' "
                             "misses aim)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    extra = ((" searches repeated | chance | most repeats (repeats / searches there) |",
              " ---: | ---: | --- |") if args.repeats else ("", ""))
    if args.lost:
        extra = (extra[0] + " first find's closest approach: kept / lost | later hits: kept / "
                 "lost | lost runs' misses: angle from the goal (same side as the find) | lost "
                 "runs, mean-z hits from the find alone / the find and after / all |",
                 extra[1] + " ---: | ---: | ---: | ---: |")
    print("| run | success at the last trajectory | found earlier | found, then lost | "
          f"never found |{extra[0]}\n| --- | ---: | ---: | ---: | ---: |{extra[1]}")
    for run in args.runs:
        agents = [(run.name, None)]
        if args.snapshots:
            agents = [(f"{run.name} {p.stem}", p) for p in snapshot_paths(run)] + agents
        for name, checkpoint in agents:
            try:
                m = run_misses(run, args.num_evals, checkpoint, args.repeats, args.lost)
            except (ValueError, OSError, CLIError) as err:
                print(f"error: {err}", file=sys.stderr)
                return 1
            row = (f"| {name} | {m['final']:.2f} | {m['found']:.2f} | {m['lost']:.2f} | "
                   f"{m['never']:.2f} |")
            if args.repeats:
                lo, hi, reps, searches = busiest_sector(m["sectors"])
                row += (f" {m['repeat']:.2f} | {m['chance']:.2f} | {lo}-{hi} degrees"
                        f" ({reps} / {searches}) |")
            if args.lost:
                g = m["lost_goals"]
                row += (f" {g['closest_kept']:.2f} / {g['closest_lost']:.2f} |"
                        f" {g['later_kept']:.2f} / {g['later_lost']:.2f} |"
                        f" {g['miss_angle']:.0f} degrees ({g['same_side']:.2f}) |")
                b = m["lost_beliefs"]
                row += (f" {b['find']['lost'][0]} / {b['find_and_later']['lost'][0]} / "
                        f"{b['whole']['lost'][0]} of {b['whole']['lost'][1]} |")
            print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
