"""Meta-test a trained PEARL checkpoint: the adaptation curve on held-out tasks.

Introduced in notebook 4::

    python -m pearl_lite.evaluate runs/spr
    python -m pearl_lite.evaluate runs/spr --checkpoint other/checkpoint.pt --num-evals 3
    python -m pearl_lite.evaluate runs/spr --snapshots --num-evals 5

Runs Algorithm 2 (``pearl_lite.pearl.meta_test.meta_test``) with the run's own protocol (the
official
one: on the sparse point robot 20 trajectories per test task, the first 5 with z from the
prior) and prints the return of each successive trajectory, averaged over the test tasks (and
the success rate on sparse tasks). Writes ``adaptation.json`` into the run folder (atomically)
unless ``--out`` names another file.

``--snapshots`` instead meta-tests every ``snapshots/agent_itNNNN.pt`` of a run trained with
``--snapshot-every`` and writes ``snapshots.json``: the meta-test learning curve (final return
and success by iteration and training minute), a steadier picture than the single meta-test
run that training logs every ``eval_every`` iterations.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pearl_lite.envs import make_env
from pearl_lite.pearl import MetaTestResult, PEARLAgent, meta_test
from pearl_lite.runtime.checkpoint import (
    AGENT_FILE,
    CHECKPOINT_FILE,
    CONFIG_FILE,
    CLIError,
    config_mismatch,
    load_checkpoint,
    read_run_config,
    snapshot_paths,
)
from pearl_lite.runtime.train import _Parser
from pearl_lite.utils import atomic_write_json

#: What ``--snapshots`` writes into the run folder (:func:`read_snapshots` reads it).
SNAPSHOTS_FILE = "snapshots.json"


def load_agent(run_dir: str | Path, checkpoint: str | Path | None = None,
               device: str = "cpu") -> tuple[PEARLAgent, Any, int]:
    """The agent of a run folder's checkpoint, with the run's config and seed.

    Raises:
        CLIError: no run folder, a corrupt checkpoint, or one from another config.
    """
    cfg, seed = read_run_config(run_dir)
    if checkpoint:
        path = Path(checkpoint)
    else:  # the full checkpoint, or the networks-only file of a shipped run
        path = Path(run_dir) / CHECKPOINT_FILE
        if not path.exists() and (Path(run_dir) / AGENT_FILE).exists():
            path = Path(run_dir) / AGENT_FILE
    state = load_checkpoint(path)
    diff = config_mismatch(state["config"], cfg)
    if diff:
        raise CLIError(f"{path} belongs to another config than {run_dir} (differs in "
                       f"{', '.join(diff)})")
    env = make_env(cfg.env, n_tasks=cfg.n_tasks, seed=0)
    agent = PEARLAgent(env.observation_space.shape[0], env.action_space.shape[0], cfg)
    try:
        # a full checkpoint of an eval_tau < 1 run also holds the meta-tested average
        agent.load_state_dict(state.get("eval_agent") or state["agent"])
    except (RuntimeError, KeyError) as err:
        raise CLIError(f"{path}: the networks do not fit the config: {err}") from None
    return agent.to(device), cfg, seed


def evaluate_run(
    run_dir: str | Path,
    checkpoint: str | Path | None = None,
    num_evals: int | None = None,
    tasks: str = "test",
    seed: int = 0,
) -> tuple[MetaTestResult, dict[str, Any]]:
    """Meta-test a run's checkpoint; returns the result and a JSON-ready summary."""
    agent, cfg, _ = load_agent(run_dir, checkpoint)
    env = make_env(cfg.env, n_tasks=cfg.n_tasks, seed=0)
    idx = env.test_task_idx if tasks == "test" else env.train_task_idx
    res = meta_test(agent, cfg, idx, num_evals=num_evals, seed=seed)
    summary: dict[str, Any] = {
        "run_dir": str(run_dir), "tasks": tasks, "task_indices": res.task_indices.tolist(),
        "num_exp_traj_eval": cfg.num_exp_traj_eval, "num_evals": num_evals or cfg.num_evals,
        "return_per_trajectory": res.returns.mean(0).tolist(),
        "final_return": res.final_return,
        "returns": res.returns.tolist(),
    }
    if res.success is not None:
        summary["success_per_trajectory"] = res.success.mean(0).tolist()
        summary["final_success"] = res.final_success
    return res, summary


def evaluate_snapshots(run_dir: str | Path, num_evals: int | None = None,
                       seed: int = 0) -> dict[str, Any]:
    """Meta-test every snapshot in ``run_dir/snapshots``; a JSON-ready summary, by iteration.

    Raises:
        CLIError: no snapshots in the run folder (or a bad one).
    """
    paths = snapshot_paths(run_dir)
    if not paths:
        raise CLIError(f"no snapshots in {Path(run_dir) / 'snapshots'}; train with "
                       "--snapshot-every K")
    rows = []
    for path in paths:
        state = load_checkpoint(path)
        _, summary = evaluate_run(run_dir, path, num_evals, "test", seed)
        row = {"iteration": int(state["iteration"]), "env_steps": int(state["env_steps"]),
               "wall_clock_min": round(float(state["elapsed"]) / 60, 2),
               "final_return": summary["final_return"],
               "return_per_trajectory": summary["return_per_trajectory"]}
        if "final_success" in summary:
            row["final_success"] = summary["final_success"]
            row["success_per_trajectory"] = summary["success_per_trajectory"]
        rows.append(row)
        print(f"iteration {row['iteration']:>5d} ({row['wall_clock_min']:6.1f} min): final "
              f"return {row['final_return']:8.3f}" + (
                  f", success {row['final_success']:.2f}" if "final_success" in row else ""),
              flush=True)
    return {"run_dir": str(run_dir), "num_evals": num_evals, "seed": seed, "snapshots": rows}


