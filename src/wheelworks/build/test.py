"""Test a repaired wheel where the build prefix cannot be seen.

The wheel goes into a fresh venv; the test command runs from an empty folder with every
search path that could reach the libraries' prefix removed, so a wheel that is not
self-contained fails here rather than on a user's machine.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from wheelworks.build import venvs
from wheelworks.config.model import TestConfig
from wheelworks.shared.errors import CommandError, StepError
from wheelworks.shared.phases import Phases
from wheelworks.shared.run import run

# Variables through which a process could still find the build's libraries or sources.
_LEAKY = (
    "LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH", "DYLD_FALLBACK_LIBRARY_PATH", "LIBRARY_PATH",
    "CPATH", "PKG_CONFIG_PATH", "CMAKE_PREFIX_PATH", "PYTHONPATH", "PYTHONHOME",
)


def clean_environment(base: Mapping[str, str], hidden: Sequence[Path]) -> dict[str, str]:
    """``base`` without loader/compiler search paths, and with no PATH entry under ``hidden``."""
    env = {k: v for k, v in base.items() if k not in _LEAKY}
    entries = env.get("PATH", "").split(os.pathsep)
    env["PATH"] = os.pathsep.join(p for p in entries if p and not any(_is_under(Path(p), h) for h in hidden))
    return env


def run_tests(
    interpreter: Path,
    wheel: Path,
    test: TestConfig,
    workdir: Path,
    project: Path,
    hidden: Sequence[Path],
    base_env: Mapping[str, str],
    log: Path,
    os_name: str,
    phases: Phases,
    uv: Path | None = None,
) -> Path:
    """Install ``wheel`` and the test requirements in a fresh venv (made by ``uv`` if
    given) and run the test command.

    ``{project}`` in the command is the source tree (for tests kept outside the package).
    Returns the venv's python, for checks that follow in the same environment.
    """
    env = clean_environment(base_env, hidden)
    venv = workdir / "venv"
    with phases.timing("test venv"):
        venvs.create(interpreter, venv, [wheel, *test.requires], log, os_name, env, uv)
    if test.command:
        empty = workdir / "cwd"
        empty.mkdir()
        command = test.command.replace("{project}", str(project))
        with phases.timing("test command"):
            run(command, log=log, cwd=empty, env=venvs.activated(venv, env, os_name))
    return venvs.python(venv, os_name)


def fitting_wheel(interpreter: Path, wheelhouse: Path, project: str, workdir: Path, base_env: Mapping[str, str],
                  log: Path, os_name: str) -> Path:
    """The wheel of ``project`` in ``wheelhouse`` that pip picks for ``interpreter``: the one
    a user of that machine would get (tags, glibc, macOS version all weighed by pip)."""
    picker = venvs.create(interpreter, workdir / "pick", [], log, os_name, base_env)
    chosen = workdir / "chosen"
    try:
        run([picker, "-m", "pip", "download", "--quiet", "--no-deps", "--no-index", "--only-binary", ":all:",
             "--find-links", wheelhouse, "--dest", chosen, project], log=log, env=base_env)
    except CommandError:  # pip says why in the log; the line says where
        raise StepError(f"no wheel of {project} in {wheelhouse} installs on {interpreter}",
                        f"see {log}; `pip debug --verbose` lists the tags that interpreter accepts") from None
    (wheel,) = chosen.glob("*.whl")
    return wheel


def _is_under(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True
