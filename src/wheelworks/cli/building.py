"""``build`` and ``watch``: wheels for the selected targets, once or on a schedule."""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from wheelworks.build import elsewhere
from wheelworks.build.pipeline import build_wheels, targets_here
from wheelworks.build.plan import BuildPlan, plan_build
from wheelworks.build.records import BuildRecord, Records
from wheelworks.build.source import uncommitted
from wheelworks.ci import watch
from wheelworks.cli.options import (
    add_building,
    add_cache_dir,
    add_config,
    build_options,
    config_path,
    load_config,
    seconds,
)
from wheelworks.cli.progress import LiveReporter, PlainReporter, reporter_for, summary_table
from wheelworks.config import model as config_mod
from wheelworks.config.settings import Settings
from wheelworks.containers import published
from wheelworks.shared import masking
from wheelworks.shared.run import tail


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser("build", help="build, repair and test wheels for the selected Pythons")
    add_building(p)
    p.add_argument("--only", metavar="SELECTOR", help="build only targets matching these globs, e.g. 'cp312-*'")
    p.add_argument("--build-commit", metavar="REF", help="branch, tag or hash to build (overrides the config and env)")
    p.add_argument("--rebuild", action="store_true", help="build every target, even those whose inputs did not change")
    p.add_argument("--reuse-published", metavar="REF",
                   help="also take tested wheels from the container builds of REF publish to, when nothing that "
                        "makes them changed (read without secrets: its public-url, else its store)")
    p.add_argument("--list", action="store_true", help="print the selected targets and where each CPython is; build nothing")
    p.add_argument("--dry-run", "-n", action="store_true",
                   help="print what a build would do (the commit, each library and target: cached, reused or to "
                        "build); build nothing")
    p.set_defaults(func=_build)

    p = commands.add_parser("test", help="test built wheels on another Python: the wheel pip picks for it, in a "
                                         "fresh venv, with the config's [test]")
    add_config(p)
    add_cache_dir(p)
    p.add_argument("wheelhouse", type=Path, metavar="WHEELHOUSE", help="a folder of wheels (a build job's artifact)")
    p.add_argument("--python", type=Path, required=True, help="the interpreter to test on, e.g. /usr/bin/python3")
    p.add_argument("--log", type=Path, default=Path("wheelworks-test.log"), help="default: ./wheelworks-test.log")
    p.set_defaults(func=_test)

    p = commands.add_parser("watch", help="build and publish on a schedule and on new commits, on this machine")
    add_building(p)
    p.add_argument("--schedule", metavar="CRON", help="cron expression, UTC (default: [ci] schedule of the config)")
    p.add_argument("--no-schedule", action="store_true", help="build on new commits only")
    p.add_argument("--once", action="store_true", help="check once and exit (for cron or a systemd timer)")
    p.add_argument("--interval", type=seconds, default=300, help="seconds between checks for new commits (default: 300)")
    p.set_defaults(func=_watch)


def _build(args: argparse.Namespace, settings: Settings) -> int:
    config = load_config(args, settings)
    if args.build_commit:  # the flag outranks the config and the environment
        config = config_mod.with_build_commit(config, args.build_commit, "--build-commit")
    options = build_options(args, config, settings)
    if args.reuse_published:
        options = replace(options, published=published.published_wheels(config, args.reuse_published, settings))
    for hint in config.hints:
        print(f"hint: {hint}", file=sys.stderr)
    if args.list:
        versions, targets = targets_here(config, options)
        print(f"matrix: {' '.join(versions.versions) or '(empty)'}  (from {versions.describe()})")
        for target, interpreter in targets:
            where = interpreter.path if interpreter else "absent here (the generated CI provides it)"
            print(f"  {target.identifier:<28} {where}")
        return 0
    if args.dry_run:
        _print_plan(plan_build(config, options))
        return 0
    _warn_uncommitted(config, settings)
    reporter = reporter_for(sys.stderr, settings.interactive)
    with reporter:
        record = build_wheels(config, options, reporter)
    if isinstance(reporter, LiveReporter):
        reporter.console.print(summary_table(record))
    _summary(record, Records(options.builds_dir), listed=not isinstance(reporter, LiveReporter))
    return 0 if record.status == "ok" else 1


def _test(args: argparse.Namespace, settings: Settings) -> int:
    config = load_config(args, settings)
    wheel = elsewhere.test_elsewhere(config, args.wheelhouse.resolve(), args.python, settings, args.log.resolve())
    print(f"tested {wheel} on {args.python}: passed")
    return 0