def read_snapshots(run_dir: str | Path, missing_ok: bool = False) -> dict[str, Any]:
    """A run folder's meta-tested snapshots (the file :func:`evaluate_snapshots` writes) as
    arrays sorted by iteration: the learning curves of notebooks 4 and 5.

    Reads ``RUN/snapshots.json`` (written by ``python -m pearl_lite.evaluate RUN --snapshots``
    after ``pearl_lite.train ... --snapshot-every K``, or by the benchmark command with
    ``--snapshot-every K``) and ``RUN/config.json``. ``missing_ok=True`` gives empty arrays
    (and ``seed`` None without a config) for a run without the file, as notebook 5 needs for
    runs trained without snapshots.

    Returns:
        ``seed`` (int) and float arrays of equal length ``(n_snapshots,)``: ``iteration``,
        ``env_steps``, ``minutes`` (the run's own ``wall_clock``), ``final_return`` and
        ``success`` (success at the last meta-test trajectory; NaN on dense families).

    Raises:
        ValueError: no ``snapshots.json`` (the message gives the command that writes it), or
            one without snapshots (unless ``missing_ok``).
    """
    run_dir = Path(run_dir)
    path = run_dir / SNAPSHOTS_FILE
    if missing_ok and not path.exists():
        snaps: list[dict[str, Any]] = []
    elif not path.exists():
        raise ValueError(f"{path} is missing: run `python -m pearl_lite.evaluate {run_dir} "
                         "--snapshots --num-evals 5` first")
    else:
        snaps = sorted(json.loads(path.read_text())["snapshots"], key=lambda r: r["iteration"])
    if not snaps and not missing_ok:
        raise ValueError(f"{path} holds no snapshots")

    def column(key: str) -> np.ndarray:
        return np.array([np.nan if r.get(key) is None else r[key] for r in snaps], dtype=float)

    config = run_dir / CONFIG_FILE
    seed = int(json.loads(config.read_text())["seed"]) if config.exists() else None
    return {"seed": seed,
            "iteration": column("iteration"), "env_steps": column("env_steps"),
            "minutes": column("wall_clock_min"), "final_return": column("final_return"),
            "success": column("final_success")}


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m pearl_lite.evaluate``."""
    parser = _Parser(prog="pearl-lite-evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", help="a run folder written by pearl_lite.train")
    parser.add_argument("--checkpoint", default=None,
                        help="default: RUN_DIR/checkpoint.pt, else RUN_DIR/agent.pt")
    parser.add_argument("--num-evals", type=int, default=None,
                        help="independent meta-test runs per task (default: the config's)")
    parser.add_argument("--tasks", choices=("test", "train"), default="test")
    parser.add_argument("--seed", type=int, default=0, help="seed of the z samples")
    parser.add_argument("--out", default=None,
                        help="default: RUN_DIR/adaptation.json (RUN_DIR/snapshots.json)")
    parser.add_argument("--snapshots", action="store_true",
                        help="meta-test every RUN_DIR/snapshots/agent_it*.pt instead")
    args = parser.parse_args(argv)
    try:
        if args.num_evals is not None and args.num_evals <= 0:
            raise CLIError(f"--num-evals must be positive, got {args.num_evals}")
        torch.set_num_threads(1)
        if args.snapshots:
            result = evaluate_snapshots(args.run_dir, args.num_evals, args.seed)
            out = Path(args.out) if args.out else Path(args.run_dir) / SNAPSHOTS_FILE
            atomic_write_json(out, result)
            print(f"wrote {out}")
            return 0
        res, summary = evaluate_run(args.run_dir, args.checkpoint, args.num_evals, args.tasks,
                                    args.seed)
    except CLIError as err:
        sys.stderr.write(f"pearl-lite-evaluate: error: {err}\n")
        return 1
    curve = np.asarray(summary["return_per_trajectory"])
    succ = summary.get("success_per_trajectory")
    k = summary["num_exp_traj_eval"]
    print(f"meta-test on {len(res.task_indices)} {args.tasks} tasks "
          f"({k} prior trajectories, then posterior sampling)")
    print("trajectory  return" + ("   success" if succ is not None else ""))
    for i, r in enumerate(curve):
        line = f"{i + 1:>10d}  {r:8.3f}"
        if succ is not None:
            line += f"   {succ[i]:7.2f}"
        print(line + ("   (prior)" if i < k else ""))
    print(f"final return (last trajectory, mean over tasks): {summary['final_return']:.3f}")
    if succ is not None:
        print(f"final success rate: {summary['final_success']:.2f}")
    out = Path(args.out) if args.out else Path(args.run_dir) / "adaptation.json"
    atomic_write_json(out, summary)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
