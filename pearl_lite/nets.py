"""Network building blocks shared by SAC (notebook 3) and PEARL (notebook 4).

- :class:`MLP`: a plain multi-layer perceptron.
- :class:`EnsembleMLP`: ``K`` independent MLPs evaluated in one batched matrix multiply, so the
  twin Q critics (or an ensemble) cost one forward pass instead of ``K``.
- :func:`polyak_update`: the soft target-network update ``target <- (1 - tau) target + tau online``.
- :func:`adam`: Adam with the fused kernel where torch has it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import torch
from torch import nn

Tensor = torch.Tensor


class MLP(nn.Module):
    """``in_dim -> hidden... -> out_dim`` with ReLU between layers and none at the end.

    Args:
        in_dim: input features.
        out_dim: output features.
        hidden_sizes: width of each hidden layer, e.g. ``(300, 300, 300)`` as in PEARL.
        output_scale: the last layer's weights and bias are scaled by this factor at
            initialisation (small values, such as 1e-3 for policy heads, start near zero).
    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        hidden_sizes: Sequence[int] = (256, 256),
        output_scale: float = 1.0,
    ) -> None:
        super().__init__()
        sizes = [in_dim, *hidden_sizes, out_dim]
        layers: list[nn.Module] = []
        for i in range(len(sizes) - 1):
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)
        self.in_dim, self.out_dim = in_dim, out_dim
        if output_scale != 1.0:
            last = layers[-1]
            assert isinstance(last, nn.Linear)
            with torch.no_grad():
                last.weight.mul_(output_scale)
                last.bias.mul_(output_scale)

    def forward(self, x: Tensor) -> Tensor:
        """``(..., in_dim) -> (..., out_dim)``."""
        if x.shape[-1] != self.in_dim:
            raise ValueError(f"MLP expects inputs with last dimension {self.in_dim}, "
                             f"got shape {tuple(x.shape)}")
        return self.net(x)


class EnsembleLinear(nn.Module):
    """``K`` independent linear layers applied with one batched matmul.

    Weight shape ``(K, in_dim, out_dim)``; input ``(K, B, in_dim)`` -> output ``(K, B, out_dim)``.
    Initialised like ``nn.Linear`` (uniform in +-1/sqrt(in_dim)) for each member.
    """

    def __init__(self, n_members: int, in_dim: int, out_dim: int) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(in_dim)
        self.weight = nn.Parameter(torch.empty(n_members, in_dim, out_dim).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(n_members, 1, out_dim).uniform_(-bound, bound))

    def forward(self, x: Tensor) -> Tensor:
        # baddbmm computes bias + x @ weight for every member in a single kernel.
        return torch.baddbmm(self.bias, x, self.weight)


class EnsembleMLP(nn.Module):
    """``n_members`` MLPs with identical shapes, evaluated together.

    Used for SAC's twin critics (``n_members=2``): both Q networks see the same batch, so one
    batched matmul per layer replaces two separate forward passes.

    Args:
        n_members: number of independent networks K.
        in_dim, out_dim, hidden_sizes: as for :class:`MLP`.
    """

    def __init__(
        self, n_members: int, in_dim: int, out_dim: int, hidden_sizes: Sequence[int] = (256, 256)
    ) -> None:
        super().__init__()
        sizes = [in_dim, *hidden_sizes, out_dim]
        self.layers = nn.ModuleList(
            EnsembleLinear(n_members, sizes[i], sizes[i + 1]) for i in range(len(sizes) - 1)
        )
        self.n_members, self.in_dim, self.out_dim = n_members, in_dim, out_dim

    def forward(self, x: Tensor) -> Tensor:
        """``(B, in_dim)`` (shared by all members) or ``(K, B, in_dim)`` -> ``(K, B, out_dim)``."""
        if x.shape[-1] != self.in_dim:
            raise ValueError(f"EnsembleMLP expects inputs with last dimension {self.in_dim}, "
                             f"got shape {tuple(x.shape)}")
        if x.dim() == 2:
            x = x.unsqueeze(0).expand(self.n_members, -1, -1)
        elif x.dim() != 3 or x.shape[0] != self.n_members:
            raise ValueError(f"EnsembleMLP expects (B, {self.in_dim}) or "
                             f"({self.n_members}, B, {self.in_dim}), got {tuple(x.shape)}")
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = torch.relu(x)
        return x


@torch.no_grad()
def polyak_update(params: Iterable[Tensor], target_params: Iterable[Tensor], tau: float) -> None:
    """Soft update of target networks: ``target <- (1 - tau) * target + tau * online``.

    ``tau = 1`` copies the online weights; PEARL and SAC use ``tau = 0.005``. The update is done
    in place with one fused ``torch._foreach_lerp_`` call over all tensors.
    """
    if not 0.0 <= tau <= 1.0:
        raise ValueError(f"tau must be in [0, 1], got {tau}")
    params, target_params = list(params), list(target_params)
    if len(params) != len(target_params):
        raise ValueError(f"polyak_update got {len(params)} online and {len(target_params)} "
                         "target tensors")
    torch._foreach_lerp_(target_params, params, tau)


def adam(params: Iterable[Tensor] | Iterable[dict], lr: float = 3e-4) -> torch.optim.Adam:
    """``torch.optim.Adam`` over ``params`` (tensors or parameter groups), fused where possible.

    The fused kernel updates every tensor of the optimiser in one call (CPU and CUDA); torch
    builds without it fall back to the multi-tensor ``foreach`` implementation.
    """
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError):  # older torch without the fused CPU kernel
        return torch.optim.Adam(params, lr=lr, foreach=True)
