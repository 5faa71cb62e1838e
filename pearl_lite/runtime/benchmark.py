"""Run the benchmark suite: every task family and seed, resumable, then meta-test and summarise.

Introduced in notebook 5 (Benchmarks)::

    python -m pearl_lite.benchmark --envs all --seeds 0 1 2 --preset lite --out runs/bench
    python -m pearl_lite.benchmark --envs point-robot sparse-point-robot --jobs 2 --out runs/pt
    pearl-lite-benchmark --envs cheetah-vel --preset paper --device cuda --ray auto --out /nfs/b
    python -m pearl_lite.benchmark --out runs/bench --summary-only

``--envs all`` means the nine families of :data:`~pearl_lite.config.ENV_NAMES`. Each
(family, seed) is an ordinary run folder of :func:`pearl_lite.runtime.train.train`,
``OUT/<family>/seed<S>/``, so everything ``python -m pearl_lite.train`` and
``python -m pearl_lite.evaluate`` do works on it. Runs go seed by seed (every family's seed 0
first), so a suite stopped early has one seed of everything rather than all seeds of a few.

**Resumable.** A run whose checkpoint has reached ``num_iterations`` is skipped; a run that was
killed continues from its last checkpoint (``resume=True``), exactly as an uninterrupted run
would have gone on. Stop the suite at any point (Ctrl-C, SIGTERM, a crash, a lost node) and
repeat the same command: nothing is lost but the iterations since each run's last checkpoint.
``OUT/suite.json`` records the preset, the ``--set`` overrides and the resolved config of every
family; a command with another preset or other overrides on the same ``--out`` is refused, and
so is a run folder that holds a run of another config.

**Meta-test and summary.** After its training each run is meta-tested with the official
protocol (:func:`~pearl_lite.runtime.evaluate.evaluate_run`, ``--num-evals`` runs per test task,
default: the config's) into its ``adaptation.json``, unless that file is newer than the
checkpoint and (with ``--num-evals``) made with as many runs. Then :func:`summarize` writes
``OUT/summary.csv`` (one row per run: family, preset, seed, iterations, environment steps,
wall-clock minutes, final return = the last meta-test trajectory's return averaged over the
test tasks, the first (prior) trajectory's return, success on sparse tasks) and
``OUT/summary.md`` (the same table with a mean ± std row per family and config).
``--summary-only`` (or ``summarize(folder)`` in a notebook) builds both from existing run
folders, e.g. the shipped ones in ``data/``, without training.

**Learning curves.** ``--snapshot-every K`` keeps each run's networks every K iterations
(``snapshots/``, as ``python -m pearl_lite.train --snapshot-every K``) and, after training,
meta-tests every snapshot with the same protocol into the run's ``snapshots.json``
(:func:`~pearl_lite.runtime.evaluate.evaluate_snapshots`): the curve that notebook 5 draws
against environment steps and minutes. It is redone only when a snapshot is newer than
``snapshots.json`` (or, with ``--num-evals``, was made with another number of runs).

**Parallel runs.** ``--jobs N`` trains N runs at once in separate processes on this machine,
each with its config's ``torch_threads`` (1 in ``lite``): on a 2-core laptop, ``--jobs 2``.
``--ray ADDRESS`` makes each run a Ray task on an existing cluster (``ray.init(address=...)``;
``auto`` finds the cluster this machine belongs to; ``local`` starts a private one on this
machine with ``--jobs`` runs at once, for testing). Each task asks for ``torch_threads`` CPUs
(and one GPU with ``--device cuda``); ``--jobs`` then caps the runs in flight. The run folders
are written at the driver's (absolute) ``--out`` path by whichever node runs the task, so
**a filesystem shared by all nodes is assumed**, with ``pearl_lite`` installed on every node;
Ray's retry of a task on a lost node resumes from the checkpoint. Install Ray with
``pip install -e ".[cluster]"``.

Bad input (an unknown family or preset, no seeds or a negative one, ``--jobs 0``, a ``--set``
that is not a config field, an ``--out`` holding runs of another preset or config, ``--ray``
without Ray installed) ends with one error line on stderr and exit status 1, before anything is
written. Runs that fail while training are reported together, after the others have finished.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import math
import os
import shlex
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pearl_lite.config import ENV_NAMES, PRESETS, PEARLConfig, get_config, parse_overrides
from pearl_lite.runtime.checkpoint import (
    CHECKPOINT_FILE,
    CHECKPOINT_FORMAT,
    CONFIG_FILE,
    PROGRESS_FILE,
    CLIError,
    config_mismatch,
    read_run_config,
    snapshot_paths,
)
from pearl_lite.runtime.evaluate import SNAPSHOTS_FILE, evaluate_run, evaluate_snapshots
from pearl_lite.runtime.train import _Parser, catching_ctrl_c, train
from pearl_lite.utils import atomic_write_bytes, atomic_write_json, read_csv

SUITE_FILE, ADAPTATION_FILE = "suite.json", "adaptation.json"
SUMMARY_CSV, SUMMARY_MD = "summary.csv", "summary.md"
SUITE_FORMAT = "pearl-lite-suite-v1"
#: Columns of ``summary.csv``, in order.
SUMMARY_COLUMNS: tuple[str, ...] = (
    "family", "preset", "seed", "iterations", "env_steps", "wall_clock_min", "final_return",
    "first_return", "final_success", "num_evals", "config_id", "run",
)
PROG = "pearl-lite-benchmark"
CLUSTER_HINT = 'pip install -e ".[cluster]"'


# ---- the plan: which runs, with which configs ------------------------------------------------


@dataclass(frozen=True)
class RunSpec:
    """One (family, seed) run of the suite: all a worker process or Ray task needs."""

    family: str
    preset: str
    seed: int
    run_dir: str
    overrides: dict[str, Any] = field(default_factory=dict)
    num_evals: int | None = None
    device: str = "cpu"
    snapshot_every: int = 0

    @property
    def name(self) -> str:
        """``family/seedS``, as in the run folder's path."""
        return f"{self.family}/seed{self.seed}"

    def config(self) -> PEARLConfig:
        """The run's resolved config (the preset plus the overrides)."""
        return get_config(self.family, self.preset, **self.overrides)


