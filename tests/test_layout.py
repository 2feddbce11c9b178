"""The package's layers, and every module path researchers use staying importable.

docs/architecture.md names modules by their short path (``outcome_analysis.casemix``); researchers'
notebooks import them that way. The modules live in layer packages (contract, indicators,
statistics, presentation, running); ``outcome_analysis.MOVED`` keeps each short path pointing at the
very same module object.
"""
from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import outcome_analysis

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "outcome_analysis"
ARCHITECTURE = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
LAYERS = ("contract", "indicators", "statistics", "presentation", "running")


def _documented_paths() -> set[str]:
    """Every ``outcome_analysis.x[.y]`` in architecture.md, cut to its longest importable prefix of
    module names (``outcome_analysis.batch.executors.EXECUTORS`` -> ``outcome_analysis.batch.executors``)."""
    paths = set()
    for dotted in re.findall(r"\boutcome_analysis(?:\.[A-Za-z_]\w*)+", ARCHITECTURE):
        parts = dotted.split(".")
        while len(parts) > 1 and not parts[-1].islower():
            parts.pop()  # a class or constant
        paths.add(".".join(parts))
    # the module tables (sections headed "Module ...") name modules by their short name in the first column
    for section in re.split(r"^## ", ARCHITECTURE, flags=re.M):
        if section.startswith("Module"):
            for cell in re.findall(r"^\| (`[^|]+)\|", section, flags=re.M):
                paths.update(f"outcome_analysis.{name}" for name in re.findall(r"`([a-z_.]+)`", cell))
    return paths


def _module_of(path: str):
    """Import ``path``; when its last part is an attribute (a function), import the module above."""
    try:
        return importlib.import_module(path)
    except ModuleNotFoundError:
        module, _, attribute = path.rpartition(".")
        owner = importlib.import_module(module)
        assert hasattr(owner, attribute), f"{path}: neither a module nor an attribute of {module}"
        return owner


def test_architecture_names_many_paths():
    # the extraction itself must see the module map, or the test below proves nothing
    assert {"outcome_analysis.casemix", "outcome_analysis.contract.io", "outcome_analysis.presentation.story",
            "outcome_analysis.running.batch", "outcome_analysis.indicators.profile"} <= _documented_paths()


@pytest.mark.parametrize("path", sorted(_documented_paths()))
def test_every_path_in_the_architecture_imports(path):
    assert _module_of(path) is not None


@pytest.mark.parametrize("short,layer", sorted(outcome_analysis.MOVED.items()))
def test_a_short_path_is_the_layered_module_itself(short, layer):
    old = importlib.import_module(f"outcome_analysis.{short}")
    new = importlib.import_module(f"outcome_analysis.{layer}.{short}")
    assert old is new
    assert old.__name__ == new.__spec__.name == f"outcome_analysis.{layer}.{short}"
    assert getattr(outcome_analysis, short) is new


def test_a_submodule_of_a_moved_package_is_one_module():
    from outcome_analysis.batch import executors as short
    from outcome_analysis.running.batch import executors as layered

    assert short is layered
    assert short.EXECUTORS is layered.EXECUTORS


def test_monkeypatching_the_short_path_reaches_the_layered_module(monkeypatch):
    import outcome_analysis.casemix as short
    from outcome_analysis.statistics import casemix

    monkeypatch.setattr(short, "_probe_attribute", 41, raising=False)
    assert casemix._probe_attribute == 41


@pytest.mark.parametrize("module", ["outcome_analysis.demo", "outcome_analysis"])
def test_command_line_entry_points_run_by_their_short_path(module):
    run = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert "usage" in run.stdout.lower()


