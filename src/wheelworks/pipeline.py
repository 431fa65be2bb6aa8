"""``wheelworks build``: source -> libraries -> per target build, repair, test -> record.

Stages never print; they report progress through a Reporter, which the CLI renders.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from packaging.utils import parse_wheel_filename

from wheelworks import run as run_mod
from wheelworks import atomic, interpreters, libraries, platforms, repair, test, tools, venvs
from wheelworks.build import Frontend, frontend
from wheelworks.cache import Cache
from wheelworks.config import Config
from wheelworks.targets import Target, select_targets
from wheelworks.errors import ConfigError, WheelworksError
from wheelworks.hashes import file_sha256
from wheelworks.interpreters import Interpreter
from wheelworks.records import BuildRecord, LibraryRecord, Records, StepRecord, TargetRecord
from wheelworks.atomic import sweep_partials
from wheelworks.run import run
from wheelworks.secrets import reveal
from wheelworks.source import Checkout, checkout

T = TypeVar("T")


class Reporter(Protocol):
    def event(self, scope: str, step: str, status: str, seconds: float | None = None) -> None:
        """``scope`` is a target identifier, "source" or "library"; ``status`` is one of
        start, ok, cached, failed, missing."""


class SilentReporter:
    def event(self, scope: str, step: str, status: str, seconds: float | None = None) -> None:
        pass


@dataclass(frozen=True, kw_only=True)
class BuildOptions:
    wheelhouse: Path
    builds_dir: Path
    cache_dir: Path
    only: str | None = None
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))


def build_wheels(config: Config, options: BuildOptions, reporter: Reporter | None = None) -> BuildRecord:
    """Build, repair and test a wheel for every selected target; returns the saved record,
    whose status is "ok" only if every target passed.

    Input errors (no targets, missing interpreters) raise before anything is recorded;
    a failure of the source or library stage is saved in the record, then raised.
    """
    reporter = reporter or SilentReporter()
    platform = platforms.native()
    targets = select_targets(config, platform, options.only)
    if not targets:
        raise ConfigError(
            f"{config.path.name}: no target selected for {platform.tag}",
            "check [build] python and skip, and --only",
        )
    found = _interpreters(config, targets, options.env, platform, reporter)
    store = Records(options.builds_dir)
    record = BuildRecord(
        id=store.new_id(),
        project=config.project.name,
        repo=config.project.repo,
        ref=config.project.build_commit,
        config=str(config.path),
        config_digest=config.digest,
        platform=platform.tag,
        started=time.time(),
        wheelhouse=str(options.wheelhouse),
        pid=os.getpid(),
        host=socket.gethostname(),
        targets=[
            TargetRecord(t.identifier, t.python, status="pending" if t.python in found else "missing")
            for t in targets
        ],
    )
    store.save(record)
    cache = Cache(options.cache_dir)
    cache.sweep_tmp(time.time())
    sweep_partials(options.wheelhouse, time.time())
    work = cache.path("tmp", f"build-{record.id}")
    cache.claim_tmp(work)
    interrupted = threading.Event()
    try:
        reporter.event("source", config.project.build_commit, "start")
        tree = checkout(config.project, cache, work / "source", store.log(record.id, "source"), options.env)
        record.commit = tree.commit
        reporter.event("source", tree.commit or config.project.build_commit, "ok")
        prefix = _libraries(config, options, cache, platform, store, record, reporter)
        runner = _TargetRunner(
            config, options, platform, cache, store, record, tree, prefix, work, reporter,
            frontend(config.build.frontend, options.env),
            tools.find("ccache", options.env) if config.build.ccache else None,
            interrupted,
        )
        jobs = [(t, r, found[t.python]) for t, r in zip(targets, record.targets) if t.python in found]
        pool = ThreadPoolExecutor(max_workers=options.jobs)
        try:
            for future in [pool.submit(runner.run, *job) for job in jobs]:
                future.result()
        except BaseException:
            interrupted.set()  # stop scheduling at once, end what runs
            run_mod.stop_all()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        record.status = "ok" if all(t.status in ("ok", "missing") for t in record.targets) else "failed"
    except WheelworksError as exc:
        record.status, record.error = "failed", str(exc)
        raise
    except KeyboardInterrupt:
        record.status, record.error = "interrupted", "interrupted (Ctrl-C or SIGTERM)"
        for target in record.targets:
            if target.status in ("pending", "running"):
                target.status = "interrupted"
        raise
    finally:
        run_mod.resume()
        record.finished = time.time()
        store.save(record)
        shutil.rmtree(work, ignore_errors=True)
    return record


def _interpreters(
    config: Config, targets: list[Target], env: Mapping[str, str], platform: platforms.Platform, reporter: Reporter
) -> dict[str, Interpreter]:
    versions = [t.python for t in targets]
    found = interpreters.discover(versions, config.build.interpreters, env, platform.os)
    missing = [t for t in targets if t.python not in found]
    if missing and config.build.missing_python == "error":
        raise interpreters.missing_error(t.python for t in missing)
    for target in missing:
        reporter.event(target.identifier, f"python{target.python}", "missing")
    return found


def _libraries(
    config: Config, options: BuildOptions, cache: Cache, platform: platforms.Platform, store: Records,
    record: BuildRecord, reporter: Reporter,
) -> libraries.Prefix:
    logs = store.folder(record.id) / "logs" / "libraries"
    how = libraries.LibraryBuild(cache=cache, platform=platform, logs=logs, jobs=options.jobs, env=options.env)
    prefix = libraries.build_all(config.libraries, how)
    for recipe, built in zip(config.libraries, prefix.libraries):
        record.libraries.append(
            LibraryRecord(
                name=built.name, version=recipe.version, key=built.key, prefix=str(built.prefix),
                cached=built.cached, seconds=round(built.seconds, 3),
                log=str(Path("logs", "libraries", f"{built.name}.log")),
            )
        )
        reporter.event("library", built.name, "cached" if built.cached else "ok", built.seconds)
    return prefix


@dataclass
class _TargetRunner:
    """Runs build -> repair -> test for one target at a time (several may run at once)."""

    config: Config
    options: BuildOptions
    platform: platforms.Platform
    cache: Cache
    store: Records
    record: BuildRecord
    checkout: Checkout
    prefix: libraries.Prefix
    work: Path
    reporter: Reporter
    frontend: Frontend
    ccache: Path | None
    interrupted: threading.Event

    def run(self, target: Target, result: TargetRecord, interpreter: Interpreter) -> None:
        if self.interrupted.is_set():
            result.status = "interrupted"
            return
        result.status = "running"
        result.interpreter = str(interpreter.path)
        folder = self.work / target.identifier
        try:
            tree, wheel = self._step(target, result, "build", lambda log: self._build(interpreter, folder, log))
            if self.ccache:
                result.ccache = tools.ccache_counts(folder / "ccache-stats.log")
            repaired = self._step(target, result, "repair", lambda log: self._repair(wheel, folder, log))
            self._step(target, result, "test", lambda log: self._test(interpreter, repaired, tree, folder, log))
        except (WheelworksError, OSError):
            result.status = "interrupted" if self.interrupted.is_set() else "failed"
            return
        final = _deliver(repaired, self.options.wheelhouse)
        result.wheel = final.name
        result.tags = sorted(str(tag) for tag in parse_wheel_filename(final.name)[3])
        result.sha256 = file_sha256(final)
        result.size = final.stat().st_size
        result.status = "ok"

    def _step(self, target: Target, result: TargetRecord, name: str, action: Callable[[Path], T]) -> T:
        log = self.store.log(self.record.id, target.identifier, name)
        relative = str(log.relative_to(self.store.folder(self.record.id)))
        self.reporter.event(target.identifier, name, "start")
        start = time.monotonic()
        try:
            value = action(log)
        except (WheelworksError, OSError) as exc:
            seconds = round(time.monotonic() - start, 3)
            status = "interrupted" if self.interrupted.is_set() else "failed"
            result.steps.append(StepRecord(name, status, seconds, relative, str(exc)))
            self.reporter.event(target.identifier, name, status, seconds)
            raise
        seconds = round(time.monotonic() - start, 3)
        result.steps.append(StepRecord(name, "ok", seconds, relative))
        self.reporter.event(target.identifier, name, "ok", seconds)
        return value

    def _build(self, interpreter: Interpreter, folder: Path, log: Path) -> tuple[Path, Path]:
        """A private copy of the source (targets may build at once) and its wheel."""
        python = self.frontend.prepare(interpreter, self.cache, log, self.platform.os)
        shutil.copytree(self.checkout.root, folder / "src", symlinks=True)
        tree = folder / "src" / self.checkout.tree.relative_to(self.checkout.root)
        env = self.prefix.environment(self.options.env, self.platform.os)
        if self.ccache:
            env = tools.ccache_environment(self.ccache, self.cache.root, folder / "src", folder / "ccache-stats.log", env)
        env.update({
            k: reveal(v, f"build.environment.{k}", self.options.env).replace("{prefix}", str(self.prefix.path))
            for k, v in self.config.build.environment.items()
        })
        if self.config.build.before_build:
            hook_env = venvs.activated(python.parent.parent, env, self.platform.os) if self.frontend.name != "uv" else env
            run(self.config.build.before_build, log=log, cwd=tree, env=hook_env)
        return tree, self.frontend.build_wheel(python, tree, folder / "dist", env, log)

    def _repair(self, wheel: Path, folder: Path, log: Path) -> Path:
        out = folder / "repaired"
        plan = repair.plan(wheel, out, self.platform, self.prefix.path)
        return repair.apply(plan, wheel, out, self.options.env, log)

    def _test(self, interpreter: Interpreter, wheel: Path, tree: Path, folder: Path, log: Path) -> None:
        hidden = [self.prefix.path, *(lib.prefix for lib in self.prefix.libraries)]
        test.run_tests(interpreter.path, wheel, self.config.test, folder / "test", tree, hidden, self.options.env, log,
                       self.platform.os, self.frontend.uv)


def _deliver(wheel: Path, wheelhouse: Path) -> Path:
    """Copy a tested wheel into the wheelhouse; a same-named older wheel is replaced whole."""
    final = wheelhouse / wheel.name
    atomic.copy(wheel, final)
    return final