def parse_families(names: Sequence[str]) -> list[str]:
    """Task families from the command line: ``all`` means all nine; order kept, duplicates dropped.

    Raises:
        CLIError: no family, or an unknown one (the message lists the valid ones).
    """
    if not names:
        raise CLIError(f"--envs needs at least one family: all, {', '.join(ENV_NAMES)}")
    unknown = [n for n in names if n != "all" and n not in ENV_NAMES]
    if unknown:
        raise CLIError(f"unknown task famil{'y' if len(unknown) == 1 else 'ies'} "
                       f"{', '.join(map(repr, unknown))}; valid: all, {', '.join(ENV_NAMES)}")
    if "all" in names:
        return list(ENV_NAMES)
    return list(dict.fromkeys(names))


def check_seeds(seeds: Sequence[int]) -> list[int]:
    """The seeds, order kept and duplicates dropped.

    Raises:
        CLIError: no seed, or a negative one.
    """
    if not seeds:
        raise CLIError("--seeds needs at least one seed, e.g. --seeds 0 1 2")
    negative = [s for s in seeds if s < 0]
    if negative:
        raise CLIError(f"seeds must be non-negative integers, got {negative[0]}")
    return list(dict.fromkeys(int(s) for s in seeds))


def suite_configs(families: Sequence[str], preset: str,
                  overrides: dict[str, Any]) -> dict[str, PEARLConfig]:
    """The resolved config of each family.

    Raises:
        CLIError: an unknown preset, an unknown config field or a bad value.
    """
    try:
        return {f: get_config(f, preset, **overrides) for f in families}
    except ValueError as err:
        raise CLIError(str(err)) from None


def run_dir_for(out: str | Path, family: str, seed: int) -> Path:
    """Where the suite keeps the run of ``family`` with ``seed``: ``OUT/<family>/seed<S>``."""
    return Path(out) / family / f"seed{seed}"


def plan_runs(out: Path, families: Sequence[str], seeds: Sequence[int], preset: str,
              overrides: dict[str, Any], num_evals: int | None = None,
              device: str = "cpu", snapshot_every: int = 0) -> list[RunSpec]:
    """One :class:`RunSpec` per (seed, family), seed-major: every family's first seed first."""
    return [RunSpec(f, preset, s, str(run_dir_for(out, f, s)), dict(overrides), num_evals,
                    device, snapshot_every) for s in seeds for f in families]


def _normalised(obj: Any) -> Any:
    """``obj`` as it reads back from JSON (tuples become lists)."""
    return json.loads(json.dumps(obj))


def _describe(preset: str, overrides: dict[str, Any]) -> str:
    sets = " ".join(f"{k}={json.dumps(v)}" for k, v in sorted(overrides.items()))
    return f"--preset {preset}" + (f" --set {sets}" if sets else " and no --set")


def read_suite(out: Path) -> dict[str, Any] | None:
    """``OUT/suite.json``, or None if there is none.

    Raises:
        CLIError: the file is not a suite record.
    """
    path = out / SUITE_FILE
    if not path.exists():
        return None
    try:
        suite = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise CLIError(f"bad {path}: {err}") from None
    if not isinstance(suite, dict) or suite.get("format") != SUITE_FORMAT:
        raise CLIError(f"{path} is not a pearl-lite suite record")
    return suite


def check_suite_matches(out: Path, suite: dict[str, Any] | None, preset: str,
                        overrides: dict[str, Any], configs: dict[str, PEARLConfig]) -> None:
    """Refuse to continue a suite with another preset, other overrides or other configs.

    Families that the recorded suite does not have yet may be added (and seeds, freely).

    Raises:
        CLIError: naming what the suite in ``out`` was started with.
    """
    if suite is None:
        return
    same = suite.get("preset") == preset and suite.get("overrides") == _normalised(overrides)
    if not same:
        was = _describe(suite["preset"], suite["overrides"])
        raise CLIError(f"{out} holds a suite run with {was}, not {_describe(preset, overrides)}"
                       "; use the same or another --out")
    for family, cfg in configs.items():
        saved = suite.get("configs", {}).get(family)
        diff = config_mismatch(saved, cfg) if saved is not None else []
        if saved is not None and saved.get("num_iterations") != cfg.num_iterations:
            diff = sorted(set(diff) | {"num_iterations"})
        if diff:
            raise CLIError(f"{out} holds {family} runs of another config (differs in "
                           f"{', '.join(diff)}); use another --out")


