"""Task bookkeeping shared by every meta-RL environment of the suite.

A *meta-environment* is an ordinary ``gymnasium.Env`` that also holds a fixed, seeded list of
tasks (``env.tasks``, one ``dict`` per task) and can be switched between them with
``env.reset_task(idx)``. Only the current task changes what the environment does: the reward
function (goal, velocity, direction tasks) or the physics (``*-rand-params`` tasks).

The official PEARL code (github.com/katerakelly/oyster, ``launch_experiment.py``) builds all
``n_tasks`` tasks up front and splits them by index::

    train_tasks = tasks[:n_train_tasks]
    eval_tasks  = tasks[-n_eval_tasks:]

so with two direction tasks and ``n_train_tasks = n_eval_tasks = 2`` the train and test tasks
are the *same* two tasks. :class:`MetaEnv` reproduces that split in ``train_task_idx`` and
``test_task_idx``.

Conventions kept by every environment of the suite:

- observations are ``float32``; actions outside the action box are clipped to it (the official
  code wraps every environment in ``NormalizedBoxEnv``, which clips), and an action of the wrong
  shape raises ``ValueError``;
- the horizon is built in: ``truncated`` becomes ``True`` on step ``horizon`` of an episode, and
  ``terminated`` is ``True`` only when the official environment ended the episode itself;
- the ``info`` of a step holds the reward terms under keys starting with ``reward_``; they add up
  to the returned reward exactly (up to float rounding).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

# Salt mixed into the seed of the task generator, so that the tasks and the reset noise of an
# environment built with the same ``seed`` come from independent random streams.
_TASK_SEED_SALT = 0x9E3779B9


def official_split(
    n_tasks: int, default_n_tasks: int, default_n_train: int, default_n_test: int
) -> tuple[list[int], list[int]]:
    """Train and test task indices, the official way: first ``n_train``, last ``n_test``.

    With the default number of tasks the official config values are used. For another
    ``n_tasks`` the official train/test proportion is kept (at least one test task); where the
    official split overlaps (train + test > total, the two-task direction environments) train
    and test are both all tasks.

    Returns:
        ``(train_task_idx, test_task_idx)``, two lists of ints.
    """
    if n_tasks < 1:
        raise ValueError(f"n_tasks must be >= 1, got {n_tasks}")
    overlapping = default_n_train + default_n_test > default_n_tasks
    if overlapping or n_tasks == 1:
        return list(range(n_tasks)), list(range(n_tasks))
    if n_tasks == default_n_tasks:
        n_train, n_test = default_n_train, default_n_test
    else:
        n_test = max(1, round(n_tasks * default_n_test / default_n_tasks))
        n_train = n_tasks - n_test
    return list(range(n_train)), list(range(n_tasks - n_test, n_tasks))


class MetaEnv:
    """Mixin giving a ``gymnasium.Env`` a seeded list of tasks and the PEARL task interface.

    Subclasses set the class attributes below, implement :meth:`sample_tasks` and
    :meth:`_apply_task`, and call :meth:`_setup_tasks` at the end of ``__init__``.

    Attributes:
        name: the suite name used by ``pearl_lite.envs.make_env`` (e.g. ``"cheetah-vel"``).
        default_n_tasks, default_n_train, default_n_test: the official config's ``n_tasks``,
            ``n_train_tasks`` and ``n_eval_tasks``.
        horizon: episode length (``max_path_length`` of the official config).
        tasks: list of task dicts, fixed at construction from ``seed``.
        train_task_idx, test_task_idx: the official split, lists of ints.
    """

    name: ClassVar[str] = ""
    default_n_tasks: ClassVar[int] = 1
    default_n_train: ClassVar[int] = 1
    default_n_test: ClassVar[int] = 1
    horizon: int = 200

    tasks: list[dict[str, Any]]
    train_task_idx: list[int]
    test_task_idx: list[int]

    # ----------------------------------------------------------------------------- setup
    def _setup_tasks(self, n_tasks: int | None, seed: int) -> None:
        """Seed the task generator, the reset noise and the spaces; build tasks; select task 0."""
        n = self.default_n_tasks if n_tasks is None else int(n_tasks)
        if n < 1:
            raise ValueError(f"n_tasks must be >= 1, got {n_tasks}")
        self._seed = int(seed)
        self._task_rng = np.random.default_rng([_TASK_SEED_SALT, self._seed])
        self.tasks = self._initial_tasks(n)
        self.train_task_idx, self.test_task_idx = official_split(
            n, self.default_n_tasks, self.default_n_train, self.default_n_test
        )
        # Seed the reset noise (gymnasium's np_random) and the spaces' samplers.
        self._np_random = np.random.default_rng(self._seed)  # read by gymnasium's np_random
        self.action_space.seed(self._seed)
        self.observation_space.seed(self._seed)
        self._elapsed_steps = 0
        self._task_idx = 0
        self.reset_task(0)

    # ----------------------------------------------------------------------------- tasks
    def sample_tasks(self, n: int) -> list[dict[str, Any]]:
        """Draw ``n`` tasks from the task distribution (uses the env's seeded task generator)."""
        raise NotImplementedError

    def _initial_tasks(self, n: int) -> list[dict[str, Any]]:
        """The environment's own task list: ``sample_tasks(n)`` unless the tasks are fixed."""
        return self.sample_tasks(n)

    def _apply_task(self, task: dict[str, Any]) -> None:
        """Make ``task`` the current task (set the goal, or write the physics parameters)."""
        raise NotImplementedError

    @property
    def n_tasks(self) -> int:
        return len(self.tasks)

    @property
    def n_train_tasks(self) -> int:
        return len(self.train_task_idx)

    @property
    def n_test_tasks(self) -> int:
        return len(self.test_task_idx)

    @property
    def task_idx(self) -> int:
        """Index of the current task in ``self.tasks``."""
        return self._task_idx

    @property
    def task(self) -> dict[str, Any]:
        """The current task dict."""
        return self.tasks[self._task_idx]

    def get_all_task_idx(self) -> range:
        """All task indices, ``range(len(self.tasks))``."""
        return range(len(self.tasks))

    def reset_task(self, idx: int) -> None:
        """Switch to task ``idx``. Call ``reset()`` afterwards to start an episode in it.

        Raises:
            ValueError: if ``idx`` is not an integer in ``range(len(self.tasks))``.
        """
        if isinstance(idx, bool) or not isinstance(idx, (int, np.integer)):
            raise ValueError(f"task index must be an int, got {idx!r}")
        if not 0 <= idx < len(self.tasks):
            raise ValueError(
                f"task index {idx} out of range: valid indices are 0..{len(self.tasks) - 1}"
            )
        self._task_idx = int(idx)
        self._apply_task(self.tasks[self._task_idx])

    # ----------------------------------------------------------------------------- helpers
    def _check_action(self, action: Any) -> np.ndarray:
        """Validate the action's shape and clip it to the action box; returns float64."""
        a = np.asarray(action, dtype=np.float64)
        expected = self.action_space.shape
        if a.shape != expected:
            raise ValueError(
                f"{type(self).__name__}: expected an action of shape {expected}, got {a.shape}"
            )
        return np.clip(a, self.action_space.low, self.action_space.high)

    def _tick(self) -> bool:
        """Count one step of the episode; returns ``truncated`` (the horizon is reached)."""
        self._elapsed_steps += 1
        return self._elapsed_steps >= self.horizon

    def _handle_reset_options(self, options: dict[str, Any] | None) -> None:
        """Shared ``reset`` options: ``{"task": idx}`` switches task before resetting."""
        self._elapsed_steps = 0
        if options and "task" in options:
            self.reset_task(options["task"])
