"""Publishing wheels to a container, with an index pip can use: plan, then apply.

A wheel appears in the index only when its claim and its verified bytes are both stored,
so a publisher killed midway leaves at worst unreferenced bytes (swept after a grace
period). Claims are created with create-if-absent, so two publishers can never both own
one name. When every wheel of a publish is claimed, a completion marker records the
(Python, platform) tags that version now serves: only complete versions count when
pruning decides what is covered. The index is rebuilt from what the container really
holds, again until a listing taken after the write matches: a concurrent publisher's
wheels are never lost.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from email.parser import HeaderParser
from pathlib import Path

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import Version

from wheelworks.config import Config, container_for, named_container
from wheelworks.containers import (
    CLAIMS, COMPLETE, FILES, RECORDS, SCRATCH, SIMPLE, Store, claim_key, file_key, open_container,
)
from wheelworks.containers.index import (
    HTML_TYPE, JSON_TYPE, IndexedFile, listing_html, project_html, project_json, root_html, root_json,
)
from wheelworks.errors import ContainerError
from wheelworks.hashes import digest, file_sha256
from wheelworks.records import BuildRecord
from wheelworks.report import CSS, build_html, overview_html

REBUILD_ATTEMPTS = 30
ORPHAN_GRACE = 3600.0  # seconds unclaimed bytes may wait for the claim a live publisher is about to write

Tags = frozenset[tuple[str, str]]  # (python tag, platform tag) pairs a wheel serves


@dataclass(frozen=True)
class PublishPlan:
    """What a publish will do; ``apply`` does it, ``--dry-run`` prints it."""

    store: str
    uploads: tuple[IndexedFile, ...]  # new bytes and claims
    replaced: tuple[IndexedFile, ...]  # claims --overwrite replaces (their bytes go after the index)
    unchanged: tuple[str, ...]
    prunes: tuple[IndexedFile, ...]  # as the container stands now; decided again after the uploads
    notes: tuple[str, ...] = ()
    records: tuple[str, ...] = ()  # ids of the build records stored beside the wheels


@dataclass
class PublishResult:
    uploaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Published:
    container: str  # its name in the config, or its URL
    store: str
    plan: PublishPlan
    result: PublishResult | None  # None for a dry run


def publish_build(config: Config, wheels: Sequence[Path], ref: str, env: Mapping[str, str], *,
                  container: str | None = None, records: Sequence[BuildRecord] = (), overwrite: bool = False,
                  dry_run: bool = False, logs: Mapping[str, Path] | None = None) -> Published:
    """Publish a build's wheels (and the records of the builds that tested them) to the container ``container`` names, or
    else to the one the branch ``ref`` picks; first sweeping what dead publishers left."""
    target = named_container(config, container) if container else container_for(config, ref)
    store = open_container(target, config.root, env)
    publish_plan = plan(store, wheels, overwrite=overwrite, keep=target.keep, records=records)
    if dry_run:
        return Published(target.name, store.url, publish_plan, None)
    sweep(store, time.time())
    return Published(target.name, store.url, publish_plan,
                     apply(store, publish_plan, wheels, keep=target.keep, records=records, logs=logs))


def describe(wheel: Path) -> IndexedFile:
    """A local wheel as the index will list it."""
    try:
        name, version, _, _ = parse_wheel_filename(wheel.name)
    except InvalidWheelFilename as exc:
        raise ContainerError(f"{wheel}: not a wheel file name ({exc})") from None
    sha256 = file_sha256(wheel)
    metadata = core_metadata(wheel)
    return IndexedFile(
        filename=wheel.name,
        project=canonicalize_name(name),
        version=str(version),
        path=file_key(sha256, wheel.name),
        sha256=sha256,
        size=wheel.stat().st_size,
        requires_python=HeaderParser().parsestr(metadata.decode("utf-8", "replace")).get("Requires-Python"),
        uploaded=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        metadata_sha256=hashlib.sha256(metadata).hexdigest(),
    )


def core_metadata(wheel: Path) -> bytes:
    """The wheel's .dist-info/METADATA, served beside it as <wheel>.metadata (PEP 658)."""
    try:
        with zipfile.ZipFile(wheel) as zf:
            name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA") and n.count("/") == 1)
            return zf.read(name)
    except (zipfile.BadZipFile, StopIteration, OSError) as exc:
        raise ContainerError(f"{wheel}: not a readable wheel ({exc})") from None


def tags_of(filename: str) -> Tags:
    return frozenset((t.interpreter, t.platform) for t in parse_wheel_filename(filename)[3])


