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


# The one line .ci/run may have besides the test command: install Debian's Chromium for the
# browser tests when it is missing.
CHROMIUM_INSTALL = re.compile(
    r"^command -v chromium >/dev/null \|\| \(.*apt-get install .*chromium")


def test_ci_runs_the_readme_test_command():
    ci_lines = [ln.strip() for ln in (ROOT / ".ci/run").read_text().splitlines()
                if ln.strip() and not ln.startswith(("#", "set ", "cd ", "export "))]
    installs = [ln for ln in ci_lines if CHROMIUM_INSTALL.match(ln)]
    commands = [ln for ln in ci_lines if ln not in installs]
    assert len(installs) <= 1, installs
    assert len(commands) == 1, commands
    assert ci_lines[-1] == commands[0], "the test command must come last"
    readme_blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert commands[0] in [ln.strip() for b in readme_blocks for ln in b.splitlines()], (
        f"{commands[0]!r} is not a command line of the README")
    # JupyterLab and Voila (the lab extra) are needed by the browser tests.
    extras = re.search(r'-e "\.\[([a-z,]+)\]"', commands[0])
    assert extras and {"dev", "lab"} <= set(extras.group(1).split(",")), commands[0]


def test_torch_left_unpinned_for_gpu_users():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    torch_req = [r for r in data["dependencies"] if _name(r) == "torch"]
    assert torch_req and "==" not in torch_req[0]
