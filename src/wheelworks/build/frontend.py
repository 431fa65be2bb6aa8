"""One wheel per interpreter, with pypa/build or uv as the frontend.

frontends:
  build       pypa/build, in this process, running the backend in a cached build environment made with pip
  build[uv]   the same, its build environment made with uv (the default)
  uv          `uv build`, which also caches its build environments
Without uv on the machine, the last two fall back to "build". With uv, the build
requirements are first resolved to exact versions, kept for [build] requires-max-age
hours (``Frontend.requires``): the environment is made of them, and they are inputs.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from build import BuildBackendException, BuildException, ProjectBuilder

from wheelworks.build import tools, venvs
from wheelworks.build.interpreters import Interpreter
from wheelworks.shared import atomic
from wheelworks.shared.cache import Cache, locked
from wheelworks.shared.compat import tomllib
from wheelworks.shared.errors import CommandError, StepError, WheelworksError
from wheelworks.shared.hashes import digest
from wheelworks.shared.paths import prepend_path
from wheelworks.shared.run import run


@dataclass(frozen=True)
class BuildEnvironment:
    """Where a build runs: the python that runs the backend and, for pypa/build, the cached
    venv whose tools (meson, ninja, cmake, cython…) the backend runs by name from PATH."""

    python: Path
    venv: Path | None  # None: ``uv build`` makes, and activates, an environment of its own
    os_name: str
    # Where the backend's answer to "what else do you need?" is kept once asked; None when
    # it was (or uv builds). The first build in the environment asks (build_wheel).
    unasked: Path | None = None

    def activate(self, base: Mapping[str, str]) -> dict[str, str]:
        """``base`` with the venv's scripts folder first on PATH, as pypa/build's own isolated builds have it."""
        return venvs.activated(self.venv, base, self.os_name) if self.venv is not None else dict(base)


@dataclass(frozen=True)
class Resolution:
    """A build environment's requirements resolved to exact versions (``name==version``),
    when, and of what: the digest of the interpreter and the requirements as written."""

    pins: tuple[str, ...]
    time: float
    of: str


@dataclass(frozen=True)
class Frontend:
    name: str  # one of FRONTENDS, after any fallback
    uv: Path | None = None  # the uv binary, for "build[uv]" and "uv"
    config_settings: tuple[tuple[str, str], ...] = ()  # [build] config-settings, for the backend's every hook

    def requires(self, interpreter: Interpreter, source: Path, cache: Cache, env: Mapping[str, str], log: Path,
                 now: float, max_age: float, known: Iterable[Resolution] = ()) -> Resolution:
        """What the build environment holds: build-system.requires (and pypa/build)
        resolved with uv to exact versions, again once the last resolution is ``max_age``
        seconds old, so a new release of a build requirement reaches the nightlies (and,
        being in the input key, rebuilds their targets). ``known`` are resolutions made
        elsewhere (a container's records carry theirs): one of the same requirements on
        the same interpreter, young enough, is as good as this machine's own. Without uv,
        or offline with no earlier resolution, the requirements as written."""
        specs = build_requires(source)
        of = digest([str(interpreter.path.resolve()), interpreter.build, specs])
        if self.uv is None:  # as written: nothing another machine could take for its own (of "")
            return Resolution(tuple(specs), now, "")
        saved = cache.path("buildenvs", f"py{interpreter.key}-{of[:12]}.resolved.json")
        local = _read_resolution(saved)
        earlier = [r for r in (local, *known) if r is not None and r.of == of]
        fresh = [r for r in earlier if 0 <= now - r.time < max_age]
        if fresh:
            newest = max(fresh, key=lambda r: r.time)
            if newest != local:  # kept here, for builds on this machine without the container
                _write_resolution(saved, newest)
            return newest
        with tempfile.TemporaryDirectory() as tmp:
            wanted = Path(tmp) / "requires.txt"
            wanted.write_text("\n".join(specs) + "\n", encoding="utf-8")
            try:
                out = run([self.uv, "pip", "compile", "--quiet", "--no-header", "--no-annotate", "--python",
                           interpreter.path, wanted], log=log, env=env, capture=True)
            except CommandError:  # offline: what was resolved last, or as written
                return max(earlier, key=lambda r: r.time) if earlier else Resolution(tuple(specs), now, "")
        # name==version per line (a direct reference stays "name @ url"); no comments or options
        pins = tuple(sorted(line.strip() for line in out.splitlines() if line.strip()[:1] not in ("", "#", "-")))
        resolved = Resolution(pins, now, of)
        _write_resolution(saved, resolved)
        return resolved

    def prepare(self, interpreter: Interpreter, cache: Cache, log: Path, os_name: str, source: Path,
                env: Mapping[str, str], requires: Sequence[str]) -> BuildEnvironment:
        """Where the build runs: for pypa/build, a cached build environment of ``requires``
        (from ``requires()``) at a path that stays the same while they do (so compiler
        caches hit on headers it brings, numpy's say); for uv, the interpreter."""
        if self.name == "uv":
            return BuildEnvironment(interpreter.path, None, os_name)
        # A venv made by uv has no pip, one made by venv has: they are different entries.
        maker = "uv" if self.uv else "venv"
        key = digest([str(interpreter.path.resolve()), interpreter.build, list(requires), maker])
        entry = cache.path("buildenvs", f"py{interpreter.key}-{key[:12]}")
        cache.ensure(entry, lambda venv: venvs.create(interpreter.path, venv, list(requires), log, os_name, env,
                                                      uv=self.uv))
        # What the backend asks for beyond build-system.requires (setup.py may add; meson-python and
        # scikit-build-core add ninja or cmake when PATH has none) depends on the files a backend
        # reads for it, the settings and PATH: asked once for each (by the first build of them).
        asked = digest([*(_read(source / name) for name in _REQUIRES_FROM), dict(self.config_settings),
                        env.get("PATH", "")])
        answer = entry / f".requires-for-wheel-{asked[:16]}.json"
        return BuildEnvironment(venvs.python(entry, os_name), entry, os_name, None if answer.is_file() else answer)

    def build_wheel(self, where: BuildEnvironment, source: Path, out: Path, env: Mapping[str, str], log: Path,
                    requires: Sequence[str] = ()) -> Path:
        """Build ``source`` into a wheel in the empty folder ``out``; returns the wheel.
        ``uv build`` makes its own build environment, held to ``requires`` (from
        ``requires()``), as the cached one of pypa/build is made of them."""
        out.mkdir(parents=True, exist_ok=True)
        if self.name == "uv":
            assert self.uv is not None
            constraints = out.with_name("build-constraints.txt")
            constraints.write_text("".join(f"{pin}\n" for pin in requires), encoding="utf-8")
            cmd: list[str | Path] = [self.uv, "build", "--wheel", "--python", where.python, "--build-constraints",
                                     constraints, "--out-dir", out, source]
            cmd += [f"--config-setting={key}={value}" for key, value in self.config_settings]
            run(cmd, log=log, cwd=source, env=where.activate(prepend_path(env, "PATH", [self.uv.parent])))
        else:
            self._pypa_build(where, source, out, where.activate(env), log)
        return only_wheel(out, "the build")

    def _pypa_build(self, where: BuildEnvironment, source: Path, out: Path, env: Mapping[str, str],
                    log: Path) -> None:
        """What ``python -m build --wheel --no-isolation`` does in the environment, driven
        from this process through pypa/build's API: the environment's python runs only the
        backend's hooks, one process and one import of pypa/build fewer per wheel. The first
        build in an environment asks the backend what else it needs, and installs that."""
        assert where.venv is not None

        def hooks(cmd: Sequence[str], cwd: str | None = None, extra_environ: Mapping[str, str] | None = None) -> None:
            run(list(cmd), log=log, cwd=Path(cwd) if cwd else source, env={**env, **(extra_environ or {})})

        settings = dict(self.config_settings)
        try:
            builder = ProjectBuilder(source, python_executable=str(where.python), runner=hooks)
            if where.unasked is not None:
                extra = sorted(builder.get_requires_for_build("wheel", settings or None))
                with locked(where.venv):  # installing what is there already changes nothing
                    venvs.install(where.venv, extra, log, where.os_name, env, self.uv)
                atomic.write_text(where.unasked, json.dumps(extra) + "\n")  # after the install: then it holds
            builder.build("wheel", out, settings)
        except BuildBackendException as exc:  # the hook's command failed: its own error says so, with the log's tail
            if isinstance(exc.exception, WheelworksError):
                raise exc.exception from None
            raise StepError(f"the build backend failed: {exc}") from None
        except BuildException as exc:
            raise StepError(f"{source}: {exc}", "see pyproject.toml's [build-system]") from None


def frontend(requested: str, env: Mapping[str, str], config_settings: Mapping[str, str] | None = None) -> Frontend:
    settings = tuple(sorted((config_settings or {}).items()))
    uv = tools.uv(env) if requested != "build" else None
    return Frontend(requested, uv, settings) if uv else Frontend("build", None, settings)


# What a backend reads to say what else it needs to build a wheel (setuptools: setup.py and
# setup.cfg; meson-python and scikit-build-core: their pyproject settings).
_REQUIRES_FROM = ("pyproject.toml", "setup.py", "setup.cfg")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except (FileNotFoundError, IsADirectoryError):
        return ""


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


def _read_resolution(path: Path) -> Resolution | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Resolution(tuple(data["pins"]), float(data["time"]), str(data["of"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_resolution(path: Path, resolved: Resolution) -> None:
    atomic.write_text(path, json.dumps({"time": resolved.time, "pins": resolved.pins, "of": resolved.of}) + "\n")


def only_wheel(folder: Path, made_by: str) -> Path:
    """The one wheel ``made_by`` left in ``folder``: none or several is that step's failure."""
    wheels = sorted(folder.glob("*.whl"))
    if len(wheels) != 1:
        raise StepError(f"expected one wheel from {made_by}, found {len(wheels)} in {folder}")
    return wheels[0]
