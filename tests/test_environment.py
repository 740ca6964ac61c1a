"""The environment: pyproject.toml declares every third-party module the code imports, in the group of the code that
imports it; uv.lock pins each declared package, with hashes, at a version the declaration allows; the installed
packages agree with each other; bin/setup refuses a Python outside the supported range and leaves nothing half-made."""
import ast
import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

PROJECT = Path(__file__).resolve().parents[1]
UV = PROJECT / "bin" / "uv"
# Where code lives, most specific first, and the dependency group its imports may come from besides the study's own
# dependencies (None: the study's only). The test group includes the serve and search groups.
GROUP_OF_FOLDER = (("fmnist/serving", "serve"), ("fmnist/search", "search"), ("fmnist", None), ("stages", None),
                   ("bin", None), ("docs", None), ("bench", "test"), ("tests", "test"))


def normalized(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def pyproject(root=PROJECT):
    return tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))


def requirements(project, group=None):
    """The study's Requirements, plus those of dependency group `group` (its included groups too)."""
    found = [Requirement(text) for text in project["project"]["dependencies"]]
    for entry in project["dependency-groups"][group] if group else []:
        found += requirements(project, entry["include-group"]) if isinstance(entry, dict) else [Requirement(entry)]
    return found


def every_requirement(project):
    return [requirement for group in [None, *project["dependency-groups"]] for requirement in
            requirements(project, group)]


def python_files(root=PROJECT):
    """(path, group) for each Python file of the folders in GROUP_OF_FOLDER."""
    seen = set()
    for folder, group in GROUP_OF_FOLDER:
        for path in sorted((root / folder).rglob("*")):
            if path not in seen and (path.suffix == ".py" or (
                    path.is_file() and path.read_bytes().startswith(b"#!/usr/bin/env python"))):
                seen.add(path)
                yield path, group


def imported_top_level(path):
    """Every module name an import statement in `path` names, at any depth (lazy imports count too)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module.split(".")[0]


def undeclared_imports(files, project):
    """'module (file)' for each third-party module imported in `files` ((path, group) pairs) whose distribution
    neither the study nor that group declares."""
    distributions = packages_distributions()
    found = set()
    for path, group in files:
        declared = {normalized(requirement.name) for requirement in requirements(project, group)}
        for module in set(imported_top_level(path)) - set(sys.stdlib_module_names) - {"fmnist"}:
            if (path.parent / f"{module}.py").exists():
                continue  # a sibling module: bench/run.py, tests/conftest.py
            if not {normalized(name) for name in distributions.get(module, [module])} & declared:
                found.add(f"{module} ({path.name})")
    return sorted(found)


def locked_versions(root=PROJECT):
    return {package["name"]: package["version"]
            for package in tomllib.loads((root / "uv.lock").read_text(encoding="utf-8"))["package"]}


def not_locked(requirements_, versions):
    """Each requirement that the lock's `versions` lack or pin at a version it does not allow."""
    return sorted(str(requirement) for requirement in requirements_
                  if Version(versions.get(normalized(requirement.name), "0")) not in requirement.specifier
                  or normalized(requirement.name) not in versions)


def test_every_third_party_import_is_declared_in_the_group_of_the_code_that_imports_it():
    assert undeclared_imports(python_files(), pyproject()) == [], "imported but not declared in pyproject.toml"


def test_an_import_declared_only_in_another_group_is_reported(tmp_path):
    for folder in ("fmnist", "fmnist/search"):
        (tmp_path / folder).mkdir(exist_ok=True)
        (tmp_path / folder / "module.py").write_text("import json\nimport optuna\nfrom . import sibling\n")
    assert undeclared_imports(python_files(tmp_path), pyproject()) == ["optuna (module.py)"]


def test_a_module_that_only_a_dependency_brings_is_reported(tmp_path):
    script = tmp_path / "script.py"
    script.write_text("import execnet\nfrom sqlalchemy import text\n")
    assert undeclared_imports([(script, "search")], pyproject()) == ["execnet (script.py)"]


