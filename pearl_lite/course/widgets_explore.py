"""Notebook 6's widgets: the exploration explorer (goal, trajectory k, β) and the context slider.

Introduced in notebook 6 (``notebooks/06_exploration.py``). As in notebook 2's explorer, the
callbacks are plain Python: :meth:`TrajectoryExplorer.view` computes what one position of the
controls shows (a dict of arrays), :meth:`TrajectoryExplorer.draw` puts it into a figure whose
artists are built once and then only updated, and :meth:`TrajectoryExplorer.render` turns that
into the PNG of an ``ipywidgets.Image``. Every control is an attribute of the explorer
(``explorer.k``, ``explorer.goal``, ``explorer.beta``, ...), so tests and browser tests drive
them by setting ``.value``. Meta-test runs are computed once per (agent, goal, run, protocol)
and cached, so moving the trajectory slider only redraws (``benchmarks/widget_latency.py``
times it).
"""

from __future__ import annotations

import copy
import dataclasses
import html
import io
import time
from collections.abc import Mapping
from typing import Any

import matplotlib
import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Circle

from pearl_lite.course import exploration as ex
from pearl_lite.course.plotting import COLORS
from pearl_lite.distributions import gaussian_kl
from pearl_lite.envs.point_robot import GOAL_RADIUS

#: Meta-test protocols the explorer offers: trajectories drawn from the prior first.
PROTOCOLS = {"belief updated after every trajectory": 1, "official: 5 from the prior": 5}
CUSTOM = "custom (angle and radius sliders)"


def default_goals(test_goals: np.ndarray) -> dict[str, np.ndarray]:
    """The explorer's goal menu: the test goals, one between training goals, two off the task.

    Args:
        test_goals: ``(20, 2)`` the test tasks' goals.
    """
    out: dict[str, np.ndarray] = {}
    for i, g in enumerate(np.asarray(test_goals, dtype=float)):
        out[f"test goal {i}: θ = {np.degrees(np.arctan2(g[1], g[0])):.1f}°"] = g
    # Half-way between two neighbouring goals of the 100 (training or test): 0.91° from each.
    mid = 0.5 * (ex.SEMICIRCLE_ANGLES[49] + ex.SEMICIRCLE_ANGLES[50])
    out[f"between two task goals: θ = {np.degrees(mid):.2f}°"] = ex.goal_at(np.degrees(mid))
    out["off the task: radius 1.5, θ = 60°"] = ex.goal_at(60.0, 1.5)
    out["off the task: below, θ = -60°"] = ex.goal_at(-60.0)
    return out


class _Blitter:
    """Render a figure whose static part (axes, ticks, the semicircle) is drawn only once.

    The artists in ``dynamic`` are marked animated: the first :meth:`png` draws everything
    else and keeps that background; each later call restores it, draws only the dynamic
    artists and encodes the pixels (what keeps a slider move under 300 ms on a busy CPU;
    ticks and text are most of matplotlib's drawing time). Artists in ``hidden`` (a long
    title, shown as HTML next to the image instead) are left out of the blitted image.
    After :meth:`full_draw`, ``fig.savefig`` draws everything (for animations).
    """

    def __init__(self, fig: Figure, dynamic: list[Any], hidden: list[Any] | None = None) -> None:
        self.fig, self.dynamic, self.hidden = fig, list(dynamic), list(hidden or [])
        for a in self.dynamic:
            a.set_animated(True)
        self._background: Any = None

    def full_draw(self) -> None:
        """Let ``savefig`` draw every artist (figure-level animated text is skipped otherwise),
        e.g. for an animation; the next :meth:`png` takes a new background."""
        for a in self.dynamic:
            a.set_animated(False)
        self._background = None

    def png(self) -> bytes:
        from PIL import Image

        canvas = self.fig.canvas
        if self._background is None:
            for a in self.dynamic:
                a.set_animated(True)
            for a in self.hidden:  # shown elsewhere (an HTML caption) while blitting
                a.set_visible(False)
            canvas.draw()
            self._background = canvas.copy_from_bbox(self.fig.bbox)
            for a in self.hidden:
                a.set_visible(True)
        else:
            canvas.restore_region(self._background)
        renderer = canvas.get_renderer()
        for a in self.dynamic:
            a.draw(renderer)
        buf = io.BytesIO()
        Image.fromarray(np.asarray(canvas.buffer_rgba())).save(buf, format="png",
                                                               compress_level=1)
        return buf.getvalue()


