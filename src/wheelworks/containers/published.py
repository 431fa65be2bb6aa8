"""What a container has published, read as anyone can read it: the tested wheels a
build may take instead of making them again, and how fresh its newest build is.

A build job on CI starts on an empty machine, but the container its branch publishes to
holds the wheels of earlier runs and the records that tested them. They are read without
secrets: through the container's public URL when it has one, else from its store with
whatever credentials the environment gives (none, on a generated build job). The build
takes a wheel only when a record's input key equals the target's, and only the bytes
whose sha256 that record tested (build.inputs.Published says how it asks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wheelworks.build.records import BuildRecord
from wheelworks.config.model import Config, ContainerConfig, container_for
from wheelworks.config.settings import Settings
from wheelworks.containers import open_store
from wheelworks.containers.client import ContainerIndex, Index, PageIndex, RemoteFile
from wheelworks.shared.downloads import save_verified
from wheelworks.shared.errors import ConfigError, ContainerError, HashMismatch, WheelworksError

NEWEST = 50  # published builds looked at: as many as the local reuse looks back


@dataclass
class ContainerWheels:
    """One project's published wheels and records, each read once, when first asked."""

    index: Index
    project: str
    where: str
    _records: list[BuildRecord] | None = field(default=None, init=False)
    _files: dict[str, RemoteFile] | None = field(default=None, init=False)

    def records(self) -> list[BuildRecord]:
        if self._records is None:
            try:
                stored = self.index.records(NEWEST)
            except (WheelworksError, OSError) as exc:
                raise ContainerError(f"cannot read its build records: {exc}") from None
            self._records = sorted((r for r in map(_parsed, stored) if r and r.project == self.project
                                    and r.status == "ok"), key=lambda r: r.id)
        return self._records

    def save(self, wheel: str, sha256: str, dest: Path) -> None:
        if self._files is None:
            self._files = {f.filename: f for f in self.index.files(self.project)}
        found = self._files.get(wheel)
        if found is None:
            raise ContainerError("it is no longer in the container (pruned?)")
        if found.sha256 and found.sha256 != sha256:  # the index already says the bytes changed
            raise HashMismatch("the index's hash", sha256, found.sha256)
        save_verified(self.index.chunks(found), dest, sha256, "the container's bytes")


@dataclass(frozen=True)
class Freshness:
    """How long ago a container's newest passing build of the project finished."""

    container: str
    newest: str | None  # its build id; None: the container holds no build of the project
    age_days: float | None
    stale_after: int | None  # [containers.NAME] stale-after

    @property
    def stale(self) -> bool:
        return self.stale_after is not None and (self.age_days is None or self.age_days > self.stale_after)

    def describe(self) -> str:
        if self.newest is None or self.age_days is None:
            what = "holds no passing build of the project"
        else:
            what = f"newest build {self.newest}, {self.age_days:.1f} days ago"
        limit = f"stale after {self.stale_after} days" if self.stale_after is not None else "no stale-after set"
        return f"{self.container}: {'STALE: ' if self.stale else ''}{what} ({limit})"


def freshness(config: Config, container: ContainerConfig, settings: Settings, now: float) -> Freshness:
    records = ContainerWheels(_index(container, config, settings), config.project.name, container.name).records()
    newest = max(records, key=lambda r: r.finished or r.started, default=None)
    age = (now - (newest.finished or newest.started)) / 86400.0 if newest else None
    return Freshness(container.name, newest.id if newest else None, age, container.stale_after)


def published_wheels(config: Config, ref: str, settings: Settings) -> ContainerWheels | None:
    """The wheels of the container builds of ``ref`` are published to, or None when no
    container takes them (a branch that is never published)."""
    try:
        container = container_for(config, ref)
    except ConfigError:
        return None
    return ContainerWheels(_index(container, config, settings), config.project.name, f"container {container.name}")


def _index(container: ContainerConfig, config: Config, settings: Settings) -> Index:
    if container.public_url:
        return PageIndex(container.public_url, optional=True)
    # The environment's credentials only: the config's encrypted ones are for the publish job.
    return ContainerIndex(open_store(container.url, endpoint=container.endpoint, base=config.root,
                                     credentials=settings.s3))


def _parsed(data: dict[str, Any]) -> BuildRecord | None:
    """A stored record, or None for one of another shape: evidence of nothing."""
    try:
        return BuildRecord.from_json(data)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
