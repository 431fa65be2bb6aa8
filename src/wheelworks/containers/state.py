"""What a container holds, read back from its claims and completion markers, and what
follows from it: the index pages, rebuilt from the claims, and the sweep of bytes no
claim names. The layout itself is in ``containers/__init__``; ``publish`` decides and
writes through these.
"""

from __future__ import annotations

import json
import random
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from packaging.utils import parse_wheel_filename

from wheelworks.containers import CLAIMS, COMPLETE, FILES, META, RECORDS, SCRATCH, SIMPLE, Store, claim_key
from wheelworks.containers.index import (
    HTML_TYPE, JSON_TYPE, IndexedFile, listing_html, project_html, project_json, root_html, root_json,
)
from wheelworks.errors import ContainerError

REBUILD_ATTEMPTS = 30
ORPHAN_GRACE = 3600.0  # seconds unclaimed bytes may wait for the claim a live publisher is about to write

Tags = frozenset[tuple[str, str]]  # (python tag, platform tag) pairs a wheel serves


def tags_of(filename: str) -> Tags:
    return frozenset((t.interpreter, t.platform) for t in parse_wheel_filename(filename)[3])


def claim(store: Store, filename: str) -> IndexedFile | None:
    """The claim stored for ``filename``: which bytes own that name, or None."""
    data = store.get(claim_key(filename))
    return IndexedFile(**json.loads(data)) if data else None


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
        marker = json.loads(data)
        complete[(marker["project"], marker["version"])] |= frozenset(tuple(t) for t in marker["tags"])
    return ContainerState(tuple(claims), dict(complete), partial)


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
