"""Create ``data/digits.npz`` from scikit-learn's bundled 8x8 handwritten digits (run once).

    python scripts/make_digits.py

scikit-learn's ``load_digits`` (BSD-3) ships a copy of the test set of the UCI "Optical
Recognition of Handwritten Digits" data (Alpaydin and Kaynak, 1998; CC BY 4.0): 1,797 images of
8x8 pixels. Each pixel counts the "on" pixels of a 4x4 block of a 32x32 bitmap, so it is an
integer from 0 to 16. We store those integers (uint8) with a fixed, seeded train/test split of
1,497/300 images, so the course needs scikit-learn only for this one-off script.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from pearl_lite.utils import atomic_write_bytes

OUT = Path(__file__).resolve().parents[1] / "data" / "digits.npz"
N_TEST = 300
SEED = 0


def main() -> None:
    from sklearn.datasets import load_digits  # one-off dependency, not needed by the course

    bunch = load_digits()
    images = bunch.data.astype(np.uint8)  # (1797, 64), values 0..16
    labels = bunch.target.astype(np.uint8)  # (1797,), digits 0..9
    assert images.shape == (1797, 64) and images.max() == 16
    perm = np.random.default_rng(SEED).permutation(len(images))
    test_idx, train_idx = np.sort(perm[:N_TEST]), np.sort(perm[N_TEST:])
    buf = io.BytesIO()
    np.savez_compressed(
        buf,
        x_train=images[train_idx], y_train=labels[train_idx],
        x_test=images[test_idx], y_test=labels[test_idx],
    )
    atomic_write_bytes(OUT, buf.getvalue())
    print(f"wrote {OUT}: {len(train_idx)} train, {len(test_idx)} test images")


if __name__ == "__main__":
    main()
