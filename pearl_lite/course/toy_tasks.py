"""A toy task family whose latent is known, to train and inspect context encoders (notebook 2).

**The tasks.** Each task is a hidden goal velocity g in the plane, drawn from the unit Gaussian
N(0, I), which is exactly the encoder's prior, so a trained posterior can be checked against the
truth and for calibration. A transition is one step of a point robot: a position s drawn
uniformly from the square ``[-state_range, state_range]^2``, an action a (the robot's velocity
for the step) uniform in ``[-max_action, max_action]^2``, and the noisy reward

    r = a . g + noise,   noise ~ N(0, reward_noise^2),

the progress made along g, as in PEARL's direction tasks (cheetah-dir, humanoid-dir), where the
reward is the velocity along a hidden direction. The context vector of a transition is
``(s, a, r)`` (:func:`pearl_lite.encoder.make_context`), 5 numbers; s carries no information
about the task, and the encoder has to learn to ignore it.

Why this reward: it is linear in g, so the likelihood of one transition is a Gaussian "ridge" in
z-space (all z with a . z close to r), which a Gaussian factor can roughly express. With the
point robot's reward, minus the distance to a goal, one transition says only "the goal lies on
a circle around s + a", a ring that no Gaussian factor fits.

**The decoder.** To train the encoder we need p(r | s, a, z). We give the decoder the reward's
true form, ``r_hat = a . z``, with no parameters: then z *means* g, in g's own coordinates, and
we can draw the posterior on top of the true task. (In PEARL the "decoder" is the learned critic,
and z's coordinates mean nothing by themselves.)

**The objective.** The evidence lower bound of the context under the known noise level, for each
task t with posterior q_t = q(z | c_t):

    loss_t = E_{z ~ q_t} [ sum_n (r_n - a_n . z)^2 / (2 reward_noise^2) ]
             + beta * KL(q_t || N(0, I)),

averaged over the tasks of a batch. With ``beta = 1`` this is the negative ELBO (up to a
constant); ``beta`` above 1 squeezes information out of z (the information bottleneck), below 1
lets the posterior be narrower than the evidence warrants.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from pearl_lite.encoder import ENCODER_KINDS, ContextEncoder, make_context
from pearl_lite.utils import atomic_torch_save

Tensor = torch.Tensor

#: Fraction of a 2-D Gaussian's mass within Mahalanobis distance 2 (the "2-sigma ellipse"):
#: 1 - exp(-2). A calibrated posterior contains the true goal this often.
MASS_IN_2SIGMA_2D = 1.0 - math.exp(-2.0)


@dataclass
class GoalTasks:
    """The 2-D goal-velocity task family (see the module docstring)."""

    state_range: float = 2.0
    """Positions s are uniform in [-state_range, state_range]^2 (no task information)."""
    max_action: float = 1.0
    """Actions a (velocities) are uniform in [-max_action, max_action]^2."""
    reward_noise: float = 0.3
    """Standard deviation of the Gaussian noise on every reward."""

    obs_dim: int = 2
    """Size of s (a position in the plane)."""
    act_dim: int = 2
    """Size of a (a velocity in the plane)."""
    latent_dim: int = 2
    """Size of the task variable g."""

    @property
    def context_dim(self) -> int:
        """Length of one (s, a, r) context vector."""
        return self.obs_dim + self.act_dim + 1

    def sample_goals(self, n: int, generator: torch.Generator) -> Tensor:
        """``n`` goal velocities from the prior N(0, I), shape ``(n, 2)``."""
        return torch.randn(n, self.latent_dim, generator=generator)

    def sample_context(self, goals: Tensor, n: int, generator: torch.Generator) -> Tensor:
        """``n`` random transitions of each task, as context vectors ``(T, n, 5)``."""
        T = goals.shape[0]
        obs = (torch.rand(T, n, self.obs_dim, generator=generator) * 2 - 1) * self.state_range
        act = (torch.rand(T, n, self.act_dim, generator=generator) * 2 - 1) * self.max_action
        noise = torch.randn(T, n, generator=generator) * self.reward_noise
        rew = (act * goals[:, None]).sum(-1) + noise  # progress along g, plus noise
        return make_context(obs, act, rew)

    def decode(self, context: Tensor, z: Tensor) -> Tensor:
        """Predicted rewards ``a . z`` of the context's transitions, ``(T, N)``.

        ``z`` is ``(T, 2)`` (one latent per task) or ``(T, S, 2)`` (S samples per task, giving
        ``(T, S, N)``).
        """
        act = context[..., self.obs_dim : self.obs_dim + self.act_dim]  # (T, N, 2)
        if z.dim() == 3:
            return (act[:, None] * z[:, :, None]).sum(-1)
        return (act * z[:, None]).sum(-1)


def exact_posterior(tasks: GoalTasks, context: Tensor) -> tuple[Tensor, Tensor]:
    r"""The exact Bayesian posterior p(g | context): the best any encoder could do.

    The reward is linear in g with Gaussian noise and the prior is N(0, I), so the posterior is
    Gaussian with a *full* covariance (Bayesian linear regression): with A the ``(N, 2)`` actions
    and r the rewards,

    .. math::
        \Sigma = (I + A^\top A / \sigma^2)^{-1}, \qquad \mu = \Sigma A^\top r / \sigma^2.

    Args:
        context: ``(T, N, 5)`` context vectors; ``N = 0`` gives the prior.

    Returns:
        ``(mu, cov)`` of shapes ``(T, 2)`` and ``(T, 2, 2)``.
    """
    act = context[..., tasks.obs_dim : tasks.obs_dim + tasks.act_dim]  # (T, N, 2)
    rew = context[..., -1:]  # (T, N, 1)
    noise_var = tasks.reward_noise**2
    eye = torch.eye(tasks.latent_dim, dtype=context.dtype)
    precision = eye + act.transpose(1, 2) @ act / noise_var  # (T, 2, 2)
    cov = torch.linalg.inv(precision)
    mu = (cov @ (act.transpose(1, 2) @ rew / noise_var)).squeeze(-1)
    return mu, cov


def elbo_terms(
    encoder: ContextEncoder, tasks: GoalTasks, context: Tensor, mask: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """The two parts of the negative ELBO for each task, each ``(T,)``.

    Returns:
        ``(recon, kl)``: the reward reconstruction term (Gaussian negative log-likelihood of the
        context's rewards under one reparameterised sample z, without the constant), and
        KL(q(z | c) || N(0, I)) (zeros for the deterministic encoder).
    """
    mu, var = encoder(context, mask)
    z = encoder.rsample(mu, var)  # the reparameterisation trick: gradients reach the encoder
    sq_err = (context[..., -1] - tasks.decode(context, z)) ** 2  # (T, N)
    if mask is not None:
        sq_err = sq_err * mask.to(sq_err.dtype)
    recon = sq_err.sum(dim=-1) / (2 * tasks.reward_noise**2)
    return recon, encoder.kl_to_prior(mu, var)


@dataclass
class ToyConfig:
    """Hyperparameters of one encoder trained on the goal tasks (notebook 2)."""

    kind: str = "product"
    """Encoder variant: "product" (PEARL), "mean" (deterministic) or "recurrent" (GRU)."""
    beta: float = 1.0
    """Weight of the KL term (PEARL's kl_lambda): the information bottleneck."""
    latent_dim: int = 2
    """Size of z; 2, so that z can be read as a goal velocity."""
    hidden_sizes: tuple[int, ...] = (128, 128)
    """Hidden layers of the per-transition network (PEARL: 200, 200, 200)."""
    n_train_tasks: int = 400
    """Goals seen in training (held-out goals are drawn from a separate generator)."""
    meta_batch: int = 32
    """Tasks per gradient step."""
    max_context: int = 32
    """Each task's context holds 1..max_context transitions (uniformly), through the mask."""
    gradient_steps: int = 2000
    """Number of Adam steps."""
    lr: float = 1e-3
    """Adam learning rate."""
    seed: int = 0
    """Seeds the network initialisation, the training goals and the transitions."""
    tasks: GoalTasks = field(default_factory=GoalTasks)
    """The task family."""

    def __post_init__(self) -> None:
        if self.kind not in ENCODER_KINDS:
            raise ValueError(f"kind must be one of {ENCODER_KINDS}, got {self.kind!r}")
        if self.beta < 0:
            raise ValueError(f"beta must be non-negative, got {self.beta}")
        if isinstance(self.tasks, dict):  # when loaded back from a checkpoint
            self.tasks = GoalTasks(**self.tasks)
        self.hidden_sizes = tuple(self.hidden_sizes)


def make_encoder(cfg: ToyConfig) -> ContextEncoder:
    """An untrained encoder for ``cfg`` (seeded by ``cfg.seed``)."""
    torch.manual_seed(cfg.seed)
    return ContextEncoder(cfg.tasks.context_dim, cfg.latent_dim, cfg.hidden_sizes, cfg.kind)


def train_toy_encoder(cfg: ToyConfig, log_every: int = 0) -> tuple[ContextEncoder, dict]:
    """Train one encoder with the (beta-weighted) ELBO on the goal tasks.

    Every step draws ``meta_batch`` training goals, ``max_context`` fresh transitions of each,
    and a random context size per task (the mask), so one network learns every context size.

    Returns:
        ``(encoder, history)`` where history holds per-step lists ``"step"``, ``"recon"``,
        ``"kl"``, ``"loss"`` (batch means, every ``max(1, log_every)`` steps), and ``"seconds"``.
    """
    tasks = cfg.tasks
    encoder = make_encoder(cfg)
    gen = torch.Generator().manual_seed(cfg.seed)
    train_goals = tasks.sample_goals(cfg.n_train_tasks, gen)
    opt = torch.optim.Adam(encoder.parameters(), lr=cfg.lr)
    history: dict = {"step": [], "recon": [], "kl": [], "loss": []}
    every = max(1, log_every)
    t0 = time.time()
    for step in range(1, cfg.gradient_steps + 1):
        idx = torch.randint(cfg.n_train_tasks, (cfg.meta_batch,), generator=gen)
        context = tasks.sample_context(train_goals[idx], cfg.max_context, gen)
        sizes = torch.randint(1, cfg.max_context + 1, (cfg.meta_batch, 1), generator=gen)
        mask = torch.arange(cfg.max_context) < sizes  # (T, N): the first `size` transitions
        recon, kl = elbo_terms(encoder, tasks, context, mask)
        loss = (recon + cfg.beta * kl).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % every == 0 or step == cfg.gradient_steps:
            history["step"].append(step)
            history["recon"].append(recon.mean().item())
            history["kl"].append(kl.mean().item())
            history["loss"].append(loss.item())
    history["seconds"] = time.time() - t0
    encoder.eval()
    return encoder, history


# ---- evaluation on held-out goals ------------------------------------------------------------


def make_eval_set(
    tasks: GoalTasks, n_tasks: int = 200, n_context: int = 32, n_query: int = 64, seed: int = 1234
) -> dict[str, Tensor]:
    """Held-out goals with a fixed context and fixed query transitions for each.

    Returns a dict with ``"goals"`` ``(T, 2)``, ``"context"`` ``(T, n_context, 5)`` (the order in
    which transitions "arrive"), ``"query"`` ``(T, n_query, 5)`` (for the reward-prediction
    error) and ``"perm"`` ``(T, n_context)`` (a fixed shuffle of each context).
    """
    gen = torch.Generator().manual_seed(seed + 1_000_003)  # never the training goals' stream
    goals = tasks.sample_goals(n_tasks, gen)
    perm = torch.stack([torch.randperm(n_context, generator=gen) for _ in range(n_tasks)])
    return {
        "goals": goals,
        "context": tasks.sample_context(goals, n_context, gen),
        "query": tasks.sample_context(goals, n_query, gen),
        "perm": perm,
    }


def shuffled(context: Tensor, perm: Tensor) -> Tensor:
    """Reorder each task's transitions: ``context[t, perm[t]]``."""
    return torch.gather(context, 1, perm.unsqueeze(-1).expand_as(context))


@torch.no_grad()
def posterior_for_size(
    encoder: ContextEncoder, eval_set: dict[str, Tensor], n: int, order: str = "ordered"
) -> tuple[Tensor, Tensor]:
    """Posterior ``(mu, var)`` of every held-out task from its first ``n`` transitions.

    ``order="shuffled"`` feeds the *same* ``n`` transitions in a different (fixed, random)
    order: an order-invariant encoder must give the same posterior.
    """
    if order not in ("ordered", "shuffled"):
        raise ValueError(f"order must be 'ordered' or 'shuffled', got {order!r}")
    context = eval_set["context"]
    if not 0 <= n <= context.shape[1]:
        raise ValueError(f"n must be in 0..{context.shape[1]}, got {n}")
    context = context[:, :n]
    if order == "shuffled":
        # The ranks of the first n entries of a random permutation: a random order of 0..n-1.
        context = shuffled(context, eval_set["perm"][:, :n].argsort(dim=1))
    return encoder(context)


@torch.no_grad()
def posterior_metrics(
    mu: Tensor, var: Tensor, goals: Tensor, tasks: GoalTasks, query: Tensor
) -> dict[str, float]:
    """How good a batch of posteriors is, against the true goals.

    Returns a dict of floats: ``"error"`` (mean distance from the posterior mean to the goal),
    ``"std"`` (mean posterior standard deviation), ``"coverage"`` (fraction of goals within the
    2-sigma ellipse, i.e. Mahalanobis distance <= 2; a calibrated posterior gives
    :data:`MASS_IN_2SIGMA_2D` = 0.865), ``"reward_rmse"`` (error of the rewards predicted for the
    query transitions with z = posterior mean) and ``"kl"`` (mean KL to the prior, in nats: how
    much z keeps about the task). Coverage and KL are NaN for point estimates (``var == 0``).
    """
    err = torch.linalg.vector_norm(mu - goals, dim=-1)
    out = {"error": err.mean().item(), "std": var.sqrt().mean().item()}
    if bool((var > 0).all()):
        maha2 = ((mu - goals) ** 2 / var).sum(-1)
        out["coverage"] = (maha2 <= 4.0).float().mean().item()
        out["kl"] = (0.5 * (var + mu**2 - 1 - torch.log(var)).sum(-1)).mean().item()
    else:  # a point estimate (the deterministic encoder) has no region and no KL
        out["coverage"] = float("nan")
        out["kl"] = float("nan")
    rmse = (query[..., -1] - tasks.decode(query, mu)).pow(2).mean().sqrt()
    out["reward_rmse"] = rmse.item()
    return out


@torch.no_grad()
def order_sensitivity(encoder: ContextEncoder, eval_set: dict[str, Tensor], n: int) -> float:
    """Mean distance between the posterior means of the same ``n`` transitions in two orders."""
    mu, _ = posterior_for_size(encoder, eval_set, n, "ordered")
    mu_s, _ = posterior_for_size(encoder, eval_set, n, "shuffled")
    return torch.linalg.vector_norm(mu - mu_s, dim=-1).mean().item()


def metrics_by_size(
    encoder: ContextEncoder, eval_set: dict[str, Tensor], sizes, tasks: GoalTasks
) -> dict[str, np.ndarray]:
    """:func:`posterior_metrics` and :func:`order_sensitivity` for each context size."""
    rows = []
    for n in sizes:
        mu, var = posterior_for_size(encoder, eval_set, int(n))
        row = posterior_metrics(mu, var, eval_set["goals"], tasks, eval_set["query"])
        row["order_sensitivity"] = order_sensitivity(encoder, eval_set, int(n)) if n > 1 else 0.0
        rows.append(row)
    out = {k: np.array([r[k] for r in rows]) for k in rows[0]}
    out["size"] = np.asarray(list(sizes))
    return out


@torch.no_grad()
def exact_metrics_by_size(
    eval_set: dict[str, Tensor], sizes, tasks: GoalTasks
) -> dict[str, np.ndarray]:
    """Like :func:`metrics_by_size` for the exact posterior (:func:`exact_posterior`)."""
    rows = []
    goals = eval_set["goals"]
    for n in sizes:
        mu, cov = exact_posterior(tasks, eval_set["context"][:, : int(n)])
        diff = (goals - mu).unsqueeze(-1)
        maha2 = (diff.transpose(1, 2) @ torch.linalg.solve(cov, diff)).view(-1)
        rmse = (eval_set["query"][..., -1] - tasks.decode(eval_set["query"], mu)).pow(2).mean()
        rows.append({
            "error": torch.linalg.vector_norm(mu - goals, dim=-1).mean().item(),
            "std": torch.diagonal(cov, dim1=1, dim2=2).sqrt().mean().item(),
            "coverage": (maha2 <= 4.0).float().mean().item(),
            "reward_rmse": rmse.sqrt().item(),
        })
    out = {k: np.array([r[k] for r in rows]) for k in rows[0]}
    out["size"] = np.asarray(list(sizes))
    return out


# ---- the cache of trained models behind the notebook's sliders -------------------------------


#: The beta values behind the notebook's beta slider (product-of-Gaussians encoder).
CACHE_BETAS = (0.1, 0.3, 1.0, 3.0, 10.0)


def model_name(kind: str, beta: float) -> str:
    """The cache's key for an encoder: ``"product/beta=1"``, ``"mean"``, ``"recurrent/beta=1"``."""
    if kind not in ENCODER_KINDS:
        raise ValueError(f"kind must be one of {ENCODER_KINDS}, got {kind!r}")
    return "mean" if kind == "mean" else f"{kind}/beta={beta:g}"


def cache_configs(gradient_steps: int = 3000, seed: int = 0) -> dict[str, ToyConfig]:
    """The encoders the notebook's sliders need: the product encoder at every beta of
    :data:`CACHE_BETAS`, and the mean-pooling and recurrent encoders at beta = 1."""
    cfgs = [ToyConfig(kind="product", beta=b) for b in CACHE_BETAS]
    cfgs += [ToyConfig(kind="mean"), ToyConfig(kind="recurrent", beta=1.0)]
    for c in cfgs:
        c.gradient_steps, c.seed = gradient_steps, seed
    return {model_name(c.kind, c.beta): c for c in cfgs}


def build_cache(
    configs: dict[str, ToyConfig], path: str | Path, log_every: int = 50, verbose: bool = True
) -> dict[str, dict]:
    """Train one encoder per named config and save them all to one file at ``path``.

    The file holds, for each name, the config, the ``state_dict`` and the training history;
    written atomically. Returns the same dict.
    """
    cache = {}
    for name, cfg in configs.items():
        encoder, history = train_toy_encoder(cfg, log_every=log_every)
        cache[name] = {"config": _config_dict(cfg), "state_dict": encoder.state_dict(),
                       "history": history}
        if verbose:
            print(f"trained {name} ({cfg.kind}, beta={cfg.beta}) in {history['seconds']:.0f} s")
    atomic_torch_save(cache, path)
    return cache


def load_cache(path: str | Path) -> dict[str, tuple[ContextEncoder, ToyConfig, dict]]:
    """Load a file written by :func:`build_cache`: name -> ``(encoder, config, history)``."""
    raw = torch.load(path, map_location="cpu", weights_only=False)
    out = {}
    for name, entry in raw.items():
        cfg = ToyConfig(**entry["config"])
        encoder = make_encoder(cfg)
        encoder.load_state_dict(entry["state_dict"])
        encoder.eval()
        out[name] = (encoder, cfg, entry["history"])
    return out


def _config_dict(cfg: ToyConfig) -> dict:
    d = asdict(cfg)
    d["hidden_sizes"] = list(cfg.hidden_sizes)
    return d
