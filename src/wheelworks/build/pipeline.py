"""``wheelworks build``: source -> libraries -> per target build, repair, test -> record.

Stages never print; they report progress through a Reporter, which the CLI renders.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, Protocol, TypeVar

from packaging.utils import parse_wheel_filename

from wheelworks.build import abi, interpreters, libraries, sbom, steps, toolchain, tools, vendoring
from wheelworks.build.frontend import Frontend, Resolution, frontend
from wheelworks.build.inputs import Published, candidates, reusable, target_key, tool_versions, wheelhouse_sha256
from wheelworks.build.interpreters import Interpreter
from wheelworks.build.records import BuildRecord, LibraryRecord, Records, StepRecord, TargetRecord
from wheelworks.build.reproducible import commit_epoch
from wheelworks.build.source import Checkout, checkout, resolve
from wheelworks.build.targets import Matrix, Target, build_matrix, require_targets, select_targets, serves
from wheelworks.config.model import Config
from wheelworks.config.secrets import reveal
from wheelworks.config.settings import Settings
from wheelworks.shared import atomic, owners, platforms
from wheelworks.shared import run as run_mod
from wheelworks.shared.atomic import sweep_partials
from wheelworks.shared.cache import Cache
from wheelworks.shared.errors import WheelworksError
from wheelworks.shared.hashes import file_sha256
from wheelworks.shared.masking import without_credentials
from wheelworks.shared.phases import Phases

T = TypeVar("T")


Event = Literal["queued", "start", "ok", "cached", "failed", "missing", "interrupted"]


class Reporter(Protocol):
    def event(self, scope: str, step: str, status: Event, seconds: float | None = None) -> None:
        """``scope`` is a target identifier, "source" or "library"."""


class SilentReporter:
    def event(self, scope: str, step: str, status: Event, seconds: float | None = None) -> None:
        pass


@dataclass(frozen=True, kw_only=True)
class BuildOptions:
    wheelhouse: Path
    builds_dir: Path
    settings: Settings  # what the environment gave, read once by the CLI (its env: subprocesses' base)
    only: str | None = None
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    rebuild: bool = False  # build every target even if an earlier build had the same inputs
    commit: str | None = None  # the commit to build, when the caller resolved the ref already (watch)
    published: Published | None = None  # a container whose tested wheels may be taken instead of building

    @property
    def env(self) -> Mapping[str, str]:
        return self.settings.env


def build_wheels(config: Config, options: BuildOptions, reporter: Reporter | None = None) -> BuildRecord:
    """Build, repair and test a wheel for every selected target; returns the saved record,
    whose status is "ok" only if every target passed.

    The ref is resolved to a commit once, with the build's one fetch; the matrix, the
    checkout and the record use that commit. Input errors (an unknown ref, no targets,
    missing interpreters) raise before anything is recorded; a failure of the checkout or
    library stage is saved in the record, then raised.
    """
    reporter = reporter or SilentReporter()
    wall, began, started = Phases(), time.monotonic(), time.time()  # started: what the record says
    platform = platforms.native()
    cache = Cache(options.settings.cache_dir)
    reporter.event("source", config.project.build_commit, "start")
    with tempfile.TemporaryDirectory() as tmp:  # the log moves into the record once there is one
        early_log = Path(tmp) / "source.log"
        revision = resolve(config.project, cache, early_log, options.env, options.commit)
        versions = build_matrix(config, cache, early_log, options.env, revision)
        targets = require_targets(config, platform, versions, options.only)
        found = _interpreters(config, targets, versions, options.settings, platform, reporter)
        store = Records(options.builds_dir)
        build_id = store.new_id()
        source_log = store.log(build_id, "source")
        if early_log.exists():  # a folder or sdist, or a set [build] python, may leave none
            shutil.copyfile(early_log, source_log)
    pid, host = owners.this_process()
    record = BuildRecord(
        id=build_id,
        commit=revision.commit,
        project=config.project.name,
        repo=config.project.repo,
        ref=config.project.build_commit,
        config=str(config.path),
        config_digest=config.digest,
        platform=platform.tag,
        started=started,
        wheelhouse=str(options.wheelhouse),
        pid=pid,
        host=host,
        matrix=list(versions.versions),
        matrix_source=versions.describe(),
        targets=[
            TargetRecord(t.identifier, t.python, status="pending" if t.python in found else "missing")
            for t in targets
        ],
    )
    wall.add("ref, matrix and interpreters", time.monotonic() - began)
    record.phases = wall.seconds
    store.save(record)
    for result in record.targets:  # every target from the start: a view's total never changes
        if result.status == "pending":
            reporter.event(result.identifier, "queued", "queued")
    cache.sweep_tmp(time.time())
    cache.sweep_idle(time.time())
    sweep_partials(options.wheelhouse, time.time())
    work = cache.path("tmp", f"build-{record.id}")
    cache.claim_tmp(work)
    interrupted = threading.Event()
    try:
        with wall.timing("checkout"):
            tree = checkout(config.project, revision, cache, work / "source", source_log, options.env,
                            [options.builds_dir, options.wheelhouse])
        record.commit, record.source = tree.commit, tree.source
        reporter.event("source", tree.commit or config.project.build_commit, "ok")
        # From here on, everything runs the project's code or the recipes' (backends, hooks,
        # configure scripts, tests): none of it sees a credential the config did not pass on.
        base = without_credentials(options.env, config.build.pass_environment)
        if config.build.toolchain == "zig":  # libraries and wheels alike: CC, CXX and kin name zig's wrappers
            base = {**base, **_zig(config, cache, platform, store, record, reporter, base)}
        options = replace(options, settings=replace(options.settings, env=base))
        how = libraries.LibraryBuild(cache=cache, platform=platform, logs=store.folder(record.id) / "logs" / "libraries",
                                     jobs=options.jobs, env=options.env)
        chosen = frontend(config.build.frontend, options.env, config.build.config_settings)
        reuse = _Reuse(store=store, reporter=reporter, wheelhouse=options.wheelhouse,
                       earlier=[] if options.rebuild else store.recent(but=record.id),
                       published=None if options.rebuild else options.published)
        # Every key is known before anything is built: a target whose wheel is reused needs
        # no library, so an unchanged build builds nothing at all. With no wheel to take
        # (--rebuild, or no earlier build), every target builds: the libraries then build
        # while the requirements resolve, which waits on the index more than on a CPU.
        nothing_to_reuse = bool(found) and not reuse.earlier and reuse.published is None
        with _started_early(functools.partial(_libraries, config, how, store, record, reporter),
                            nothing_to_reuse) as prefix:
            with wall.timing("keys (resolving build requirements)"):
                library_keys = [planned.key for planned in libraries.plan(config.libraries, how)]
                keyed = keyed_targets(config, options, cache, chosen, tree, found, targets, library_keys,
                                      lambda python: store.log(record.id, "requires", python))
            reusing = time.monotonic()
            jobs = []
            for target, result in zip(targets, record.targets, strict=True):
                if target.identifier in keyed:
                    made = keyed[target.identifier]
                    result.key, result.build_requires = made.key, list(made.resolution.pins)
                    result.build_requires_at, result.build_requires_of = made.resolution.time, made.resolution.of
                    jobs.append(_Job(target, result, found[target.python], Phases()))
                    jobs[-1].phases.add("resolve build requirements", made.seconds)
            jobs = [job for job in jobs if not reuse.take(job)]
            wall.add("reuse", time.monotonic() - reusing)
            if jobs:
                _build_targets(config, options, how, tree, chosen, jobs, record, store, reporter, work,
                               interrupted, wall, prefix)
        record.status = "ok" if all(t.status in ("ok", "missing") for t in record.targets) else "failed"
        if record.status == "failed":
            record.error = failure_summary(record, store.folder(record.id))
    except WheelworksError as exc:
        record.status, record.error = "failed", str(exc)
        raise
    except KeyboardInterrupt:
        record.status, record.error = "interrupted", "interrupted (Ctrl-C or SIGTERM)"
        for result in record.targets:
            if result.status in ("pending", "running"):
                result.status = "interrupted"
        raise
    finally:
        run_mod.resume()
        record.finished, record.phases = time.time(), wall.seconds
        store.save(record)
        shutil.rmtree(work, ignore_errors=True)
    return record


def _build_targets(config: Config, options: BuildOptions, how: libraries.LibraryBuild, tree: Checkout,
                   chosen: Frontend, jobs: list[_Job], record: BuildRecord,
                   store: Records, reporter: Reporter, work: Path, interrupted: threading.Event,
                   wall: Phases, libraries_made: Callable[[], libraries.Prefix]) -> None:
    """The libraries (``libraries_made``), with the build environments made beside them (they
    need only the resolved requirements, and a library's configure leaves a core idle; a
    build that starts before its environment is made waits for it); then each job's build,
    repair and test, several at once within ``-j``."""
    lead = _lead(config, tree, jobs)
    with _threads(options.jobs) as ahead:
        for job in [lead] if lead else jobs:  # with a lead, the others may build nothing
            ahead.submit(_prepare_ahead, chosen, job, how, tree, store.log(record.id, job.target.identifier, "build"))
        with wall.timing("libraries"):
            prefix = libraries_made()
        targets = time.monotonic()
        runner = _TargetRunner(context=_context(config, options, how, tree, chosen, jobs, prefix), store=store,
                               record=record, reporter=reporter, interrupted=interrupted,
                               wheelhouse=options.wheelhouse, work=work)
        try:
            _run_targets(runner, lead, jobs, options.jobs)
        finally:
            wall.add("targets", time.monotonic() - targets)


def _context(config: Config, options: BuildOptions, how: libraries.LibraryBuild, tree: Checkout, chosen: Frontend,
             jobs: list[_Job], prefix: libraries.Prefix) -> steps.TargetContext:
    """What every target's steps need, once the libraries are built."""
    epoch = commit_epoch(tree.epoch, options.settings.source_date_epoch)
    return steps.TargetContext(
        config=config, platform=how.platform, cache=how.cache, checkout=tree, prefix=prefix, frontend=chosen,
        ccache=tools.find("ccache", options.env) if config.build.ccache else None,
        epoch=epoch, env=options.env,
        environment={k: reveal(v, f"build.environment.{k}", options.settings.private_key)
                     for k, v in config.build.environment.items()},
        requires={job.target.python: tuple(job.result.build_requires) for job in jobs},
        recipe_stems=frozenset(vendoring.library_stems(lib.prefix for lib in prefix.libraries)),
        recipe_sources=tuple(
            sbom.RecipeSource(recipe.name, recipe.version, recipe.url, built.source, recipe.license,
                              frozenset(vendoring.library_stems([built.prefix])))
            for recipe, built in zip(config.libraries, prefix.libraries, strict=True)),
        provenance=sbom.Provenance(repo=config.project.repo, commit=tree.commit, epoch=epoch,
                                   compilers=sbom.compilers_of(prefix.toolchain), repair_tool=None,
                                   wheelworks=importlib.metadata.version("wheelworks")),
    )