def check_run_folder(spec: RunSpec, cfg: PEARLConfig) -> None:
    """Refuse a run folder that holds a run of another config or seed, or a stray run.

    Raises:
        CLIError: naming the folder and the difference.
    """
    run_dir = Path(spec.run_dir)
    if not (run_dir / CONFIG_FILE).exists():
        if (run_dir / PROGRESS_FILE).exists() or (run_dir / CHECKPOINT_FILE).exists():
            raise CLIError(f"{run_dir} holds a run without {CONFIG_FILE}; move it away")
        return
    saved, seed = read_run_config(run_dir)
    diff = config_mismatch(saved.to_dict(), cfg) + (["seed"] if seed != spec.seed else [])
    if diff:
        raise CLIError(f"{run_dir} holds a run of another config (differs in "
                       f"{', '.join(diff)}); use the same --preset and --set, or another --out")


def write_suite(out: Path, suite: dict[str, Any] | None, preset: str,
                overrides: dict[str, Any], configs: dict[str, PEARLConfig],
                seeds: Sequence[int], command: str) -> dict[str, Any]:
    """Create or extend ``OUT/suite.json`` (new families and seeds are added); returns it."""
    suite = suite or {"format": SUITE_FORMAT, "preset": preset,
                      "overrides": _normalised(overrides), "configs": {}, "seeds": [],
                      "commands": []}
    for family, cfg in configs.items():
        suite["configs"].setdefault(family, cfg.to_dict())
    suite["families"] = [f for f in ENV_NAMES if f in suite["configs"]]
    suite["seeds"] = sorted(set(suite["seeds"]) | set(seeds))
    suite["commands"].append({"command": command,
                              "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())})
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / SUITE_FILE, suite)
    return suite


# ---- one run: train (or resume, or skip), then meta-test -------------------------------------


def checkpoint_iteration(run_dir: str | Path) -> int:
    """Iterations done according to ``run_dir/checkpoint.pt`` (0 without a readable one).

    Memory-maps the file, so that this costs little even when the replay buffers are large.
    """
    path = Path(run_dir) / CHECKPOINT_FILE
    if not path.is_file():
        return 0
    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception:  # corrupt: training with resume=True reports it
        return 0
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        return 0
    return int(state.get("iteration", 0))


def run_state(run_dir: str | Path, num_iterations: int) -> str:
    """``"done"`` (checkpoint at ``num_iterations``), ``"resume"`` (a started run) or ``"new"``."""
    run_dir = Path(run_dir)
    if checkpoint_iteration(run_dir) >= num_iterations:
        return "done"
    return "resume" if (run_dir / CONFIG_FILE).exists() else "new"


def result_is_stale(path: Path, inputs: list[Path], num_evals: int | None) -> bool:
    """True if the meta-test result ``path`` is missing or unreadable, older than the newest of
    ``inputs`` (the networks it was computed from), or, with ``num_evals``, made with another
    number of runs per task."""
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError):
        return True
    newest_input = max((p.stat().st_mtime for p in inputs if p.exists()), default=0.0)
    if newest_input > path.stat().st_mtime:
        return True
    return num_evals is not None and saved.get("num_evals") != num_evals


def needs_meta_test(run_dir: str | Path, num_evals: int | None = None) -> bool:
    """True unless ``adaptation.json`` is newer than the checkpoint and (if ``num_evals`` is
    given) was made with ``num_evals`` runs per task; ``None`` accepts any number, so that a
    meta-test made by hand with more runs is kept."""
    run_dir = Path(run_dir)
    return result_is_stale(run_dir / ADAPTATION_FILE, [run_dir / CHECKPOINT_FILE], num_evals)


def needs_snapshot_test(run_dir: str | Path, num_evals: int | None = None) -> bool:
    """True if ``run_dir/snapshots/`` holds networks and ``snapshots.json`` is missing, older
    than the newest of them, or (with ``num_evals``) made with another number of runs."""
    run_dir = Path(run_dir)
    paths = snapshot_paths(run_dir)
    if not paths:
        return False
    return result_is_stale(run_dir / SNAPSHOTS_FILE, paths, num_evals)


def meta_test_run(run_dir: str | Path, num_evals: int | None = None) -> dict[str, Any]:
    """Meta-test a finished run (official protocol) and write its ``adaptation.json``."""
    _, summary = evaluate_run(run_dir, num_evals=num_evals)
    atomic_write_json(Path(run_dir) / ADAPTATION_FILE, summary)
    return summary


def new_outcome(spec: RunSpec, error: str | None = None) -> dict[str, Any]:
    """What :func:`run_one` reports about a run, before anything is done (or, with ``error``,
    about a run whose worker died before it could report)."""
    return {"name": spec.name, "family": spec.family, "seed": spec.seed, "state": "",
            "trained": False, "evaluated": False, "snapshots_evaluated": False,
            "final_return": None, "error": error}


