"""Notebook 2's explorer: drive the sliders without a browser and check what they compute."""

import math

import matplotlib
import numpy as np
import pytest
import torch

from pearl_lite.course.toy_tasks import (
    GoalTasks,
    build_cache,
    cache_configs,
    load_cache,
    make_eval_set,
)
from pearl_lite.course.widgets_encoder import EncoderExplorer, ellipse_2sigma

matplotlib.use("Agg")
TASKS = GoalTasks()


@pytest.fixture(scope="module")
def explorer(tmp_path_factory):
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    cfgs = cache_configs(gradient_steps=20)
    for cfg in cfgs.values():
        cfg.hidden_sizes = (16, 16)
    path = tmp_path_factory.mktemp("cache") / "encoder_cache.pt"
    build_cache(cfgs, path, verbose=False)
    yield EncoderExplorer(load_cache(path), make_eval_set(TASKS, n_tasks=40, n_context=12), TASKS)
    torch.set_num_threads(old)


def test_explorer_knows_the_cached_models(explorer):
    assert explorer.betas == [0.1, 0.3, 1.0, 3.0, 10.0]
    assert explorer.kinds == ["product", "mean", "recurrent"]
    assert explorer.n_max == 12 and explorer.n_tasks == 40


def test_moving_the_sliders_recomputes_the_view(explorer):
    ui = explorer.widget()
    c = ui.controls
    c["n_context"].value = 7
    assert explorer.last_view["n_context"] == 7
    c["beta"].value = 3.0
    c["task"].value = 5
    view = explorer.last_view
    assert (view["beta"], view["task"], view["kind"]) == (3.0, 5, "product")
    assert torch.equal(view["goal"], explorer.eval_set["goals"][5])
    assert view["factor_mu"].shape == (7, 2) and view["factor_var"].shape == (7, 2)
    # What the callback showed equals a direct computation with the same encoder.
    mu, var = explorer.encoder_for("product", 3.0)(explorer.eval_set["context"][5:6, :7])
    assert torch.allclose(view["mu"], mu[0]) and torch.allclose(view["var"], var[0])
    c["kind"].value = "mean"
    assert explorer.last_view["kind"] == "mean" and explorer.last_view["factor_mu"] is None
    assert torch.equal(explorer.last_view["var"], torch.zeros(2))
    assert math.isnan(explorer.last_view["metrics"]["coverage"])


def test_context_size_zero_is_the_prior_and_more_context_narrows(explorer):
    view0 = explorer.view("product", 1.0, 0)
    assert torch.equal(view0["mu"], torch.zeros(2)) and torch.equal(view0["var"], torch.ones(2))
    assert view0["factor_mu"] is None
    inside = (explorer.eval_set["goals"].norm(dim=-1) <= 2).float().mean().item()
    assert view0["metrics"]["coverage"] == pytest.approx(inside)
    prev = view0["var"]
    for n in range(1, 13):
        var = explorer.view("product", 1.0, n, task=2)["var"]
        assert (var <= prev + 1e-7).all()
        prev = var
    exact = [explorer.view("product", 1.0, n, task=2)["exact_cov"].det() for n in (0, 4, 12)]
    assert exact[0] > exact[1] > exact[2]


def test_order_toggle(explorer):
    for kind, invariant in (("product", True), ("mean", True), ("recurrent", False)):
        a = explorer.view(kind, 1.0, 9, "ordered", task=1)
        b = explorer.view(kind, 1.0, 9, "shuffled", task=1)
        same = torch.allclose(a["mu"], b["mu"], atol=1e-5) and torch.allclose(a["var"], b["var"],
                                                                              atol=1e-5)
        assert same == invariant, kind
        # The exact posterior never cares about order.
        assert torch.allclose(a["exact_mu"], b["exact_mu"], atol=1e-5)


def test_bottleneck_curve_has_one_point_per_beta(explorer):
    curve = explorer.bottleneck_curve(6)
    assert list(curve["beta"]) == explorer.betas
    for key in ("kl", "std", "reward_rmse", "coverage", "error"):
        assert curve[key].shape == (5,) and np.isfinite(curve[key]).all()


def test_bad_slider_values_raise_clear_errors(explorer):
    with pytest.raises(ValueError, match="cached betas"):
        explorer.view("product", 0.5)
    with pytest.raises(ValueError, match="order must be one of"):
        explorer.view("product", 1.0, 3, "sorted")
    with pytest.raises(ValueError, match="n_context must be in 0..12"):
        explorer.view("product", 1.0, 13)
    with pytest.raises(ValueError, match="task must be in 0..39"):
        explorer.view("product", 1.0, 3, task=40)
    with pytest.raises(ValueError, match="kind must be one of"):
        explorer.view("attention", 1.0)


def test_draw_and_ellipses(explorer):
    fig = explorer.draw(explorer.view("product", 1.0, 5, task=3))
    ax = fig.axes[0]
    assert len(ax.patches) == 1 + 5 + 2  # prior, 5 factors, exact posterior, encoder posterior
    e = ellipse_2sigma([1.0, 2.0], [4.0, 1.0])
    assert (e.width, e.height) == pytest.approx((8.0, 4.0)) and e.angle % 180 == pytest.approx(0)
    rot = ellipse_2sigma([0, 0], [[1.0, 0.9], [0.9, 1.0]])
    assert rot.angle % 180 == pytest.approx(45)
    assert rot.width == pytest.approx(4 * math.sqrt(1.9))
    with pytest.raises(ValueError, match="cov must be"):
        ellipse_2sigma([0, 0], [1.0, 2.0, 3.0])
    matplotlib.pyplot.close("all")
