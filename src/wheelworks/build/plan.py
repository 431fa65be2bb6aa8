"""``build --dry-run``: what a build would do, as a value, building nothing.

It makes the build's one fetch and a throwaway checkout (the input keys need the source's
identity and build requirements), then says for each library whether its prefix is cached,
and for each target whether an earlier build's wheel would be reused, with the keys a
build would compute.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from wheelworks.build import interpreters, libraries, toolchain
from wheelworks.build.frontend import frontend
from wheelworks.build.inputs import candidates, reusable, wheelhouse_sha256
from wheelworks.build.pipeline import BuildOptions, keyed_targets
from wheelworks.build.records import Records
from wheelworks.build.source import checkout, resolve, uncommitted
from wheelworks.build.targets import build_matrix, require_targets
from wheelworks.config.model import Config
from wheelworks.shared import platforms
from wheelworks.shared.cache import Cache
from wheelworks.shared.masking import without_credentials


@dataclass(frozen=True)
class PlannedTarget:
    identifier: str
    interpreter: Path | None  # None: absent here (the generated CI provides it)
    reused_from: str | None  # the build whose wheel a build would take, nothing having changed


@dataclass(frozen=True)
class BuildPlan:
    ref: str
    commit: str | None
    libraries: tuple[libraries.Planned, ...]
    targets: tuple[PlannedTarget, ...]
    wheelhouse: Path
    uncommitted: tuple[str, ...]  # a local work tree's changed files, which the build would not take


def plan_build(config: Config, options: BuildOptions) -> BuildPlan:
    platform = platforms.native()
    cache = Cache(options.settings.cache_dir)
    with tempfile.TemporaryDirectory(prefix="wheelworks-plan-") as tmp:
        log = Path(tmp) / "plan.log"
        revision = resolve(config.project, cache, log, options.env, options.commit)
        versions = build_matrix(config, cache, log, options.env, revision)
        targets = require_targets(config, platform, versions, options.only)
        found = interpreters.discover([t.python for t in targets], config.build.interpreters, options.settings,
                                      platform.os)
        tree = checkout(config.project, revision, cache, Path(tmp) / "source", log, options.env,
                        [options.builds_dir, options.wheelhouse])
        env = without_credentials(options.env, config.build.pass_environment)
        if config.build.toolchain == "zig":  # the compilers are in the libraries' keys
            env = {**env, **toolchain.provide(cache, platform, config.build.policy, env, log).env}
        how = libraries.LibraryBuild(cache=cache, platform=platform, logs=Path(tmp), jobs=options.jobs, env=env)
        planned = libraries.plan(config.libraries, how)
        chosen = frontend(config.build.frontend, env, config.build.config_settings)
        store = Records(options.builds_dir)
        earlier = [] if options.rebuild else store.recent()

        keyed = keyed_targets(config, replace(options, settings=replace(options.settings, env=env)), cache, chosen,
                              tree, found, targets, [lib.key for lib in planned], lambda python: log)
        result = []
        for target in targets:
            made = keyed.get(target.identifier)
            reused = None
            if made is not None:
                hit = reusable(made.key, earlier, wheelhouse_sha256(options.wheelhouse))
                if hit is None and options.published is not None and not options.rebuild:
                    hit = next(candidates(made.key, options.published.records()), None)  # its bytes are checked when taken
                    where = f" in {options.published.where}"
                else:
                    where = ""
                reused = f"{hit[1].reused_from or hit[0].id}{where}" if hit else None
            interpreter = found.get(target.python)
            result.append(PlannedTarget(target.identifier, interpreter.path if interpreter else None, reused))
        changed = tuple(uncommitted(config.project, log, options.env))
    return BuildPlan(config.project.build_commit, tree.commit, tuple(planned), tuple(result), options.wheelhouse, changed)
