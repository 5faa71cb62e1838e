"""The beta slider of notebook 1: what a beta-VAE keeps of an image as the KL weight changes.

The logic lives in plain functions that tests drive without a browser:

- :func:`beta_view` gathers, for the grid model nearest a given beta, its reconstructions,
  samples, per-dimension KL, latent layout, and the whole grid's rate-distortion curve;
- :func:`beta_figure` draws one view;
- :func:`beta_slider` wires a ``SelectionSlider`` over the grid's betas to :func:`beta_figure`.

The grid comes from :func:`pearl_lite.course.vae.load_beta_grid` (trained ahead, so the slider
answers
at once).
"""

from __future__ import annotations

import math
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch

from pearl_lite.course.plotting import COLORS
from pearl_lite.course.vae import grid_model


def tile_images(images: np.ndarray | torch.Tensor, n_cols: int, pad: int = 1) -> np.ndarray:
    """Arrange ``(n, 64)`` 8x8 images in rows of ``n_cols``, separated by ``pad`` blank pixels.

    Returns one 2-D array for ``plt.imshow``; missing cells at the end stay blank (NaN).
    """
    images = np.asarray(images, dtype=float).reshape(-1, 8, 8)
    if n_cols < 1:
        raise ValueError(f"n_cols must be >= 1, got {n_cols}")
    n_rows = max(1, math.ceil(len(images) / n_cols))
    out = np.full((n_rows * (8 + pad) - pad, n_cols * (8 + pad) - pad), np.nan)
    for i, img in enumerate(images):
        r, c = divmod(i, n_cols)
        out[r * (8 + pad):r * (8 + pad) + 8, c * (8 + pad):c * (8 + pad) + 8] = img
    return out


def nearest_beta_index(betas: list[float], beta: float) -> int:
    """Index of the grid beta closest to ``beta`` on a log scale (betas are log-spaced)."""
    if beta <= 0:
        raise ValueError(f"beta must be > 0, got {beta}")
    return int(np.argmin([abs(math.log(b) - math.log(beta)) for b in betas]))


@torch.no_grad()
def beta_view(grid: dict[str, Any], beta: float, x: torch.Tensor, y: torch.Tensor,
              n_show: int = 10, seed: int = 0) -> dict[str, Any]:
    """Everything the slider shows for the grid model nearest ``beta``, as numpy arrays.

    Args:
        grid: from :func:`pearl_lite.course.vae.load_beta_grid`.
        beta: the requested KL weight; the nearest grid value is used.
        x, y: images ``(N, 64)`` (test images) and their digit labels ``(N,)``.
        n_show: how many images to reconstruct and to sample.

    Returns:
        a dict with ``index``, ``beta`` (the grid value used), ``originals`` and
        ``reconstructions`` (``(n_show, 64)``), ``samples`` (``(n_show, 64)``, z from the
        prior), ``kl_per_dim`` (``(D,)``), ``latent`` (``(N, 2)``: the posterior means in the
        two dimensions with the largest KL, named in ``latent_dims``), ``labels`` (``(N,)``),
        and for the whole grid ``betas``, ``rate`` (test KL) and ``distortion`` (minus the test
        reconstruction log-likelihood), each ``(len(betas),)``.
    """
    if x.dim() != 2 or x.shape[1] != 64 or len(x) != len(y):
        raise ValueError(f"x must be (N, 64) with N labels in y, got {tuple(x.shape)} and "
                         f"{tuple(y.shape)}")
    index = nearest_beta_index(grid["betas"], beta)
    model = grid_model(grid, index)
    kl_dims = np.asarray(grid["kl_per_dim"][index])
    top2 = np.sort(np.argsort(kl_dims)[::-1][:2])
    mu, _ = model.encode(x)
    return {
        "index": index,
        "beta": grid["betas"][index],
        "originals": x[:n_show].numpy(),
        "reconstructions": model.reconstruct(x[:n_show]).numpy(),
        "samples": model.sample(n_show, torch.Generator().manual_seed(seed)).numpy(),
        "kl_per_dim": kl_dims,
        "latent": mu[:, top2].numpy(),
        "latent_dims": top2.tolist(),
        "labels": y.numpy(),
        "betas": np.asarray(grid["betas"]),
        "rate": np.asarray(grid["test_kl"]),
        "distortion": -np.asarray(grid["test_recon_log_lik"]),
    }


