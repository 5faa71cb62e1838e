"""Helpers every notebook uses: seeding, device choice, smoke mode, CSV logs, atomic writes."""

from __future__ import annotations

import csv
import json
import os
import random
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

SMOKE_ENV_VAR = "PEARL_LITE_SMOKE"


def smoke_mode() -> bool:
    """True when notebooks and scripts should shrink their budgets to seconds.

    Set ``PEARL_LITE_SMOKE=1`` (the test suite does so when it executes the notebooks).
    """
    return os.environ.get(SMOKE_ENV_VAR, "").strip().lower() not in ("", "0", "false", "no")


def budget(full: Any, smoke: Any) -> Any:
    """Pick the full-run value or the smoke-mode value: ``n_epochs = budget(200, 2)``."""
    return smoke if smoke_mode() else full


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python, NumPy and torch; return a fresh NumPy ``Generator`` for local use.

    Environments are seeded separately, through ``env.reset(seed=...)`` and
    ``env.action_space.seed(...)``, as gymnasium asks.
    """
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    torch.manual_seed(int(seed))
    return np.random.default_rng(int(seed))


def rng_state(generator: np.random.Generator) -> dict[str, Any]:
    """Every random-number state a run draws from: ``generator``'s, NumPy's global, Python's,
    torch's and (where there is one) CUDA's; NumPy's array as a tensor, so that a checkpoint
    holding it loads with ``torch.load(..., weights_only=True)``. Restore: :func:`set_rng_state`.
    """
    np_state = np.random.get_state()
    return {"numpy_generator": generator.bit_generator.state,
            "numpy_global": [np_state[0], torch.from_numpy(np_state[1].copy()), *np_state[2:]],
            "python": random.getstate(),
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}


def set_rng_state(generator: np.random.Generator, state: Mapping[str, Any]) -> None:
    """Restore :func:`rng_state` (``generator`` gets the saved generator's state)."""
    generator.bit_generator.state = state["numpy_generator"]
    g = state["numpy_global"]
    np.random.set_state((g[0], g[1].numpy(), *g[2:]))
    random.setstate(state["python"])
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def get_device(device: str | torch.device | None = None) -> torch.device:
    """The device to train on: ``device`` if given, else CUDA when present, else the CPU."""
    if device is not None:
        device = torch.device(device)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError("device 'cuda' was asked for but torch.cuda.is_available() is False")
        return device
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half.

    The bytes go to a temporary file in the same folder, which is then renamed over ``path``
    (``os.replace`` is atomic on POSIX and Windows).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_json(path: str | Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON, atomically (see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())


def atomic_torch_save(obj: Any, path: str | Path) -> None:
    """``torch.save`` to a temporary file, then rename: a crash never leaves half a checkpoint."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class CSVLogger:
    """Append one row per call to a CSV file; the header comes from the first row's keys.

    Later rows may not add new keys (that would silently misalign columns); missing keys are
    written as empty cells. The file is flushed after every row so a crashed run keeps its log.

    >>> log = CSVLogger("run/progress.csv")          # doctest: +SKIP
    >>> log.write({"step": 1, "return": -3.2})       # doctest: +SKIP
    """

    def __init__(self, path: str | Path, append: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fieldnames: list[str] | None = None
        if append and self.path.exists() and self.path.stat().st_size > 0:
            with open(self.path, newline="") as f:
                self.fieldnames = next(csv.reader(f))
        elif not append and self.path.exists():
            self.path.unlink()

    def write(self, row: Mapping[str, Any]) -> None:
        """Append ``row`` (a mapping from column name to a number or string)."""
        if self.fieldnames is None:
            self.fieldnames = list(row.keys())
            with open(self.path, "w", newline="") as f:
                csv.writer(f).writerow(self.fieldnames)
        unknown = set(row) - set(self.fieldnames)
        if unknown:
            raise ValueError(
                f"CSVLogger row has keys {sorted(unknown)} not in the header {self.fieldnames}"
            )
        with open(self.path, "a", newline="") as f:
            csv.writer(f).writerow([_fmt(row.get(k, "")) for k in self.fieldnames])


def _fmt(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        value = value.item()
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    return value


def read_csv(path: str | Path) -> dict[str, np.ndarray]:
    """Read a CSV log written by :class:`CSVLogger` into a dict of float arrays (NaN for blanks)."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return {}
    out = {}
    for key in rows[0]:
        col = []
        for r in rows:
            try:
                col.append(float(r[key]))
            except (TypeError, ValueError):
                col.append(float("nan"))
        out[key] = np.asarray(col)
    return out
