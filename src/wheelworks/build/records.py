"""Build records: ``builds/<id>/record.json`` plus a log per target per step.

Records are never overwritten by later builds; ``latest`` names the newest one.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from wheelworks.config.names import component_problem
from wheelworks.shared import atomic, owners
from wheelworks.shared.errors import RecordsError
from wheelworks.shared.masking import mask

RECORD_NAME = "record.json"

StepStatus = Literal["ok", "failed", "interrupted"]
TargetStatus = Literal["pending", "running", "ok", "failed", "missing", "interrupted"]
BuildStatus = Literal["running", "ok", "failed", "interrupted"]  # shown as "abandoned" when its process is gone


@dataclass
class StepRecord:
    name: str
    status: StepStatus
    seconds: float
    log: str  # relative to the build's folder
    error: str | None = None


@dataclass
class TargetRecord:
    identifier: str
    python: str
    interpreter: str | None = None
    status: TargetStatus = "pending"
    wheel: str | None = None
    tags: list[str] = field(default_factory=list)
    sha256: str | None = None
    size: int | None = None
    ccache: dict[str, int] | None = None  # compiler cache hits and misses of the build step
    built_by: str | None = None  # for a limited-API wheel tested here: the target that built it
    key: str | None = None  # the input key (inputs.py): equal keys, equal wheels
    build_requires: list[str] = field(default_factory=list)  # what its build environment held, name==version
    build_requires_at: float | None = None  # when they were resolved (a fresh runner may take that resolution)
    build_requires_of: str | None = None  # the digest of the interpreter and requirements they were resolved from
    reused_from: str | None = None  # the build whose wheel this target reused, nothing having changed
    vendored: list[str] = field(default_factory=list)  # recipe libraries the test loaded from the wheel itself
    host_copies: list[str] = field(default_factory=list)  # recipe libraries the policy leaves to the host (libz.so.1)
    host_libraries: list[str] = field(default_factory=list)  # grafted by the repair, built by no recipe
    kept: str | None = None  # a wheel that failed its test or checks, kept in the build's folder (never delivered)
    components: list[str] = field(default_factory=list)  # what the wheel's SBOM lists, a line each
    warnings: list[str] = field(default_factory=list)  # said at the end of the build (a glibc few can install)
    steps: list[StepRecord] = field(default_factory=list)
    # Seconds by phase (resolving build requirements, the build environment, the backend
    # and compiler, the repair tool, the test venv…), adding up to the target's time.
    phases: dict[str, float] = field(default_factory=dict)


@dataclass
class LibraryRecord:
    name: str
    version: str
    key: str
    prefix: str
    cached: bool
    seconds: float
    log: str


@dataclass
class BuildRecord:
    id: str
    project: str
    repo: str
    ref: str
    config: str
    config_digest: str
    platform: str
    started: float
    commit: str | None = None
    finished: float | None = None
    status: BuildStatus = "running"
    error: str | None = None
    wheelhouse: str | None = None
    libraries: list[LibraryRecord] = field(default_factory=list)
    targets: list[TargetRecord] = field(default_factory=list)
    matrix: list[str] = field(default_factory=list)  # the CPythons selected: "3.12", "3.14t"
    source: str | None = None  # the source's identity: git tree hash at the build commit, or a digest
    matrix_source: str | None = None  # where that selection came from
    toolchain: str | None = None  # "zig 0.17.1 for x86_64-linux-gnu.2.17" when [build] toolchain says zig
    toolchain_seconds: float = 0.0  # what making it ready took (its first use per target compiles libc++)
    phases: dict[str, float] = field(default_factory=dict)  # wall seconds: the ref, checkout, keys, libraries, targets
    pid: int | None = None  # the process that runs the build, while it runs
    host: str | None = None

    def shown_status(self) -> BuildStatus | Literal["abandoned"]:
        """The status, with a "running" build whose process is gone shown as "abandoned"."""
        if self.status == "running" and owners.gone(self.pid, self.host):
            return "abandoned"
        return self.status

    def to_json(self) -> str:
        """The record as stored and published: every registered secret masked."""
        return mask(json.dumps(asdict(self), indent=2)) + "\n"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BuildRecord:
        targets = [
            TargetRecord(**{**t, "steps": [StepRecord(**s) for s in t["steps"]]}) for t in data["targets"]
        ]
        libraries = [LibraryRecord(**lib) for lib in data["libraries"]]
        return cls(**{**data, "targets": targets, "libraries": libraries})


class Records:
    def __init__(self, root: Path) -> None:
        self.root = root

    def new_id(self) -> str:
        """A new build id, its folder claimed so that builds started together never share one."""
        self.root.mkdir(parents=True, exist_ok=True)
        while True:
            now = time.time_ns() // 1000  # to the microsecond: ids sort in the order builds started ("latest")
            stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now / 1e6))
            build_id = f"{stamp}{now % 1_000_000:06d}-{os.urandom(2).hex()}"
            try:
                self.folder(build_id).mkdir()
            except FileExistsError:
                continue
            return build_id

    def folder(self, build_id: str) -> Path:
        return self.root / build_id

    def log(self, build_id: str, *parts: str) -> Path:
        """The log file ``logs/<parts...>.log`` of a build, its folder created."""
        path = self.folder(build_id).joinpath("logs", *parts[:-1], f"{parts[-1]}.log")  # "3.13" keeps its dot
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def save(self, record: BuildRecord) -> Path:
        path = self.folder(record.id) / RECORD_NAME
        atomic.write_text(path, record.to_json())
        return path

    def recent(self, count: int = 50, but: str | None = None) -> list[BuildRecord]:
        """The last ``count`` records, oldest first, without build ``but`` (the one running)."""
        return [self.load(i) for i in self.ids()[-count:] if i != but]

    def ids(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.parent.name for p in self.root.glob(f"*/{RECORD_NAME}"))

    def load(self, build_id: str) -> BuildRecord:
        """The record ``build_id`` names: a full id, a unique prefix of one, or ``latest``."""
        if component_problem(build_id):
            raise RecordsError(f"build id {build_id!r} is not a build id", "see `wheelworks builds`")
        if build_id != "latest" and (self.folder(build_id) / RECORD_NAME).is_file():
            return self._read(build_id)  # a full id: no need to list the others
        ids = self.ids()
        matches = ids[-1:] if build_id == "latest" else [i for i in ids if i.startswith(build_id)]
        if len(matches) != 1:
            what = "no build" if not matches else f"{len(matches)} builds"
            raise RecordsError(f"{what} matching '{build_id}' in {self.root}", "see `wheelworks builds`")
        return self._read(matches[0])

    def _read(self, build_id: str) -> BuildRecord:
        path = self.folder(build_id) / RECORD_NAME
        try:
            record = BuildRecord.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise RecordsError(f"{path}: not a readable build record ({type(exc).__name__}: {exc})") from None
        if record.id != build_id:  # its id names folders where it is published: it must be its own
            raise RecordsError(f"{path}: says it is build {record.id!r}, not {build_id!r}")
        return record


    def delivering(self, wheels: set[str]) -> list[BuildRecord]:
        """The readable records of builds that delivered any of these wheel file names."""
        found = []
        for build_id in self.ids():
            try:
                record = self._read(build_id)
            except RecordsError:
                continue
            if wheels & {t.wheel for t in record.targets if t.status == "ok"}:
                found.append(record)
        return found

    def logs(self, record: BuildRecord, target: str | None) -> tuple[Path, list[Path]]:
        """A build's logs folder and its log files: all of them, or one target's (or
        "source", "libraries")."""
        logs = self.folder(record.id) / "logs"
        folder = logs / target if target else logs
        single = folder.with_suffix(".log")
        files = [single] if target and single.is_file() else sorted(folder.rglob("*.log"))
        if not files:
            known = ", ".join(t.identifier for t in record.targets)
            raise RecordsError(f"build {record.id} has no logs for '{target}'", f"targets: {known}, source, libraries")
        return logs, files
