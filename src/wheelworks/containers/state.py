"""What a container holds, read back from its claims and completion markers, and what
follows from it: the index pages, rebuilt from the claims, and the sweep of bytes no
claim names. The layout itself is in ``containers/__init__``; ``publish`` decides and
writes through these.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from wheelworks.containers import CLAIMS, COMPLETE, FILES, META, RECORDS, SCRATCH, SIMPLE, Store, claim_key, file_key
from wheelworks.containers.index import (
    HTML_TYPE,
    JSON_TYPE,
    IndexedFile,
    listing_html,
    project_html,
    project_json,
    root_html,
    root_json,
)
from wheelworks.shared.errors import ContainerError
from wheelworks.shared.hashes import digest

REBUILD_ATTEMPTS = 30
INDEXED = META + "indexed"  # the state (claims and files) the index pages were written from
ORPHAN_GRACE = 3600.0  # seconds unclaimed bytes may wait for the claim a live publisher is about to write

Tags = frozenset[tuple[str, str]]  # (python tag, platform tag) pairs a wheel serves


def tags_of(filename: str) -> Tags:
    return frozenset((t.interpreter, t.platform) for t in parse_wheel_filename(filename)[3])


def identity(filename: str) -> tuple[str, str, frozenset[str]] | None:
    """What a wheel file name means, however it is spelled (``Synth_Pkg``, ``synth.pkg``):
    its normalised name, version and tags; None for a name that is not a wheel's. An
    installer sees two spellings as one wheel, so a container holds one of them."""
    try:
        name, version, build, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        return None
    return canonicalize_name(name), f"{version}-{build}" if build else str(version), frozenset(map(str, tags))


def spelling_conflicts(filenames: Iterable[str], present: Iterable[str]) -> list[str]:
    """Each of ``filenames`` that names the same wheel as another spelling among them or
    in ``present``, as "new (as existing)"."""
    seen: dict[tuple[str, str, frozenset[str]], str] = {}
    for name in present:
        if (key := identity(name)) is not None:
            seen.setdefault(key, name)
    conflicts = []
    for name in filenames:
        key = identity(name)
        if key is None:
            continue
        other = seen.setdefault(key, name)
        if other != name:
            conflicts.append(f"{name} (as {other})")
    return conflicts


def claim(store: Store, filename: str) -> IndexedFile | None:
    """The claim stored for ``filename``: which bytes own that name, or None."""
    key = claim_key(filename)
    data = store.get(key)
    return decode_claim(store, key, data) if data else None


_HEX64 = re.compile(r"[0-9a-f]{64}")


def decode_claim(store: Store, key: str, data: bytes) -> IndexedFile:
    """The claim stored under ``key``, checked against the container's layout before
    anything reads, writes or deletes what it names: a claim names its own wheel file
    name, that wheel's project and version, and the content-addressed path of its bytes."""
    try:
        fields = json.loads(data)
        found = IndexedFile(**fields) if isinstance(fields, dict) else None
    except (ValueError, TypeError):
        found = None
    problem = "is not a claim (JSON of a file's name, hashes and path)" if found is None else _claim_problem(key, found)
    if problem:
        raise ContainerError(f"container {store.url}: {key} {problem}",
                             "remove it (wheelworks did not write it), then publish again")
    assert found is not None
    return found


def _claim_problem(key: str, found: IndexedFile) -> str | None:
    strings = (found.filename, found.project, found.version, found.path, found.sha256, found.uploaded)
    if not all(isinstance(v, str) for v in strings) or not isinstance(found.size, int) or found.size < 0:
        return "has fields of the wrong type"
    if not all(v is None or isinstance(v, str) for v in (found.requires_python, found.metadata_sha256)):
        return "has fields of the wrong type"
    if "/" in found.filename or "\\" in found.filename or claim_key(found.filename) != key:
        return f"claims the file name {found.filename!r}, not its own"
    try:
        name, version, _, _ = parse_wheel_filename(found.filename)
    except InvalidWheelFilename:
        return f"claims {found.filename!r}, which is not a wheel file name"
    if (found.project, found.version) != (canonicalize_name(name), str(version)):
        return f"says {found.project} {found.version} of {found.filename}"
    if not _HEX64.fullmatch(found.sha256) or (found.metadata_sha256 and not _HEX64.fullmatch(found.metadata_sha256)):
        return "has a sha256 that is not 64 hex digits"
    if found.path != file_key(found.sha256, found.filename):
        return f"names the path {found.path!r}, not {file_key(found.sha256, found.filename)!r} of its bytes"
    return None


