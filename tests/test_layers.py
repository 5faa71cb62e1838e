"""The library's layers (pyproject.toml's import-linter contract) hold, and the check can fail."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("importlinter")


def _lint_imports(root: Path) -> subprocess.CompletedProcess:
    """Run import-linter on the package under ``root`` with the contract in its pyproject.toml."""
    return subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
         "sys.exit(lint_imports_command())", "--no-cache"],
        cwd=root, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=300)


def test_the_package_keeps_its_layers():
    res = _lint_imports(ROOT)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert "1 kept, 0 broken" in res.stdout


def test_an_algorithm_module_importing_the_course_breaks_the_contract(tmp_path):
    """pearl/agent.py importing course/ (or runtime/) must be caught."""
    shutil.copytree(ROOT / "pearl_lite", tmp_path / "pearl_lite",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    agent = tmp_path / "pearl_lite" / "pearl" / "agent.py"
    agent.write_text(agent.read_text() + "\nfrom pearl_lite.course import plotting  # noqa\n")
    res = _lint_imports(tmp_path)
    assert res.returncode != 0
    assert "pearl_lite.pearl.agent -> pearl_lite.course.plotting" in res.stdout
