"""How much does one meta-test of the same agent vary? Repeat it with other z seeds.

A learning curve made of snapshot meta-tests wiggles for two reasons: the agent changes from one
snapshot to the next, and each meta-test is itself a random draw (the z samples from the prior
and the posterior). This script measures the second part alone: it meta-tests one run's final
agent (official protocol, ``--num-evals`` runs per test task, as ``python -m
pearl_lite.evaluate RUN --seed S``) once for each seed in ``--seeds`` and prints, per run, the
mean, standard deviation, lowest and highest of the final success (sparse tasks) or final
return (dense ones), and how often a single meta-test falls below ``--threshold``.

    python scripts/eval_noise.py data/sparse_point_robot_lite_decay_seed6 \
        data/sparse_point_robot_lite_decay_seed3 --seeds 1-20 --num-evals 5
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from pearl_lite.runtime.checkpoint import CLIError, read_run_config
from pearl_lite.runtime.evaluate import evaluate_run


def parse_seeds(text: str) -> list[int]:
    """``"1-20"`` -> [1, ..., 20]; ``"3,5,8"`` -> [3, 5, 8].

    Raises:
        ValueError: not a range ``A-B`` with A <= B, nor a comma-separated list of integers.
    """
    try:
        if "-" in text:
            first, last = (int(x) for x in text.split("-"))
            if first <= last:
                return list(range(first, last + 1))
        else:
            return [int(x) for x in text.split(",")]
    except ValueError:
        pass
    raise ValueError(f"--seeds must look like 1-20 or 3,5,8, got {text!r}")


def spread(values: list[float], threshold: float | None = None) -> dict[str, float]:
    """Mean, sample standard deviation, min and max of repeated meta-tests of one agent, and
    (with ``threshold``) the share of them below it."""
    v = np.asarray(values, dtype=float)
    if v.size < 2:
        raise ValueError(f"need at least 2 repeats to measure a spread, got {v.size}")
    out = {"mean": float(v.mean()), "std": float(v.std(ddof=1)), "min": float(v.min()),
           "max": float(v.max())}
    if threshold is not None:
        out["below"] = float((v < threshold).mean())
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run folders with a final agent")
    parser.add_argument("--seeds", default="1-20", help="z seeds: 1-20 (default) or 3,5,8")
    parser.add_argument("--num-evals", type=int, default=5, help="meta-test runs per task")
    parser.add_argument("--threshold", type=float, default=None,
                        help="also count the meta-tests below this (default: 0.8 for sparse "
                             "tasks, none for dense ones)")
    args = parser.parse_args(argv)
    try:
        seeds = parse_seeds(args.seeds)
    except ValueError as err:
        parser.error(str(err))
    torch.set_num_threads(1)
    print("| run | metric | meta-tests | mean | std | min | max | below threshold |\n"
          "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for run in args.runs:
        try:
            cfg, _ = read_run_config(run)
            key = "final_success" if cfg.is_sparse else "final_return"
            threshold = args.threshold if args.threshold is not None else (
                0.8 if cfg.is_sparse else None)
            values = [evaluate_run(run, num_evals=args.num_evals, seed=s)[1][key]
                      for s in seeds]
            s = spread(values, threshold)
        except (ValueError, OSError, CLIError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        below = f"{s['below']:.2f} (< {threshold:g})" if threshold is not None else ""
        print(f"| {run.name} | {key.replace('_', ' ')} | {len(values)} | {s['mean']:.3f} | "
              f"{s['std']:.3f} | {s['min']:.2f} | {s['max']:.2f} | {below} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
