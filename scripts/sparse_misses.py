"""Why a sparse run misses goals: never found by posterior sampling, or found and then lost.

Meta-tests each run folder's final agent with the official protocol (20 trajectories, the first
5 with z from the prior) and splits the meta-test runs whose last trajectory fails into
*never found* (no earlier trajectory reached the goal: exploration failed) and *lost* (an
earlier one did, the last did not: the posterior did not keep to it), with
:func:`pearl_lite.course.pearl_measures.sparse_misses`. Prints a Markdown table.

    python scripts/sparse_misses.py data/sparse_point_robot_lite_decay_seed* --num-evals 5
    python scripts/sparse_misses.py runs/spr_ae_s2 --snapshots   # every kept snapshot too
    python scripts/sparse_misses.py data/sparse_point_robot_lite_decay_seed? --repeats

``--repeats`` adds two columns from :func:`pearl_lite.course.pearl_measures.search_repeats`:
of the posterior-sampling trajectories made while the goal was still unfound, the share that
searched within half a goal radius of a spot an earlier trajectory had already found empty,
and the share a search point drawn at random among the family's goals would have; and the
quarter of the semicircle where most of the repeated searches went.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pearl_lite.course.pearl_measures import busiest_sector, search_repeats, sparse_misses
from pearl_lite.envs import make_env
from pearl_lite.runtime.checkpoint import CLIError, read_run_config, snapshot_paths
from pearl_lite.runtime.evaluate import evaluate_run


def run_misses(run_dir: Path, num_evals: int, checkpoint: Path | None = None,
               repeats: bool = False) -> dict[str, Any]:
    """:func:`sparse_misses` of ``run_dir``'s final agent (or ``checkpoint``) on its test tasks,
    meta-tested as ``pearl_lite.evaluate`` does; with ``repeats``, also :func:`search_repeats`
    (keys ``repeat``, ``chance``, ``sectors``)."""
    cfg, _ = read_run_config(run_dir)
    if not cfg.is_sparse:
        raise ValueError(f"{run_dir} is a {cfg.env} run; only sparse-point-robot has goals "
                         "to find")
    res, _ = evaluate_run(run_dir, checkpoint, num_evals=num_evals)
    out: dict[str, Any] = sparse_misses(res.success_runs)
    if repeats:
        goals = np.stack([task["goal"] for task in make_env(cfg.env, n_tasks=cfg.n_tasks).tasks])
        rep = search_repeats(res.next_obs_runs, res.success_runs, goals, cfg.num_exp_traj_eval)
        out.update(repeat=rep["repeat"], chance=rep["chance"], sectors=rep["sectors"])
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
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    extra = ((" searches repeated | chance | most repeats (repeats / searches there) |",
              " ---: | ---: | --- |") if args.repeats else ("", ""))
    print("| run | success at the last trajectory | found earlier | found, then lost | "
          f"never found |{extra[0]}\n| --- | ---: | ---: | ---: | ---: |{extra[1]}")
    for run in args.runs:
        agents = [(run.name, None)]
        if args.snapshots:
            agents = [(f"{run.name} {p.stem}", p) for p in snapshot_paths(run)] + agents
        for name, checkpoint in agents:
            try:
                m = run_misses(run, args.num_evals, checkpoint, args.repeats)
            except (ValueError, OSError, CLIError) as err:
                print(f"error: {err}", file=sys.stderr)
                return 1
            row = (f"| {name} | {m['final']:.2f} | {m['found']:.2f} | {m['lost']:.2f} | "
                   f"{m['never']:.2f} |")
            if args.repeats:
                lo, hi, reps, searches = busiest_sector(m["sectors"])
                row += (f" {m['repeat']:.2f} | {m['chance']:.2f} | {lo}-{hi} degrees"
                        f" ({reps} / {searches}) |")
            print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
