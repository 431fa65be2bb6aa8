"""Publishing wheels to a container, with an index pip can use.

Layout of a container:
    files/<sha256[:16]>/<wheel>        the bytes, content-addressed: never overwritten
    .wheelworks/wheels/<wheel>.json    the claim on a file name: its sha256 and metadata
    simple/…, index.html               indexes, rebuilt from the listing after every change

A wheel appears in the index only when its claim and its verified bytes are both stored,
so a publisher killed midway leaves at worst unreferenced bytes. Claims are created with
create-if-absent, so two publishers can never both own one name. The index is rebuilt from
what the container really holds, and rebuilt again until a listing taken after the write
matches the one it was built from: a concurrent publisher's wheels are never lost.
"""

from __future__ import annotations

import json
import time
import zipfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from email.parser import HeaderParser
from pathlib import Path

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import Version

from wheelworks.containers import Store
from wheelworks.containers.index import (
    HTML_TYPE, JSON_TYPE, IndexedFile, listing_html, project_html, project_json, root_html, root_json,
)
from wheelworks.errors import ContainerError
from wheelworks.hashes import file_sha256
from wheelworks.records import BuildRecord

CLAIMS = ".wheelworks/wheels/"
REBUILD_ATTEMPTS = 20


@dataclass
class PublishResult:
    uploaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)


def describe(wheel: Path) -> IndexedFile:
    """A local wheel as the index will list it."""
    try:
        name, version, _, _ = parse_wheel_filename(wheel.name)
    except InvalidWheelFilename as exc:
        raise ContainerError(f"{wheel}: not a wheel file name ({exc})") from None
    sha256 = file_sha256(wheel)
    return IndexedFile(
        filename=wheel.name,
        project=canonicalize_name(name),
        version=str(version),
        path=f"files/{sha256[:16]}/{wheel.name}",
        sha256=sha256,
        size=wheel.stat().st_size,
        requires_python=_requires_python(wheel),
        uploaded=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )


def _requires_python(wheel: Path) -> str | None:
    try:
        with zipfile.ZipFile(wheel) as zf:
            name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA") and n.count("/") == 1)
            return HeaderParser().parsestr(zf.read(name).decode("utf-8")).get("Requires-Python")
    except (zipfile.BadZipFile, StopIteration, OSError) as exc:
        raise ContainerError(f"{wheel}: not a readable wheel ({exc})") from None


def publish(store: Store, wheels: Sequence[Path], *, overwrite: bool = False, keep: int | None = None) -> PublishResult:
    """Upload ``wheels``, prune to the newest ``keep`` versions per project, rebuild the index.

    A different file under a name already published is refused (before anything is
    written) unless ``overwrite``; the same file again is a no-op.
    """
    result = PublishResult()
    files = [describe(w) for w in wheels]
    claims = {f.filename: _claim(store, f.filename) for f in files}
    conflicts = [f.filename for f in files if claims[f.filename] and claims[f.filename].sha256 != f.sha256]
    if conflicts and not overwrite:
        raise ContainerError(
            f"container {store.url} already has different files named {', '.join(conflicts)}",
            "publish with --overwrite to replace them",
        )
    replaced = []
    for wheel, f in zip(wheels, files):
        old = claims[f.filename]
        if old and old.sha256 == f.sha256:
            result.unchanged.append(f.filename)
            continue
        store.put(f.path, wheel, "application/octet-stream", sha256=f.sha256)
        if not store.put(CLAIMS + f.filename + ".json", _encode(f), "application/json", if_absent=old is None):
            raced = _claim(store, f.filename)
            if raced is None or raced.sha256 != f.sha256:
                raise ContainerError(f"container {store.url}: another publisher stored a different {f.filename} at the same time")
            result.unchanged.append(f.filename)
            continue
        if old:
            replaced.append(old.path)
        result.uploaded.append(f.filename)
    pruned = _prune_claims(store, keep) if keep is not None else []
    result.pruned = sorted(f.filename for f in pruned)
    rebuild_index(store)  # the pages stop linking replaced and pruned files before their bytes go
    for path in [*replaced, *(f.path for f in pruned)]:
        store.delete(path)
    return result


def _claim(store: Store, filename: str) -> IndexedFile | None:
    data = store.get(CLAIMS + filename + ".json")
    return IndexedFile(**json.loads(data)) if data else None


def _encode(f: IndexedFile) -> bytes:
    return json.dumps(asdict(f), indent=1).encode()


def _prune_claims(store: Store, keep: int) -> list[IndexedFile]:
    """Drop the claims of all but the newest ``keep`` versions of each project; returns
    the files dropped, whose bytes may go once the index no longer links them."""
    by_project: dict[str, list[IndexedFile]] = defaultdict(list)
    for f in _claims(store, store.list(CLAIMS)):
        by_project[f.project].append(f)
    pruned = []
    for files in by_project.values():
        versions = sorted({Version(f.version) for f in files}, reverse=True)
        old = set(versions[max(keep, 1):])  # never the newest
        for f in files:
            if Version(f.version) in old:
                store.delete(CLAIMS + f.filename + ".json")
                pruned.append(f)
    return pruned


def _claims(store: Store, listing: dict[str, int]) -> list[IndexedFile]:
    files = []
    for key in sorted(listing):
        if key.startswith(CLAIMS) and key.endswith(".json"):
            data = store.get(key)
            if data:
                files.append(IndexedFile(**json.loads(data)))
    return files


def _state(listing: dict[str, int]) -> set[tuple[str, int]]:
    return {(k, v) for k, v in listing.items() if k.startswith((CLAIMS, "files/"))}


def rebuild_index(store: Store) -> list[IndexedFile]:
    """Rewrite every index page from the container's contents; returns the files indexed."""
    listing = store.list()
    for _ in range(REBUILD_ATTEMPTS):
        files = [f for f in _claims(store, listing) if listing.get(f.path) == f.size]
        _write_index(store, files, listing)
        after = store.list()
        if _state(after) == _state(listing):
            return files
        listing = after
    raise ContainerError(f"container {store.url}: the index kept changing under concurrent publishers; publish again")


def _write_index(store: Store, files: list[IndexedFile], listing: dict[str, int]) -> None:
    by_project: dict[str, list[IndexedFile]] = defaultdict(list)
    for f in files:
        by_project[f.project].append(f)
    for project, project_files in by_project.items():
        store.put(f"simple/{project}/index.html", project_html(project, project_files).encode(), HTML_TYPE)
        store.put(f"simple/{project}/index.json", project_json(project, project_files).encode(), JSON_TYPE)
    store.put("simple/index.html", root_html(list(by_project)).encode(), HTML_TYPE)
    store.put("simple/index.json", root_json(list(by_project)).encode(), JSON_TYPE)
    store.put("index.html", listing_html(files).encode(), HTML_TYPE)
    for key in listing:  # pages of projects that have no files left
        parts = key.split("/")
        if len(parts) == 3 and parts[0] == "simple" and parts[1] not in by_project:
            store.delete(key)


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
