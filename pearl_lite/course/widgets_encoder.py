"""Notebook 2's sliders: the context-size, order and beta explorer of the context encoder.

Introduced in notebook 2. The slider callback is plain Python in :class:`EncoderExplorer`:
:meth:`EncoderExplorer.view` computes everything one slider position shows (a dict of tensors
and numbers) and :meth:`EncoderExplorer.draw` turns it into a figure, so tests drive the sliders
without a browser. The models come from a cache trained ahead of time
(:func:`pearl_lite.course.toy_tasks.load_cache`), so the sliders answer at once.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.patches import Ellipse

from pearl_lite.course.plotting import COLORS
from pearl_lite.course.toy_tasks import (
    GoalTasks,
    exact_posterior,
    model_name,
    posterior_for_size,
    posterior_metrics,
    shuffled,
)

Tensor = torch.Tensor
ORDERS = ("ordered", "shuffled")


def ellipse_2sigma(mu, cov, **kwargs) -> Ellipse:
    """A matplotlib ellipse of Mahalanobis radius 2 around ``mu`` for a 2x2 covariance ``cov``.

    ``cov`` may also be a length-2 vector of variances (a diagonal covariance).
    """
    cov = np.asarray(cov, dtype=float)
    if cov.shape == (2,):
        cov = np.diag(cov)
    if cov.shape != (2, 2):
        raise ValueError(f"cov must be (2,) variances or a (2, 2) matrix, got {cov.shape}")
    evals, evecs = np.linalg.eigh(cov)
    angle = math.degrees(math.atan2(evecs[1, 1], evecs[0, 1]))  # direction of the major axis
    w, h = 4 * np.sqrt(np.maximum(evals[::-1], 0.0))  # full widths: 2 x (2 sigma)
    return Ellipse(tuple(np.asarray(mu, dtype=float)), w, h, angle=angle, **kwargs)


class EncoderExplorer:
    """Everything behind the explorer widget.

    Args:
        models: ``name -> (encoder, config, history)`` from
            :func:`pearl_lite.course.toy_tasks.load_cache`.
        eval_set: held-out tasks from :func:`pearl_lite.course.toy_tasks.make_eval_set`.
        tasks: the task family the models were trained on.
    """

    def __init__(self, models: dict, eval_set: dict[str, Tensor], tasks: GoalTasks) -> None:
        self.models, self.eval_set, self.tasks = models, eval_set, tasks
        self.betas = sorted(cfg.beta for name, (_, cfg, _) in models.items()
                            if name.startswith("product/"))
        self.kinds = [k for k in ("product", "mean", "recurrent")
                      if any(n == k or n.startswith(k + "/") for n in models)]
        self.n_max = eval_set["context"].shape[1]
        self.n_tasks = eval_set["goals"].shape[0]
        self.last_view: dict | None = None

    def encoder_for(self, kind: str, beta: float):
        """The cached encoder of ``kind`` at ``beta`` (the product encoder has several betas;
        the others were trained at beta = 1 only, and ``beta`` is ignored for them)."""
        if kind not in self.kinds:
            raise ValueError(f"kind must be one of {self.kinds}, got {kind!r}")
        if kind == "product":
            name = model_name(kind, beta)
            if name not in self.models:
                raise ValueError(f"no cached product encoder at beta={beta:g}; cached betas: "
                                 f"{[f'{b:g}' for b in self.betas]}")
            return self.models[name][0]
        return next(m[0] for n, m in self.models.items() if n == kind or n.startswith(kind + "/"))

    @torch.no_grad()
    def view(self, kind: str = "product", beta: float = 1.0, n_context: int = 8,
             order: str = "ordered", task: int = 0) -> dict:
        """What the explorer shows for one position of the sliders.

        Returns a dict with the chosen ``task``'s posterior ``mu``, ``var`` (each ``(2,)``), its
        true ``goal``, the ``exact_mu``/``exact_cov`` Bayesian posterior, the per-transition
        ``factor_mu``/``factor_var`` (``(n, 2)``; product encoder only, else None), and
        ``metrics`` over all held-out tasks at this context size
        (:func:`pearl_lite.course.toy_tasks.posterior_metrics`).
        """
        if order not in ORDERS:
            raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
        if not 0 <= task < self.n_tasks:
            raise ValueError(f"task must be in 0..{self.n_tasks - 1}, got {task}")
        if not 0 <= n_context <= self.n_max:
            raise ValueError(f"n_context must be in 0..{self.n_max}, got {n_context}")
        encoder = self.encoder_for(kind, beta)
        ev = self.eval_set
        mu, var = posterior_for_size(encoder, ev, n_context, order)
        metrics = posterior_metrics(mu, var, ev["goals"], self.tasks, ev["query"])
        context = ev["context"][task : task + 1, :n_context]
        if order == "shuffled":
            context = shuffled(context, ev["perm"][task : task + 1, :n_context].argsort(dim=1))
        exact_mu, exact_cov = exact_posterior(self.tasks, context)
        factor_mu = factor_var = None
        if kind == "product" and n_context > 0:
            factor_mu, factor_var = (t[0] for t in encoder.factors(context))
        self.last_view = {
            "kind": kind, "beta": beta, "n_context": n_context, "order": order, "task": task,
            "mu": mu[task], "var": var[task], "goal": ev["goals"][task],
            "exact_mu": exact_mu[0], "exact_cov": exact_cov[0],
            "factor_mu": factor_mu, "factor_var": factor_var, "metrics": metrics,
        }
        return self.last_view

    @torch.no_grad()
    def bottleneck_curve(self, n_context: int) -> dict[str, np.ndarray]:
        """Metrics of the product encoder at every cached beta for one context size."""
        rows = []
        for b in self.betas:
            mu, var = posterior_for_size(self.encoder_for("product", b), self.eval_set, n_context)
            rows.append(posterior_metrics(mu, var, self.eval_set["goals"], self.tasks,
                                          self.eval_set["query"]))
        out = {k: np.array([r[k] for r in rows]) for k in rows[0]}
        out["beta"] = np.array(self.betas)
        return out

    def draw(self, view: dict, fig=None):
        """Left: the posterior against the true task; right: the beta trade-off at this size."""
        if fig is None:
            fig = plt.figure(figsize=(10, 4.2))
        fig.clf()
        ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.1, 1]})
        mu, var, goal = (view[k].numpy() for k in ("mu", "var", "goal"))
        ax.add_patch(ellipse_2sigma([0, 0], [1, 1], fill=False, ls=":", color=COLORS["prior"],
                                    label="prior 2σ"))
        if view["factor_mu"] is not None:
            fmu, fvar = view["factor_mu"].numpy(), view["factor_var"].numpy()
            for i in range(min(len(fmu), 32)):
                ax.add_patch(ellipse_2sigma(fmu[i], np.minimum(fvar[i], 25.0), fill=False,
                                            alpha=0.25, lw=0.8, color=COLORS["accent"],
                                            label="factors 2σ" if i == 0 else None))
        ax.add_patch(ellipse_2sigma(view["exact_mu"].numpy(), view["exact_cov"].numpy(),
                                    fill=False, ls="--", color=COLORS["reference"],
                                    label="exact posterior 2σ"))
        if var.max() > 0:
            ax.add_patch(ellipse_2sigma(mu, var, alpha=0.3, color=COLORS["posterior"],
                                        label="encoder 2σ"))
        ax.plot(*mu, "o", color=COLORS["posterior"], label="encoder mean")
        ax.plot(*goal, "*", ms=14, color=COLORS["goal"], label="true task g")
        ax.set(xlim=(-3.2, 3.2), ylim=(-3.2, 3.2), aspect="equal", xlabel="$z_1$",
               ylabel="$z_2$")
        m = view["metrics"]
        cov = "" if math.isnan(m["coverage"]) else f", coverage {m['coverage']:.0%}"
        ax.set_title(f"{view['kind']} β={view['beta']:g}: N={view['n_context']} "
                     f"({view['order']}){cov}", fontsize=10)
        ax.legend(fontsize=7, loc="lower left")
        curve = self.bottleneck_curve(view["n_context"])
        ax2.semilogx(curve["beta"], curve["kl"], "o-", label="KL to prior (nats kept)")
        ax2.semilogx(curve["beta"], curve["std"], "s-", label="posterior std")
        ax2.semilogx(curve["beta"], curve["reward_rmse"], "^-", label="reward RMSE")
        ax2.semilogx(curve["beta"], curve["coverage"], "d-", label="2σ coverage")
        ax2.axhline(0.865, color=COLORS["prior"], ls=":", lw=1)
        if view["kind"] == "product":
            ax2.axvline(view["beta"], color="k", lw=0.8)
        ax2.set(xlabel="β", title=f"information bottleneck at N={view['n_context']}")
        ax2.legend(fontsize=7)
        fig.tight_layout()
        return fig

    def widget(self):
        """The ipywidgets explorer: sliders for N, beta, task, and the order and encoder kind."""
        import ipywidgets as w
        from IPython.display import display

        controls = {
            "n_context": w.IntSlider(value=min(4, self.n_max), min=0, max=self.n_max,
                                     description="context N"),
            "beta": w.SelectionSlider(options=self.betas, value=1.0 if 1.0 in self.betas
                                      else self.betas[0], description="β"),
            "order": w.ToggleButtons(options=list(ORDERS), description="order"),
            "kind": w.Dropdown(options=self.kinds, value=self.kinds[0], description="encoder"),
            "task": w.IntSlider(value=0, min=0, max=self.n_tasks - 1, description="task"),
        }
        out = w.Output()

        def on_change(**values):
            view = self.view(**values)
            with out:
                out.clear_output(wait=True)
                fig = self.draw(view)
                display(fig)
                plt.close(fig)
            return view

        w.interactive_output(on_change, controls)
        ui = w.VBox([w.HBox([controls["n_context"], controls["beta"]]),
                     w.HBox([controls["order"], controls["kind"], controls["task"]]), out])
        ui.controls = controls  # so tests (and curious learners) can move the sliders
        return ui