def _new_figure(figsize: tuple[float, float], dpi: float) -> Figure:
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def _plane(ax: Any, lim: float = 1.6) -> None:
    a = np.linspace(0, np.pi, 100)
    ax.plot(np.cos(a), np.sin(a), color="0.8", lw=6, zorder=0, solid_capstyle="round")
    g = ex.semicircle_goals()
    ax.scatter(g[:, 0], g[:, 1], s=3, c="0.55", zorder=1)
    ax.set(xlim=(-lim, lim), ylim=(-1.0, lim), aspect="equal")
    ax.tick_params(labelsize=7)


class TrajectoryExplorer:
    """Notebook 6's explorer: a goal, meta-test trajectories k = 0..K, the agent's hypotheses.

    Args:
        agents: ``label -> agent`` (e.g. ``{"β = 0.1": ..., "β = 1": ..., "deterministic": ...}``).
        goals: ``label -> goal (2,)``, the goal menu (:func:`default_goals`).
        n_trajs: trajectories per meta-test (20).
        n_hypotheses: z samples drawn from the belief for the hypotheses panel (64).
        n_runs: independent meta-test runs to choose from (the ``run`` slider).
        notes: ``label -> text`` shown under an agent's figure (e.g. "did not learn").
        default_agent: the agent shown first.

    Controls (ipywidgets, attributes): ``goal`` (Dropdown), ``angle`` and ``radius``
    (FloatSliders for a custom goal), ``k`` (IntSlider: trajectories so far), ``play`` (Play,
    linked to ``k``), ``beta`` (SelectionSlider over the agents), ``run`` (IntSlider),
    ``protocol`` (ToggleButtons), ``caption`` (the figure's title, HTML), ``image`` (the
    rendered figure), ``info`` (HTML).
    """

    def __init__(self, agents: Mapping[str, Any], goals: Mapping[str, np.ndarray],
                 n_trajs: int = 20, n_hypotheses: int = 64, n_runs: int = 5,
                 notes: Mapping[str, str] | None = None, default_agent: str | None = None,
                 dpi: float = 62.0) -> None:
        import ipywidgets as w

        if not agents:
            raise ValueError("agents is empty")
        self.agents, self.goals = dict(agents), {k: np.asarray(v, float) for k, v in goals.items()}
        self.n_trajs, self.n_hypotheses, self.n_runs = int(n_trajs), int(n_hypotheses), n_runs
        self.notes = dict(notes or {})
        self.dpi = dpi
        latent = {a.latent_dim for a in self.agents.values()}
        self.eps = {L: torch.randn(self.n_hypotheses, L, generator=torch.Generator()
                                   .manual_seed(1234)) for L in latent}
        self._cache: dict[tuple, dict[str, Any]] = {}
        self.fig: Figure | None = None
        self.last_view: dict[str, Any] | None = None
        self.last_render_s = float("nan")
        labels = list(self.agents)
        first = default_agent if default_agent in self.agents else labels[0]
        self.goal = w.Dropdown(options=[*self.goals, CUSTOM], value=next(iter(self.goals)),
                               description="goal", layout=w.Layout(width="360px"))
        self.angle = w.FloatSlider(value=90.0, min=-90.0, max=270.0, step=0.5,
                                   description="angle (°)", continuous_update=False)
        self.radius = w.FloatSlider(value=1.0, min=0.2, max=2.0, step=0.05,
                                    description="radius", continuous_update=False)
        self.k = w.IntSlider(value=0, min=0, max=self.n_trajs, description="trajectory k",
                             continuous_update=True)
        self.play = w.Play(value=0, min=0, max=self.n_trajs, step=1, interval=900,
                           description="play")
        w.link((self.play, "value"), (self.k, "value"))
        self.beta = w.SelectionSlider(options=labels, value=first, description="agent (β)",
                                      continuous_update=False, layout=w.Layout(width="420px"))
        self.run = w.IntSlider(value=0, min=0, max=max(n_runs - 1, 0), description="run",
                               continuous_update=False)
        self.protocol = w.ToggleButtons(options=list(PROTOCOLS), description="protocol")
        self.image = w.Image(format="png")
        self.caption = w.HTML()  # the figure's title, as text (cheaper than drawing it)
        self.info = w.HTML()
        for c in (self.goal, self.k, self.beta, self.run, self.protocol):
            c.observe(self._on_change, names="value")
        for c in (self.angle, self.radius):
            c.observe(self._on_custom, names="value")

    # ----------------------------------------------------------------------------- state
    @property
    def current_goal(self) -> np.ndarray:
        """The goal the controls select, ``(2,)``."""
        if self.goal.value == CUSTOM:
            return ex.goal_at(self.angle.value, self.radius.value)
        return self.goals[self.goal.value]

    def _on_custom(self, _change: Any) -> None:
        if self.goal.value != CUSTOM:
            self.goal.value = CUSTOM  # triggers a render
        else:
            self.render()

    def _on_change(self, _change: Any) -> None:
        self.render()

    # ----------------------------------------------------------------------------- computing
    @staticmethod
    def _key(agent_label: str, goal: np.ndarray, run: int, k_prior: int) -> tuple:
        return (agent_label, round(float(goal[0]), 6), round(float(goal[1]), 6), int(run),
                int(k_prior))

    @torch.no_grad()
    def episode(self, agent_label: str, goal: np.ndarray, run: int = 0,
                k_prior: int = 1) -> dict[str, Any]:
        """A meta-test of one goal and what the hypotheses panel needs, cached.

        The goals of the menu are meta-tested together (one batched run per agent, run and
        protocol, see :meth:`precompute`); a custom goal alone.

        Returns a dict with ``run`` (:class:`~pearl_lite.course.exploration.ExplorationRun`,
        one task), ``mu``/``var`` ``(K + 1, L)`` (the belief trajectory k + 1 draws z from,
        for k = 0..K; row K is the posterior of the whole context), ``endpoints``
        ``(K + 1, S, 2)`` (:func:`~pearl_lite.course.exploration.hypothesis_endpoints`) and
        ``kl`` ``(K + 1,)``.
        """
        goal = np.asarray(goal, dtype=float)
        key = self._key(agent_label, goal, run, k_prior)
        if key not in self._cache:
            menu = np.stack(list(self.goals.values()))
            is_menu = bool((np.abs(menu - goal).max(axis=1) < 1e-9).any())
            self._compute(agent_label, menu if is_menu else goal[None], run, k_prior)
        return self._cache[key]

    @torch.no_grad()
    def _compute(self, agent_label: str, goals: np.ndarray, run: int, k_prior: int) -> None:
        agent = self.agents[agent_label]
        res = ex.explore(agent, goals, "posterior", self.n_trajs, k_prior, seed=1000 + int(run))
        # The belief before trajectory k + 1 (k = 0..K-1) is the one z was drawn from; the
        # last row is the posterior after all K trajectories.
        post_mu, post_var = ex.beliefs_after(agent, res, np.full(len(goals), self.n_trajs))
        mu = np.concatenate([res.mu, post_mu[:, None]], axis=1)  # (G, K + 1, L)
        var = np.concatenate([res.var, post_var[:, None]], axis=1)
        G, K1, L = mu.shape
        ends = ex.hypothesis_endpoints(agent, mu.reshape(-1, L), var.reshape(-1, L),
                                       self.eps[agent.latent_dim]).reshape(G, K1, -1, 2)
        kl = (gaussian_kl(torch.as_tensor(mu), torch.as_tensor(var).clamp(min=1e-12)).numpy()
              if agent.encoder.is_probabilistic else np.full((G, K1), np.nan))
        for i, g in enumerate(goals):
            one = ex.ExplorationRun(**{
                f.name: (getattr(res, f.name)[i:i + 1]
                         if isinstance(getattr(res, f.name), np.ndarray) else
                         getattr(res, f.name)) for f in dataclasses.fields(res)})
            self._cache[self._key(agent_label, g, run, k_prior)] = {
                "run": one, "mu": mu[i], "var": var[i], "endpoints": ends[i], "kl": kl[i],
                "probabilistic": agent.encoder.is_probabilistic}

    def precompute(self, agent_labels: list[str] | None = None, runs: list[int] | None = None,
                   protocols: list[str] | None = None) -> int:
        """Meta-test every goal of the menu for these agents, runs and protocols (default:
        all), so that every move of the menus and sliders only redraws. Returns how many
        batched meta-tests it ran."""
        count = 0
        menu = np.stack(list(self.goals.values()))
        for label in agent_labels or list(self.agents):
            for run in runs if runs is not None else range(self.n_runs):
                for proto in protocols or list(PROTOCOLS):
                    kp = PROTOCOLS[proto]
                    if self._key(label, menu[0], run, kp) not in self._cache:
                        self._compute(label, menu, run, kp)
                        count += 1
        return count

    def view(self, agent_label: str | None = None, goal: np.ndarray | None = None,
             k: int | None = None, run: int | None = None,
             k_prior: int | None = None) -> dict[str, Any]:
        """What the explorer shows for one position of the controls (defaults: the controls').

        Returns a dict: ``agent``, ``goal`` (2,), ``k``, ``positions`` ``(k, H + 1, 2)``
        (trajectories so far), ``reached``/``returns`` ``(k,)``, ``endpoints`` ``(S, 2)``
        (hypotheses from the belief the next trajectory draws from), ``mu``/``var`` ``(L,)``
        of that belief, ``kl`` (to the prior; NaN for a point estimate), ``from_prior``
        (the protocol draws the next z from the prior), ``first_success`` (k of the first
        reward, or None), ``n_trajs``.
        """
        agent_label = self.beta.value if agent_label is None else agent_label
        goal = self.current_goal if goal is None else np.asarray(goal, dtype=float)
        k = self.k.value if k is None else int(k)
        run = self.run.value if run is None else int(run)
        k_prior = PROTOCOLS[self.protocol.value] if k_prior is None else int(k_prior)
        if agent_label not in self.agents:
            raise ValueError(f"unknown agent {agent_label!r}; known: {list(self.agents)}")
        if not 0 <= k <= self.n_trajs:
            raise ValueError(f"k must be in 0..{self.n_trajs}, got {k}")
        ep = self.episode(agent_label, goal, run, k_prior)
        res = ep["run"]
        found = np.flatnonzero(res.reached[0])
        self.last_view = {
            "agent": agent_label, "goal": goal, "k": k, "run": run, "k_prior": k_prior,
            "positions": res.positions[0, :k], "reached": res.reached[0, :k],
            "returns": res.returns[0, :k], "endpoints": ep["endpoints"][k],
            "mu": ep["mu"][k], "var": ep["var"][k], "kl": float(ep["kl"][k]),
            "from_prior": k < k_prior and k < self.n_trajs,
            "probabilistic": ep["probabilistic"],
            "first_success": int(found[0]) + 1 if found.size else None,
            "n_trajs": self.n_trajs, "note": self.notes.get(agent_label, ""),
        }
        return self.last_view

    # ----------------------------------------------------------------------------- drawing
    def _build(self) -> Figure:
        fig = _new_figure((13.0, 3.5), self.dpi)
        gs = fig.add_gridspec(1, 4, width_ratios=[1.25, 1.25, 0.8, 0.9], left=0.04, right=0.99,
                              bottom=0.16, top=0.82, wspace=0.28)
        ax_tr, ax_hy, ax_var, ax_rew = (fig.add_subplot(gs[i]) for i in range(4))
        art: dict[str, Any] = {}
        for ax in (ax_tr, ax_hy):
            _plane(ax)
            art[f"goal_{id(ax)}"] = ax.scatter([0], [0], marker="*", s=160, c=COLORS["goal"],
                                               zorder=6)
            disc = Circle((0, 0), GOAL_RADIUS, color=COLORS["goal"], alpha=0.2, lw=0, zorder=2)
            ax.add_patch(disc)
            art[f"disc_{id(ax)}"] = disc
            ax.scatter([0], [0], marker="s", s=25, c="k", zorder=7)
        art["traj"] = LineCollection([], linewidths=1.3, zorder=4)
        ax_tr.add_collection(art["traj"])
        art["traj_ends"] = ax_tr.scatter(np.zeros((0, 2))[:, 0], np.zeros((0, 2))[:, 1], s=14,
                                         zorder=5)
        art["hyp_trace"] = LineCollection([], linewidths=0.8, colors="0.75", zorder=3)
        ax_hy.add_collection(art["hyp_trace"])
        art["hyp"] = ax_hy.scatter(np.zeros(self.n_hypotheses), np.zeros(self.n_hypotheses),
                                   s=14, c=COLORS["posterior"], alpha=0.75, zorder=8,
                                   edgecolors="none")
        ax_tr.set_title("trajectories so far", fontsize=10)
        art["hy_title"] = ax_hy.text(0.5, 1.03, "", transform=ax_hy.transAxes, ha="center",
                                     fontsize=9)
        L = max(a.latent_dim for a in self.agents.values())
        art["var_bars"] = ax_var.bar(np.arange(1, L + 1), np.ones(L), color=COLORS["posterior"])
        ax_var.axhline(1.0, color=COLORS["prior"], ls="--", lw=1)
        ax_var.set(yscale="log", ylim=(1e-3, 30), xlabel="latent dimension",
                   xticks=np.arange(1, L + 1))
        ax_var.tick_params(labelsize=7)
        art["var_title"] = ax_var.text(0.5, 1.03, "", transform=ax_var.transAxes, ha="center",
                                       fontsize=10)
        K = self.n_trajs
        art["rew_bars"] = ax_rew.bar(np.arange(1, K + 1), np.zeros(K), color=COLORS["pearl"])
        ax_rew.set(xlim=(0.4, K + 0.6), ylim=(0, 20), xlabel="trajectory k",
                   title="rewards seen (sparse return)")
        ax_rew.title.set_fontsize(10)
        ax_rew.tick_params(labelsize=7)
        art["rew_text"] = ax_rew.text(0.03, 0.95, "", transform=ax_rew.transAxes, va="top",
                                      fontsize=8)
        art["suptitle"] = fig.suptitle("", fontsize=11)
        art["note"] = fig.text(0.01, 0.01, "", fontsize=8, color=COLORS["goal"])
        self._axes = (ax_tr, ax_hy, ax_var, ax_rew)
        self._art = art
        self.fig = fig
        dynamic = [a for key, a in art.items() if key not in ("var_bars", "rew_bars",
                                                               "suptitle")]
        self._blit = _Blitter(fig, [*dynamic, *art["var_bars"], *art["rew_bars"]],
                              hidden=[art["suptitle"]])
        return fig

    def draw(self, view: dict[str, Any]) -> Figure:
        """Update the explorer's figure (built on first use) to show ``view``; returns it."""
        fig = self.fig if self.fig is not None else self._build()
        art, (ax_tr, ax_hy, _, _) = self._art, self._axes
        goal = view["goal"]
        for ax in (ax_tr, ax_hy):
            art[f"goal_{id(ax)}"].set_offsets([goal])
            art[f"disc_{id(ax)}"].center = tuple(goal)
        k, K = view["k"], view["n_trajs"]
        cmap = matplotlib.colormaps["viridis"]
        colors = cmap(np.linspace(0.0, 0.9, K))[:k]
        pos = view["positions"]
        art["traj"].set_segments([p for p in pos])
        art["traj"].set_colors(colors)
        art["traj"].set_linestyles(["--" if i < view["k_prior"] else "-" for i in range(k)]
                                   or "-")
        art["traj_ends"].set_offsets(pos[:, -1] if k else np.zeros((0, 2)))
        art["traj_ends"].set_color(colors if k else "none")
        art["hyp"].set_offsets(view["endpoints"])
        art["hyp_trace"].set_segments([p for p in pos])
        if view["probabilistic"]:
            src = "prior N(0, I)" if view["from_prior"] else f"q(z | {k * 20} transitions)"
            kl = f", KL {view['kl']:.1f} nats" if np.isfinite(view["kl"]) else ""
            hy_title = f"{self.n_hypotheses} hypotheses: z ~ {src}{kl}"
        else:
            hy_title = "deterministic: one z (point estimate), no hypotheses to sample"
        art["hy_title"].set_text(hy_title)
        var = np.clip(view["var"], 1e-3, None)
        for bar, v in zip(art["var_bars"], var, strict=False):
            bar.set_height(v)
        art["var_title"].set_text("belief variance per dim" if view["probabilistic"]
                                  else "belief variance: 0 (a point)")
        rets = np.zeros(K)
        rets[:k] = view["returns"]
        for i, (bar, r) in enumerate(zip(art["rew_bars"], rets, strict=True)):
            bar.set_height(r)
            bar.set_color(COLORS["posterior"] if i < k and view["reached"][i] else COLORS["pearl"])
        fs = view["first_success"]
        art["rew_text"].set_text(
            f"{int(view['reached'].sum())} of {k} reached the goal" + (
                f"\nfirst reward at k = {fs}" if fs is not None and fs <= k else ""))
        g_ang = np.degrees(np.arctan2(goal[1], goal[0]))
        art["suptitle"].set_text(
            f"{view['agent']}, goal at θ = {g_ang:.1f}°, radius {np.linalg.norm(goal):.2f}; "
            f"after k = {k} of {K} trajectories (run {view['run']}, "
            f"{view['k_prior']} from the prior)")
        art["note"].set_text(view.get("note", ""))
        return fig

    def render(self) -> dict[str, Any]:
        """Recompute the view of the current controls, redraw, and update ``self.image``."""
        t0 = time.perf_counter()
        view = self.view()
        self.draw(view)
        self.caption.value = f"<b>{html.escape(self._art['suptitle'].get_text())}</b>"
        self.image.value = self._blit.png()
        self.last_render_s = time.perf_counter() - t0
        first = view["first_success"]
        self.info.value = (f"<small>render {1000 * self.last_render_s:.0f} ms; goal found "
                           + (f"at trajectory {first}" if first else "in none of the "
                              f"{self.n_trajs} trajectories") + "</small>")
        return view

    def widget(self) -> Any:
        """The whole explorer as one ipywidgets box (renders once)."""
        import ipywidgets as w

        self.render()
        return w.VBox([
            w.HBox([self.goal, self.beta]),
            w.HBox([self.angle, self.radius]),
            w.HBox([self.play, self.k, self.run]),
            self.protocol, self.caption, self.image, self.info,
        ])

    def animation(self, agent_label: str, goal: np.ndarray, run: int = 0, k_prior: int = 1,
                  interval: int = 800) -> Any:
        """A matplotlib ``FuncAnimation`` of the explorer over k = 0..K (for ``to_jshtml``)."""
        from matplotlib.animation import FuncAnimation

        # A shallow copy with a figure of its own (the meta-test cache is shared): the widget's
        # figure and its blitting background stay as they are, so the live widget still
        # redraws after the animation has been saved and its figure closed.
        anim = copy.copy(self)
        anim.fig = None
        fig = anim.draw(anim.view(agent_label, goal, 0, run, k_prior))
        anim._blit.full_draw()

        def frame(k: int) -> list:
            anim.draw(anim.view(agent_label, goal, k, run, k_prior))
            return []

        return FuncAnimation(fig, frame, frames=range(self.n_trajs + 1), interval=interval,
                             blit=False)