def test_the_demo_writes_a_delivery_by_its_short_path(tmp_path):
    """``make reports`` runs ``python -m outcome_analysis.demo --out …``: the layered module runs under
    the short name, so an import relative to it (``from .actions import …``) fails only then."""
    run = subprocess.run([sys.executable, "-m", "outcome_analysis.demo", "--out", str(tmp_path), "--scale", "0.005",
                          "--first-year", "2023"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert run.returncode == 0, run.stderr
    names = {p.name for p in tmp_path.iterdir()}
    assert {"settings.yaml", "gemeenten.csv", "actions.csv"} <= names and any(n.startswith("trajectories") for n in names)


def test_the_top_folder_shows_the_layers():
    """Only the layers, the shared basics (errors, settings, texts, atomic writes) and the package's
    entry points sit at the top; a module added there must be placed in a layer instead."""
    top = sorted(p.stem for p in PACKAGE.glob("*.py"))
    assert top == ["__init__", "__main__", "atomic", "errors", "settings", "texts"]
    assert all((PACKAGE / layer / "__init__.py").is_file() for layer in LAYERS)
    short_names = {p.stem for layer in LAYERS for p in (PACKAGE / layer).glob("*.py") if p.stem != "__init__"}
    assert set(outcome_analysis.MOVED) <= short_names | {"batch"}


def test_an_unknown_short_path_is_not_invented():
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("outcome_analysis.no_such_module")


def test_every_long_module_is_listed_with_its_reason():
    """A module over 700 lines says in docs/architecture.md why it stays one module."""
    section = ARCHITECTURE.split("## Modules over 700 lines", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `([a-z_.]+)` \|", section, flags=re.M))
    long = {str(p.relative_to(PACKAGE).with_suffix("")).replace("/", ".") for p in PACKAGE.rglob("*.py")
            if len(p.read_text(encoding="utf-8").splitlines()) > 700}
    assert long, "the check must see the package"
    assert long <= listed, f"over 700 lines without a reason in docs/architecture.md: {sorted(long - listed)}"


def _layer_imports() -> dict[tuple[str, str], set[str]]:
    """(layer of the importing module, layer imported) -> importing modules; "basics" for the top."""
    import ast

    def layer(module: str) -> str:
        parts = module.split(".")
        return parts[1] if len(parts) > 1 and parts[1] in LAYERS else "basics"

    edges: dict[tuple[str, str], set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        module = ".".join(p for p in parts if p != "__init__")
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom):
                continue
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            target = ".".join(base + [node.module]) if node.module else ".".join(base)
            if not target.startswith("outcome_analysis"):
                continue
            targets = [f"{target}.{a.name}" for a in node.names] if target.count(".") <= 1 else [target]
            for t in targets:
                if layer(t) != layer(module):
                    edges.setdefault((layer(module), layer(t)), set()).add(module)
    return edges


#: which layer may import which (docs/architecture.md, "Module map"); None: any module of the layer.
ALLOWED_IMPORTS = {
    ("indicators", "contract"): None, ("indicators", "statistics"): None,
    ("statistics", "contract"): None,
    # survival chains episodes; casemix.adjust builds the records it is not handed
    ("statistics", "indicators"): {"outcome_analysis.statistics.casemix", "outcome_analysis.statistics.survival"},
    ("running", "contract"): None, ("running", "indicators"): None, ("running", "statistics"): None,
    ("running", "presentation"): None,  # the batch renders notebooks and exports them
    ("presentation", "contract"): None, ("presentation", "indicators"): None,
    ("presentation", "statistics"): None, ("presentation", "running"): None,
    # the validator's own output: counted records and problem lists, formatted like the reports
    ("contract", "indicators"): {"outcome_analysis.contract.counted",
                                 # the actions table's indicator column is a registry id (checked, offered)
                                 "outcome_analysis.contract.actions", "outcome_analysis.contract.demo"},
    ("contract", "statistics"): {"outcome_analysis.contract.counted"},
    ("contract", "presentation"): {"outcome_analysis.contract.counted", "outcome_analysis.contract.validation",
                                   "outcome_analysis.contract.actions"},  # the dialogue record's name: the report's slug
    # the validator's command line; a problem's message read from the catalogue
    ("basics", "contract"): {"outcome_analysis.__main__", "outcome_analysis.errors"},
    ("basics", "presentation"): {"outcome_analysis.__main__"},
    # the leak audit's command line
    ("basics", "running"): {"outcome_analysis.__main__"},
}


def test_layers_import_only_what_the_architecture_allows():
    edges = _layer_imports()
    assert ("presentation", "running") in edges and ("indicators", "statistics") in edges  # the scan sees imports
    wrong = {}
    for (src, dst), modules in edges.items():
        if "basics" == dst:
            continue  # errors, settings, texts, atomic: every layer uses them
        allowed = ALLOWED_IMPORTS.get((src, dst), set())
        extra = modules - allowed if allowed is not None else set()
        if extra:
            wrong[(src, dst)] = sorted(extra)
    assert not wrong, f"imports across layers that docs/architecture.md does not allow: {wrong}"
