"""Benchmark results against the floors and the reference numbers: notebook 5's figures and tables.

Reads run folders (the shipped ``data/`` or a suite's ``OUT/``) through
:func:`pearl_lite.runtime.benchmark.summarize`, which finds them and gives one summary row per
run; this module adds each run's curves from the run-folder files (``progress.csv``,
``snapshots.json``, ``adaptation.json``) and draws and aggregates them.

- :data:`REFERENCES`: the reference points of DESIGN.md (an independent reproduction with the
  paper's budget, the paper itself), each with the environment steps where it was measured.
- :func:`load_floors`: standing-still and random returns per family
  (``data/baseline_returns.json``, written by ``scripts/baseline_returns.py --json``).
- :func:`load_runs`, :func:`group_runs`, :func:`main_groups`: runs with their curves, grouped
  by (family, config): the seeds of one config.
- :func:`plot_family`, :func:`plot_adaptation_runs`: a family's meta-test score against
  environment steps and wall-clock minutes (seeds thin, their mean thick, floors, reference),
  and its prior-vs-posterior adaptation curve.
- :func:`normalised`, :func:`family_scores`, :func:`aggregate_iqm`, :func:`performance_profile`:
  scores normalised between the standing-still floor and the reference, aggregated with
  ``rliable`` (interquartile mean, stratified-bootstrap intervals, performance profile).
- :func:`benchmark_table`, :func:`table_markdown`: one row per (family, config) and one per
  family never trained.

The **score** of a run is the reported test metric of the paper: the return of the last
meta-test trajectory averaged over the test tasks, except on ``sparse-point-robot``, whose
reference is a statement about success ("adapts within about 5 trajectories"), so its score
is the success rate of the last trajectory (the fraction of test goals reached).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pearl_lite.config import ENV_NAMES, PEARLConfig, get_config
from pearl_lite.course.plotting import COLORS
from pearl_lite.runtime.benchmark import ADAPTATION_FILE, config_id, summarize
from pearl_lite.runtime.checkpoint import CONFIG_FILE, PROGRESS_FILE
from pearl_lite.runtime.evaluate import read_snapshots
from pearl_lite.utils import read_csv

FLOORS_FILE = "baseline_returns.json"


@dataclass(frozen=True)
class Reference:
    """A published or reproduced number to compare a family's score with.

    ``value`` is what normalisation uses; ``low``/``high`` the range where the source gives one;
    ``env_steps`` where it was measured (``env_steps_to``: the end of a range of steps; None:
    the source does not say); ``metric``: ``"return"`` or ``"success"``.
    """

    family: str
    value: float
    source: str
    env_steps: float | None = None
    env_steps_to: float | None = None
    low: float | None = None
    high: float | None = None
    metric: str = "return"
    note: str = ""


#: DESIGN.md's reference results (no exact values of the paper's Fig. 3 are public in text).
REFERENCES: dict[str, Reference] = {
    "cheetah-vel": Reference(
        "cheetah-vel", -43.0, "x35f/meta_rl", env_steps=0.4e6,
        env_steps_to=math.inf, low=-50.0, high=-36.0,
        note="about -36 to -50 from 0.4M steps on (-43, the middle, for normalising)"),
    "cheetah-dir": Reference("cheetah-dir", 1670.0, "x35f/meta_rl",
                             env_steps=1.4e6, note="about 1,670 at 1.4M steps"),
    "ant-dir": Reference("ant-dir", 1060.0, "x35f/meta_rl",
                         env_steps=2.0e6, note="about 1,060 at 2.0M steps"),
    "walker-rand-params": Reference(
        "walker-rand-params", 720.0, "x35f/meta_rl", env_steps=1.1e6,
        note="about 720 at 1.1M steps"),
    "ant-goal": Reference("ant-goal", -200.0, "paper, official repo issue #28",
                          note="about -200; environment steps not stated"),
    "sparse-point-robot": Reference(
        "sparse-point-robot", 1.0, "the paper", env_steps=1.0e6, metric="success",
        note="adapts within about 5 trajectories after about 1M steps (read as success 1)"),
}


#: DESIGN.md on the budget behind the references.
PAPER_BUDGET_NOTE = ("a full 500-iteration run of a MuJoCo preset takes on the order of a day per "
                     "seed on one desktop GPU in the official code")


def metric_of(family: str) -> str:
    """``"success"`` for the families scored by success (the sparse point robot), else
    ``"return"``."""
    ref = REFERENCES.get(family)
    return ref.metric if ref else "return"


# ---- floors -----------------------------------------------------------------------------------


def load_floors(path: str | Path) -> dict[str, dict[str, float]]:
    """``{family: {"zero": ..., "random": ...}}`` in the family's score metric (return, or
    success for the sparse point robot), from ``scripts/baseline_returns.py --json``'s file."""
    saved = json.loads(Path(path).read_text())
    floors = {}
    for family, entry in saved.items():
        key = metric_of(family)
        floors[family] = {p: float(entry[p]["success" if key == "success" else "return"])
                          for p in ("zero", "random")}
    return floors


