"""One wheel per interpreter, with pypa/build or uv as the frontend.

frontends:
  build       pypa/build in a cached build environment made with pip
  build[uv]   pypa/build in a cached build environment made with uv (the default)
  uv          `uv build`, which also caches its build environments
Without uv on the machine, the last two fall back to "build".
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from wheelworks import tools, venvs
from wheelworks.cache import Cache, locked
from wheelworks.errors import StepError
from wheelworks.paths import prepend_path
from wheelworks.hashes import digest
from wheelworks.interpreters import Interpreter
from wheelworks.run import run

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

# Installed with the project's build requirements into its cached build environment.
FRONTEND_REQUIREMENTS = ("build>=1.2",)


@dataclass(frozen=True)
class Frontend:
    name: str  # one of FRONTENDS, after any fallback
    uv: Path | None = None  # the uv binary, for "build[uv]" and "uv"

    def prepare(self, interpreter: Interpreter, cache: Cache, log: Path, os_name: str, source: Path,
                env: Mapping[str, str]) -> Path:
        """The python that runs the build: for pypa/build, a cached build environment with
        pypa/build and the project's build requirements, at a path that stays the same from
        build to build (so compiler caches hit on headers it brings, numpy's say); for uv,
        the interpreter itself."""
        if self.name == "uv":
            return interpreter.path
        requires = build_requires(source)
        # A venv made by uv has no pip, one made by venv has: they are different entries.
        maker = "uv" if self.uv else "venv"
        key = digest([str(interpreter.path.resolve()), interpreter.build, FRONTEND_REQUIREMENTS, requires, maker])
        entry = cache.path("buildenvs", f"py{interpreter.key}-{key[:12]}")
        cache.ensure(entry, lambda venv: venvs.create(interpreter.path, venv, [*FRONTEND_REQUIREMENTS, *requires],
                                                      log, os_name, env, uv=self.uv))
        python = venvs.python(entry, os_name)
        # What the backend asks for beyond build-system.requires (setup.py may add): added once, under the lock.
        with locked(entry.with_name(entry.name + ".lock")):
            extra = json.loads(run([python, "-c", _DYNAMIC, source], log=log, env=env, capture=True).splitlines()[-1])
            if extra:
                venvs.install(entry, extra, log, os_name, env, self.uv)
        return python

    def build_wheel(self, python: Path, source: Path, out: Path, env: Mapping[str, str], log: Path) -> Path:
        """Build ``source`` into a wheel in the empty folder ``out``; returns the wheel."""
        out.mkdir(parents=True, exist_ok=True)
        if self.name == "uv":
            assert self.uv is not None
            cmd = [self.uv, "build", "--wheel", "--python", python, "--out-dir", out, source]
        else:  # in the prepared environment, which has what the build needs
            cmd = [python, "-m", "build", "--wheel", "--no-isolation", "--skip-dependency-check", "--outdir", out, source]
        # pypa/build's --installer uv looks for uv on PATH
        run(cmd, log=log, cwd=source, env=prepend_path(env, "PATH", [self.uv.parent]) if self.uv else env)
        return only_wheel(out, "the build")


def frontend(requested: str, env: Mapping[str, str]) -> Frontend:
    if requested == "build":
        return Frontend("build")
    uv = tools.uv(env)
    return Frontend(requested, uv) if uv else Frontend("build")


# The backend's requirements that the environment does not satisfy yet, as JSON.
_DYNAMIC = """
import json, sys
from build import ProjectBuilder, check_dependency
builder = ProjectBuilder(sys.argv[1])
missing = {d for req in builder.get_requires_for_build("wheel") for d in check_dependency(req)}
print(json.dumps(sorted(m[0] for m in missing)))
"""


def build_requires(source: Path) -> list[str]:
    """The project's build-system.requires (setuptools when it has none, as PEP 518 says)."""
    try:
        data = tomllib.loads((source / "pyproject.toml").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ["setuptools>=40.8.0"]
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise StepError(f"{source / 'pyproject.toml'}: cannot read build-system.requires ({exc})") from None
    requires = data.get("build-system", {}).get("requires", ["setuptools>=40.8.0"])
    return sorted(str(r) for r in requires)


def only_wheel(folder: Path, made_by: str) -> Path:
    """The one wheel ``made_by`` left in ``folder``: none or several is that step's failure."""
    wheels = sorted(folder.glob("*.whl"))
    if len(wheels) != 1:
        raise StepError(f"expected one wheel from {made_by}, found {len(wheels)} in {folder}")
    return wheels[0]
