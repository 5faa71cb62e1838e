"""Our SAC update against Stable-Baselines3's, step by step from the same weights and batches.

    python benchmarks/sac_lockstep_sb3.py                 # table: 4 settings, 200 updates each
    python benchmarks/sac_lockstep_sb3.py --updates 1000
    python benchmarks/sac_lockstep_sb3.py --out data/sac_lockstep_sb3.json   # also save it

Both agents start from SB3's initial weights (copied into ours), see the same replay batches and
the same torch random numbers (the seed is reset before each update; both draw the policy noise
in the same order). After every update we measure how far apart the actors are, relative to how
far SB3's actor has moved from its initial weights:

    rel = || theta_ours - theta_sb3 || / || theta_sb3 - theta_init ||

The four settings separate the two possible sources of a difference: float32 rounding (which
SAC's training amplifies, like any chaotic system), and SB3's one algorithmic deviation from the
exact SAC formula, the ``+ 1e-6`` inside ``log(1 - tanh(u)^2 + 1e-6)`` of its tanh correction
(``SquashedDiagGaussianDistribution.epsilon``; ours uses the exact, stable form). In float64
with that epsilon set to 0 the two updates agree to about 1e-15: they are the same algorithm, in
the same order (temperature, critics, actor, targets).

Needs Stable-Baselines3 (the ``dev`` extra). Used by ``tests/test_sac_matches_sb3.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
import sys
from collections.abc import Iterator

import numpy as np
import torch

from pearl_lite.sac import SAC, SACConfig


@contextlib.contextmanager
def float64_sb3() -> Iterator[None]:
    """Build and run SB3 in float64: default dtype float64, and no float32 cast of observations."""
    import stable_baselines3.common.policies as sb3_policies

    old_dtype, old_pre = torch.get_default_dtype(), sb3_policies.preprocess_obs
    torch.set_default_dtype(torch.float64)
    sb3_policies.preprocess_obs = lambda obs, *args, **kwargs: obs
    try:
        yield
    finally:
        torch.set_default_dtype(old_dtype)
        sb3_policies.preprocess_obs = old_pre


def copy_sb3_weights(model, agent: SAC) -> None:
    """Copy an SB3 ``SAC``'s actor, critics and target critics into our :class:`SAC`.

    SB3's actor is ``latent_pi`` (Linear-ReLU-Linear-ReLU) with two heads, ``mu`` and
    ``log_std``; ours has one last layer whose output is split into (mean, log_std), so its
    weights are the two heads stacked. SB3's critics are separate ``nn.Sequential`` networks;
    ours are one :class:`~pearl_lite.nets.EnsembleMLP` with weights ``(K, in, out)``, the
    transpose of ``nn.Linear``'s ``(out, in)``.
    """
    linear = torch.nn.Linear
    with torch.no_grad():
        sb3_layers = [m for m in model.actor.latent_pi if isinstance(m, linear)]
        our_layers = [m for m in agent.actor.net.net if isinstance(m, linear)]
        for src, dst in zip(sb3_layers, our_layers[:-1], strict=True):
            dst.weight.copy_(src.weight)
            dst.bias.copy_(src.bias)
        heads = (model.actor.mu, model.actor.log_std)
        our_layers[-1].weight.copy_(torch.cat([h.weight for h in heads]))
        our_layers[-1].bias.copy_(torch.cat([h.bias for h in heads]))
        for src_critic, dst_critic in ((model.critic, agent.critic),
                                       (model.critic_target, agent.critic_target)):
            for k, q_net in enumerate(src_critic.q_networks):
                src_layers = [m for m in q_net if isinstance(m, linear)]
                for src, dst in zip(src_layers, dst_critic.net.layers, strict=True):
                    dst.weight[k].copy_(src.weight.T)
                    dst.bias[k, 0].copy_(src.bias)


def _our_actor_in_sb3_order(agent: SAC) -> list[torch.Tensor]:
    """Our actor's tensors in the order of ``model.actor.parameters()`` (heads split)."""
    layers = [m for m in agent.actor.net.net if isinstance(m, torch.nn.Linear)]
    a = agent.act_dim
    out = [t for m in layers[:-1] for t in (m.weight, m.bias)]
    last = layers[-1]
    out += [last.weight[:a], last.bias[:a], last.weight[a:], last.bias[a:]]
    return [t.detach() for t in out]


