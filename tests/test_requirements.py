"""requirements.txt pins every third-party module that the package, the stages, bin/, bench/, docs/ and the tests import."""
import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def python_files():
    for folder in ("fmnist", "stages", "bin", "bench", "tests", "docs"):
        for path in sorted((PROJECT / folder).rglob("*")):
            if path.suffix == ".py" or (path.is_file() and path.read_bytes().startswith(b"#!/usr/bin/env python")):
                yield path


def imported_top_level(path):
    """Every module name an import statement in `path` names, at any depth (lazy imports count too)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module.split(".")[0]


def normalized(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned():
    """Distribution names pinned with == in requirements.txt."""
    lines = (PROJECT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return {normalized(match[1]) for line in lines if (match := re.match(r"([A-Za-z0-9_.-]+)(\[[^]]*\])?==", line))}


def unpinned_imports(paths, pins):
    """'module (file)' for each third-party module imported in `paths` whose distribution is not in `pins`."""
    distributions = packages_distributions()
    found = set()
    for path in paths:
        for module in set(imported_top_level(path)) - set(sys.stdlib_module_names) - {"fmnist"}:
            if (path.parent / f"{module}.py").exists():
                continue  # a sibling module: bench/run.py, tests/conftest.py
            if not {normalized(name) for name in distributions.get(module, [module])} & pins:
                found.add(f"{module} ({path.name})")
    return sorted(found)


def test_every_third_party_import_is_pinned():
    assert unpinned_imports(python_files(), pinned()) == [], "imported but not pinned in requirements.txt"


def test_a_module_that_only_a_dependency_brings_is_reported(tmp_path):
    script = tmp_path / "script.py"
    script.write_text("import json\nimport execnet\nfrom sqlalchemy import text\nfrom . import sibling\n")
    assert unpinned_imports([script], {"sqlalchemy"}) == ["execnet (script.py)"]
