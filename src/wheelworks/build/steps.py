"""The steps of one target: build its wheel, repair it, test it in a clean venv.

Each step takes the build's ``TargetContext`` (the same for every target, several of which
run at once) and returns what it made; the pipeline records it. Nothing here schedules,
reports or writes a record.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from packaging.utils import parse_wheel_filename

from wheelworks.build import abi, libraries, repair, reproducible, sbom, test, toolchain, tools, vendoring
from wheelworks.build.frontend import Frontend
from wheelworks.build.interpreters import Interpreter
from wheelworks.build.source import Checkout
from wheelworks.build.targets import Target
from wheelworks.config import policy
from wheelworks.config.model import Config
from wheelworks.shared.cache import Cache
from wheelworks.shared.errors import CommandError, StepError
from wheelworks.shared.phases import Phases
from wheelworks.shared.platforms import Platform
from wheelworks.shared.run import run


@dataclass(frozen=True, kw_only=True)
class TargetContext:
    """What every target's steps need, fixed once the libraries are built."""

    config: Config
    platform: Platform
    cache: Cache
    checkout: Checkout
    prefix: libraries.Prefix
    frontend: Frontend
    ccache: Path | None
    epoch: int  # SOURCE_DATE_EPOCH of the build and the repair
    env: Mapping[str, str]  # the subprocesses' base, without credentials the config did not pass on
    environment: Mapping[str, str]  # [build] environment, its secrets decrypted
    requires: Mapping[str, tuple[str, ...]]  # per CPython: what its build environment holds
    recipe_stems: frozenset[str]  # the shared libraries the recipes installed (vendoring.library_stems)
    recipe_sources: tuple[sbom.RecipeSource, ...]  # what the SBOM says of each recipe
    provenance: sbom.Provenance  # the project at its commit, and what built it (the repair tool: per wheel)

    def recipe_prefixes(self) -> list[Path]:
        return [lib.prefix for lib in self.prefix.libraries]


@dataclass(frozen=True)
class Built:
    tree: Path  # the target's private copy of the source, where its tests run
    wheel: Path
    ccache: dict[str, int] | None  # the compiler cache's hits and misses, when ccache is on


@dataclass(frozen=True)
class Repaired:
    wheel: Path
    host_libraries: tuple[vendoring.HostLibrary, ...]  # grafted from the host, built by no recipe (Linux)
    components: tuple[str, ...]  # what its SBOM lists, a line each (sbom.components_of)
    warning: str | None  # with no policy asked for: who cannot install a wheel that needs a new glibc


def build_wheel(context: TargetContext, target: Target, interpreter: Interpreter, folder: Path, log: Path,
                phases: Phases) -> Built:
    """A private copy of the source (targets may build at once) and its wheel, whose ABI
    is checked against the target's."""
    with phases.timing("copy source"):
        shutil.copytree(context.checkout.root, folder / "src", symlinks=True)
    tree = folder / "src" / context.checkout.tree.relative_to(context.checkout.root)
    requires = context.requires[target.python]
    with phases.timing("build environment"):
        where = context.frontend.prepare(interpreter, context.cache, log, context.platform.os, tree, context.env,
                                         requires)
    env = context.prefix.environment(context.env, context.platform.os)
    stats = folder / "ccache-stats.log"
    if context.ccache:
        env = tools.ccache_environment(context.ccache, context.cache.root, folder / "src", stats, env)
    env.update({k: v.replace("{prefix}", str(context.prefix.path)) for k, v in context.environment.items()})
    env = reproducible.environment(env, context.epoch, folder / "src", context.cache.root)
    if context.config.build.before_build:
        with phases.timing("before-build"):
            run(context.config.build.before_build, log=log, cwd=tree, env=where.activate(env))
    try:
        with phases.timing("backend and compiler"):
            wheel = context.frontend.build_wheel(where, tree, folder / "dist", env, log, requires)
    except CommandError as exc:
        if hint := toolchain.tripped(log, env):
            raise StepError(f"the wheel build failed: {exc.message}", hint) from None
        raise
    abi.check(target, wheel.name)
    return Built(tree, wheel, tools.ccache_counts(stats) if context.ccache else None)


