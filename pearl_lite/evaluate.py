"""``python -m pearl_lite.evaluate``: the meta-test command (:mod:`pearl_lite.runtime.evaluate`)."""

from pearl_lite.runtime.evaluate import main

if __name__ == "__main__":
    raise SystemExit(main())
