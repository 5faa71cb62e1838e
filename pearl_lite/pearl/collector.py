"""Data collection in a second process, while the learner trains (``async_collection``).

Introduced in notebook 4 (the speed section). In Algorithm 1 as written, an iteration first
collects data and then takes gradient steps, so on a 2-core CPU one core idles during each
half. With ``cfg.async_collection = True`` the :class:`~pearl_lite.pearl.meta_train.MetaTrainer`
hands each iteration's collection round to a :class:`CollectorProcess` and trains meanwhile::

    iteration i, synchronous:  collect D_i with weights W_{i-1}  ->  train on D_0..D_i
    iteration i, asynchronous: collect D_i with weights W_{i-1}  ||  train on D_0..D_{i-1}
                               then store D_i

**What changes, exactly.** The data is collected with the same weights as in the synchronous
loop (those at the end of the previous iteration): the policy is no staler. What is later is
the *learner's view*: the gradient steps of iteration ``i`` see round ``D_i`` one iteration
after the synchronous loop would, and the encoder buffers of that round's tasks still hold
their previous visit's data. Everything else (the buffers' contents once stored, Algorithm 1's
three kinds of collection, the losses) is unchanged.

**Determinism.** The worker draws from its own random streams (its seed is derived from the
run's), and the two processes exchange data at fixed points: the same seed gives the same run.
It is not the *same* run as the synchronous one (the random numbers are used in another order).

**Protocol** (a fresh ``python`` process and a socket pair): the trainer sends the
agent's weights and the task slots; the worker, a collection-only ``MetaTrainer`` of its own,
runs the collection round and sends back every trajectory batch it stored, in order, which the
trainer stores into its own buffers. The worker keeps its RL buffer empty (the learner's is
the only one that matters) and its encoder buffer only for the posterior it infers while
collecting, exactly as the trainer would.
"""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pearl_lite.config import PEARLConfig
from pearl_lite.utils import rng_state, set_rng_state

#: One stored trajectory batch: (task slots ``(n,)``, the paths, also to the encoder buffer?).
Record = tuple[np.ndarray, Any, bool]


def _send(conn: Connection, obj: Any) -> None:
    # torch.save, not Connection.send: its pickler passes tensors as shared-memory file
    # descriptors, which only works between processes that multiprocessing started.
    buf = io.BytesIO()
    torch.save(obj, buf)
    conn.send_bytes(buf.getvalue())


def _recv(conn: Connection) -> Any:
    # The peer is our own worker (or trainer): its messages hold Paths and RNG states too.
    return torch.load(io.BytesIO(conn.recv_bytes()), weights_only=False)


def worker_seed(seed: int) -> int:
    """The collector's seed: an independent stream derived from the run's ``seed``."""
    return int(np.random.SeedSequence([int(seed), 1]).generate_state(1)[0])


def _serve(fd: int) -> None:
    """The worker process: build a collection-only trainer, then answer ``collect``,
    ``state``, ``load_state`` and ``close`` until the trainer closes the connection."""
    from pearl_lite.pearl.meta_train import MetaTrainer  # here: meta_train imports this module

    # Ctrl-C reaches the whole process group; the trainer handles it and closes this worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn = Connection(fd)
    cfg_dict, seed = _recv(conn)
    cfg = PEARLConfig.from_dict(cfg_dict).replace(async_collection=False, torch_threads=1)
    trainer = MetaTrainer(cfg, seed=worker_seed(seed))
    while True:
        try:
            cmd, *args = _recv(conn)
        except EOFError:  # the trainer's process ended
            return
        if cmd == "close":
            conn.close()
            return
        try:
            if cmd == "collect":
                _send(conn, ("ok", _collect(trainer, *args)))
            elif cmd == "state":
                _send(conn, ("ok", rng_state(trainer.rng)))
            elif cmd == "load_state":
                set_rng_state(trainer.rng, args[0])
                _send(conn, ("ok", None))
            else:
                _send(conn, ("error", f"unknown command {cmd!r}"))
        except Exception as err:  # report it in the trainer's process instead of hanging
            _send(conn, ("error", f"{type(err).__name__}: {err}"))


