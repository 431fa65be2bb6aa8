"""What a target's wheel depends on, as one key: equal keys, equal wheels.

A target whose key matches an earlier passing target, whose wheel is still there with its
recorded sha256, is reused: no build, repair or test. The key covers the source tree at
the build commit (a git tree hash, or a digest of a folder or sdist), every config value
that reaches the target (build environment values hashed, never kept in clear), the
libraries' recipe keys, the interpreter (path, version, ABI and build), the image a CI job
builds in (by digest), and the versions of wheelworks and of the repair tool.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Protocol

from wheelworks.build.interpreters import Interpreter
from wheelworks.build.records import BuildRecord, TargetRecord
from wheelworks.config.model import Config
from wheelworks.shared.hashes import digest, file_sha256

_TOOLS = ("wheelworks", "auditwheel", "delocate", "delvewheel", "build", "abi3audit")


def tool_versions() -> dict[str, str]:
    versions = {}
    for name in _TOOLS:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def target_key(config: Config, identifier: str, source: str, library_keys: Sequence[str],
               interpreter: Interpreter, frontend: str, build_requires: Sequence[str], tools: Mapping[str, str],
               image: str | None) -> str:
    """The input key of one target."""
    build = config.build
    return digest({
        "identifier": identifier,
        "source": source,
        "subdir": config.project.subdir,
        "environment": {k: hashlib.sha256(v.encode()).hexdigest() for k, v in sorted(build.environment.items())},
        "before-build": build.before_build,
        "config-settings": dict(sorted(build.config_settings.items())),
        "frontend": frontend,
        "build-requires": list(build_requires),
        "abi3": build.abi3,
        "repair-exclude": list(build.repair_exclude),
        "manylinux": build.manylinux,
        "toolchain": build.toolchain,
        "test": asdict(config.test),
        "libraries": list(library_keys),
        "licenses": {recipe.name: recipe.license for recipe in config.libraries},
        "interpreter": {"path": str(interpreter.path), "version": interpreter.version,
                        "free-threaded": interpreter.free_threaded, "build": interpreter.build},
        "tools": dict(tools),
        **({"image": image} if image else {}),  # a key made without an image stays as it was
    })


def candidates(key: str, records: Sequence[BuildRecord]) -> Iterator[tuple[BuildRecord, TargetRecord]]:
    """Passing targets with this key and a recorded wheel, newest first."""
    for record in reversed(records):
        for target in record.targets:
            if target.key == key and target.status == "ok" and target.wheel and target.sha256:
                yield record, target


def wheelhouse_sha256(wheelhouse: Path) -> Callable[[str], str | None]:
    """A wheel file name's sha256 in ``wheelhouse``, None if it is not there: what
    ``reusable`` checks a record against."""
    def sha256(name: str) -> str | None:
        path = wheelhouse / name
        return file_sha256(path) if path.is_file() else None
    return sha256


def reusable(key: str, records: Sequence[BuildRecord],
             wheel_sha256: Callable[[str], str | None]) -> tuple[BuildRecord, TargetRecord] | None:
    """The newest earlier passing target with this key whose wheel is still there with its
    recorded sha256 (``wheel_sha256``: a wheelhouse file's hash, None if it is gone)."""
    return next(((r, t) for r, t in candidates(key, records) if wheel_sha256(str(t.wheel)) == t.sha256), None)


class Published(Protocol):
    """Wheels published elsewhere with the records of the builds that tested them
    (containers.reuse reads a container), for a build that may take them instead of
    building: it checks every byte against the record."""

    where: str  # for messages and records

    def records(self) -> Sequence[BuildRecord]:
        """The passing build records it holds, oldest first."""

    def save(self, wheel: str, sha256: str, dest: Path) -> None:
        """The wheel's bytes to ``dest``, kept only if their sha256 is ``sha256``
        (HashMismatch otherwise); WheelworksError if they cannot be read."""
