"""PEARL's hyperparameters: one dataclass, and presets for every task family.

Introduced in notebook 4. ``get_config(env_name, preset)`` returns a :class:`PEARLConfig`:

- ``paper``: the official code's hyperparameters (github.com/katerakelly/oyster,
  ``configs/default.py`` overridden by ``configs/<env>.json``; field by field below, with the
  source of every value). Meant for a GPU or a long run; runs unchanged.
- ``lite``: sized for a 2-core laptop CPU: the paper's algorithm with smaller networks, smaller
  meta-batches and fewer gradient steps, on one torch thread. Their timings and the runs made
  with them are in ``data/README.md``.
- ``smoke``: seconds; for tests and for executing notebooks in CI. It checks that everything
  runs, not that anything learns.

Every value can be overridden: ``get_config("cheetah-vel", "lite", num_iterations=50)``.
"""

from __future__ import annotations

import ast
import dataclasses
from dataclasses import dataclass
from typing import Any

from pearl_lite.encoder import ENCODER_KINDS

ENV_NAMES: tuple[str, ...] = (
    "point-robot", "sparse-point-robot", "cheetah-vel", "cheetah-dir", "ant-dir", "ant-goal",
    "humanoid-dir", "walker-rand-params", "hopper-rand-params",
)
PRESETS: tuple[str, ...] = ("paper", "lite", "smoke")


