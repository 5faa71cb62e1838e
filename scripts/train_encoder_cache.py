"""Train the context encoders behind notebook 2's sliders and save them to one small file.

    python scripts/train_encoder_cache.py                              # data/encoder_toy_cache.pt
    python scripts/train_encoder_cache.py --out /tmp/cache.pt --gradient-steps 50   # a quick try

Trains the product-of-Gaussians encoder at each beta of
``pearl_lite.course.toy_tasks.CACHE_BETAS`` and
the mean-pooling and recurrent encoders at beta = 1, on the goal-velocity toy tasks
(``pearl_lite.course.toy_tasks``), and writes their weights, configs and training curves with
``pearl_lite.course.toy_tasks.build_cache``. Record the command in data/README.md when you
change it.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from pearl_lite.course.toy_tasks import build_cache, cache_configs

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "encoder_toy_cache.pt")
    parser.add_argument("--gradient-steps", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.time()
    build_cache(cache_configs(args.gradient_steps, args.seed), args.out)
    print(f"wrote {args.out} in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
