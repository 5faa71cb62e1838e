"""Replay buffers: where an off-policy learner keeps the transitions it has seen.

Introduced in notebook 3 (soft actor-critic); PEARL (notebook 4) keeps one buffer per task.

- :class:`ReplayBuffer`: one ring buffer of transitions ``(obs, act, rew, next_obs, terminated,
  truncated)`` in preallocated NumPy arrays, sampled uniformly.
- :class:`MultiTaskReplayBuffer`: the same with a leading task axis, shape
  ``(n_tasks, capacity, ...)``; ``sample(task_indices, batch_size)`` returns ``(T, B, ...)``
  tensors, which is exactly the meta-batch PEARL trains on.

Both store ``terminated`` and ``truncated`` separately. Only ``terminated`` (the MDP really ended:
the pendulum fell, the robot reached an absorbing state) stops the bootstrap in the critic target;
``truncated`` (a time limit cut the episode) does not, because the state after it still has a
future. Keeping both lets the learner, and the tests, see the difference.
"""

from __future__ import annotations

import numpy as np
import torch

Tensor = torch.Tensor

#: Names of the fields every buffer stores, in order.
FIELDS = ("obs", "act", "rew", "next_obs", "terminated", "truncated")


def _check_positive(name: str, value: int) -> None:
    if not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _transitions(obs, act, rew, next_obs, terminated, truncated, obs_dim: int, act_dim: int,
                 capacity: int) -> dict[str, np.ndarray]:
    """The arguments of ``add`` as float32 arrays with a leading ``(n,)``, by field name.

    One transition (``obs`` of shape ``(obs_dim,)``, scalars) or a batch (``(N, obs_dim)``,
    ``(N,)``). A batch larger than ``capacity`` keeps only its newest ``capacity`` rows: the
    others would be overwritten at once.
    """
    obs = np.asarray(obs, dtype=np.float32)
    if obs.shape[-1:] != (obs_dim,) or obs.ndim > 2:
        raise ValueError(f"obs must have shape ({obs_dim},) or (N, {obs_dim}), got {obs.shape}")
    obs = obs.reshape(-1, obs_dim)
    n = obs.shape[0]
    values = {
        "obs": obs,
        "act": np.asarray(act, dtype=np.float32).reshape(n, act_dim),
        "rew": np.asarray(rew, dtype=np.float32).reshape(n),
        "next_obs": np.asarray(next_obs, dtype=np.float32).reshape(n, obs_dim),
        "terminated": np.asarray(terminated, dtype=np.float32).reshape(n),
        "truncated": np.asarray(truncated, dtype=np.float32).reshape(n),
    }
    return {k: v[-capacity:] for k, v in values.items()}


def _ring_write(arrays: dict[str, np.ndarray], pos: int, values: dict[str, np.ndarray]) -> int:
    """Write ``values`` (``(n, ...)`` each) into ``arrays`` (``(capacity, ...)`` each) at slots
    ``pos, pos + 1, ...`` modulo the capacity: the wrap-around of a ring buffer. Returns ``n``."""
    n = len(values["obs"])
    idx = (pos + np.arange(n)) % len(arrays["obs"])
    for k, v in values.items():
        arrays[k][idx] = v
    return n


