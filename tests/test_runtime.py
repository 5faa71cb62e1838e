"""pearl_lite.runtime: config compatibility of checkpoints, and the CUDA-graph step."""

import pytest
import torch

# The small learner and batches of the PEARL tests (tests/ is on sys.path under pytest).
from test_pearl import ACT, OBS, N, T, _batch, _learner, _small_cfg  # noqa: E402

from pearl_lite.config import get_config
from pearl_lite.runtime.checkpoint import config_mismatch, portable_optimizer_state
from pearl_lite.runtime.cuda_graphs import CUDAGraphStep, use_cuda_graphs


def test_config_mismatch_rules():
    cfg = get_config("point-robot", "smoke")
    saved = cfg.to_dict()
    assert config_mismatch(saved, cfg.replace(num_iterations=9)) == []  # a run may be extended
    assert config_mismatch(saved, cfg.replace(kl_lambda=0.5)) == ["kl_lambda"]
    # ... but not when the learning-rate schedule depends on the length of the run
    decay = cfg.replace(lr_final_fraction=0.5)
    assert config_mismatch(decay.to_dict(), decay.replace(num_iterations=9)) == ["num_iterations"]
    # a field added after the checkpoint was written counts as its default
    old = {k: v for k, v in saved.items() if k != "lr_final_fraction"}
    assert config_mismatch(old, cfg) == []


# ---- CUDA graphs (cfg.cuda_graphs): the same step, replayed --------------------------------

def _lockstep(device, graphs=False, steps=12, **kw):
    """Train a fresh learner on fixed batches, reseeding the device's RNG before each step.

    ``graphs=True`` replays the step as a CUDA graph (:class:`CUDAGraphStep`).
    """
    agent, learner, _ = _learner(seed=0, **kw)
    agent.to(device)
    step = CUDAGraphStep(learner) if graphs else learner.update
    gen = torch.Generator().manual_seed(1)
    batches = [({k: v.to(device) for k, v in _batch(gen).items()},
                torch.randn(T, N, OBS + ACT + 1, generator=gen).to(device))
               for _ in range(3)]
    outs = []
    for i in range(steps):
        torch.manual_seed(100 + i)  # seeds the CPU and every CUDA generator
        batch, context = batches[i % 3]
        outs.append(torch.stack([v.float() for v in step(batch, context).values()]))
    return torch.stack(outs).cpu(), {k: v.cpu() for k, v in agent.state_dict().items()}, step


def test_cuda_graphs_flag_changes_nothing_on_the_cpu():
    from pearl_lite.pearl import MetaTrainer

    trainer = MetaTrainer(get_config("point-robot", "smoke", cuda_graphs=True), seed=0)
    assert use_cuda_graphs(trainer) is False
    assert trainer.gradient_step == trainer.learner.update
    _, learner, _ = _learner()
    with pytest.raises(ValueError, match="needs CUDA tensors"):
        CUDAGraphStep(learner)(_batch(torch.Generator().manual_seed(0)),
                               torch.zeros(T, N, OBS + ACT + 1))


def test_tensor_learning_rates_are_saved_as_floats():
    _, learner, cfg = _learner(seed=0)
    for opt in learner.optimizers:  # as after a CUDA-graph capture
        for group in opt.param_groups:
            group["capturable"] = True
            group["lr"] = torch.tensor(0.5 * float(group["lr"]))
    state = {"critic_opt": portable_optimizer_state(learner.critic_opt),
             "actor_opt": portable_optimizer_state(learner.actor_opt)}
    for name in ("critic_opt", "actor_opt"):
        for group in state[name]["param_groups"]:
            assert type(group["lr"]) is float and group["capturable"] is False
    _, fresh, _ = _learner(seed=1)
    fresh.load_state_dict(state)  # loads into an eager learner
    assert fresh.actor_opt.param_groups[0]["lr"] == pytest.approx(0.5 * cfg.policy_lr)


def test_cuda_graphs_flag_may_differ_on_resume():
    cfg = _small_cfg()
    assert config_mismatch(cfg.replace(cuda_graphs=True).to_dict(), cfg) == []


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("kind", ["mean", "recurrent"])
def test_cuda_graph_steps_equal_eager_steps_for_the_ablation_encoders(kind):
    eager, eager_state, _ = _lockstep("cuda", encoder_kind=kind)
    graphed, graphed_state, step = _lockstep("cuda", graphs=True, encoder_kind=kind)
    assert step.captured
    torch.testing.assert_close(graphed, eager, rtol=1e-4, atol=1e-5)
    for k in eager_state:
        torch.testing.assert_close(graphed_state[k], eager_state[k], rtol=1e-4, atol=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_graph_steps_equal_eager_steps_on_the_gpu():
    """The captured step replays the eager step: same losses and weights, step by step.

    Also checks that the warm-up before the capture left no trace (the first replayed step
    starts from the initial weights and Adam state) and that a later learning-rate change
    reaches the graph.
    """
    eager, eager_state, _ = _lockstep("cuda", auto_entropy=True)
    graphed, graphed_state, step = _lockstep("cuda", graphs=True, auto_entropy=True)
    assert step.captured
    torch.testing.assert_close(graphed, eager, rtol=1e-4, atol=1e-5)
    for k in eager_state:
        torch.testing.assert_close(graphed_state[k], eager_state[k], rtol=1e-4, atol=1e-5)
    # A learning-rate change after the capture must take effect in the replayed step.
    gen = torch.Generator().manual_seed(2)
    batch = {k: v.cuda() for k, v in _batch(gen).items()}
    context = torch.randn(T, N, OBS + ACT + 1, generator=gen).cuda()
    step.learner.set_lr_scale(0.0)
    before = {k: v.clone() for k, v in step.learner.agent.state_dict().items()}
    step(batch, context)
    after = step.learner.agent.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before if "target" not in k)
