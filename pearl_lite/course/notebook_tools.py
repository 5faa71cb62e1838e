"""Execute the course notebooks and keep the paired ``.ipynb`` files in step with their sources.

The percent-format ``notebooks/NN_name.py`` files are the source of truth (they diff well); each
has a paired ``.ipynb`` that JupyterLab opens, committed *with the outputs of a full run* so a
learner sees the real figures before running anything. ``python scripts/build_notebooks.py``
re-executes and rewrites them; ``tests/test_notebooks.py`` checks that sources match and executes
every notebook in smoke mode.
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "notebooks"


def notebook_sources() -> list[Path]:
    """The course notebooks' percent-format sources, in course order."""
    return sorted(p for p in NOTEBOOK_DIR.glob("[0-9][0-9]_*.py"))


def read_source(path: str | Path):
    """Read a percent-format ``.py`` notebook into an ``nbformat`` notebook (no outputs)."""
    import jupytext

    return jupytext.read(path)


def execute(path: str | Path, smoke: bool, timeout: int = 1800, retries: int = 0):
    """Execute a notebook source top to bottom in a fresh kernel; return the executed notebook.

    Runs in the ``notebooks/`` folder with ``PEARL_LITE_SMOKE`` set when ``smoke`` is true.
    A cell that raises makes this raise ``nbclient.exceptions.CellExecutionError``. A cell
    that runs past ``timeout`` seconds raises ``nbclient.exceptions.CellTimeoutError``, unless
    ``retries`` allows another attempt in a fresh kernel: nbclient sometimes never receives
    the end of a cell that displays ipywidgets although the kernel has finished it
    (jupyter/nbclient#312; seen here on notebook 1's slider cell in about one run in three on
    a loaded CPU), and a second run does not hang there.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError

    saved = {k: os.environ.get(k) for k in ("PEARL_LITE_SMOKE", "MPLBACKEND")}
    # The kernel inherits our environment: smoke mode on or off, and the inline backend so that
    # figures land in the notebook's outputs (it needs no display).
    os.environ["PEARL_LITE_SMOKE"] = "1" if smoke else "0"
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    try:
        for attempt in range(retries + 1):
            nb = read_source(path)
            nb.metadata.setdefault("kernelspec", {"name": "python3", "display_name": "Python 3",
                                                  "language": "python"})
            client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                    resources={"metadata": {"path": str(Path(path).parent)}})
            try:
                client.execute()
                return nb
            except CellTimeoutError:
                if attempt == retries:
                    raise
                print(f"{path}: a cell ran past {timeout} s; running the notebook again "
                      f"(attempt {attempt + 2} of {retries + 1})", flush=True)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    raise AssertionError("unreachable")


def write_ipynb(nb, py_path: str | Path) -> Path:
    """Write ``nb`` next to ``py_path`` as the paired ``.ipynb`` (atomically)."""
    import jupytext

    from pearl_lite.utils import atomic_write_bytes

    out = Path(py_path).with_suffix(".ipynb")
    text = jupytext.writes(nb, fmt="ipynb")
    atomic_write_bytes(out, text.encode())
    return out


def cell_sources(nb) -> list[tuple[str, str]]:
    """``(cell_type, source)`` of every cell, for comparing a ``.py`` with its ``.ipynb``."""
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def source_markdown(obj: Any, hidden: bool = False) -> Any:
    """The whole source of a library function, method or class, as a Markdown code block.

    Notebooks show the library's code this way, whole functions only (each box of the paper
    is one function), headed by its file and qualified name. With ``hidden=True`` the code is
    folded into a ``<details>`` element that opens on a click: how a notebook shows the
    reference solution of an exercise only on request. Returns an IPython ``Markdown``.
    """
    from IPython.display import Markdown

    body = inspect.getsource(obj).rstrip()
    path = Path(inspect.getsourcefile(inspect.unwrap(obj)) or "?").resolve()
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    head = f"`{where}`, `{obj.__qualname__}`"
    code = f"```python\n{body}\n```"
    if hidden:
        return Markdown(f"<details><summary>The library's solution, {head} (click to show; "
                        f"try the exercise first)</summary>\n\n{code}\n\n</details>")
    return Markdown(f"{head}:\n\n{code}")