def beta_figure(view: dict[str, Any]) -> plt.Figure:
    """Draw a :func:`beta_view`: images on top; KL per dimension, rate-distortion, latent map."""
    fig = plt.figure(figsize=(12, 6.6), dpi=80)
    gs = fig.add_gridspec(2, 3, height_ratios=[1.0, 1.5], hspace=0.35, wspace=0.3)
    ax = fig.add_subplot(gs[0, :])
    n = len(view["originals"])
    strip = np.concatenate([view["originals"], view["reconstructions"], view["samples"]])
    ax.imshow(tile_images(strip, n), cmap="gray_r", vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([4, 13, 22], ["test images", "reconstructions", "samples from p(z)"])
    ax.grid(False)
    rate = view["rate"][view["index"]]
    ax.set_title(f"β = {view['beta']:g}: rate KL = {rate:.1f} nats, "
                 f"distortion −log p(x|z) = {view['distortion'][view['index']]:.1f} nats")

    ax = fig.add_subplot(gs[1, 0])
    d = len(view["kl_per_dim"])
    ax.bar(range(d), view["kl_per_dim"], color=COLORS["pearl"])
    ax.set(xlabel="latent dimension", ylabel="KL (nats, test mean)", title="KL per dimension",
           xticks=range(d))

    ax = fig.add_subplot(gs[1, 1])
    ax.plot(view["rate"], view["distortion"], "o-", color=COLORS["prior"])
    for b, r, dist in zip(view["betas"], view["rate"], view["distortion"], strict=True):
        ax.annotate(f"{b:g}", (r, dist), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.plot([rate], [view["distortion"][view["index"]]], "o", ms=12, color=COLORS["goal"])
    ax.set(xlabel="rate = KL (nats)", ylabel="distortion = −recon (nats)",
           title="rate–distortion (test set)")

    ax = fig.add_subplot(gs[1, 2])
    sc = ax.scatter(view["latent"][:, 0], view["latent"][:, 1], c=view["labels"], cmap="tab10",
                    s=10, vmin=-0.5, vmax=9.5)
    fig.colorbar(sc, ax=ax, ticks=range(10), label="digit")
    i, j = view["latent_dims"]
    ax.set(xlabel=f"mean of z[{i}]", ylabel=f"mean of z[{j}]",
           title="posterior means, two busiest dims")
    return fig


def beta_slider(grid: dict[str, Any], x: torch.Tensor, y: torch.Tensor, beta: float = 1.0):
    """An ipywidgets box: a slider over the grid's betas above the :func:`beta_figure`.

    Returns ``(box, slider)``; moving ``slider`` (by hand, or ``slider.value = 4.0`` in code)
    redraws the figure in the box's output area.
    """
    import ipywidgets as widgets
    from IPython.display import display

    betas = grid["betas"]
    slider = widgets.SelectionSlider(
        options=[(f"{b:g}", b) for b in betas], value=betas[nearest_beta_index(betas, beta)],
        description="β (KL weight)", continuous_update=False,
        style={"description_width": "initial"}, layout={"width": "500px"})
    out = widgets.Output()

    def redraw(change: Any = None) -> None:
        with out:
            out.clear_output(wait=True)
            fig = beta_figure(beta_view(grid, slider.value, x, y))
            display(fig)
            plt.close(fig)

    slider.observe(redraw, names="value")
    redraw()
    return widgets.VBox([slider, out]), slider
