"""Pictures of PEARL at work: training curves, adaptation curves, exploration trajectories.

Introduced in notebook 4 (``notebooks/04_pearl.py``); notebook 6 reuses the trajectory plots.

- :class:`LiveTrainingPlot` / :func:`plot_training`: train and test return, KL and posterior
  variance over meta-training, from ``MetaTrainer`` log rows or a ``progress.csv``.
- :func:`plot_adaptation`: return of each successive meta-test trajectory (Algorithm 2), mean
  and spread over test tasks, with the prior trajectories shaded.
- :func:`success_within`, :func:`plot_success`: sparse tasks: success of the k-th trajectory,
  and the fraction of tasks whose goal was found within the first k trajectories.
- :func:`trajectories_of`, :func:`plot_exploration`: the positions visited in each meta-test
  trajectory of one task, coloured by exploration episode, on the point robot's plane (with
  :func:`exploration_legend_handles` for its legend); :func:`seed_colors` for several seeds.
- :func:`snapshot_curve`, :func:`first_reaching`: a run's meta-tested snapshots
  (``snapshots.json``) as arrays, and when its success first reaches a threshold (and whether
  it stays there): the multi-seed and speed plots, and ``scripts/seed_table.py``.
- :func:`load_ablation_results`, :func:`plot_ablations`: the runs written by
  ``scripts/run_ablations.py``.
- :func:`source_markdown`: a library function's source as a Markdown code block, so a
  notebook can show the code that implements an algorithm next to its pseudo-code.

Shapes: ``returns`` and ``success`` are ``(n_tasks, n_trajs)``; trajectories are
``(n_trajs, T, 2)`` positions. Bad shapes raise ``ValueError``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pearl_lite.course.plotting import COLORS, plot_mean_std
from pearl_lite.runtime.evaluate import read_snapshots
from pearl_lite.utils import read_csv

#: Columns of a training log that :func:`plot_training` draws.
TRAINING_COLUMNS = ("iteration", "env_steps", "train_return", "test_return", "kl", "z_var")


# ---------------------------------------------------------------------------------------------
# Training curves
# ---------------------------------------------------------------------------------------------


def training_curves(log: Sequence[Mapping[str, Any]] | Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Columns of a training log as float arrays (NaN where a row has no value).

    Args:
        log: ``MetaTrainer`` log rows (a list of dicts; blank test cells are ``""``) or the
            dict of arrays that :func:`pearl_lite.utils.read_csv` returns for a
            ``progress.csv``.

    Returns:
        ``{column: (n_rows,) float array}``; must contain :data:`TRAINING_COLUMNS`.

    Raises:
        ValueError: a column is missing or the columns differ in length.
    """
    if isinstance(log, Mapping):
        cols = {k: np.asarray(v, dtype=float) for k, v in log.items()}
    else:
        rows = list(log)
        keys = list(rows[0]) if rows else list(TRAINING_COLUMNS)
        cols = {k: np.array([_num(r.get(k, "")) for r in rows], dtype=float) for k in keys}
    missing = [k for k in TRAINING_COLUMNS if k not in cols]
    if missing:
        raise ValueError(f"training log lacks columns {missing}")
    lengths = {len(v) for v in cols.values()}
    if len(lengths) > 1:
        raise ValueError(f"training log columns differ in length: {sorted(lengths)}")
    return cols


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def plot_training(log: Sequence[Mapping[str, Any]] | Mapping[str, Any], fig: Any = None,
                  title: str | None = None, x: str = "env_steps") -> Any:
    """Four panels of a meta-training run: returns, success (or test return of the first
    trajectory), KL and posterior variance.

    Args:
        log: as :func:`training_curves` takes.
        fig: a figure to draw into (cleared first); a new one by default.
        title: the figure's title.
        x: the column on the x axis, ``"env_steps"`` or ``"iteration"``.

    Returns:
        the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    c = training_curves(log)
    if x not in c:
        raise ValueError(f"unknown x column {x!r}")
    if fig is None:
        fig = plt.figure(figsize=(12, 3.2))
    fig.clf()
    axes = fig.subplots(1, 4)
    xs = c[x] / 1000 if x == "env_steps" else c[x]
    xlabel = "environment steps (thousands)" if x == "env_steps" else "iteration"
    t = ~np.isnan(c["test_return"])  # test rows: every eval_every iterations

    ax = axes[0]
    ax.plot(xs, c["train_return"], color=COLORS["prior"], lw=1, label="train (collection)")
    ax.plot(xs[t], c["test_return"][t], "-o", ms=3, color=COLORS["pearl"],
            label="meta-test (last traj.)")
    ax.set_title("return")
    ax.legend(fontsize=8)

    ax = axes[1]
    if "test_success" in c and (~np.isnan(c["test_success"])).any():
        s = ~np.isnan(c["test_success"])
        ax.plot(xs[s], c["test_success"][s], "-o", ms=3, color=COLORS["pearl"], label="last")
        if "test_success_first" in c:
            ax.plot(xs[s], c["test_success_first"][s], "-o", ms=3, color=COLORS["prior"],
                    label="first")
        ax.set_ylim(-0.05, 1.05)
        ax.set_title("meta-test success rate")
    else:
        ax.plot(xs[t], c["test_return"][t], "-o", ms=3, color=COLORS["pearl"], label="last")
        if "test_return_first" in c:
            ax.plot(xs[t], c["test_return_first"][t], "-o", ms=3, color=COLORS["prior"],
                    label="first")
        ax.set_title("meta-test return by trajectory")
    ax.legend(fontsize=8)

    axes[2].plot(xs, c["kl"], color=COLORS["accent"])
    axes[2].set_title("KL(q(z|c) || N(0, I)) per task")
    axes[3].plot(xs, c["z_var"], color=COLORS["posterior"])
    axes[3].set_yscale("log")
    axes[3].set_title("posterior variance (mean)")
    for ax in axes:
        ax.set_xlabel(xlabel)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


class LiveTrainingPlot:
    """A :func:`plot_training` figure redrawn while ``MetaTrainer.iterations()`` runs.

    >>> live = LiveTrainingPlot(every=5)              # doctest: +SKIP
    >>> for row in trainer.iterations():              # doctest: +SKIP
    ...     live.update(row)
    >>> live.finish()                                 # doctest: +SKIP

    In a notebook each redraw replaces the previous output (IPython's ``clear_output``), so
    the cell shows one figure that grows. With ``live=False`` (smoke mode, scripts) nothing is
    drawn until :meth:`finish`.
    """

    def __init__(self, every: int = 5, live: bool = True, title: str | None = None,
                 x: str = "env_steps") -> None:
        if every <= 0:
            raise ValueError(f"every must be positive, got {every}")
        self.every, self.live, self.title, self.x = every, live, title, x
        self.rows: list[dict[str, Any]] = []
        self.fig: Any = None

    def update(self, row: Mapping[str, Any]) -> None:
        """Record one log row; redraw every ``every`` rows (and on test rows)."""
        self.rows.append(dict(row))
        if self.live and len(self.rows) % self.every == 0:
            self._draw()

    def _draw(self) -> None:
        import matplotlib.pyplot as plt
        from IPython.display import clear_output, display

        if self.fig is None:
            self.fig = plt.figure(figsize=(12, 3.2))
        plot_training(self.rows, fig=self.fig, title=self._title(), x=self.x)
        clear_output(wait=True)
        display(self.fig)

    def _title(self) -> str:
        last = self.rows[-1]
        return (f"{self.title + ': ' if self.title else ''}iteration {last['iteration']}, "
                f"{last['env_steps']:,} env steps, {last.get('wall_clock', 0):.0f} s")

    def finish(self) -> Any:
        """Draw the final figure once (and close it, so the notebook shows it once)."""
        import matplotlib.pyplot as plt
        from IPython.display import clear_output, display

        if not self.rows:
            raise ValueError("no rows were recorded")
        if self.fig is None:
            self.fig = plt.figure(figsize=(12, 3.2))
        plot_training(self.rows, fig=self.fig, title=self._title(), x=self.x)
        if self.live:
            clear_output(wait=True)
        display(self.fig)
        plt.close(self.fig)
        return self.fig


# ---------------------------------------------------------------------------------------------
# Meta-test: adaptation and success
# ---------------------------------------------------------------------------------------------


def _integer_ticks(ax: Any) -> None:
    """Whole-number ticks on the x axis (trajectory indices)."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _as_task_by_traj(a: Any, name: str) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    if a.ndim != 2 or a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"{name} must have shape (n_tasks, n_trajs), got {a.shape}")
    return a


def plot_adaptation(ax: Any, returns: Any, n_prior: int = 0, label: str | None = None,
                    color: str | None = None, optimum: Any = None,
                    optimum_label: str = "optimum (straight to the goal)") -> Any:
    """The adaptation curve: return of the k-th meta-test trajectory, mean +- std over tasks.

    Args:
        ax: a matplotlib Axes.
        returns: ``(n_tasks, n_trajs)`` (``MetaTestResult.returns``).
        n_prior: trajectories collected with z from the prior (shaded grey).
        label, color: the line's style.
        optimum: optionally the best achievable return, ``(n_tasks, n_trajs)`` per task and
            trajectory (e.g. ``pearl_measures.optimal_returns`` from each trajectory's start)
            or ``(n_tasks,)``; its mean over tasks is drawn as a dashed black line.
        optimum_label: the legend entry of that line.

    Returns:
        ``ax``.
    """
    r = _as_task_by_traj(returns, "returns")
    if not 0 <= n_prior <= r.shape[1]:
        raise ValueError(f"n_prior must lie in 0..{r.shape[1]}, got {n_prior}")
    k = np.arange(1, r.shape[1] + 1)
    plot_mean_std(ax, k, r, label=label, color=color or COLORS["pearl"])
    if optimum is not None:
        opt = np.asarray(optimum, dtype=float)
        if opt.ndim == 1 and opt.shape[0] == r.shape[0]:
            opt = np.repeat(opt[:, None], r.shape[1], axis=1)
        if opt.shape != r.shape:
            raise ValueError(f"optimum must have shape {r.shape} or ({r.shape[0]},), "
                             f"got {opt.shape}")
        ax.plot(k, opt.mean(0), "--", color="k", lw=1.2, label=optimum_label)
        ax.legend(fontsize=8, loc="lower right")
    if n_prior:
        ax.axvspan(0.5, n_prior + 0.5, color=COLORS["prior"], alpha=0.15, lw=0)
        ax.text(0.6, 0.97, "z ~ prior", transform=ax.get_xaxis_transform(), va="top",
                fontsize=8, color="0.35")
    _integer_ticks(ax)
    ax.set_xlabel("meta-test trajectory k")
    ax.set_ylabel("return of trajectory k")
    return ax


def success_within(reached: Any) -> np.ndarray:
    """Fraction of tasks whose goal was reached in at least one of the first k trajectories.

    Args:
        reached: ``(n_tasks, n_trajs)``, 1 where trajectory k of a task entered the goal
            region (e.g. ``np.stack([p.reached for p in result.paths], 1)``), or
            ``(n_runs, n_tasks, n_trajs)`` for several meta-test runs
            (``MetaTestResult.success_runs``): then the fraction over runs and tasks.

    Returns:
        ``(n_trajs,)``, non-decreasing in k.
    """
    r = np.asarray(reached, dtype=float)
    if r.ndim == 3:
        if 0 in r.shape:
            raise ValueError(f"reached must not be empty, got {r.shape}")
        return np.logical_or.accumulate(r > 0, axis=2).mean(axis=(0, 1))
    r = _as_task_by_traj(reached, "reached") > 0
    return np.logical_or.accumulate(r, axis=1).mean(0)


def plot_success(ax: Any, success: Any, reached: Any | None = None, n_prior: int = 0) -> Any:
    """Sparse tasks: success rate of the k-th trajectory (and goal found within k).

    Args:
        ax: a matplotlib Axes.
        success: ``(n_tasks, n_trajs)`` success of trajectory k, possibly averaged over runs
            (``MetaTestResult.success``).
        reached: optionally ``(n_tasks, n_trajs)`` 0/1 of one run, or
            ``(n_runs, n_tasks, n_trajs)`` of several, for :func:`success_within`.
        n_prior: trajectories with z from the prior (shaded).

    Returns:
        ``ax``.
    """
    s = _as_task_by_traj(success, "success")
    k = np.arange(1, s.shape[1] + 1)
    ax.plot(k, s.mean(0), "-o", ms=3, color=COLORS["pearl"], label="trajectory k succeeds")
    if reached is not None:
        r = np.asarray(reached, dtype=float)
        r = r if r.ndim == 3 else _as_task_by_traj(r, "reached")
        if r.shape[-2:] != s.shape:
            raise ValueError(f"reached {r.shape} and success {s.shape} must match")
        runs = f", {r.shape[0]} runs" if r.ndim == 3 else ""
        ax.plot(k, success_within(r), "--", color=COLORS["posterior"],
                label=f"goal found within k trajectories{runs}")
    if n_prior:
        ax.axvspan(0.5, n_prior + 0.5, color=COLORS["prior"], alpha=0.15, lw=0)
    ax.set_ylim(-0.05, 1.05)
    _integer_ticks(ax)
    ax.set_xlabel("meta-test trajectory k")
    ax.set_ylabel("fraction of test tasks")
    ax.legend(fontsize=8)
    return ax


# ---------------------------------------------------------------------------------------------
# Exploration trajectories on the plane
# ---------------------------------------------------------------------------------------------


def trajectories_of(paths: Sequence[Any], row: int) -> np.ndarray:
    """Positions of task ``row`` in each meta-test trajectory, ``(n_trajs, T + 1, 2)``.

    Args:
        paths: ``MetaTestResult.paths``, one ``Paths`` per trajectory index.
        row: which task of the meta-test (a row of ``result.task_indices``).

    The start state is followed by the T next-observations; steps after an early end repeat
    the last valid position (the point robots never end early).
    """
    if len(paths) == 0:
        raise ValueError("paths is empty")
    out = []
    for p in paths:
        obs, nxt, valid = np.asarray(p.obs), np.asarray(p.next_obs), np.asarray(p.valid)
        if obs.ndim != 3 or obs.shape[-1] != 2:
            raise ValueError(f"point-robot observations must be (n, T, 2), got {obs.shape}")
        if not 0 <= row < obs.shape[0]:
            raise ValueError(f"row {row} out of range for {obs.shape[0]} tasks")
        pos = np.concatenate([obs[row, :1], nxt[row]], axis=0)
        n_valid = int(valid[row].sum())
        pos[n_valid + 1:] = pos[n_valid]
        out.append(pos)
    return np.stack(out)


def plot_exploration(ax: Any, trajectories: Any, goal: Any, goal_radius: float | None = None,
                     all_goals: Any = None, n_prior: int = 0, cmap: str = "viridis",
                     colorbar: bool = True, legend: bool = False) -> Any:
    """Trajectories of one task coloured by exploration episode (dark: first, light: last).

    Args:
        ax: a matplotlib Axes.
        trajectories: ``(n_trajs, T, 2)`` positions (:func:`trajectories_of`).
        goal: ``(2,)`` the task's goal.
        goal_radius: the sparse goal radius, drawn around the goal.
        all_goals: ``(k, 2)`` other goals to draw in grey (e.g. the semicircle).
        n_prior: the first ``n_prior`` trajectories (z from the prior) are drawn dashed.
        cmap: colormap over the trajectory index.
        colorbar: add a colour bar labelled with the trajectory index.
        legend: add a legend of the markers and line styles: start (black square), end of a
            trajectory (dot), goal (star), other goals, z from the prior (dashed) or the
            posterior (solid). One panel of a row is enough.

    Returns:
        ``ax``.
    """
    import matplotlib.pyplot as plt

    from pearl_lite.envs.rendering import plot_point_task

    tr = np.asarray(trajectories, dtype=float)
    if tr.ndim != 3 or tr.shape[-1] != 2 or tr.shape[0] == 0:
        raise ValueError(f"trajectories must have shape (n_trajs, T, 2), got {tr.shape}")
    goal = np.asarray(goal, dtype=float)
    if goal.shape != (2,):
        raise ValueError(f"goal must have shape (2,), got {goal.shape}")
    if all_goals is not None:
        g = np.asarray(all_goals, dtype=float).reshape(-1, 2)
        ax.scatter(g[:, 0], g[:, 1], s=10, c="0.7", zorder=1)
    # The goal as a star, with the sparse reward's radius as a light disc around it.
    plot_point_task(ax, goal, goal_radius=goal_radius, show_all_goals=False)
    colors = plt.get_cmap(cmap)(np.linspace(0.0, 0.9, len(tr)))
    for k, (pos, col) in enumerate(zip(tr, colors, strict=True)):
        ax.plot(pos[:, 0], pos[:, 1], "--" if k < n_prior else "-", color=col, lw=1.2,
                alpha=0.9, zorder=3)
        ax.scatter(pos[-1:, 0], pos[-1:, 1], s=12, color=col, zorder=4)
    ax.scatter(tr[:, 0, 0], tr[:, 0, 1], marker="s", s=30, c="k", zorder=5)
    if legend:
        ax.legend(handles=exploration_legend_handles(
            n_prior=n_prior, n_posterior=len(tr) - n_prior, all_goals=all_goals is not None,
            goal_radius=goal_radius, color=colors[len(colors) // 2]),
            fontsize=7, loc="best", framealpha=0.8, frameon=True)
    if colorbar:
        sm = plt.cm.ScalarMappable(cmap=plt.get_cmap(cmap),
                                   norm=plt.Normalize(1, max(len(tr), 2)))
        from matplotlib.ticker import MaxNLocator

        cbar = ax.figure.colorbar(sm, ax=ax, fraction=0.046, pad=0.04, label="trajectory k")
        cbar.locator = MaxNLocator(integer=True)  # trajectory indices are whole numbers
        cbar.update_ticks()
    ax.set_aspect("equal")
    return ax


def exploration_legend_handles(n_prior: int = 0, n_posterior: int = 1, all_goals: bool = True,
                               goal_radius: float | None = None, color: Any = "0.3") -> list:
    """Legend entries for :func:`plot_exploration`'s markers and line styles.

    Args:
        n_prior, n_posterior: how many trajectories of each kind are drawn (kinds with none
            get no entry).
        all_goals: include the grey dots of the other goals.
        goal_radius: include the sparse goal region.
        color: the colour of the sample line and end marker.

    Returns:
        a list of matplotlib artists with labels, for ``ax.legend(handles=...)``.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    h = [Line2D([], [], marker="s", ls="", color="k", ms=5, label="start"),
         Line2D([], [], marker="o", ls="", color=color, ms=4, label="end of a trajectory"),
         Line2D([], [], marker="*", ls="", color="C3", ms=10, label="goal")]
    if goal_radius is not None:
        h.append(Patch(color="C3", alpha=0.2, label=f"goal region (radius {goal_radius:g})"))
    if all_goals:
        h.append(Line2D([], [], marker="o", ls="", color="0.7", ms=3, label="other goals"))
    if n_prior > 0:
        h.append(Line2D([], [], ls="--", color=color, label="z from the prior"))
    if n_posterior > 0:
        h.append(Line2D([], [], ls="-", color=color, label="z from the posterior"))
    return h


#: Colours for several seeds in one plot: the Okabe-Ito palette without its grey (which the
#: course uses for the prior and for faded reference curves), then a brown and a purple.
SEED_COLORS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
               "#000000", "#8C564B", "#7B3294")


def seed_colors(n: int) -> list[str]:
    """``n`` distinct colours for ``n`` seeds (none of them grey); more than 10 repeat."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    return [SEED_COLORS[i % len(SEED_COLORS)] for i in range(n)]


# ---------------------------------------------------------------------------------------------
# Ablations (scripts/run_ablations.py)
# ---------------------------------------------------------------------------------------------


_RUN_FILE = re.compile(r"^(?P<variant>.+)_seed(?P<seed>\d+)\.csv$")


#: A run folder's ``snapshots.json`` as arrays sorted by iteration (``seed``, ``iteration``,
#: ``env_steps``, ``minutes``, ``final_return``, ``success``; see
#: :func:`pearl_lite.runtime.evaluate.read_snapshots`, which notebook 5 shares).
snapshot_curve = read_snapshots


def at_least(success: Any, threshold: float) -> np.ndarray:
    """``success >= threshold`` elementwise, allowing for rounding; NaN counts as below.

    A success is a mean of 0/1 outcomes, and 80 of 100 can sum to 0.7999999999999999: that
    still reaches 0.8.
    """
    return np.asarray(success, dtype=float) >= threshold - 1e-9


def first_reaching(curve: Mapping[str, Any], threshold: float = 0.8) -> dict[str, Any] | None:
    """When a :func:`snapshot_curve`'s success first reaches ``threshold``; ``None`` if never.

    Returns ``index``, ``iteration``, ``env_steps``, ``minutes`` of that snapshot, ``stays``
    (every later snapshot is at least ``threshold`` too) and ``min_after`` (the lowest success
    from that snapshot on). A snapshot's success is a mean over a few meta-test runs, so
    ``stays`` is a strict test: one noisy dip below the line breaks it.

    ``settled`` is the other half of "reaches and stays": the snapshot from which on *every*
    snapshot is at least ``threshold`` (a dict with ``index``, ``iteration``, ``env_steps`` and
    ``minutes``), or ``None`` when the last snapshot is below it. It equals the first snapshot
    exactly when ``stays``.
    """
    success = np.asarray(curve["success"], dtype=float)
    ok = at_least(success, threshold)
    above = np.flatnonzero(ok)
    if not above.size:
        return None
    i = int(above[0])
    below = np.flatnonzero(~ok)
    j = int(below[-1]) + 1 if below.size else 0
    settled = None if j >= len(success) else {
        "index": j, "iteration": int(curve["iteration"][j]),
        "env_steps": int(curve["env_steps"][j]), "minutes": float(curve["minutes"][j])}
    return {"index": i, "iteration": int(curve["iteration"][i]),
            "env_steps": int(curve["env_steps"][i]), "minutes": float(curve["minutes"][i]),
            "stays": bool(ok[i:].all()),
            "min_after": float(success[i:].min()), "settled": settled}


def reaching_summary(firsts: Sequence[Mapping[str, Any] | None], threshold: float = 0.8,
                     noun: str = "seeds", settles: bool = False) -> str:
    """One line over several runs' :func:`first_reaching` results (``None`` for never).

    How many reach ``threshold``, the median and worst minutes to the first such snapshot (over
    those that reach it) and how many stay there; with ``settles=True`` also how many settle
    (every snapshot from some point to the end at or above it) and the median and worst minute
    they do. Notebook 4's multi-seed plots and ``scripts/seed_table.py`` print it.
    """
    reached = [f["minutes"] for f in firsts if f is not None]
    line = f"{len(reached)} of {len(firsts)} {noun} reach {threshold:g}"
    if reached:
        line += (f" (minutes to the first such snapshot: median {np.median(reached):.1f}, "
                 f"worst {max(reached):.1f})")
    line += f", {sum(bool(f['stays']) for f in firsts if f)} stay at or above it"
    if settles:
        settled = [f["settled"]["minutes"] for f in firsts if f and f.get("settled")]
        line += f"; {len(settled)} settle (at or above it from some snapshot to the end"
        line += (f": median {np.median(settled):.1f} min, worst {max(settled):.1f})"
                 if settled else ")")
    return line


def load_ablation_results(folder: str | Path) -> dict[str, dict[str, Any]]:
    """Read a folder written by ``scripts/run_ablations.py``.

    Returns:
        ``{variant: {"seeds": [s, ...], "logs": [training_curves, ...],
        "final": [final JSON dict or None, ...]}}``, seeds in increasing order.

    Raises:
        FileNotFoundError: the folder holds no ``<variant>_seed<k>.csv``.
    """
    folder = Path(folder)
    found: dict[str, dict[int, Path]] = {}
    for p in sorted(folder.glob("*_seed*.csv")):
        m = _RUN_FILE.match(p.name)
        if m:
            found.setdefault(m["variant"], {})[int(m["seed"])] = p
    if not found:
        raise FileNotFoundError(f"no <variant>_seed<k>.csv runs in {folder}")
    out: dict[str, dict[str, Any]] = {}
    for variant, runs in found.items():
        seeds = sorted(runs)
        finals = []
        for s in seeds:
            f = runs[s].with_name(f"{variant}_seed{s}_final.json")
            finals.append(json.loads(f.read_text()) if f.exists() else None)
        out[variant] = {"seeds": seeds, "logs": [training_curves(read_csv(runs[s]))
                                                  for s in seeds], "final": finals}
    return out


def _stack_equal(arrays: Iterable[np.ndarray]) -> np.ndarray:
    arrays = list(arrays)
    n = min(len(a) for a in arrays)  # runs cut short: keep the common part
    return np.stack([a[:n] for a in arrays])


def plot_ablations(axes: Sequence[Any], results: Mapping[str, Mapping[str, Any]],
                   colors: Mapping[str, str] | None = None) -> Sequence[Any]:
    """Two panels: meta-test return over training, and the final adaptation curves.

    Args:
        axes: two matplotlib Axes.
        results: :func:`load_ablation_results`' output.
        colors: colour per variant.

    Returns:
        ``axes``. Curves are mean +- std over seeds.
    """
    if len(axes) != 2:
        raise ValueError(f"need two axes, got {len(axes)}")
    colors = colors or {}
    palette = [COLORS["pearl"], COLORS["goal"], COLORS["posterior"], COLORS["accent"]]
    for i, (variant, res) in enumerate(results.items()):
        color = colors.get(variant, palette[i % len(palette)])
        n = len(res["seeds"])
        label = f"{variant} ({n} seed{'s' if n > 1 else ''})"
        logs = res["logs"]
        t = ~np.isnan(logs[0]["test_return"])
        x = logs[0]["env_steps"][t] / 1000
        ys = _stack_equal([lg["test_return"][~np.isnan(lg["test_return"])] for lg in logs])
        plot_mean_std(axes[0], x[: ys.shape[1]], ys, label=label, color=color)
        finals = [f for f in res["final"] if f is not None]
        if finals:
            curves = _stack_equal([np.asarray(f["return_per_trajectory"]) for f in finals])
            plot_mean_std(axes[1], np.arange(1, curves.shape[1] + 1), curves, label=label,
                          color=color)
    axes[0].set_xlabel("environment steps (thousands)")
    axes[0].set_ylabel("meta-test return (last trajectory)")
    axes[0].set_title("during meta-training")
    _integer_ticks(axes[1])
    axes[1].set_xlabel("meta-test trajectory k")
    axes[1].set_ylabel("return of trajectory k")
    axes[1].set_title("after meta-training: adaptation")
    for ax in axes:
        ax.legend(fontsize=8)
    return axes


# ---------------------------------------------------------------------------------------------
# Showing code next to pseudo-code
# ---------------------------------------------------------------------------------------------


__all__ = ["LiveTrainingPlot", "SEED_COLORS", "TRAINING_COLUMNS", "exploration_legend_handles",
           "load_ablation_results", "plot_ablations", "plot_adaptation", "plot_exploration",
           "plot_success", "plot_training", "seed_colors", "success_within", "trajectories_of",
           "training_curves"]