def _print_plan(plan: BuildPlan) -> None:
    print(f"plan: {plan.ref} at {plan.commit or '(a folder or sdist)'}; nothing is built")
    for library in plan.libraries:
        print(f"  library {library.name} {library.version}: {'cached' if library.cached else 'to build'}")
    for target in plan.targets:
        if target.interpreter is None:
            what = "absent here (the generated CI provides it)"
        elif target.reused_from:
            what = f"reused from build {target.reused_from}"
        else:
            what = f"to build with {target.interpreter}"
        print(f"  {target.identifier:<28} {what}")
    print(f"wheels would go to {plan.wheelhouse}")
    _say_uncommitted(plan.uncommitted)


def _warn_uncommitted(config: config_mod.Config, settings: Settings) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _say_uncommitted(uncommitted(config.project, Path(tmp) / "git.log", settings.env))


def _say_uncommitted(changed: Sequence[str]) -> None:
    if changed:
        print(f"warning: uncommitted changes are not in the build: {', '.join(changed[:5])}"
              f"{' and more' if len(changed) > 5 else ''} (commit them to build them)", file=sys.stderr)


def _summary(record: BuildRecord, store: Records, listed: bool = True) -> None:
    """The end of a build: each target (unless the live view's table showed them), and what
    failed with the end of its log."""
    print(f"build {record.id}: {record.project} at {record.commit or record.ref}")
    for target in record.targets:
        if target.status == "ok":
            if listed:
                print(f"  ok      {target.identifier}  {target.wheel}")
            continue
        failed = next((s for s in target.steps if s.status == "failed"), None)
        print(f"  {target.status:<7} {target.identifier}  {failed.name + ' failed' if failed else ''}")
        if failed and failed.error:
            print(f"    {failed.error}")
        if failed:
            log = store.folder(record.id) / failed.log
            print("\n".join("    | " + line for line in tail(log).splitlines()))
            print(f"    log: {log}")
    if any(t.status == "ok" for t in record.targets):
        print(f"wheels in {record.wheelhouse}")
    host = sorted({entry for t in record.targets for entry in t.host_libraries})
    left = sorted({name for t in record.targets for name in t.host_copies})
    if host:
        print(f"warning: vendored from the host, built by no recipe: {'; '.join(host)}", file=sys.stderr)
    if left:
        print(f"warning: {', '.join(left)}: recipe libraries the manylinux policy leaves to the host; the host's copy "
              "runs (build them static, with -fPIC, to carry your own)", file=sys.stderr)
    for warning in sorted({w for t in record.targets for w in t.warnings}):
        print(f"warning: {warning}", file=sys.stderr)
    if record.status != "ok":
        print(f"wheelworks: error: {record.error or record.status}", file=sys.stderr)


def _watch(args: argparse.Namespace, settings: Settings) -> int:
    path = config_path(args)
    config = config_mod.load(path, settings.build_commit)
    schedule = None if args.no_schedule else (args.schedule or config.ci.schedule)
    if schedule:
        watch.validate_schedule(schedule)
    options = build_options(args, config, settings)
    reporter = PlainReporter(sys.stderr)

    def report(result: watch.CheckResult) -> None:
        print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {_outcome(result, config)}", flush=True)

    if args.once:
        result = watch.check(config, options, schedule, time.time(), reporter)
        report(result)
        return 0 if result.ok else 1
    print(f"watching {config.project.repo} {config.project.build_commit}"
          f" (every {args.interval:g}s{', schedule ' + schedule if schedule else ''}); Ctrl-C stops", flush=True)
    watch.run_forever(lambda: config_mod.load(path, settings.build_commit), options, schedule, args.interval, report,
                      threading.Event(), reporter)
    return 0


def _outcome(result: watch.CheckResult, config: config_mod.Config) -> str:
    if result.error:
        return f"{result.reason or 'check'} failed: {masking.mask(str(result.error))}"
    if result.record is None:
        return f"nothing to do: {config.project.build_commit} is at {(result.commit or '?')[:12]}, built"
    if result.record.status == "ok" and all(t.reused_from for t in result.record.targets if t.status == "ok"):
        return f"{result.reason}: nothing changed, every target reused (build {result.record.id}); nothing published"
    return f"{result.reason}: build {result.record.id} {result.record.status}, {result.published} wheels published"
