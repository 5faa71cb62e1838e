"""pearl_lite.course.benchmark_viz on small synthetic run folders (no training, seeded)."""

import json
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from pearl_lite.config import get_config  # noqa: E402
from pearl_lite.course import benchmark_viz as bv  # noqa: E402

pytest.importorskip("rliable")

FLOORS = {"cheetah-vel": {"zero": {"return": -300.0, "per_task": [-300.0]},
                          "random": {"return": -400.0, "per_task": [-400.0]}},
          "cheetah-dir": {"zero": {"return": 0.0, "per_task": [0.0, 0.0]},
                          "random": {"return": -20.0, "per_task": [-20.0, -20.0]}},
          "sparse-point-robot": {"zero": {"return": 0.0, "per_task": [0.0], "success": 0.0},
                                 "random": {"return": 0.0, "per_task": [0.0], "success": 0.0}}}


def make_run(folder, family, seed, final, n_itr=4, success=None, **overrides):
    """A run folder as train + evaluate write it: config.json, progress.csv, adaptation.json,
    snapshots.json; the meta-test return rises linearly to ``final``."""
    folder.mkdir(parents=True)
    cfg = get_config(family, "lite", **overrides).to_dict()
    (folder / "config.json").write_text(json.dumps({**cfg, "seed": seed}))
    lines = ["iteration,env_steps,test_return,test_success,wall_clock"]
    for i in range(1, n_itr + 1):
        ret = final * i / n_itr
        succ = "" if success is None else f"{success * i / n_itr}"
        lines.append(f"{i},{1000 * i},{ret},{succ},{60.0 * i}")
    (folder / "progress.csv").write_text("\n".join(lines) + "\n")
    adapt = {"final_return": final, "return_per_trajectory": [final / 3, final / 2, final],
             "num_evals": 3, "num_exp_traj_eval": 2}
    if success is not None:
        adapt.update(final_success=success, success_per_trajectory=[0.0, success / 2, success])
    (folder / "adaptation.json").write_text(json.dumps(adapt))
    snap = {"env_steps": 1000 * n_itr, "wall_clock_min": float(n_itr), "iteration": n_itr,
            "final_return": final}
    if success is not None:
        snap["final_success"] = success
    (folder / "snapshots.json").write_text(json.dumps({"snapshots": [snap]}))


@pytest.fixture
def data(tmp_path):
    make_run(tmp_path / "cv0", "cheetah-vel", 0, -100.0)
    make_run(tmp_path / "cv1", "cheetah-vel", 1, -60.0)
    make_run(tmp_path / "cd0", "cheetah-dir", 0, 800.0)
    make_run(tmp_path / "cd_var", "cheetah-dir", 0, 400.0, num_train_steps_per_itr=1000)
    for s, succ in enumerate([0.9, 0.7, 0.8]):
        make_run(tmp_path / f"spr{s}", "sparse-point-robot", s, 10.0, success=succ)
    (tmp_path / "baseline_returns.json").write_text(json.dumps(FLOORS))
    (tmp_path / "not_a_run").mkdir()
    (tmp_path / "not_a_run" / "config.json").write_text(json.dumps({"something": "else"}))
    return tmp_path


def test_floors_are_read_in_each_familys_metric(data):
    floors = bv.load_floors(data / "baseline_returns.json")
    assert floors["cheetah-vel"] == {"zero": -300.0, "random": -400.0}
    assert floors["sparse-point-robot"] == {"zero": 0.0, "random": 0.0}  # success, not return


def test_runs_are_found_through_summarize_and_grouped_by_config(data):
    runs = bv.load_runs(data)
    assert sorted(r.path.name for r in runs) == ["cd0", "cd_var", "cv0", "cv1", "spr0", "spr1",
                                                "spr2"]
    groups = bv.main_groups(runs)
    assert [r.path.name for r in groups["cheetah-dir"]] == ["cd0"]  # the preset, not the variant
    assert sorted(r.path.name for r in groups["cheetah-vel"]) == ["cv0", "cv1"]
    variant = next(r for r in runs if r.path.name == "cd_var")
    assert bv.config_label(variant) == "num_train_steps_per_itr=1000"
    assert bv.config_label(groups["cheetah-dir"][0]) == "preset"
    spr = groups["sparse-point-robot"][0]
    assert spr.score == pytest.approx(0.9)  # scored by success
    np.testing.assert_allclose(spr.progress[1], [1, 2, 3, 4])  # minutes
    np.testing.assert_allclose(spr.progress[2], [0.225, 0.45, 0.675, 0.9])
    np.testing.assert_allclose(spr.adaptation, [0.0, 0.45, 0.9])
    assert spr.n_prior == 2 and spr.snapshots[2].tolist() == [0.9]


def test_normalisation_is_zero_at_the_floor_and_one_at_the_reference(data):
    assert bv.normalised(-300.0, -300.0, -43.0) == 0.0
    assert bv.normalised(-43.0, -300.0, -43.0) == 1.0
    with pytest.raises(ValueError):
        bv.normalised(1.0, 2.0, 2.0)
    floors = bv.load_floors(data / "baseline_returns.json")
    scores = bv.family_scores(bv.main_groups(bv.load_runs(data)), floors)
    assert set(scores) == {"cheetah-vel", "cheetah-dir", "sparse-point-robot"}
    np.testing.assert_allclose(scores["cheetah-dir"], [800 / 1670])
    np.testing.assert_allclose(sorted(scores["cheetah-vel"]),
                               [(-100 + 300) / 257, (-60 + 300) / 257])