# ---- runs -------------------------------------------------------------------------------------


@dataclass
class Run:
    """One run folder: its summary row (:data:`~pearl_lite.runtime.benchmark.SUMMARY_COLUMNS`)
    and its curves, each in the family's score metric.

    ``progress``: ``(env_steps, minutes, score)`` of every meta-test row of ``progress.csv``;
    ``snapshots``: the same for ``snapshots.json`` (empty without one); ``adaptation``: the
    score of each meta-test trajectory of the final agent (``adaptation.json``; empty without
    one) and ``n_prior`` of them with z from the prior; ``config``: the saved config.
    """

    row: dict[str, Any]
    path: Path
    config: dict[str, Any]
    progress: tuple[np.ndarray, np.ndarray, np.ndarray]
    snapshots: tuple[np.ndarray, np.ndarray, np.ndarray]
    adaptation: np.ndarray = field(default_factory=lambda: np.zeros(0))
    n_prior: int = 0
    grad_steps: int = 0

    @property
    def family(self) -> str:
        return self.row["family"]

    @property
    def score(self) -> float:
        """The final score: last trajectory's return (success for the sparse point robot)."""
        key = "final_success" if metric_of(self.family) == "success" else "final_return"
        return float(self.row[key])


def _json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def read_run(row: dict[str, Any], root: str | Path) -> Run:
    """The :class:`Run` of one summary row of :func:`summarize` (``row["run"]`` under ``root``)."""
    path = Path(root) / row["run"]
    success = metric_of(row["family"]) == "success"
    log = read_csv(path / PROGRESS_FILE)
    col = log.get("test_success" if success else "test_return", np.zeros(0))
    keep = np.isfinite(col)
    progress = (log.get("env_steps", np.zeros(len(col)))[keep],
                log.get("wall_clock", np.zeros(len(col)))[keep] / 60, col[keep])
    snaps = read_snapshots(path, missing_ok=True)  # empty arrays for a run without snapshots
    metric = snaps["success" if success else "final_return"]
    has = np.isfinite(metric)
    snapshots = (snaps["env_steps"][has], snaps["minutes"][has], metric[has])
    adapt = _json(path / ADAPTATION_FILE) or {}
    per_trajectory = adapt.get("success_per_trajectory" if success
                               else "return_per_trajectory") or []
    grads = log.get("grad_steps", np.zeros(0))
    return Run(row=row, path=path, config=_json(path / CONFIG_FILE) or {}, progress=progress,
               snapshots=snapshots, adaptation=np.asarray(per_trajectory, dtype=float),
               n_prior=int(adapt.get("num_exp_traj_eval", 0)),
               grad_steps=int(grads[-1]) if len(grads) and np.isfinite(grads[-1]) else 0)


def load_runs(folder: str | Path) -> list[Run]:
    """Every PEARL run folder under ``folder`` (``summarize(folder, write=False)``'s order)."""
    return [read_run(row, folder) for row in summarize(folder, write=False)]


def group_runs(runs: Sequence[Run]) -> dict[tuple[str, str, str], list[Run]]:
    """The runs by ``(family, preset, config_id)``: the seeds of one config together."""
    groups: dict[tuple[str, str, str], list[Run]] = {}
    for run in runs:
        key = (run.family, run.row["preset"], run.row["config_id"])
        groups.setdefault(key, []).append(run)
    return groups


