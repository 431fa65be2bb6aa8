"""One wheel per interpreter, with pypa/build or uv as the frontend.

frontends:
  build       pypa/build, isolated build environments made with pip (the default)
  build[uv]   pypa/build, isolated build environments made with uv
  uv          `uv build`, which also caches its build environments
Without uv on the machine, the last two fall back to "build".
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from wheelworks import tools, venvs
from wheelworks.cache import Cache
from wheelworks.errors import CommandError
from wheelworks.hashes import digest
from wheelworks.interpreters import Interpreter
from wheelworks.run import run

# Installed once per interpreter into a cached venv that runs pypa/build.
FRONTEND_REQUIREMENTS = ("build>=1.2",)


@dataclass(frozen=True)
class Frontend:
    name: str  # one of FRONTENDS, after any fallback
    uv: Path | None = None  # the uv binary, for "build[uv]" and "uv"

    def prepare(self, interpreter: Interpreter, cache: Cache, log: Path) -> Path:
        """The python that runs the build: a cached venv with pypa/build, or the
        interpreter itself for uv."""
        if self.name == "uv":
            return interpreter.path
        # A venv made by uv has no pip, one made by venv has: they are different entries.
        maker = "uv" if self.uv else "venv"
        key = digest([str(interpreter.path.resolve()), interpreter.version, FRONTEND_REQUIREMENTS, maker])
        entry = cache.path("tools", f"py{interpreter.version}-{key[:12]}")
        cache.ensure(entry, lambda venv: venvs.create(interpreter.path, venv, FRONTEND_REQUIREMENTS, log, uv=self.uv))
        return venvs.python(entry)

    def build_wheel(self, python: Path, source: Path, out: Path, env: Mapping[str, str], log: Path) -> Path:
        """Build ``source`` into a wheel in the empty folder ``out``; returns the wheel."""
        out.mkdir(parents=True, exist_ok=True)
        if self.name == "uv":
            assert self.uv is not None
            cmd = [self.uv, "build", "--wheel", "--python", python, "--out-dir", out, source]
        else:
            installer = ["--installer", "uv"] if self.name == "build[uv]" else []
            cmd = [python, "-m", "build", "--wheel", *installer, "--outdir", out, source]
        run(cmd, log=log, cwd=source, env=_with_uv_on_path(env, self.uv))
        wheels = sorted(out.glob("*.whl"))
        if len(wheels) != 1:
            raise CommandError(f"expected one wheel from the build, found {len(wheels)} in {out}")
        return wheels[0]


def frontend(requested: str, env: Mapping[str, str]) -> Frontend:
    if requested == "build":
        return Frontend("build")
    uv = tools.uv(env)
    return Frontend(requested, uv) if uv else Frontend("build")


def _with_uv_on_path(env: Mapping[str, str], uv: Path | None) -> dict[str, str]:
    out = dict(env)
    if uv is not None:  # pypa/build's --installer uv looks for uv on PATH
        out["PATH"] = os.pathsep.join(filter(None, [str(uv.parent), env.get("PATH")]))
    return out
