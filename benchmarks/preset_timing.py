"""How long does a preset's PEARL run take? Seconds per iteration, split, and projected minutes.

For every task family asked for, builds ``MetaTrainer(get_config(env, preset), seed=0)``, runs
its first iteration (which also collects the initial data, ``num_initial_steps`` per training
task), then times ``--iterations`` more. The split comes from the trainer's own log row
(``time_collect``, ``time_train``, ``time_eval``); when none of the timed iterations
meta-tests (``eval_every`` > 1), one meta-test is timed on its own with
``pearl_lite.pearl.meta_test`` on the same test tasks the trainer uses. Prints a Markdown table:

- env steps and gradient steps per iteration (after the first);
- seconds per iteration: data collection / gradient steps / meta-test, the last amortised over
  ``eval_every`` iterations (the meta-test time itself is in the ``eval`` column);
- the first iteration's data collection (initial data included), and the projected minutes
  of a whole run of the preset's ``num_iterations``: first iteration + (n - 1) iterations of
  collection and gradient steps + every meta-test the trainer would run.

    python benchmarks/preset_timing.py                       # all 9 families, lite, 2 itr.
    python benchmarks/preset_timing.py --names cheetah-vel ant-dir --iterations 3
    python benchmarks/preset_timing.py --names cheetah-vel --set num_train_steps_per_itr=50

Threads: ``torch.set_num_threads(cfg.torch_threads)`` of each config (``--threads`` overrides).
Timings depend on the machine and on whatever else runs on it; the report prints the load
average (``os.getloadavg``) before and after each family.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from pearl_lite.config import ENV_NAMES, PRESETS, PEARLConfig, get_config, parse_overrides
from pearl_lite.envs import make_vector_env
from pearl_lite.pearl import MetaTrainer, meta_test


@dataclass
class Timing:
    """What :func:`time_preset` measured for one family (seconds unless said otherwise)."""

    env: str
    cfg: PEARLConfig
    first_collect: float
    """Data collection of the first iteration (the initial data included)."""
    first_train: float
    env_steps_per_itr: float
    grad_steps_per_itr: float
    collect: float
    """Mean data collection per iteration over the timed iterations."""
    train: float
    """Mean gradient steps per iteration over the timed iterations."""
    eval: float
    """One meta-test, as the trainer runs it."""
    eval_env_steps: int
    load: tuple[float, float]
    """Load average (1 min) before and after."""

    @property
    def n_evals(self) -> int:
        """Meta-tests a whole run does (every ``eval_every`` iterations and at the end)."""
        n, k = self.cfg.num_iterations, self.cfg.eval_every
        return n // k + (n % k != 0)

    @property
    def per_itr(self) -> float:
        """Seconds per iteration with the meta-test amortised."""
        return self.collect + self.train + self.eval * self.n_evals / self.cfg.num_iterations

    @property
    def projected_min(self) -> float:
        """Projected minutes of the whole run (``cfg.num_iterations`` iterations)."""
        n = self.cfg.num_iterations
        total = self.first_collect + self.first_train + (n - 1) * (self.collect + self.train)
        return (total + self.n_evals * self.eval) / 60


def time_preset(env: str, preset: str = "lite", iterations: int = 2,
                threads: int | None = None, **overrides: Any) -> Timing:
    """Time the first iteration and ``iterations`` more of ``env``'s ``preset`` (seed 0)."""
    cfg = get_config(env, preset, **overrides)
    if threads is not None:
        cfg = cfg.replace(torch_threads=threads)
    torch.set_num_threads(cfg.torch_threads)  # MetaTrainer does the same
    load0 = os.getloadavg()[0]
    trainer = MetaTrainer(cfg, seed=0)
    first = next(trainer.iterations(1))
    steps0, grads0 = trainer.env_steps, trainer.grad_steps
    rows = list(trainer.iterations(iterations))
    evals = [r["time_eval"] for r in [first, *rows] if r["test_return"] != ""]
    if evals:
        eval_s = float(np.mean(evals))
    else:  # no timed iteration meta-tested: time one meta-test as the trainer would run it
        tasks = trainer.eval_tasks
        venv = make_vector_env(cfg.env, tasks, seed=0, n_tasks=cfg.n_tasks)  # built untimed
        t = time.perf_counter()
        meta_test(trainer.agent, cfg, tasks, seed=0, venv=venv)
        eval_s = time.perf_counter() - t
    n_tasks = len(trainer.eval_tasks)
    n_trajs = -(-cfg.num_steps_per_eval // cfg.max_path_length)
    return Timing(
        env=env, cfg=cfg, first_collect=first["time_collect"], first_train=first["time_train"],
        env_steps_per_itr=(trainer.env_steps - steps0) / iterations,
        grad_steps_per_itr=(trainer.grad_steps - grads0) / iterations,
        collect=float(np.mean([r["time_collect"] for r in rows])),
        train=float(np.mean([r["time_train"] for r in rows])),
        eval=eval_s, eval_env_steps=n_tasks * n_trajs * cfg.max_path_length * cfg.num_evals,
        load=(load0, os.getloadavg()[0]),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", nargs="*", default=list(ENV_NAMES), choices=ENV_NAMES)
    parser.add_argument("--preset", default="lite", choices=PRESETS)
    parser.add_argument("--iterations", type=int, default=2,
                        help="timed iterations after the first (default 2)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: the config's torch_threads)")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="config overrides, e.g. num_train_steps_per_itr=50")
    args = parser.parse_args()
    if args.iterations < 1:
        parser.error("--iterations must be at least 1")
    try:
        overrides = parse_overrides(args.set)
    except ValueError as err:
        raise SystemExit(f"--set: {err}") from None

    print(f"# PEARL `{args.preset}` preset timing ({platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, torch {torch.__version__}, seed 0, "
          f"{args.iterations} timed iterations after the first"
          + (f", overrides {overrides}" if overrides else "") + ")\n")
    print("| family | threads | env steps/itr | grad steps/itr | s/itr: collect / train; "
          "s per meta-test (every k itr) | s/itr, meta-test amortised | first itr collect (s) "
          "| iterations | projected min | load avg |")
    print("| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |")
    for name in args.names:
        t = time_preset(name, args.preset, args.iterations, args.threads, **overrides)
        c = t.cfg
        print(f"| {name} | {c.torch_threads} | {t.env_steps_per_itr:,.0f} | "
              f"{t.grad_steps_per_itr:,.0f} | {t.collect:.2f} / {t.train:.2f}; {t.eval:.2f} "
              f"(k={c.eval_every}, {t.eval_env_steps:,} env steps) | {t.per_itr:.2f} | "
              f"{t.first_collect:.1f} | {c.num_iterations} | {t.projected_min:.0f} | "
              f"{t.load[0]:.1f} -> {t.load[1]:.1f} |", flush=True)


if __name__ == "__main__":
    main()