def _one_line(err: BaseException) -> str:
    return (f"{type(err).__name__}: {err}".splitlines() or [type(err).__name__])[0]


def run_one(spec: RunSpec) -> dict[str, Any]:
    """Train one run of the suite (new, resumed or skipped), then meta-test it if needed.

    Runs in the driver (``--jobs 1``), in a worker process (``--jobs N``) or as a Ray task;
    decides what to do from the run folder itself, so that a retried task resumes. Returns
    an outcome: ``name``, ``state`` (before: new / resume / done), ``trained``, ``evaluated``,
    ``snapshots_evaluated``, ``final_return``, and ``error`` (one line) if the run failed.
    """
    outcome = new_outcome(spec)
    try:
        cfg = spec.config()
        torch.set_num_threads(cfg.torch_threads)
        outcome["state"] = run_state(spec.run_dir, cfg.num_iterations)
        if outcome["state"] != "done":
            train(spec.family, spec.preset, spec.seed, spec.run_dir,
                  resume=outcome["state"] == "resume", device=spec.device, progress=False,
                  overrides=spec.overrides, snapshot_every=spec.snapshot_every)
            outcome["trained"] = True
        if needs_meta_test(spec.run_dir, spec.num_evals):
            meta_test_run(spec.run_dir, spec.num_evals)
            outcome["evaluated"] = True
        if spec.snapshot_every and needs_snapshot_test(spec.run_dir, spec.num_evals):
            curve = evaluate_snapshots(spec.run_dir, num_evals=spec.num_evals)
            atomic_write_json(Path(spec.run_dir) / SNAPSHOTS_FILE, curve)
            outcome["snapshots_evaluated"] = True
        saved = json.loads((Path(spec.run_dir) / ADAPTATION_FILE).read_text())
        outcome["final_return"] = saved["final_return"]
    except CLIError as err:
        outcome["error"] = str(err)
    except Exception as err:  # a bug or a crash inside one run: report it, keep the others
        traceback.print_exc(file=sys.stderr)
        outcome["error"] = _one_line(err)
    return outcome


# ---- executing the runs: here, in processes, or on Ray --------------------------------------


def run_serial(specs: Sequence[RunSpec]) -> Iterator[dict[str, Any]]:
    """The runs one after another in this process; yields each outcome."""
    for spec in specs:
        yield run_one(spec)


