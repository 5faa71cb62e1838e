"""pearl_lite.course.pearl_viz on small synthetic inputs: figures draw, shapes are checked."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from pearl_lite.course import pearl_viz as pv  # noqa: E402
from pearl_lite.pearl.sampler import Paths  # noqa: E402
from pearl_lite.runtime.evaluate import read_snapshots
from pearl_lite.utils import CSVLogger  # noqa: E402


def _rows(n: int = 6, sparse: bool = False) -> list[dict]:
    """Log rows shaped like MetaTrainer's: test columns blank except every 2nd iteration."""
    rows = []
    for i in range(1, n + 1):
        test = i % 2 == 0
        row = {"iteration": i, "env_steps": 100 * i, "grad_steps": 10 * i,
               "train_return": -20.0 + i, "test_return": -15.0 + i if test else "",
               "test_return_first": -18.0 if test else "", "kl": 5.0 / i, "z_var": 1.0 / i,
               "wall_clock": float(i)}
        if sparse:
            row.update(test_success=0.1 * i if test else "",
                       test_success_first=0.0 if test else "")
        rows.append(row)
    return rows


def _paths(n_tasks: int, H: int, rng: np.random.Generator) -> Paths:
    obs = rng.normal(size=(n_tasks, H, 2)).astype(np.float32)
    nxt = np.concatenate([obs[:, 1:], obs[:, -1:] + 0.1], axis=1)
    valid = np.ones((n_tasks, H), bool)
    valid[0, H - 2:] = False  # task 0 "ended" two steps early
    z = np.zeros((n_tasks, 5), np.float32)
    zeros = np.zeros((n_tasks, H), np.float32)
    return Paths(obs, np.zeros((n_tasks, H, 2), np.float32), zeros, zeros, nxt,
                 np.zeros((n_tasks, H), bool), np.zeros((n_tasks, H), bool), valid, None, z)


def test_training_curves_from_rows_and_csv(tmp_path):
    rows = _rows()
    c = pv.training_curves(rows)
    assert c["test_return"].shape == (6,)
    assert np.isnan(c["test_return"][0]) and c["test_return"][1] == -13.0
    log = CSVLogger(tmp_path / "p.csv")
    for r in rows:
        log.write(r)
    from pearl_lite.utils import read_csv

    c2 = pv.training_curves(read_csv(tmp_path / "p.csv"))
    np.testing.assert_allclose(c2["kl"], c["kl"], rtol=1e-5)  # the CSV keeps 6 digits


def test_training_curves_rejects_missing_or_ragged_columns():
    with pytest.raises(ValueError, match="lacks columns"):
        pv.training_curves([{"iteration": 1}])
    cols = {k: np.zeros(3) for k in pv.TRAINING_COLUMNS}
    cols["kl"] = np.zeros(2)
    with pytest.raises(ValueError, match="length"):
        pv.training_curves(cols)


@pytest.mark.parametrize("sparse", [False, True])
def test_plot_training_draws_four_panels(sparse):
    fig = pv.plot_training(_rows(sparse=sparse), title="t")
    assert len(fig.axes) == 4
    fig2 = pv.plot_training(_rows(sparse=sparse), fig=fig, x="iteration")  # redraw in place
    assert fig2 is fig and len(fig.axes) == 4
    with pytest.raises(ValueError, match="x column"):
        pv.plot_training(_rows(), x="nope")
    plt.close("all")


def test_live_plot_without_display_keeps_rows():
    live = pv.LiveTrainingPlot(every=2, live=False)
    for r in _rows():
        live.update(r)
    assert len(live.rows) == 6 and live.fig is None  # nothing drawn while not live
    fig = live.finish()
    assert len(fig.axes) == 4
    with pytest.raises(ValueError):
        pv.LiveTrainingPlot(every=0)
    with pytest.raises(ValueError, match="no rows"):
        pv.LiveTrainingPlot(live=False).finish()
    plt.close("all")


def test_success_within_is_cumulative():
    reached = np.array([[0, 1, 0], [0, 0, 0], [1, 0, 0], [0, 0, 1]])
    np.testing.assert_allclose(pv.success_within(reached), [0.25, 0.5, 0.75])
    with pytest.raises(ValueError, match="n_tasks, n_trajs"):
        pv.success_within(np.zeros(3))


def test_adaptation_and_success_plots_check_shapes():
    fig, (a, b) = plt.subplots(1, 2)
    returns = np.arange(12.0).reshape(4, 3)
    pv.plot_adaptation(a, returns, n_prior=1, label="x")
    assert len(a.lines) == 1
    np.testing.assert_allclose(a.lines[0].get_ydata(), returns.mean(0))
    pv.plot_success(b, np.full((4, 3), 0.5), reached=np.ones((4, 3)), n_prior=1)
    assert len(b.lines) == 2
    with pytest.raises(ValueError):
        pv.plot_adaptation(a, np.zeros(3))
    with pytest.raises(ValueError, match="n_prior"):
        pv.plot_adaptation(a, returns, n_prior=4)
    with pytest.raises(ValueError, match="must match"):
        pv.plot_success(b, np.zeros((4, 3)), reached=np.zeros((4, 2)))
    plt.close(fig)


