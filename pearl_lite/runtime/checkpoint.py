"""Run folders and checkpoints: what a training run writes, and how it continues exactly.

A run folder (``python -m pearl_lite.train ... --out DIR``) holds

- ``config.json``: the resolved :class:`~pearl_lite.config.PEARLConfig` plus the seed;
- ``progress.csv``: one row per iteration;
- ``checkpoint.pt``: networks, optimisers, replay buffers and every RNG state
  (:func:`trainer_state`), so that a resumed run ends exactly where an uninterrupted one would;
- ``agent.pt`` and ``snapshots/agent_itNNNN.pt``: the networks only (:func:`agent_state`), small.

Every file is written atomically: a run killed mid-write keeps its previous checkpoint.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import torch

from pearl_lite.config import PEARLConfig
from pearl_lite.pearl import MetaTrainer
from pearl_lite.runtime.cuda_graphs import CUDAGraphStep
from pearl_lite.utils import atomic_torch_save, rng_state, set_rng_state

CONFIG_FILE, PROGRESS_FILE, CHECKPOINT_FILE = "config.json", "progress.csv", "checkpoint.pt"
AGENT_FILE = "agent.pt"  # the networks only: small, for notebooks and evaluation
CHECKPOINT_FORMAT, AGENT_FORMAT = "pearl-lite-checkpoint-v1", "pearl-lite-agent-v1"
FORMATS = (CHECKPOINT_FORMAT, AGENT_FORMAT)


class CLIError(Exception):
    """A problem with the user's input or files; the commands report it as one line."""


def config_mismatch(saved: dict[str, Any], cfg: PEARLConfig) -> list[str]:
    """Fields in which a saved config differs from ``cfg``.

    ``num_iterations`` may differ (a run can be extended on resume) unless the learning rates
    decay over the run (``lr_final_fraction < 1``), whose schedule depends on it;
    ``cuda_graphs`` may always differ. A field the saved config lacks (written by an older
    version) counts as its default.
    """
    now = cfg.to_dict()
    defaults = {f.name: f.default for f in dataclasses.fields(PEARLConfig)}
    ignored = {"cuda_graphs"}  # how fast, not what is computed
    if cfg.lr_final_fraction == 1.0:
        ignored.add("num_iterations")
    keys = (set(now) | set(saved)) - ignored
    return sorted(k for k in keys if saved.get(k, defaults.get(k)) != now.get(k))


def portable_optimizer_state(opt: torch.optim.Optimizer) -> dict[str, Any]:
    """``opt.state_dict()`` with plain-float learning rates and ``capturable=False``.

    After a CUDA-graph capture (``pearl_lite.runtime.cuda_graphs``) the optimisers hold their
    learning rate as a device tensor and are "capturable"; saved this way, a checkpoint
    resumes on any device, with or without graphs.
    """
    state = opt.state_dict()
    for group in state["param_groups"]:
        group["lr"] = float(group["lr"])
        group["capturable"] = False
    return state


def trainer_state(trainer: MetaTrainer) -> dict[str, Any]:
    """Everything to continue exactly: nets, optimisers, buffers, RNG states, counters."""
    opts = trainer.learner
    learner = {"critic_opt": portable_optimizer_state(opts.critic_opt),
               "actor_opt": portable_optimizer_state(opts.actor_opt)}
    if opts.alpha_opt is not None:
        learner["alpha_opt"] = portable_optimizer_state(opts.alpha_opt)
    return {
        "format": CHECKPOINT_FORMAT,
        "config": trainer.cfg.to_dict(), "seed": trainer.seed, "iteration": trainer.iteration,
        "env_steps": trainer.env_steps, "grad_steps": trainer.grad_steps,
        "elapsed": trainer.elapsed, "agent": trainer.agent.state_dict(), "learner": learner,
        "rl_buffer": trainer.rl_buffer.state_dict(),
        "enc_buffer": trainer.enc_buffer.state_dict(),
        "collector": trainer.collector_state(),  # async_collection: the worker's RNG states
        "eval_agent": (None if trainer.eval_agent is trainer.agent
                       else trainer.eval_agent.state_dict()),  # eval_tau < 1: the average
        "rng": rng_state(trainer.rng),
    }


