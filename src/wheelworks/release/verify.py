"""``wheelworks verify``: rebuild a wheel from what its record says, and compare.

A build is reproducible (``build/reproducible.py``), so the same commit, recipes, config and
CPython give the same bytes. ``verify`` finds the build record that made the wheel (by its
sha256, else by its file name, for a wheel that was changed since), rebuilds that one
target in a temporary folder with the record's commit, and compares the two wheels member
by member.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlparse

from wheelworks.build.pipeline import BuildOptions, build_wheels
from wheelworks.config.model import Config, with_build_commit
from wheelworks.config.settings import Settings
from wheelworks.containers import FILES, SIMPLE
from wheelworks.containers.client import Index, PageIndex
from wheelworks.shared import atomic
from wheelworks.shared.downloads import url_chunks
from wheelworks.shared.errors import VerifyError
from wheelworks.shared.hashes import file_sha256, stream_sha256
from wheelworks.shared.paths import is_url


@dataclass(frozen=True)
class Origin:
    """The build that made a wheel: its record's id, commit, config digest and target."""

    build: str
    commit: str
    config_digest: str
    identifier: str
    same_bytes: bool  # the record's sha256 is the wheel's


@dataclass(frozen=True)
class Verdict:
    origin: Origin
    rebuilt: str  # the rebuilt wheel's file name
    differences: tuple[str, ...]  # members that differ, or are in one wheel only

    @property
    def identical(self) -> bool:
        return not self.differences


def origin_of(wheel_name: str, sha256: str, records: Iterable[Mapping[str, Any]]) -> Origin | None:
    """The newest passing target of ``records`` that delivered ``wheel_name``: preferably
    with these bytes; else by name alone (then the bytes were changed after the build)."""
    by_name = None
    for record in sorted(records, key=lambda r: str(r.get("id", "")), reverse=True):
        commit, digest = record.get("commit"), record.get("config_digest")
        if not isinstance(commit, str) or not isinstance(digest, str):
            continue  # a folder or sdist build: nothing to rebuild from
        for target in record.get("targets", []):
            if not isinstance(target, Mapping) or target.get("wheel") != wheel_name or target.get("status") != "ok":
                continue
            origin = Origin(str(record["id"]), commit, digest, str(target.get("built_by") or target["identifier"]),
                            target.get("sha256") == sha256)
            if origin.same_bytes:
                return origin
            by_name = by_name or origin
    return by_name


def fetch(location: str, folder: Path) -> tuple[Path, Index | None]:
    """The wheel ``location`` names, downloaded into ``folder`` if it is a URL, and for a
    URL the container it was served from (its records say who built it)."""
    if not is_url(location) or location.startswith("file:"):
        path = Path(unquote(urlparse(location).path) if location.startswith("file:") else location).expanduser()
        if not path.is_file():
            raise VerifyError(f"{location}: no such wheel file")
        return path.resolve(), None
    name = unquote(urlparse(location).path.rsplit("/", 1)[-1])
    path = folder / name
    try:
        atomic.write_bytes(path, url_chunks(location))
    except OSError as exc:
        raise VerifyError(f"{location}: cannot download: {exc}") from None
    root = location.split(f"/{FILES}", 1)[0] + "/" if f"/{FILES}" in location else location.rsplit("/", 1)[0] + "/"
    return path, PageIndex(urljoin(root, SIMPLE))


def differences(a: Path, b: Path) -> list[str]:
    """The members whose bytes differ between two wheels, or that one of them lacks."""
    with zipfile.ZipFile(a) as left, zipfile.ZipFile(b) as right:
        ours, theirs = _digests(left), _digests(right)
    return sorted(name for name in ours.keys() | theirs.keys() if ours.get(name) != theirs.get(name))


def _digests(zf: zipfile.ZipFile) -> dict[str, str]:
    found = {}
    for info in zf.infolist():
        if info.is_dir():
            continue
        with zf.open(info) as data:
            found[info.filename] = stream_sha256(data)
    return found


def verify(wheel: Path, config: Config, records: Iterable[Mapping[str, Any]], settings: Settings) -> Verdict:
    """Rebuild ``wheel``'s target as its record says, in a temporary folder, and compare."""
    origin = origin_of(wheel.name, file_sha256(wheel), records)
    if origin is None:
        raise VerifyError(f"{wheel.name}: no build record delivered it",
                          "give the container it was published to (--container, or its URL)")
    if origin.config_digest != config.digest:
        raise VerifyError(f"{wheel.name}: build {origin.build} used another config than {config.path.name} "
                          f"(digest {origin.config_digest[:12]}…, this one {config.digest[:12]}…)",
                          "check out the wheels repository as it was at that build, then verify again")
    with tempfile.TemporaryDirectory(prefix="wheelworks-verify-") as tmp:
        options = BuildOptions(wheelhouse=Path(tmp) / "wheelhouse", builds_dir=Path(tmp) / "builds", settings=settings,
                               only=origin.identifier, rebuild=True, jobs=1, commit=origin.commit)
        record = build_wheels(with_build_commit(config, origin.commit, f"build {origin.build}'s commit"), options)
        built = next((t for t in record.targets if t.status == "ok" and t.wheel), None)
        if built is None or built.wheel is None:
            raise VerifyError(f"{wheel.name}: the rebuild of {origin.identifier} at {origin.commit[:12]} failed: "
                              f"{record.error or record.status}", f"see {options.builds_dir / record.id}")
        rebuilt = options.wheelhouse / built.wheel
        found = differences(wheel, rebuilt) if built.wheel == wheel.name else ["(the file name)", *differences(wheel, rebuilt)]
        return Verdict(origin, built.wheel, tuple(found))
