"""Train the beta grid of VAEs that notebook 1's slider reads, and cache it in data/.

    python scripts/train_vae_grid.py                      # writes data/vae_beta_grid.pt
    python scripts/train_vae_grid.py --out runs/grid.pt --epochs 20   # a quick trial elsewhere

Each model is a :class:`pearl_lite.course.vae.VAE` trained by
:func:`pearl_lite.course.vae.train_vae` with the
default :class:`~pearl_lite.course.vae.VAEConfig` except its beta (same seed for every beta).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from pearl_lite.course.data import load_digits
from pearl_lite.course.vae import BETA_GRID_PATH, VAEConfig, save_beta_grid, train_beta_grid

#: The betas of the shipped grid, log-spaced around the true ELBO's beta = 1.
BETAS = (0.1, 0.2, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=BETA_GRID_PATH)
    parser.add_argument("--epochs", type=int, default=VAEConfig.n_epochs)
    parser.add_argument("--latent-dim", type=int, default=VAEConfig.latent_dim)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cfg = VAEConfig(latent_dim=args.latent_dim, n_epochs=args.epochs, seed=args.seed)
    t0 = time.perf_counter()
    grid = train_beta_grid(BETAS, cfg, load_digits(), log=print)
    grid["command"] = (f"python scripts/train_vae_grid.py --epochs {args.epochs} "
                       f"--latent-dim {args.latent_dim} --seed {args.seed}")
    save_beta_grid(grid, args.out)
    print(f"wrote {args.out} in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
