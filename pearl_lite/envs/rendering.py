"""Pictures of the tasks.

- :func:`plot_point_task`: a matplotlib picture of a point-robot task (goals, the sparse goal
  radius, the current goal, a trajectory). No MuJoCo needed.
- :func:`render_point_frame`: the point robots' ``render()`` image, drawn with numpy alone.
- :func:`mujoco_gl_available`: whether headless MuJoCo rendering can work here.

MuJoCo environments render through gymnasium (``make_env(name, render_mode="rgb_array")``).
Without a display, choose an off-screen OpenGL backend *before* importing mujoco, e.g.
``MUJOCO_GL=egl`` (needs ``libegl1``; works with or without a GPU through Mesa) or
``MUJOCO_GL=osmesa`` (needs ``libosmesa6``, software, slow but works everywhere).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np


def _goals_of(env_or_goal: Any) -> tuple[np.ndarray, np.ndarray | None, float | None]:
    """(all goals (k, 2), current goal (2,) or None, sparse radius or None)."""
    if hasattr(env_or_goal, "tasks"):
        env = getattr(env_or_goal, "unwrapped", env_or_goal)
        goals = np.stack([np.asarray(t["goal"], dtype=float) for t in env.tasks])
        current = np.asarray(env.task["goal"], dtype=float)
        radius = env.goal_radius if getattr(env, "sparse", False) else None
        return goals, current, radius
    goal = np.asarray(env_or_goal, dtype=float)
    if goal.ndim == 1:
        return goal[None], goal, None
    return goal, None, None


def plot_point_task(
    ax: Any,
    env_or_goal: Any,
    trajectory: np.ndarray | None = None,
    *,
    goal_radius: float | None = None,
    show_all_goals: bool = True,
    task_idx: list[int] | None = None,
    color: str = "C0",
    label: str | None = None,
) -> Any:
    """Draw a point-robot task on a matplotlib ``ax``.

    Args:
        ax: a matplotlib Axes.
        env_or_goal: a point-robot env (its goals, current goal and, for the sparse robot, the
            goal radius are drawn), or a goal ``(2,)``, or goals ``(k, 2)``.
        trajectory: positions ``(T, 2)`` (e.g. the observations of an episode), drawn as a line
            with a marker at the start.
        goal_radius: draw this radius around the current goal (default: the sparse robot's 0.2).
        show_all_goals: also draw the other tasks' goals, small and grey.
        task_idx: with an env, draw only these tasks' goals (e.g. ``env.test_task_idx``).
        color, label: style of the trajectory.

    Returns:
        ``ax``.
    """
    import matplotlib.patches as mpatches

    goals, current, radius = _goals_of(env_or_goal)
    if goal_radius is not None:
        radius = goal_radius
    if task_idx is not None:
        goals = goals[np.asarray(task_idx)]
    if show_all_goals:
        ax.scatter(goals[:, 0], goals[:, 1], s=12, c="0.6", zorder=1, label="goals")
    if current is not None:
        ax.scatter([current[0]], [current[1]], marker="*", s=200, c="C3", zorder=3, label="goal")
        if radius is not None:
            ax.add_patch(mpatches.Circle(current, radius, color="C3", alpha=0.2, zorder=2, lw=0))
    if trajectory is not None:
        traj = np.asarray(trajectory, dtype=float).reshape(-1, 2)
        ax.plot(traj[:, 0], traj[:, 1], "-o", ms=3, color=color, zorder=4, label=label)
        ax.scatter([traj[0, 0]], [traj[0, 1]], marker="s", s=40, c=color, zorder=5)
    ax.set_aspect("equal")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    return ax


def render_point_frame(
    state: np.ndarray,
    goal: np.ndarray,
    goal_radius: float | None = None,
    size: int = 128,
    extent: float = 1.6,
) -> np.ndarray:
    """A ``(size, size, 3)`` uint8 image of the plane ``[-extent, extent]^2``.

    White background, grey axes, the goal as a red disc (its sparse radius in light red when
    given), the robot as a blue dot. Pure numpy, so it renders anywhere.
    """
    img = np.full((size, size, 3), 255, dtype=np.uint8)
    coords = np.linspace(-extent, extent, size)
    xx, yy = np.meshgrid(coords, coords[::-1])  # row 0 is the top (largest y)
    pix = 2 * extent / size
    img[np.abs(xx) < pix / 2] = (200, 200, 200)
    img[np.abs(yy) < pix / 2] = (200, 200, 200)

    def disc(center: np.ndarray, r: float, rgb: tuple[int, int, int]) -> None:
        c = np.asarray(center, dtype=float)
        img[(xx - c[0]) ** 2 + (yy - c[1]) ** 2 <= r * r] = rgb

    if goal_radius is not None:
        disc(goal, goal_radius, (255, 200, 200))
    disc(goal, 0.05, (220, 30, 30))
    disc(state, 0.05, (30, 60, 220))
    return img


def mujoco_gl_available() -> bool:
    """True if MuJoCo can render off-screen here (tries a tiny model with the current backend)."""
    try:
        import mujoco

        model = mujoco.MjModel.from_xml_string("<mujoco><worldbody/></mujoco>")
        with mujoco.Renderer(model, 8, 8) as renderer:
            renderer.update_scene(mujoco.MjData(model))
            renderer.render()
        return True
    except Exception:  # any backend failure means "not available"
        return False


def default_mujoco_gl() -> str | None:
    """The ``MUJOCO_GL`` backend in effect (``None`` when mujoco picks its default, glfw)."""
    return os.environ.get("MUJOCO_GL")
