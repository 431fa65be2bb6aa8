"""Virtual environments, for the build tools and for testing wheels; made by uv when given."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from wheelworks.run import run


def bin_dir(venv: Path) -> Path:
    return venv / ("Scripts" if sys.platform == "win32" else "bin")


def python(venv: Path) -> Path:
    return bin_dir(venv) / ("python.exe" if sys.platform == "win32" else "python")


def create(
    interpreter: Path,
    venv: Path,
    requirements: Sequence[str | Path],
    log: Path,
    env: Mapping[str, str] | None = None,
    uv: Path | None = None,
) -> Path:
    """A fresh venv of ``interpreter`` at ``venv`` with ``requirements`` installed; returns its python."""
    if uv is not None:
        run([uv, "venv", "--quiet", "--python", interpreter, venv], log=log, env=env)
    else:
        run([interpreter, "-m", "venv", "--clear", venv], log=log, env=env)
    install(venv, requirements, log, env, uv)
    return python(venv)


def install(venv: Path, requirements: Sequence[str | Path], log: Path, env: Mapping[str, str] | None = None,
            uv: Path | None = None) -> None:
    if not requirements:
        return
    if uv is not None:
        run([uv, "pip", "install", "--python", python(venv), *requirements], log=log, env=env)
    else:
        run([python(venv), "-m", "pip", "install", *requirements], log=log, env=env)


def activated(venv: Path, base: Mapping[str, str]) -> dict[str, str]:
    """``base`` as a shell sees it after activating ``venv``."""
    env = dict(base)
    env.pop("PYTHONHOME", None)
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = os.pathsep.join([str(bin_dir(venv)), *filter(None, [base.get("PATH")])])
    return env
