"""``builds``, ``log``, ``report``, ``cache`` and ``verify``: what earlier builds did and left behind."""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from wheelworks.build.records import Records
from wheelworks.build.report import write_report
from wheelworks.cli.options import add_cache_dir, add_config, builds_dir, load_config, positive
from wheelworks.config import model as config_mod
from wheelworks.config.settings import Settings
from wheelworks.containers import open_container
from wheelworks.containers.client import ContainerIndex
from wheelworks.release import verify as verify_mod
from wheelworks.shared import cache
from wheelworks.shared.errors import RecordsError


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser("cache", help="show or clear the cache")
    p.add_argument("action", choices=["list", "clear"], help="list: what each folder holds and its size; clear: remove")
    p.add_argument("kinds", nargs="*", metavar="KIND", help="folders to clear (default: all)")
    add_cache_dir(p)
    p.set_defaults(func=_cache)

    p = commands.add_parser("report", help="write the builds dashboard: static HTML pages of the last builds")
    add_config(p)
    p.add_argument("--output", type=Path, help="default: report/ beside the config")
    p.add_argument("--last", type=positive, default=30, help="how many builds the overview shows (default: 30)")
    p.set_defaults(func=_report)

    p = commands.add_parser("builds", help="list build records")
    add_config(p)
    p.set_defaults(func=_builds)

    p = commands.add_parser("verify", help="rebuild a wheel from what its build record says and compare the bytes")
    p.add_argument("wheel", metavar="WHEEL", help="a wheel file, or its URL in a served container")
    add_config(p)
    add_cache_dir(p)
    p.add_argument("--container", metavar="NAME", help="read build records from this container of the config "
                   "(default: a URL's own container, else the local build records)")
    p.set_defaults(func=_verify)

    p = commands.add_parser("log", help="print the logs of a build (ID may be a prefix, or 'latest')")
    add_config(p)
    p.add_argument("id", help="a build id, a prefix of one, or 'latest'")
    p.add_argument("target", nargs="?", help="a target identifier, 'source' or 'libraries'")
    p.set_defaults(func=_log)


def _cache(args: argparse.Namespace, settings: Settings) -> None:
    root = settings.cache_dir
    if args.action == "clear":
        removed = cache.clear(root, args.kinds)
        print(f"removed {', '.join(removed) or 'nothing'} from {root}")
        return
    print(f"cache: {root}")
    for kind, entries, size in cache.usage(root):
        print(f"  {kind:<10} {entries:>5} entries {size / 2**20:>9.1f} MiB  {cache.KINDS[kind]}")


def _report(args: argparse.Namespace, settings: Settings) -> None:
    builds = builds_dir(args)
    output = (args.output or builds.parent / "report").resolve()
    shown = write_report(builds, output, args.last)
    if not shown:
        raise RecordsError(f"no build records in {builds}", "build first, or pass --builds-dir")
    print(f"wrote {output / 'index.html'} ({len(shown)} builds)")


def _builds(args: argparse.Namespace, settings: Settings) -> None:
    store = Records(builds_dir(args))
    for build_id in store.ids():
        record = store.load(build_id)
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(record.started))
        commit = (record.commit or "-")[:12]
        ok = sum(t.status == "ok" for t in record.targets)
        print(f"{record.id}  {when}  {record.shown_status():<11} {record.project} {record.ref}@{commit}  "
              f"{ok}/{len(record.targets)} wheels")


def _log(args: argparse.Namespace, settings: Settings) -> None:
    store = Records(builds_dir(args))
    record = store.load(args.id)
    target = next((t for t in record.targets if t.identifier == args.target), None)
    if target is not None and target.reused_from and target.reused_from in store.ids():
        # Nothing was built for it here: the logs are the build's that made its wheel.
        print(f"{target.identifier} in build {record.id} reused the wheel of build {target.reused_from}; its logs:")
        record = store.load(target.reused_from)
    logs, files = store.logs(record, args.target)
    for path in files:
        print(f"==> {path.relative_to(logs)} <==")
        print(path.read_text(encoding="utf-8", errors="replace"), end="")


def _verify(args: argparse.Namespace, settings: Settings) -> int:
    config = load_config(args, settings)
    with tempfile.TemporaryDirectory(prefix="wheelworks-verify-") as tmp:
        wheel, index = verify_mod.fetch(args.wheel, Path(tmp))
        if args.container:
            index = ContainerIndex(open_container(config_mod.named_container(config, args.container), config.root, settings))
        store = Records(builds_dir(args))
        records = index.records() if index else [json.loads(store.load(i).to_json()) for i in store.ids()]
        verdict = verify_mod.verify(wheel, config, records, settings)
    origin = verdict.origin
    print(f"{wheel.name}: rebuilt {origin.identifier} at {origin.commit[:12]} (build {origin.build})")
    if verdict.identical:
        print("identical")
        return 0
    print(f"differs: {', '.join(verdict.differences)}")
    return 1
