"""Time and data to a solution, per seed: a Markdown table from run folders' ``snapshots.json``.

For each run folder (``python -m pearl_lite.train ... --snapshot-every K``, then
``python -m pearl_lite.evaluate RUN --snapshots --num-evals 5``), reads the meta-test of every
snapshot and prints one row: the first snapshot whose success at the last trajectory reaches
the threshold (minutes of training, environment steps, iteration), whether it *stays* there
(every later snapshot at least the threshold, and the lowest later one), when it *settles*
(the snapshot from which on every snapshot is at least the threshold: minutes and iteration),
the last snapshot and the mean of the last five. Then the median and worst minutes over the
seeds that reach it, and over those that settle.

    python scripts/seed_table.py data/sparse_point_robot_lite_decay_seed*
    python scripts/seed_table.py runs/spr_async_s* --threshold 0.8

Minutes are the run's own ``wall_clock`` (training time, summed over resumes): they depend on
the machine and on what else ran on it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from pearl_lite.course.pearl_viz import at_least, first_reaching, reaching_summary, snapshot_curve


def seed_row(run_dir: Path, threshold: float) -> dict[str, Any]:
    """The table row of one run folder (raises ``ValueError`` without ``snapshots.json``).

    ``first`` keeps :func:`first_reaching`'s result (``None`` for never) for the summary line.
    """
    curve = snapshot_curve(run_dir)
    success = curve["success"]
    if np.isnan(success[0]):
        raise ValueError(f"{run_dir / 'snapshots.json'} has no success rates "
                         "(a task family without a goal region?)")
    first = first_reaching(curve, threshold)
    row: dict[str, Any] = {"run": run_dir.name, "seed": curve["seed"], "snapshots": len(success),
                           "last": float(success[-1]), "last5": float(success[-5:].mean()),
                           "first_min": None, "first_steps": None, "first_iteration": None,
                           "stays": False, "min_after": None, "settled_min": None,
                           "settled_iteration": None, "first": first}
    if first is not None:
        row.update(first_min=first["minutes"], first_steps=first["env_steps"],
                   first_iteration=first["iteration"], stays=first["stays"],
                   min_after=first["min_after"])
        if first["settled"] is not None:
            row.update(settled_min=first["settled"]["minutes"],
                       settled_iteration=first["settled"]["iteration"])
    return row


def table(rows: list[dict[str, Any]], threshold: float) -> str:
    """The Markdown table of :func:`seed_row` rows, with a summary line."""
    out = [f"| run | seed | first success >= {threshold:g}: minutes | env steps | iteration | "
           "stays (lowest later snapshot) | settles: minutes (iteration) | last snapshot | "
           "mean of last 5 |",
           "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        if r["first_min"] is None:
            first = "never | | "
        else:
            first = f"{r['first_min']:.1f} | {r['first_steps'] / 1e6:.2f}M | {r['first_iteration']}"
        stays = "" if r["min_after"] is None else \
            f"{'yes' if r['stays'] else 'no'} ({r['min_after']:.2f})"
        settles = "never" if r["settled_min"] is None else \
            f"{r['settled_min']:.1f} ({r['settled_iteration']})"
        out.append(f"| {r['run']} | {r['seed']} | {first} | {stays} | {settles} | "
                   f"{r['last']:.2f} | {r['last5']:.2f} |")
    n_last5 = int(at_least([r["last5"] for r in rows], threshold).sum())
    summary = (reaching_summary([r["first"] for r in rows], threshold, noun="runs",
                                settles=True)
               + f"; {n_last5} end with a mean of the last five snapshots >= {threshold:g}")
    return "\n".join(out) + "\n\n" + summary + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run folders with snapshots.json")
    parser.add_argument("--threshold", type=float, default=0.8,
                        help="success at the last trajectory that counts as solved")
    args = parser.parse_args(argv)
    try:
        rows = [seed_row(d, args.threshold) for d in args.runs]
    except (ValueError, OSError, KeyError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(table(rows, args.threshold), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
