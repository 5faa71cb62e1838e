"""Replay buffers: storage, wrap-around, sampling, and the multi-task layout."""

import numpy as np
import pytest
import torch

from pearl_lite.buffers import FIELDS, MultiTaskReplayBuffer, ReplayBuffer


def _fill(buf, start, n, *task):
    """Add transitions whose every field encodes its id ``start, ..., start + n - 1``."""
    ids = np.arange(start, start + n, dtype=np.float32)
    buf.add(*task, np.repeat(ids[:, None], 2, 1), ids[:, None], ids,
            np.repeat(ids[:, None] + 0.5, 2, 1), ids % 2, (ids + 1) % 2)


def test_add_single_and_batched_and_sample_shapes():
    buf = ReplayBuffer(obs_dim=2, act_dim=1, capacity=10, seed=0)
    assert len(buf) == 0
    buf.add(np.full(2, -1.0), np.full(1, -1.0), -1.0, np.full(2, -0.5), True, False)
    _fill(buf, 1, 4)
    assert len(buf) == 5
    batch = buf.sample(7)
    assert set(batch) == set(FIELDS)
    assert batch["obs"].shape == (7, 2) and batch["act"].shape == (7, 1)
    assert batch["rew"].shape == (7,) and batch["terminated"].shape == (7,)
    assert all(v.dtype == torch.float32 for v in batch.values())
    # Each sampled transition is internally consistent (all fields from the same slot).
    assert torch.equal(batch["next_obs"], batch["obs"] + 0.5)
    assert torch.equal(batch["act"][:, 0], batch["rew"]) and torch.equal(batch["obs"][:, 0],
                                                                        batch["rew"])


def test_wrap_around_keeps_the_newest():
    buf = ReplayBuffer(2, 1, capacity=5, seed=0)
    _fill(buf, 0, 4)
    _fill(buf, 4, 3)  # 7 transitions into 5 slots: ids 2..6 survive
    assert len(buf) == 5 and buf.pos == 2
    assert sorted(buf.rew.tolist()) == [2, 3, 4, 5, 6]
    assert buf.rew[0] == 5 and buf.rew[1] == 6  # 5 and 6 wrapped to the front
    _fill(buf, 100, 12)  # a batch larger than the buffer keeps its last 5 rows
    assert sorted(buf.rew.tolist()) == [107, 108, 109, 110, 111]
    sampled = buf.sample(200)["rew"]
    assert set(sampled.tolist()) <= {107.0, 108.0, 109.0, 110.0, 111.0}


def test_sampling_is_uniform_and_seeded():
    a, b = ReplayBuffer(2, 1, 100, seed=3), ReplayBuffer(2, 1, 100, seed=3)
    _fill(a, 0, 50)
    _fill(b, 0, 50)
    sa, sb = a.sample(4000), b.sample(4000)
    assert all(torch.equal(sa[k], sb[k]) for k in FIELDS)
    counts = np.bincount(sa["rew"].numpy().astype(int), minlength=50)
    assert counts.min() > 40 and counts.max() < 130  # 80 expected per slot
    assert counts[50:].sum() == 0  # never an empty slot


def test_terminated_and_truncated_are_kept_apart():
    buf = ReplayBuffer(2, 1, 10)
    buf.add(np.zeros(2), np.zeros(1), 0.0, np.zeros(2), terminated=False, truncated=True)
    batch = buf.sample(3)
    assert batch["terminated"].sum() == 0 and batch["truncated"].sum() == 3


def test_bad_input_gives_clear_errors():
    with pytest.raises(ValueError, match="capacity must be a positive integer"):
        ReplayBuffer(2, 1, 0)
    buf = ReplayBuffer(2, 1, 10)
    with pytest.raises(ValueError, match="empty ReplayBuffer"):
        buf.sample(4)
    with pytest.raises(ValueError, match=r"obs must have shape \(2,\)"):
        buf.add(np.zeros(3), np.zeros(1), 0.0, np.zeros(3), False, False)


