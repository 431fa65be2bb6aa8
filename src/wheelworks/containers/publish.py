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
import time
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from email.parser import HeaderParser
from pathlib import Path

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from wheelworks.build.records import BuildRecord, Records
from wheelworks.build.report import CSS, build_html, overview_html
from wheelworks.config.model import Config, container_for, named_container
from wheelworks.config.settings import Settings
from wheelworks.containers import CLAIMS, RECORDS, Store, claim_key, file_key, open_container
from wheelworks.containers.index import HTML_TYPE, IndexedFile
from wheelworks.containers.state import (
    Tags,
    by_project,
    by_version,
    claim,
    index_current,
    marker_key,
    read_state,
    rebuild_index,
    spelling_conflicts,
    sweep,
    tags_of,
)
from wheelworks.shared.errors import ContainerError, RecordsError
from wheelworks.shared.hashes import file_sha256

DASHBOARD_BUILDS = 50  # builds the container's overview page shows


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
    markers: tuple[str, ...] = ()  # completion markers still missing (a publish killed before writing them)
    reindex: bool = False  # the index was not written from what the container holds (a killed publish or prune)


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


@dataclass(frozen=True)
class Delivery:
    """The wheels a publish takes, with the records of the builds that tested them."""

    wheels: tuple[Path, ...]
    ref: str | None  # the branch they were built from, when a record says
    records: tuple[BuildRecord, ...] = ()
    logs: Mapping[str, Path] = field(default_factory=dict)  # record id -> its logs folder


def delivery_of(record: BuildRecord, builds: Records) -> Delivery:
    """What a successful build delivered, checked to be the bytes it recorded."""
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
    records = (record, *testers(record, builds))
    return Delivery(tuple(wheels), record.ref, records, {r.id: builds.folder(r.id) / "logs" for r in records})


def testers(record: BuildRecord, builds: Records) -> list[BuildRecord]:
    """The earlier builds whose tested wheels ``record``'s targets reused: the evidence
    the release gate needs, published with the wheels."""
    found = []
    for build_id in sorted({t.reused_from for t in record.targets if t.status == "ok" and t.reused_from}):
        try:
            found.append(builds.load(build_id))
        except RecordsError:
            raise ContainerError(f"build {record.id} reused the wheels of build {build_id}, whose record is gone",
                                 "build again with --rebuild") from None
    return found


def delivery_from(source: str | None, builds_dir: Path) -> Delivery:
    """A folder of wheels, or the build a record id (or prefix, or "latest") names. A
    folder that is a CI artifact (wheelhouse/ beside builds/) brings its records along."""
    if source and Path(source).is_dir():
        wheels = tuple(sorted(Path(source).glob("*.whl")))
        builds = Records(Path(source).parent / "builds")
        delivering = builds.delivering({w.name for w in wheels})
        records = tuple({r.id: r for r in [*delivering, *(t for r in delivering for t in testers(r, builds))]}.values())
        delivery = Delivery(wheels, None, records, {r.id: builds.folder(r.id) / "logs" for r in records})
    else:
        builds = Records(builds_dir)
        delivery = delivery_of(builds.load(source or "latest"), builds)
    if not delivery.wheels:
        raise ContainerError(f"no wheels to publish in {source or 'the latest build'}")
    return delivery


def publish_build(config: Config, delivery: Delivery, ref: str, settings: Settings, *,
                  container: str | None = None, overwrite: bool = False, dry_run: bool = False) -> Published:
    """Publish a delivery to the container ``container`` names, or else to the one the
    branch ``ref`` picks; first sweeping what dead publishers left."""
    target = named_container(config, container) if container else container_for(config, ref)
    store = open_container(target, config.root, settings)
    wheels, records = delivery.wheels, delivery.records
    publish_plan = plan(store, wheels, overwrite=overwrite, keep=target.keep, records=records)
    if dry_run:
        return Published(target.name, store.url, publish_plan, None)
    if publish_plan.reindex:  # first, so no page links bytes the sweep is about to remove
        rebuild_index(store)
    sweep(store, time.time())
    return Published(target.name, store.url, publish_plan,
                     apply(store, publish_plan, wheels, keep=target.keep, records=records, logs=delivery.logs,
                           stale_after=target.stale_after))


METADATA_CAP = 16 * 1024 * 1024  # bytes of METADATA read from a wheel; real ones are kilobytes


