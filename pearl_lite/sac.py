"""Soft actor-critic (Haarnoja et al., 2018), the off-policy learner inside PEARL.

Introduced in notebook 3; PEARL (notebook 4) reuses every piece here unchanged.

SAC maximises return plus entropy, ``sum_t gamma^t (r_t + alpha * H(pi(.|s_t)))``. Its parts,
each a small function or module below:

- :class:`TanhGaussianPolicy`: obs -> tanh-squashed Gaussian over actions in [-1, 1].
- :class:`TwinQ`: two Q networks in one :class:`~pearl_lite.nets.EnsembleMLP`; the target takes
  the minimum of the two to fight over-estimation.
- :func:`soft_q_target` (Ex 3.2): the soft Bellman backup
  ``r + gamma * (1 - terminated) * (min_k Q'_k(s', a') - alpha * log pi(a'|s'))``.
- :func:`bellman_target` and :func:`soft_value_target`: the same backup split in two, for the
  state-value-network variant of PEARL's official code (``SACConfig.use_value_network``).
- :func:`policy_loss`: ``E[alpha * log pi(a|s) - min_k Q_k(s, a)]``, ``a`` reparameterised.
- :func:`temperature_loss` (Ex 3.3): tunes alpha so the policy's entropy tracks a target.
- :class:`SAC` (``update(batch)``, ``act(obs)``) and :func:`train_sac`, the training loop.

All building blocks are z-agnostic: PEARL conditions on its task variable z by concatenating it
to the observation, ``torch.cat([obs, z], -1)``, and builds the networks with ``obs_dim``
including the latent size. No copy of any module is needed.

Actions live in [-1, 1] inside the agent (and the replay buffer); :func:`train_sac` rescales
them to the environment's bounds, as Stable-Baselines3 does.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from pearl_lite.buffers import ReplayBuffer
from pearl_lite.distributions import TanhGaussian
from pearl_lite.exercises import implementation
from pearl_lite.nets import MLP, EnsembleMLP, adam, polyak_update
from pearl_lite.utils import CSVLogger, atomic_write_json, get_device, seed_everything

Tensor = torch.Tensor

#: The policy's log standard deviation is clamped to this range (as in SAC, SB3 and PEARL).
LOG_STD_MIN, LOG_STD_MAX = -20.0, 2.0


# ---------------------------------------------------------------------------------------------
# Networks
# ---------------------------------------------------------------------------------------------


class TanhGaussianPolicy(nn.Module):
    """The actor: ``obs -> TanhGaussian(mean, log_std)`` over actions in [-1, 1].

    One MLP outputs ``2 * act_dim`` numbers, split into the mean and the log std of the pre-tanh
    Gaussian; the log std is clamped to [-20, 2] so the distribution never collapses or explodes.

    PEARL conditions on z by concatenation: build the policy with ``obs_dim = obs_dim +
    latent_dim`` and call it on ``torch.cat([obs, z], -1)``; no copy of the module is needed.

    Args:
        obs_dim: input size (observation, plus the latent size when conditioning on z).
        act_dim: action size.
        hidden_sizes: hidden layer widths.
    """

    def __init__(self, obs_dim: int, act_dim: int, hidden_sizes: Sequence[int] = (256, 256)):
        super().__init__()
        self.obs_dim, self.act_dim = obs_dim, act_dim
        self.net = MLP(obs_dim, 2 * act_dim, hidden_sizes)

    def forward(self, obs: Tensor) -> TanhGaussian:
        """``obs (..., obs_dim)`` -> a :class:`TanhGaussian` with batch shape ``(...)``."""
        mean, log_std = self.net(obs).chunk(2, dim=-1)
        log_std = log_std.clamp(LOG_STD_MIN, LOG_STD_MAX)
        return TanhGaussian(mean, log_std)


class TwinQ(nn.Module):
    """Two independent Q networks ``Q_k(s, a)``, evaluated together in one batched matmul.

    Args:
        obs_dim: observation size (plus the latent size when conditioning on z).
        act_dim: action size.
        hidden_sizes: hidden layer widths of each Q network.
        n_critics: number of Q networks (2 for SAC's clipped double-Q).
    """

    def __init__(self, obs_dim: int, act_dim: int, hidden_sizes: Sequence[int] = (256, 256),
                 n_critics: int = 2):
        super().__init__()
        self.obs_dim, self.act_dim, self.n_critics = obs_dim, act_dim, n_critics
        self.net = EnsembleMLP(n_critics, obs_dim + act_dim, 1, hidden_sizes)

    def forward(self, obs: Tensor, act: Tensor) -> Tensor:
        """``obs (B, obs_dim)``, ``act (B, act_dim)`` -> Q values of shape ``(n_critics, B)``."""
        return self.net(torch.cat([obs, act], dim=-1)).squeeze(-1)


# ---------------------------------------------------------------------------------------------
# Targets and losses (the formulas of notebook 3, one function each)
# ---------------------------------------------------------------------------------------------


def bellman_target(reward: Tensor, next_value: Tensor, terminated: Tensor, gamma: float) -> Tensor:
    """The one-step backup ``reward + gamma * (1 - terminated) * next_value``, shape ``(B,)``.

    ``terminated`` (1.0 where the episode really ended) stops the bootstrap; a time-limit
    truncation does not, so it is not an argument here. Used directly by the value-network
    variant (``next_value`` = the target V network at s').
    """
    return reward + gamma * (1.0 - terminated) * next_value


def soft_q_target(
    reward: Tensor,
    next_q: Tensor,
    next_log_prob: Tensor,
    terminated: Tensor,
    gamma: float,
    alpha: float | Tensor,
) -> Tensor:
    r"""The soft Bellman target for the critics (Ex 3.2).

    .. math::
        y = r + \gamma\,(1 - \text{terminated})
              \big(\min_k Q'_k(s', a') - \alpha \log\pi(a'|s')\big),
        \qquad a' \sim \pi(\cdot|s')

    Args:
        reward: ``(B,)``.
        next_q: the *target* critics at ``(s', a')``, shape ``(K, B)`` (K = 2 twins); the
            minimum over the twins is taken here.
        next_log_prob: ``log pi(a'|s')``, shape ``(B,)``.
        terminated: ``(B,)``, 1.0 where ``s'`` is terminal (the MDP ended).
        gamma: discount.
        alpha: entropy temperature (a float or a 0-d tensor).

    There is no ``truncated`` argument: after a time-limit truncation ``s'`` still has a
    future, so the target bootstraps through it. Only ``terminated`` masks.

    Returns:
        the target ``y``, shape ``(B,)``; call it under ``torch.no_grad()`` (no gradient should
        flow into the target networks).
    """
    if next_q.dim() != reward.dim() + 1:
        raise ValueError(f"next_q must have shape (K, *reward.shape) = (K, "
                         f"{', '.join(map(str, reward.shape))}); got {tuple(next_q.shape)}")
    min_next_q = next_q.min(dim=0).values  # clipped double-Q: the pessimistic twin
    soft_next_value = min_next_q - alpha * next_log_prob  # V(s') = E[Q - alpha log pi]
    return bellman_target(reward, soft_next_value, terminated, gamma)


def soft_value_target(q_new: Tensor, log_prob: Tensor, alpha: float | Tensor) -> Tensor:
    """Target of the state-value network, ``min_k Q_k(s, a~) - alpha * log pi(a~|s)``, ``(B,)``.

    ``q_new`` ``(K, B)``: the online critics at a fresh action ``a~ ~ pi(.|s)``. Used only by the
    value-network variant (PEARL's official code).
    """
    return q_new.min(dim=0).values - alpha * log_prob


def policy_loss(log_prob: Tensor, q_new: Tensor, alpha: float | Tensor) -> Tensor:
    """The actor's loss ``mean(alpha * log pi(a|s) - min_k Q_k(s, a))``, a scalar.

    Args:
        log_prob: ``log pi(a|s)`` of reparameterised actions ``a = tanh(mean + std * eps)``,
            shape ``(B,)``; the gradient flows through ``a`` into ``q_new`` and into ``log_prob``.
        q_new: the online critics at ``(s, a)``, shape ``(K, B)``.
        alpha: entropy temperature, not trained by this loss (pass a detached value).
    """
    return (alpha * log_prob - q_new.min(dim=0).values).mean()


def temperature_loss(log_alpha: Tensor, log_prob: Tensor, target_entropy: float) -> Tensor:
    r"""The entropy-temperature loss (Ex 3.3), a scalar.

    .. math:: J(\alpha) = -\,\mathbb{E}\big[\log\alpha\,(\log\pi(a|s) + \bar{\mathcal H})\big]

    When the policy's entropy ``-log pi`` is below the target ``H-bar`` the bracket is positive,
    so minimising raises ``log alpha`` (more entropy bonus), and vice versa. ``log_prob`` is
    detached: this loss trains alpha only, never the policy.

    We optimise ``log alpha`` and multiply it (not ``alpha``) into the loss, as Stable-Baselines3
    and PEARL's official code do; the "alpha form" ``-alpha * (...)`` has the same fixed point but
    gradients scaled by alpha.

    Args:
        log_alpha: the trainable 0-d tensor ``log alpha``.
        log_prob: ``log pi(a|s)`` of fresh policy samples, shape ``(B,)``.
        target_entropy: usually ``-act_dim``.
    """
    return -(log_alpha * (log_prob + target_entropy).detach()).mean()


# ---------------------------------------------------------------------------------------------
# The agent
# ---------------------------------------------------------------------------------------------


@dataclass
class SACConfig:
    """Hyperparameters of SAC; defaults are Stable-Baselines3's (and the SAC paper's)."""

    gamma: float = 0.99
    """Discount factor."""
    tau: float = 0.005
    """Polyak coefficient of the target networks (1 = hard copy)."""
    lr: float = 3e-4
    """Adam learning rate of actor, critics, value network and temperature."""
    batch_size: int = 256
    """Transitions per gradient step."""
    buffer_size: int = 1_000_000
    """Replay buffer capacity."""
    learning_starts: int = 100
    """Environment steps of uniformly random actions before the first gradient step."""
    train_freq: int = 1
    """Environment steps between training phases."""
    gradient_steps: int = 1
    """Gradient steps per training phase."""
    ent_coef: str | float = "auto"
    """Entropy temperature alpha: "auto" (learned, starting at init_ent_coef) or a fixed float."""
    init_ent_coef: float = 1.0
    """Initial alpha when ent_coef is "auto"."""
    target_entropy: str | float = "auto"
    """Target entropy for the learned alpha; "auto" means -act_dim."""
    hidden_sizes: tuple[int, ...] = (256, 256)
    """Hidden layer widths of the policy, the critics and the value network."""
    use_value_network: bool = False
    """PEARL's official variant: a state-value network V and target V-bar replace target critics."""
    seed: int = 0
    """Seed of torch, NumPy, the buffer and the environment."""
    device: str | None = None
    """torch device; None picks CUDA when available, else the CPU."""

    def __post_init__(self) -> None:
        if not (isinstance(self.ent_coef, (int, float)) and self.ent_coef >= 0) and \
                self.ent_coef != "auto":
            raise ValueError(f"ent_coef must be 'auto' or a float >= 0, got {self.ent_coef!r}")
        if not (isinstance(self.target_entropy, (int, float)) or self.target_entropy == "auto"):
            raise ValueError(f"target_entropy must be 'auto' or a float, got "
                             f"{self.target_entropy!r}")
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"gamma must be in [0, 1], got {self.gamma}")
        if not 0.0 < self.tau <= 1.0:
            raise ValueError(f"tau must be in (0, 1], got {self.tau}")
        for name in ("batch_size", "buffer_size", "train_freq", "gradient_steps"):
            if int(getattr(self, name)) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        self.hidden_sizes = tuple(self.hidden_sizes)


class SAC:
    """A soft actor-critic agent: networks, optimisers, and one gradient step in :meth:`update`.

    Args:
        obs_dim: observation size.
        act_dim: action size (actions in [-1, 1]).
        cfg: hyperparameters.
    """

    def __init__(self, obs_dim: int, act_dim: int, cfg: SACConfig | None = None) -> None:
        self.cfg = cfg = cfg or SACConfig()
        self.obs_dim, self.act_dim = obs_dim, act_dim
        self.device = get_device(cfg.device)
        seed_everything(cfg.seed)
        dev = self.device
        self.actor = TanhGaussianPolicy(obs_dim, act_dim, cfg.hidden_sizes).to(dev)
        self.critic = TwinQ(obs_dim, act_dim, cfg.hidden_sizes).to(dev)
        self.actor_opt = adam(self.actor.parameters(), cfg.lr)
        self.critic_opt = adam(self.critic.parameters(), cfg.lr)
        if cfg.use_value_network:
            # V(s) and its slowly moving copy V-bar(s); the critics then need no target copy.
            self.value = MLP(obs_dim, 1, cfg.hidden_sizes).to(dev)
            self.value_target = copy.deepcopy(self.value).requires_grad_(False)
            self.value_opt = adam(self.value.parameters(), cfg.lr)
            self._online, self._target = self.value, self.value_target
        else:
            self.critic_target = copy.deepcopy(self.critic).requires_grad_(False)
            self._online, self._target = self.critic, self.critic_target
        self._online_params = list(self._online.parameters())
        self._target_params = list(self._target.parameters())
        self.target_entropy = float(-act_dim if cfg.target_entropy == "auto"
                                    else cfg.target_entropy)
        self.learn_alpha = cfg.ent_coef == "auto"
        init_alpha = cfg.init_ent_coef if self.learn_alpha else float(cfg.ent_coef)
        self.log_alpha = torch.tensor(math.log(max(init_alpha, 1e-30)), device=dev,
                                      requires_grad=self.learn_alpha)
        if self.learn_alpha:
            self.alpha_opt = adam([self.log_alpha], cfg.lr)
        self.n_updates = 0

    @property
    def alpha(self) -> Tensor:
        """The current temperature ``exp(log_alpha)``, detached (a 0-d tensor)."""
        return self.log_alpha.detach().exp()

    @torch.no_grad()
    def act(self, obs: np.ndarray, deterministic: bool = False) -> np.ndarray:
        """Action(s) in [-1, 1] for ``obs`` of shape ``(obs_dim,)`` or ``(N, obs_dim)``."""
        obs_t = torch.as_tensor(obs, dtype=torch.float32, device=self.device)
        dist = self.actor(obs_t)
        action = dist.mode if deterministic else dist.sample()[0]
        return action.cpu().numpy()

    def update(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        """One gradient step of temperature, critics (and V), then actor, then the targets.

        The order follows Stable-Baselines3's ``SAC.train`` so both can be compared step by
        step. ``batch`` is a dict as :meth:`ReplayBuffer.sample` returns. Returns the losses as
        detached 0-d tensors (call ``.item()`` only when logging: each call waits for the device).
        """
        cfg = self.cfg
        obs, act, rew = batch["obs"], batch["act"], batch["rew"]
        next_obs, terminated = batch["next_obs"], batch["terminated"]

        # A fresh reparameterised action at s: it feeds the temperature and the actor losses.
        action_pi, log_prob_pi = self.actor(obs).rsample()

        # 1. Temperature: the alpha used below is the value from *before* this step.
        alpha = self.alpha
        losses: dict[str, Tensor] = {"alpha": alpha}
        if self.learn_alpha:
            loss_alpha = implementation("ex3_sac.temperature_loss", temperature_loss)(
                self.log_alpha, log_prob_pi, self.target_entropy)
            self.alpha_opt.zero_grad(set_to_none=True)
            loss_alpha.backward()
            self.alpha_opt.step()
            losses["alpha_loss"] = loss_alpha.detach()

        # 2. Critics (and the value network), regressed on targets that carry no gradient.
        with torch.no_grad():
            if cfg.use_value_network:
                target_q = bellman_target(rew, self.value_target(next_obs).squeeze(-1),
                                          terminated, cfg.gamma)
            else:
                next_action, next_log_prob = self.actor(next_obs).sample()  # a' ~ pi(.|s')
                next_q = self.critic_target(next_obs, next_action)  # (2, B)
                target_q = implementation("ex3_sac.soft_q_target", soft_q_target)(
                    rew, next_q, next_log_prob, terminated, cfg.gamma, alpha)
        q = self.critic(obs, act)  # (2, B)
        # 0.5 * sum over the twins of the MSE, as Stable-Baselines3 writes it.
        loss_q = 0.5 * ((q - target_q) ** 2).mean(dim=1).sum()
        self.critic_opt.zero_grad(set_to_none=True)
        loss_q.backward()
        self.critic_opt.step()
        losses["critic_loss"] = loss_q.detach()

        # 3. Actor: the critics are frozen so its backward pass skips their weight gradients.
        self.critic.requires_grad_(False)
        q_pi = self.critic(obs, action_pi)
        self.critic.requires_grad_(True)
        if cfg.use_value_network:
            with torch.no_grad():
                target_v = soft_value_target(q_pi, log_prob_pi, alpha)
            loss_v = 0.5 * ((self.value(obs).squeeze(-1) - target_v) ** 2).mean()
            self.value_opt.zero_grad(set_to_none=True)
            loss_v.backward()
            self.value_opt.step()
            losses["value_loss"] = loss_v.detach()
        loss_pi = policy_loss(log_prob_pi, q_pi, alpha)
        self.actor_opt.zero_grad(set_to_none=True)
        loss_pi.backward()
        self.actor_opt.step()
        losses["actor_loss"] = loss_pi.detach()
        losses["entropy"] = -log_prob_pi.detach().mean()

        # 4. Target networks trail the online ones: target <- (1 - tau) target + tau online.
        polyak_update(self._online_params, self._target_params, cfg.tau)
        self.n_updates += 1
        return losses

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume: networks, optimisers, temperature, config."""
        state = {"cfg": asdict(self.cfg), "actor": self.actor.state_dict(),
                 "critic": self.critic.state_dict(), "actor_opt": self.actor_opt.state_dict(),
                 "critic_opt": self.critic_opt.state_dict(), "log_alpha": self.log_alpha.detach(),
                 "target": self._target.state_dict(), "n_updates": self.n_updates}
        if self.cfg.use_value_network:
            state["value"] = self.value.state_dict()
            state["value_opt"] = self.value_opt.state_dict()
        if self.learn_alpha:
            state["alpha_opt"] = self.alpha_opt.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` saved."""
        self.actor.load_state_dict(state["actor"])
        self.critic.load_state_dict(state["critic"])
        self.actor_opt.load_state_dict(state["actor_opt"])
        self.critic_opt.load_state_dict(state["critic_opt"])
        self._target.load_state_dict(state["target"])
        with torch.no_grad():
            self.log_alpha.copy_(state["log_alpha"])
        if self.cfg.use_value_network:
            self.value.load_state_dict(state["value"])
            self.value_opt.load_state_dict(state["value_opt"])
        if self.learn_alpha:
            self.alpha_opt.load_state_dict(state["alpha_opt"])
        self.n_updates = state["n_updates"]


# ---------------------------------------------------------------------------------------------
# Training loop
# ---------------------------------------------------------------------------------------------


def _box_bounds(env: gym.Env) -> tuple[np.ndarray, np.ndarray]:
    space = env.action_space
    if not isinstance(space, gym.spaces.Box):
        raise ValueError(f"SAC needs a continuous (Box) action space, got {space}")
    if not (np.all(np.isfinite(space.low)) and np.all(np.isfinite(space.high))):
        raise ValueError("SAC needs a bounded action space (finite low and high)")
    return space.low.astype(np.float32), space.high.astype(np.float32)


def to_env_action(action: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Map an action from [-1, 1] to the environment's box ``[low, high]``."""
    return low + 0.5 * (action + 1.0) * (high - low)


def evaluate_policy(
    policy: Callable[[np.ndarray], np.ndarray], env: gym.Env, n_episodes: int, seed: int
) -> list[float]:
    """Returns of ``n_episodes`` episodes of ``policy`` (obs -> env action), seeds seed, seed+1...

    Shared by :func:`train_sac` and ``benchmarks/sac_vs_sb3.py`` so both implementations are
    judged by exactly the same episodes.
    """
    returns = []
    for i in range(n_episodes):
        obs, _ = env.reset(seed=seed + i)
        done, total = False, 0.0
        while not done:
            obs, rew, terminated, truncated, _ = env.step(policy(obs))
            total += float(rew)
            done = terminated or truncated
        returns.append(total)
    return returns


@dataclass
class TrainLog:
    """What :func:`train_sac` records: one entry per finished training episode and evaluation."""

    episodes: dict[str, list[float]] = field(default_factory=dict)
    """Per finished episode: step, return, length, latest losses, training wall time (s)."""
    evals: dict[str, list[float]] = field(default_factory=dict)
    """Per evaluation: step, mean and std of deterministic returns, updates, training time."""

    def arrays(self, which: str = "episodes") -> dict[str, np.ndarray]:
        """``episodes`` or ``evals`` as a dict of NumPy arrays."""
        if which not in ("episodes", "evals"):
            raise ValueError(f"which must be 'episodes' or 'evals', got {which!r}")
        return {k: np.asarray(v, dtype=float) for k, v in getattr(self, which).items()}


#: Evaluation episodes use seeds EVAL_SEED, EVAL_SEED + 1, ...: the same episodes for every run.
EVAL_SEED = 10_000

LOSS_KEYS = ("critic_loss", "actor_loss", "alpha", "alpha_loss", "entropy", "value_loss")


def train_sac(
    env: str | gym.Env,
    cfg: SACConfig | None = None,
    total_steps: int = 20_000,
    *,
    eval_every: int = 0,
    eval_episodes: int = 5,
    out_dir: str | Path | None = None,
    progress: bool = True,
    agent: SAC | None = None,
    buffer: ReplayBuffer | None = None,
    eval_env: gym.Env | None = None,
) -> tuple[SAC, TrainLog]:
    """Train SAC on one gymnasium environment for ``total_steps`` environment steps.

    The loop: act (uniformly at random for the first ``learning_starts`` steps), step, store the
    transition with ``terminated`` and ``truncated`` kept apart, reset at the end of an episode;
    every ``train_freq`` steps after ``learning_starts`` run ``gradient_steps`` updates.

    ``next_obs`` is the observation ``step`` returned for this transition, also at the end of an
    episode; we reset only afterwards. (With a gymnasium *vector* env the autoreset would hand you
    the next episode's first observation instead; there the true final observation must be taken
    from the step's info, or the transition across the reset skipped.)

    Args:
        env: an environment id such as ``"Pendulum-v1"`` or an environment instance.
        cfg: hyperparameters (defaults: :class:`SACConfig`).
        total_steps: environment steps.
        eval_every: run ``eval_episodes`` deterministic episodes every this many steps (0: never).
        eval_episodes: episodes per evaluation.
        out_dir: if given, write ``progress.csv`` (episodes), ``eval.csv`` and ``config.json``.
        progress: show a tqdm progress bar.
        agent: continue training this agent instead of building a new one.
        buffer: use (and keep a handle on) this replay buffer instead of a fresh one.
        eval_env: the environment of the evaluations (default: a copy of ``env``, made with
            ``gym.make(env.spec)`` or, for an unregistered instance, ``copy.deepcopy``).

    Returns:
        ``(agent, log)``.
    """
    cfg = cfg or SACConfig()
    if total_steps <= 0:
        raise ValueError(f"total_steps must be positive, got {total_steps}")
    env_id = env if isinstance(env, str) else getattr(env.spec, "id", type(env).__name__)
    env = gym.make(env) if isinstance(env, str) else env
    if eval_every and eval_env is None:  # a separate copy: evaluation never disturbs training
        eval_env = gym.make(env.spec) if env.spec is not None else copy.deepcopy(env)
    low, high = _box_bounds(env)
    obs_dim, act_dim = int(np.prod(env.observation_space.shape)), int(np.prod(low.shape))
    agent = agent or SAC(obs_dim, act_dim, cfg)
    if buffer is None:
        buffer = ReplayBuffer(obs_dim, act_dim, min(cfg.buffer_size, total_steps), seed=cfg.seed,
                              device=agent.device)
    rng = np.random.default_rng(cfg.seed)
    env.action_space.seed(cfg.seed)

    log = TrainLog()
    ep_logger = eval_logger = None
    if out_dir is not None:
        out_dir = Path(out_dir)
        atomic_write_json(out_dir / "config.json", {"env": str(env_id),
                                                    "total_steps": total_steps, **asdict(cfg)})
        ep_logger = CSVLogger(out_dir / "progress.csv")
        eval_logger = CSVLogger(out_dir / "eval.csv")

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total_steps, desc=f"SAC {env_id}", leave=False)
    obs, _ = env.reset(seed=cfg.seed)
    ep_return, ep_len, losses = 0.0, 0, {}
    t0 = time.perf_counter()
    eval_time = 0.0  # seconds spent evaluating, left out of the training time we report
    for step in range(1, total_steps + 1):
        if step <= cfg.learning_starts:
            action = rng.uniform(-1.0, 1.0, size=act_dim).astype(np.float32)
        else:
            action = agent.act(obs)
        next_obs, rew, terminated, truncated, _ = env.step(to_env_action(action, low, high))
        buffer.add(obs, action, rew, next_obs, terminated, truncated)
        obs = next_obs
        ep_return += float(rew)
        ep_len += 1

        if step > cfg.learning_starts and step % cfg.train_freq == 0:
            for _ in range(cfg.gradient_steps):
                losses = agent.update(buffer.sample(cfg.batch_size))

        if terminated or truncated:
            row = {"step": step, "episode_return": ep_return, "episode_length": ep_len,
                   **{k: float(losses[k]) if k in losses else float("nan") for k in LOSS_KEYS},
                   "train_time": time.perf_counter() - t0 - eval_time}
            for k, v in row.items():
                log.episodes.setdefault(k, []).append(float(v))
            if ep_logger:
                ep_logger.write(row)
            if bar is not None:
                bar.set_postfix(ret=f"{ep_return:.1f}")
            obs, _ = env.reset()
            ep_return, ep_len = 0.0, 0

        if eval_every and step % eval_every == 0:
            t_eval = time.perf_counter()
            rets = evaluate_policy(
                lambda o: to_env_action(agent.act(o, deterministic=True), low, high),
                eval_env, eval_episodes, seed=EVAL_SEED)
            eval_time += time.perf_counter() - t_eval
            row = {"step": step, "eval_return": float(np.mean(rets)),
                   "eval_std": float(np.std(rets)), "n_updates": agent.n_updates,
                   "train_time": time.perf_counter() - t0 - eval_time}
            for k, v in row.items():
                log.evals.setdefault(k, []).append(float(v))
            if eval_logger:
                eval_logger.write(row)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return agent, log
