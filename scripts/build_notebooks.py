"""Execute course notebooks in full mode and write their paired .ipynb files with outputs.

    python scripts/build_notebooks.py                  # all notebooks, full budgets
    python scripts/build_notebooks.py notebooks/01_vae.py --smoke

The committed .ipynb outputs are what a learner sees before running anything, so they must come
from a full run of this repository's code (this script); the header of each notebook states how
long that run takes on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from pearl_lite.course.notebook_tools import execute, notebook_sources, write_ipynb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: all of notebooks/")
    parser.add_argument("--smoke", action="store_true", help="run with PEARL_LITE_SMOKE=1")
    parser.add_argument("--timeout", type=int, default=3600,
                        help="seconds a cell may run before the notebook is run again (twice)")
    args = parser.parse_args()
    for path in args.notebooks or notebook_sources():
        t0 = time.time()
        nb = execute(path, smoke=args.smoke, timeout=args.timeout, retries=2)
        out = write_ipynb(nb, path)
        print(f"{out}: executed in {time.time() - t0:.0f} s ({'smoke' if args.smoke else 'full'})",
              flush=True)


if __name__ == "__main__":
    main()
