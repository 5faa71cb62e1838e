"""Returns of two trivial policies on each test task: a floor under which PEARL has learnt nothing.

    python scripts/baseline_returns.py ant-dir walker-rand-params

For every test task of each family: one episode of at most ``--steps`` steps (the meta-test's
trajectory length, 200) with the zero action ("standing still") and one with uniform random
actions (``action_space.sample()``, seeded), both from ``reset(seed=--seed)``. Prints the mean
over test tasks and, for the two-task families, each task's return (the rows of
``data/baseline_returns.md``). With ``--json PATH`` it also records every family's numbers in a
small JSON file (added to the families already in it), which notebook 5 reads for its floors::

    python scripts/baseline_returns.py cheetah-vel ant-dir --json data/baseline_returns.json

Each family's entry: ``test_tasks``, ``steps``, ``seed``, and per policy (``zero``, ``random``)
the mean ``return``, the ``per_task`` returns and, for the point robots, the ``success`` rate
(the fraction of test tasks whose episode entered the goal region).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from pearl_lite.envs import ENV_NAMES, make_env


def episode(env, policy: str, steps: int, seed: int) -> tuple[float, bool | None]:
    """Return of one episode of ``policy`` (``"zero"`` or ``"random"``) in the current task, and
    whether it entered the goal region (None for environments without ``info["success"]``)."""
    env.reset(seed=seed)
    env.action_space.seed(seed)
    total, success = 0.0, None
    for _ in range(steps):
        action = (np.zeros(env.action_space.shape, env.action_space.dtype) if policy == "zero"
                  else env.action_space.sample())
        _, reward, terminated, truncated, info = env.step(action)
        total += float(reward)
        if "success" in info:
            success = bool(success) or bool(info["success"])
        if terminated or truncated:
            break
    return total, success


def family_floors(name: str, steps: int, seed: int) -> dict:
    """The zero-action and random-action episodes on every test task of ``name`` (the JSON
    entry described in the module docstring)."""
    env = make_env(name, seed=0)
    entry: dict = {"test_tasks": len(env.test_task_idx), "steps": steps, "seed": seed}
    results: dict[str, dict] = {}
    per_task: dict[str, list] = {"zero": [], "random": []}
    for task in env.test_task_idx:
        env.reset_task(task)
        for policy, values in per_task.items():
            values.append(episode(env, policy, steps, seed))
    for policy, values in per_task.items():
        results[policy] = {"return": float(np.mean([r for r, _ in values])),
                           "per_task": [float(r) for r, _ in values]}
        if values and values[0][1] is not None:
            results[policy]["success"] = float(np.mean([s for _, s in values]))
    entry.update(results)
    return entry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("envs", nargs="+", help=f"task families: {', '.join(ENV_NAMES)}")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, metavar="PATH",
                        help="also record the results in this JSON file (merged with it)")
    args = parser.parse_args()
    for name in args.envs:
        if name not in ENV_NAMES:
            parser.error(f"unknown environment {name!r}; valid: {', '.join(ENV_NAMES)}")
    print("| family | test tasks | zero action | uniform random |")
    print("| --- | ---: | ---: | ---: |")
    saved = json.loads(args.json.read_text()) if args.json and args.json.exists() else {}
    for name in args.envs:
        entry = family_floors(name, args.steps, args.seed)
        cells = []
        for policy in ("zero", "random"):
            values = entry[policy]["per_task"]
            cell = f"{entry[policy]['return']:.1f}"
            if len(values) <= 2:
                cell += " (" + ", ".join(f"{v:.1f}" for v in values) + ")"
            cells.append(cell)
        print(f"| {name} | {entry['test_tasks']} | {cells[0]} | {cells[1]} |")
        saved[name] = entry
    if args.json:
        from pearl_lite.utils import atomic_write_json

        args.json.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(args.json, {k: saved[k] for k in ENV_NAMES if k in saved})
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
