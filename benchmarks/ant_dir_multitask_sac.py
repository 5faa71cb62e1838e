"""Plain SAC on both of ant-dir's tasks at once, told the task: can one network learn both gaits?

    python benchmarks/ant_dir_multitask_sac.py --steps 150000 --out-dir runs/mtsac
    python benchmarks/ant_dir_multitask_sac.py --steps 150000 --value-network   # SAC v1's critic
    python benchmarks/ant_dir_multitask_sac.py --steps 150000 --block 2000       # PEARL's blocks

An experiment of ``data/ant_dir_investigation.md``, not a task of the kit. The kit's own plain
SAC (``pearl_lite.sac.train_sac``, ``SACConfig()``: 2 x 256 networks, twin Q with target
networks, learnt temperature, one gradient step per environment step) trains on ``ant-dir``
with the tasks taking turns, forward in even episodes and backward in odd ones, and the task's
direction ``(cos a, sin a)`` appended to every observation: ``(1, 0)`` forward, ``(-1, 0)``
backward. There is no latent context and no encoder; the horizon, reward, termination and
observation are the family's (``make_env("ant-dir")``).

If this walks in both directions where PEARL told the same thing (``ant_dir_oracle.py``)
stands, the trap is in PEARL's own machinery (its SAC v1 critic, its data collected in blocks
with a fixed policy, the latent z); if it stands too, it is learning two opposite gaits in one
network. ``--value-network`` swaps the twin target Q networks for SAC v1's state-value network
V and its Polyak target, the critic PEARL uses, to separate that one difference. ``--block N``
collects the data as PEARL does: ``N`` environment steps with the policy held fixed, then ``N``
gradient steps (``train_freq = gradient_steps = N``, the same one update per datum), after
``N`` steps of random actions first (PEARL's ``num_initial_steps`` for both tasks).

Writes ``<out-dir>/mtsac_ant_dir_s<seed>[_v][_b<N>]/``: ``progress.csv`` and ``eval.csv`` as
``benchmarks/sac_curves.py`` (the evaluation return is the mean over both tasks), plus
``eval_tasks.csv``, one row per evaluation episode with its task, return and the metres the
torso moved along the task's direction; ``summary.json`` at the end.
"""

from __future__ import annotations

import argparse
import csv
import os
import shlex
import sys
from dataclasses import asdict
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

from pearl_lite.envs import make_env
from pearl_lite.sac import SACConfig, train_sac
from pearl_lite.utils import atomic_write_json


class TaskTakingTurns(gym.Wrapper):
    """ant-dir with its two tasks taking turns per episode and the direction in the observation.

    Episode ``k`` (counting resets) runs task ``k % 2``; the observation is the ant's 27 numbers
    followed by the task's ``(cos a, sin a)`` (29). With ``log_path``, every finished episode
    appends ``episode, task, return, metres`` to that CSV file.
    """

    def __init__(self, env: gym.Env, log_path: Path | None = None) -> None:
        super().__init__(env)
        low = np.concatenate([env.observation_space.low, -np.ones(2)]).astype(np.float32)
        high = np.concatenate([env.observation_space.high, np.ones(2)]).astype(np.float32)
        self.observation_space = gym.spaces.Box(low, high, dtype=np.float32)
        self.episodes, self.log_path = 0, log_path
        self.task, self.ep_return, self.metres = 0, 0.0, 0.0
        if log_path is not None:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            with open(log_path, "w", newline="") as f:
                csv.writer(f).writerow(["episode", "task", "return", "metres"])

    def _with_direction(self, obs: np.ndarray) -> np.ndarray:
        return np.concatenate([obs, self.env.unwrapped.direction]).astype(np.float32)

    def reset(self, **kwargs):
        self.task = self.episodes % 2
        self.episodes += 1
        self.env.unwrapped.reset_task(self.task)
        self.ep_return, self.metres = 0.0, 0.0
        obs, info = self.env.reset(**kwargs)
        return self._with_direction(obs), info

    def step(self, action):
        obs, rew, terminated, truncated, info = self.env.step(action)
        self.ep_return += float(rew)
        self.metres += float(info["reward_forward"]) * self.env.unwrapped.dt
        if (terminated or truncated) and self.log_path is not None:
            with open(self.log_path, "a", newline="") as f:
                csv.writer(f).writerow([self.episodes - 1, self.task, f"{self.ep_return:.3f}",
                                        f"{self.metres:.3f}"])
        return self._with_direction(obs), rew, terminated, truncated, info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--value-network", action="store_true",
                        help="SAC v1's critic (V and its target), as PEARL, instead of target Qs")
    parser.add_argument("--block", type=int, default=1,
                        help="environment steps with a fixed policy between training phases, "
                             "each of as many gradient steps (1: plain SAC; PEARL's ant-dir: 2000)")
    parser.add_argument("--eval-every", type=int, default=10_000)
    parser.add_argument("--eval-episodes", type=int, default=4,
                        help="per evaluation; even, so that both tasks get the same number")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out-dir", default="runs")
    args = parser.parse_args()
    if args.eval_episodes <= 0 or args.eval_episodes % 2:
        parser.error(f"--eval-episodes must be a positive even number, got {args.eval_episodes}")
    if args.block <= 0:
        parser.error(f"--block must be a positive number of steps, got {args.block}")
    torch.set_num_threads(args.threads)
    blocks = {} if args.block == 1 else dict(train_freq=args.block, gradient_steps=args.block,
                                              learning_starts=args.block)
    cfg = SACConfig(seed=args.seed, device="cpu", use_value_network=args.value_network, **blocks)
    name = f"mtsac_ant_dir_s{args.seed}{'_v' if args.value_network else ''}"
    out = Path(args.out_dir) / (name + (f"_b{args.block}" if args.block > 1 else ""))
    env = TaskTakingTurns(make_env("ant-dir", seed=args.seed))
    eval_env = TaskTakingTurns(make_env("ant-dir", seed=args.seed), out / "eval_tasks.csv")
    load_before = os.getloadavg()
    _, log = train_sac(env, cfg, args.steps, eval_every=args.eval_every,
                       eval_episodes=args.eval_episodes, out_dir=out, progress=False,
                       eval_env=eval_env)
    evals = log.arrays("evals")
    atomic_write_json(out / "summary.json", {
        "command": "python " + " ".join(shlex.quote(a) for a in sys.argv),
        "env": "ant-dir, tasks 0 and 1 taking turns, direction in the observation",
        "total_steps": args.steps, "config": asdict(cfg), "torch_threads": args.threads,
        "train_time_s": float(evals["train_time"][-1]),
        "final_eval_return": float(evals["eval_return"][-1]),
        "load_avg_before": load_before, "load_avg_after": os.getloadavg(),
    })
    print(f"multi-task SAC on ant-dir: final deterministic return {evals['eval_return'][-1]:.1f} "
          f"(both tasks) after {args.steps} steps, {evals['train_time'][-1] / 60:.1f} min; "
          f"wrote {out}/")


if __name__ == "__main__":
    main()
