"""pyproject.toml and environment.yml list the same packages; CI runs the README's command."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _name(req: str) -> str:
    return re.split(r"[<>=!~\[ ;]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject_names() -> set[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(data["dependencies"])
    for extra in data["optional-dependencies"].values():
        reqs += extra
    return {_name(r) for r in reqs}


def _environment_names() -> set[str]:
    names = set()
    text = (ROOT / "environment.yml").read_text()
    for line in text.split("dependencies:", 1)[1].splitlines():
        m = re.match(r"^\s*-\s+(\S.*)$", line)
        if not m:
            continue
        item = m.group(1).split("#")[0].strip()
        if item in ("pip", "pip:", "-e .") or item.startswith("python=") or item.startswith("-e"):
            continue
        names.add(_name(item.replace("==", "=").split("=")[0]))
    return names


def test_environment_yml_mirrors_pyproject():
    py, env = _pyproject_names(), _environment_names()
    assert py == env, (
        f"only in pyproject: {sorted(py - env)}; only in environment.yml: {sorted(env - py)}"
    )


def test_ci_runs_the_readme_test_command():
    ci_lines = [ln for ln in (ROOT / ".ci/run").read_text().splitlines()
                if ln.strip() and not ln.startswith(("#", "set ", "cd ", "export "))]
    assert len(ci_lines) == 1, ci_lines
    assert ci_lines[0].strip() in (ROOT / "README.md").read_text()


def test_torch_left_unpinned_for_gpu_users():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    torch_req = [r for r in data["dependencies"] if _name(r) == "torch"]
    assert torch_req and "==" not in torch_req[0]
