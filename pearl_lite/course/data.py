"""Loading the data sets shipped in ``data/``.

- :func:`load_digits`: the 8x8 handwritten digits of notebook 1 (the VAE), split into a fixed
  training set (1,497 images) and test set (300 images). ``scripts/make_digits.py`` made the file
  from scikit-learn's copy of the UCI "Optical Recognition of Handwritten Digits" test set.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

#: The repository's ``data/`` folder.
DATA_DIR = Path(__file__).resolve().parents[2] / "data"

#: Each 8x8 pixel counts the "on" pixels of a 4x4 block of the original 32x32 bitmap: 0..16.
PIXEL_MAX = 16


@dataclass
class Digits:
    """The digits, pixels scaled to [0, 1] (divided by :data:`PIXEL_MAX`), as float32 tensors."""

    x_train: torch.Tensor
    """Training images, shape ``(1497, 64)``, values ``k / 16`` for integer ``k`` in 0..16."""
    y_train: torch.Tensor
    """Training labels, shape ``(1497,)``, int64 digits 0..9 (used only for colouring plots)."""
    x_test: torch.Tensor
    """Test images, shape ``(300, 64)``; never used for training."""
    y_test: torch.Tensor
    """Test labels, shape ``(300,)``."""


def load_digits(path: str | Path | None = None) -> Digits:
    """Load the shipped 8x8 digits with their fixed train/test split (notebook 1).

    Args:
        path: the ``.npz`` file; default ``data/digits.npz`` in this repository.

    Returns:
        a :class:`Digits` with images flattened to 64 pixels in ``[0, 1]``.
    """
    path = DATA_DIR / "digits.npz" if path is None else Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} not found; recreate it with python scripts/make_digits.py")
    with np.load(path) as f:
        arrays = {k: f[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    for k in ("x_train", "x_test"):
        if arrays[k].ndim != 2 or arrays[k].shape[1] != 64 or arrays[k].max() > PIXEL_MAX:
            raise ValueError(f"{path}: {k} must have shape (N, 64) with values 0..{PIXEL_MAX}")
    return Digits(
        x_train=torch.as_tensor(arrays["x_train"], dtype=torch.float32) / PIXEL_MAX,
        y_train=torch.as_tensor(arrays["y_train"], dtype=torch.int64),
        x_test=torch.as_tensor(arrays["x_test"], dtype=torch.float32) / PIXEL_MAX,
        y_test=torch.as_tensor(arrays["y_test"], dtype=torch.int64),
    )