def preset_config_id(family: str, preset: str) -> str:
    """The :func:`~pearl_lite.runtime.benchmark.config_id` of ``preset`` as it is today."""
    return config_id(get_config(family, preset))


def main_groups(runs: Sequence[Run], preset: str = "lite") -> dict[str, list[Run]]:
    """Per family, the seeds of today's ``preset`` config if there are any, else of the config
    with most runs (families without runs are left out), in suite order."""
    groups = group_runs(runs)
    out = {}
    for family in ENV_NAMES:
        mine = {k: v for k, v in groups.items() if k[0] == family}
        if not mine:
            continue
        key = (family, preset, preset_config_id(family, preset))
        out[family] = mine.get(key) or max(mine.values(), key=len)
    return out


def family_groups(runs: Sequence[Run], family: str, preset: str = "lite"
                  ) -> dict[str, list[Run]]:
    """``{label: runs}`` of one family for :func:`plot_family`: the main config of
    :func:`main_groups` first (labelled ``"<preset> preset"`` when it is today's preset), then
    the others, by :func:`config_label`."""
    main = main_groups(runs, preset).get(family)
    if not main:
        return {}
    label = config_label(main[0])
    out = {f"{preset} preset" if label == "preset" else label: main}
    for key, group in group_runs(runs).items():
        if key[0] == family and key[2] != main[0].row["config_id"]:
            out[config_label(group[0])] = group
    return out


def config_label(run: Run) -> str:
    """How the run's config differs from its preset today, e.g. ``"num_iterations=100"``, or
    ``"preset"``; ``"config"`` for a family or preset that no longer exists."""
    try:
        now = get_config(run.family, run.row["preset"]).to_dict()
    except ValueError:
        return "config"
    # A field that an older saved config lacks had its default then.
    defaults = {f.name: f.default for f in dataclasses.fields(PEARLConfig)}
    saved = {k: run.config.get(k, defaults.get(k)) for k in now}
    diff = [f"{k}={saved[k]}" for k in sorted(now)
            if k not in ("seed", "cuda_graphs") and saved[k] != now[k]]
    return ", ".join(diff) if diff else "preset"


# ---- one family: curves and adaptation ---------------------------------------------------------