def _run_targets(runner: _TargetRunner, lead: _Job | None, jobs: list[_Job], width: int) -> None:
    """``lead`` first, then the rest. ``width`` (-j) bounds the wheel builds (the backend
    and compiler, where the CPU goes); a built wheel's repair and test run beside the next
    builds, as many at once, so a core is not left idle while another target repairs and tests."""
    with _threads(width) as builds, _threads(width) as checks:
        try:
            if lead is not None and (finish := builds.submit(runner.build, lead).result()) is not None:
                checks.submit(finish).result()
            to_build, to_test = runner.rest(lead, jobs)
            tests = [checks.submit(test) for test in to_test]
            for built in as_completed([builds.submit(runner.build, job) for job in to_build]):
                if (finish := built.result()) is not None:
                    tests.append(checks.submit(finish))
            for test in tests:
                test.result()
        except BaseException:
            runner.interrupted.set()  # stop scheduling at once; leaving the pools ends what runs
            raise


def _lead(config: Config, tree: Checkout, jobs: list[_Job]) -> _Job | None:
    """The job to finish before the others, when the project is, or may be, limited-API
    (abi3): the lowest GIL CPython, whose one wheel may serve every later one."""
    gil = [j for j in jobs if not j.target.free_threaded]
    wanted = config.build.abi3
    if wanted is None:  # not said: its build files tell (a wheel that is not abi3 then costs nothing)
        wanted = abi.asks_for_limited_api(tree.tree)
    return gil[0] if gil and wanted else None