def run_processes(specs: Sequence[RunSpec], jobs: int) -> Iterator[dict[str, Any]]:
    """The runs in ``jobs`` worker processes (spawned: a fresh interpreter each, no forked
    torch state); yields each outcome as it finishes.

    However the driver stops early (Ctrl-C, or SIGTERM sent to it alone, which :func:`main`
    raises as :class:`Terminated`), the runs in flight stop with it (:func:`stop_workers`): no
    worker trains on as an orphan. Each resumes from its last checkpoint.
    """
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(specs)),
                               mp_context=get_context("spawn"), initializer=_worker_init)
    futures: dict[Future, RunSpec] = {pool.submit(run_one, s): s for s in specs}
    try:
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                try:
                    yield fut.result()
                except Exception as err:  # the worker died (BrokenProcessPool, ...)
                    yield new_outcome(futures[fut], _one_line(err))
    except BaseException:  # KeyboardInterrupt, Terminated, or the caller closed us early
        stop_workers(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C's ``KeyboardInterrupt`` so that the same clean-up runs (in
    the benchmark command, and in its worker processes)."""


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated


def _worker_init() -> None:
    """Each worker process: SIGTERM stops its run the way Ctrl-C does (the training loop's
    ``finally`` closes an ``async_collection`` worker) instead of killing it on the spot."""
    signal.signal(signal.SIGTERM, _raise_terminated)


def stop_workers(pool: ProcessPoolExecutor, grace_s: float = 30.0) -> None:
    """Cancel the runs not yet started and stop the running ones: SIGTERM to each worker
    process (:func:`_worker_init` turns it into an exception that ends the run), then SIGKILL
    to any still alive after ``grace_s`` seconds."""
    # ProcessPoolExecutor has no public way to stop a busy worker before Python 3.14
    # (``terminate_workers``); its ``_processes`` maps pid -> multiprocessing.Process, and
    # ``shutdown`` forgets it, so take the list first.
    procs = [p for p in list((getattr(pool, "_processes", None) or {}).values()) if p.is_alive()]
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        proc.terminate()
    deadline = time.monotonic() + grace_s
    for proc in procs:
        proc.join(timeout=max(deadline - time.monotonic(), 0.0))
        if proc.is_alive():
            proc.kill()
            proc.join()


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` in the main thread (a no-op off
    it, where Python allows no handler)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def import_ray() -> Any:
    """The ``ray`` module.

    Raises:
        CLIError: Ray is not installed (the message says how to install it).
    """
    try:
        import ray
    except ImportError:
        raise CLIError(f"--ray needs Ray, which is not installed: {CLUSTER_HINT}") from None
    return ray


def connect_ray(ray: Any, address: str, num_cpus: int | None = None, min_cpus: int = 1) -> None:
    """``ray.init``: to the cluster at ``address``, or (``"local"``) a new one on this machine
    with ``num_cpus`` CPUs (default: all, at least ``min_cpus``).

    Raises:
        CLIError: the cluster cannot be reached or started (one line).
    """
    try:
        if address == "local":
            cpus = num_cpus or max(os.cpu_count() or 1, min_cpus)
            ray.init(num_cpus=cpus, include_dashboard=False, logging_level="WARNING")
        else:
            ray.init(address=address, logging_level="WARNING")
    except Exception as err:  # ConnectionError, or a node that timed out while starting
        what = "start a local Ray cluster" if address == "local" else f"connect to Ray at {address}"
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise CLIError(f"could not {what}: {first} (on a busy machine Ray's own processes can "
                       "miss their start-up timeout: try again, or use --jobs N without --ray)"
                       ) from None


def run_ray(specs: Sequence[RunSpec], address: str, jobs: int | None = None
            ) -> Iterator[dict[str, Any]]:
    """The runs as Ray tasks; yields each outcome as it finishes.

    Connects to the cluster at ``address`` (``"local"``: starts one on this machine with room
    for ``jobs`` runs at once), unless this process is connected already (e.g. a notebook's
    own ``ray.init``), and disconnects at the end if it connected. Each task asks for its
    config's ``torch_threads`` CPUs (and a GPU with ``device="cuda"``); ``jobs`` caps the tasks
    in flight. The tasks write the run folders at ``spec.run_dir``: a filesystem shared with
    every node is assumed, and ``pearl_lite`` installed there.
    """
    ray = import_ray()
    threads = {s.name: s.config().torch_threads for s in specs}
    connected_here = not ray.is_initialized()
    if connected_here:
        connect_ray(ray, address, max(threads.values()) * jobs if jobs else None,
                    max(threads.values()))
    task = ray.remote(run_one)
    queue, running = list(specs), {}
    try:
        while queue or running:
            while queue and (not jobs or len(running) < jobs):
                spec = queue.pop(0)
                opts = {"num_cpus": threads[spec.name],
                        "num_gpus": 1 if spec.device == "cuda" else 0}
                running[task.options(**opts).remote(spec)] = spec
            (ref,), _ = ray.wait(list(running), num_returns=1)
            spec = running.pop(ref)
            try:
                yield ray.get(ref)
            except Exception as err:  # the task's worker died, the node was lost, ...
                yield new_outcome(spec, _one_line(getattr(err, "cause", None) or err))
    finally:
        for ref in running:
            ray.cancel(ref, force=True)
        if connected_here:
            ray.shutdown()


# ---- one progress bar over the whole suite ----------------------------------------------------


def read_progress(run_dir: str | Path) -> tuple[int, float | None]:
    """Iterations logged in ``progress.csv`` and the latest test return (None before one)."""
    try:
        text = (Path(run_dir) / PROGRESS_FILE).read_text()
    except OSError:
        return 0, None
    rows = list(csv.DictReader(io.StringIO(text)))
    latest = None
    for row in reversed(rows):
        try:
            latest = float(row.get("test_return") or "")
            break
        except ValueError:
            continue
    return len(rows), latest


def suite_progress(specs: Sequence[RunSpec]) -> tuple[int, list[tuple[str, float]]]:
    """Iterations logged by all runs, and (name, latest test return) of the (at most) three
    runs that logged most recently."""
    done, latest = 0, []
    for spec in specs:
        n, ret = read_progress(spec.run_dir)
        done += n
        path = Path(spec.run_dir) / PROGRESS_FILE
        if ret is not None and path.exists():
            latest.append((path.stat().st_mtime, spec.name, ret))
    return done, [(name, ret) for _, name, ret in sorted(latest, reverse=True)[:3]]


class SuiteProgress:
    """One tqdm bar over the suite: iterations of all runs (for the time left, at the average
    rate so far), runs done of total, and the latest test returns.

    A background thread reads the runs' ``progress.csv`` every ``interval`` seconds, so it
    works the same for runs here, in worker processes and on Ray (shared filesystem).
    Disabled (nothing drawn, no thread) with ``enabled=False``.
    """

    def __init__(self, specs: Sequence[RunSpec], enabled: bool = True,
                 interval: float = 1.0) -> None:
        self.specs, self.enabled, self.interval = list(specs), enabled, interval
        self.runs_done = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.bar: Any = None
        if enabled:
            from tqdm.auto import tqdm

            total = sum(s.config().num_iterations for s in self.specs)
            initial = min(suite_progress(self.specs)[0], total)  # from an earlier, stopped try
            self.bar = tqdm(total=total, initial=initial, desc="suite", unit="itr",
                            smoothing=0, file=sys.stderr, dynamic_ncols=True)

    def __enter__(self) -> SuiteProgress:
        if self.enabled:
            self.refresh()
            self._thread = threading.Thread(target=self._poll, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self.bar is not None:
            self.refresh()
            self.bar.close()

    def run_finished(self) -> None:
        """Count one more run as done (successfully or not)."""
        with self._lock:
            self.runs_done += 1
        self.refresh()

    def _poll(self) -> None:
        while not self._stop.wait(self.interval):
            self.refresh()

    def refresh(self) -> None:
        """Re-read the runs' logs and redraw the bar."""
        if self.bar is None:
            return
        done, latest = suite_progress(self.specs)
        text = f"runs {self.runs_done}/{len(self.specs)}" + "".join(
            f" | {name} {ret:.3g}" for name, ret in latest)
        with self._lock:
            self.bar.set_postfix_str(text, refresh=False)
            step = min(done, self.bar.total) - self.bar.n
            if step > 0:
                self.bar.update(step)
            else:  # rows past a checkpoint were dropped on resume, or nothing new
                self.bar.n += step
                self.bar.refresh()


