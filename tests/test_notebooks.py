"""Every course notebook executes top to bottom in smoke mode, and its .ipynb matches its .py."""

import pytest

from pearl_lite.course.notebook_tools import cell_sources, execute, notebook_sources, read_source

NOTEBOOKS = notebook_sources()


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes_in_smoke_mode(path):
    # Smoke cells take seconds; a cell past 240 s is nbclient's widget hang (see execute).
    execute(path, smoke=True, timeout=240, retries=2)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_paired_ipynb_is_in_sync(path):
    import nbformat

    ipynb = path.with_suffix(".ipynb")
    assert ipynb.exists(), f"{ipynb.name} missing: run python scripts/build_notebooks.py {path}"
    paired = nbformat.read(ipynb, as_version=4)
    assert cell_sources(paired) == cell_sources(read_source(path)), (
        f"{ipynb.name} is out of date with {path.name}: "
        f"run python scripts/build_notebooks.py {path}"
    )