AHEAD = "build environment, made ahead"
OUTSIDE_STEPS = ("resolve build requirements", AHEAD, "waiting for a slot")  # a target's phases before its steps


def _prepare_ahead(chosen: Frontend, job: _Job, how: libraries.LibraryBuild, tree: Checkout, log: Path) -> None:
    """The job's build environment, made before its build, whose own ``prepare`` then finds
    it made. A failure is left for that build step to meet again, and record."""
    start = time.monotonic()
    try:
        chosen.prepare(job.interpreter, how.cache, log, how.platform.os, tree.tree, how.env, job.result.build_requires)
    except (WheelworksError, OSError):
        pass
    finally:
        job.phases.add(AHEAD, time.monotonic() - start)


@dataclass(frozen=True)
class Keyed:
    """A target's input key and the resolution of build requirements that went into it."""

    key: str
    resolution: Resolution
    seconds: float  # resolving took


def keyed_targets(config: Config, options: BuildOptions, cache: Cache, chosen: Frontend, tree: Checkout,
                  found: Mapping[str, Interpreter], targets: Sequence[Target], library_keys: Sequence[str],
                  log: Callable[[str], Path]) -> dict[str, Keyed]:
    """The input key of each target whose CPython is here (by identifier), as a build
    and its dry run compute it. Build requirements are resolved for every CPython at once
    (waiting on the index more than on a CPU, whatever -j says), when neither this
    machine's last resolution nor one a published record carries is young enough."""
    now, max_age = time.time(), config.build.requires_max_age * 3600.0
    known = _published_resolutions(options)
    pythons = sorted({t.python for t in targets if t.python in found})

    def resolve(python: str) -> tuple[Resolution, float]:
        start = time.monotonic()
        resolved = chosen.requires(found[python], tree.tree, cache, options.env, log(python), now, max_age, known)
        return resolved, time.monotonic() - start

    with ThreadPoolExecutor(max_workers=max(len(pythons), 1)) as pool:
        resolved = dict(zip(pythons, pool.map(resolve, pythons), strict=True))
    tools_here = tool_versions()
    return {
        t.identifier: Keyed(target_key(config, t.identifier, tree.source, library_keys, found[t.python], chosen.name,
                                       resolved[t.python][0].pins, tools_here, options.settings.image),
                            *resolved[t.python])
        for t in targets if t.python in found
    }


