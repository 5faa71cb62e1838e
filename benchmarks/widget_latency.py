"""Per-move render latency of notebook 6's widgets: how long one slider move takes to redraw.

Usage::

    python benchmarks/widget_latency.py                 # the shipped β = 1 agent (data/)
    python benchmarks/widget_latency.py --repeats 3 --agent-dir data/OTHER_RUN_FOLDER

Builds the notebook's ``TrajectoryExplorer`` and ``ContextExplorer`` on the 20 test goals,
then moves each control as a learner would, timing each move from setting ``.value`` to the
new PNG in the ``Image`` widget (what the kernel does; the browser's decode is not included).
The first visit of a (goal, run, protocol) computes its meta-test (cached afterwards); the
trajectory slider, Play and the context-size slider only redraw. One torch thread. Prints a
Markdown table: the target is under 300 ms per move of the sliders that only redraw.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

from pearl_lite.course import exploration as ex
from pearl_lite.course.data import DATA_DIR
from pearl_lite.course.widgets_explore import (
    PROTOCOLS,
    ContextExplorer,
    TrajectoryExplorer,
    default_goals,
)
from pearl_lite.envs import make_env
from pearl_lite.runtime.checkpoint import CLIError
from pearl_lite.runtime.evaluate import load_agent


def timed_moves(widget, control, values, explorer) -> list[float]:
    """Set ``control.value`` to each value; the explorer's render time of each move (s)."""
    out = []
    for v in values:
        t0 = time.perf_counter()
        control.value = v
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agent-dir", type=Path,
                        default=DATA_DIR / "sparse_point_robot_lite_decay_seed0")
    parser.add_argument("--repeats", type=int, default=2, help="passes over k = 0..20")
    parser.add_argument("--goals", type=int, default=20, help="test goals in the goal menu")
    parser.add_argument("--runs", type=int, default=3, help="meta-test runs (the run slider)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    try:
        agent, _, _ = load_agent(args.agent_dir)
    except CLIError as err:
        sys.stderr.write(f"widget_latency: error: {err}\n")
        raise SystemExit(1) from None
    agent.eval()
    env = make_env("sparse-point-robot", seed=0)
    test_goals = np.stack([env.tasks[i]["goal"] for i in env.test_task_idx])[: args.goals]
    explorer = TrajectoryExplorer({"β = 1": agent}, default_goals(test_goals), n_runs=args.runs)
    t0 = time.perf_counter()
    explorer.widget()
    first = time.perf_counter() - t0
    rows: list[tuple[str, str, list[float]]] = [("explorer", "first render (meta-test + "
                                                 "figure)", [first])]
    ks = list(range(1, 21)) + list(range(19, -1, -1))
    rows.append(("trajectory k", "drag 0..20..0, cached", timed_moves(
        explorer, explorer.k, ks * args.repeats, explorer)))
    explorer.k.value = 0
    rows.append(("play", "step 0..20 (linked to k)", timed_moves(
        explorer, explorer.play, list(range(1, 21)), explorer)))
    t0 = time.perf_counter()
    n_batches = explorer.precompute()
    rows.append(("explorer", f"precompute (every menu goal, run, protocol: {n_batches} batched "
                 "meta-tests)", [time.perf_counter() - t0]))
    rows.append(("goal", "menu goal (precomputed)", timed_moves(
        explorer, explorer.goal, list(explorer.goals)[1:], explorer)))
    runs = [r for r in (1, 2, 0, 1) if r < args.runs] or [0]
    rows.append(("run", "another run (precomputed)", timed_moves(
        explorer, explorer.run, runs, explorer)))
    proto = list(PROTOCOLS)
    rows.append(("protocol", "toggle (precomputed)", timed_moves(
        explorer, explorer.protocol, [proto[1], proto[0], proto[1]], explorer)))
    rows.append(("angle", "custom goal (computes its meta-test)", timed_moves(
        explorer, explorer.angle, [45.0, 100.0, 135.0], explorer)))

    ctx_runs = {f"test goal {i}": ex.explore(agent, test_goals[i][None], "posterior", 20, 5,
                                             seed=7) for i in range(min(2, len(test_goals)))}
    ctx = ContextExplorer(agent, ctx_runs)
    t0 = time.perf_counter()
    ctx.widget()
    rows.append(("context explorer", "first render (401 beliefs x 64 hypotheses)",
                 [time.perf_counter() - t0]))
    ns = list(range(0, 401, 10)) + list(range(400, -1, -25))
    rows.append(("context N", "drag 0..400..0, cached", timed_moves(ctx, ctx.n,
                                                                    ns * args.repeats, ctx)))
    if len(ctx_runs) > 1:
        rows.append(("context goal", "new goal (computes)", timed_moves(ctx, ctx.goal,
                                                                        ["test goal 1"], ctx)))

    print(f"widget latency, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, 1 torch thread, "
          f"agent {args.agent_dir.name}")
    print()
    print("| control | move | moves | median ms | 90th pct ms | max ms |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for control, move, t in rows:
        ms = 1000 * np.asarray(t)
        print(f"| {control} | {move} | {len(ms)} | {np.median(ms):.0f} | "
              f"{np.percentile(ms, 90):.0f} | {ms.max():.0f} |")


if __name__ == "__main__":
    main()
