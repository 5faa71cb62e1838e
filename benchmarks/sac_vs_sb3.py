"""Our SAC against Stable-Baselines3's SAC: same hyperparameters, budget, seeds and evaluation.

    python benchmarks/sac_vs_sb3.py                       # Pendulum-v1, 3 seeds, 15k steps each
    python benchmarks/sac_vs_sb3.py --steps 2000 --seeds 0 --out /tmp/sac_vs_sb3   # a quick try
    python benchmarks/sac_vs_sb3.py --updates-only   # interleaved update throughput only
    python benchmarks/sac_vs_sb3.py --impls sb3_exact --seeds 0 1 --out runs/sb3_exact
    python benchmarks/sac_vs_sb3.py --merge data/sac_vs_sb3.json data/sac_vs_sb3_extra_seeds/*.json

For each seed both implementations train in turn (the order alternates from seed to seed, so
both see similar background load on a shared machine), each with ``torch.set_num_threads`` set
to the same value. Every ``--eval-every`` steps both are evaluated on the *same* deterministic
episodes (:func:`pearl_lite.sac.evaluate_policy`, seeds 10000, 10001, ...); evaluation time is
left out
of the training time. After training, each implementation's own update loop is timed for
``--update-steps`` gradient steps at batch 256 on its filled replay buffer (pure update
throughput, sampling included).

Writes ``OUT.json`` (command, config, per-run curves and timings, summary) and ``OUT.csv`` (the
curves, one row per evaluation) and prints a table. ``--updates-only`` instead times the two
update loops in alternating blocks on the same replayed data (robust to drifting background
load) and writes ``OUT_updates.json``. Stable-Baselines3 is a dev extra used only
here.

Implementations (``--impls``): ``pearl_lite`` (ours), ``sb3`` (SB3 as shipped) and ``sb3_exact``
(SB3 with the ``+1e-6`` of its tanh correction set to 0, the one place where its update differs
from ours; see ``benchmarks/sac_lockstep_sb3.py``). ``--merge`` pools the runs of several result
files and prints, per implementation, the final return and the mean of the last five
evaluations over all seeds, with standard errors.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import time
from dataclasses import asdict
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

from pearl_lite.sac import EVAL_SEED, SACConfig, evaluate_policy, train_sac
from pearl_lite.utils import atomic_write_bytes, atomic_write_json, seed_everything


def run_ours(env_id: str, cfg: SACConfig, steps: int, eval_every: int, eval_episodes: int,
             update_steps: int) -> dict:
    from pearl_lite.buffers import ReplayBuffer

    env = gym.make(env_id)
    obs_dim, act_dim = env.observation_space.shape[0], env.action_space.shape[0]
    buffer = ReplayBuffer(obs_dim, act_dim, min(cfg.buffer_size, steps), seed=cfg.seed)
    t0 = time.perf_counter()
    agent, log = train_sac(env, cfg, steps, eval_every=eval_every, eval_episodes=eval_episodes,
                           progress=False, buffer=buffer)
    total = time.perf_counter() - t0
    ev = log.arrays("evals")
    train_time = float(ev["train_time"][-1])
    # Pure update throughput at the configured batch size, on the filled buffer.
    t1 = time.perf_counter()
    for _ in range(update_steps):
        agent.update(buffer.sample(cfg.batch_size))
    update_time = time.perf_counter() - t1
    return {"steps": ev["step"].tolist(), "eval_return": ev["eval_return"].tolist(),
            "eval_std": ev["eval_std"].tolist(), "train_time_s": train_time,
            "wall_time_s": total, "n_updates": int(ev["n_updates"][-1]),
            "update_bench_s": update_time}


def run_sb3(env_id: str, cfg: SACConfig, steps: int, eval_every: int, eval_episodes: int,
            update_steps: int, tanh_epsilon: float | None = None) -> dict:
    from stable_baselines3 import SAC as SB3SAC
    from stable_baselines3.common.callbacks import BaseCallback

    seed_everything(cfg.seed)
    env = gym.make(env_id)
    eval_env = gym.make(env_id)
    model = SB3SAC(
        "MlpPolicy", env, learning_rate=cfg.lr, buffer_size=cfg.buffer_size,
        learning_starts=cfg.learning_starts, batch_size=cfg.batch_size, tau=cfg.tau,
        gamma=cfg.gamma, train_freq=cfg.train_freq, gradient_steps=cfg.gradient_steps,
        ent_coef=cfg.ent_coef if cfg.ent_coef != "auto" else "auto",
        target_entropy=cfg.target_entropy,
        policy_kwargs={"net_arch": list(cfg.hidden_sizes)}, seed=cfg.seed, device="cpu",
        verbose=0,
    )
    if tanh_epsilon is not None:  # SB3's default is log(1 - tanh(u)^2 + 1e-6)
        model.actor.action_dist.epsilon = tanh_epsilon
    record: dict[str, list] = {"steps": [], "eval_return": [], "eval_std": [], "train_time": [],
                               "n_updates": []}

    class EvalCallback(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.eval_time = 0.0

        def _on_training_start(self) -> None:
            self.t0 = time.perf_counter()

        def _on_step(self) -> bool:
            if self.num_timesteps % eval_every == 0:
                t = time.perf_counter()
                rets = evaluate_policy(lambda o: model.predict(o, deterministic=True)[0], eval_env,
                                eval_episodes, seed=EVAL_SEED)
                self.eval_time += time.perf_counter() - t
                record["steps"].append(self.num_timesteps)
                record["eval_return"].append(float(np.mean(rets)))
                record["eval_std"].append(float(np.std(rets)))
                record["train_time"].append(time.perf_counter() - self.t0 - self.eval_time)
                record["n_updates"].append(int(model._n_updates))
            return True

    t0 = time.perf_counter()
    model.learn(total_timesteps=steps, callback=EvalCallback())
    total = time.perf_counter() - t0
    # The last evaluation fires inside the last step, before SB3's final train() call.
    t1 = time.perf_counter()
    model.train(gradient_steps=update_steps, batch_size=cfg.batch_size)
    update_time = time.perf_counter() - t1
    return {"steps": record["steps"], "eval_return": record["eval_return"],
            "eval_std": record["eval_std"], "train_time_s": record["train_time"][-1],
            "wall_time_s": total, "n_updates": int(model._n_updates) - update_steps,
            "update_bench_s": update_time}


def run_sb3_exact(env_id: str, cfg: SACConfig, steps: int, eval_every: int,
                  eval_episodes: int, update_steps: int) -> dict:
    """SB3 with the exact tanh correction (its epsilon set to 0), otherwise unchanged."""
    return run_sb3(env_id, cfg, steps, eval_every, eval_episodes, update_steps, tanh_epsilon=0.0)


IMPLS = {"pearl_lite": run_ours, "sb3": run_sb3, "sb3_exact": run_sb3_exact}


def print_pooled(paths: list[str]) -> None:
    """Pool runs from result files; print final and last-5-evaluation returns per impl."""
    import json

    runs = [r for p in paths for r in json.loads(Path(p).read_text())["runs"]]
    print("| impl | seeds | final return, mean ± std (± s.e.) | mean of last 5 evaluations |")
    print("|---|---|---|---|")
    for impl in IMPLS:
        rs = sorted((r for r in runs if r["impl"] == impl), key=lambda r: r["seed"])
        if not rs:
            continue
        final = np.array([r["eval_return"][-1] for r in rs])
        last5 = np.array([np.mean(r["eval_return"][-5:]) for r in rs])
        seeds = [r["seed"] for r in rs]

        def cell(x: np.ndarray) -> str:
            return f"{x.mean():.2f} ± {x.std():.2f} (± {x.std(ddof=1) / np.sqrt(len(x)):.2f})"

        print(f"| {impl} | {len(seeds)} ({min(seeds)}–{max(seeds)}) | {cell(final)} | "
              f"{cell(last5)} |")


def interleaved_update_bench(env_id: str, cfg: SACConfig, rounds: int, block: int,
                             fill_steps: int) -> dict:
    """Pure update throughput, both implementations timed in alternating blocks.

    SB3 first fills its replay buffer with ``fill_steps`` random-action steps (no training);
    our buffer gets a copy of the same transitions. Then, ``rounds`` times, each implementation
    runs ``block`` gradient steps at ``cfg.batch_size`` (ours: ``buffer.sample`` +
    ``SAC.update``; SB3: ``model.train``), the order alternating every round, so slow drifts in
    background load hit both alike.
    """
    from stable_baselines3 import SAC as SB3SAC

    from pearl_lite.buffers import ReplayBuffer
    from pearl_lite.sac import SAC

    seed_everything(cfg.seed)
    env = gym.make(env_id)
    model = SB3SAC("MlpPolicy", env, learning_rate=cfg.lr, buffer_size=fill_steps + 1,
                   learning_starts=fill_steps, batch_size=cfg.batch_size, tau=cfg.tau,
                   gamma=cfg.gamma, policy_kwargs={"net_arch": list(cfg.hidden_sizes)},
                   seed=cfg.seed, device="cpu", verbose=0)
    model.learn(total_timesteps=fill_steps)
    rb, n = model.replay_buffer, model.replay_buffer.pos
    obs_dim, act_dim = rb.observations.shape[-1], rb.actions.shape[-1]
    buffer = ReplayBuffer(obs_dim, act_dim, fill_steps, seed=cfg.seed)
    buffer.add(rb.observations[:n, 0], rb.actions[:n, 0], rb.rewards[:n, 0],
               rb.next_observations[:n, 0], rb.dones[:n, 0] * (1 - rb.timeouts[:n, 0]),
               rb.timeouts[:n, 0])
    agent = SAC(obs_dim, act_dim, cfg)

    def ours() -> None:
        for _ in range(block):
            agent.update(buffer.sample(cfg.batch_size))

    def sb3() -> None:
        model.train(gradient_steps=block, batch_size=cfg.batch_size)

    fns = {"pearl_lite": ours, "sb3": sb3}
    for fn in fns.values():  # warm-up
        fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for r in range(rounds):
        for impl in (list(fns) if r % 2 == 0 else list(fns)[::-1]):
            t = time.perf_counter()
            fns[impl]()
            times[impl].append(time.perf_counter() - t)
    rates = {k: [block / t for t in v] for k, v in times.items()}
    ratios = [a / b for a, b in zip(rates["pearl_lite"], rates["sb3"], strict=True)]
    return {"rounds": rounds, "block": block, "batch_size": cfg.batch_size,
            "updates_per_s": rates,
            "median_updates_per_s": {k: float(np.median(v)) for k, v in rates.items()},
            "ratio_ours_over_sb3_per_round": ratios,
            "median_ratio_ours_over_sb3": float(np.median(ratios))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="Pendulum-v1")
    parser.add_argument("--steps", type=int, default=15_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--eval-every", type=int, default=1000)
    parser.add_argument("--eval-episodes", type=int, default=10)
    parser.add_argument("--update-steps", type=int, default=300,
                        help="gradient steps timed after training, for pure update throughput")
    parser.add_argument("--threads", type=int, default=1, help="torch threads, for both")
    parser.add_argument("--out", default="data/sac_vs_sb3", help="writes OUT.json and OUT.csv")
    parser.add_argument("--updates-only", action="store_true",
                        help="only the interleaved update-throughput benchmark; writes "
                             "OUT_updates.json")
    parser.add_argument("--rounds", type=int, default=10, help="with --updates-only")
    parser.add_argument("--block", type=int, default=100, help="with --updates-only")
    parser.add_argument("--fill-steps", type=int, default=5000,
                        help="with --updates-only: replayed transitions")
    parser.add_argument("--impls", nargs="+", default=["pearl_lite", "sb3"],
                        choices=list(IMPLS), help="implementations to train (default: both)")
    parser.add_argument("--merge", nargs="+", metavar="JSON",
                        help="pool the runs of these result files and print the summary")
    args = parser.parse_args()
    command = "python " + " ".join(shlex.quote(a) for a in sys.argv)
    if args.merge:
        print_pooled(args.merge)
        return
    if args.updates_only:
        torch.set_num_threads(args.threads)
        res = interleaved_update_bench(args.env, SACConfig(seed=args.seeds[0], device="cpu"),
                                       args.rounds, args.block, args.fill_steps)
        res.update(command=command, env=args.env, torch_threads=args.threads,
                   load_avg=os.getloadavg(),
                   note="shared 2-core machine under load from other jobs; blocks alternate")
        atomic_write_json(Path(args.out + "_updates.json"), res)
        print(f"updates/s at batch {res['batch_size']} (median of {args.rounds} alternating "
              f"blocks of {args.block}): " + ", ".join(
                  f"{k} {v:.1f}" for k, v in res["median_updates_per_s"].items())
              + f"; median ratio ours/SB3 {res['median_ratio_ours_over_sb3']:.2f}")
        return
    if args.steps % args.eval_every:
        raise ValueError("--steps must be a multiple of --eval-every")

    torch.set_num_threads(args.threads)
    import stable_baselines3

    cfg_base = SACConfig(device="cpu")  # SB3's defaults: see SACConfig
    runs = []
    load_before = os.getloadavg()
    for i, seed in enumerate(args.seeds):
        cfg = SACConfig(**{**asdict(cfg_base), "seed": seed})
        order = [(impl, IMPLS[impl]) for impl in args.impls]
        if i % 2:
            order.reverse()  # alternate who goes first, so both see similar background load
        for impl, fn in order:
            print(f"seed {seed}: {impl} ...", flush=True)
            res = fn(args.env, cfg, args.steps, args.eval_every, args.eval_episodes,
                     args.update_steps)
            res.update(impl=impl, seed=seed, load_avg_after=os.getloadavg()[0])
            print(f"  final return {res['eval_return'][-1]:.1f}, "
                  f"{args.steps / res['train_time_s']:.1f} env steps/s, "
                  f"{args.update_steps / res['update_bench_s']:.1f} updates/s (bench)", flush=True)
            runs.append(res)

    summary = {}
    for impl in args.impls:
        rs = [r for r in runs if r["impl"] == impl]
        final = np.array([r["eval_return"][-1] for r in rs])
        env_sps = np.array([args.steps / r["train_time_s"] for r in rs])
        grad_sps = np.array([r["n_updates"] / r["train_time_s"] for r in rs])
        upd_sps = np.array([args.update_steps / r["update_bench_s"] for r in rs])
        summary[impl] = {
            "final_return_mean": float(final.mean()), "final_return_std": float(final.std()),
            "env_steps_per_s_mean": float(env_sps.mean()),
            "grad_steps_per_s_in_training_mean": float(grad_sps.mean()),
            "update_bench_steps_per_s_mean": float(upd_sps.mean()),
            "update_bench_steps_per_s_std": float(upd_sps.std()),
        }

    result = {
        "command": command, "env": args.env, "total_steps": args.steps, "seeds": args.seeds,
        "eval_every": args.eval_every, "eval_episodes": args.eval_episodes,
        "eval_seeds": f"{EVAL_SEED}..{EVAL_SEED + args.eval_episodes - 1}",
        "update_steps": args.update_steps, "torch_threads": args.threads,
        "config": asdict(cfg_base), "versions": {
            "torch": torch.__version__, "stable_baselines3": stable_baselines3.__version__,
            "gymnasium": gym.__version__, "python": platform.python_version()},
        "machine": {"cpus": os.cpu_count(), "load_avg_before": load_before,
                    "load_avg_after": os.getloadavg(),
                    "note": "shared 2-core machine under load from other jobs; runs interleaved"},
        "summary": summary, "runs": runs,
    }
    out = Path(args.out)
    atomic_write_json(out.with_suffix(".json"), result)
    lines = ["impl,seed,step,eval_return,eval_std"]
    for r in runs:
        for s, m, sd in zip(r["steps"], r["eval_return"], r["eval_std"], strict=True):
            lines.append(f"{r['impl']},{r['seed']},{s},{m:.3f},{sd:.3f}")
    atomic_write_bytes(out.with_suffix(".csv"), ("\n".join(lines) + "\n").encode())

    print(f"\n{args.env}, {args.steps} steps, seeds {args.seeds}, torch threads {args.threads}")
    print(f"{'impl':<12}{'final return':>20}{'env steps/s':>14}{'grad steps/s':>14}"
          f"{'updates/s @256':>16}")
    for impl, s in summary.items():
        print(f"{impl:<12}{s['final_return_mean']:>12.1f} ± {s['final_return_std']:<6.1f}"
              f"{s['env_steps_per_s_mean']:>14.1f}{s['grad_steps_per_s_in_training_mean']:>14.1f}"
              f"{s['update_bench_steps_per_s_mean']:>16.1f}")
    print(f"wrote {out.with_suffix('.json')} and {out.with_suffix('.csv')}")


if __name__ == "__main__":
    main()
