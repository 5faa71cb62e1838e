"""Run the paper's context ablations on the point robot and save their learning curves.

Introduced in notebook 4 (``notebooks/04_pearl.py``, section "Ablations")::

    python scripts/run_ablations.py --out data/ablations_point_robot
    python scripts/run_ablations.py --iterations 100 --seeds 0 1 --jobs 2
    python scripts/run_ablations.py --preset smoke --out /tmp/abl     # seconds, for tests

Three variants of PEARL, everything else equal (same preset, seeds, tasks):

- ``default``: PEARL as in the paper: probabilistic z (product of Gaussians + KL term), the
  encoder's context drawn from each task's *recent* data (the encoder buffer).
- ``deterministic``: ``use_information_bottleneck=False`` (the official flag): the encoder
  mean-pools the per-transition outputs into a point estimate of z, with no KL term and nothing
  to sample (paper, Section 6.3 / Fig. 7: a deterministic z cannot explore by posterior
  sampling).
- ``all-data``: the encoder's context is drawn from *all* of the task's data (the RL replay
  buffer, mostly off-policy) instead of the recent data. The config has no field for this, so
  :class:`AllDataContextTrainer` overrides the one method of ``MetaTrainer`` that draws
  context batches (paper, Section 6.3: "off-policy" context sampling hurts).

Writes into ``--out`` one ``<variant>_seed<k>.csv`` per run (the ``MetaTrainer`` log rows:
train and test returns, KL, posterior variance, timings), one ``<variant>_seed<k>_final.json``
(the meta-test adaptation curve of the trained agent on all test tasks) and ``config.json``
(the command, the resolved config of every variant, wall-clock times, library versions). A run
whose CSV and final JSON are already complete is skipped, so an interrupted call can be
repeated.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pearl_lite.config import PEARLConfig, get_config
from pearl_lite.pearl import MetaTrainer, meta_test
from pearl_lite.utils import CSVLogger, atomic_write_json, read_csv

Tensor = torch.Tensor

#: Config overrides of each variant (``all-data`` changes the trainer, not the config).
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "deterministic": {"use_information_bottleneck": False},
    "all-data": {},
}


class AllDataContextTrainer(MetaTrainer):
    """PEARL whose encoder sees context from *all* of a task's data (the ablation).

    ``MetaTrainer._context`` draws the context batch ``(T, N, context_dim)`` from the encoder
    buffer, which holds only the data of the task's latest collection round (near on-policy).
    Here it is drawn from the RL replay buffer instead, which holds everything ever collected
    for the task. Both the gradient steps and the posterior used while collecting data see this
    context; meta-testing is unchanged (its context is always the test task's own fresh data),
    which is exactly the mismatch the paper warns about.

    Only for dense tasks: on the sparse point robot the RL buffer stores the *dense* reward
    (the critic's), which the encoder must never see.
    """

    def __init__(self, cfg: PEARLConfig, seed: int = 0, device: str | torch.device = "cpu"):
        if cfg.is_sparse and not cfg.sparse_rewards_for_critic:
            raise ValueError("the all-data ablation would feed the dense reward of the RL "
                             "buffer into the context of a sparse task; use a dense task")
        super().__init__(cfg, seed=seed, device=device)

    def context_batch(self, slots: np.ndarray, n: int | None = None) -> Tensor:
        b = self.rl_buffer.sample(slots, n or self.cfg.embedding_batch_size)
        return self.agent.context(b["obs"], b["act"], b["rew"], b["next_obs"])


def variant_config(env: str, preset: str, variant: str, iterations: int | None,
                   threads: int = 1) -> PEARLConfig:
    """The config of one variant: the preset plus the variant's overrides."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; valid: {', '.join(VARIANTS)}")
    cfg = get_config(env, preset, torch_threads=threads, **VARIANTS[variant])
    return cfg.replace(num_iterations=iterations) if iterations else cfg


def make_trainer(cfg: PEARLConfig, variant: str, seed: int) -> MetaTrainer:
    """A ``MetaTrainer`` (or the all-data subclass) for ``variant``."""
    cls = AllDataContextTrainer if variant == "all-data" else MetaTrainer
    return cls(cfg, seed=seed)


def run_name(variant: str, seed: int) -> str:
    return f"{variant}_seed{seed}"


def _complete(out: Path, name: str, iterations: int) -> bool:
    csv_path, final = out / f"{name}.csv", out / f"{name}_final.json"
    if not (csv_path.exists() and final.exists()):
        return False
    log = read_csv(csv_path)
    return bool(log) and len(log["iteration"]) == iterations


def run_one(env: str, preset: str, variant: str, seed: int, iterations: int | None,
            out: str | Path, threads: int = 1, final_evals: int = 3) -> dict[str, Any]:
    """Train one variant with one seed; write its CSV and final meta-test JSON.

    Returns a small summary (name, wall-clock seconds, final test return).
    """
    out = Path(out)
    cfg = variant_config(env, preset, variant, iterations, threads)
    name = run_name(variant, seed)
    if _complete(out, name, cfg.num_iterations):
        summary = json.loads((out / f"{name}_final.json").read_text())
        return {"name": name, "skipped": True, "wall_clock": summary["wall_clock"]}
    trainer = make_trainer(cfg, variant, seed)
    log = CSVLogger(out / f"{name}.csv")
    t0 = time.time()
    for row in trainer.iterations():
        log.write(row)
    train_time = time.time() - t0
    # The trained agent's adaptation curve on every test task (averaged over final_evals runs).
    res = meta_test(trainer.agent, cfg, trainer.test_tasks, num_evals=final_evals, seed=seed)
    summary = {
        "variant": variant, "seed": seed, "iterations": trainer.iteration,
        "env_steps": trainer.env_steps, "wall_clock": train_time,
        "num_evals": final_evals, "task_indices": res.task_indices.tolist(),
        "return_per_trajectory": res.returns.mean(0).tolist(),
        "final_return": res.final_return,
    }
    if res.success is not None:
        summary["success_per_trajectory"] = res.success.mean(0).tolist()
    atomic_write_json(out / f"{name}_final.json", summary)
    return {"name": name, "skipped": False, "wall_clock": train_time,
            "final_return": res.final_return}


def _run_star(args: tuple) -> dict[str, Any]:
    return run_one(*args)


def _git_state() -> str:
    """The repository's commit, with ``+dirty`` if the library has uncommitted changes."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "pearl_lite"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="point-robot")
    parser.add_argument("--preset", default="lite", help="paper, lite or smoke (default lite)")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--iterations", type=int, default=None,
                        help="meta-training iterations (default: the preset's)")
    parser.add_argument("--jobs", type=int, default=1, help="runs in parallel (processes)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per run")
    parser.add_argument("--final-evals", type=int, default=3,
                        help="meta-test runs per test task for the final adaptation curve")
    parser.add_argument("--out", default="data/ablations_point_robot")
    args = parser.parse_args(argv)
    if args.jobs <= 0 or args.threads <= 0 or (args.iterations is not None
                                               and args.iterations <= 0):
        parser.error("--jobs, --threads and --iterations must be positive")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    configs = {v: variant_config(args.env, args.preset, v, args.iterations, args.threads)
               .to_dict() for v in args.variants}
    command = "python scripts/run_ablations.py " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    meta: dict[str, Any] = {
        "command": command, "env": args.env, "preset": args.preset,
        "variants": args.variants, "seeds": args.seeds, "iterations": args.iterations,
        "jobs": args.jobs, "threads": args.threads, "final_evals": args.final_evals,
        "configs": configs,
        "all-data": "AllDataContextTrainer in scripts/run_ablations.py: context from the RL "
                    "buffer (all data) instead of the encoder buffer (recent data)",
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "numpy": np.__version__, "git": _git_state()},
        "machine": f"{platform.machine()}, {mp.cpu_count()} CPU cores (shared with other jobs)",
        "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "runs": {},
    }
    atomic_write_json(out / "config.json", meta)
    jobs = [(args.env, args.preset, v, s, args.iterations, str(out), args.threads,
             args.final_evals) for s in args.seeds for v in args.variants]
    t0 = time.time()
    if args.jobs == 1:
        results = [_run_star(j) for j in jobs]
    else:
        with mp.get_context("spawn").Pool(args.jobs) as pool:
            results = pool.map(_run_star, jobs, chunksize=1)
    for r in results:
        meta["runs"][r["name"]] = r
        print(f"{r['name']}: {r['wall_clock']:.0f} s"
              + (" (already there)" if r["skipped"] else f", final test return "
                 f"{r['final_return']:.2f}"))
    meta["finished"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    meta["total_wall_clock"] = time.time() - t0
    atomic_write_json(out / "config.json", meta)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
