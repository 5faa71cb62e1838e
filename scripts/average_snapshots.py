"""Would averaging the weights help? Meta-test the mean of a run's last K snapshots.

A run trained with ``--snapshot-every 5`` keeps its networks every 5 iterations. For each
iteration T asked for, this script averages the weights of the K snapshots up to T (T
included) and meta-tests that average beside the snapshot of T alone, with the official
protocol and the same z samples (``--seed``). Prints a Markdown table: a quick offline answer to
whether ``eval_tau < 1`` (a Polyak average of the weights, kept during training) would lift
or steady the meta-test curve, before paying for training runs.

    python scripts/average_snapshots.py runs/fast_s2_snap5/sparse-point-robot/seed2 \\
        --window 5 --at 275 300 325 350 375 400 425 450 475 500 --num-evals 5
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pearl_lite.runtime.checkpoint import CLIError, load_checkpoint, snapshot_paths
from pearl_lite.runtime.evaluate import evaluate_run


def average_states(states: list[dict[str, Any]]) -> dict[str, Any]:
    """The last of several agent files (``agent_state`` dicts) with its networks replaced by
    the mean of all of them; integer tensors are taken from the last."""
    if not states:
        raise ValueError("no snapshots to average")
    last = states[-1]["agent"]
    mean = {name: (torch.stack([s["agent"][name] for s in states]).mean(0)
                   if value.is_floating_point() else value)
            for name, value in last.items()}
    return dict(states[-1], agent=mean)


def window_at(iterations: list[int], at: int, window: int) -> list[int]:
    """The ``window`` snapshot iterations up to ``at`` (included); ``ValueError`` if ``at`` has
    no snapshot of its own."""
    if at not in iterations:
        raise ValueError(f"no snapshot at iteration {at}; the run has {iterations[0]}, "
                         f"{iterations[1] if len(iterations) > 1 else ''}... {iterations[-1]}")
    return [i for i in iterations if i <= at][-window:]


def compare(run_dir: Path, at: list[int], window: int, num_evals: int, seed: int = 0
            ) -> list[dict[str, Any]]:
    """For each iteration in ``at``: success (or return, on dense tasks) of its snapshot and of
    the average of the ``window`` snapshots up to it."""
    paths = {int(p.stem.removeprefix("agent_it")): p for p in snapshot_paths(run_dir)}
    if not paths:
        raise CLIError(f"no snapshots in {run_dir / 'snapshots'}; train with --snapshot-every K")
    iterations = sorted(paths)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for t in at:
            used = window_at(iterations, t, window)
            avg_file = Path(tmp) / f"avg_{t}.pt"
            torch.save(average_states([load_checkpoint(paths[i]) for i in used]), avg_file)
            _, single = evaluate_run(run_dir, paths[t], num_evals, "test", seed)
            _, avg = evaluate_run(run_dir, avg_file, num_evals, "test", seed)
            key = "final_success" if "final_success" in single else "final_return"
            rows.append({"iteration": t, "first": used[0], "n": len(used),
                         "single": single[key], "average": avg[key], "measure": key})
            print(f"iteration {t}: single {single[key]:.2f}, average of {len(used)} "
                  f"({used[0]}-{t}) {avg[key]:.2f}", file=sys.stderr, flush=True)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    """Markdown table of :func:`compare`'s rows, with the means and lowest values."""
    what = rows[0]["measure"].replace("final_", "")
    out = [f"| iteration | snapshot alone: {what} | average of the snapshots from | "
           f"average: {what} |", "| ---: | ---: | ---: | ---: |"]
    out += [f"| {r['iteration']} | {r['single']:.2f} | {r['first']} ({r['n']} snapshots) | "
            f"{r['average']:.2f} |" for r in rows]
    single = np.array([r["single"] for r in rows])
    avg = np.array([r["average"] for r in rows])
    out.append(f"| mean (lowest) | {single.mean():.2f} ({single.min():.2f}) | | "
               f"{avg.mean():.2f} ({avg.min():.2f}) |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a run folder trained with --snapshot-every")
    parser.add_argument("--window", type=int, default=5, help="snapshots per average")
    parser.add_argument("--at", type=int, nargs="+", required=True,
                        help="iterations to compare at (each must have a snapshot)")
    parser.add_argument("--num-evals", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0, help="seed of the z samples")
    args = parser.parse_args(argv)
    if args.window <= 0 or args.num_evals <= 0:
        print("error: --window and --num-evals must be positive", file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    try:
        print(table(compare(args.run, args.at, args.window, args.num_evals, args.seed)))
    except (CLIError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
