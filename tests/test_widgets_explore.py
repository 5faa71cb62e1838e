"""Notebook 6's explorers: drive the controls from Python and check what the figures show."""

import numpy as np
import pytest
import torch
from matplotlib.collections import LineCollection

from pearl_lite.config import get_config
from pearl_lite.course import exploration as ex
from pearl_lite.course.widgets_explore import (
    CUSTOM,
    PROTOCOLS,
    ContextExplorer,
    TrajectoryExplorer,
    default_goals,
)
from pearl_lite.pearl import PEARLAgent

K = 4


def _agent(seed: int, **overrides) -> PEARLAgent:
    torch.manual_seed(seed)
    return PEARLAgent(2, 2, get_config("sparse-point-robot", "smoke", **overrides)).eval()


@pytest.fixture(scope="module")
def agents():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield {"β = 1": _agent(0), "deterministic": _agent(1, use_information_bottleneck=False)}
    torch.set_num_threads(old)


@pytest.fixture()
def explorer(agents):
    goals = default_goals(ex.semicircle_goals(np.radians([30.0, 120.0])))
    return TrajectoryExplorer(agents, goals, n_trajs=K, n_hypotheses=8, n_runs=2)


def test_the_goal_menu():
    goals = default_goals(ex.semicircle_goals(np.radians([30.0, 120.0])))
    labels = list(goals)
    assert labels[0] == "test goal 0: θ = 30.0°" and len(labels) == 5
    radii = np.linalg.norm(np.stack(list(goals.values())), axis=1)
    assert radii[:3] == pytest.approx(1.0) and radii[3] == pytest.approx(1.5)
    assert goals[labels[4]][1] < 0  # below the semicircle


def test_moving_k_changes_the_figure(explorer):
    ui = explorer.widget()
    assert explorer.last_view["k"] == 0
    png0 = explorer.image.value
    assert png0[:4] == b"\x89PNG" and len(explorer._art["traj"].get_segments()) == 0
    explorer.k.value = 3
    view = explorer.last_view
    assert view["k"] == 3 and view["positions"].shape == (3, 21, 2)
    assert "after k = 3 of 4 trajectories" in explorer.caption.value
    segs = explorer._art["traj"].get_segments()
    assert len(segs) == 3 and np.allclose(segs[2], view["positions"][2])
    assert explorer.image.value != png0
    # The hypotheses drawn are the endpoints of the belief after 3 trajectories.
    ep = explorer.episode("β = 1", explorer.current_goal, 0, 1)
    assert np.allclose(explorer._art["hyp"].get_offsets(), ep["endpoints"][3])
    assert ep["endpoints"].shape == (K + 1, 8, 2) and ep["var"].shape == (K + 1, 5)
    # The variance bars show that belief's variance.
    heights = [b.get_height() for b in explorer._art["var_bars"]]
    assert np.allclose(heights, np.clip(ep["var"][3], 1e-3, None))
    assert ui.children  # one box holding every control


def test_play_is_linked_to_k(explorer):
    explorer.widget()
    explorer.play.value = 2
    assert explorer.k.value == 2 and explorer.last_view["k"] == 2
    assert explorer.k.continuous_update  # cheap: only redraws
    assert not explorer.angle.continuous_update and not explorer.beta.continuous_update


def test_goal_menu_and_custom_goal_move_the_goal(explorer):
    explorer.widget()
    off = next(k for k in explorer.goals if "radius 1.5" in k)
    explorer.goal.value = off
    assert np.allclose(explorer.last_view["goal"], ex.goal_at(60.0, 1.5))
    assert np.allclose(explorer._art[f"goal_{id(explorer._axes[0])}"].get_offsets()[0],
                       ex.goal_at(60.0, 1.5))
    explorer.angle.value = 200.0  # a custom goal: switches the menu to "custom"
    assert explorer.goal.value == CUSTOM
    assert np.allclose(explorer.last_view["goal"], ex.goal_at(200.0, 1.0))
    explorer.radius.value = 0.5
    assert np.allclose(explorer.last_view["goal"], ex.goal_at(200.0, 0.5))


def test_beta_slider_switches_agents_and_deterministic_has_one_hypothesis(explorer):
    explorer.widget()
    explorer.k.value = 2
    a = explorer.last_view
    explorer.beta.value = "deterministic"
    b = explorer.last_view
    assert b["agent"] == "deterministic" and not b["probabilistic"]
    assert np.allclose(b["endpoints"], b["endpoints"][:1])  # a point: all samples agree
    assert np.allclose(b["var"], 0) and np.isnan(b["kl"])
    assert "deterministic" in explorer._art["hy_title"].get_text()
    assert a["probabilistic"] and not np.allclose(a["endpoints"], a["endpoints"][:1])


