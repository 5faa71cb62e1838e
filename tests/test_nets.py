"""The shared network blocks: MLP, EnsembleMLP and polyak_update."""

import pytest
import torch

from pearl_lite.nets import MLP, EnsembleMLP, polyak_update


def test_mlp_shapes_and_bad_input():
    torch.manual_seed(0)
    net = MLP(4, 2, (8, 8))
    assert net(torch.zeros(5, 4)).shape == (5, 2)
    assert net(torch.zeros(3, 5, 4)).shape == (3, 5, 2)
    with pytest.raises(ValueError, match="last dimension 4"):
        net(torch.zeros(5, 3))


def test_mlp_output_scale_shrinks_last_layer():
    torch.manual_seed(0)
    big = MLP(4, 2, (8,))
    torch.manual_seed(0)
    small = MLP(4, 2, (8,), output_scale=1e-3)
    assert torch.allclose(small.net[-1].weight, big.net[-1].weight * 1e-3)


def test_ensemble_matches_independent_members():
    """Each member of the batched ensemble equals an ordinary MLP with the same weights."""
    torch.manual_seed(0)
    ens = EnsembleMLP(3, 4, 2, (8, 8))
    x = torch.randn(5, 4)
    out = ens(x)
    assert out.shape == (3, 5, 2)
    for k in range(3):
        h = x
        for i, layer in enumerate(ens.layers):
            h = h @ layer.weight[k] + layer.bias[k]
            if i < len(ens.layers) - 1:
                h = torch.relu(h)
        torch.testing.assert_close(out[k], h)
    # Per-member inputs give per-member outputs.
    xs = torch.randn(3, 5, 4)
    torch.testing.assert_close(ens(xs)[1], ens(xs[1])[1])
    with pytest.raises(ValueError, match=r"\(3, B, 4\)"):
        ens(torch.randn(2, 5, 4))


def test_polyak_update():
    online = [torch.ones(3), torch.full((2,), 2.0)]
    target = [torch.zeros(3), torch.zeros(2)]
    polyak_update(online, target, tau=0.25)
    torch.testing.assert_close(target[0], torch.full((3,), 0.25))
    torch.testing.assert_close(target[1], torch.full((2,), 0.5))
    polyak_update(online, target, tau=1.0)
    torch.testing.assert_close(target[1], online[1])
    with pytest.raises(ValueError, match="tau must be in"):
        polyak_update(online, target, tau=1.5)
    with pytest.raises(ValueError, match="online and"):
        polyak_update(online, target[:1], tau=0.5)
