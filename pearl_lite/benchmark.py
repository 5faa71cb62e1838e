"""``python -m pearl_lite.benchmark``: the benchmark suite (:mod:`pearl_lite.runtime.benchmark`)."""

from pearl_lite.runtime.benchmark import main

if __name__ == "__main__":
    raise SystemExit(main())
