"""Copy a finished training run into ``data/`` and meta-test it, as the shipped agents are made.

    python scripts/ship_run.py runs/spr_kl0.1 sparse_point_robot_lite_kl0.1_seed0
    python scripts/ship_run.py runs/spr_det sparse_point_robot_lite_det_seed0 --num-evals 5
    python scripts/ship_run.py runs/bench/cheetah-dir/seed1 cheetah_dir_lite_seed1 --num-evals 3

Refuses a run that has not reached its config's ``num_iterations`` (``progress.csv``), copies
``config.json``, ``progress.csv`` and ``agent.pt`` into ``data/NAME/`` (no checkpoint, no
snapshots: small files only), then runs ``python -m pearl_lite.evaluate data/NAME --num-evals
N``, which writes ``adaptation.json``. Used for notebook 6's β agents (``data/README.md``).

A run folder that already holds a meta-test with N runs per task (the benchmark command's
``adaptation.json``, and with ``--snapshot-every`` its ``snapshots.json``) has those copied
instead of meta-tested again, as long as they are newer than the networks they tested: the same
protocol and seed would give the same numbers.

``--no-agent`` leaves ``agent.pt`` out (about 70 % of a point-robot folder): for runs that are
shipped for their curves and meta-tests only, such as many seeds of one config. A meta-test
that cannot be reused is then made on the run folder's own networks.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from pearl_lite.runtime.benchmark import ADAPTATION_FILE, result_is_stale
from pearl_lite.runtime.checkpoint import (
    AGENT_FILE,
    CHECKPOINT_FILE,
    CONFIG_FILE,
    PROGRESS_FILE,
    snapshot_paths,
)
from pearl_lite.runtime.evaluate import SNAPSHOTS_FILE
from pearl_lite.utils import read_csv

ROOT = Path(__file__).resolve().parents[1]
FILES = (CONFIG_FILE, PROGRESS_FILE, AGENT_FILE)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("name", help="folder name under data/")
    parser.add_argument("--num-evals", type=int, default=5)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "data")
    parser.add_argument("--no-agent", action="store_true",
                        help="ship without agent.pt (curves and meta-tests only)")
    args = parser.parse_args(argv)
    missing = [f for f in FILES if not (args.run_dir / f).is_file()]
    if missing:
        sys.stderr.write(f"ship_run: error: {args.run_dir} lacks {', '.join(missing)}\n")
        return 1
    target = json.loads((args.run_dir / "config.json").read_text())["num_iterations"]
    done = int(read_csv(args.run_dir / "progress.csv")["iteration"][-1])
    if done < target:
        sys.stderr.write(f"ship_run: error: {args.run_dir} is at iteration {done} of {target}; "
                         "wait until it has finished\n")
        return 1
    out = args.data_dir / args.name
    out.mkdir(parents=True, exist_ok=True)
    files = [f for f in FILES if not (args.no_agent and f == AGENT_FILE)]
    for f in files:
        shutil.copy2(args.run_dir / f, out / f)
    print(f"copied {', '.join(files)} of {args.run_dir} (iteration {done}) into {out}")
    copied = []
    inputs = {ADAPTATION_FILE: [args.run_dir / CHECKPOINT_FILE, args.run_dir / AGENT_FILE],
              SNAPSHOTS_FILE: snapshot_paths(args.run_dir)}
    for extra, networks in inputs.items():
        path = args.run_dir / extra
        # reused only if made with as many runs and newer than the networks it tested
        if path.is_file() and not result_is_stale(path, networks, args.num_evals):
            shutil.copy2(path, out / extra)
            copied.append(extra)
            print(f"copied {extra} (meta-test with {args.num_evals} runs per task)")
    if ADAPTATION_FILE in copied:
        return 0
    from pearl_lite.evaluate import main as evaluate

    if args.no_agent:  # the networks stay in the run folder: meta-test them there
        return evaluate([str(args.run_dir), "--num-evals", str(args.num_evals),
                         "--out", str(out / ADAPTATION_FILE)])
    return evaluate([str(out), "--num-evals", str(args.num_evals)])


if __name__ == "__main__":
    raise SystemExit(main())