def _published_resolutions(options: BuildOptions) -> list[Resolution]:
    """The resolutions the published records carry (none when the container cannot be
    read: taking its wheels then fails too, and says so)."""
    if options.published is None or options.rebuild:
        return []
    try:
        records = options.published.records()
    except WheelworksError:
        return []
    return [Resolution(tuple(t.build_requires), t.build_requires_at, t.build_requires_of)
            for r in records for t in r.targets if t.build_requires_of and t.build_requires_at is not None]


def failure_summary(record: BuildRecord, folder: Path) -> str:
    """What a failed build's record says at the top: which targets failed, and where in the
    build's ``folder`` their wheels are kept."""
    bad = [t for t in record.targets if t.status == "failed"]
    kept = [str(folder / t.kept) for t in bad if t.kept]
    return (f"{len(bad)} of {len(record.targets)} targets failed: {'; '.join(map(_why, bad))}"
            + (f"; failed wheels kept: {', '.join(kept)}" if kept else ""))


def _why(target: TargetRecord) -> str:
    """A failed target, with the error of the step that failed when it says more than the log."""
    step = next((s for s in target.steps if s.status == "failed"), None)
    if step is None or not step.error or step.error.startswith("command failed"):
        return target.identifier
    return f"{target.identifier} ({step.name}: {step.error.splitlines()[0]})"