def repair_wheel(context: TargetContext, wheel: Path, folder: Path, log: Path, phases: Phases) -> Repaired:
    """The repaired wheel with its SBOM (what the repair copied in, from recipes or the
    host), normalized to be reproducible. What came from the host is said, not hidden."""
    out = folder / "repaired"
    wanted = context.config.build.policy
    applies = wanted if wanted and context.platform.tag.startswith(wanted.family) else None
    plan = repair.plan(wheel, out, context.platform, context.prefix.path, context.config.build.repair_exclude, applies)
    try:
        with phases.timing("repair tool"):
            repaired = repair.apply(plan, wheel, out, {**context.env, "SOURCE_DATE_EPOCH": str(context.epoch)}, log)
    except CommandError:
        blocked = _too_new(wheel, context.recipe_prefixes(), applies, folder / "elf") if applies else []
        if not blocked:
            raise
        assert applies is not None
        raise StepError(f"{wheel.name} cannot meet {applies.name} ({applies.libc}): it needs "
                        f"{', '.join(blocked[:5])}{f' and {len(blocked) - 5} more' if len(blocked) > 5 else ''}",
                        'build with [build] toolchain = "zig" (any Linux machine), or in the manylinux images '
                        "(wheelworks ci github)") from None
    host: list[vendoring.HostLibrary] = []
    if context.platform.os == "linux":
        with phases.timing("vendoring and ABI checks"):
            host = vendoring.host_libraries(repaired, context.recipe_stems)
        with log.open("a", encoding="utf-8") as stream:
            stream.writelines(f"from the host: {entry.describe()}\n" for entry in host)
    changes: dict[str, bytes | None] = {}
    components: list[str] = []
    if plan.tool is not None:  # a pure wheel is not repaired, and vendors nothing
        with phases.timing("SBOM"):
            theirs = sbom.auditwheel_sbom(repaired)
            provenance = replace(context.provenance, repair_tool=(plan.tool, importlib.metadata.version(plan.tool)))
            document = sbom.document(repaired.name, provenance, context.recipe_sources, sbom.grafted(wheel, repaired),
                                     host, theirs[1] if theirs else None)
            changes[sbom.member_name(repaired.name)] = document
            if theirs:
                changes[theirs[0]] = None  # merged into ours: one SBOM per wheel
            components = sbom.components_of(document)
    with phases.timing("canonical rewrite"):
        reproducible.normalize(repaired, context.epoch, changes)
    tags = [tag.platform for tag in parse_wheel_filename(repaired.name)[3]]
    warning = None if wanted else policy.warning(repaired.name, tags, policy.distributions())
    return Repaired(repaired, tuple(host), tuple(components), warning)


def _too_new(wheel: Path, prefixes: list[Path], wanted: policy.Policy, folder: Path) -> list[str]:
    """The versioned symbols the wheel's ELF files, and the recipes' libraries it may
    vendor, need beyond ``wanted``."""
    folder.mkdir(parents=True, exist_ok=True)
    files = [str(p) for p in vendoring.shared_objects(prefixes) if p.is_file()]
    with zipfile.ZipFile(wheel) as zf:
        for index, name in enumerate(n for n in zf.namelist() if vendoring.SHARED.search(n.rsplit("/", 1)[-1])):
            target = folder / f"{index}-{name.rsplit('/', 1)[-1]}"
            target.write_bytes(zf.read(name))
            files.append(str(target))
    needs: dict[str, set[str]] = {}
    for file in files:
        for version, symbols in vendoring.symbol_versions(file).items():
            needs.setdefault(version, set()).update(symbols)
    return policy.blockers(needs, wanted)


def test_wheel(context: TargetContext, interpreter: Interpreter, wheel: Path, tree: Path, folder: Path,
               log: Path, phases: Phases) -> vendoring.Vendoring | None:
    """The project's tests on ``wheel`` in a clean venv that cannot see the recipes'
    prefixes; then, on Linux with recipes, proof that the libraries it loads are its own."""
    prefixes = context.recipe_prefixes()
    python = test.run_tests(interpreter.path, wheel, context.config.test, folder / "test", tree,
                            [context.prefix.path, *prefixes], context.env, log, context.platform.os, phases,
                            context.frontend.uv)
    if context.platform.os != "linux" or not context.recipe_stems:  # /proc/self/maps: Linux's view
        return None
    with phases.timing("vendoring and ABI checks"):
        return vendoring.check(python, parse_wheel_filename(wheel.name)[0], prefixes, log)
