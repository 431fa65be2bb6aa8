"""``publish``, ``serve`` and ``release``: wheels into a container, out over HTTP, and on to PyPI."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from wheelworks.cli.options import add_cache_dir, add_config, builds_dir, load_config
from wheelworks.config import model as config_mod
from wheelworks.config.settings import Settings
from wheelworks.containers import open_container, open_store, published
from wheelworks.containers.client import ContainerIndex, open_index
from wheelworks.containers.publish import Published, delivery_from, publish_build
from wheelworks.containers.serve import check_root, make_server
from wheelworks.release.gate import config_gate
from wheelworks.release.upload import PLATFORMS, ReleaseResult, UploadTarget, release
from wheelworks.shared.cache import Cache


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser("publish", help="upload a build's wheels to a container and update its index")
    add_config(p)
    p.add_argument("source", nargs="?", metavar="WHEELHOUSE|BUILD_ID",
                   help="a folder of wheels, or a build id or prefix (default: the latest build)")
    p.add_argument("--container", metavar="NAME|URL", help="a container of the config, or a URL (default: by branch)")
    p.add_argument("--ref", help="the branch the wheels were built from (default: the build's)")
    p.add_argument("--overwrite", action="store_true", help="replace files of the same name with different bytes")
    p.add_argument("-n", "--dry-run", action="store_true", help="print the plan (uploads, prunes) and write nothing")
    p.set_defaults(func=_publish)

    p = commands.add_parser("status", help="how long ago each container's newest build finished; exits 1 when one "
                                           "is older than its stale-after (for cron or monitoring)")
    add_config(p)
    p.add_argument("--container", metavar="NAME", action="append",
                   help="a container of the config (may repeat; default: every one)")
    p.set_defaults(func=_status)

    p = commands.add_parser("serve", help="serve a container over HTTP on 127.0.0.1")
    add_config(p)
    p.add_argument("--root", type=Path, help="a local container folder")
    p.add_argument("--container", metavar="NAME|URL", help="a container of the config, or a URL (default: nightly)")
    p.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (default: 8000; 0: any free port)")
    p.add_argument("--quiet", action="store_true", help="no line per request (default: method, path and status of each)")
    p.set_defaults(func=_serve)

    p = commands.add_parser("release", help="fetch a version's wheels from a container, verify, sign and upload them")
    p.add_argument("--config", type=Path, help="for the default container, 'release' (default: ./wheelworks.toml)")
    add_cache_dir(p)
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
    p.add_argument("-v", "--verbose", action="store_true", help="twine's own output of each upload")
    p.add_argument("name", help="the project, as its wheels name it (e.g. pytally)")
    p.add_argument("version", help="the version to release; its tag vVERSION or VERSION is checked when the repository has one")
    p.set_defaults(func=_release)


def _status(args: argparse.Namespace, settings: Settings) -> int:
    config = load_config(args, settings)
    chosen = [config_mod.named_container(config, n) for n in args.container] if args.container else config.containers
    found = [published.freshness(config, c, settings, time.time()) for c in chosen]
    for state in found:
        print(state.describe())
    return 1 if any(state.stale for state in found) else 0


def _publish(args: argparse.Namespace, settings: Settings) -> None:
    config = load_config(args, settings)
    delivery = delivery_from(args.source, builds_dir(args))
    ref = args.ref or delivery.ref or config.project.build_commit
    published = publish_build(config, delivery, ref, settings, container=args.container, overwrite=args.overwrite,
                              dry_run=args.dry_run)
    _print_published(published, len(delivery.wheels))


def _print_published(published: Published, wheels: int) -> None:
    plan, result = published.plan, published.result
    if result is None:
        print(f"dry run: publishing {wheels} wheels to {published.container} ({published.store}) would")
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
        print(f"published {len(result.uploaded)} new of {wheels} wheels to {published.container} ({published.store})")


def _serve(args: argparse.Namespace, settings: Settings) -> None:
    if args.root:
        store = open_store(str(args.root.resolve()), credentials=settings.s3)
    else:
        config = load_config(args, settings)
        store = open_container(config_mod.named_container(config, args.container or "nightly"), config.root, settings)
    check_root(store)
    server = make_server(store, args.port, log=None if args.quiet else lambda line: print(line, flush=True))
    port = server.server_address[1]
    print(f"serving {store.url} at http://127.0.0.1:{port}/  (pip install --index-url http://127.0.0.1:{port}/simple/ NAME)", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


def _release(args: argparse.Namespace, settings: Settings) -> None:
    config = _release_config(args, settings)
    if args.url:
        index = open_index(args.url, settings.s3)
    else:
        assert config is not None  # required without --url
        index = ContainerIndex(open_container(config_mod.named_container(config, "release"), config.root, settings))
    expected, tag_commit = None, None
    if config is not None:
        with tempfile.TemporaryDirectory() as tmp:
            expected, tag_commit = config_gate(config, args.version, Cache(settings.cache_dir), Path(tmp) / "git.log", settings.env)
    target = UploadTarget.from_settings(settings, repository=args.repository, repository_url=args.repository_url,
                                   verbose=args.verbose)
    result = release(index, args.name, args.version, args.wheelhouse.resolve(), target, platform=args.type,
                     expected=expected, tag_commit=tag_commit, partial=args.partial,
                     sign_with=(args.identity or "") if args.sign else None, dry_run=args.dry_run,
                     upload_files=not args.download_only)
    _print_released(result, args.wheelhouse, args.dry_run)
    if result.refusal is not None:
        raise result.refusal


def _print_released(result: ReleaseResult, wheelhouse: Path, dry_run: bool) -> None:
    print(f"{'dry run: ' if dry_run else ''}{result.plan.name} {result.plan.version} from {result.plan.index}")
    for wheel in result.plan.files:
        local = wheelhouse / wheel.filename
        size = local.stat().st_size if local.exists() and not dry_run else wheel.size
        shown = f"{size / 1024:,.1f} KiB" if size is not None else "?"
        print(f"  {wheel.filename}  {shown:>12}  {result.downloaded[wheel.filename]:<10}  {result.uploaded[wheel.filename]}")
    for signature in result.signatures:
        print(f"  signed {signature.name}")
    for note in result.notes:
        print(f"note: {note}")


def _release_config(args: argparse.Namespace, settings: Settings) -> config_mod.Config | None:
    """The config, which the release gate uses when there is one (given, or
    ./wheelworks.toml); required when no --url names the index."""
    if not args.url:
        return load_config(args, settings)
    path = args.config or Path.cwd() / config_mod.CONFIG_NAME
    return config_mod.load(path, settings.build_commit) if args.config or path.is_file() else None
