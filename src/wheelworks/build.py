"""One wheel per interpreter, with pypa/build in an isolated build environment."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from wheelworks import venvs
from wheelworks.cache import Cache
from wheelworks.errors import CommandError
from wheelworks.hashes import digest
from wheelworks.interpreters import Interpreter
from wheelworks.run import run

# Installed once per interpreter into a cached venv that runs the build frontend.
FRONTEND_REQUIREMENTS = ("build>=1.2",)


def frontend(interpreter: Interpreter, cache: Cache, log: Path) -> Path:
    """The python of a cached venv for ``interpreter`` that has the build frontend."""
    key = digest([str(interpreter.path.resolve()), interpreter.version, FRONTEND_REQUIREMENTS])
    entry = cache.path("tools", f"py{interpreter.version}-{key[:12]}")
    cache.ensure(entry, lambda venv: venvs.create(interpreter.path, venv, FRONTEND_REQUIREMENTS, log))
    return venvs.python(entry)


def build_wheel(python: Path, source: Path, out: Path, env: Mapping[str, str], log: Path) -> Path:
    """Build ``source`` into a wheel in the empty folder ``out``; returns the wheel."""
    out.mkdir(parents=True, exist_ok=True)
    run([python, "-m", "build", "--wheel", "--outdir", out, source], log=log, cwd=source, env=env)
    wheels = sorted(out.glob("*.whl"))
    if len(wheels) != 1:
        raise CommandError(f"expected one wheel from the build, found {len(wheels)} in {out}")
    return wheels[0]
