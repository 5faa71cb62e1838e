"""What the paper does not describe: the commands, run folders and checkpoints, CUDA graphs.

- :mod:`~pearl_lite.runtime.train`: ``python -m pearl_lite.train`` (a resumable run folder);
- :mod:`~pearl_lite.runtime.evaluate`: ``python -m pearl_lite.evaluate`` (meta-test a run);
- :mod:`~pearl_lite.runtime.benchmark`: ``python -m pearl_lite.benchmark`` (the resumable suite of
  every family and seed, on this machine or a Ray cluster, and its summary; notebook 5);
- :mod:`~pearl_lite.runtime.checkpoint`: run-folder files, checkpoint formats, config checks;
- :mod:`~pearl_lite.runtime.cuda_graphs`: the gradient step replayed as one CUDA graph.

Imports the algorithm (``pearl_lite.pearl``) and the building blocks, never ``course``.
"""
