"""Train our SAC on one environment and ship its learning curve (notebook 3 plots it).

    python benchmarks/sac_curves.py --env HalfCheetah-v5 --steps 30000 --seed 0

Writes the folder ``data/sac_<env>_s<seed>/``: ``progress.csv`` (one row per training episode:
return, losses, temperature), ``eval.csv`` (deterministic evaluation returns), ``config.json``
(the SAC config) and, at the end, ``summary.json`` (the command, the training time and the
machine's load). The CSV files grow row by row, so an interrupted run keeps its curve.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from dataclasses import asdict
from pathlib import Path

import torch

from pearl_lite.sac import SACConfig, train_sac
from pearl_lite.utils import atomic_write_json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="HalfCheetah-v5")
    parser.add_argument("--steps", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-every", type=int, default=5000)
    parser.add_argument("--eval-episodes", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out-dir", default="data")
    parser.add_argument("--progress", action="store_true", help="show a progress bar")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cfg = SACConfig(seed=args.seed, device="cpu")
    load_before = os.getloadavg()
    out = Path(args.out_dir) / f"sac_{args.env.split('-')[0].lower()}_s{args.seed}"
    _, log = train_sac(args.env, cfg, args.steps, eval_every=args.eval_every,
                       eval_episodes=args.eval_episodes, out_dir=out, progress=args.progress)
    evals = log.arrays("evals")
    atomic_write_json(out / "summary.json", {
        "command": "python " + " ".join(shlex.quote(a) for a in sys.argv),
        "env": args.env, "total_steps": args.steps, "config": asdict(cfg),
        "torch_threads": args.threads, "train_time_s": float(evals["train_time"][-1]),
        "final_eval_return": float(evals["eval_return"][-1]),
        "load_avg_before": load_before, "load_avg_after": os.getloadavg(),
        "note": "shared 2-core CPU under load from other jobs; the time is not a clean timing",
    })
    print(f"{args.env}: final deterministic return {evals['eval_return'][-1]:.1f} after "
          f"{args.steps} steps, {evals['train_time'][-1] / 60:.1f} min of training; wrote {out}/")


if __name__ == "__main__":
    main()