class ReplayBuffer:
    """A fixed-size ring buffer of transitions, sampled uniformly at random.

    When full, new transitions overwrite the oldest ones (wrap-around).

    Args:
        obs_dim: observation size.
        act_dim: action size.
        capacity: maximum number of transitions kept.
        seed: seed of the buffer's own random generator (sampling is reproducible).
        device: where :meth:`sample` puts its tensors.

    Example::

        buf = ReplayBuffer(obs_dim=3, act_dim=1, capacity=100_000, seed=0)
        buf.add(obs, act, rew, next_obs, terminated, truncated)   # one transition ...
        buf.add(obs_b, act_b, rew_b, next_obs_b, term_b, trunc_b) # ... or a batch (N, ...)
        batch = buf.sample(256)   # dict of tensors: obs (256, 3), rew (256,), ...
    """

    def __init__(
        self, obs_dim: int, act_dim: int, capacity: int, seed: int = 0,
        device: str | torch.device = "cpu",
    ) -> None:
        for name, value in (("obs_dim", obs_dim), ("act_dim", act_dim), ("capacity", capacity)):
            _check_positive(name, value)
        self.obs_dim, self.act_dim, self.capacity = obs_dim, act_dim, capacity
        self.device = torch.device(device)
        self.rng = np.random.default_rng(seed)
        self.obs = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.act = np.zeros((capacity, act_dim), dtype=np.float32)
        self.rew = np.zeros(capacity, dtype=np.float32)
        self.next_obs = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.terminated = np.zeros(capacity, dtype=np.float32)
        self.truncated = np.zeros(capacity, dtype=np.float32)
        self.pos = 0  # where the next transition goes
        self.size = 0  # how many slots hold data

    def __len__(self) -> int:
        return self.size

    def add(self, obs, act, rew, next_obs, terminated, truncated) -> None:
        """Store one transition (``obs`` of shape ``(obs_dim,)``) or a batch (``(N, obs_dim)``).

        ``rew``, ``terminated`` and ``truncated`` are scalars for one transition, shape ``(N,)``
        for a batch. A batch larger than the capacity keeps only its last ``capacity`` rows.
        """
        values = _transitions(obs, act, rew, next_obs, terminated, truncated, self.obs_dim,
                              self.act_dim, self.capacity)
        n = _ring_write({k: getattr(self, k) for k in FIELDS}, self.pos, values)
        self.pos = int((self.pos + n) % self.capacity)
        self.size = min(self.size + n, self.capacity)

    def sample(self, batch_size: int) -> dict[str, Tensor]:
        """Draw ``batch_size`` transitions uniformly (with replacement).

        Returns:
            dict with ``obs`` ``(B, obs_dim)``, ``act`` ``(B, act_dim)``, ``rew`` ``(B,)``,
            ``next_obs`` ``(B, obs_dim)``, ``terminated`` ``(B,)``, ``truncated`` ``(B,)``;
            float32 tensors on ``device``.
        """
        _check_positive("batch_size", batch_size)
        if self.size == 0:
            raise ValueError("cannot sample from an empty ReplayBuffer: add transitions first")
        idx = self.rng.integers(0, self.size, size=batch_size)
        return {name: torch.from_numpy(getattr(self, name)[idx]).to(self.device)
                for name in FIELDS}


