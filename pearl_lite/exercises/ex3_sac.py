"""Exercises of notebook 3 (soft actor-critic). Fill in the bodies; keep the signatures.

Check: ``pytest tests/exercises/test_ex3_sac.py`` or, in the notebook,
``checks.run(checks.check_tanh_gaussian_log_prob, ex3_sac.tanh_gaussian_log_prob)``.
"""

from __future__ import annotations

import torch

REFERENCES = {
    "tanh_gaussian_log_prob": "pearl_lite.distributions:tanh_gaussian_log_prob",
    "soft_q_target": "pearl_lite.sac:soft_q_target",
    "temperature_loss": "pearl_lite.sac:temperature_loss",
}


def tanh_gaussian_log_prob(
    u: torch.Tensor, mean: torch.Tensor, log_std: torch.Tensor
) -> torch.Tensor:
    """Ex 3.1: log pi(a) of the action ``a = tanh(u)``, given the pre-tanh sample ``u``.

    ``u ~ N(mean, exp(log_std)^2)`` per dimension. Shapes: ``u`` is ``(..., A)``, ``mean`` and
    ``log_std`` broadcast to it; return ``(...)``, summed over the action dimension.
    Hint: change of variables, ``log pi(a) = log N(u) - log|da/du|`` with ``da/du = 1 - tanh(u)^2``.
    Do not compute ``log(1 - tanh(u)**2)`` literally: at ``u = 20`` tanh rounds to 1 in float32.
    Use ``log(1 - tanh(u)^2) = 2 * (log 2 - u - softplus(-2u))``.
    """
    raise NotImplementedError(
        "Ex 3.1: implement tanh_gaussian_log_prob in pearl_lite/exercises/ex3_sac.py"
    )


def soft_q_target(
    reward: torch.Tensor,
    next_q: torch.Tensor,
    next_log_prob: torch.Tensor,
    terminated: torch.Tensor,
    gamma: float,
    alpha: float | torch.Tensor,
) -> torch.Tensor:
    """Ex 3.2: the soft Bellman target for the twin critics, shape ``(B,)``.

    ``reward``, ``next_log_prob`` (log pi(a'|s')) and ``terminated`` are ``(B,)``; ``next_q``
    holds the two *target* critics at ``(s', a')``, shape ``(2, B)``.
    Hint: ``r + gamma * mask * (softened value of s')``. Why is there no ``truncated`` argument?
    Which of the two Q estimates do you trust?
    """
    raise NotImplementedError("Ex 3.2: implement soft_q_target in pearl_lite/exercises/ex3_sac.py")


def temperature_loss(
    log_alpha: torch.Tensor, log_prob: torch.Tensor, target_entropy: float
) -> torch.Tensor:
    """Ex 3.3: the loss whose gradient tunes ``log_alpha`` (a scalar).

    ``log_alpha`` is a trainable 0-d tensor, ``log_prob`` ``(B,)`` the log-probabilities of
    fresh policy actions, ``target_entropy`` usually ``-act_dim``.
    Hint: multiply ``log_alpha`` (not alpha) by ``log_prob + target_entropy``, averaged over the
    batch. Check the sign: entropy below target must *raise* alpha. This loss must not train the
    policy.
    """
    raise NotImplementedError(
        "Ex 3.3: implement temperature_loss in pearl_lite/exercises/ex3_sac.py"
    )
