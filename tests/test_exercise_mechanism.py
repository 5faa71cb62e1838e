"""The exercise mechanism itself: stubs match references, and the checks catch mistakes."""

import ast
import importlib
import inspect

import pytest
import torch

from pearl_lite.course import checks
from pearl_lite.distributions import gaussian_kl
from pearl_lite.exercises import exercise_modules, load, reference, stub


def _all_exercises():
    for module in exercise_modules():
        mod = importlib.import_module(f"pearl_lite.exercises.{module}")
        for name in mod.REFERENCES:
            yield module, name


def test_there_are_exercises():
    assert len(list(_all_exercises())) >= 1


@pytest.mark.parametrize(("module", "name"), list(_all_exercises()))
def test_stub_signature_matches_reference(module, name):
    s, r = inspect.signature(stub(module, name)), inspect.signature(reference(module, name))
    assert list(s.parameters) == list(r.parameters), f"{module}.{name}: parameter names differ"
    for p in s.parameters:
        assert s.parameters[p].default == r.parameters[p].default, f"{module}.{name}: {p}"
        assert s.parameters[p].kind == r.parameters[p].kind, f"{module}.{name}: kind of {p}"


@pytest.mark.parametrize(("module", "name"), list(_all_exercises()))
def test_shipped_stub_raises_numbered_not_implemented(module, name, impl):
    """In the shipped repo every stub is a stub; a learner's edited copy is exempt."""
    if impl != "solutions":
        pytest.skip("the learner's copy may be filled in")
    src = inspect.getsource(stub(module, name))
    tree = ast.parse(inspect.cleandoc("\n" + src) if src.startswith(" ") else src)
    raises = [n for n in ast.walk(tree) if isinstance(n, ast.Raise)]
    assert raises, f"{module}.{name} has no raise"
    msg = ast.unparse(raises[-1])
    assert "NotImplementedError" in msg and "Ex " in msg, msg


def test_untouched_stub_is_skipped_not_failed():
    fn = load("ex1_vae", "gaussian_kl", "stubs")
    with pytest.raises(pytest.skip.Exception):
        fn(torch.zeros(1, 2), torch.ones(1, 2))


def test_load_rejects_bad_impl():
    with pytest.raises(ValueError, match="impl must be one of"):
        load("ex1_vae", "gaussian_kl", "answers")


def test_check_passes_reference_and_hints_at_classic_mistakes():
    assert checks.check_gaussian_kl(gaussian_kl)

    def batch_summed(mu_q, var_q, mu_p=None, var_p=None):
        return gaussian_kl(mu_q, var_q, mu_p, var_p).sum()

    def std_for_var(mu_q, var_q, mu_p=None, var_p=None):
        return gaussian_kl(mu_q, var_q**2, mu_p, None if var_p is None else var_p**2)

    def reversed_direction(mu_q, var_q, mu_p=None, var_p=None):
        if mu_p is None:
            return gaussian_kl(torch.zeros_like(mu_q), torch.ones_like(var_q), mu_q, var_q)
        return gaussian_kl(mu_p, var_p, mu_q, var_q)

    for wrong, hint in [
        (batch_summed, "over the batch"),
        (std_for_var, "variances, not standard deviations"),
        (reversed_direction, "KL(p || q)"),
    ]:
        with pytest.raises(AssertionError, match=hint):
            checks.check_gaussian_kl(wrong)
        assert checks.run(checks.check_gaussian_kl, wrong) is False