def load_trainer_state(trainer: MetaTrainer, state: dict[str, Any]) -> None:
    """Restore :func:`trainer_state` into ``trainer``.

    Raises:
        ValueError: not a checkpoint, or one that belongs to another config.
    """
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError("not a pearl-lite checkpoint")
    diff = config_mismatch(state["config"], trainer.cfg)
    if diff:
        raise ValueError(f"checkpoint belongs to another config (differs in {diff})")
    if isinstance(trainer.gradient_step, CUDAGraphStep) and trainer.gradient_step.captured:
        raise ValueError("load the checkpoint before the first CUDA-graph step")
    trainer.agent.load_state_dict(state["agent"])
    if trainer.eval_agent is not trainer.agent:
        # eval_tau < 1 is part of the config checked above, so the checkpoint holds its average
        trainer.eval_agent.load_state_dict(state["eval_agent"])
    trainer.learner.load_state_dict(state["learner"])
    trainer.rl_buffer.load_state_dict(state["rl_buffer"])
    trainer.enc_buffer.load_state_dict(state["enc_buffer"])
    trainer.load_collector_state(state.get("collector"))
    trainer.seed, trainer.iteration = state["seed"], state["iteration"]
    trainer.env_steps, trainer.grad_steps = state["env_steps"], state["grad_steps"]
    trainer.elapsed = state["elapsed"]
    set_rng_state(trainer.rng, state["rng"])


def agent_state(trainer: MetaTrainer) -> dict[str, Any]:
    """The networks only, with the config and counters: what ``agent.pt`` and snapshots hold.

    These are the networks that are meta-tested: with ``eval_tau < 1`` their average.
    """
    return {"format": AGENT_FORMAT, "config": trainer.cfg.to_dict(),
            "seed": trainer.seed, "iteration": trainer.iteration,
            "env_steps": trainer.env_steps, "grad_steps": trainer.grad_steps,
            "elapsed": trainer.elapsed, "agent": trainer.eval_agent.state_dict()}


def save_checkpoint(trainer: MetaTrainer, run_dir: Path) -> None:
    """Write ``checkpoint.pt`` (everything, to resume) and ``agent.pt`` (networks only)."""
    atomic_torch_save(trainer_state(trainer), run_dir / CHECKPOINT_FILE)
    atomic_torch_save(agent_state(trainer), run_dir / AGENT_FILE)


def save_snapshot(trainer: MetaTrainer, run_dir: Path) -> Path:
    """Write the networks only to ``snapshots/agent_itNNNN.pt``; returns its path."""
    path = run_dir / "snapshots" / f"agent_it{trainer.iteration:04d}.pt"
    path.parent.mkdir(exist_ok=True)
    atomic_torch_save(agent_state(trainer), path)
    return path


def snapshot_paths(run_dir: str | Path) -> list[Path]:
    """The snapshots :func:`save_snapshot` wrote into ``run_dir``, by iteration (or none)."""
    return sorted((Path(run_dir) / "snapshots").glob("agent_it*.pt"))


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint or agent file written by this module; ``CLIError`` if missing or bad."""
    path = Path(path)
    if not path.is_file():
        raise CLIError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated file, not a zip archive, foreign pickle, ...
        raise CLIError(f"corrupt checkpoint {path}: {type(err).__name__}") from None
    if not isinstance(state, dict) or state.get("format") not in FORMATS:
        raise CLIError(f"{path} is not a pearl-lite checkpoint")
    return state


def read_run_config(run_dir: str | Path) -> tuple[PEARLConfig, int]:
    """The config and seed saved in ``run_dir/config.json``."""
    path = Path(run_dir) / CONFIG_FILE
    try:
        saved = json.loads(path.read_text())
        seed = int(saved.pop("seed"))
        return PEARLConfig.from_dict(saved), seed
    except FileNotFoundError:
        raise CLIError(f"{run_dir} is not a run folder (no {CONFIG_FILE})") from None
    except (ValueError, KeyError, TypeError) as err:
        raise CLIError(f"bad {path}: {err}") from None


__all__ = ["AGENT_FILE", "CHECKPOINT_FILE", "CONFIG_FILE", "PROGRESS_FILE", "CLIError",
           "agent_state", "config_mismatch", "load_checkpoint", "load_trainer_state",
           "portable_optimizer_state", "read_run_config", "save_checkpoint", "save_snapshot",
           "snapshot_paths", "trainer_state"]
