"""Train notebook 1's VAE for longer than the notebook does and record its learning curve.

Notebook 1 trains the default VAE (latent 8, 128 x 128, beta 1, seed 0) for 400 epochs, where
its plotted test ELBO is still rising. This run continues the same training (same seed, same
batches) to ``--epochs`` and writes the train and test ELBO every ``--eval-every`` epochs, so
the notebook can show where the test ELBO peaks and what longer training does to it.

    python scripts/vae_learning_curve.py --epochs 1600 --eval-every 50 \\
        --out data/vae_learning_curve.json
"""

from __future__ import annotations

import argparse
import time

import torch

from pearl_lite.course.data import load_digits
from pearl_lite.course.vae import VAEConfig, train_vae
from pearl_lite.utils import atomic_write_json


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=1600)
    p.add_argument("--eval-every", type=int, default=50)
    p.add_argument("--out", default="data/vae_learning_curve.json")
    args = p.parse_args()
    torch.set_num_threads(1)
    cfg = VAEConfig(latent_dim=8, hidden_sizes=(128, 128), beta=1.0, lr=1e-3, batch_size=128,
                    n_epochs=args.epochs, eval_every=args.eval_every, seed=0)
    t0 = time.perf_counter()
    _, history = train_vae(cfg, load_digits())
    out = {"config": {k: getattr(cfg, k) for k in cfg.__dataclass_fields__},
           "seconds": round(time.perf_counter() - t0, 1),
           "command": f"python scripts/vae_learning_curve.py --epochs {args.epochs} "
                      f"--eval-every {args.eval_every} --out {args.out}",
           **{k: [float(v) for v in history[k]] for k in ("epoch", "train_elbo", "test_elbo")}}
    atomic_write_json(args.out, out)
    best = max(range(len(out["epoch"])), key=lambda i: out["test_elbo"][i])
    print(f"wrote {args.out}: best test ELBO {out['test_elbo'][best]:.2f} at epoch "
          f"{out['epoch'][best]:.0f}; at {out['epoch'][-1]:.0f}: {out['test_elbo'][-1]:.2f}")


if __name__ == "__main__":
    main()
