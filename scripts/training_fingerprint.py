"""Record a training run's fingerprint: every log row's losses and a hash of the final weights.

Used to show that a refactor changes nothing that is computed: run it before and after, on the
same machine, and compare the two JSON files (``--compare``). The fingerprint holds, per
iteration, the exact float losses of the log row (``repr``, so bit-exact), and SHA-256 hashes of
the final agent's parameters and of the optimisers' moments.

    python scripts/training_fingerprint.py --out data/layout_check/before.json
    python scripts/training_fingerprint.py --out runs/after.json \
        --compare data/layout_check/before.json

The runs: 3 iterations of ``sparse-point-robot`` and ``cheetah-vel`` with the ``smoke`` preset,
and 20 iterations of ``sparse-point-robot`` with the ``lite`` preset (seed 0 each).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import torch

from pearl_lite.config import get_config
from pearl_lite.pearl import MetaTrainer

RUNS = (("sparse-point-robot", "smoke", 3), ("cheetah-vel", "smoke", 3),
        ("sparse-point-robot", "lite", 20))
LOSS_KEYS = ("train_return", "test_return", "test_success", "qf_loss", "vf_loss",
             "policy_loss", "kl", "z_var", "q_mean", "env_steps", "grad_steps")


def _hash_tensors(tensors: list[torch.Tensor]) -> str:
    h = hashlib.sha256()
    for t in tensors:
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def fingerprint(env: str, preset: str, iterations: int, seed: int = 0) -> dict[str, Any]:
    """Train ``iterations`` iterations and return the losses per row and the weight hashes."""
    cfg = get_config(env, preset)
    trainer = MetaTrainer(cfg, seed=seed)
    rows = [{k: repr(row[k]) for k in LOSS_KEYS if k in row}
            for row in trainer.iterations(iterations)]
    moments = [v for opt in trainer.learner.optimizers for st in opt.state.values()
               for v in st.values() if torch.is_tensor(v)]
    return {"env": env, "preset": preset, "iterations": iterations, "seed": seed, "rows": rows,
            "weights_sha256": _hash_tensors(list(trainer.agent.state_dict().values())),
            "optimiser_sha256": _hash_tensors(moments)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="JSON file to write")
    p.add_argument("--compare", help="a fingerprint JSON to compare with; exit 1 if different")
    args = p.parse_args(argv)
    t0 = time.time()
    runs = [fingerprint(*r) for r in RUNS]
    out = {"torch": torch.__version__, "seconds": round(time.time() - t0, 1), "runs": runs}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.out} ({out['seconds']} s)")
    if args.compare:
        ref = json.loads(Path(args.compare).read_text())["runs"]
        same = True
        for a, b in zip(runs, ref, strict=True):
            ok = a["rows"] == b["rows"] and a["weights_sha256"] == b["weights_sha256"] and \
                a["optimiser_sha256"] == b["optimiser_sha256"]
            same &= ok
            print(f"{a['env']:>20} {a['preset']:>6} {a['iterations']:>3} iterations: "
                  f"{'bit-identical' if ok else 'DIFFERENT'}")
        return 0 if same else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
