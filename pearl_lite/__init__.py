"""pearl-lite: a compact, readable PEARL (Rakelly et al., ICML 2019) and the course built on it.

The package is in four parts, each importing only the parts below it (a layers contract in
``pyproject.toml``, checked by the test suite with import-linter):

1. **course** (``pearl_lite.course``): what only the notebooks need: the VAE and its digits,
   toy tasks, widgets, figures, plotting, exercise checks. Nothing in the library imports it.
2. **runtime** (``pearl_lite.runtime``): what the paper does not describe: the ``train``,
   ``evaluate`` and ``benchmark`` commands, run folders and checkpoints, CUDA-graph replay of
   the step.
3. **the algorithm** (``pearl_lite.pearl``, with ``pearl_lite.envs`` and ``pearl_lite.config``):
   the paper's boxes, one a file: agent, learner (the losses), sampler, Algorithm 1
   (``meta_train``), Algorithm 2 (``meta_test``); the task distributions; the presets.
4. **building blocks** (notebooks 1-3): ``distributions`` (Gaussian KL, product of Gaussians,
   tanh-Gaussian), ``nets``, ``buffers``, ``encoder`` (PEARL's context encoders), ``sac``
   (soft actor-critic), ``utils`` (seeding, devices, smoke mode, atomic files, CSV logs).

``pearl_lite.exercises`` holds the learner's stubs; ``pearl_lite.train``,
``pearl_lite.evaluate`` and ``pearl_lite.benchmark`` are the ``python -m`` entry points of the
runtime's commands.
"""

__version__ = "0.1.0"
