"""How fast is one PEARL gradient step, and how close to this CPU's matmul peak does it get?

Shapes: the ``paper`` preset on ``cheetah-vel`` (obs 20, act 6, latent 5, meta-batch 16,
RL batch 256 per task, context 100 per task, policy/Q/V 3 x 300 units, encoder 3 x 200 units).
Prints gradient steps per second, the FLOPs of one step (counted by
``torch.utils.flop_counter.FlopCounterMode``: every matmul of the forward and backward
passes), the float32 matmul peak of this machine measured with a large square matmul on the
same number of threads, the fraction of that peak one step reaches, and where the time goes.

    python benchmarks/pearl_step.py                 # 2 threads (the course's laptop)
    python benchmarks/pearl_step.py --threads 1 --steps 50
    python benchmarks/pearl_step.py --device cuda --steps 100   # a GPU (peak: 8192^3 matmul)
    python benchmarks/pearl_step.py --set meta_batch=64          # other shapes of the preset
    python benchmarks/pearl_step.py --device cuda --set cuda_graphs=True   # replay a CUDA graph

Timings depend on the machine and on whatever else runs on it; the report says how loaded the
machine was (``os.getloadavg``).
"""

from __future__ import annotations

import argparse
import os
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from pearl_lite.config import get_config, parse_overrides
from pearl_lite.pearl import PEARLAgent, PEARLLearner
from pearl_lite.runtime.cuda_graphs import CUDAGraphStep

OBS, ACT = 20, 6  # cheetah-vel


def make(cfg, gen, device: torch.device):
    T, B, N = cfg.meta_batch, cfg.batch_size, cfg.embedding_batch_size
    batch = {"obs": torch.randn(T, B, OBS, generator=gen),
             "act": torch.rand(T, B, ACT, generator=gen) * 2 - 1,
             "rew": torch.randn(T, B, generator=gen),
             "next_obs": torch.randn(T, B, OBS, generator=gen),
             "terminated": torch.zeros(T, B)}
    context = torch.randn(T, N, OBS + ACT + 1, generator=gen)
    return {k: v.to(device) for k, v in batch.items()}, context.to(device)


def timeit(fn, n: int, device: torch.device) -> float:
    """Median seconds per call over ``n`` calls (after one warm-up call).

    On a GPU, kernels run asynchronously: we synchronise before reading the clock, so the
    time is that of the work, not of queueing it.
    """
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    fn()
    sync()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2]


def matmul_peak(device: torch.device, reps: int = 5) -> tuple[float, int]:
    """Float32 matmul throughput (FLOP/s) of a large square product, and its size."""
    size = 8192 if device.type == "cuda" else 2048
    a, b = torch.randn(size, size, device=device), torch.randn(size, size, device=device)
    t = timeit(lambda: a @ b, reps, device)
    return 2 * size**3 / t, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=20, help="timed gradient steps")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE",
                        help="override fields of the paper preset, e.g. meta_batch=64")
    args = parser.parse_args()
    try:
        cfg = get_config("cheetah-vel", "paper", **parse_overrides(args.set))
    except ValueError as err:
        parser.error(f"--set: {err}")
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device is available")
    device = torch.device(args.device)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    agent = PEARLAgent(OBS, ACT, cfg).to(device)
    learner = PEARLLearner(agent, cfg)
    batch, context = make(cfg, gen, device)
    timed = lambda fn: timeit(fn, args.steps, device)  # noqa: E731

    # ---- the whole step
    graphed = cfg.cuda_graphs and device.type == "cuda"
    step = CUDAGraphStep(learner) if graphed else learner.update
    t_step = timed(lambda: step(batch, context))
    with FlopCounterMode(display=False) as fc:  # eagerly: a graph replay shows no FLOPs
        learner.update(batch, context)
    flops = fc.get_total_flops()
    peak, peak_size = matmul_peak(device)

    # ---- where the time goes (each part measured on its own, forward + backward)
    def encoder_part():
        mu, var = agent.encoder(context)
        agent.encoder.zero_grad(set_to_none=True)
        (mu.sum() + var.sum()).backward()

    def critic_part():  # encoder + twin Q + target V, forward and backward
        learner.critic_opt.zero_grad(set_to_none=True)
        learner.critic_loss(batch, context)["loss"].backward()

    def critic_opt_part():
        learner.critic_opt.step()

    critic_part()
    t_enc = timed(encoder_part)
    t_critic = timed(critic_part)
    t_opt = timed(critic_opt_part)
    rest = t_step - t_critic - t_opt

    print(f"PEARL gradient step, paper preset on cheetah-vel shapes (meta-batch "
          f"{cfg.meta_batch} x batch {cfg.batch_size}, context {cfg.embedding_batch_size}, "
          f"nets {cfg.n_layers} x {cfg.net_size}, encoder {cfg.encoder_hidden})")
    where = (torch.cuda.get_device_name(device) if device.type == "cuda"
             else f"CPU, threads {args.threads}")
    print(f"{where}, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs, "
          f"torch {torch.__version__}")
    print(f"  time per step        {1e3 * t_step:8.1f} ms  -> {1 / t_step:6.2f} gradient steps/s")
    print(f"  FLOPs per step       {flops / 1e9:8.2f} GFLOP (FlopCounterMode, fwd + bwd)")
    print(f"  achieved             {flops / t_step / 1e9:8.1f} GFLOP/s")
    print(f"  float32 matmul peak  {peak / 1e9:8.1f} GFLOP/s ({peak_size}^3 matmul, same device)")
    print(f"  fraction of peak     {flops / t_step / peak:8.1%}")
    print("  where the time goes (forward + backward" +
          (", each part run eagerly: the graph replays them all in one call):" if graphed
           else "):"))
    print(f"    encoder                       {1e3 * t_enc:7.1f} ms")
    print(f"    twin Q + target V (excl. enc) {1e3 * (t_critic - t_enc):7.1f} ms")
    print(f"    Adam step (Q + encoder)       {1e3 * t_opt:7.1f} ms")
    if not graphed:  # the rest of the step is the step minus its eager parts
        print(f"    policy + V + their Adam, polyak {1e3 * rest:5.1f} ms")


if __name__ == "__main__":
    main()