class MultiTaskReplayBuffer:
    """One ring buffer per task, in arrays of shape ``(n_tasks, capacity, ...)``.

    Written for PEARL (notebook 4): the actor-critic samples a meta-batch of tasks and a batch of
    transitions from each, and the context encoder samples recent transitions of a task;
    :meth:`clear` empties one task's buffer (PEARL's encoder buffer is refilled every iteration).

    Args:
        n_tasks: number of tasks.
        obs_dim, act_dim, capacity, seed, device: as for :class:`ReplayBuffer`; ``capacity``
            is per task.
    """

    def __init__(
        self, n_tasks: int, obs_dim: int, act_dim: int, capacity: int, seed: int = 0,
        device: str | torch.device = "cpu",
    ) -> None:
        for name, value in (("n_tasks", n_tasks), ("obs_dim", obs_dim), ("act_dim", act_dim),
                            ("capacity", capacity)):
            _check_positive(name, value)
        self.n_tasks, self.obs_dim, self.act_dim, self.capacity = n_tasks, obs_dim, act_dim, \
            capacity
        self.device = torch.device(device)
        self.rng = np.random.default_rng(seed)
        shapes = {"obs": (obs_dim,), "act": (act_dim,), "rew": (), "next_obs": (obs_dim,),
                  "terminated": (), "truncated": ()}
        self.data = {k: np.zeros((n_tasks, capacity, *s), dtype=np.float32)
                     for k, s in shapes.items()}
        self.pos = np.zeros(n_tasks, dtype=np.int64)
        self.sizes = np.zeros(n_tasks, dtype=np.int64)

    def _check_task(self, task: int) -> int:
        if not 0 <= int(task) < self.n_tasks:
            raise ValueError(f"task must be in [0, {self.n_tasks}), got {task}")
        return int(task)

    def size(self, task: int) -> int:
        """Number of transitions stored for ``task``."""
        return int(self.sizes[self._check_task(task)])

    def clear(self, task: int) -> None:
        """Forget every transition of ``task``."""
        task = self._check_task(task)
        self.pos[task] = 0
        self.sizes[task] = 0

    def add(self, task: int, obs, act, rew, next_obs, terminated, truncated) -> None:
        """Store one transition or a batch (as :meth:`ReplayBuffer.add`) for ``task``."""
        task = self._check_task(task)
        values = _transitions(obs, act, rew, next_obs, terminated, truncated, self.obs_dim,
                              self.act_dim, self.capacity)
        n = _ring_write({k: v[task] for k, v in self.data.items()}, int(self.pos[task]), values)
        self.pos[task] = (self.pos[task] + n) % self.capacity
        self.sizes[task] = min(self.sizes[task] + n, self.capacity)

    def grow(self, capacity: int) -> None:
        """Enlarge every task's storage to ``capacity`` transitions, keeping what is stored.

        PEARL starts its buffers small and grows them as data arrives, so a short run does not
        allocate the full ``replay_buffer_size``. A task whose ring has not wrapped yet keeps its
        transitions in place; a wrapped one is laid out oldest first, so writing continues after
        its newest transition. A ``capacity`` no larger than the current one changes nothing.
        """
        _check_positive("capacity", capacity)
        if capacity <= self.capacity:
            return
        wrapped = np.flatnonzero(self.pos != self.sizes)  # full rings whose write head moved on
        for k, v in self.data.items():
            new = np.zeros((self.n_tasks, capacity, *v.shape[2:]), dtype=v.dtype)
            new[:, : self.capacity] = v
            for t in wrapped:
                new[t, : self.capacity] = np.roll(v[t], -int(self.pos[t]), axis=0)
            self.data[k] = new
        self.pos[wrapped] = self.sizes[wrapped]
        self.capacity = capacity

    def state_dict(self) -> dict:
        """Stored transitions (only the filled prefix), write heads, sizes and the sampling RNG."""
        n = int(self.sizes.max()) if self.sizes.size else 0
        return {"data": {k: torch.from_numpy(v[:, :n].copy()) for k, v in self.data.items()},
                "capacity": self.capacity, "pos": torch.from_numpy(self.pos.copy()),
                "sizes": torch.from_numpy(self.sizes.copy()), "rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict` (growing to the saved capacity first if needed)."""
        self.grow(int(state["capacity"]))
        for k, v in state["data"].items():
            self.data[k][:, : v.shape[1]] = v.numpy()
        self.pos[:], self.sizes[:] = state["pos"].numpy(), state["sizes"].numpy()
        self.rng.bit_generator.state = state["rng"]

    def sample(self, task_indices, batch_size: int, first: int | None = None
               ) -> dict[str, Tensor]:
        """``batch_size`` transitions drawn uniformly from each task in ``task_indices``.

        With ``first``, only from each task's first ``first`` slots: its oldest transitions,
        while its ring has not wrapped (PEARL's prior-phase data, ``prior_context_fraction``).

        Returns:
            dict of float32 tensors with a leading task axis: ``obs`` ``(T, B, obs_dim)``,
            ``act`` ``(T, B, act_dim)``, ``rew`` ``(T, B)``, ``next_obs`` ``(T, B, obs_dim)``,
            ``terminated`` ``(T, B)``, ``truncated`` ``(T, B)``.
        """
        _check_positive("batch_size", batch_size)
        tasks = np.asarray([self._check_task(t) for t in np.atleast_1d(task_indices)])
        sizes = self.sizes[tasks]
        if first is not None:
            _check_positive("first", first)
            sizes = np.minimum(sizes, first)
        if (sizes == 0).any():
            empty = tasks[sizes == 0].tolist()
            raise ValueError(f"cannot sample from empty task buffers {empty}")
        # One uniform index per (task, sample), each below that task's own size.
        idx = (self.rng.random((len(tasks), batch_size)) * sizes[:, None]).astype(np.int64)
        rows = tasks[:, None]
        return {k: torch.from_numpy(v[rows, idx]).to(self.device) for k, v in self.data.items()}