def lockstep(updates: int = 200, float64: bool = True, sb3_epsilon: float | None = 0.0,
             batch_size: int = 256, seed: int = 0) -> np.ndarray:
    """Run ``updates`` gradient steps of both implementations side by side on Pendulum shapes.

    Args:
        updates: number of gradient steps.
        float64: build and run both in float64 (rounding differences then stay near 1e-15).
        sb3_epsilon: set SB3's tanh-correction epsilon to this (None: keep SB3's 1e-6).
        batch_size: transitions per batch (random, but the same for both).
        seed: seed of the networks' initialisation, the batches and the policy noise.

    Returns:
        ``(updates,)`` relative actor distance after each update (see the module docstring).
    """
    import gymnasium as gym
    from stable_baselines3 import SAC as SB3SAC
    from stable_baselines3.common.logger import configure
    from stable_baselines3.common.type_aliases import ReplayBufferSamples

    ctx = float64_sb3() if float64 else contextlib.nullcontext()
    with ctx:
        dtype = torch.get_default_dtype()
        env = gym.make("Pendulum-v1")
        model = SB3SAC("MlpPolicy", env, seed=seed, device="cpu", learning_starts=0, verbose=0)
        model.set_logger(configure(None, [""]))
        if float64:
            model.policy.double()
        if sb3_epsilon is not None:
            model.actor.action_dist.epsilon = sb3_epsilon
        agent = SAC(3, 1, SACConfig(device="cpu", seed=seed))
        copy_sb3_weights(model, agent)
        init = [p.detach().clone() for p in model.actor.parameters()]

        rng = np.random.default_rng(seed)
        rel = np.zeros(updates)
        for step in range(updates):
            def arr(*shape: int, low: float | None = None) -> torch.Tensor:
                x = rng.uniform(-1, 1, shape) if low is not None else rng.normal(size=shape)
                return torch.as_tensor(x, dtype=dtype)

            batch = {"obs": arr(batch_size, 3), "act": arr(batch_size, 1, low=-1.0),
                     "rew": 3.0 * arr(batch_size), "next_obs": arr(batch_size, 3),
                     "terminated": (torch.as_tensor(rng.random(batch_size) < 0.05)).to(dtype)}
            samples = ReplayBufferSamples(batch["obs"], batch["act"], batch["next_obs"],
                                          batch["terminated"][:, None], batch["rew"][:, None])
            model.replay_buffer.sample = lambda *args, _s=samples, **kwargs: _s
            torch.manual_seed(seed * 100_003 + step)
            model.train(gradient_steps=1, batch_size=batch_size)
            torch.manual_seed(seed * 100_003 + step)
            agent.update(batch)
            theirs = [p.detach() for p in model.actor.parameters()]
            ours = _our_actor_in_sb3_order(agent)
            num = sum(float(((a - b) ** 2).sum()) for a, b in zip(ours, theirs, strict=True))
            den = sum(float(((b - i) ** 2).sum()) for b, i in zip(theirs, init, strict=True))
            rel[step] = (num / den) ** 0.5
    return rel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="also write the curves to this JSON file")
    args = parser.parse_args()
    torch.set_num_threads(1)
    settings = [("float64", True, 0.0), ("float64", True, None),
                ("float32", False, 0.0), ("float32", False, None)]
    marks = [m for m in (1, 10, 100, args.updates) if m <= args.updates]
    head = " | ".join(f"after {m:>4}" for m in marks)
    print(f"| precision | SB3 tanh epsilon | {head} |")
    print("|---|---|" + "---|" * len(marks))
    curves = []
    for name, f64, eps in settings:
        rel = lockstep(args.updates, float64=f64, sb3_epsilon=eps, seed=args.seed)
        cells = " | ".join(f"{rel[m - 1]:.1e}" for m in marks)
        print(f"| {name} | {'1e-6 (SB3 default)' if eps is None else '0 (exact)'} | {cells} |")
        curves.append({"precision": name, "sb3_tanh_epsilon": 1e-6 if eps is None else eps,
                       "relative_actor_distance": rel.tolist()})
    if args.out:
        import stable_baselines3

        from pearl_lite.utils import atomic_write_json

        atomic_write_json(args.out, {
            "command": "python " + " ".join(shlex.quote(a) for a in sys.argv),
            "updates": args.updates, "seed": args.seed, "torch": torch.__version__,
            "stable_baselines3": stable_baselines3.__version__, "settings": curves})
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