def targets_here(config: Config, options: BuildOptions) -> tuple[Matrix, list[tuple[Target, Interpreter | None]]]:
    """The matrix, and the targets a build here selects with the CPython each would use
    (None: absent here; the generated CI provides it). Builds nothing."""
    with tempfile.TemporaryDirectory() as tmp:  # nothing is built: the fetch's log is not kept
        versions = build_matrix(config, Cache(options.settings.cache_dir), Path(tmp) / "source.log", options.env)
    native = platforms.native()
    found = interpreters.discover(versions.versions, config.build.interpreters, options.settings, native.os)
    return versions, [(t, found.get(t.python)) for t in select_targets(config, native, versions, options.only)]


def _interpreters(
    config: Config, targets: list[Target], versions: Matrix, settings: Settings, platform: platforms.Platform,
    reporter: Reporter,
) -> dict[str, Interpreter]:
    found = interpreters.discover([t.python for t in targets], config.build.interpreters, settings, platform.os)
    missing = [t for t in targets if t.python not in found]
    # Versions the config names must be here (unless missing-python = "warn"); versions the
    # data chose are built where they exist: the generated CI provides the others.
    if missing and versions.from_config and config.build.missing_python == "error":
        raise interpreters.missing_error(t.python for t in missing)
    for target in missing:
        reporter.event(target.identifier, f"python{target.python}", "missing")
    return found


def _zig(config: Config, cache: Cache, platform: platforms.Platform, store: Records, record: BuildRecord,
         reporter: Reporter, base: Mapping[str, str]) -> Mapping[str, str]:
    """zig ready for the policy's glibc, the time its first use took said and recorded."""
    reporter.event("toolchain", f"zig for {toolchain.target(platform, config.build.policy)}", "start")
    zig = toolchain.provide(cache, platform, config.build.policy, base, store.log(record.id, "toolchain"))
    record.toolchain = f"{toolchain.ZIGLANG.replace('ziglang==', 'zig ')} for {zig.target}"
    record.toolchain_seconds = round(zig.seconds, 3)
    reporter.event("toolchain", f"zig for {zig.target}", "ok", zig.seconds)
    return zig.env


@contextmanager
def _started_early(make: Callable[[], T], now: bool) -> Iterator[Callable[[], T]]:
    """What gives ``make``'s result: when ``now``, it starts at once and runs while the
    caller goes on; leaving the block by an error or an interrupt stops it."""
    if not now:
        yield make
        return
    with _threads(1) as pool:
        yield pool.submit(make).result


@contextmanager
def _threads(width: int) -> Iterator[ThreadPoolExecutor]:
    """A pool of ``width`` threads, waited for when the block ends. Left by an error or an
    interrupt, the commands its work runs are stopped first: none may outlive the build."""
    pool = ThreadPoolExecutor(max_workers=width)
    try:
        yield pool
    except BaseException:
        run_mod.stop_all()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _libraries(config: Config, how: libraries.LibraryBuild, store: Records, record: BuildRecord,
               reporter: Reporter) -> libraries.Prefix:
    prefix = libraries.build_all(config.libraries, how)
    for recipe, built in zip(config.libraries, prefix.libraries, strict=True):
        record.libraries.append(
            LibraryRecord(
                name=built.name, version=recipe.version, key=built.key, prefix=str(built.prefix),
                cached=built.cached, seconds=round(built.seconds, 3),
                log=str(Path("logs", "libraries", f"{built.name}.log")),
            )
        )
        reporter.event("library", built.name, "cached" if built.cached else "ok", built.seconds)
    return prefix


@dataclass(frozen=True)
class _Job:
    target: Target
    result: TargetRecord  # the target's progress: filled in as its steps end
    interpreter: Interpreter
    phases: Phases  # where its seconds go, copied into the record as each step ends


