"""The project's shape: the client's layout, and dependencies kept in step across pyproject.toml,
environment.yml and requirements.lock."""
from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"]) + [r for group in project["optional-dependencies"].values() for r in group]
    return {_name(r): r for r in reqs}


def _environment_pins() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    pins = {}
    for line in pip_section:
        name, _, version = line.partition("==")
        pins[_name(name)] = version
    return pins


def _lock_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[_name(name)] = version
    return pins


@pytest.mark.parametrize(
    "path",
    ["notebooks", "templates", "outcome_analysis", "data", "reports", "environment.yml", "tests",
     "run_reports.py", "pyproject.toml", "Makefile", "README.md", ".ci/run", "requirements.lock"],
)
def test_client_layout_exists(path):
    assert (ROOT / path).exists(), f"{path} is part of the agreed layout"


def test_pyproject_and_environment_list_the_same_packages():
    assert set(_pyproject_requirements()) == set(_environment_pins())


def test_environment_pins_match_the_lock():
    lock = _lock_pins()
    mismatched = {n: (v, lock.get(n)) for n, v in _environment_pins().items() if lock.get(n) != v}
    assert not mismatched, f"environment.yml pin vs requirements.lock: {mismatched}"


def test_lock_satisfies_pyproject_lower_bounds():
    lock = _lock_pins()

    def as_tuple(version: str) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", version)[:3])

    for name, requirement in _pyproject_requirements().items():
        assert name in lock, f"{name} is a dependency but not pinned in requirements.lock"
        m = re.search(r">=\s*([\d.]+)", requirement)
        if m:
            assert as_tuple(lock[name]) >= as_tuple(m.group(1)), f"{name}: lock {lock[name]} < {m.group(1)}"


def test_ci_runs_make_test():
    assert re.search(r"^make test\b", (ROOT / ".ci/run").read_text(), re.M)


def test_readme_quick_start_is_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make reports" in readme and "make test" in readme


def test_committed_notebooks_have_no_outputs():
    import json

    for nb_path in (ROOT / "notebooks").glob("*.ipynb"):
        nb = json.loads(nb_path.read_text())
        dirty = [i for i, c in enumerate(nb["cells"]) if c.get("outputs") or c.get("execution_count")]
        assert not dirty, f"{nb_path.name}: cells {dirty} carry outputs; commit notebooks clean"


def test_no_duplicated_code_in_the_package():
    """pylint's duplicate-code check (settings in pyproject.toml: six similar lines) finds nothing."""
    run = subprocess.run([sys.executable, "-m", "pylint", "--disable=all", "--enable=duplicate-code",
                          "--score=no", "outcome_analysis"], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, f"duplicated code:\n{run.stdout}{run.stderr}"


def test_every_file_a_make_rule_depends_on_exists():
    """A rule whose prerequisite file is gone cannot run on a fresh machine ("No rule to make target"):
    `make reports` once depended on a module that had moved."""
    missing = []
    for line in (ROOT / "Makefile").read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([^\s:#=][^:=]*):(?!=)\s*(.*)$", line)
        if not match or match.group(1).startswith("."):
            continue
        for prerequisite in match.group(2).split():
            if "$" in prerequisite or "/" not in prerequisite and "." not in prerequisite:
                continue  # a variable or a phony target
            if not (ROOT / prerequisite).exists():
                missing.append((match.group(1), prerequisite))
    assert not missing, missing