def describe(wheel: Path) -> IndexedFile:
    """A local wheel as the index will list it, once it is checked to be what its name says."""
    try:
        name, version, _, _ = parse_wheel_filename(wheel.name)
    except InvalidWheelFilename as exc:
        raise ContainerError(f"{wheel}: not a wheel file name ({exc})") from None
    sha256 = file_sha256(wheel)
    metadata = core_metadata(wheel)
    headers = HeaderParser().parsestr(metadata.decode("utf-8", "replace"))
    said = (canonicalize_name(headers.get("Name") or ""), headers.get("Version") or "")
    try:
        matches = said[0] == canonicalize_name(name) and Version(said[1]) == version
    except InvalidVersion:
        matches = False
    if not matches:
        raise ContainerError(f"{wheel}: its METADATA says {said[0] or '?'} {said[1] or '?'}, "
                             f"its file name {canonicalize_name(name)} {version}", "pip would refuse it: build it again")
    return IndexedFile(
        filename=wheel.name,
        project=canonicalize_name(name),
        version=str(version),
        path=file_key(sha256, wheel.name),
        sha256=sha256,
        size=wheel.stat().st_size,
        requires_python=headers.get("Requires-Python"),
        uploaded=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        metadata_sha256=hashlib.sha256(metadata).hexdigest(),
    )


def core_metadata(wheel: Path) -> bytes:
    """The wheel's .dist-info/METADATA, served beside it as <wheel>.metadata (PEP 658),
    read only up to METADATA_CAP, from a wheel whose member names are all safe paths."""
    try:
        with zipfile.ZipFile(wheel) as zf:
            unsafe = [n for n in zf.namelist() if not _safe_member(n)]
            if unsafe:
                raise ContainerError(f"{wheel}: member {unsafe[0]!r} would be installed outside site-packages",
                                     "pip would refuse it: build it again")
            name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA") and n.count("/") == 1)
            with zf.open(name) as stream:
                metadata = stream.read(METADATA_CAP + 1)
    except (zipfile.BadZipFile, StopIteration, OSError, RuntimeError, NotImplementedError) as exc:
        raise ContainerError(f"{wheel}: not a readable wheel ({exc or type(exc).__name__})") from None
    if len(metadata) > METADATA_CAP:
        raise ContainerError(f"{wheel}: its METADATA is over {METADATA_CAP // 2**20} MiB", "no real wheel's is")
    return metadata


def _safe_member(name: str) -> bool:
    """A zip member name pip installs (no absolute path, drive, backslash or '..')."""
    parts = name.split("/")
    return bool(name) and not name.startswith("/") and "\\" not in name and ":" not in parts[0] and ".." not in parts


def plan(store: Store, wheels: Sequence[Path], *, overwrite: bool = False, keep: int | None = None,
         records: Sequence[BuildRecord] = ()) -> PublishPlan:
    """Decide what publishing ``wheels`` does, reading the container and writing nothing.

    A different file under a published name is refused unless ``overwrite``; so is a
    version that pruning would remove at once (older than the ``keep`` newest).
    """
    files = [describe(w) for w in wheels]
    twice = sorted({f.filename for f in files if len({g.sha256 for g in files if g.filename == f.filename}) > 1})
    if twice:
        raise ContainerError(f"two different files named {', '.join(twice)} in one publish", "publish one of them")
    named = [k[len(CLAIMS):].removesuffix(".json") for k in store.list(CLAIMS)]
    spelled = spelling_conflicts([f.filename for f in files], named)
    if spelled:
        raise ContainerError(f"container {store.url}: {', '.join(spelled)} is one wheel under two file names",
                             "publish each wheel under one spelling of its name")
    claims = {f.filename: claim(store, f.filename) for f in files}
    held = {name: found for name, found in claims.items() if found is not None}
    conflicts = [f.filename for f in files if f.filename in held and held[f.filename].sha256 != f.sha256]
    if conflicts and not overwrite:
        raise ContainerError(
            f"container {store.url} already has different files named {', '.join(conflicts)}",
            "publish with --overwrite to replace them",
        )
    uploads = tuple(f for f in files if f.filename not in held or held[f.filename].sha256 != f.sha256)
    replaced = tuple(held[f.filename] for f in uploads if f.filename in held)
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
    # The records that tested the delivery's wheels (the gate's evidence), the earlier
    # builds whose wheels it reused among them (Delivery.records). A build that only
    # reused adds no evidence, so an unchanged nightly writes nothing.
    new = tuple(r.id for r in records if any(t.status == "ok" and not t.reused_from for t in r.targets)
                and store.size(f"{RECORDS}{r.id}/record.json") is None)
    versions = by_version(files)
    markers = tuple(k for k in (marker_key(p, v, (f.filename for f in g)) for (p, v), g in versions.items())
                    if store.size(k) is None)
    return PublishPlan(store.url, uploads, replaced, unchanged, prunes, tuple(notes), new, markers,
                       not index_current(store))