def test_protocol_and_run_controls(explorer):
    explorer.widget()
    official = next(k for k, v in PROTOCOLS.items() if v == 5)
    explorer.protocol.value = official
    explorer.k.value = 3
    v = explorer.last_view
    assert v["k_prior"] == 5 and v["from_prior"] and np.allclose(v["var"], 1.0)
    explorer.run.value = 1
    assert explorer.last_view["run"] == 1
    assert len(explorer._cache) >= 3  # one cached meta-test per (agent, goal, run, protocol)


def test_bad_values_raise(explorer):
    with pytest.raises(ValueError, match="k must be in 0..4"):
        explorer.view(k=5)
    with pytest.raises(ValueError, match="unknown agent"):
        explorer.view(agent_label="β = 3")
    with pytest.raises(ValueError, match="agents is empty"):
        TrajectoryExplorer({}, {})


def test_animation_steps_through_k(explorer):
    anim = explorer.animation("β = 1", explorer.goals[next(iter(explorer.goals))])
    frames = list(anim.new_frame_seq())
    assert frames == list(range(K + 1))
    assert anim._fig is not explorer.fig  # a figure of its own, not the widget's
    traj = next(c for c in anim._fig.axes[0].collections if isinstance(c, LineCollection))
    anim._func(2)
    assert len(traj.get_segments()) == 2
    anim._func(K)
    assert len(traj.get_segments()) == K
    anim._draw_was_started = True  # drawn by hand above; silences matplotlib's warning


def test_widget_still_redraws_after_an_animation_was_saved_and_closed(explorer, agents):
    """Notebook 6 saves an animation (to_jshtml) and closes its figure, then the widget must
    still redraw: the browser test once saw the agent slider move with the image unchanged."""
    import matplotlib.pyplot as plt

    explorer.widget()
    first = explorer.image.value
    anim = explorer.animation("β = 1", explorer.goals[next(iter(explorer.goals))])
    anim.to_jshtml()
    plt.close(anim._fig)
    explorer.beta.value = "deterministic"
    assert explorer.image.value != first
    explorer.k.value = 2
    fresh = TrajectoryExplorer(agents, explorer.goals, n_trajs=K, n_hypotheses=8, n_runs=2)
    fresh.widget()
    fresh.beta.value, fresh.k.value = "deterministic", 2
    assert explorer.image.value == fresh.image.value  # the same pixels as a fresh explorer's


def test_context_explorer(agents):
    agent = agents["β = 1"]
    runs = {"g": ex.explore(agent, ex.goal_at(90.0)[None], "posterior", K, 5, seed=0)}
    c = ContextExplorer(agent, runs, n_hypotheses=8)
    c.widget()
    assert c.n_max == K * 20 and c.last_view["n"] == 0
    assert np.allclose(c.last_view["var"], 1.0)  # N = 0: the prior
    png0 = c.image.value
    c.n.value = 30
    v = c.last_view
    mu, var = ex.beliefs_by_size(agent, runs["g"].context(agent, 0))
    assert np.allclose(v["var"], var[30]) and v["visited"].shape == (30, 2)
    assert np.allclose(c._a["hyp"].get_offsets(), c.data("g")["endpoints"][30])
    assert c.image.value != png0
    assert c.data("g")["near"].shape == (K * 20 + 1,)
    with pytest.raises(ValueError, match="n must be in"):
        c.view(n=K * 20 + 1)


def test_precompute_makes_every_menu_move_a_redraw(explorer, monkeypatch):
    n = explorer.precompute()
    assert n == 2 * 2 * len(PROTOCOLS)  # agents x runs x protocols, each one batched run
    assert len(explorer._cache) == n * len(explorer.goals)
    assert explorer.precompute() == 0

    def no_compute(*args, **kwargs):
        raise AssertionError("a cached move computed a meta-test")

    monkeypatch.setattr(ex, "explore", no_compute)
    explorer.widget()
    for label in list(explorer.goals)[1:]:
        explorer.goal.value = label
    explorer.beta.value = "deterministic"
    explorer.run.value = 1
    explorer.protocol.value = list(PROTOCOLS)[1]
    explorer.k.value = K
    assert explorer.last_view["k"] == K