def plan(store: Store, wheels: Sequence[Path], *, overwrite: bool = False, keep: int | None = None,
         records: Sequence[BuildRecord] = ()) -> PublishPlan:
    """Decide what publishing ``wheels`` does, reading the container and writing nothing.

    A different file under a published name is refused unless ``overwrite``; so is a
    version that pruning would remove at once (older than the ``keep`` newest).
    """
    files = [describe(w) for w in wheels]
    claims = {f.filename: _claim(store, f.filename) for f in files}
    conflicts = [f.filename for f in files if claims[f.filename] and claims[f.filename].sha256 != f.sha256]
    if conflicts and not overwrite:
        raise ContainerError(
            f"container {store.url} already has different files named {', '.join(conflicts)}",
            "publish with --overwrite to replace them",
        )
    uploads = tuple(f for f in files if not claims[f.filename] or claims[f.filename].sha256 != f.sha256)
    replaced = tuple(claims[f.filename] for f in uploads if claims[f.filename])
    unchanged = tuple(f.filename for f in files if f not in uploads)
    prunes: tuple[IndexedFile, ...] = ()
    notes: list[str] = []
    if keep is not None:
        state = read_state(store)
        if state.partial:
            notes.append("no pruning: the container changed while it was read")
        else:
            after = state.with_publish(files)
            doomed = prune_set(after.claims, after.complete, keep)
            stillborn = sorted({f"{f.project} {f.version}" for f in files} & {f"{f.project} {f.version}" for f in doomed})
            if stillborn:
                raise ContainerError(
                    f"container {store.url}: {', '.join(stillborn)} is older than the {keep} newest versions it keeps; "
                    "publishing would prune it at once",
                    "publish it to a container without keep, or raise keep",
                )
            prunes = tuple(prune_set(state.claims, state.complete, keep))
    # A build whose every target reused an earlier one's wheel adds no evidence: that
    # earlier record, stored when its wheels were, is the one that tested them.
    new = tuple(r.id for r in records if any(t.status == "ok" and not t.reused_from for t in r.targets)
                and store.size(f"{RECORDS}{r.id}/record.json") is None)
    return PublishPlan(store.url, uploads, replaced, unchanged, prunes, tuple(notes), new)


def apply(store: Store, publish_plan: PublishPlan, wheels: Sequence[Path], *, keep: int | None = None,
          records: Sequence[BuildRecord] = (), logs: Mapping[str, Path] | None = None) -> PublishResult:
    """Carry out a plan: bytes, claims, completion markers, the build record, pruning, index.
    A plan with nothing to do writes nothing: the index stays as it was."""
    if not (publish_plan.uploads or publish_plan.prunes or publish_plan.records):
        return PublishResult(unchanged=list(publish_plan.unchanged), notes=list(publish_plan.notes))
    by_name = {w.name: w for w in wheels}
    result = PublishResult(unchanged=list(publish_plan.unchanged), notes=list(publish_plan.notes))
    replaced = {f.filename: f for f in publish_plan.replaced}
    for f in publish_plan.uploads:
        store.put(f.path, by_name[f.filename], "application/octet-stream", sha256=f.sha256)
        if f.metadata_sha256:  # before the claim: an indexed file's metadata is always there
            store.put(f.path + ".metadata", core_metadata(by_name[f.filename]), "text/plain",
                      sha256=f.metadata_sha256)
        old = replaced.get(f.filename)
        if not store.put(claim_key(f.filename), _encode(f), "application/json", if_absent=old is None):
            raced = _claim(store, f.filename)
            if raced is None or raced.sha256 != f.sha256:
                raise ContainerError(f"container {store.url}: another publisher stored a different {f.filename} at the same time")
            result.unchanged.append(f.filename)
            continue
        result.uploaded.append(f.filename)
    published = [_claim(store, w.name) for w in wheels]
    for (project, version), group in _by_version(f for f in published if f is not None).items():
        filenames = sorted(f.filename for f in group)
        marker = {"project": project, "version": version, "files": filenames,
                  "tags": sorted(list(t) for f in filenames for t in tags_of(f))}
        store.put(f"{COMPLETE}{project}/{version}/{digest(filenames)[:16]}.json",
                  json.dumps(marker, indent=1).encode(), "application/json")
    stored = [r for r in records if r.id in publish_plan.records]
    for record in stored:  # what the release gate checks, and the dashboard shows
        store.put(f"{RECORDS}{record.id}/record.json", record.to_json().encode(), "application/json")
        store.put(f"{RECORDS}{record.id}/index.html", build_html(record).encode(), HTML_TYPE)
        folder = (logs or {}).get(record.id)
        for log in sorted(folder.rglob("*.log")) if folder and folder.is_dir() else []:
            store.put(f"{RECORDS}{record.id}/logs/{log.relative_to(folder).as_posix()}", log, "text/plain")
    if stored:
        _write_dashboard(store)
    pruned: list[IndexedFile] = []
    if keep is not None:
        state = read_state(store)
        if state.partial:
            result.notes.append("no pruning: the container changed while it was read")
        else:
            pruned = prune_set(state.claims, state.complete, keep)
            for f in pruned:
                store.delete(claim_key(f.filename))
    result.pruned = sorted(f.filename for f in pruned)
    rebuild_index(store)  # the pages stop linking replaced and pruned files before their bytes go
    for f in [*publish_plan.replaced, *pruned]:
        store.delete(f.path)
        store.delete(f.path + ".metadata")
    return result