@dataclass(frozen=True, kw_only=True)
class _Reuse:
    """Takes an earlier build's tested wheel for a job when nothing that makes it has
    changed: first from this machine's builds, then from a container (``published``),
    whose bytes must be the ones its record tested and whose record comes along."""

    store: Records
    reporter: Reporter
    wheelhouse: Path
    earlier: Sequence[BuildRecord]
    published: Published | None

    def take(self, job: _Job) -> bool:
        key = job.result.key
        if not key:
            return False

        found = reusable(key, self.earlier, wheelhouse_sha256(self.wheelhouse))
        if found is not None:
            self._taken(job, *found, where=None)
            return True
        return self.published is not None and self._from(self.published, job, key)

    def _from(self, published: Published, job: _Job, key: str) -> bool:
        try:
            found = list(candidates(key, published.records()))
        except WheelworksError as exc:  # an unreachable container costs a build, not the build
            job.result.warnings.append(f"not reused from {published.where}: {exc}")
            return False
        for record, target in found:
            wheel, sha256 = str(target.wheel), str(target.sha256)
            try:
                published.save(wheel, sha256, self.wheelhouse / wheel)
            except WheelworksError as exc:
                job.result.warnings.append(f"{published.where}: {wheel} not reused: {exc}; built again")
                continue
            if record.id not in self.store.ids():  # the evidence the publish and the release gate need
                self.store.save(record)
            self._taken(job, record, target, where=published.where)
            return True
        return False

    def _taken(self, job: _Job, record: BuildRecord, target: TargetRecord, where: str | None) -> None:
        result = job.result
        result.interpreter = str(job.interpreter.path)
        origin = f"build {record.id}" + (f" in {where}" if where else "")
        result.steps.append(StepRecord("reused", "ok", 0.0, "", f"nothing changed since {origin}"))
        result.reused_from = target.reused_from or record.id  # the build that tested it, not one that reused it
        result.built_by = target.built_by
        self.reporter.event(job.target.identifier, f"reused from {origin}", "ok", 0.0)
        _delivered(result, self.wheelhouse / str(target.wheel))


