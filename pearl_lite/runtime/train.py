"""Train PEARL from the command line, into a resumable run folder.

Introduced in notebook 4::

    python -m pearl_lite.train sparse-point-robot --preset lite --seed 0 --out runs/spr
    python -m pearl_lite.train sparse-point-robot --preset lite --seed 0 --out runs/spr --resume
    pearl-lite-train cheetah-vel --preset paper --seed 1 --out runs/cv1 --device cuda
    pearl-lite-train cheetah-vel --preset paper --out runs/cv1g --device cuda --set cuda_graphs=True
    python -m pearl_lite.train sparse-point-robot --set num_steps_posterior=900 --out runs/x

The run folder (:mod:`pearl_lite.runtime.checkpoint`) holds

- ``config.json``: the resolved :class:`~pearl_lite.config.PEARLConfig` plus the seed;
- ``progress.csv``: one row per iteration (environment and gradient steps, train and test
  returns, test success on sparse tasks, KL, losses, posterior variance, wall-clock seconds);
- ``checkpoint.pt``: networks, optimisers, replay buffers and every RNG state, written
  atomically every ``checkpoint_every`` iterations and at the end, so that ``--resume``
  continues to exactly the result of an uninterrupted run with the same seed, and a run killed
  mid-write keeps its previous checkpoint;
- ``snapshots/agent_itNNNN.pt`` (only with ``--snapshot-every K``): the networks every K
  iterations, small, to meta-test a run's agent as it was at that point
  (``python -m pearl_lite.evaluate RUN --checkpoint RUN/snapshots/agent_it0300.pt``).

On a GPU, ``--set cuda_graphs=True`` replays each gradient step as one captured CUDA graph:
the same step (a GPU test checks it against the eager one), about 2.5 times faster at the
paper's sizes (``data/gpu_check/``).

Bad input (unknown environment or preset, a non-positive budget, a corrupt checkpoint or one
from another config) ends with one error line on stderr and exit status 1 (2 for bad usage).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import torch

from pearl_lite.config import ENV_NAMES, PRESETS, get_config, parse_overrides
from pearl_lite.pearl import MetaTrainer
from pearl_lite.runtime.checkpoint import (
    CHECKPOINT_FILE,
    CHECKPOINT_FORMAT,
    CONFIG_FILE,
    PROGRESS_FILE,
    CLIError,
    config_mismatch,
    load_checkpoint,
    load_trainer_state,
    read_run_config,
    save_checkpoint,
    save_snapshot,
)
from pearl_lite.runtime.cuda_graphs import use_cuda_graphs
from pearl_lite.utils import CSVLogger, atomic_write_bytes, atomic_write_json

#: Set by the command line's Ctrl-C handler (:func:`_on_ctrl_c`); :func:`train` checks it
#: after every iteration.
CTRL_C = threading.Event()


def _on_ctrl_c(signum: int, frame: Any) -> None:
    """SIGINT handler of the commands (:func:`catching_ctrl_c`): raise ``KeyboardInterrupt``
    at once, as Python's own handler does, and remember that it came.

    Remembering is the safety net. Python raises the exception wherever the main thread is,
    and that may be inside Python code that C code runs on its own behalf (an attribute
    lookup, say); C code that then clears whatever error it sees clears the interrupt with it.
    A run that trained on after one Ctrl-C was seen once in 60 tries of the async-collection
    Ctrl-C test (its stacks: training, the collector idle). :func:`train` raises it again
    after the iteration it is in.
    """
    CTRL_C.set()
    raise KeyboardInterrupt


@contextlib.contextmanager
def catching_ctrl_c() -> Iterator[None]:
    """Within the block, Ctrl-C goes to :func:`_on_ctrl_c` (the training and benchmark
    commands). Only where Python's own handler is: not where SIGINT is ignored (a background
    job) nor off the main thread (where Python allows no handler)."""
    ours = (threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler)
    if ours:
        CTRL_C.clear()
        signal.signal(signal.SIGINT, _on_ctrl_c)
    try:
        yield
    finally:
        if ours:  # leave no remembered Ctrl-C behind for a later train() in this process
            signal.signal(signal.SIGINT, signal.default_int_handler)
            CTRL_C.clear()


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line instead of usage + message
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def _truncate_progress(path: Path, iteration: int) -> None:
    """Drop log rows past ``iteration`` (written after the last checkpoint of a killed run)."""
    if not path.exists():
        return
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return
    keep = [rows[0]] + [r for r in rows[1:] if r and int(r[0]) <= iteration]
    buf = io.StringIO()
    csv.writer(buf).writerows(keep)
    atomic_write_bytes(path, buf.getvalue().encode())


def train(
    env_name: str,
    preset: str,
    seed: int,
    out: str | Path,
    iterations: int | None = None,
    resume: bool = False,
    device: str = "cpu",
    progress: bool = True,
    overrides: dict[str, Any] | None = None,
    snapshot_every: int = 0,
) -> MetaTrainer:
    """What ``python -m pearl_lite.train`` does; returns the trainer at the end.

    ``snapshot_every=K > 0`` also keeps the networks of every K-th iteration in
    ``snapshots/``, to draw a learning curve of the full meta-test afterwards.

    Raises:
        CLIError: for bad input (the command line prints it as one line).
    """
    try:
        cfg = get_config(env_name, preset, **(overrides or {}))
        if iterations is not None:
            cfg = cfg.replace(num_iterations=iterations)
        if seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed}")
        if snapshot_every < 0:
            raise ValueError(f"snapshot_every must be >= 0 (0: no snapshots), got {snapshot_every}")
        if device not in ("cpu", "cuda"):
            raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
        if device == "cuda" and not torch.cuda.is_available():
            raise ValueError("--device cuda was asked for but no CUDA device is available")
    except ValueError as err:
        raise CLIError(str(err)) from None

    run_dir = Path(out)
    ckpt_path = run_dir / CHECKPOINT_FILE
    if resume:
        saved_cfg, saved_seed = read_run_config(run_dir)
        diff = config_mismatch(saved_cfg.to_dict(), cfg)
        if diff or saved_seed != seed:
            what = diff + (["seed"] if saved_seed != seed else [])
            raise CLIError(f"{run_dir} holds a run with another config (differs in "
                           f"{', '.join(what)}); resume with the same ENV, --preset and --seed")
    elif ckpt_path.exists() or (run_dir / PROGRESS_FILE).exists():
        raise CLIError(f"{run_dir} already holds a run; pass --resume or choose another --out")

    trainer = MetaTrainer(cfg, seed=seed, device=device)
    if resume and ckpt_path.exists():
        state = load_checkpoint(ckpt_path)
        if state["format"] != CHECKPOINT_FORMAT:
            raise CLIError(f"{ckpt_path} holds networks only and cannot be resumed")
        try:
            load_trainer_state(trainer, state)
        except (ValueError, KeyError, RuntimeError) as err:
            raise CLIError(f"cannot resume from {ckpt_path}: {err}") from None
    # (A run killed before its first checkpoint simply starts over.)
    use_cuda_graphs(trainer)  # with --set cuda_graphs=True on a GPU; else nothing changes
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(run_dir / CONFIG_FILE, {**cfg.to_dict(), "seed": seed})
    _truncate_progress(run_dir / PROGRESS_FILE, trainer.iteration)
    log = CSVLogger(run_dir / PROGRESS_FILE, append=trainer.iteration > 0)

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=cfg.num_iterations, initial=trainer.iteration, desc=cfg.env,
                   unit="itr", file=sys.stderr, dynamic_ncols=True)
    try:
        for row in trainer.iterations():
            log.write(row)
            if trainer.iteration % cfg.checkpoint_every == 0 or trainer.iteration == \
                    cfg.num_iterations:
                t0 = time.perf_counter()
                save_checkpoint(trainer, run_dir)
                trainer.elapsed += time.perf_counter() - t0  # wall-clock includes checkpointing
            if snapshot_every and trainer.iteration % snapshot_every == 0:
                save_snapshot(trainer, run_dir)
            if CTRL_C.is_set():  # a Ctrl-C whose KeyboardInterrupt got lost (_on_ctrl_c)
                raise KeyboardInterrupt
            if bar is not None:
                post = {"env_steps": row["env_steps"]}
                if row["test_return"] != "":
                    post["test_return"] = f"{row['test_return']:.3g}"
                    if row["test_success"] != "":
                        post["success"] = f"{row['test_success']:.2f}"
                bar.set_postfix(post, refresh=False)
                bar.update(1)
    finally:
        trainer.close()  # the async_collection worker, if any
    if bar is not None:
        bar.close()
    if trainer.iteration >= cfg.num_iterations and not ckpt_path.exists():
        save_checkpoint(trainer, run_dir)
    return trainer


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m pearl_lite.train`` and ``pearl-lite-train``."""
    parser = _Parser(prog="pearl-lite-train", description=__doc__.splitlines()[0])
    parser.add_argument("env", help=f"task family: {', '.join(ENV_NAMES)}")
    parser.add_argument("--preset", default="lite", help=f"{', '.join(PRESETS)} (default lite)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--out", required=True, help="run folder to write (or to resume)")
    parser.add_argument("--iterations", type=int, default=None,
                        help="number of iterations (default: the preset's)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out from its last checkpoint")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--set", nargs="+", action="extend", default=[], metavar="KEY=VALUE",
                        help="override config fields of the preset, e.g. num_iterations=100 "
                             "(recorded in config.json; --resume needs the same values)")
    parser.add_argument("--snapshot-every", type=int, default=0, metavar="K",
                        help="also keep the networks of every K-th iteration in snapshots/")
    args = parser.parse_args(argv)
    try:
        with catching_ctrl_c():
            try:
                overrides = parse_overrides(args.set)
            except ValueError as err:
                raise CLIError(f"--set: {err}") from None
            train(args.env, args.preset, args.seed, args.out, iterations=args.iterations,
                  resume=args.resume, device=args.device, progress=not args.no_progress,
                  overrides=overrides, snapshot_every=args.snapshot_every)
    except CLIError as err:
        sys.stderr.write(f"pearl-lite-train: error: {err}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("pearl-lite-train: interrupted; resume with --resume\n")
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