def mean_curve(curves: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """The mean of several ``(x, y)`` curves on the x of the first, over the range all cover
    (linear interpolation); a single curve unchanged."""
    curves = [(np.asarray(x, float), np.asarray(y, float)) for x, y in curves if len(x)]
    if not curves:
        return np.zeros(0), np.zeros(0)
    if len(curves) == 1:
        return curves[0]
    lo, hi = max(x[0] for x, _ in curves), min(x[-1] for x, _ in curves)
    grid = curves[0][0][(curves[0][0] >= lo) & (curves[0][0] <= hi)]
    return grid, np.mean([np.interp(grid, x, y) for x, y in curves], axis=0)


def plot_family(axes: Sequence[Any], family: str, groups: Mapping[str, Sequence[Run]],
                floors: Mapping[str, float] | None = None,
                reference: Reference | None = None) -> Sequence[Any]:
    """A family's meta-test score against environment steps (``axes[0]``) and wall-clock
    minutes (``axes[1]``).

    Args:
        axes: two matplotlib Axes.
        family: the task family (for titles and the metric).
        groups: ``{label: runs}``, one config each; the first is drawn in PEARL's colour with
            every seed as a thin line, the mean of the seeds thick and the snapshot meta-tests
            as dots; the others (variants) as a dashed mean of their seeds.
        floors: ``{"zero": ..., "random": ...}``: horizontal lines.
        reference: drawn at the environment steps where it was measured (a band over a range
            of steps; at the right edge if the steps are unknown); on the minutes axis as a
            horizontal line only, since its wall-clock time is not comparable.

    Returns:
        ``axes``.
    """
    colors = [COLORS["pearl"], COLORS["accent"], COLORS["goal"], "0.4"]
    for i, (label, runs) in enumerate(groups.items()):
        color = colors[i % len(colors)]
        for ax, xi in ((axes[0], 0), (axes[1], 1)):
            curves = [(r.progress[xi], r.progress[2]) for r in runs]
            if i == 0:
                for x, y in curves:
                    ax.plot(x, y, color=color, lw=0.7, alpha=0.45)
                for r in runs:
                    if len(r.snapshots[2]):
                        ax.plot(r.snapshots[xi], r.snapshots[2], "o", ms=3, color=color)
            x, y = mean_curve(curves)
            n = len(runs)
            ax.plot(x, y, color=color, lw=2.2 if i == 0 else 1.4, ls="-" if i == 0 else "--",
                    label=f"{label} ({n} seed{'s' if n > 1 else ''})")
    for ax in axes:
        for key, ls, name in (("zero", "--", "standing still"), ("random", ":", "random")):
            if floors and key in floors:
                ax.axhline(floors[key], color="0.3", ls=ls, lw=1, label=name)
    if reference is not None:
        ax = axes[0]
        right = max([ax.get_xlim()[1]] + [reference.env_steps or 0.0]) * 1.02
        if reference.low is not None and reference.env_steps is not None:
            ax.fill_between([reference.env_steps, right], reference.low, reference.high,
                            color=COLORS["reference"], alpha=0.3, lw=0,
                            label=f"reference ({reference.source})")
        else:
            x = reference.env_steps if reference.env_steps is not None else right
            ax.plot([x], [reference.value], marker="*", ms=13, color=COLORS["reference"],
                    ls="none", label=f"reference ({reference.source})")
        if reference.metric == "success" and reference.env_steps is not None:
            ax.axvline(reference.env_steps, color=COLORS["reference"], lw=1, ls="-.")
        axes[1].axhline(reference.value, color=COLORS["reference"], lw=1.2,
                        label="reference (its own budget)")
    ylabel = ("success of the last trajectory" if metric_of(family) == "success"
              else "return of the last trajectory")
    axes[0].set_xlabel("environment steps")
    axes[1].set_xlabel("wall-clock minutes (training)")
    for ax in axes:
        ax.set_ylabel(ylabel)
        ax.set_title(family, fontsize=11)
    return axes


def plot_adaptation_runs(ax: Any, family: str, runs: Sequence[Run],
                         floors: Mapping[str, float] | None = None) -> Any:
    """The final agents' score of each meta-test trajectory: the prior trajectories shaded,
    every seed thin, their mean thick (runs without ``adaptation.json`` are skipped)."""
    curves = [r.adaptation for r in runs if len(r.adaptation)]
    if not curves:
        ax.text(0.5, 0.5, "no adaptation.json", ha="center", transform=ax.transAxes)
        return ax
    n = min(len(c) for c in curves)
    k = np.arange(1, n + 1)
    for c in curves:
        ax.plot(k, c[:n], color=COLORS["pearl"], lw=0.7, alpha=0.45, marker=".")
    ax.plot(k, np.mean([c[:n] for c in curves], 0), color=COLORS["pearl"], lw=2.2, marker="o",
            ms=4, label=f"mean of {len(curves)} seed{'s' if len(curves) > 1 else ''}")
    n_prior = runs[0].n_prior
    if n_prior:
        ax.axvspan(0.5, n_prior + 0.5, color=COLORS["prior"], alpha=0.2, lw=0)
        ax.text(0.6, 0.97, "z ~ prior", transform=ax.get_xaxis_transform(), va="top",
                fontsize=8, color="0.35")
    if floors and "zero" in floors:
        ax.axhline(floors["zero"], color="0.3", ls="--", lw=1, label="standing still")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("meta-test trajectory k")
    ax.set_ylabel("success" if metric_of(family) == "success" else "return")
    ax.set_title(f"{family}: adaptation", fontsize=11)
    return ax


# ---- across families: normalised scores and rliable -------------------------------------------


def normalised(score: float, floor: float, reference: float) -> float:
    """``(score - floor) / (reference - floor)``: 0 at standing still, 1 at the reference."""
    if reference == floor:
        raise ValueError("reference equals the floor: nothing to normalise by")
    return (score - floor) / (reference - floor)


def family_scores(groups: Mapping[str, Sequence[Run]], floors: Mapping[str, Mapping[str, float]],
                  references: Mapping[str, Reference] = REFERENCES) -> dict[str, np.ndarray]:
    """Normalised final scores per family, one per seed, for the families with a floor and a
    reference (the others cannot be normalised and are left out)."""
    out = {}
    for family, runs in groups.items():
        if family not in references or family not in floors:
            continue
        ref, floor = references[family].value, floors[family]["zero"]
        values = [normalised(r.score, floor, ref) for r in runs if math.isfinite(r.score)]
        if values:
            out[family] = np.asarray(values, dtype=float)
    return out


@contextlib.contextmanager
def _seeded(seed: int) -> Iterator[np.random.RandomState]:
    """rliable's bootstraps draw their indices from NumPy's global generator: seed it, and put
    the caller's state back afterwards."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        # rliable hands its random_state to arch, which warns that it is deprecated; the
        # indices come from the global generator seeded above in any case.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            yield np.random.RandomState(seed)
    finally:
        np.random.set_state(state)


def _iqm_of_family_means(*scores: np.ndarray) -> np.ndarray:
    from rliable import metrics

    means = np.array([[np.mean(s) for s in scores]])  # 1 x families
    return np.array([metrics.aggregate_iqm(means)])


def aggregate_iqm(scores: Mapping[str, np.ndarray], reps: int = 50_000, seed: int = 0,
                  confidence: float = 0.95) -> tuple[float, tuple[float, float]]:
    """Interquartile mean over families of the mean normalised score of each family's seeds,
    with a stratified-bootstrap interval (rliable).

    Families have different numbers of seeds here, so rliable's rectangular (runs x tasks)
    matrix does not apply; instead each family's seeds are one array and rliable's
    ``StratifiedIndependentBootstrap`` resamples the seeds within each family (the strata),
    independently. Each family weighs the same. A family with one seed contributes no
    resampling spread: the interval is only as wide as the seeds that exist make it.

    Returns:
        ``(iqm, (low, high))``. Deterministic for a given ``seed``.
    """
    from rliable import library as rly

    arrays = [np.asarray(v, dtype=float) for v in scores.values()]
    if not arrays:
        raise ValueError("no family scores to aggregate")
    with _seeded(seed) as rs:
        point, interval = rly.get_interval_estimates(
            {"pearl-lite": arrays}, _iqm_of_family_means, reps=reps,
            confidence_interval_size=confidence, random_state=rs)
    low, high = np.asarray(interval["pearl-lite"]).ravel()
    return float(np.asarray(point["pearl-lite"]).ravel()[0]), (float(low), float(high))


def family_intervals(scores: Mapping[str, np.ndarray], reps: int = 50_000, seed: int = 0,
                     confidence: float = 0.95) -> dict[str, tuple[float, float]]:
    """Per family with at least two seeds, a stratified-bootstrap interval (rliable) of the
    mean of its seeds' normalised scores; families with one seed get none."""
    from rliable import library as rly

    out = {}
    for family, values in scores.items():
        values = np.asarray(values, dtype=float).reshape(-1, 1)  # runs x 1 task
        if len(values) < 2:
            continue
        with _seeded(seed) as rs:
            _, interval = rly.get_interval_estimates(
                {family: values}, lambda x: np.array([np.mean(x)]), reps=reps,
                confidence_interval_size=confidence, random_state=rs)
        low, high = np.asarray(interval[family]).ravel()
        out[family] = (float(low), float(high))
    return out


def performance_profile(scores: Mapping[str, np.ndarray], taus: Sequence[float],
                        reps: int = 2_000, seed: int = 0, confidence: float = 0.95
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Fraction of runs whose normalised score exceeds each tau, averaged over families (each
    family weighs the same, as a task does in rliable's score distribution), with
    stratified-bootstrap bands (rliable's ``score_distributions`` per family).

    Returns:
        ``(profile, band)``: ``(len(taus),)`` and ``(2, len(taus))`` (lower, upper).
    """
    from rliable import library as rly

    taus = np.asarray(taus, dtype=float)
    arrays = [np.asarray(v, dtype=float) for v in scores.values()]
    if not arrays:
        raise ValueError("no family scores to profile")

    def profile(*fam: np.ndarray) -> np.ndarray:
        # rliable's score_distributions(s, taus) of each family, vectorised over the taus.
        return np.mean([np.mean(s[:, None] > taus[None, :], axis=0) for s in fam], axis=0)

    with _seeded(seed) as rs:
        point, band = rly.get_interval_estimates({"p": arrays}, profile, reps=reps,
                                                 confidence_interval_size=confidence,
                                                 random_state=rs)
    return np.asarray(point["p"], dtype=float), np.asarray(band["p"], dtype=float)


def plot_profile(ax: Any, taus: Sequence[float], profile: np.ndarray, band: np.ndarray,
                 label: str = "pearl-lite (lite)") -> Any:
    """The performance profile with its bootstrap band; tau = 0 is standing still, 1 the
    reference."""
    ax.step(taus, profile, where="post", color=COLORS["pearl"], lw=2, label=label)
    ax.fill_between(taus, band[0], band[1], step="post", color=COLORS["pearl"], alpha=0.2,
                    lw=0, label="95% stratified-bootstrap band")
    for x, name in ((0.0, "standing still"), (1.0, "reference")):
        ax.axvline(x, color="0.4", ls="--", lw=1)
        ax.text(x, 1.02, name, ha="center", fontsize=8, color="0.35",
                transform=ax.get_xaxis_transform())
    ax.set_xlabel("normalised score tau")
    ax.set_ylabel("fraction of runs with score > tau\n(each family weighs the same)")
    ax.set_ylim(-0.02, 1.05)
    return ax


# ---- the table ---------------------------------------------------------------------------------

#: Families whose train and test tasks are the same two tasks (forward and backward).
DIRECTION_TASKS = ("cheetah-dir", "ant-dir")


def paper_budget(family: str) -> tuple[int, int]:
    """``(gradient steps of a whole run, units per hidden layer)`` of the ``paper`` preset."""
    cfg = get_config(family, "paper")
    return cfg.num_train_steps_per_itr * cfg.num_iterations, cfg.net_size


def comparison_note(row: Mapping[str, Any], reference: Reference | None) -> str:
    """What comparing this row with its reference can and cannot say, in a few words."""
    if row["seeds"] == 0:
        return "no run: nothing to compare" + ("" if reference else "; no reference either")
    notes = []
    if row["family"] in DIRECTION_TASKS:
        notes.append("train = test tasks (2): fitting, not generalisation")
    if reference is None:
        notes.append("no reference number known: only the floors")
    elif math.isfinite(row["normalised"]) and row["normalised"] < 0.1:
        notes.append("not learnt: at or below standing still")
    if row["seeds"] == 1:
        notes.append("1 seed: no spread")
    if reference is not None and row.get("grad_steps") and row.get("paper_grad_steps"):
        ratio = row["paper_grad_steps"] / row["grad_steps"]
        notes.append(f"the paper preset's run: {ratio:.0f}x the gradient steps, on "
                     f"{row['paper_net_size']}-unit networks")
    return "; ".join(notes)


def _fmt(x: float, metric: str) -> str:
    if not math.isfinite(x):
        return "—"
    return f"{x:.2f}" if metric == "success" else f"{x:,.0f}" if abs(x) >= 100 else f"{x:.1f}"


def benchmark_table(runs: Sequence[Run], floors: Mapping[str, Mapping[str, float]],
                    references: Mapping[str, Reference] = REFERENCES,
                    families: Sequence[str] = ENV_NAMES) -> list[dict[str, Any]]:
    """One row per (family, config) with runs, and one per family without any (``seeds`` 0).

    Each row: ``family``, ``preset``, ``config`` (:func:`config_label`), ``seeds``, ``minutes``
    and ``env_steps`` (mean over seeds), ``score`` (mean), ``std`` (sample std over seeds, NaN
    for one), ``scores`` (per seed), ``normalised`` (mean, NaN without a reference),
    ``floor`` (standing still), ``reference`` (text), ``metric``, ``runs`` (folder names),
    ``grad_steps`` and ``net_size`` (and ``paper_grad_steps``, ``paper_net_size``: the
    ``paper`` preset's), ``note`` (:func:`comparison_note`).
    """
    groups = group_runs(runs)
    rows = []
    for family in families:
        metric = metric_of(family)
        ref = references.get(family)
        floor = floors.get(family, {}).get("zero", math.nan)
        base = {"family": family, "metric": metric, "floor": floor,
                "reference": f"{ref.note}; {ref.source}" if ref else "none known"}
        main = (family, "lite", preset_config_id(family, "lite"))
        mine = sorted((v for k, v in groups.items() if k[0] == family),
                      key=lambda g: (g is not groups.get(main), -len(g)))
        if not mine:
            row = {**base, "preset": "", "config": "not trained", "seeds": 0,
                   "minutes": math.nan, "env_steps": math.nan, "score": math.nan,
                   "std": math.nan, "scores": [], "normalised": math.nan, "runs": [],
                   "grad_steps": 0, "net_size": 0}
            rows.append({**row, "note": comparison_note(row, ref)})
            continue
        paper_grads, paper_net = paper_budget(family)
        for group in mine:
            scores = np.array([r.score for r in group], dtype=float)
            norm = (float(np.mean([normalised(s, floor, ref.value) for s in scores]))
                    if ref and math.isfinite(floor) else math.nan)
            rows.append({
                **base, "preset": group[0].row["preset"], "config": config_label(group[0]),
                "seeds": len(group), "seed_list": [int(r.row["seed"]) for r in group],
                "minutes": float(np.mean([r.row["wall_clock_min"] for r in group])),
                "env_steps": float(np.mean([r.row["env_steps"] for r in group])),
                "score": float(np.mean(scores)),
                "std": float(np.std(scores, ddof=1)) if len(scores) > 1 else math.nan,
                "scores": scores.tolist(), "normalised": norm,
                "runs": [r.path.name for r in group],
                "grad_steps": int(np.mean([r.grad_steps for r in group])),
                "net_size": int(group[0].config.get("net_size", 0)),
                "paper_grad_steps": paper_grads, "paper_net_size": paper_net})
            rows[-1]["note"] = comparison_note(rows[-1], ref)
    return rows


def _steps(n: float) -> str:
    return f"{n / 1e6:.2f}M" if n >= 1e6 else f"{n / 1e3:.0f}k"


def _budget(r: Mapping[str, Any]) -> str:
    if not r["seeds"]:
        return "—"
    text = f"{_steps(r['grad_steps'])}, {r['net_size']}"
    if r.get("paper_grad_steps"):
        text += f" ({_steps(r['paper_grad_steps'])}, {r['paper_net_size']})"
    return text


def table_markdown(rows: Sequence[Mapping[str, Any]],
                   intervals: Mapping[str, tuple[float, float]] | None = None) -> str:
    """The rows of :func:`benchmark_table` as a Markdown table; ``intervals`` (family ->
    bootstrap interval of the normalised mean of its main config) are shown on the first row
    of each family (its main config, as :func:`benchmark_table` orders them)."""
    head = ("| family | preset (config) | seeds | minutes | env steps | gradient steps, units "
            "(paper preset) | score ± std | normalised | standing still | reference | what the "
            "comparison can and cannot say |")
    lines = [head, "| --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- | --- |"]
    seen: set[str] = set()
    for r in rows:
        m = r["metric"]
        first, _ = r["family"] not in seen, seen.add(r["family"])
        if r["seeds"] == 0:
            score = "**missing** (not trained)"
        else:
            score = _fmt(r["score"], m) + (f" ± {_fmt(r['std'], m)}"
                                           if math.isfinite(r["std"]) else " (1 seed)")
            if m == "success":
                score += " success"
        norm = f"{r['normalised']:.2f}" if math.isfinite(r["normalised"]) else "—"
        if first and intervals and r["family"] in intervals and math.isfinite(r["normalised"]):
            lo, hi = intervals[r["family"]]
            norm += f" [{lo:.2f}, {hi:.2f}]"
        preset = f"{r['preset']} ({r['config']})" if r["preset"] else r["config"]
        seeds = str(r["seeds"])
        if len(set(r.get("seed_list", []))) < r["seeds"]:  # the same seed run more than once
            seeds += f" runs (seeds {', '.join(map(str, r['seed_list']))})"
        cells = [r["family"], preset, seeds,
                 f"{r['minutes']:.1f}" if math.isfinite(r["minutes"]) else "—",
                 f"{r['env_steps'] / 1e6:.2f}M" if math.isfinite(r["env_steps"]) else "—",
                 _budget(r), score, norm, _fmt(r["floor"], m), r["reference"], r["note"]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