def test_iqm_and_intervals_are_deterministic_and_bracket_the_estimate(data):
    scores = {"a": np.array([0.2, 0.4]), "b": np.array([0.5]), "c": np.array([0.9, 1.0, 0.8]),
              "d": np.array([0.1])}
    state = np.random.get_state()
    iqm, (lo, hi) = bv.aggregate_iqm(scores, reps=300, seed=3)
    assert (iqm, (lo, hi)) == bv.aggregate_iqm(scores, reps=300, seed=3)
    assert np.array_equal(np.random.get_state()[1], state[1])  # the caller's generator kept
    means = sorted([0.3, 0.5, 0.9, 0.1])
    assert iqm == pytest.approx(np.mean(means[1:3]))  # trimmed mean of the 4 family means
    assert lo <= iqm <= hi
    one_seed = {k: v[:1] for k, v in scores.items()}
    _, (lo1, hi1) = bv.aggregate_iqm(one_seed, reps=100)
    assert lo1 == pytest.approx(hi1)  # one seed per family: nothing to resample
    intervals = bv.family_intervals(scores, reps=300)
    assert set(intervals) == {"a", "c"}
    assert 0.2 <= intervals["a"][0] <= intervals["a"][1] <= 0.4


def test_performance_profile_averages_families(data):
    scores = {"a": np.array([0.0, 1.0]), "b": np.array([2.0])}
    taus = [-1.0, 0.5, 1.5, 3.0]
    profile, band = bv.performance_profile(scores, taus, reps=200, seed=0)
    np.testing.assert_allclose(profile, [1.0, 0.75, 0.5, 0.0])  # (1/2 + 1) / 2 at 0.5
    from rliable import library as rly

    np.testing.assert_allclose(profile, np.mean([rly.score_distributions(s, taus)
                                                 for s in scores.values()], axis=0))
    assert band.shape == (2, 4) and np.all(band[0] <= profile + 1e-12)
    assert np.all(profile <= band[1] + 1e-12)


def test_table_has_one_row_per_config_and_shows_untrained_families(data):
    floors = bv.load_floors(data / "baseline_returns.json")
    rows = bv.benchmark_table(bv.load_runs(data), floors)
    by = [(r["family"], r["config"], r["seeds"]) for r in rows]
    assert ("cheetah-dir", "preset", 1) in by
    assert ("cheetah-dir", "num_train_steps_per_itr=1000", 1) in by
    assert by.index(("cheetah-dir", "preset", 1)) < by.index(
        ("cheetah-dir", "num_train_steps_per_itr=1000", 1))
    assert ("ant-goal", "not trained", 0) in by and ("humanoid-dir", "not trained", 0) in by
    cv = next(r for r in rows if r["family"] == "cheetah-vel")
    assert cv["score"] == pytest.approx(-80.0) and cv["std"] == pytest.approx(np.std(
        [-100, -60], ddof=1))
    assert cv["minutes"] == pytest.approx(4.0) and cv["env_steps"] == 4000
    hopper = next(r for r in rows if r["family"] == "hopper-rand-params")
    assert hopper["seeds"] == 0 and math.isnan(hopper["normalised"])
    md = bv.table_markdown(rows, {"cheetah-vel": (0.7, 0.9)})
    assert "**missing** (not trained)" in md and "[0.70, 0.90]" in md
    assert len(md.strip().splitlines()) == 2 + len(rows)


def test_figures_draw_floors_reference_and_adaptation(data):
    runs = bv.load_runs(data)
    floors = bv.load_floors(data / "baseline_returns.json")
    cd = bv.family_groups(runs, "cheetah-dir")
    assert list(cd) == ["lite preset", "num_train_steps_per_itr=1000"]
    fig, axes = plt.subplots(1, 3)
    bv.plot_family(axes[:2], "cheetah-dir", cd, floors["cheetah-dir"],
                   bv.REFERENCES["cheetah-dir"])
    labels = axes[0].get_legend_handles_labels()[1]
    assert "lite preset (1 seed)" in labels and "standing still" in labels
    assert "num_train_steps_per_itr=1000 (1 seed)" in labels
    assert any(lbl.startswith("reference") for lbl in labels)
    # The reference point sits at the 1.4M steps where it was measured.
    star = [ln for ln in axes[0].get_lines() if ln.get_marker() == "*"][0]
    assert star.get_xdata()[0] == pytest.approx(1.4e6)
    bv.plot_adaptation_runs(axes[2], "cheetah-dir", cd["lite preset"], floors["cheetah-dir"])
    assert axes[2].get_lines()[0].get_ydata().tolist() == pytest.approx([800 / 3, 400, 800])
    plt.close(fig)


def test_mean_curve_interpolates_over_the_common_range():
    x, y = bv.mean_curve([(np.array([0, 1, 2]), np.array([0, 1, 2])),
                          (np.array([0.5, 2.5]), np.array([1, 3]))])
    np.testing.assert_allclose(x, [1, 2])
    np.testing.assert_allclose(y, [(1 + 1.5) / 2, (2 + 2.5) / 2])
