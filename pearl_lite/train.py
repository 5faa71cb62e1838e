"""``python -m pearl_lite.train``: the training command (:mod:`pearl_lite.runtime.train`)."""

from pearl_lite.runtime.train import main

if __name__ == "__main__":
    raise SystemExit(main())
