"""The learner's exercises: one module per notebook, each function a stub to fill in.

Every stub raises ``NotImplementedError("Ex N.M: ...")`` until the learner writes it. Each module
declares ``REFERENCES``, a mapping from the stub's name to the library function that solves it
(``"pearl_lite.distributions:gaussian_kl"``); the reference solutions live in the library.

Check your work two ways:

- in the notebook: ``checks.run(checks.check_gaussian_kl, ex1_vae.gaussian_kl)``;
- from a shell: ``pytest tests/exercises`` (untouched stubs show as skipped, not failed).
  ``pytest --impl=solutions`` runs the same tests on the reference solutions.

**Your code in the loop.** ``exercises.use("mine")`` makes the library call your implementations
wherever it calls the reference of an exercise: SAC then trains with your ``soft_q_target``,
``temperature_loss`` and ``tanh_gaussian_log_prob``, the encoder infers with your
``product_of_gaussians`` and ``kl_bottleneck``, and PEARL trains and meta-tests with your
context sampler, losses, storage protocol and posterior sampling. ``exercises.use("reference")``
(the default) switches back. For scripts, set the environment variable
``PEARL_LITE_EXERCISES=mine``. An exercise you have not done yet (its stub still raises
``NotImplementedError("Ex ...")``) falls back to the reference, with a one-line notice printed
once per function.

How the library asks: at each call site of an exercise's reference it calls
``implementation("ex3_sac.soft_q_target", soft_q_target)(...)``, which in the reference mode is
one lookup in an empty dict returning the reference itself. Wired so far: Ex 1.3 (``elbo``, in
``train_vae``), Ex 2.1-2.2 (the encoder), Ex 3.1-3.3 (SAC, and PEARL's policy and temperature)
and Ex 4.1-4.5 (PEARL). This package sits at the bottom of
the library's layers and imports nothing from the library: references are named by strings.
"""

from __future__ import annotations

import functools
import importlib
import os
import pkgutil
import sys
from collections.abc import Callable
from typing import Any, TypeVar

IMPLS = ("stubs", "solutions")
#: What :func:`use` accepts: the library's own functions, or the learner's.
MODES = ("reference", "mine")
#: The environment variable that sets the mode when the package is first imported.
ENV_VAR = "PEARL_LITE_EXERCISES"

F = TypeVar("F", bound=Callable[..., Any])


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


# ---- your code in the loop --------------------------------------------------------------------

#: ``"ex3_sac.soft_q_target" -> (module, name)`` for every exercise, filled in "mine" mode only:
#: in the reference mode it stays empty, so :func:`implementation` costs one failed lookup.
_ACTIVE: dict[str, tuple[str, str]] = {}
_MODE = ["reference"]
_NOTICED: set[str] = set()  # exercises whose fallback notice was printed
_UNTOUCHED: dict[str, Callable[..., Any]] = {}  # key -> the stub function found untouched


def mode() -> str:
    """The current mode: ``"reference"`` (the library's functions) or ``"mine"``."""
    return _MODE[0]


def use(which: str) -> None:
    """Make the library call the learner's exercises (``"mine"``) or its own (``"reference"``).

    ``use("mine")`` (re)loads the exercise modules first, so edits made since the kernel started
    count; after a later edit, call it again (or run the exercise's check cell, which reloads
    too). Untouched stubs fall back to the reference with a notice printed once per function
    (again after each ``use("mine")``).

    Raises:
        ValueError: ``which`` is not one of :data:`MODES`.
    """
    if which not in MODES:
        raise ValueError(f"exercises.use() takes one of {MODES}, got {which!r}")
    active: dict[str, tuple[str, str]] = {}
    if which == "mine":  # (re)load every exercise module first: a file that fails changes nothing
        for module in exercise_modules():
            full = f"{__name__}.{module}"
            mod = importlib.reload(sys.modules[full]) if full in sys.modules else \
                importlib.import_module(full)
            for name in mod.REFERENCES:
                active[f"{module}.{name}"] = (full, name)
    _NOTICED.clear()
    _UNTOUCHED.clear()
    _ACTIVE.clear()
    _ACTIVE.update(active)
    _MODE[0] = which


def implementation(key: str, default: F) -> F:
    """The function the library should call for exercise ``key`` (``"ex3_sac.soft_q_target"``).

    ``default`` is the library's reference, returned as it is in the reference mode. In the
    "mine" mode: a function that calls the learner's current version (looked up at every call,
    so a reloaded or replaced function counts) and, while that is still the untouched stub,
    calls ``default`` instead.
    """
    found = _ACTIVE.get(key)
    if found is None:
        return default
    return functools.partial(_call_mine, key, found, default)  # type: ignore[return-value]


def _call_mine(key: str, found: tuple[str, str], default: Callable[..., Any], *args: Any,
               **kwargs: Any) -> Any:
    fn = getattr(sys.modules[found[0]], found[1])
    if _UNTOUCHED.get(key) is fn:
        return default(*args, **kwargs)
    try:
        return fn(*args, **kwargs)
    except NotImplementedError as err:
        if not str(err).startswith("Ex "):  # the learner's own NotImplementedError
            raise
        _UNTOUCHED[key] = fn
        if key not in _NOTICED:
            _NOTICED.add(key)
            print(f"[exercises] {key} is not implemented yet: using the reference "
                  f"({importlib.import_module(found[0]).REFERENCES[found[1]]}).")
        return default(*args, **kwargs)


def _use_from_environment() -> None:
    value = os.environ.get(ENV_VAR, "").strip()
    if not value:
        return
    if value not in MODES:
        raise ValueError(f"environment variable {ENV_VAR} must be one of {MODES}, got {value!r}")
    use(value)


_use_from_environment()