def publish(store: Store, wheels: Sequence[Path], *, overwrite: bool = False, keep: int | None = None,
            records: Sequence[BuildRecord] = ()) -> PublishResult:
    """Plan and apply in one go."""
    return apply(store, plan(store, wheels, overwrite=overwrite, keep=keep, records=records), wheels,
                 keep=keep, records=records)


def _claim(store: Store, filename: str) -> IndexedFile | None:
    data = store.get(claim_key(filename))
    return IndexedFile(**json.loads(data)) if data else None


def _encode(f: IndexedFile) -> bytes:
    return json.dumps(asdict(f), indent=1).encode()


def _write_dashboard(store: Store) -> None:
    """The builds overview of every record the container holds (builds/index.html)."""
    found = []
    for key in sorted(store.list(RECORDS)):
        data = store.get(key) if key.endswith("/record.json") else None
        if data:
            found.append(BuildRecord.from_json(json.loads(data)))
    found.sort(key=lambda r: r.started)
    store.put(f"{RECORDS}style.css", CSS.encode(), "text/css")
    store.put(f"{RECORDS}index.html", overview_html(found[-50:]).encode(), HTML_TYPE)


def _by_version(files: Iterable[IndexedFile]) -> dict[tuple[str, str], list[IndexedFile]]:
    groups: dict[tuple[str, str], list[IndexedFile]] = defaultdict(list)
    for f in files:
        groups[(f.project, f.version)].append(f)
    return groups


@dataclass(frozen=True)
class ContainerState:
    claims: tuple[IndexedFile, ...]
    complete: Mapping[tuple[str, str], Tags]  # (project, version) -> tags its finished publishes delivered
    partial: bool  # some listed claim vanished while it was read

    def with_publish(self, files: Sequence[IndexedFile]) -> ContainerState:
        """The state once ``files`` are published and marked complete."""
        names = {f.filename for f in files}
        complete = dict(self.complete)
        for key, group in _by_version(files).items():
            complete[key] = complete.get(key, frozenset()) | frozenset(t for f in group for t in tags_of(f.filename))
        claims = tuple(c for c in self.claims if c.filename not in names) + tuple(files)
        return ContainerState(claims, complete, self.partial)


def read_state(store: Store) -> ContainerState:
    listing = store.list(".wheelworks/")
    claims, partial = _claims(store, listing)
    complete: dict[tuple[str, str], Tags] = defaultdict(frozenset)
    for key in sorted(k for k in listing if k.startswith(COMPLETE) and k.endswith(".json")):
        data = store.get(key)
        if data is None:
            partial = True
            continue
        marker = json.loads(data)
        complete[(marker["project"], marker["version"])] |= frozenset(tuple(t) for t in marker["tags"])
    return ContainerState(tuple(claims), dict(complete), partial)


def prune_set(claims: Sequence[IndexedFile], complete: Mapping[tuple[str, str], Tags], keep: int) -> list[IndexedFile]:
    """The claims pruning removes: per project, the newest ``keep`` complete versions (and
    anything newer) stay; an older version goes only when every (Python, platform) tag it
    serves is served by a newer, complete, kept version."""
    doomed = []
    for project, files in _by_project(claims).items():
        versions = sorted({Version(f.version) for f in files}, reverse=True)
        finished = [v for v in versions if (project, str(v)) in complete]
        kept = finished[:max(keep, 1)]
        if not kept:
            continue
        served: dict[Version, Tags] = {v: complete[(project, str(v))] for v in kept}
        for version in versions:
            if version >= kept[-1]:
                continue
            tags = frozenset(t for f in files if Version(f.version) == version for t in tags_of(f.filename))
            newer = frozenset(t for v, s in served.items() if v > version for t in s)
            if tags <= newer:
                doomed += [f for f in files if Version(f.version) == version]
    return doomed


