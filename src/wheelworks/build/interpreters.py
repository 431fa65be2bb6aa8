"""Finding CPython interpreters: listed ones first, then PATH, pyenv and manylinux folders."""

from __future__ import annotations

import glob
import json
import os
import shutil
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from wheelworks.config.settings import Settings
from wheelworks.shared.errors import CommandError, InterpreterError
from wheelworks.shared.run import run

_PROBE = (
    "import json, sys, sysconfig; print(json.dumps({'impl': sys.implementation.name, "
    "'version': '%d.%d' % sys.version_info[:2], "
    "'free_threaded': bool(sysconfig.get_config_var('Py_GIL_DISABLED')), 'venv': sys.prefix != sys.base_prefix, "
    "'build': sys.version + ' ' + str(sysconfig.get_config_var('SOABI'))}))"
)


@dataclass(frozen=True)
class Interpreter:
    path: Path
    version: str  # e.g. 3.12
    free_threaded: bool = False  # Py_GIL_DISABLED, as the interpreter itself says
    build: str = ""  # its full version, build date and compiler, and SOABI: a new build is a new input

    @property
    def key(self) -> str:
        """How a matrix names it: 3.12, or 3.14t for a free-threaded build."""
        return self.version + ("t" if self.free_threaded else "")


def candidates(listed: Iterable[str], settings: Settings, os_name: str) -> list[Path]:
    """Places an interpreter may be, in order of preference.

    ``listed`` (from [build] interpreters) and WHEELWORKS_PYTHONS (os.pathsep-separated)
    win; then python3.X on PATH, pyenv's versions folder, /opt/python (manylinux images)
    and the tool cache of CI runners (actions/setup-python).
    """
    found: list[str] = [*listed, *map(str, settings.pythons)]
    path = settings.env.get("PATH", "")
    for minor in range(6, 20):
        for name in (f"python3.{minor}", f"python3.{minor}t"):
            exe = shutil.which(name, path=path)
            if exe and Path(exe).parent.name != "shims":  # pyenv's shims: its versions are looked at below
                found.append(exe)
    if settings.pyenv_root:
        found += sorted(glob.glob(os.path.join(settings.pyenv_root, "versions", "*", "bin", "python3")))
    found += sorted(glob.glob("/opt/python/cp3*/bin/python3"))
    if settings.tool_cache:
        found += tool_cache(settings.tool_cache, os_name)
    return [Path(p) for p in found]


def tool_cache(root: Path, os_name: str) -> list[str]:
    """Interpreters actions/setup-python installed on a CI runner: <root>/Python/<version>/<arch>/,
    with python.exe there on Windows and bin/python3 elsewhere (free-threaded ones are
    <version>t or carry python3.Xt)."""
    cached = root / "Python" / "*" / "*"
    pattern = ["python.exe"] if os_name == "windows" else ["bin", "python3"]
    return sorted(glob.glob(str(cached.joinpath(*pattern))))


def probe(path: Path) -> Interpreter | None:
    """The CPython at ``path``, asked itself whether it is free-threaded; None if it does
    not run, or is a venv's: its packages (wheelworks' own, on CI) are not a build's, and
    its path changes with the venv's, so the one it was made from is used instead."""
    try:
        info = json.loads(run([path, "-c", _PROBE], log=None, timeout=30))
    except (CommandError, ValueError):
        return None
    if info["impl"] != "cpython" or info.get("venv"):
        return None
    return Interpreter(path, info["version"], bool(info["free_threaded"]), info.get("build", ""))


def discover(versions: Iterable[str], listed: Iterable[str], settings: Settings, os_name: str) -> dict[str, Interpreter]:
    """The first working interpreter found for each wanted version ("3.12", or "3.14t" for
    a free-threaded one); missing ones are absent. Candidates are asked all at once: each
    answer is a process start (a pyenv shim, several)."""
    wanted = set(versions)
    unique: dict[Path, Path] = {}
    for path in candidates(listed, settings, os_name):
        if not (path.parent.parent / "pyvenv.cfg").is_file():  # a venv's python resolves to its base's binary
            unique.setdefault(path.resolve(), path)
    with ThreadPoolExecutor(max_workers=8) as pool:
        probed = list(pool.map(probe, unique.values()))
    found: dict[str, Interpreter] = {}
    for interpreter in probed:  # in the candidates' order of preference
        if interpreter and interpreter.key in wanted and interpreter.key not in found:
            found[interpreter.key] = interpreter
    return found


def missing_error(versions: Iterable[str]) -> InterpreterError:
    names = ", ".join(f"python{v}" for v in versions)  # python3.14t is the free-threaded command
    return InterpreterError(
        f"no interpreter found for {names}",
        "install it, list it in [build] interpreters or WHEELWORKS_PYTHONS, "
        "skip it with [build] skip, or set [build] missing-python = \"warn\"",
    )
