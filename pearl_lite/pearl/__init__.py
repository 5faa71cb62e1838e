"""PEARL itself: the paper's boxes, one a file (notebook 4).

- :mod:`~pearl_lite.pearl.agent`: :class:`PEARLAgent`, the encoder q(z | c), the policy
  pi(a | s, z), twin Q(s, a, z), V(s, z) and its target V-bar;
- :mod:`~pearl_lite.pearl.learner`: :class:`PEARLLearner`, the critic loss that trains the
  encoder, the actor and value losses on a detached z, one gradient step on a meta-batch;
- :mod:`~pearl_lite.pearl.sampler`: :func:`rollout`, one trajectory in many tasks at once, z
  fixed for the whole trajectory;
- :mod:`~pearl_lite.pearl.meta_train`: :class:`MetaTrainer`, Algorithm 1 (meta-training);
- :mod:`~pearl_lite.pearl.meta_test`: :func:`meta_test`, Algorithm 2 (adaptation by posterior
  sampling), and :class:`MetaTestResult`.

This package imports the building blocks (``distributions``, ``nets``, ``buffers``,
``encoder``, ``sac``), ``envs`` and ``config``, and never ``runtime`` or ``course``.
"""

from pearl_lite.pearl.agent import PEARLAgent
from pearl_lite.pearl.learner import PEARLLearner
from pearl_lite.pearl.meta_test import MetaTestResult, meta_test, posterior_sampling
from pearl_lite.pearl.meta_train import MetaTrainer
from pearl_lite.pearl.sampler import Paths, rollout

__all__ = ["MetaTestResult", "MetaTrainer", "PEARLAgent", "PEARLLearner", "Paths", "meta_test",
           "posterior_sampling", "rollout"]
