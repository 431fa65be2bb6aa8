"""wheelworks as Windows and macOS runners import and use it: no POSIX-only module on
any import path, and OS decisions that follow the platform they are given."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from wheelworks.build import interpreters, repair, venvs
from wheelworks.shared.platforms import Platform

POSIX_ONLY = ("fcntl", "pwd", "grp", "resource", "termios")

_IMPORT_ALL = textwrap.dedent("""
    import importlib, importlib.abc, pkgutil, sys

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r} (as on Windows)", name=name)

    for name in BLOCKED:
        sys.modules.pop(name, None)
    sys.meta_path.insert(0, Block())
    import wheelworks
    # __main__ runs the CLI when imported; it imports only cli, which is in the walk
    names = [m.name for m in pkgutil.walk_packages(wheelworks.__path__, "wheelworks.") if not m.name.endswith("__main__")]
    for name in names:
        importlib.import_module(name)
    print(len(names))
""")


def test_every_module_imports_without_posix_only_modules():
    code = f"BLOCKED = {POSIX_ONLY!r}\n{_IMPORT_ALL}"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) >= 25  # every module was walked, not an empty package


def test_the_blocker_really_blocks():
    code = f"BLOCKED = ('json',)\n{_IMPORT_ALL}"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode != 0 and "No module named 'json' (as on Windows)" in out.stderr


@pytest.mark.parametrize(("os_name", "scripts", "exe"), [("linux", "bin", "python"), ("macos", "bin", "python"),
                                                          ("windows", "Scripts", "python.exe")])
def test_venv_layout(os_name, scripts, exe):
    venv = Path("/v")
    assert venvs.python(venv, os_name) == venv / scripts / exe
    assert venvs.activated(venv, {"PATH": "/usr/bin", "PYTHONHOME": "/x"}, os_name)["PATH"].startswith(str(venv / scripts))
    assert "PYTHONHOME" not in venvs.activated(venv, {"PYTHONHOME": "/x"}, os_name)


@pytest.mark.parametrize(("os_name", "layout"), [("linux", "bin/python3"), ("macos", "bin/python3"),
                                                 ("windows", "python.exe")])
def test_runner_tool_cache(tmp_path, os_name, layout):
    for version in ("3.12.10", "3.14.0"):
        exe = tmp_path / "Python" / version / "x64" / layout
        exe.parent.mkdir(parents=True, exist_ok=True)
        exe.touch()
    other = "python.exe" if os_name != "windows" else "bin/python3"  # the other OS's layout is not looked at
    (tmp_path / "Python" / "3.13.1" / "x64" / other).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / "Python" / "3.13.1" / "x64" / other).touch()
    found = interpreters.tool_cache(tmp_path, os_name)
    assert [Path(p).relative_to(tmp_path / "Python").parts[0] for p in found] == ["3.12.10", "3.14.0"]


@pytest.mark.parametrize(
    ("platform", "tool", "argv_has", "env_var"),
    [
        (Platform("linux", "x86_64", "manylinux_x86_64"), "auditwheel", ["-m", "auditwheel", "repair"], "LD_LIBRARY_PATH"),
        (Platform("macos", "arm64", "macosx_arm64"), "delocate", ["--require-archs", "arm64"], "DYLD_LIBRARY_PATH"),
        (Platform("windows", "AMD64", "win_amd64"), "delvewheel", ["-m", "delvewheel", "--add-path"], None),
    ],
)
def test_repair_plan_per_os(platform, tool, argv_has, env_var):
    wheel = Path("/d/pkg-1.0-cp312-cp312-linux_x86_64.whl")
    plan = repair.plan(wheel, Path("/out"), platform, Path("/p"))
    assert plan.tool == tool
    assert all(a in plan.argv for a in argv_has), plan.argv
    assert plan.argv[-1] == str(wheel)
    assert (env_var in plan.env) if env_var else "LD_LIBRARY_PATH" not in plan.env