def _by_project(files: Iterable[IndexedFile]) -> dict[str, list[IndexedFile]]:
    groups: dict[str, list[IndexedFile]] = defaultdict(list)
    for f in files:
        groups[f.project].append(f)
    return groups


def _claims(store: Store, listing: Mapping[str, int]) -> tuple[list[IndexedFile], bool]:
    files, partial = [], False
    for key in sorted(listing):
        if key.startswith(CLAIMS) and key.endswith(".json"):
            data = store.get(key)
            if data is None:
                partial = True
                continue
            files.append(IndexedFile(**json.loads(data)))
    return files, partial


def _state(listing: Mapping[str, int]) -> set[tuple[str, int]]:
    return {(k, v) for k, v in listing.items() if k.startswith((CLAIMS, FILES))}


def rebuild_index(store: Store) -> list[IndexedFile]:
    """Rewrite every index page from the container's contents; returns the files indexed."""
    listing = store.list()
    for attempt in range(REBUILD_ATTEMPTS):
        claims, _ = _claims(store, listing)
        files = [f for f in claims if listing.get(f.path) == f.size]
        _write_index(store, files, listing)
        after = store.list()
        if _state(after) == _state(listing):
            return files
        listing = after
        time.sleep(random.uniform(0, 0.05 * (attempt + 1)))  # let concurrent publishers fall out of step
    raise ContainerError(f"container {store.url}: the index kept changing under concurrent publishers; publish again")


def _write_index(store: Store, files: list[IndexedFile], listing: Mapping[str, int]) -> None:
    by_project = _by_project(files)
    for project, project_files in by_project.items():
        store.put(f"{SIMPLE}{project}/index.html", project_html(project, project_files).encode(), HTML_TYPE)
        store.put(f"{SIMPLE}{project}/index.json", project_json(project, project_files).encode(), JSON_TYPE)
    store.put(f"{SIMPLE}index.html", root_html(list(by_project)).encode(), HTML_TYPE)
    store.put(f"{SIMPLE}index.json", root_json(list(by_project)).encode(), JSON_TYPE)
    has_builds = any(k.startswith(RECORDS) and k.endswith("/record.json") for k in listing)
    store.put("index.html", listing_html(files, builds=has_builds).encode(), HTML_TYPE)
    records = sorted(k for k in listing if k.startswith(RECORDS) and k.endswith("/record.json"))
    store.put(f"{RECORDS}index.json", json.dumps({"records": records}, indent=1).encode(), JSON_TYPE)
    for key in listing:  # pages of projects that have no files left
        parts = key.split("/")
        if len(parts) == 3 and f"{parts[0]}/" == SIMPLE and parts[1] not in by_project:
            store.delete(key)


def sweep(store: Store, now: float, grace: float = ORPHAN_GRACE) -> list[str]:
    """Remove bytes no claim names that were stored more than ``grace`` seconds ago (a
    killed publisher's or prune's leftovers), and a folder store's stale scratch files.
    Nothing a claim names, and nothing a live publisher may still claim, is touched."""
    listing = store.list()
    claims, partial = _claims(store, listing)
    if partial:
        return []
    named = {f.path for f in claims} | {f.path + ".metadata" for f in claims}
    candidates = [k for k in listing if k.startswith(FILES) and k not in named] + list(store.list(SCRATCH))
    removed = []
    for key in sorted(candidates):
        stored = store.modified(key)
        if stored is not None and now - stored > grace and (key.startswith(SCRATCH) or _claim_free(store, key)):
            store.delete(key)
            removed.append(key)
    return removed


def _claim_free(store: Store, key: str) -> bool:
    """No claim names ``key`` now (one may have appeared since the listing)."""
    wheel_key = key.removesuffix(".metadata")
    claim = _claim(store, wheel_key.rsplit("/", 1)[-1])
    return claim is None or claim.path != wheel_key


def record_wheels(record: BuildRecord) -> list[Path]:
    """The wheels a successful build delivered, checked to be the bytes it recorded."""
    if record.status != "ok":
        raise ContainerError(f"build {record.id} failed; only successful builds are published",
                             f"see `wheelworks log {record.id}`")
    wheels = []
    for target in record.targets:
        if target.wheel is None:
            continue
        wheel = Path(record.wheelhouse or ".") / target.wheel
        if not wheel.is_file() or file_sha256(wheel) != target.sha256:
            raise ContainerError(f"{wheel}: missing or changed since build {record.id}", "build again")
        wheels.append(wheel)
    return wheels