# ---- the summary ----------------------------------------------------------------------------


def find_runs(folder: str | Path) -> list[Path]:
    """The PEARL run folders under ``folder`` (itself included): each with a ``config.json``
    that is a PEARL config and a ``progress.csv``; by family (suite order), then path."""
    folder = Path(folder)
    runs = []
    for cfg_path in sorted(folder.rglob(CONFIG_FILE)):
        run = cfg_path.parent
        if not (run / PROGRESS_FILE).exists():
            continue
        try:
            read_run_config(run)
        except CLIError:  # another program's config.json
            continue
        runs.append(run)
    return runs


def _last(log: dict[str, np.ndarray], key: str) -> float:
    col = log.get(key)
    return float(col[-1]) if col is not None and len(col) else math.nan


def config_id(cfg: PEARLConfig) -> str:
    """A short fingerprint of a config (all fields but ``cuda_graphs``), to group the seeds of
    one config: 8 hex digits of the SHA-1 of its sorted JSON."""
    d = {k: v for k, v in cfg.to_dict().items() if k != "cuda_graphs"}
    return hashlib.sha1(json.dumps(d, sort_keys=True).encode()).hexdigest()[:8]


def summary_row(run_dir: str | Path, root: str | Path | None = None) -> dict[str, Any]:
    """One row of the summary for one run folder (NaN where the run has no meta-test yet)."""
    run_dir = Path(run_dir)
    cfg, seed = read_run_config(run_dir)
    log = read_csv(run_dir / PROGRESS_FILE)
    row: dict[str, Any] = {
        "family": cfg.env, "preset": cfg.preset, "seed": seed,
        "iterations": int(_last(log, "iteration")) if log else 0,
        "env_steps": int(_last(log, "env_steps")) if log else 0,
        "wall_clock_min": _last(log, "wall_clock") / 60,
        "final_return": math.nan, "first_return": math.nan, "final_success": math.nan,
        "num_evals": "", "config_id": config_id(cfg),
        "run": str(run_dir.relative_to(root) if root else run_dir),
    }
    try:
        adaptation = json.loads((run_dir / ADAPTATION_FILE).read_text())
    except (OSError, ValueError):
        return row
    curve = adaptation.get("return_per_trajectory") or [math.nan]
    row.update(final_return=float(adaptation["final_return"]), first_return=float(curve[0]),
               num_evals=adaptation.get("num_evals", ""))
    if adaptation.get("final_success") is not None:
        row["final_success"] = float(adaptation["final_success"])
    return row


def _cell(value: Any, digits: int = 10) -> str:
    """A CSV / markdown cell: floats to ``digits`` significant digits, NaN as empty."""
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.{digits}g}"
    return str(value)


def summary_csv(rows: Sequence[dict[str, Any]]) -> str:
    """``summary.csv``'s text: :data:`SUMMARY_COLUMNS`, one row per run."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(SUMMARY_COLUMNS)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in SUMMARY_COLUMNS])
    return buf.getvalue()


def _md(key: str, value: Any) -> str:
    """A markdown cell of column ``key``: counts as integers, minutes to 0.1, returns to four
    significant digits, success to 0.01; NaN and None as empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if not isinstance(value, (int, float)):
        return str(value)
    if key in ("seed", "iterations", "env_steps"):
        return f"{round(value):,}"
    if key == "wall_clock_min":
        return f"{value:.1f}"
    if key == "final_success":
        return f"{value:.2f}"
    return f"{value:.4g}"


def mean_std(key: str, values: Sequence[float]) -> str:
    """``"mean ± std"`` (sample std) of the finite values, formatted as column ``key``; the
    value alone for one, ``""`` for none."""
    v = np.asarray([x for x in values if isinstance(x, (int, float)) and math.isfinite(x)],
                   dtype=float)
    if len(v) == 0:
        return ""
    if len(v) == 1:
        return _md(key, float(v[0]))
    return f"{_md(key, float(v.mean()))} ± {_md(key, float(v.std(ddof=1)))}"


_MD_COLUMNS = (("seed", "seed"), ("iterations", "iterations"), ("env_steps", "env steps"),
               ("wall_clock_min", "minutes"), ("first_return", "first trajectory (prior)"),
               ("final_return", "final return"), ("final_success", "success"))