class ContextExplorer:
    """Notebook 6's context-size slider: encode the first N transitions of one context.

    Args:
        agent: the agent.
        runs: ``goal label -> ExplorationRun`` (one task each), whose whole context (up to
            ``K * H`` transitions, in the order collected) the slider walks through.
        n_hypotheses: z samples for the hypotheses (64).

    Controls (attributes): ``n`` (IntSlider 0..N_max), ``goal`` (Dropdown), ``image``.
    """

    def __init__(self, agent: Any, runs: Mapping[str, ex.ExplorationRun],
                 n_hypotheses: int = 64, dpi: float = 66.0) -> None:
        import ipywidgets as w

        if not runs:
            raise ValueError("runs is empty")
        self.agent, self.runs, self.dpi = agent, dict(runs), dpi
        self.eps = torch.randn(n_hypotheses, agent.latent_dim,
                               generator=torch.Generator().manual_seed(4321))
        self._cache: dict[str, dict[str, Any]] = {}
        first = next(iter(self.runs.values()))
        self.n_max = first.n_trajs * first.obs.shape[2]
        self.fig: Figure | None = None
        self.last_view: dict[str, Any] | None = None
        self.last_render_s = float("nan")
        self.n = w.IntSlider(value=0, min=0, max=self.n_max, description="context N",
                             continuous_update=True, layout=w.Layout(width="500px"))
        self.goal = w.Dropdown(options=list(self.runs), description="goal",
                               layout=w.Layout(width="360px"))
        self.image = w.Image(format="png")
        for c in (self.n, self.goal):
            c.observe(lambda _c: self.render(), names="value")

    def data(self, label: str) -> dict[str, Any]:
        """Beliefs, hypotheses and the share pointing where the agent already was, for every
        N = 0..N_max (cached): ``mu``/``var`` ``(N + 1, L)``, ``endpoints`` ``(N + 1, S, 2)``,
        ``visited`` ``(N, 2)`` (position after each transition), ``reward`` ``(N,)``,
        ``near`` ``(N + 1,)`` (:func:`~pearl_lite.course.exploration.near_visited` of the
        first N positions)."""
        if label in self._cache:
            return self._cache[label]
        res = self.runs[label]
        ctx = res.context(self.agent, 0)
        mu, var = ex.beliefs_by_size(self.agent, ctx)
        ends = ex.hypothesis_endpoints(self.agent, mu, var, self.eps)
        visited = res.positions[0, :, 1:].reshape(-1, 2)
        reward = res.reward[0].reshape(-1)
        near = np.array([ex.near_visited(ends[n], visited[:n]) if n else 0.0
                         for n in range(len(ends))])
        out = {"mu": mu, "var": var, "endpoints": ends, "visited": visited, "reward": reward,
               "near": near, "goal": res.goals[0]}
        self._cache[label] = out
        return out

    def view(self, label: str | None = None, n: int | None = None) -> dict[str, Any]:
        """What the slider shows: the first ``n`` transitions, the belief, the hypotheses."""
        label = self.goal.value if label is None else label
        n = self.n.value if n is None else int(n)
        if not 0 <= n <= self.n_max:
            raise ValueError(f"n must be in 0..{self.n_max}, got {n}")
        d = self.data(label)
        rewarded = np.flatnonzero(d["reward"] > 0)
        self.last_view = {"label": label, "n": n, "goal": d["goal"],
                          "visited": d["visited"][:n], "reward": d["reward"][:n],
                          "endpoints": d["endpoints"][n], "mu": d["mu"][n], "var": d["var"][n],
                          "var_curve": d["var"].mean(1), "near_curve": d["near"],
                          "first_reward_n": int(rewarded[0]) + 1 if rewarded.size else None}
        return self.last_view

    def draw(self, view: dict[str, Any]) -> Figure:
        """Update (building on first use) the figure: plane, belief width and share vs N."""
        if self.fig is None:
            fig = _new_figure((12.0, 3.5), self.dpi)
            gs = fig.add_gridspec(1, 3, width_ratios=[1.2, 1, 1], left=0.05, right=0.98,
                                  bottom=0.16, top=0.84, wspace=0.3)
            ax0, ax1, ax2 = (fig.add_subplot(gs[i]) for i in range(3))
            _plane(ax0)
            a = {"goal": ax0.scatter([0], [0], marker="*", s=160, c=COLORS["goal"], zorder=6),
                 "disc": ax0.add_patch(Circle((0, 0), GOAL_RADIUS, color=COLORS["goal"],
                                              alpha=0.2, lw=0)),
                 "seen0": ax0.scatter([], [], s=5, c="0.45", zorder=3),
                 "seen1": ax0.scatter([], [], s=12, c=COLORS["goal"], zorder=4),
                 "hyp": ax0.scatter(np.zeros(len(self.eps)), np.zeros(len(self.eps)), s=14,
                                    c=COLORS["posterior"], alpha=0.75, zorder=5,
                                    edgecolors="none")}
            x = np.arange(self.n_max + 1)
            a["var_line"], = ax1.plot(x, np.ones_like(x, dtype=float), color=COLORS["posterior"])
            ax1.axhline(1.0, color=COLORS["prior"], ls="--", lw=1)
            ax1.set(yscale="log", ylim=(1e-3, 300), xlabel="context size N",
                    title="belief variance (mean)")
            a["near_line"], = ax2.plot(x, np.zeros_like(x, dtype=float), color=COLORS["accent"])
            ax2.set(ylim=(-0.02, 1.02), xlabel="context size N",
                    title="hypotheses ending where it has been")
            a["mark1"] = ax1.axvline(0, color="k", lw=0.8)
            a["mark2"] = ax2.axvline(0, color="k", lw=0.8)
            a["rew1"] = ax1.axvline(-10, color=COLORS["goal"], lw=0.8, ls=":")
            a["rew2"] = ax2.axvline(-10, color=COLORS["goal"], lw=0.8, ls=":")
            for ax in (ax0, ax1, ax2):
                ax.tick_params(labelsize=7)
                ax.title.set_fontsize(10)
            a["title"] = ax0.text(0.5, 1.03, "", transform=ax0.transAxes, ha="center",
                                  fontsize=9)
            self.fig, self._a, self._ax = fig, a, (ax0, ax1, ax2)
            self._blit = _Blitter(fig, list(a.values()))
        a = self._a
        a["goal"].set_offsets([view["goal"]])
        a["disc"].center = tuple(view["goal"])
        vis, rew = view["visited"], view["reward"]
        a["seen0"].set_offsets(vis[rew <= 0] if len(vis) else np.zeros((0, 2)))
        a["seen1"].set_offsets(vis[rew > 0] if len(vis) else np.zeros((0, 2)))
        a["hyp"].set_offsets(view["endpoints"])
        a["var_line"].set_ydata(np.clip(view["var_curve"], 1e-4, None))
        a["near_line"].set_ydata(view["near_curve"])
        for m in (a["mark1"], a["mark2"]):
            m.set_xdata([view["n"], view["n"]])
        fr = view["first_reward_n"]
        for m in (a["rew1"], a["rew2"]):
            m.set_xdata([fr, fr] if fr is not None else [-10, -10])
        n_rew = int((rew > 0).sum())
        a["title"].set_text(f"N = {view['n']} transitions ({n_rew} rewarded); "
                            f"{len(self.eps)} hypotheses")
        return self.fig

    def render(self) -> dict[str, Any]:
        """Recompute, redraw and update ``self.image``."""
        t0 = time.perf_counter()
        view = self.view()
        self.draw(view)
        self.image.value = self._blit.png()
        self.last_render_s = time.perf_counter() - t0
        return view

    def widget(self) -> Any:
        """The context slider as one ipywidgets box (renders once)."""
        import ipywidgets as w

        self.render()
        return w.VBox([w.HBox([self.goal, self.n]), self.image])


__all__ = ["CUSTOM", "PROTOCOLS", "ContextExplorer", "TrajectoryExplorer", "default_goals"]