def _collect(trainer: Any, weights: dict[str, torch.Tensor], slots: np.ndarray,
             initial: bool) -> dict[str, Any]:
    """Run one collection in the worker: the initial data of every training task (``slots``
    unused) or the round of ``slots``; return its records."""
    trainer.agent.load_state_dict(weights)
    trainer.recording = []
    steps = trainer.env_steps
    returns = trainer.initial_collection() if initial else trainer.collection_round(slots)
    records, trainer.recording = trainer.recording, None
    for s in range(len(trainer.train_tasks)):  # the learner's RL buffer is the one that counts
        trainer.rl_buffer.clear(s)
    return {"records": records, "returns": returns, "env_steps": trainer.env_steps - steps}


class CollectorProcess:
    """A worker process that runs Algorithm 1's collection rounds for a trainer.

    Args:
        cfg: the run's config (the worker builds the same environments and networks).
        seed: the run's seed (the worker derives its own, :func:`worker_seed`).

    Use :meth:`submit` to start a collection and :meth:`result` to wait for it; one at a time.
    """

    def __init__(self, cfg: PEARLConfig, seed: int) -> None:
        # A fresh interpreter (not a fork: no torch threads inherited, and no re-import of the
        # caller's __main__ as multiprocessing's spawn would do), linked by a socket pair.
        ours, theirs = socket.socketpair()
        package_root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [package_root] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []))}
        code = f"from pearl_lite.pearl.collector import _serve; _serve({theirs.fileno()})"
        self._proc = subprocess.Popen([sys.executable, "-c", code], pass_fds=[theirs.fileno()],
                                      env=env)
        theirs.close()
        self._conn = Connection(ours.detach())
        _send(self._conn, (cfg.to_dict(), int(seed)))
        self._pending = False
        self._in_flight = False  # a message half sent or half read (interrupted)

    def _call(self, *msg: Any, timeout: float | None = None) -> Any:
        self._send(msg)
        return self._reply(timeout)

    def _died(self) -> RuntimeError:
        return RuntimeError(f"the collector process died (exit code {self._proc.poll()}); "
                            "see its error above, or run with async_collection=False")

    def _send(self, msg: tuple) -> None:
        self._in_flight = True
        try:
            _send(self._conn, msg)
        except OSError:
            raise self._died() from None
        self._in_flight = False

    @property
    def busy(self) -> bool:
        """A collection is running, or a message was cut off (e.g. by Ctrl-C) mid-way."""
        return self._pending or self._in_flight

    def _reply(self, timeout: float | None = None) -> Any:
        self._in_flight = True
        # With a timeout (closing), a worker that does not answer counts as died; the stream
        # stays marked out of step, so close() kills it.
        if timeout is not None and not self._conn.poll(timeout):
            raise RuntimeError(f"the collector process did not answer within {timeout:g} s")
        try:
            status, value = _recv(self._conn)
        except (EOFError, OSError):
            raise self._died() from None
        self._in_flight = False  # not reached when interrupted: the stream is out of step
        if status != "ok":
            raise RuntimeError(f"collector process: {value}")
        return value

    def submit(self, weights: dict[str, torch.Tensor], slots: np.ndarray,
               initial: bool = False) -> None:
        """Start collecting for task ``slots`` with ``weights`` (the initial data if
        ``initial``); returns at once."""
        if self._pending:
            raise RuntimeError("a collection is already running; call result() first")
        weights = {k: v.detach().cpu() for k, v in weights.items()}
        self._send(("collect", weights, np.asarray(slots, dtype=np.int64), initial))
        self._pending = True

    def result(self) -> dict[str, Any]:
        """Wait for the submitted collection: ``records`` (list of :data:`Record`),
        ``returns`` and ``env_steps``."""
        if not self._pending:
            raise RuntimeError("no collection was submitted")
        value = self._reply()
        self._pending = False
        return value

    def state(self, timeout: float | None = None) -> dict[str, Any]:
        """The worker's random-number states (:func:`~pearl_lite.utils.rng_state`, for
        checkpoints); ``timeout`` (seconds) raises ``RuntimeError`` if it does not answer."""
        if self.busy:
            raise RuntimeError("the collector is busy: its state is defined between "
                               "collections only")
        return self._call("state", timeout=timeout)

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state` (on resume)."""
        self._call("load_state", state)

    def close(self) -> None:
        """Stop the worker (idempotent); one interrupted mid-collection is killed."""
        if self._proc.poll() is None and self.busy:
            self._proc.kill()
            self._proc.wait()
        if self._proc.poll() is None:
            try:
                self._send(("close",))
            except RuntimeError:
                pass
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._conn.close()


__all__ = ["CollectorProcess", "Record", "worker_seed"]
