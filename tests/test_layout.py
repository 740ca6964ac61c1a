"""The package's plan: imports point downward (core <- why <- commands, docs), no cycles, every module small."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "fmnist"
SUBPACKAGES = ("why", "search", "serving", "docs")  # each a layer above the core
COMMAND_MODULES = ("images", "prediction", "sharing", "summary")  # top-level, but behind bin/ commands
MAX_LINES = 250


def module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported_modules(path):
    """The fmnist modules `path` imports anywhere in it (a stage's late imports inside functions too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)  # `from fmnist.why import control`
    return {name for name in names if name in MODULES}


def layer(module):
    parts = module.split(".")
    if len(parts) > 2 or (len(parts) == 2 and parts[1] in SUBPACKAGES):
        return parts[1]
    return "commands" if parts[-1] in COMMAND_MODULES else "core"


ALLOWED = {"core": {"core"}, "why": {"core", "why"}, "search": {"core", "search"},
           "serving": {"core", "why", "commands", "serving"}, "commands": {"core", "commands"},
           "docs": {"core", "why", "docs"}}


def test_the_layers_are_what_the_readme_says():
    assert {layer(name) for name in MODULES} == set(ALLOWED)
    assert layer("fmnist.training") == "core" and layer("fmnist.why.control") == "why"
    assert layer("fmnist.serving.app") == "serving" and layer("fmnist.prediction") == "commands"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_downward(module):
    upward = sorted(name for name in imported_modules(MODULES[module]) if layer(name) not in ALLOWED[layer(module)])
    assert not upward, f"{module} ({layer(module)}) imports {upward}, a layer above it"


def test_the_core_never_imports_why_search_or_serving():
    for module, path in MODULES.items():
        if layer(module) == "core":
            assert not {name for name in imported_modules(path) if layer(name) in SUBPACKAGES}, module


def import_cycle(graph):
    """One cycle of the graph {module: imported modules} as a list of modules, or None."""
    done, path = set(), []

    def visit(module):
        if module in path:
            return path[path.index(module):] + [module]
        if module in done:
            return None
        path.append(module)
        for name in sorted(graph[module]):
            cycle = visit(name)
            if cycle:
                return cycle
        path.pop()
        done.add(module)
        return None
    return next((cycle for cycle in map(visit, sorted(graph)) if cycle), None)


def test_no_import_cycles():
    graph = {module: imported_modules(path) - {module, "fmnist"} for module, path in MODULES.items()}
    assert import_cycle(graph) is None


def test_a_cycle_is_found():
    assert import_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert import_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_stay_small(module):
    assert len(MODULES[module].read_text(encoding="utf-8").splitlines()) <= MAX_LINES, module
