"""Replay PEARL's gradient step as one captured CUDA graph (``cuda_graphs=True`` on a GPU).

At the paper's sizes the eager step on a GPU is bound by kernel-launch overhead, not by
arithmetic: hundreds of small kernels, each launched from Python. A CUDA graph records the
step's kernels once, on fixed memory, and replays them all with one call (PyTorch's
whole-network capture recipe). What is computed does not change: the same kernels on the same
inputs (a GPU test compares the replayed step with the eager one, step by step).

    trainer = MetaTrainer(cfg, device="cuda")
    use_cuda_graphs(trainer)  # as `python -m pearl_lite.train --set cuda_graphs=True` does

The paper's maths lives in :meth:`pearl_lite.pearl.learner.PEARLLearner.update`; this module
only records and replays it. Every step must have the shapes of the first.
"""

from __future__ import annotations

from typing import Any

import torch

from pearl_lite import distributions
from pearl_lite.pearl import MetaTrainer, PEARLLearner

Tensor = torch.Tensor


class CUDAGraphStep:
    """``learner.update`` recorded on its first call and replayed on every later one.

    Call it like the step itself: ``stats = step(batch, context)``. The optimisers' learning
    rates are read at every replay, so ``learner.set_lr_scale`` keeps working.
    """

    def __init__(self, learner: PEARLLearner) -> None:
        self.learner = learner
        self._graph: torch.cuda.CUDAGraph | None = None
        self._batch: dict[str, Tensor] = {}
        self._context: Tensor | None = None
        self._out: dict[str, Tensor] = {}
        self._lrs: list[tuple[dict[str, Any], Tensor]] = []  # (param group, its lr tensor)

    @property
    def captured(self) -> bool:
        """Whether the step has been recorded (on the first call)."""
        return self._graph is not None

    def __call__(self, batch: dict[str, Tensor], context: Tensor) -> dict[str, Tensor]:
        if self._graph is None:
            self._capture(batch, context)
        assert self._context is not None
        if set(batch) != set(self._batch) or context.shape != self._context.shape or any(
                batch[k].shape != v.shape for k, v in self._batch.items()):
            raise ValueError("cuda_graphs: every step must have the shapes of the first "
                             f"(context {tuple(self._context.shape)}, batch "
                             f"{ {k: tuple(v.shape) for k, v in self._batch.items()} })")
        for k, v in self._batch.items():
            v.copy_(batch[k])
        self._context.copy_(context)
        for group, lr in self._lrs:  # a learning rate set since the last step (a float)
            if group["lr"] is not lr:
                lr.fill_(float(group["lr"]))
                group["lr"] = lr
        self._graph.replay()
        return {k: v.clone() for k, v in self._out.items()}

    def _capture(self, batch: dict[str, Tensor], context: Tensor) -> None:
        """Record one gradient step into a CUDA graph.

        A few eager warm-up steps on a side stream allocate the gradients and Adam's state
        (allocated inside the capture instead, Adam's zero-initialised moments would be zeroed
        again at every replay). Their effect on the networks, Adam's moments and the random
        stream is then undone in place, so that capturing changes nothing but the speed.
        """
        learner, agent, device = self.learner, self.learner.agent, batch["obs"].device
        if device.type != "cuda":
            raise ValueError(f"cuda_graphs needs CUDA tensors, got a batch on {device}")
        self._batch = {k: v.clone() for k, v in batch.items()}
        self._context = context.clone()
        tensors = list(agent.parameters()) + list(agent.buffers())
        saved_tensors = [t.detach().clone() for t in tensors]
        saved_moments = [{p: {k: v.clone() for k, v in st.items() if torch.is_tensor(v)}
                          for p, st in opt.state.items()} for opt in learner.optimizers]
        saved_rng = torch.cuda.get_rng_state(device)
        side = torch.cuda.Stream(device)
        side.wait_stream(torch.cuda.current_stream(device))
        with torch.cuda.stream(side):
            for _ in range(3):
                learner.update(self._batch, self._context)
        torch.cuda.current_stream(device).wait_stream(side)
        with torch.no_grad():
            for t, saved in zip(tensors, saved_tensors, strict=True):
                t.copy_(saved)
            for opt, saved in zip(learner.optimizers, saved_moments, strict=True):
                for p, st in opt.state.items():  # step counts and moments; never seen: zero
                    for k, v in st.items():
                        if not torch.is_tensor(v):
                            continue
                        if p in saved:
                            v.copy_(saved[p][k])
                        else:
                            v.zero_()
        for opt in learner.optimizers:
            for group in opt.param_groups:  # a graph may replay only capturable optimisers,
                group["capturable"] = True  # whose learning rate is a tensor on the device
                group["lr"] = torch.tensor(float(group["lr"]), device=device)
                self._lrs.append((group, group["lr"]))
        torch.cuda.set_rng_state(saved_rng, device)
        self._graph = torch.cuda.CUDAGraph()
        # The distributions' value checks read results back to the host, which a capture
        # forbids; they ran in the warm-up steps above.
        validate = distributions.set_validate_values(False)
        try:
            with torch.cuda.graph(self._graph):
                self._out = learner.update(self._batch, self._context)
        finally:
            distributions.set_validate_values(validate)


def use_cuda_graphs(trainer: MetaTrainer) -> bool:
    """Make ``trainer`` replay its gradient step as a CUDA graph, where it can.

    Only with ``trainer.cfg.cuda_graphs`` and a CUDA device; else the eager step stays (the
    flag then changes nothing). Returns whether the graph step is in use.
    """
    if not (trainer.cfg.cuda_graphs and trainer.device.type == "cuda"):
        return False
    trainer.gradient_step = CUDAGraphStep(trainer.learner)
    return True


__all__ = ["CUDAGraphStep", "use_cuda_graphs"]
