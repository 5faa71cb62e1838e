"""Environment steps per second of each task family, single and batched.

Usage::

    python benchmarks/env_throughput.py                 # all families, ~1 s per measurement
    python benchmarks/env_throughput.py --seconds 0.3 --names point-robot cheetah-vel

For every family it measures one environment stepped alone (``env.step``) and 16 tasks
stepped together (``make_vector_env(name, 16 task indices).step``); for the point robots also
1,024 and 4,096 tasks at once. Actions are uniform in the action box, drawn in advance; episodes
are reset when they end. The number reported is *environment steps* per second (a batched call
over ``n`` tasks counts ``n`` steps). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from pearl_lite.envs import ENV_NAMES, POINT_ROBOT_NAMES, make_env, make_vector_env


def single_env_rate(name: str, seconds: float) -> float:
    env = make_env(name, seed=0)
    rng = np.random.default_rng(0)
    low, high = env.action_space.low, env.action_space.high
    actions = rng.uniform(low, high, size=(1000, *env.action_space.shape)).astype(np.float32)
    env.reset(seed=0)
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for a in actions[:200]:
            _, _, term, trunc, _ = env.step(a)
            steps += 1
            if term or trunc:
                env.reset()
    return steps / (time.perf_counter() - start)


def batched_rate(name: str, n_envs: int, seconds: float) -> float:
    n_tasks = len(make_env(name, seed=0).tasks)
    venv = make_vector_env(name, np.arange(n_envs) % n_tasks, seed=0)
    space = venv.single_action_space
    rng = np.random.default_rng(0)
    actions = rng.uniform(space.low, space.high, size=(20, n_envs, *space.shape))
    venv.reset()
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for a in actions:
            _, _, term, trunc, _ = venv.step(a)
            calls += 1
            done = term | trunc
            if done.any():
                venv.reset(mask=done)
    return calls * n_envs / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    parser.add_argument("--names", nargs="*", default=list(ENV_NAMES), choices=ENV_NAMES)
    args = parser.parse_args()

    print(f"# environment steps per second ({platform.processor() or platform.machine()}, ", end="")
    print(f"{os.cpu_count()} CPUs, {args.seconds:g} s per measurement)\n")
    print("| environment | single env | 16 tasks | 1,024 tasks | 4,096 tasks |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name in args.names:
        row = [f"{single_env_rate(name, args.seconds):,.0f}"]
        row.append(f"{batched_rate(name, 16, args.seconds):,.0f}")
        for n in (1024, 4096):
            rate = batched_rate(name, n, args.seconds) if name in POINT_ROBOT_NAMES else None
            row.append("-" if rate is None else f"{rate:,.0f}")
        print(f"| {name} | " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