@dataclass(frozen=True, kw_only=True)
class _TargetRunner:
    """Schedules each target's steps (several targets may run at once) and records them:
    the work itself is in ``steps``; what changes as it runs is in the record only."""

    context: steps.TargetContext
    store: Records
    record: BuildRecord
    reporter: Reporter
    interrupted: threading.Event
    wheelhouse: Path
    work: Path
    queued: float = field(default_factory=time.monotonic)  # when every job was ready to start

    def rest(self, lead: _Job | None, jobs: list[_Job]) -> tuple[list[_Job], list[Callable[[], None]]]:
        """The work after ``lead``: the jobs to build, each on its own, unless ``lead`` made a
        limited-API wheel; then the tests of that wheel on every CPython it serves."""
        others = [j for j in jobs if j is not lead]
        built = lead.result.wheel if lead is not None else None
        if lead is not None and built is not None and not abi.is_abi3(built) and self.context.config.build.abi3:
            lead.result.status = "failed"
            lead.result.steps.append(StepRecord("abi3", "failed", 0.0, "", f"{built} is not a limited-API wheel"))
        if lead is None or built is None or not abi.is_abi3(built):
            return others, []
        wheel = self.wheelhouse / built
        served = [job for job in others if serves(job.target.identifier, built)]
        return ([job for job in others if job not in served],
                [functools.partial(self.test_only, job, wheel, lead.target.identifier) for job in served])

    def build(self, job: _Job) -> Callable[[], None] | None:
        """The job's build; then what is left of it (its repair and test), or None when
        nothing is: the build failed or the whole build was interrupted."""
        target, context = job.target, self.context
        if not self._starts(job):
            return None
        folder = self.work / target.identifier
        try:
            built = self._step(job, "build", lambda log: steps.build_wheel(context, target, job.interpreter, folder,
                                                                             log, job.phases))
        except (WheelworksError, OSError):
            job.result.status = self._failed()
            return None
        job.result.ccache = built.ccache
        return functools.partial(self.finish, job, built, folder, time.monotonic())

    def finish(self, job: _Job, built: steps.Built, folder: Path, ready: float) -> None:
        """Repair and test what ``build`` made (``ready`` is when it ended), and deliver it."""
        result, context = job.result, self.context
        if self.interrupted.is_set():
            result.status = "interrupted"
            return
        job.phases.add("waiting for a slot", time.monotonic() - ready)
        try:
            repaired = self._step(job, "repair", lambda log: steps.repair_wheel(context, built.wheel, folder, log,
                                                                                   job.phases))
            result.host_libraries = [entry.describe() for entry in repaired.host_libraries]
            result.components = list(repaired.components)
            result.warnings += [repaired.warning] if repaired.warning else []
        except (WheelworksError, OSError):
            result.status = self._failed()
            return
        try:
            if abi.is_abi3(repaired.wheel.name):
                self._step(job, "abi3audit", lambda log: abi.audit(repaired.wheel, context.env, log))
            self._test(job, repaired.wheel, built.tree, folder)
        except (WheelworksError, OSError):
            result.status = self._failed()
            if not self.interrupted.is_set():  # the evidence, for inspection: never delivered
                kept = self.store.folder(self.record.id) / "failed" / repaired.wheel.name
                atomic.copy(repaired.wheel, kept)
                result.kept = str(kept.relative_to(self.store.folder(self.record.id)))
            return
        _delivered(result, _deliver(repaired.wheel, self.wheelhouse))

    def test_only(self, job: _Job, wheel: Path, built_by: str) -> None:
        """Test the limited-API wheel ``built_by`` made, on this target's CPython."""
        if not self._starts(job):
            return
        job.result.built_by = built_by
        checkout = self.context.checkout
        tree = self.work / built_by / "src" / checkout.tree.relative_to(checkout.root)
        try:
            self._test(job, wheel, tree, self.work / job.target.identifier)
        except (WheelworksError, OSError):
            job.result.status = self._failed()
            return
        _delivered(job.result, wheel)

    def _test(self, job: _Job, wheel: Path, tree: Path, folder: Path) -> None:
        found = self._step(job, "test", lambda log: steps.test_wheel(self.context, job.interpreter, wheel, tree,
                                                                      folder, log, job.phases))
        if found is not None:
            job.result.vendored, job.result.host_copies = list(found.vendored), list(found.system)

    def _starts(self, job: _Job) -> bool:
        """Whether the job has work to do: not when the build was interrupted."""
        if self.interrupted.is_set():
            job.result.status = "interrupted"
            return False
        job.phases.add("waiting for a slot", time.monotonic() - self.queued)
        job.result.status, job.result.interpreter = "running", str(job.interpreter.path)
        return True

    def _failed(self) -> Literal["failed", "interrupted"]:
        return "interrupted" if self.interrupted.is_set() else "failed"

    def _step(self, job: _Job, name: str, action: Callable[[Path], T]) -> T:
        log = self.store.log(self.record.id, job.target.identifier, name)
        relative = str(log.relative_to(self.store.folder(self.record.id)))
        self.reporter.event(job.target.identifier, name, "start")
        start, before = time.monotonic(), _in_steps(job.phases)
        try:
            value = action(log)
        except (WheelworksError, OSError) as exc:
            seconds = self._ended(job, name, start, before)
            status = self._failed()
            job.result.steps.append(StepRecord(name, status, seconds, relative, str(exc)))
            self.reporter.event(job.target.identifier, name, status, seconds)
            raise
        seconds = self._ended(job, name, start, before)
        job.result.steps.append(StepRecord(name, "ok", seconds, relative))
        self.reporter.event(job.target.identifier, name, "ok", seconds)
        return value

    @staticmethod
    def _ended(job: _Job, name: str, start: float, before: float) -> float:
        """The step's seconds; what its phases did not time is its own phase, so the
        phases add up to the target's time."""
        seconds = time.monotonic() - start
        job.phases.add(f"{name}: the rest", max(seconds - (_in_steps(job.phases) - before), 0.0))
        job.result.phases = job.phases.seconds
        return round(seconds, 3)


def _in_steps(phases: Phases) -> float:
    return sum(seconds for name, seconds in phases.seconds.items() if name not in OUTSIDE_STEPS)


def _delivered(result: TargetRecord, final: Path) -> None:
    result.wheel = final.name
    result.tags = sorted(str(tag) for tag in parse_wheel_filename(final.name)[3])
    result.sha256 = file_sha256(final)
    result.size = final.stat().st_size
    result.status = "ok"


def _deliver(wheel: Path, wheelhouse: Path) -> Path:
    """Copy a tested wheel into the wheelhouse; a same-named older wheel is replaced whole."""
    final = wheelhouse / wheel.name
    atomic.copy(wheel, final)
    return final
