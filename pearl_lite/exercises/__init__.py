"""The learner's exercises: one module per notebook, each function a stub to fill in.

Every stub raises ``NotImplementedError("Ex N.M: ...")`` until the learner writes it. Each module
declares ``REFERENCES``, a mapping from the stub's name to the library function that solves it
(``"pearl_lite.distributions:gaussian_kl"``); the reference solutions live in the library.

Check your work two ways:

- in the notebook: ``checks.run(checks.check_gaussian_kl, ex1_vae.gaussian_kl)``;
- from a shell: ``pytest tests/exercises`` (untouched stubs show as skipped, not failed).
  ``pytest --impl=solutions`` runs the same tests on the reference solutions.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

IMPLS = ("stubs", "solutions")


def exercise_modules() -> list[str]:
    """Names of the exercise modules, e.g. ``["ex1_vae", "ex2_encoder", ...]``."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.startswith("ex"))


def reference(module: str, name: str) -> Callable[..., Any]:
    """The library's reference solution for exercise ``name`` of ``module``."""
    mod = importlib.import_module(f"{__name__}.{module}")
    try:
        target = mod.REFERENCES[name]
    except KeyError:
        raise ValueError(
            f"{module} has no exercise {name!r}; it has {sorted(mod.REFERENCES)}"
        ) from None
    mod_path, _, attr = target.partition(":")
    return getattr(importlib.import_module(mod_path), attr)


def stub(module: str, name: str) -> Callable[..., Any]:
    """The learner's version of exercise ``name`` in ``module`` (possibly still a stub)."""
    mod = importlib.import_module(f"{__name__}.{module}")
    if name not in mod.REFERENCES:
        raise ValueError(f"{module} has no exercise {name!r}; it has {sorted(mod.REFERENCES)}")
    return getattr(mod, name)


def load(module: str, name: str, impl: str = "stubs") -> Callable[..., Any]:
    """The function a test should check: the learner's stub or the reference solution.

    For ``impl="stubs"`` the returned function turns the stub's ``NotImplementedError`` into a
    pytest skip, so an exercise not attempted yet shows as skipped rather than failed.
    """
    if impl not in IMPLS:
        raise ValueError(f"impl must be one of {IMPLS}, got {impl!r}")
    if impl == "solutions":
        return reference(module, name)
    fn = stub(module, name)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except NotImplementedError as err:
            import pytest

            pytest.skip(f"not implemented yet: {err}")

    return wrapper