def summary_markdown(rows: Sequence[dict[str, Any]]) -> str:
    """``summary.md``'s text: a row per run and a mean ± std row per family and config (runs
    that differ in more than the seed, e.g. variants in ``data/``, are not averaged)."""
    head = ["family", "preset"] + [title for _, title in _MD_COLUMNS]
    lines = [
        "# Benchmark summary",
        "",
        "Meta-test on each family's test tasks with the official protocol (`adaptation.json` "
        "of each run): *final return* is the return of the last trajectory, averaged over the "
        "test tasks; *first trajectory* is the first one, with z from the prior; *success* "
        "(sparse tasks) is the fraction of test tasks whose last trajectory reaches the goal. "
        "Bold rows: mean ± sample std over the seeds of one config. Minutes: training wall-clock "
        "(`progress.csv`).",
        "",
        "| " + " | ".join(head) + " |",
        "| " + " | ".join(["---", "---"] + ["---:"] * len(_MD_COLUMNS)) + " |",
    ]
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["family"], row["preset"], row["config_id"]), []).append(row)
    for (family, preset, _), group in groups.items():
        for row in group:
            cells = [family, preset] + [_md(k, row[k]) for k, _ in _MD_COLUMNS]
            lines.append("| " + " | ".join(cells) + " |")
        agg = [f"**{family}**", preset, f"{len(group)} seed{'s' if len(group) > 1 else ''}"]
        for key, _ in _MD_COLUMNS[1:]:
            text = mean_std(key, [r[key] for r in group])
            agg.append(f"**{text}**" if text else "")
        lines.append("| " + " | ".join(agg) + " |")
    return "\n".join(lines) + "\n"


def summarize(out_dir: str | Path, write: bool = True) -> list[dict[str, Any]]:
    """The summary rows of every run folder under ``out_dir``, without training anything.

    Used by the suite after its runs and by ``--summary-only``; notebook 5 reads the
    resulting ``summary.csv``, or calls this on the shipped ``data/`` folders
    (``summarize("data", write=False)``). Each row: :data:`SUMMARY_COLUMNS` (NaN where a run
    has no ``adaptation.json`` yet). With ``write``, also writes ``OUT/summary.csv`` and
    ``OUT/summary.md`` (atomically).
    """
    out_dir = Path(out_dir)
    order = {f: i for i, f in enumerate(ENV_NAMES)}
    rows = [summary_row(run, out_dir) for run in find_runs(out_dir)]
    rows.sort(key=lambda r: (order[r["family"]], r["preset"], r["config_id"], r["seed"],
                             r["run"]))
    if write:
        atomic_write_bytes(out_dir / SUMMARY_CSV, summary_csv(rows).encode())
        atomic_write_bytes(out_dir / SUMMARY_MD, summary_markdown(rows).encode())
    return rows


# ---- the whole suite --------------------------------------------------------------------------


def check_request(families: Sequence[str], seeds: Sequence[int], preset: str,
                  jobs: int | None, num_evals: int | None, device: str,
                  ray_address: str | None, snapshot_every: int = 0
                  ) -> tuple[list[str], list[int]]:
    """The families and seeds of a valid request.

    Raises:
        CLIError: an unknown family or preset, no or negative seeds, ``jobs`` or ``num_evals``
            below 1, a negative ``snapshot_every``, an unknown or absent device, ``--ray``
            without Ray.
    """
    family_list, seed_list = parse_families(families), check_seeds(seeds)
    if preset not in PRESETS:
        raise CLIError(f"unknown preset {preset!r}; valid: {', '.join(PRESETS)}")
    if jobs is not None and jobs < 1:
        raise CLIError(f"--jobs must be a positive integer, got {jobs}")
    if num_evals is not None and num_evals < 1:
        raise CLIError(f"--num-evals must be a positive integer, got {num_evals}")
    if snapshot_every < 0:
        raise CLIError(f"--snapshot-every must be 0 (no snapshots) or a positive number of "
                       f"iterations, got {snapshot_every}")
    if device not in ("cpu", "cuda"):
        raise CLIError(f"device must be 'cpu' or 'cuda', got {device!r}")
    if device == "cuda" and ray_address is None and not torch.cuda.is_available():
        raise CLIError("--device cuda was asked for but no CUDA device is available")
    if ray_address is not None:
        import_ray()
    return family_list, seed_list


def check_out_dir(out: Path, preset: str, overrides: dict[str, Any],
                  configs: dict[str, PEARLConfig], specs: Sequence[RunSpec]
                  ) -> dict[str, Any] | None:
    """The suite record already in ``out`` (None for a new suite), if the runs may go there.

    Raises:
        CLIError: ``out`` is a file, or holds a suite or runs of another preset or config.
    """
    if out.exists() and not out.is_dir():
        raise CLIError(f"--out {out} is a file, not a folder")
    suite = read_suite(out) if out.is_dir() else None
    check_suite_matches(out, suite, preset, overrides, configs)
    for spec in specs:
        check_run_folder(spec, configs[spec.family])
    return suite


def executor(specs: Sequence[RunSpec], jobs: int | None,
             ray_address: str | None) -> Iterator[dict[str, Any]]:
    """The outcomes of the runs, from Ray tasks, worker processes or this process."""
    if ray_address is not None:
        return run_ray(specs, ray_address, jobs)
    if (jobs or 1) > 1 and len(specs) > 1:
        return run_processes(specs, jobs or 1)
    return run_serial(specs)


