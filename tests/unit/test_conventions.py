"""The house rules the README states, checked on the code itself: only the CLI reads the
process environment, only shared/run.py starts processes, stages never print, and
the packages of the pipeline import only what is below them."""

import ast
from pathlib import Path

import wheelworks

PACKAGE = Path(wheelworks.__file__).parent


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(PACKAGE).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def _where(predicate) -> set[str]:
    return {name for name, tree in _modules() if any(predicate(node) for node in ast.walk(tree))}


def test_only_the_cli_reads_the_process_environment():
    reads = _where(lambda n: isinstance(n, ast.Attribute) and n.attr in ("environ", "getenv")
                   and isinstance(n.value, ast.Name) and n.value.id == "os")
    assert reads == {"cli/__init__.py"}


def test_only_run_py_starts_processes():
    imports = _where(lambda n: (isinstance(n, ast.Import) and any(a.name == "subprocess" for a in n.names))
                     or (isinstance(n, ast.ImportFrom) and n.module == "subprocess"))
    assert imports == {"shared/run.py"}


def test_stages_never_print():
    printers = _where(lambda n: isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "print")
    assert {p for p in printers if not p.startswith("cli/")} == set()  # cli/progress.py: the reporter it hands in



# The pipeline's packages, lowest first: each may import only itself and those before it.
LAYERS = ("shared", "config", "build", "containers", "release", "ci", "cli")


def _package_of(module: str) -> str:
    return module.split(".")[1] if module.count(".") >= 1 else ""


def test_imports_only_point_down():
    upward = []
    for name, tree in _modules():
        here = name.split("/")[0]
        if here not in LAYERS:  # __init__.py and __main__.py: the top, may import anything
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("wheelworks."):
                there = _package_of(node.module)
                if LAYERS.index(there) > LAYERS.index(here):
                    upward.append(f"{name} imports {node.module}")
    assert not upward


def test_every_module_is_in_a_stage_package():
    loose = {p.name for p in PACKAGE.glob("*.py")} - {"__init__.py", "__main__.py"}
    assert not loose
    assert {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()} == set(LAYERS)
