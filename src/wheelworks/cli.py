"""The command line: parse, call the library, print, exit. Nothing else lives here."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from wheelworks import config as config_mod
from wheelworks import cache, ci, interpreters, masking, platforms, runner_install, secrets, watch
from wheelworks.cache import default_root
from wheelworks.containers import open_container, open_store
from wheelworks.errors import ContainerError, RecordsError, UsageError, WheelworksError
from wheelworks.cache import Cache
from wheelworks.pipeline import BuildOptions, build_matrix, build_wheels
from wheelworks.progress import LiveReporter, PlainReporter, reporter_for, summary_table
from wheelworks.publish import publish_build, record_wheels
from wheelworks.report import write_report
from wheelworks.release import PLATFORMS, UploadTarget, release
from wheelworks.containers.client import ContainerIndex, open_index
from wheelworks.source import release_commit
from wheelworks.targets import platform_targets, select_targets
from wheelworks.records import BuildRecord, Records
from wheelworks.run import tail
from wheelworks.serve import check_root, make_server


def _github_masks(values: Iterable[str]) -> None:
    for value in values:  # GitHub masks these in every later line of the job's log
        print(f"::add-mask::{value}", flush=True)


def _terminated(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM ends a build the way Ctrl-C does: recorded, cleaned up


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminated)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        masking.listen(_github_masks)
    masking.register_environment(os.environ)
    try:
        return int(args.func(args) or 0)
    except WheelworksError as exc:
        if args.traceback:
            raise
        print(f"wheelworks: error: {masking.mask(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("wheelworks: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # a file or folder the user named that cannot be used
        if args.traceback:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"wheelworks: error: {where}{masking.mask(exc.strerror or str(exc))}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wheelworks", description="Build, repair and test binary wheels.")
    parser.add_argument("--traceback", action="store_true", help="show the Python traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--config", type=Path, help="wheelworks.toml or pyproject.toml (default: ./wheelworks.toml)")
        p.add_argument("--builds-dir", type=Path, help="where build records go (default: builds/ beside the config)")

    def cache_dir(p: argparse.ArgumentParser) -> None:
        p.add_argument("--cache-dir", type=Path, help="cache folder (default: $WHEELWORKS_CACHE_DIR or ~/.cache/wheelworks)")

    def building(p: argparse.ArgumentParser) -> None:
        common(p)
        cache_dir(p)
        p.add_argument("-j", "--jobs", type=_positive, default=os.cpu_count() or 1,
                       help="targets built at once (default: the number of CPUs)")
        p.add_argument("--wheelhouse", type=Path, help="where tested wheels go (default: wheelhouse/ beside the config)")

    p = sub.add_parser("build", help="build, repair and test wheels for the selected Pythons")
    building(p)
    p.add_argument("--only", metavar="SELECTOR", help="build only targets matching these globs, e.g. 'cp312-*'")
    p.add_argument("--build-commit", metavar="REF", help="branch, tag or hash to build (overrides the config and env)")
    p.add_argument("--rebuild", action="store_true", help="build every target, even those whose inputs did not change")
    p.add_argument("--list", action="store_true", help="print the selected targets and where each CPython is; build nothing")
    p.set_defaults(func=_build)

    p = sub.add_parser("watch", help="build and publish on a schedule and on new commits, on this machine")
    building(p)
    p.add_argument("--schedule", metavar="CRON", help="cron expression, UTC (default: [ci] schedule of the config)")
    p.add_argument("--no-schedule", action="store_true", help="build on new commits only")
    p.add_argument("--once", action="store_true", help="check once and exit (for cron or a systemd timer)")
    p.add_argument("--interval", type=float, default=300, help="seconds between checks for new commits (default: 300)")
    p.set_defaults(func=_watch)

    p = sub.add_parser("publish", help="upload a build's wheels to a container and update its index")
    common(p)
    p.add_argument("source", nargs="?", metavar="WHEELHOUSE|BUILD_ID",
                   help="a folder of wheels, or a build id or prefix (default: the latest build)")
    p.add_argument("--container", metavar="NAME|URL", help="a container of the config, or a URL (default: by branch)")
    p.add_argument("--ref", help="the branch the wheels were built from (default: the build's)")
    p.add_argument("--overwrite", action="store_true", help="replace files of the same name with different bytes")
    p.add_argument("-n", "--dry-run", action="store_true", help="print the plan (uploads, prunes) and write nothing")
    p.set_defaults(func=_publish)

    p = sub.add_parser("serve", help="serve a container over HTTP on 127.0.0.1")
    common(p)
    p.add_argument("--root", type=Path, help="a local container folder")
    p.add_argument("--container", metavar="NAME|URL", help="a container of the config, or a URL (default: nightly)")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=_serve)

    p = sub.add_parser("release", help="fetch a version's wheels from a container, verify, sign and upload them")
    p.add_argument("--config", type=Path, help="for the default container, 'release' (default: ./wheelworks.toml)")
    p.add_argument("-u", "--url", help="a container's URL, index page or file listing (default: the release container)")
    p.add_argument("-w", "--wheelhouse", type=Path, default=Path("wheelhouse"), help="download folder (default: wheelhouse)")
    p.add_argument("-t", "--type", choices=PLATFORMS, default="all", help="platform of the wheels (default: all)")
    p.add_argument("-s", "--sign", action="store_true", help="detach-sign each wheel with gpg (.asc beside it)")
    p.add_argument("-i", "--identity", help="the gpg key to sign with")
    p.add_argument("-r", "--repository", default="pypi", help="a ~/.pypirc section (default: pypi)")
    p.add_argument("--repository-url", help="the upload URL of another index")
    p.add_argument("-n", "--dry-run", action="store_true", help="print what would be downloaded and uploaded")
    p.add_argument("--download-only", action="store_true", help="fetch and verify, upload nothing")
    p.add_argument("--partial", action="store_true",
                   help="release the verified wheels that are there even if some selected targets have none")
    p.add_argument("-v", "--verbose", action="store_true")
    p.add_argument("name")
    p.add_argument("version")
    p.set_defaults(func=_release)

    p = sub.add_parser("ci", help="generate a CI workflow that runs wheelworks")
    p.add_argument("service", choices=["github"])
    p.add_argument("--config", type=Path, help="wheelworks.toml (default: ./wheelworks.toml)")
    p.add_argument("--output", type=Path, help="default: .github/workflows/wheels.yml (release.yml with --release)")
    p.add_argument("--release", action="store_true", help="the manual workflow that uploads a release to PyPI")
    p.set_defaults(func=_ci)

    p = sub.add_parser("secret", help="encrypted secrets for wheelworks.toml")
    secret_sub = p.add_subparsers(dest="secret_command", required=True)
    q = secret_sub.add_parser("keygen", help="make this wheels repository's key pair")
    q.add_argument("--public-key", type=Path, default=secrets.PUBLIC_KEY, help="default: .wheelworks/public.pem")
    q.add_argument("--private-key", type=Path, help="write the private key here (default: print it once)")
    q.add_argument("--force", action="store_true", help="replace an existing key pair (old tokens stop working)")
    q.set_defaults(func=_secret_keygen)
    q = secret_sub.add_parser("encrypt", help="encrypt the value on standard input into a wwenc: token")
    q.add_argument("name", help="the setting it is for, e.g. containers.release.secret-access-key")
    q.add_argument("--public-key", type=Path, default=secrets.PUBLIC_KEY, help="default: .wheelworks/public.pem")
    q.set_defaults(func=_secret_encrypt)

    p = sub.add_parser("cache", help="show or clear the cache")
    p.add_argument("action", choices=["list", "clear"])
    p.add_argument("kinds", nargs="*", metavar="KIND", help="folders to clear (default: all)")
    cache_dir(p)
    p.set_defaults(func=_cache)

    p = sub.add_parser("report", help="write the builds dashboard: static HTML pages of the last builds")
    common(p)
    p.add_argument("--output", type=Path, help="default: report/ beside the config")
    p.add_argument("--last", type=_positive, default=30, help="how many builds the overview shows (default: 30)")
    p.set_defaults(func=_report)

    p = sub.add_parser("builds", help="list build records")
    common(p)
    p.set_defaults(func=_builds)

    p = sub.add_parser("log", help="print the logs of a build (ID may be a prefix, or 'latest')")
    common(p)
    p.add_argument("id")
    p.add_argument("target", nargs="?", help="a target identifier, 'source' or 'libraries'")
    p.set_defaults(func=_log)
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not at least 1")
    return value


def _config_path(args: argparse.Namespace) -> Path:
    return args.config or config_mod.find_config(Path.cwd())


def _builds_dir(args: argparse.Namespace) -> Path:
    if args.builds_dir:
        return args.builds_dir.resolve()
    try:
        return _config_path(args).resolve().parent / "builds"
    except WheelworksError:  # no config here: the records of this folder
        return Path.cwd() / "builds"


def _build_options(args: argparse.Namespace, config: config_mod.Config, env: dict[str, str]) -> BuildOptions:
    return BuildOptions(
        wheelhouse=(args.wheelhouse or config.root / "wheelhouse").resolve(),
        builds_dir=_builds_dir(args),
        cache_dir=(args.cache_dir.resolve() if args.cache_dir else default_root(env)),
        only=getattr(args, "only", None),
        jobs=args.jobs,
        rebuild=getattr(args, "rebuild", False),
        env=env,
    )


def _build(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    config = config_mod.load(_config_path(args), env)
    if args.build_commit:  # the flag outranks the config and the environment
        config = replace(config, project=replace(config.project, build_commit=args.build_commit))
    options = _build_options(args, config, env)
    if args.list:
        _list(config, options)
        return 0
    reporter = reporter_for(sys.stderr, env)
    with reporter:
        record = build_wheels(config, options, reporter)
    if isinstance(reporter, LiveReporter):
        reporter.console.print(summary_table(record))
    _summary(record, Records(options.builds_dir))
    return 0 if record.status == "ok" else 1


def _list(config: config_mod.Config, options: BuildOptions) -> None:
    versions = build_matrix(config, Cache(options.cache_dir), options.env)
    native = platforms.native()
    found = interpreters.discover(versions.versions, config.build.interpreters, options.env, native.os)
    print(f"matrix: {' '.join(versions.versions) or '(empty)'}  (from {versions.describe()})")
    for target in select_targets(config, native, versions, options.only):
        where = found.get(target.python)
        print(f"  {target.identifier:<28} {where.path if where else 'absent here (the generated CI provides it)'}")


def _summary(record: BuildRecord, store: Records) -> None:
    print(f"build {record.id}: {record.project} at {record.commit or record.ref}")
    for target in record.targets:
        if target.status == "ok":
            print(f"  ok      {target.identifier}  {target.wheel}")
            continue
        failed = next((s for s in target.steps if s.status == "failed"), None)
        print(f"  {target.status:<7} {target.identifier}  {failed.name + ' failed' if failed else ''}")
        if failed:
            log = store.folder(record.id) / failed.log
            print("\n".join("    | " + line for line in tail(log).splitlines()))
            print(f"    log: {log}")
    print(f"wheels in {record.wheelhouse}")
    if record.status != "ok":
        bad = [t.identifier for t in record.targets if t.status == "failed"]
        print(f"wheelworks: error: {len(bad)} of {len(record.targets)} targets failed: {', '.join(bad)}", file=sys.stderr)


def _watch(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    path = _config_path(args)
    config = config_mod.load(path, env)
    schedule = None if args.no_schedule else (args.schedule or config.ci.schedule)
    if schedule:
        watch.validate_schedule(schedule)
    options = _build_options(args, config, env)
    reporter = PlainReporter(sys.stderr)

    def report(result: watch.CheckResult) -> None:
        when = time.strftime("%Y-%m-%d %H:%M:%S")
        if result.error:
            print(f"{when} {result.reason or 'check'} failed: {masking.mask(str(result.error))}", flush=True)
        elif result.record is None:
            print(f"{when} nothing to do: {config.project.build_commit} is at {(result.commit or '?')[:12]}, built", flush=True)
        elif all(t.reused_from for t in result.record.targets if t.status == "ok") and result.record.status == "ok":
            print(f"{when} {result.reason}: nothing changed, every target reused (build {result.record.id}); "
                  "nothing published", flush=True)
        else:
            print(f"{when} {result.reason}: build {result.record.id} {result.record.status}, "
                  f"{result.published} wheels published", flush=True)

    if args.once:
        result = watch.check(config, options, schedule, time.time(), reporter)
        report(result)
        return 0 if result.ok else 1
    print(f"watching {config.project.repo} {config.project.build_commit}"
          f" (every {args.interval:g}s{', schedule ' + schedule if schedule else ''}); Ctrl-C stops", flush=True)
    watch.run_forever(lambda: config_mod.load(path, env), options, schedule, args.interval, report,
                      threading.Event(), reporter)
    return 0


def _publish(args: argparse.Namespace) -> None:
    env = dict(os.environ)
    config = config_mod.load(_config_path(args), env)
    if args.source and Path(args.source).is_dir():
        wheels = sorted(Path(args.source).glob("*.whl"))
        ref = args.ref or config.project.build_commit
        builds = Records(Path(args.source).parent / "builds")  # a CI artifact: wheelhouse/ beside builds/
        records = _records_of(Path(args.source), wheels)
    else:
        builds = Records(_builds_dir(args))
        record = builds.load(args.source or "latest")
        wheels, ref, records = record_wheels(record), args.ref or record.ref, [record]
    if not wheels:
        raise ContainerError(f"no wheels to publish in {args.source or 'the latest build'}")
    published = publish_build(config, wheels, ref, env, container=args.container, records=records,
                              overwrite=args.overwrite, dry_run=args.dry_run,
                              logs={r.id: builds.folder(r.id) / "logs" for r in records})
    plan, result = published.plan, published.result
    if result is None:
        print(f"dry run: publishing {len(wheels)} wheels to {published.container} ({published.store}) would")
        rows = [("upload", [f"{f.filename}  ({f.path} and its claim)" for f in plan.uploads]),
                ("keep", [f"{name}  (already there)" for name in plan.unchanged]),
                ("prune", [f.filename for f in plan.prunes])]
        notes = plan.notes
    else:
        rows = [("uploaded", result.uploaded), ("unchanged", result.unchanged), ("pruned", result.pruned)]
        notes = tuple(result.notes)
    for word, names in rows:
        for name in names:
            print(f"  {word:<9} {name}")
    for note in notes:
        print(f"note: {note}")
    if result is not None:
        print(f"published {len(result.uploaded)} new of {len(wheels)} wheels to {published.container} ({published.store})")


def _records_of(folder: Path, wheels: list[Path]) -> list[BuildRecord]:
    """The records of the builds that delivered these wheels, when the folder is a CI
    artifact (wheelhouse/ beside builds/), so that they are published with them."""
    names, found = {w.name for w in wheels}, []
    for path in sorted(folder.parent.glob("builds/*/record.json")):
        try:
            record = BuildRecord.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if names & {t.wheel for t in record.targets if t.status == "ok"}:
            found.append(record)
    return found


def _serve(args: argparse.Namespace) -> None:
    env = dict(os.environ)
    if args.root:
        store = open_store(str(args.root.resolve()), env=env)
    else:
        config = config_mod.load(_config_path(args), env)
        store = open_container(config_mod.named_container(config, args.container or "nightly"), config.root, env)
    check_root(store)
    server = make_server(store, args.port)
    port = server.server_address[1]
    print(f"serving {store.url} at http://127.0.0.1:{port}/  (pip install --index-url http://127.0.0.1:{port}/simple/ NAME)", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


def _release(args: argparse.Namespace) -> None:
    env = dict(os.environ)
    config = _optional_config(args, env, required=not args.url)
    if args.url:
        index = open_index(args.url, env)
    else:
        assert config is not None
        index = ContainerIndex(open_container(config_mod.named_container(config, "release"), config.root, env))
    expected = tag_commit = None
    if config is not None:
        versions = build_matrix(config, Cache(default_root(env)), env)
        expected = [t.identifier for p in config.ci.platforms for t in platform_targets(config, p, versions)]
        tag_commit = release_commit(config.project, args.version, env)
    target = UploadTarget.from_env(env, repository=args.repository, repository_url=args.repository_url,
                                   verbose=args.verbose)
    result = release(index, args.name, args.version, args.wheelhouse.resolve(), target, platform=args.type,
                     expected=expected, tag_commit=tag_commit, partial=args.partial,
                     sign_with=(args.identity or "") if args.sign else None, dry_run=args.dry_run,
                     upload_files=not args.download_only)
    print(f"{'dry run: ' if args.dry_run else ''}{result.plan.name} {result.plan.version} from {result.plan.index}")
    for wheel in result.plan.files:
        local = args.wheelhouse / wheel.filename
        size = local.stat().st_size if local.exists() and not args.dry_run else wheel.size
        shown = f"{size / 1024:,.1f} KiB" if size is not None else "?"
        print(f"  {wheel.filename}  {shown:>12}  {result.downloaded[wheel.filename]:<10}  {result.uploaded[wheel.filename]}")
    for signature in result.signatures:
        print(f"  signed {signature.name}")
    for note in result.notes:
        print(f"note: {note}")


def _optional_config(args: argparse.Namespace, env: dict[str, str], required: bool) -> config_mod.Config | None:
    """The config, which the release gate uses when there is one (given, or ./wheelworks.toml)."""
    if required:
        return config_mod.load(_config_path(args), env)
    path = args.config or Path.cwd() / config_mod.CONFIG_NAME
    return config_mod.load(path, env) if args.config or path.is_file() else None


def _ci(args: argparse.Namespace) -> None:
    env = dict(os.environ)
    config = config_mod.load(_config_path(args), env)
    root = Path.cwd()  # the wheels repository: workflows run from its root
    with tempfile.TemporaryDirectory() as tmp:
        runner_install.prepare(config.ci.install, root, env, Path(tmp) / "pin.log", runner_install.extras_for(config))
    print(f"wrote {root / runner_install.REQUIREMENTS} (what the workflows install, pinned by sha256)")
    if args.release:
        text = ci.release_workflow(config, root)
    else:
        text = ci.wheels_workflow(config, root, build_matrix(config, Cache(default_root(env)), env))
    output = args.output or root / ".github" / "workflows" / ("release.yml" if args.release else "wheels.yml")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    print(f"wrote {output}")


def _secret_keygen(args: argparse.Namespace) -> None:
    private = secrets.write_key_pair(args.public_key, args.private_key, args.force)
    print(f"public key: {args.public_key} (commit it)", file=sys.stderr)
    if args.private_key:
        print(f"private key: {args.private_key} (keep it out of the repository)", file=sys.stderr)
    else:
        print("private key, shown once: store it as the CI secret WHEELWORKS_PRIVATE_KEY", file=sys.stderr)
        sys.stdout.write(private.decode())


def _secret_encrypt(args: argparse.Namespace) -> None:
    public = secrets.read_public_key(args.public_key)
    value = sys.stdin.read().rstrip("\n")
    if not value:
        raise UsageError("no value on standard input", f"echo VALUE | wheelworks secret encrypt {args.name}")
    print(secrets.encrypt(public, args.name, value))


def _cache(args: argparse.Namespace) -> None:
    root = args.cache_dir.resolve() if args.cache_dir else default_root(os.environ)
    if args.action == "clear":
        removed = cache.clear(root, args.kinds)
        print(f"removed {', '.join(removed) or 'nothing'} from {root}")
        return
    print(f"cache: {root}")
    for kind, entries, size in cache.usage(root):
        print(f"  {kind:<10} {entries:>5} entries {size / 2**20:>9.1f} MiB  {cache.KINDS[kind]}")


def _report(args: argparse.Namespace) -> None:
    builds = _builds_dir(args)
    output = (args.output or builds.parent / "report").resolve()
    shown = write_report(builds, output, args.last)
    if not shown:
        raise RecordsError(f"no build records in {builds}", "build first, or pass --builds-dir")
    print(f"wrote {output / 'index.html'} ({len(shown)} builds)")


def _builds(args: argparse.Namespace) -> None:
    store = Records(_builds_dir(args))
    for build_id in store.ids():
        record = store.load(build_id)
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(record.started))
        commit = (record.commit or "-")[:12]
        ok = sum(t.status == "ok" for t in record.targets)
        print(f"{record.id}  {when}  {record.shown_status():<11} {record.project} {record.ref}@{commit}  {ok}/{len(record.targets)} wheels")


def _log(args: argparse.Namespace) -> None:
    store = Records(_builds_dir(args))
    logs, files = store.logs(store.load(args.id), args.target)
    for path in files:
        print(f"==> {path.relative_to(logs)} <==")
        print(path.read_text(encoding="utf-8", errors="replace"), end="")