@dataclass
class PEARLConfig:
    """Everything that defines a PEARL run (defaults: oyster ``configs/default.py``)."""

    env: str = "cheetah-dir"
    """Task family, one of :data:`ENV_NAMES`."""
    preset: str = "paper"
    """Which preset this config started from (informational)."""
    n_tasks: int | None = None
    """Number of tasks to build; ``None`` means the official total (train + test)."""

    # ---- networks
    net_size: int = 300
    """Units per hidden layer of the policy, Q and V networks (default.py ``net_size``)."""
    n_layers: int = 3
    """Hidden layers of the policy, Q and V networks (oyster ``launch_experiment.py``: 3)."""
    encoder_hidden: tuple[int, ...] = (200, 200, 200)
    """Hidden layers of the context encoder (oyster ``launch_experiment.py``: [200, 200, 200])."""
    encoder_kind: str = "product"
    """``product`` (PEARL), ``mean`` (deterministic pooling) or ``recurrent`` (ablation)."""
    latent_dim: int = 5
    """Size of the task variable z (default.py ``latent_size``)."""
    use_information_bottleneck: bool = True
    """Probabilistic z with the KL term; ``False`` makes z deterministic (default.py)."""
    use_next_obs_in_context: bool = False
    """Context transitions are (s, a, r, s') instead of (s, a, r) (True for *-rand-params)."""

    # ---- data collection (Algorithm 1)
    num_iterations: int = 500
    """Meta-training iterations: collect data, then take gradient steps (default.py)."""
    num_initial_steps: int = 2000
    """Transitions collected per training task with z ~ prior before the first update."""
    num_tasks_sample: int = 5
    """Training tasks collected from per iteration (distinct tasks here; see pearl.py)."""
    num_steps_prior: int = 400
    """Transitions per sampled task with z ~ prior (to the RL and the encoder buffer)."""
    num_steps_posterior: int = 0
    """Transitions per sampled task with z ~ posterior (to the RL and the encoder buffer)."""
    num_extra_rl_steps_posterior: int = 400
    """Transitions per sampled task with z ~ posterior, to the RL buffer only."""
    update_post_train: int = 1
    """While collecting with the posterior, re-infer it every this many trajectories."""
    replay_buffer_size: int = 1_000_000
    """Capacity of each task's RL replay buffer (transitions; oyster: 1e6)."""
    enc_buffer_size: int | None = None
    """``None``: a sampled task's encoder buffer is emptied before its new data (oyster); a
    number keeps up to that many of the task's latest encoder transitions instead, older
    iterations' included (data/ant_dir_investigation.md)."""

    # ---- optimisation
    num_train_steps_per_itr: int = 2000
    """Gradient steps per iteration (``gradient_steps``)."""
    meta_batch: int = 16
    """Tasks per gradient step; all are processed in one batched forward pass."""
    batch_size: int = 256
    """Transitions per task in the RL batch (drawn from all of the task's data)."""
    embedding_batch_size: int = 64
    """Transitions per task in the context batch (drawn from the encoder buffer)."""
    prior_context_fraction: float = 0.0
    """Share of each meta-batch's tasks whose training context is drawn only from the data
    collected with z ~ prior (the first ``num_steps_prior`` of the encoder buffer), like the
    first contexts of meta-test; 0 = the paper's S_c (data/sparse_point_robot_lite_ten_seeds.md)."""
    gamma: float = 0.99
    """Discount factor (default.py ``discount``)."""
    tau: float = 0.005
    """Polyak rate of the target network(s) (default.py ``soft_target_tau``)."""
    policy_lr: float = 3e-4
    """Adam learning rate of the policy."""
    qf_lr: float = 3e-4
    """Adam learning rate of the twin Q networks."""
    vf_lr: float = 3e-4
    """Adam learning rate of the value network."""
    context_lr: float = 3e-4
    """Adam learning rate of the context encoder."""
    lr_final_fraction: float = 1.0
    """Learning rates decay linearly to this fraction by the last iteration (1 = constant)."""
    reward_scale: float = 5.0
    """Rewards are multiplied by this in the Q target; sets the entropy weight (alpha = 1)."""
    kl_lambda: float = 0.1
    """Weight of KL(q(z|c) || N(0, I)), summed over the meta-batch's tasks as in oyster."""
    policy_mean_reg: float = 1e-3
    """Weight of the policy's mean**2 regulariser (oyster sac.py)."""
    policy_std_reg: float = 1e-3
    """Weight of the policy's log_std**2 regulariser (oyster sac.py)."""
    value_scale: float = 1.0
    """Q and V networks output ``value_scale * net(x)`` (1 = official; lite: reward_scale)."""
    auto_entropy: bool = False
    """Learn the temperature alpha (SAC v2) instead of the official fixed alpha = 1."""
    target_entropy: float | None = None
    """Target entropy for ``auto_entropy``; ``None`` means -act_dim."""
    use_value_network: bool = True
    """SAC v1's critic, as the paper: V(s, z) and its Polyak copy V-bar give the Q target.
    ``False``: SAC v2's, Polyak copies of the twin Q networks at a' ~ pi(s', z), no V."""
    sparse_rewards_for_critic: bool = False
    """Sparse tasks: train the critic on the sparse reward too (harder than the paper)."""

    # ---- meta-testing (Algorithm 2)
    num_steps_per_eval: int = 600
    """Exploration budget per test task in transitions (600 = 3 trajectories of 200)."""
    num_exp_traj_eval: int = 1
    """Trajectories with z from the prior before the posterior is first inferred."""
    num_evals: int = 2
    """Independent meta-test runs per task, averaged (default.py)."""
    eval_deterministic: bool = True
    """Act with the policy's mean at meta-test (oyster ``eval_deterministic``)."""
    eval_every: int = 1
    """Meta-test every this many iterations (oyster: every iteration)."""
    n_eval_tasks: int | None = None
    """Meta-test on the first this many test tasks; ``None`` means all of them."""
    eval_tau: float = 1.0
    """Meta-test (and save as ``agent.pt``) a Polyak average of the agent's weights, updated
    after each iteration: ``avg <- (1 - eval_tau) * avg + eval_tau * weights``. 1 = the latest
    weights, as the paper; collection and training always use the latest weights."""

    # ---- run
    max_path_length: int = 200
    """Trajectory length of the sampler (oyster ``max_path_length``); at most the env's horizon."""
    checkpoint_every: int = 10
    """Write a checkpoint every this many iterations (and at the end)."""
    torch_threads: int = 2
    """``torch.set_num_threads`` for training (the CPU case)."""
    async_collection: bool = False
    """Collect each iteration's data in a second process while the learner trains: a second
    core; the learner sees each round one iteration later (``pearl_lite.pearl.collector``)."""
    cuda_graphs: bool = False
    """On a GPU, capture the gradient step once and replay it as a CUDA graph (same maths,
    one launch instead of hundreds); ignored on the CPU. Speed only: resume may change it."""

    # ------------------------------------------------------------------------------------------
    def __post_init__(self) -> None:
        self.encoder_hidden = tuple(int(h) for h in self.encoder_hidden)
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad field and what is allowed."""
        if self.env not in ENV_NAMES:
            raise ValueError(f"unknown environment {self.env!r}; valid: {', '.join(ENV_NAMES)}")
        if self.preset not in PRESETS + ("custom",):
            raise ValueError(f"unknown preset {self.preset!r}; valid: {', '.join(PRESETS)}")
        if self.encoder_kind not in ENCODER_KINDS:
            raise ValueError(f"encoder_kind must be one of {ENCODER_KINDS}, "
                             f"got {self.encoder_kind!r}")
        positive = (
            "net_size", "n_layers", "latent_dim", "num_iterations", "num_tasks_sample",
            "update_post_train", "replay_buffer_size", "num_train_steps_per_itr", "meta_batch",
            "batch_size", "embedding_batch_size", "num_steps_per_eval", "num_evals",
            "eval_every", "max_path_length", "checkpoint_every", "torch_threads",
        )
        for name in positive:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        non_negative = ("num_initial_steps", "num_steps_prior", "num_steps_posterior",
                        "num_extra_rl_steps_posterior", "num_exp_traj_eval")
        for name in non_negative:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        if self.num_initial_steps + self.num_steps_prior + self.num_steps_posterior == 0:
            raise ValueError("no data would reach the encoder buffer: one of num_initial_steps, "
                             "num_steps_prior, num_steps_posterior must be positive")
        for name in ("n_tasks", "n_eval_tasks", "enc_buffer_size"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value <= 0):
                raise ValueError(f"{name} must be a positive integer or None, got {value!r}")
        if not self.encoder_hidden or any(h <= 0 for h in self.encoder_hidden):
            raise ValueError(f"encoder_hidden must be positive sizes, got {self.encoder_hidden}")
        positive_float = ("tau", "policy_lr", "qf_lr", "vf_lr", "context_lr", "reward_scale",
                          "value_scale")
        for name in positive_float:
            if not float(getattr(self, name)) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        if not 0.0 < self.lr_final_fraction <= 1.0:
            raise ValueError(f"lr_final_fraction must be in (0, 1], got {self.lr_final_fraction}")
        for name in ("tau", "eval_tau"):
            if not 0.0 < float(getattr(self, name)) <= 1.0:
                raise ValueError(f"{name} must be in (0, 1], got {getattr(self, name)!r}")
        if not 0.0 <= self.prior_context_fraction <= 1.0:
            raise ValueError("prior_context_fraction must be in [0, 1], got "
                             f"{self.prior_context_fraction!r}")
        if self.prior_context_fraction > 0 and (self.num_steps_prior == 0
                                                or self.enc_buffer_size is not None):
            raise ValueError("prior_context_fraction > 0 needs num_steps_prior > 0 and "
                             "enc_buffer_size=None (the prior data first in each encoder buffer)"
                             f", got num_steps_prior={self.num_steps_prior}, "
                             f"enc_buffer_size={self.enc_buffer_size}")
        if not 0.0 <= self.gamma < 1.0:
            raise ValueError(f"gamma must be in [0, 1), got {self.gamma}")
        for name in ("kl_lambda", "policy_mean_reg", "policy_std_reg"):
            if float(getattr(self, name)) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")

    @property
    def is_sparse(self) -> bool:
        """True for task families whose returned reward is sparse."""
        return self.env == "sparse-point-robot"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (tuples become lists)."""
        d = dataclasses.asdict(self)
        d["encoder_hidden"] = list(self.encoder_hidden)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PEARLConfig:
        """Inverse of :meth:`to_dict`; unknown keys and bad values raise ``ValueError``."""
        if not isinstance(d, dict):
            raise ValueError(f"a config must be a dict, got {type(d).__name__}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"unknown config keys {unknown}; valid keys: {sorted(names)}")
        return cls(**d)

    def replace(self, **overrides: Any) -> PEARLConfig:
        """A copy with some fields changed (validated)."""
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise ValueError(f"unknown config keys {unknown}; valid keys: {sorted(names)}")
        return dataclasses.replace(self, **overrides)


# ---------------------------------------------------------------------------------------------
# paper: oyster configs/<env>.json on top of configs/default.py, value by value
# ---------------------------------------------------------------------------------------------

#: Official per-family overrides of ``configs/default.py`` (copied from ``configs/<env>.json``;
#: ``n_tasks`` and the train/test split live in the environments, ``pearl_lite.envs``).
_PAPER: dict[str, dict[str, Any]] = {
    # configs/point-robot.json
    "point-robot": dict(
        num_initial_steps=200, num_steps_prior=200, num_steps_posterior=0,
        num_extra_rl_steps_posterior=200, num_train_steps_per_itr=1000,
        num_steps_per_eval=60, max_path_length=20, reward_scale=100.0, kl_lambda=0.1,
    ),
    # configs/sparse-point-robot.json
    "sparse-point-robot": dict(
        num_initial_steps=200, num_tasks_sample=10, num_steps_prior=100,
        num_steps_posterior=900, num_extra_rl_steps_posterior=0, num_train_steps_per_itr=1000,
        num_steps_per_eval=400, embedding_batch_size=1024, max_path_length=20, gamma=0.90,
        reward_scale=100.0, kl_lambda=1.0, num_exp_traj_eval=5,
    ),
    # configs/cheetah-vel.json
    "cheetah-vel": dict(
        num_initial_steps=2000, num_steps_prior=400, num_steps_posterior=0,
        num_extra_rl_steps_posterior=600, num_evals=1, num_steps_per_eval=600,
        num_exp_traj_eval=2, embedding_batch_size=100,
    ),
    # configs/cheetah-dir.json
    "cheetah-dir": dict(
        meta_batch=4, num_initial_steps=2000, num_steps_prior=1000, num_steps_posterior=0,
        num_extra_rl_steps_posterior=1000, num_evals=4, num_steps_per_eval=600,
        num_exp_traj_eval=2, embedding_batch_size=256,
    ),
    # configs/ant-dir.json
    "ant-dir": dict(
        meta_batch=4, num_initial_steps=2000, num_steps_prior=400, num_steps_posterior=0,
        num_extra_rl_steps_posterior=600, num_train_steps_per_itr=4000, num_evals=4,
        num_steps_per_eval=600, num_exp_traj_eval=2, embedding_batch_size=256,
    ),
    # configs/ant-goal.json
    "ant-goal": dict(
        meta_batch=10, num_initial_steps=2000, num_steps_prior=400, num_steps_posterior=0,
        num_extra_rl_steps_posterior=600, num_train_steps_per_itr=4000, num_evals=1,
        num_steps_per_eval=600, num_exp_traj_eval=2, embedding_batch_size=256, kl_lambda=1.0,
    ),
    # configs/humanoid-dir.json
    "humanoid-dir": dict(
        num_initial_steps=2000, num_steps_prior=400, num_steps_posterior=0,
        num_extra_rl_steps_posterior=600, num_train_steps_per_itr=4000, num_evals=1,
        num_steps_per_eval=600, num_exp_traj_eval=2, embedding_batch_size=256,
    ),
    # configs/walker_rand_params.json
    "walker-rand-params": dict(
        use_next_obs_in_context=True, meta_batch=10, num_initial_steps=2000,
        num_steps_prior=400, num_steps_posterior=0, num_extra_rl_steps_posterior=600,
        num_train_steps_per_itr=4000, num_evals=2, num_steps_per_eval=600, num_exp_traj_eval=2,
        embedding_batch_size=100,
    ),
    # configs/hopper_rand_params.json
    "hopper-rand-params": dict(
        use_next_obs_in_context=True, meta_batch=10, num_initial_steps=2000,
        num_steps_prior=400, num_steps_posterior=0, num_extra_rl_steps_posterior=600,
        num_train_steps_per_itr=4000, num_evals=2, num_steps_per_eval=600, num_exp_traj_eval=2,
        embedding_batch_size=100,
    ),
}

# ---------------------------------------------------------------------------------------------
# lite: the paper's algorithm, sized for a 2-core CPU
# ---------------------------------------------------------------------------------------------

#: Changes applied on top of the paper preset, for a 2-core laptop CPU. Point robots: small
#: networks, 100 gradient steps per iteration, the data of 16 tasks collected per iteration in
#: one vector environment, learning rates 1e-3, one torch thread (faster than two for nets this
#: small), and value networks that output in units of the reward scale (``value_scale``: the
#: same function class, reached in fewer steps). Measured runs: data/README.md.
_LITE_COMMON: dict[str, Any] = dict(
    net_size=64, encoder_hidden=(64, 64, 64), meta_batch=16, batch_size=128,
    num_train_steps_per_itr=100, num_evals=1, checkpoint_every=5,
)
_LITE: dict[str, dict[str, Any]] = {
    "point-robot": dict(
        num_tasks_sample=10, embedding_batch_size=64, eval_every=5, value_scale=100.0,
        policy_lr=1e-3, qf_lr=1e-3, vf_lr=1e-3, context_lr=1e-3, torch_threads=1,
    ),
    # The paper's 900 posterior-sampling steps per sampled task (collection is cheap here), and
    # learning rates that fall linearly from 1e-3 to 1e-4: fast early progress, then a steadier
    # end (compared with 200 steps at a constant 1e-3 in data/README.md).
    "sparse-point-robot": dict(
        num_tasks_sample=16, num_steps_prior=100, num_steps_posterior=900,
        embedding_batch_size=128, eval_every=5, value_scale=100.0, lr_final_fraction=0.1,
        policy_lr=1e-3, qf_lr=1e-3, vf_lr=1e-3, context_lr=1e-3, torch_threads=1,
    ),
}
#: MuJoCo families: the paper's data per iteration, reward scale, KL weight, learning rates and
#: embedding batch, with smaller networks (3 x 128), meta-batches of 8 x 128 (paper: 16 x 256),
#: 300 gradient steps per iteration (paper: 2,000-4,000), 200 iterations and one torch thread
#: (two threads fought other jobs for the two cores). Timings and results: data/README.md
#: (``benchmarks/preset_timing.py``, the ``*_lite`` runs).
_LITE_MUJOCO: dict[str, Any] = dict(
    value_scale=5.0, net_size=128, encoder_hidden=(128, 128, 128), meta_batch=8,
    batch_size=128, num_train_steps_per_itr=300, num_iterations=200, num_initial_steps=1000,
    eval_every=5, n_eval_tasks=10, checkpoint_every=10, torch_threads=1,
)
#: Per-family changes on top of ``_LITE_MUJOCO``: the two-task families keep the paper's
#: meta-batch of 4; ant-goal (observation 107) and humanoid-dir (348) take fewer gradient steps
#: per iteration, which cost them 1.4 and 2.1 times as much, to fit about 45 minutes.
_LITE_MUJOCO_FAMILY: dict[str, dict[str, Any]] = {
    "cheetah-dir": dict(meta_batch=4),
    # ant-dir: the fixed alpha's action noise costs as much as the survive bonus, so a learnt
    # alpha, faster learning rates and smaller batches (more steps per second); it still does
    # not walk in this budget (data/ant_dir_investigation.md).
    "ant-dir": dict(meta_batch=4, batch_size=64, embedding_batch_size=64,
                    num_train_steps_per_itr=600, num_iterations=100, auto_entropy=True,
                    policy_lr=1e-3, qf_lr=1e-3, vf_lr=1e-3, context_lr=1e-3, tau=0.01),
    "ant-goal": dict(num_train_steps_per_itr=200),
    "humanoid-dir": dict(num_train_steps_per_itr=150),
}

#: The sparse point robot within the paper's ~1M environment steps (issue #15), as overrides of
#: its ``lite`` preset: the official ratio of updates to data (10 tasks x 1,000 steps and 1,000
#: gradient steps per iteration) and the official context batch of 1,024 transitions per task,
#: 100 iterations (1.02M environment steps). Two seeds first reach success 0.8 at the 20th
#: meta-test trajectory after 0.92M and 0.82M environment steps (whole runs: 74 and 70 minutes
#: of one core each, beside another run; data/sparse_sample_efficiency.md). Use:
#: ``get_config("sparse-point-robot", "lite", **SPARSE_SAMPLE_EFFICIENT)``.
SPARSE_SAMPLE_EFFICIENT: dict[str, Any] = dict(
    num_tasks_sample=10, num_train_steps_per_itr=1000, num_iterations=100,
    embedding_batch_size=1024,
)

#: cheetah-vel within 20 minutes on a 2-core laptop (issue #15), as overrides of its ``lite``
#: preset. Learning: a learnt temperature (SAC v2's ``auto_entropy``: the fixed alpha = 1 keeps
#: the policy too noisy to hold a target velocity) and learning rates 1e-3 falling linearly to
#: 1e-4. Speed: two torch threads for the gradient steps and collection in a second process
#: (``async_collection``). Same data and gradient steps as ``lite``. Measured runs and their
#: commands: data/cheetah_vel_speed.md. Use:
#: ``get_config("cheetah-vel", "lite", **CHEETAH_VEL_FAST)``.
CHEETAH_VEL_FAST: dict[str, Any] = dict(
    auto_entropy=True, policy_lr=1e-3, qf_lr=1e-3, vf_lr=1e-3, context_lr=1e-3,
    lr_final_fraction=0.1, torch_threads=2, async_collection=True,
)

# ---------------------------------------------------------------------------------------------
# smoke: seconds
# ---------------------------------------------------------------------------------------------

_SMOKE: dict[str, Any] = dict(
    n_tasks=8, net_size=16, n_layers=2, encoder_hidden=(16, 16), num_iterations=2,
    num_tasks_sample=2, meta_batch=4, batch_size=16, embedding_batch_size=16,
    num_train_steps_per_itr=3, num_evals=1, eval_every=1, checkpoint_every=1,
    n_eval_tasks=2, torch_threads=1,
)


#: The direction families, which have exactly their two tasks (forward and backward).
_TWO_TASK_FAMILIES = ("cheetah-dir", "ant-dir")


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """Command-line overrides ``["key=value", ...]`` to a dict for :func:`get_config`.

    Values are Python literals where they parse as one (``1e-3``, ``True``, ``(64, 64)``),
    strings otherwise. Whether the keys are config fields is checked by :func:`get_config`.

    Raises:
        ValueError: an item without ``=``.
    """
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"overrides are key=value, got {item!r}")
        try:
            out[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[key] = value
    return out


def get_config(env_name: str, preset: str = "lite", **overrides: Any) -> PEARLConfig:
    """The preset ``preset`` for task family ``env_name``, with optional field overrides.

    Args:
        env_name: one of :data:`ENV_NAMES`.
        preset: one of :data:`PRESETS` (``paper``, ``lite``, ``smoke``).
        **overrides: any :class:`PEARLConfig` field.

    Raises:
        ValueError: unknown environment, preset or field, or an invalid value.
    """
    if env_name not in ENV_NAMES:
        raise ValueError(f"unknown environment {env_name!r}; valid: {', '.join(ENV_NAMES)}")
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; valid: {', '.join(PRESETS)}")
    values = PEARLConfig().to_dict()  # configs/default.py ...
    values.update(env=env_name, preset=preset, **_PAPER[env_name])  # ... + configs/<env>.json
    point = env_name in ("point-robot", "sparse-point-robot")
    if preset == "lite":
        values.update(_LITE_COMMON)
        if point:
            values.update(_LITE[env_name])
        else:
            values.update(_LITE_MUJOCO, **_LITE_MUJOCO_FAMILY.get(env_name, {}))
    elif preset == "smoke":
        values.update(_SMOKE)
        if env_name in _TWO_TASK_FAMILIES:
            values["n_tasks"] = None  # their two tasks, not _SMOKE's 8
        # Keep the data per iteration tiny: one or two trajectories of each kind.
        h = values["max_path_length"]
        if not point:
            h = values["max_path_length"] = 20
        values.update(
            num_initial_steps=h, num_steps_prior=h if values["num_steps_prior"] else 0,
            num_steps_posterior=h if values["num_steps_posterior"] else 0,
            num_extra_rl_steps_posterior=h if values["num_extra_rl_steps_posterior"] else 0,
            num_steps_per_eval=min(values["num_steps_per_eval"], 3 * h),
            num_exp_traj_eval=min(values["num_exp_traj_eval"], 2),
        )
    cfg = PEARLConfig(**values)
    return cfg.replace(**overrides) if overrides else cfg


__all__ = ["CHEETAH_VEL_FAST", "ENCODER_KINDS", "ENV_NAMES", "PEARLConfig", "PRESETS",
           "SPARSE_SAMPLE_EFFICIENT", "get_config", "parse_overrides"]
