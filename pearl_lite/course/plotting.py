"""The course's matplotlib style and small plotting helpers shared by the notebooks."""

from __future__ import annotations

from pathlib import Path

import matplotlib as mpl
import numpy as np

#: Colours used consistently across notebooks (colour-blind safe, from the Okabe-Ito palette).
COLORS = {
    "pearl": "#0072B2",
    "reference": "#E69F00",
    "prior": "#999999",
    "posterior": "#009E73",
    "goal": "#D55E00",
    "accent": "#CC79A7",
}


def use_course_style() -> None:
    """Apply the course's matplotlib defaults (readable sizes, light grid, no top/right spines)."""
    mpl.rcParams.update({
        "figure.figsize": (6.4, 4.0),
        "figure.dpi": 100,
        "savefig.dpi": 120,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 12,
        "axes.labelsize": 11,
        "legend.frameon": False,
        "font.size": 10,
        "axes.prop_cycle": mpl.cycler(color=list(COLORS.values())),
    })


def smooth(y: np.ndarray, window: int = 10) -> np.ndarray:
    """Moving average over ``window`` points (shorter at the start), same length as ``y``."""
    y = np.asarray(y, dtype=float)
    if window <= 1 or len(y) == 0:
        return y
    c = np.cumsum(np.insert(y, 0, 0.0))
    out = np.empty_like(y)
    for i in range(len(y)):
        lo = max(0, i + 1 - window)
        out[i] = (c[i + 1] - c[lo]) / (i + 1 - lo)
    return out


def plot_mean_std(ax, x: np.ndarray, ys: np.ndarray, label: str | None = None, color=None):
    """Plot the mean over the first axis of ``ys`` (runs, points) with a +-1 std band."""
    ys = np.atleast_2d(np.asarray(ys, dtype=float))
    mean, std = ys.mean(0), ys.std(0)
    (line,) = ax.plot(x, mean, label=label, color=color)
    ax.fill_between(x, mean - std, mean + std, alpha=0.2, color=line.get_color())
    return line


def save_figure(fig, path: str | Path) -> Path:
    """Save a figure (creating folders), for figures that data/README.md lists."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, bbox_inches="tight")
    return path