def test_trajectories_of_and_plot_exploration():
    rng = np.random.default_rng(0)
    paths = [_paths(3, 5, rng) for _ in range(4)]
    tr = pv.trajectories_of(paths, row=0)
    assert tr.shape == (4, 6, 2)
    np.testing.assert_allclose(tr[1, 0], paths[1].obs[0, 0])
    np.testing.assert_allclose(tr[1, 1:4], paths[1].next_obs[0, :3])
    np.testing.assert_allclose(tr[1, 4:], np.repeat(tr[1, 3:4], 2, 0))  # after the early end
    with pytest.raises(ValueError, match="out of range"):
        pv.trajectories_of(paths, row=3)
    with pytest.raises(ValueError, match="empty"):
        pv.trajectories_of([], row=0)

    fig, ax = plt.subplots()
    pv.plot_exploration(ax, tr, goal=[0.5, 0.5], goal_radius=0.2,
                        all_goals=np.zeros((10, 2)), n_prior=2)
    assert len(ax.lines) >= 4
    with pytest.raises(ValueError, match="n_trajs, T, 2"):
        pv.plot_exploration(ax, np.zeros((4, 6)), goal=[0, 0])
    with pytest.raises(ValueError, match="goal"):
        pv.plot_exploration(ax, tr, goal=[0, 0, 0])
    plt.close(fig)


def test_load_and_plot_ablations(tmp_path):
    for variant, shift in (("default", 0.0), ("deterministic", -2.0)):
        for seed in (0, 1):
            log = CSVLogger(tmp_path / f"{variant}_seed{seed}.csv")
            for r in _rows():
                if r["test_return"] != "":
                    r["test_return"] += shift
                log.write(r)
            (tmp_path / f"{variant}_seed{seed}_final.json").write_text(
                json.dumps({"return_per_trajectory": [-10.0 + shift, -8.0, -7.0]}))
    res = pv.load_ablation_results(tmp_path)
    assert set(res) == {"default", "deterministic"}
    assert res["default"]["seeds"] == [0, 1] and len(res["default"]["final"]) == 2
    fig, axes = plt.subplots(1, 2)
    pv.plot_ablations(axes, res)
    assert len(axes[0].lines) == 2 and len(axes[1].lines) == 2
    np.testing.assert_allclose(axes[0].lines[1].get_ydata(), [-15.0, -13.0, -11.0])
    with pytest.raises(ValueError, match="two axes"):
        pv.plot_ablations(axes[:1], res)
    with pytest.raises(FileNotFoundError):
        pv.load_ablation_results(tmp_path / "empty")
    plt.close(fig)


def test_source_markdown_shows_the_whole_function():
    from pearl_lite.course.notebook_tools import source_markdown
    from pearl_lite.pearl import PEARLLearner
    from pearl_lite.pearl.learner import critic_loss

    md = source_markdown(critic_loss).data
    assert md.startswith("`pearl_lite/pearl/learner.py`, `critic_loss`:")
    assert md.split("```python\n")[1].startswith("def critic_loss(") and md.rstrip().endswith("```")
    assert '"z_rep": z_rep' in md  # the last line of the function is there
    md = source_markdown(PEARLLearner.update).data  # a method: headed by its class
    assert md.startswith("`pearl_lite/pearl/learner.py`, `PEARLLearner.update`:")
    assert "def update(self" in md and '"q_mean"' in md


def test_success_within_over_runs_pools_runs_and_tasks():
    run0 = np.array([[0, 1, 0], [0, 0, 0]])
    run1 = np.array([[1, 0, 0], [0, 0, 1]])
    both = np.stack([run0, run1])
    np.testing.assert_allclose(pv.success_within(both), [0.25, 0.5, 0.75])
    np.testing.assert_allclose(pv.success_within(both),
                               (pv.success_within(run0) + pv.success_within(run1)) / 2)
    fig, ax = plt.subplots()
    pv.plot_success(ax, both.mean(0), reached=both)
    assert "2 runs" in ax.lines[1].get_label()
    with pytest.raises(ValueError, match="must match"):
        pv.plot_success(ax, np.zeros((2, 3)), reached=np.zeros((2, 2, 4)))
    plt.close(fig)


def test_plot_adaptation_draws_the_optimum():
    fig, ax = plt.subplots()
    returns = -np.arange(12.0).reshape(4, 3)
    optimum = np.full((4, 3), -1.0)
    optimum[0] = -3.0
    pv.plot_adaptation(ax, returns, optimum=optimum)
    opt_line = [ln for ln in ax.lines if ln.get_label().startswith("optimum")]
    assert len(opt_line) == 1
    np.testing.assert_allclose(opt_line[0].get_ydata(), [-1.5, -1.5, -1.5])
    pv.plot_adaptation(ax, returns, optimum=np.array([0.0, -1.0, -2.0, -3.0]))  # per task
    np.testing.assert_allclose(ax.lines[-1].get_ydata(), [-1.5] * 3)
    with pytest.raises(ValueError, match="optimum"):
        pv.plot_adaptation(ax, returns, optimum=np.zeros(3))
    plt.close(fig)


