"""Train our SAC on one environment and ship its learning curve (notebook 3 plots it).

    python benchmarks/sac_curves.py --env HalfCheetah-v5 --steps 30000 --seed 0
    python benchmarks/sac_curves.py --env ant-dir --task 0 --steps 150000   # one kit task

``--env`` is a gymnasium id or one of the kit's task families (``pearl_lite.envs.ENV_NAMES``);
a family needs ``--task``, the index of the one task SAC trains on, so that plain SAC can be set
against PEARL on the very environment PEARL meta-trains on (the family's horizon, reward and
observation, no latent context).

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

from pearl_lite.envs import ENV_NAMES, make_env
from pearl_lite.sac import SACConfig, train_sac
from pearl_lite.utils import atomic_write_json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="HalfCheetah-v5")
    parser.add_argument("--steps", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--task", type=int, default=None,
                        help="with a kit family as --env: the index of the task to train on")
    parser.add_argument("--eval-every", type=int, default=5000)
    parser.add_argument("--eval-episodes", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out-dir", default="data")
    parser.add_argument("--progress", action="store_true", help="show a progress bar")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cfg = SACConfig(seed=args.seed, device="cpu")
    load_before = os.getloadavg()
    if args.env in ENV_NAMES:
        if args.task is None:
            parser.error(f"--env {args.env} is a task family: give the task with --task")
        # Two instances of the family (the same seed, so the same tasks) on the one task: training
        # and deterministic evaluation.
        env, eval_env = make_env(args.env, seed=args.seed), make_env(args.env, seed=args.seed)
        try:
            for instance in (env, eval_env):
                instance.reset_task(args.task)  # checks the index and names the valid ones
        except ValueError as err:
            parser.error(f"--task for {args.env}: {err}")
        name = f"sac_{args.env.replace('-', '_')}_task{args.task}_s{args.seed}"
    else:
        if args.task is not None:
            parser.error("--task is only for the kit's task families "
                         f"({', '.join(ENV_NAMES)}), not for {args.env}")
        env, eval_env, name = args.env, None, f"sac_{args.env.split('-')[0].lower()}_s{args.seed}"
    out = Path(args.out_dir) / name
    _, log = train_sac(env, cfg, args.steps, eval_every=args.eval_every,
                       eval_episodes=args.eval_episodes, out_dir=out, progress=args.progress,
                       eval_env=eval_env)
    evals = log.arrays("evals")
    atomic_write_json(out / "summary.json", {
        "command": "python " + " ".join(shlex.quote(a) for a in sys.argv),
        "env": args.env, "task": args.task, "total_steps": args.steps, "config": asdict(cfg),
        "torch_threads": args.threads, "train_time_s": float(evals["train_time"][-1]),
        "final_eval_return": float(evals["eval_return"][-1]),
        "load_avg_before": load_before, "load_avg_after": os.getloadavg(),
        "note": "shared 2-core CPU under load from other jobs; the time is not a clean timing",
    })
    print(f"{args.env}: final deterministic return {evals['eval_return'][-1]:.1f} after "
          f"{args.steps} steps, {evals['train_time'][-1] / 60:.1f} min of training; wrote {out}/")


if __name__ == "__main__":
    main()
