"""Virtual environments, for the build tools and for testing wheels; made by uv when given."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from wheelworks.shared.paths import prepend_path
from wheelworks.shared.run import run


def bin_dir(venv: Path, os_name: str) -> Path:
    """Where a venv keeps its executables on ``os_name`` (linux, macos or windows)."""
    return venv / ("Scripts" if os_name == "windows" else "bin")


def python(venv: Path, os_name: str) -> Path:
    return bin_dir(venv, os_name) / ("python.exe" if os_name == "windows" else "python")


def site_packages(venv: Path, os_name: str) -> Path:
    """Where ``venv``'s packages are installed (lib/pythonX.Y/site-packages, or Lib\\site-packages)."""
    if os_name == "windows":
        return venv / "Lib" / "site-packages"
    found = sorted(venv.glob("lib/python3*/site-packages"))
    return found[0] if found else venv / "lib" / "site-packages"


def create(
    interpreter: Path,
    venv: Path,
    requirements: Sequence[str | Path],
    log: Path,
    os_name: str,
    env: Mapping[str, str] | None = None,
    uv: Path | None = None,
) -> Path:
    """A fresh venv of ``interpreter`` at ``venv`` with ``requirements`` installed; returns its python."""
    if uv is not None:
        run([uv, "venv", "--quiet", "--python", interpreter, venv], log=log, env=env)
    else:
        run([interpreter, "-m", "venv", "--clear", venv], log=log, env=env)
    install(venv, requirements, log, os_name, env, uv)
    return python(venv, os_name)


def install(venv: Path, requirements: Sequence[str | Path], log: Path, os_name: str,
            env: Mapping[str, str] | None = None, uv: Path | None = None) -> None:
    if not requirements:
        return
    if uv is not None:
        run([uv, "pip", "install", "--python", python(venv, os_name), *requirements], log=log, env=env)
    else:
        run([python(venv, os_name), "-m", "pip", "install", *requirements], log=log, env=env)


def activated(venv: Path, base: Mapping[str, str], os_name: str) -> dict[str, str]:
    """``base`` as a shell sees it after activating ``venv``."""
    env = prepend_path(base, "PATH", [bin_dir(venv, os_name)])
    env.pop("PYTHONHOME", None)
    env["VIRTUAL_ENV"] = str(venv)
    return env