def test_plot_exploration_legend_names_starts_ends_and_line_styles():
    rng = np.random.default_rng(0)
    tr = pv.trajectories_of([_paths(2, 5, rng) for _ in range(3)], row=0)
    fig, ax = plt.subplots()
    pv.plot_exploration(ax, tr, goal=[0.5, 0.5], goal_radius=0.2, all_goals=np.zeros((4, 2)),
                        n_prior=1, colorbar=False, legend=True)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["start", "end of a trajectory", "goal", "goal region (radius 0.2)",
                      "other goals", "z from the prior", "z from the posterior"]
    fig2, ax2 = plt.subplots()
    pv.plot_exploration(ax2, tr, goal=[0.5, 0.5], colorbar=False)  # the default: no legend
    assert ax2.get_legend() is None
    handles = pv.exploration_legend_handles(n_prior=0, all_goals=False)
    assert [h.get_label() for h in handles] == ["start", "end of a trajectory", "goal",
                                                "z from the posterior"]
    plt.close("all")


def test_seed_colors_are_distinct_and_never_grey():
    from matplotlib.colors import to_rgb

    cols = pv.seed_colors(10)  # notebook 4 draws ten sparse seeds
    assert len(set(cols)) == 10
    for c in pv.SEED_COLORS:
        r, g, b = to_rgb(c)
        assert not (abs(r - g) < 0.05 and abs(g - b) < 0.05 and 0.2 < r < 0.9)  # no grey
    assert pv.seed_colors(0) == [] and pv.seed_colors(12)[10] == cols[0]
    with pytest.raises(ValueError):
        pv.seed_colors(-1)


def test_snapshot_curve_sorts_and_first_reaching_reads_it(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"seed": 3}))
    snaps = [{"iteration": 10 * (i + 1), "env_steps": 1000 * (i + 1), "wall_clock_min": i + 1.0,
              "final_return": -s, "final_success": s} for i, s in enumerate([0.5, 0.8, 0.7, 0.9])]
    (tmp_path / "snapshots.json").write_text(json.dumps({"snapshots": snaps[::-1]}))
    curve = pv.snapshot_curve(tmp_path)
    assert curve["seed"] == 3 and curve["iteration"].tolist() == [10, 20, 30, 40]
    assert curve["success"].tolist() == [0.5, 0.8, 0.7, 0.9]
    first = pv.first_reaching(curve, 0.8)
    assert (first["iteration"], first["env_steps"], first["minutes"]) == (20, 2000, 2.0)
    assert not first["stays"] and first["min_after"] == 0.7
    # settled: from iteration 40 on every snapshot is >= 0.8 (the dip at 30 comes before)
    assert first["settled"] == {"index": 3, "iteration": 40, "env_steps": 4000, "minutes": 4.0}
    assert pv.first_reaching(curve, 0.85)["stays"]
    assert pv.first_reaching(curve, 0.85)["settled"]["index"] == 3  # reached there, stays
    assert pv.first_reaching(curve, 0.5)["settled"]["index"] == 0
    assert pv.first_reaching(curve, 0.95) is None
    # 80 successes of 100 as a float sum gives 0.7999999999999999: that still reaches 0.8
    rounded = {**curve, "success": np.array([0.5, np.mean([1.0] * 80 + [0.0] * 20) - 1e-16,
                                             0.79, 0.9])}
    assert rounded["success"][1] < 0.8 and pv.first_reaching(rounded, 0.8)["iteration"] == 20
    with pytest.raises(ValueError, match="--snapshots"):
        pv.snapshot_curve(tmp_path / "nowhere")
    # the one-line summary over seeds (notebook 4, scripts/seed_table.py)
    line = pv.reaching_summary([first, pv.first_reaching(curve, 0.85), None], 0.8)
    assert line == ("2 of 3 seeds reach 0.8 (minutes to the first such snapshot: median 3.0, "
                    "worst 4.0), 1 stay at or above it")
    assert pv.reaching_summary([None], 0.8, noun="runs") == \
        "0 of 1 runs reach 0.8, 0 stay at or above it"
    # with the settle count (both reaching runs settle at iteration 40, 4.0 min)
    line = pv.reaching_summary([first, pv.first_reaching(curve, 0.85), None], 0.8, settles=True)
    assert line.endswith("1 stay at or above it; 2 settle (at or above it from some snapshot "
                         "to the end: median 4.0 min, worst 4.0)")
    assert pv.reaching_summary([None], 0.8, settles=True).endswith(
        "; 0 settle (at or above it from some snapshot to the end)")
    # notebook 5's tolerant reading: a run trained without snapshots gives empty arrays
    empty = read_snapshots(tmp_path / "nowhere", missing_ok=True)
    assert empty["seed"] is None
    assert all(empty[k].shape == (0,) for k in ("iteration", "env_steps", "success"))
    (tmp_path / "snapshots.json").write_text(json.dumps({"snapshots": []}))
    with pytest.raises(ValueError, match="no snapshots"):
        pv.snapshot_curve(tmp_path)
    assert read_snapshots(tmp_path, missing_ok=True)["seed"] == 3
