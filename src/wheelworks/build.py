"""One wheel per interpreter, with pypa/build or uv as the frontend.

frontends:
  build       pypa/build, isolated build environments made with pip (the default)
  build[uv]   pypa/build, isolated build environments made with uv
  uv          `uv build`, which also caches its build environments
Without uv on the machine, the last two fall back to "build".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from wheelworks import tools, venvs
from wheelworks.cache import Cache
from wheelworks.errors import StepError
from wheelworks.paths import prepend_path
from wheelworks.hashes import digest
from wheelworks.interpreters import Interpreter
from wheelworks.run import run

# Installed once per interpreter into a cached venv that runs pypa/build.
FRONTEND_REQUIREMENTS = ("build>=1.2",)


@dataclass(frozen=True)
class Frontend:
    name: str  # one of FRONTENDS, after any fallback
    uv: Path | None = None  # the uv binary, for "build[uv]" and "uv"

    def prepare(self, interpreter: Interpreter, cache: Cache, log: Path, os_name: str) -> Path:
        """The python that runs the build: a cached venv with pypa/build, or the
        interpreter itself for uv."""
        if self.name == "uv":
            return interpreter.path
        # A venv made by uv has no pip, one made by venv has: they are different entries.
        maker = "uv" if self.uv else "venv"
        key = digest([str(interpreter.path.resolve()), interpreter.version, FRONTEND_REQUIREMENTS, maker])
        entry = cache.path("tools", f"py{interpreter.version}-{key[:12]}")
        cache.ensure(entry, lambda venv: venvs.create(interpreter.path, venv, FRONTEND_REQUIREMENTS, log, os_name,
                                                      uv=self.uv))
        return venvs.python(entry, os_name)

    def build_wheel(self, python: Path, source: Path, out: Path, env: Mapping[str, str], log: Path) -> Path:
        """Build ``source`` into a wheel in the empty folder ``out``; returns the wheel."""
        out.mkdir(parents=True, exist_ok=True)
        if self.name == "uv":
            assert self.uv is not None
            cmd = [self.uv, "build", "--wheel", "--python", python, "--out-dir", out, source]
        else:
            installer = ["--installer", "uv"] if self.name == "build[uv]" else []
            cmd = [python, "-m", "build", "--wheel", *installer, "--outdir", out, source]
        # pypa/build's --installer uv looks for uv on PATH
        run(cmd, log=log, cwd=source, env=prepend_path(env, "PATH", [self.uv.parent]) if self.uv else env)
        return only_wheel(out, "the build")


def frontend(requested: str, env: Mapping[str, str]) -> Frontend:
    if requested == "build":
        return Frontend("build")
    uv = tools.uv(env)
    return Frontend(requested, uv) if uv else Frontend("build")


def only_wheel(folder: Path, made_by: str) -> Path:
    """The one wheel ``made_by`` left in ``folder``: none or several is that step's failure."""
    wheels = sorted(folder.glob("*.whl"))
    if len(wheels) != 1:
        raise StepError(f"expected one wheel from {made_by}, found {len(wheels)} in {folder}")
    return wheels[0]