def by_version(files: Iterable[IndexedFile]) -> dict[tuple[str, str], list[IndexedFile]]:
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
        for key, group in by_version(files).items():
            complete[key] = complete.get(key, frozenset()) | frozenset(t for f in group for t in tags_of(f.filename))
        claims = tuple(c for c in self.claims if c.filename not in names) + tuple(files)
        return ContainerState(claims, complete, self.partial)


def read_state(store: Store) -> ContainerState:
    listing = store.list(META)
    claims, partial = _claims(store, listing)
    complete: dict[tuple[str, str], Tags] = defaultdict(frozenset)
    for key in sorted(k for k in listing if k.startswith(COMPLETE) and k.endswith(".json")):
        data = store.get(key)
        if data is None:
            partial = True
            continue
        project, version, tags = _decode_marker(store, key, data)
        complete[(project, version)] |= tags
    return ContainerState(tuple(claims), dict(complete), partial)


def _decode_marker(store: Store, key: str, data: bytes) -> tuple[str, str, Tags]:
    """A completion marker's (project, version, tags), or one line on what is wrong with it."""
    try:
        marker = json.loads(data)
        project, version, tags = marker["project"], marker["version"], marker["tags"]
        pairs = frozenset((str(t[0]), str(t[1])) for t in tags if isinstance(t, list) and len(t) == 2)
        if isinstance(project, str) and isinstance(version, str) and isinstance(tags, list) and len(pairs) == len(tags):
            return project, version, pairs
    except (ValueError, TypeError, KeyError):
        pass
    raise ContainerError(f"container {store.url}: {key} is not a completion marker (project, version and tags)",
                         "remove it (wheelworks did not write it), then publish again")


def by_project(files: Iterable[IndexedFile]) -> dict[str, list[IndexedFile]]:
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
            files.append(decode_claim(store, key, data))
    return files, partial


def _state(listing: Mapping[str, int]) -> set[tuple[str, int]]:
    return {(k, v) for k, v in listing.items() if k.startswith((CLAIMS, FILES))}


def marker_key(project: str, version: str, filenames: Iterable[str]) -> str:
    """Where the completion marker of a publish of these files of one version goes."""
    return f"{COMPLETE}{project}/{version}/{digest(sorted(filenames))[:16]}.json"


def _indexed_digest(listing: Mapping[str, int]) -> str:
    # The pages follow the claims (a file is indexed once claimed; its bytes come first), so
    # bytes the sweep or a prune removes later, which no claim names, leave them current.
    return digest(sorted((k, v) for k, v in listing.items() if k.startswith(CLAIMS)))


def index_current(store: Store) -> bool:
    """Whether the index pages were last written from what the container holds now: not
    after a publish or prune killed between its claims and its index."""
    written = store.get(INDEXED)
    return written is not None and written.decode("utf-8", "replace") == _indexed_digest(store.list())


def rebuild_index(store: Store) -> list[IndexedFile]:
    """Rewrite every index page from the container's contents; returns the files indexed."""
    listing = store.list()
    for attempt in range(REBUILD_ATTEMPTS):
        claims, _ = _claims(store, listing)
        files = [f for f in claims if listing.get(f.path) == f.size]
        _write_index(store, files, listing)
        after = store.list()
        if _state(after) == _state(listing):
            store.put(INDEXED, _indexed_digest(after).encode(), "text/plain")  # last: the pages are done
            return files
        listing = after
        time.sleep(random.uniform(0, 0.05 * (attempt + 1)))  # let concurrent publishers fall out of step
    raise ContainerError(f"container {store.url}: the index kept changing under concurrent publishers; publish again")


def _write_index(store: Store, files: list[IndexedFile], listing: Mapping[str, int]) -> None:
    projects = by_project(files)
    for project, project_files in projects.items():
        store.put(f"{SIMPLE}{project}/index.html", project_html(project, project_files).encode(), HTML_TYPE)
        store.put(f"{SIMPLE}{project}/index.json", project_json(project, project_files).encode(), JSON_TYPE)
    store.put(f"{SIMPLE}index.html", root_html(list(projects)).encode(), HTML_TYPE)
    store.put(f"{SIMPLE}index.json", root_json(list(projects)).encode(), JSON_TYPE)
    has_builds = any(k.startswith(RECORDS) and k.endswith("/record.json") for k in listing)
    store.put("index.html", listing_html(files, builds=has_builds).encode(), HTML_TYPE)
    records = sorted(k for k in listing if k.startswith(RECORDS) and k.endswith("/record.json"))
    store.put(f"{RECORDS}index.json", json.dumps({"records": records}, indent=1).encode(), JSON_TYPE)
    for key in listing:  # pages of projects that have no files left
        parts = key.split("/")
        if len(parts) == 3 and f"{parts[0]}/" == SIMPLE and parts[1] not in projects:
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
    owner = claim(store, wheel_key.rsplit("/", 1)[-1])
    return owner is None or owner.path != wheel_key