def run_suite(
    families: Sequence[str],
    seeds: Sequence[int],
    preset: str,
    out: str | Path,
    overrides: dict[str, Any] | None = None,
    jobs: int | None = None,
    ray_address: str | None = None,
    num_evals: int | None = None,
    device: str = "cpu",
    progress: bool = True,
    command: str = "",
    snapshot_every: int = 0,
) -> list[dict[str, Any]]:
    """What ``python -m pearl_lite.benchmark`` does; returns the summary rows.

    Checks everything first (and writes nothing on bad input), records ``OUT/suite.json``,
    runs the missing part of every (family, seed) run (here with ``jobs`` 1 or None, in
    ``jobs`` processes, or as Ray tasks with ``ray_address``), meta-tests each finished run
    (and, with ``snapshot_every``, its snapshots into ``snapshots.json``), and writes
    ``OUT/summary.csv`` and ``OUT/summary.md``.

    Raises:
        CLIError: bad input (nothing written), or runs that failed (after the others finished
            and the summary was written).
    """
    overrides = dict(overrides or {})
    family_list, seed_list = check_request(families, seeds, preset, jobs, num_evals, device,
                                           ray_address, snapshot_every)
    configs = suite_configs(family_list, preset, overrides)
    out = Path(out).resolve()  # absolute: worker processes and Ray tasks write there
    specs = plan_runs(out, family_list, seed_list, preset, overrides, num_evals, device,
                      snapshot_every)
    suite = check_out_dir(out, preset, overrides, configs, specs)

    write_suite(out, suite, preset, overrides, configs, seed_list, command)
    failures = []
    with SuiteProgress(specs, enabled=progress) as bar:
        for outcome in executor(specs, jobs, ray_address):
            bar.run_finished()
            if outcome["error"]:
                failures.append(f"{outcome['name']}: {outcome['error']}")
    rows = summarize(out)
    if failures:
        raise CLIError(f"{len(failures)} of {len(specs)} runs failed ({'; '.join(failures)}); "
                       "fix and repeat the command to resume")
    return rows


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m pearl_lite.benchmark`` and ``pearl-lite-benchmark``."""
    parser = _Parser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--envs", nargs="*", default=["all"], metavar="FAMILY",
                        help=f"task families, or all (default): {', '.join(ENV_NAMES)}")
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2], metavar="S",
                        help="seeds (default 0 1 2)")
    parser.add_argument("--preset", default="lite", help=f"{', '.join(PRESETS)} (default lite)")
    parser.add_argument("--out", required=True, help="suite folder to write (or to resume)")
    parser.add_argument("--jobs", type=int, default=None, metavar="N",
                        help="runs at once: worker processes here (default 1), or at most N "
                             "Ray tasks in flight with --ray (default: as the cluster allows)")
    parser.add_argument("--ray", default=None, metavar="ADDRESS",
                        help="run each run as a Ray task on the cluster at ADDRESS (auto: "
                             "this machine's cluster; local: start one here); needs a shared "
                             "filesystem and " + CLUSTER_HINT)
    parser.add_argument("--set", nargs="+", action="extend", default=[], metavar="KEY=VALUE",
                        help="override config fields of the preset in every run, e.g. "
                             "num_iterations=100 (recorded in suite.json)")
    parser.add_argument("--num-evals", type=int, default=None, metavar="K",
                        help="meta-test runs per test task (default: the config's)")
    parser.add_argument("--snapshot-every", type=int, default=0, metavar="K",
                        help="keep each run's networks every K iterations and meta-test them "
                             "into its snapshots.json (the learning curve; default 0: none)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--summary-only", action="store_true",
                        help="only write OUT/summary.csv and summary.md from the run folders")
    args = parser.parse_args(argv)
    command = "pearl-lite-benchmark " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    try:
        if args.summary_only:
            if not Path(args.out).is_dir():
                raise CLIError(f"no suite folder {args.out}")
            rows = summarize(args.out)
            if not rows:
                raise CLIError(f"no run folders under {args.out}")
        else:
            try:
                overrides = parse_overrides(args.set)
            except ValueError as err:
                raise CLIError(f"--set: {err}") from None
            # a lost Ctrl-C still stops an in-process run; SIGTERM stops the suite as Ctrl-C
            with catching_ctrl_c(), sigterm_as_interrupt():
                rows = run_suite(args.envs, args.seeds, args.preset, args.out,
                                 overrides=overrides, jobs=args.jobs, ray_address=args.ray,
                                 num_evals=args.num_evals, device=args.device,
                                 progress=not args.no_progress, command=command,
                                 snapshot_every=args.snapshot_every)
    except CLIError as err:
        sys.stderr.write(f"{PROG}: error: {err}\n")
        return 1
    except KeyboardInterrupt as err:
        sys.stderr.write(f"{PROG}: interrupted; repeat the command to resume\n")
        return 128 + (signal.SIGTERM if isinstance(err, Terminated) else signal.SIGINT)
    print(summary_markdown(rows), end="")
    out = Path(args.out)
    print(f"wrote {out / SUMMARY_CSV} and {out / SUMMARY_MD} ({len(rows)} runs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
