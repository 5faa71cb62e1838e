"""The 2-D point robots of PEARL: ``point-robot`` (dense) and ``sparse-point-robot``.

Source of the facts: github.com/katerakelly/oyster, ``rlkit/envs/point_robot.py`` (dynamics,
goals, rewards) and ``configs/point-robot.json`` / ``configs/sparse-point-robot.json`` (100
tasks, 80 train and 20 test, ``max_path_length`` 20).

Both robots are a point in the plane under position control: the action is a displacement,
``state <- state + clip(action, -0.1, 0.1)``, and the observation is the position. The reward
formula lives in :func:`point_robot_reward`, shared by the single environments here and the
batched ``PointRobotVectorEnv`` in ``vector.py`` so the two cannot drift apart.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from pearl_lite.envs.base import MetaEnv

GOAL_RADIUS = 0.2  # sparse-point-robot: reward is non-zero only this close to the goal
MAX_STEP = 0.1  # each coordinate of an action is clipped to [-0.1, 0.1]


def point_robot_reward(
    state: np.ndarray, goal: np.ndarray, sparse: bool, goal_radius: float = GOAL_RADIUS
) -> dict[str, np.ndarray]:
    """The point robots' reward, vectorised over any leading batch dimensions.

    Args:
        state: positions after the step, shape ``(..., 2)``.
        goal: goal positions, shape ``(..., 2)`` (broadcasts against ``state``).
        sparse: ``False`` for point-robot, ``True`` for sparse-point-robot.
        goal_radius: radius of the sparse reward region.

    Returns:
        dict of arrays of shape ``(...)``:

        - ``"reward"``: the reward the environment returns;
        - ``"dense_reward"``: ``-||state - goal||`` (the shaped reward);
        - ``"sparse_reward"``: the official sparse reward ``1 - distance`` inside the goal
          radius (``distance <= goal_radius``, so it lies in ``[0.8, 1]``) and ``0`` outside;
        - ``"success"``: ``distance <= goal_radius`` (bool);
        - ``"distance"``: ``||state - goal||``.

        The official code computes the sparse reward from the dense one ``r = -distance`` as
        ``r * (r >= -goal_radius) + 1`` inside the radius (``sparsify_rewards`` plus the
        "make sparse rewards positive" shift); that is ``1 - distance`` inside and ``0``
        outside, which is what is computed here.
    """
    diff = np.asarray(state, dtype=np.float64) - np.asarray(goal, dtype=np.float64)
    distance = np.sqrt(np.sum(diff * diff, axis=-1))
    dense = -distance
    success = dense >= -goal_radius
    sparse_reward = np.where(success, 1.0 + dense, 0.0)
    return {
        "reward": sparse_reward if sparse else dense,
        "dense_reward": dense,
        "sparse_reward": sparse_reward,
        "success": success,
        "distance": distance,
    }


class PointRobotEnv(MetaEnv, gym.Env):
    """``point-robot``: reach a goal in the unit square; reward is minus the distance to it.

    Facts (oyster ``rlkit/envs/point_robot.py``, ``configs/point-robot.json``):

    - tasks: goals drawn uniformly from the square ``[-1, 1]^2``; 100 tasks, the first 80 for
      meta-training and the last 20 for meta-testing (the official code drew them with
      ``np.random.seed(1337)``; here they come from ``seed``, so the same distribution but a
      different draw);
    - observation: the position, shape ``(2,)``, ``float32``, unbounded;
    - action: a displacement in ``[-0.1, 0.1]^2``, clipped (the official ``NormalizedBoxEnv``
      maps a policy's ``[-1, 1]`` output onto this box and clips; do that mapping yourself, e.g.
      ``action = 0.1 * tanh_output``);
    - reset: the start is drawn uniformly from ``[-1, 1]^2`` (reset noise from ``seed``);
    - reward: ``-||position - goal||`` after the move, ``info["reward_dist"]``;
    - horizon 20; never terminates.

    ``reset(options={"state": xy})`` starts the episode at a chosen position and
    ``reset(options={"task": idx})`` switches task first. Render: ``render_mode="rgb_array"``
    draws the plane with numpy (no MuJoCo, no display).
    """

    name = "point-robot"
    default_n_tasks = 100
    default_n_train = 80
    default_n_test = 20
    horizon = 20
    sparse = False
    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(
        self,
        n_tasks: int | None = None,
        seed: int = 0,
        render_mode: str | None = None,
        goal_radius: float = GOAL_RADIUS,
    ) -> None:
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.render_mode = render_mode
        self.goal_radius = float(goal_radius)
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(2,), dtype=np.float32)
        self.action_space = spaces.Box(-MAX_STEP, MAX_STEP, shape=(2,), dtype=np.float32)
        self._state = np.zeros(2)
        self._goal = np.zeros(2)
        self._setup_tasks(n_tasks, seed)

    # ------------------------------------------------------------------------- tasks
    def sample_tasks(self, n: int) -> list[dict[str, Any]]:
        """``n`` goals uniform on ``[-1, 1]^2``: ``[{"goal": array (2,)}, ...]``."""
        goals = self._task_rng.uniform(-1.0, 1.0, size=(n, 2))
        return [{"goal": g} for g in goals]

    def _apply_task(self, task: dict[str, Any]) -> None:
        self._goal = np.asarray(task["goal"], dtype=np.float64)

    @property
    def goal(self) -> np.ndarray:
        """The current goal, shape ``(2,)``."""
        return self._goal.copy()

    # ------------------------------------------------------------------------- episode
    def _initial_state(self) -> np.ndarray:
        return self.np_random.uniform(-1.0, 1.0, size=2)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self._handle_reset_options(options)
        if options and "state" in options:
            self._state = np.array(options["state"], dtype=np.float64).reshape(2)
        else:
            self._state = self._initial_state()
        return self._obs(), {"task_idx": self._task_idx}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        a = self._check_action(action)
        self._state = self._state + a
        r = point_robot_reward(self._state, self._goal, self.sparse, self.goal_radius)
        truncated = self._tick()
        return self._obs(), float(r["reward"]), False, truncated, self._info(r)

    def _info(self, r: dict[str, np.ndarray]) -> dict[str, Any]:
        return {"reward_dist": float(r["dense_reward"]), "distance": float(r["distance"])}

    def _obs(self) -> np.ndarray:
        return self._state.astype(np.float32)

    @property
    def state(self) -> np.ndarray:
        """The current position (float64), shape ``(2,)``."""
        return self._state.copy()

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        from pearl_lite.envs.rendering import render_point_frame

        radius = self.goal_radius if self.sparse else None
        return render_point_frame(self._state, self._goal, goal_radius=radius)


class SparsePointRobotEnv(PointRobotEnv):
    """``sparse-point-robot``: reach a goal on the upper unit semicircle; sparse reward.

    Facts (oyster ``rlkit/envs/point_robot.py`` ``SparsePointEnv``,
    ``configs/sparse-point-robot.json``):

    - tasks: 100 goals evenly spaced on the upper half of the unit circle (angles
      ``linspace(0, pi, 100)``, both ends included) in a shuffled order; the first 80 are
      meta-training tasks and the last 20 meta-test tasks (official shuffle: ``np.random.seed
      (1337)``; here the shuffle comes from ``seed``);
    - reset: always at the origin ``(0, 0)``;
    - observation, action, dynamics and horizon (20) as :class:`PointRobotEnv`;
    - reward (returned): the official *sparse* reward, ``1 - distance`` when the robot is
      within ``goal_radius = 0.2`` of the goal (``distance <= 0.2``) and ``0`` elsewhere, so it
      lies in ``{0} U [0.8, 1]``; see :func:`point_robot_reward`;
    - ``info``: ``reward_sparse`` (the returned reward), ``sparse_reward`` (the same, under the
      official key), ``dense_reward`` (``-distance``, the shaped reward), ``success`` (bool,
      within the goal radius) and ``distance``.

    Note the official protocol: the official ``step`` *returns the dense reward* and puts the
    sparse one in ``info["sparse_reward"]``; SAC is trained on the dense reward while the
    encoder's context (and evaluation) use the sparse one. This kit returns the sparse reward
    and carries the dense one in ``info["dense_reward"]``; an algorithm that follows the paper's
    protocol reads the dense reward from ``info`` for the critic.
    """

    name = "sparse-point-robot"
    sparse = True

    def sample_tasks(self, n: int) -> list[dict[str, Any]]:
        """``n`` goals evenly spaced on the upper unit semicircle, shuffled by the task seed."""
        angles = np.linspace(0.0, np.pi, num=n)
        goals = np.stack([np.cos(angles), np.sin(angles)], axis=1)
        goals = goals[self._task_rng.permutation(n)]
        return [{"goal": g} for g in goals]

    def _initial_state(self) -> np.ndarray:
        return np.zeros(2)

    def _info(self, r: dict[str, np.ndarray]) -> dict[str, Any]:
        return {
            "reward_sparse": float(r["sparse_reward"]),
            "sparse_reward": float(r["sparse_reward"]),
            "dense_reward": float(r["dense_reward"]),
            "success": bool(r["success"]),
            "distance": float(r["distance"]),
        }