def apply(store: Store, publish_plan: PublishPlan, wheels: Sequence[Path], *, keep: int | None = None,
          records: Sequence[BuildRecord] = (), logs: Mapping[str, Path] | None = None,
          stale_after: int | None = None) -> PublishResult:
    """Carry out a plan: bytes, claims, completion markers, the build record, pruning, index.
    A plan with nothing to do writes nothing: the index stays as it was. A rerun of an
    interrupted publish finishes it: markers it did not write, an index it did not rebuild."""
    if not (publish_plan.uploads or publish_plan.prunes or publish_plan.records or publish_plan.markers
            or publish_plan.reindex):
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
            raced = claim(store, f.filename)
            if raced is None or raced.sha256 != f.sha256:
                raise ContainerError(f"container {store.url}: another publisher stored a different {f.filename} at the same time")
            result.unchanged.append(f.filename)
            continue
        result.uploaded.append(f.filename)
    published = [claim(store, w.name) for w in wheels]
    for (project, version), group in by_version(f for f in published if f is not None).items():
        filenames = sorted(f.filename for f in group)
        marker = {"project": project, "version": version, "files": filenames,
                  "tags": sorted(list(t) for f in filenames for t in tags_of(f))}
        store.put(marker_key(project, version, filenames), json.dumps(marker, indent=1).encode(), "application/json")
    stored = [r for r in records if r.id in publish_plan.records]
    for record in stored:  # what the release gate checks, and the dashboard shows
        store.put(f"{RECORDS}{record.id}/record.json", record.to_json().encode(), "application/json")
        store.put(f"{RECORDS}{record.id}/index.html", build_html(record).encode(), HTML_TYPE)
        folder = (logs or {}).get(record.id)
        if folder is not None and folder.is_dir():
            for log in sorted(folder.rglob("*.log")):
                store.put(f"{RECORDS}{record.id}/logs/{log.relative_to(folder).as_posix()}", log, "text/plain")
    if stored:
        _write_dashboard(store, stale_after)
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


def _encode(f: IndexedFile) -> bytes:
    return json.dumps(asdict(f), indent=1).encode()


def prune_set(claims: Sequence[IndexedFile], complete: Mapping[tuple[str, str], Tags], keep: int) -> list[IndexedFile]:
    """The claims pruning removes: per project, the newest ``keep`` complete versions (and
    anything newer) stay; an older version goes only when every (Python, platform) tag it
    serves is served by a newer, complete, kept version. Linear in the claims: each is
    grouped, and each version parsed, once."""
    doomed = []
    for project, files in by_project(claims).items():
        groups: dict[Version, list[IndexedFile]] = {}
        for f in files:
            groups.setdefault(Version(f.version), []).append(f)
        finished = sorted((v for v in groups if (project, str(v)) in complete), reverse=True)
        kept = finished[:max(keep, 1)]
        if not kept:
            continue
        served = frozenset(t for v in kept for t in complete[(project, str(v))])  # every kept version is newer
        for version, group in groups.items():
            if version < kept[-1] and frozenset(t for f in group for t in tags_of(f.filename)) <= served:
                doomed += group
    return doomed


def _write_dashboard(store: Store, stale_after: int | None) -> None:
    """The overview of the newest builds the container holds (builds/index.html). Build
    ids begin with their start time, so only the records shown are read, however long
    the history grows."""
    keys = sorted(k for k in store.list(RECORDS) if k.endswith("/record.json"))
    found = [r for r in (_shown(data) for data in map(store.get, keys[-DASHBOARD_BUILDS:]) if data) if r]
    found.sort(key=lambda r: r.started)
    store.put(f"{RECORDS}style.css", CSS.encode(), "text/css")
    store.put(f"{RECORDS}index.html", overview_html(found, stale_after=stale_after).encode(), HTML_TYPE)


def _shown(data: bytes) -> BuildRecord | None:
    """A stored record the dashboard can show; one of another shape (not written by
    wheelworks) is left out rather than break the page."""
    try:
        record = BuildRecord.from_json(json.loads(data))
        build_html(record)
        overview_html([record])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return record
