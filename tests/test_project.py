"""The project's own promises: one dependency list in two files, and CI runs the README's command."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"torch": "pytorch"}  # PyPI name -> conda-forge name where they differ


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement.strip(), maxsplit=1)[0].lower()


def pyproject_dependencies() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]}
    return {CONDA_NAMES.get(n, n) for n in names}


def environment_dependencies() -> set[str]:
    names = set()
    text = (ROOT / "environment.yml").read_text()
    for line in text.split("dependencies:", 1)[1].splitlines():
        match = re.match(r"\s+- (?!pip:)([A-Za-z0-9_.\-]+)", line)
        if match and not line.strip().startswith("#"):
            names.add(_name(match.group(1)))
    return names - {"python", "pip"}


def test_environment_yml_installs_the_same_packages_as_pyproject():
    assert environment_dependencies() == pyproject_dependencies()


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    quickstart = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return [line.strip() for block in re.findall(r"```(?:bash|sh)?\n(.*?)```", quickstart, re.S)
            for line in block.splitlines() if line.strip() and not line.strip().startswith("#")]


def test_readme_quickstart_is_two_commands():
    commands = readme_commands()
    assert len(commands) == 2, commands
    assert commands[0].endswith("pacekit quickstart")
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command_as_written():
    test_command = readme_commands()[1]
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_command in ci_lines


def test_hypothesis_is_derandomised_on_ci_and_random_locally():
    # CI runs `.ci/run` with CI=true; tests/conftest.py must then load the derandomised profile, or a CI
    # failure could not be replayed. Import the conftest fresh in each environment, as pytest would.
    import os
    import subprocess
    import sys

    probe = ("import conftest; from hypothesis import settings; d = settings.default; "
             "print([n for n in ('ci', 'dev') if settings.get_profile(n) is d], d.derandomize, "
             "d.database is None, d.print_blob, settings.get_profile('dev').derandomize)")
    seen = {}
    for ci in ("true", None):
        env = {k: v for k, v in os.environ.items() if k != "CI"} | ({"CI": ci} if ci else {})
        run = subprocess.run([sys.executable, "-c", probe], cwd=ROOT / "tests", env=env, capture_output=True,
                             text=True)
        assert run.returncode == 0, run.stderr
        seen[ci] = run.stdout.split()
    assert seen["true"] == ["['ci']", "True", "True", "True", "False"]  # dev stays random, even registered on CI
    assert seen[None][:2] == ["['dev']", "False"]


def test_the_linter_passes():
    """ruff (configured in pyproject.toml: pyflakes and import order) finds nothing in the project."""
    import shutil
    import subprocess
    import sys

    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    done = subprocess.run([ruff, "check", "--no-cache", str(ROOT)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
