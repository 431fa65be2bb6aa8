"""The house rules the README states, checked on the code itself: only the CLI reads the
process environment, only run.py starts processes, stages never print."""

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
    assert imports == {"run.py"}


def test_stages_never_print():
    printers = _where(lambda n: isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "print")
    assert {p for p in printers if not p.startswith("cli/")} == {"progress.py"}  # the reporter the CLI hands in