def test_every_declared_dependency_is_locked_at_a_version_it_allows():
    assert not_locked(every_requirement(pyproject()), locked_versions()) == []


def test_a_missing_or_disallowed_lock_entry_is_reported():
    wanted = [Requirement("numpy==2.4.6"), Requirement("scipy>=1.17"), Requirement("dvc==3.67.1")]
    assert not_locked(wanted, {"numpy": "2.4.5", "scipy": "1.17.1"}) == ["dvc==3.67.1", "numpy==2.4.6"]


def test_every_locked_file_has_a_sha256_hash():
    lock = tomllib.loads((PROJECT / "uv.lock").read_text(encoding="utf-8"))
    files = [(package["name"], entry) for package in lock["package"]
             for entry in package.get("wheels", []) + ([package["sdist"]] if "sdist" in package else [])]
    assert len(files) > 1000, "every platform's wheels are locked"
    assert [name for name, entry in files if not entry.get("hash", "").startswith("sha256:")] == []


def test_the_lock_matches_pyproject():
    result = subprocess.run([UV, "lock", "--check", "--offline"], cwd=PROJECT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_installed_packages_agree_with_each_other():
    result = subprocess.run([UV, "pip", "check", "--offline", "--python", sys.executable], cwd=PROJECT,
                            capture_output=True, text=True)
    assert result.returncode == 0 and "All installed packages are compatible" in result.stderr, result.stderr


def test_the_pinned_uv_builds_the_project_itself():
    """uv builds the project with its own uv_build, downloading nothing, only when build-system allows its version."""
    pinned = re.search(r"^uv==(\S+)", (PROJECT / "bin" / "uv-pin.txt").read_text(encoding="utf-8"), re.M)[1]
    backend, = (Requirement(text) for text in pyproject()["build-system"]["requires"])
    assert backend.name == "uv_build" and Version(pinned) in backend.specifier


def project_copy_for_setup(tmp_path):
    """The files bin/setup reads, copied to `tmp_path`, with the project's own bootstrapped uv (.uv/)."""
    for name in ("bin/setup", "bin/uv", "bin/uv-pin.txt", "pyproject.toml", "uv.lock", "fmnist/__init__.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT / name, tmp_path / name)
    (tmp_path / ".uv").symlink_to(PROJECT / ".uv")
    return tmp_path


def fake_python(tmp_path, version):
    python = tmp_path / "fake-python"
    python.write_text(f"#!/bin/sh\necho {version}\n")
    python.chmod(0o755)
    return python


def run_setup(root, **env):
    return subprocess.run([root / "bin" / "setup"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **env})


def test_setup_refuses_a_python_outside_the_supported_range_in_one_line(tmp_path):
    root = project_copy_for_setup(tmp_path / "project")
    for found in ("3.9", "3.14"):
        result = run_setup(root, PYTHON=str(fake_python(tmp_path, found)))
        assert result.returncode == 2 and result.stdout == ""
        assert re.fullmatch(rf"setup: \S+ is Python {found}; the study needs Python 3\.11 to 3\.13 \(pyproject\.toml's "
                            r"requires-python\): install one and "
                            r"run PYTHON=python3\.11 bin/setup\n", result.stderr)
        assert not (root / ".venv").exists()


def test_setup_names_a_python_it_cannot_run(tmp_path):
    result = run_setup(project_copy_for_setup(tmp_path), PYTHON="no-such-python3")
    assert result.returncode == 2
    assert result.stderr == ("setup: cannot run PYTHON=no-such-python3; the study needs Python 3.11 to 3.13: install "
                             "one and set PYTHON to it\n")


def test_a_failed_install_leaves_no_venv(tmp_path):
    root = project_copy_for_setup(tmp_path / "project")
    result = run_setup(root, PYTHON=str(Path(sys.base_prefix, "bin", "python3")), UV_OFFLINE="1",
                       UV_CACHE_DIR=str(tmp_path / "empty-cache"))
    assert result.returncode != 0 and "Network connectivity is disabled" in result.stderr
    assert result.stderr.endswith("setup: the install did not finish; .venv removed\n"), result.stderr
    assert not (root / ".venv").exists()
