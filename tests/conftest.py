"""Shared test configuration.

``--impl=stubs`` (default) checks the learner's exercise stubs in ``pearl_lite/exercises``;
untouched stubs are skipped. ``--impl=solutions`` checks the library's reference solutions
(what CI runs).
"""

from __future__ import annotations

import os

import matplotlib
import pytest
import torch

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")
# One thread: the tests use small networks, where thread start-up costs more than it saves, and
# a single thread keeps floating-point reductions in one order.
torch.set_num_threads(1)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--impl",
        action="store",
        default="stubs",
        choices=("stubs", "solutions"),
        help="check the learner's exercise stubs (default) or the reference solutions",
    )


@pytest.fixture
def impl(request: pytest.FixtureRequest) -> str:
    """``"stubs"`` or ``"solutions"``, from ``--impl``."""
    return request.config.getoption("--impl")


@pytest.fixture
def exercise(impl: str):
    """``exercise("ex1_vae", "gaussian_kl")`` -> the function to test under ``--impl``."""
    from pearl_lite.exercises import load

    return lambda module, name: load(module, name, impl)