def test_multitask_buffer_layout_and_sampling():
    buf = MultiTaskReplayBuffer(n_tasks=3, obs_dim=2, act_dim=1, capacity=4, seed=0)
    for task in range(3):
        _fill(buf, 10 * task, 3 + task, task)  # task 2 gets 5 transitions into 4 slots: wraps
    assert [buf.size(t) for t in range(3)] == [3, 4, 4]
    batch = buf.sample([2, 0], batch_size=50)
    assert batch["obs"].shape == (2, 50, 2) and batch["rew"].shape == (2, 50)
    assert set(batch["rew"][0].tolist()) <= {21.0, 22.0, 23.0, 24.0}  # task 2, 20 overwritten
    assert set(batch["rew"][1].tolist()) <= {0.0, 1.0, 2.0}  # task 0
    buf.clear(1)
    assert buf.size(1) == 0
    with pytest.raises(ValueError, match=r"empty task buffers \[1\]"):
        buf.sample([0, 1], 2)
    with pytest.raises(ValueError, match=r"task must be in \[0, 3\)"):
        buf.add(3, np.zeros(2), np.zeros(1), 0.0, np.zeros(2), False, False)


def test_sampling_only_the_first_slots():
    """``first=n``: only each task's oldest n transitions (PEARL's prior-phase context)."""
    buf = MultiTaskReplayBuffer(n_tasks=2, obs_dim=2, act_dim=1, capacity=10, seed=0)
    _fill(buf, 0, 8, 0)
    _fill(buf, 100, 2, 1)  # fewer than `first`: all of them
    batch = buf.sample([0, 1], batch_size=200, first=3)
    assert set(batch["rew"][0].tolist()) == {0.0, 1.0, 2.0}
    assert set(batch["rew"][1].tolist()) == {100.0, 101.0}
    with pytest.raises(ValueError, match="first must be a positive integer"):
        buf.sample([0], 2, first=0)


def _add_steps(buf: MultiTaskReplayBuffer, task: int, start: int, n: int) -> None:
    """Add transitions whose obs value is their step number start..start+n-1."""
    steps = np.arange(start, start + n, dtype=np.float32)
    buf.add(task, np.stack([steps, steps], 1), np.zeros((n, 1)), steps, np.zeros((n, 2)),
            np.zeros(n), np.zeros(n))


def test_grow_after_an_exactly_full_ring_keeps_old_data_and_appends():
    """A ring filled to exactly its capacity has its write head back at 0; growing must move the
    head to the end, or new data overwrites the oldest and empty slots count as stored."""
    buf = MultiTaskReplayBuffer(2, 2, 1, capacity=4, seed=0)
    _add_steps(buf, 0, 0, 4)  # exactly full: pos wraps to 0, size 4
    buf.grow(8)
    _add_steps(buf, 0, 4, 2)
    assert buf.size(0) == 6
    np.testing.assert_array_equal(buf.data["rew"][0, :6], np.arange(6))


def test_grow_after_wrap_around_keeps_chronological_order():
    buf = MultiTaskReplayBuffer(1, 2, 1, capacity=4, seed=0)
    _add_steps(buf, 0, 0, 6)  # steps 0..5 in a ring of 4: keeps 2..5, head at 2
    buf.grow(8)
    _add_steps(buf, 0, 6, 1)
    assert buf.size(0) == 5
    np.testing.assert_array_equal(buf.data["rew"][0, :5], [2, 3, 4, 5, 6])


def test_multitask_state_dict_roundtrip():
    buf = MultiTaskReplayBuffer(2, 2, 1, capacity=4, seed=3)
    _add_steps(buf, 1, 0, 3)
    buf.grow(8)
    other = MultiTaskReplayBuffer(2, 2, 1, capacity=4, seed=99)
    other.load_state_dict(buf.state_dict())
    assert other.capacity == 8 and other.size(1) == 3
    torch.testing.assert_close(other.sample([1], 5)["rew"], buf.sample([1], 5)["rew"])
