"""Returns of two trivial policies on each test task: a floor under which PEARL has learnt nothing.

    python scripts/baseline_returns.py ant-dir walker-rand-params

For every test task of each family: one episode of at most ``--steps`` steps (the meta-test's
trajectory length, 200) with the zero action ("standing still") and one with uniform random
actions (``action_space.sample()``, seeded), both from ``reset(seed=--seed)``. Prints the mean
over test tasks and, for the two-task families, each task's return.
"""

from __future__ import annotations

import argparse

import numpy as np

from pearl_lite.envs import ENV_NAMES, make_env


def episode_return(env, policy: str, steps: int, seed: int) -> float:
    """Return of one episode of ``policy`` (``"zero"`` or ``"random"``) in the current task."""
    env.reset(seed=seed)
    env.action_space.seed(seed)
    total = 0.0
    for _ in range(steps):
        action = (np.zeros(env.action_space.shape, env.action_space.dtype) if policy == "zero"
                  else env.action_space.sample())
        _, reward, terminated, truncated, _ = env.step(action)
        total += float(reward)
        if terminated or truncated:
            break
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("envs", nargs="+", help=f"task families: {', '.join(ENV_NAMES)}")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for name in args.envs:
        if name not in ENV_NAMES:
            parser.error(f"unknown environment {name!r}; valid: {', '.join(ENV_NAMES)}")
    print("| family | test tasks | zero action | uniform random |")
    print("| --- | ---: | ---: | ---: |")
    for name in args.envs:
        env = make_env(name, seed=0)
        rets = {p: [] for p in ("zero", "random")}
        for task in env.test_task_idx:
            env.reset_task(task)
            for policy, values in rets.items():
                values.append(episode_return(env, policy, args.steps, args.seed))
        cells = []
        for values in rets.values():
            cell = f"{np.mean(values):.1f}"
            if len(values) <= 2:
                cell += " (" + ", ".join(f"{v:.1f}" for v in values) + ")"
            cells.append(cell)
        print(f"| {name} | {len(env.test_task_idx)} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
