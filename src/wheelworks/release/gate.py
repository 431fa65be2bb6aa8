"""The release gate: a version's wheels checked against the build records that tested them.

A wheel passes only if a stored build record's own test step passed on its exact bytes
(from the release tag's commit, when the tag is known); given the config, every target it
selects must have its wheel. ``refused`` says what each flag may waive: ``--partial``
waives missing targets, nothing waives untested or different bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from wheelworks.build.source import resolve
from wheelworks.build.targets import build_matrix, platform_targets, serves
from wheelworks.config.model import Config
from wheelworks.containers.client import RemoteFile
from wheelworks.shared.cache import Cache
from wheelworks.shared.errors import ReleaseError, SourceError


@dataclass(frozen=True)
class Gate:
    """The release gate's verdict: what is missing, what differs, what no build tested."""

    missing: tuple[str, ...] = ()  # selected targets with no wheel of the version
    different: tuple[str, ...] = ()  # wheels whose bytes or commit are not what a record says
    untested: tuple[str, ...] = ()  # wheels no stored build record tested

    @property
    def complete(self) -> bool:
        return not (self.missing or self.different or self.untested)

    def describe(self) -> str:
        parts = []
        if self.missing:
            parts.append(f"no wheel for {', '.join(self.missing)}")
        if self.different:
            parts.append("; ".join(self.different))
        if self.untested:
            parts.append(f"no build record tested {', '.join(self.untested)}")
        return "; ".join(parts) or "every selected target has its wheel, each the bytes its build tested"


def gate(files: Sequence[RemoteFile], records: Sequence[Mapping[str, Any]], expected: Sequence[str] | None,
         tag_commit: str | None) -> Gate:
    """Check ``files`` against the build ``records`` stored beside them: each wheel's sha256
    must be one a build tested (and that build's commit ``tag_commit``, when known); with
    ``expected`` target identifiers, each must have a wheel. A target that reused an
    earlier build's wheel tested nothing: the earlier record is the evidence."""
    tested: dict[str, list[Tested]] = {}
    for record in records:
        for run_ in tested_wheels(record):
            tested.setdefault(run_.wheel, []).append(run_)
    different, untested = [], []
    for file in files:
        runs = tested.get(file.filename)
        if not runs:
            untested.append(file.filename)
            continue
        if not any(run_.sha256 == file.sha256 for run_ in runs):
            different.append(f"{file.filename} is not the bytes build {runs[-1].build} tested "
                             f"(sha256 {str(file.sha256)[:12]}…, tested {runs[-1].sha256[:12]}…)")
        elif tag_commit and not any(r.sha256 == file.sha256 and r.commit == tag_commit for r in runs):
            different.append(f"{file.filename} was built from {str(runs[-1].commit)[:12]}, "
                             f"not the release tag's commit {tag_commit[:12]}")
    missing = [i for i in expected or () if not any(serves(i, f.filename) for f in files)]
    return Gate(tuple(missing), tuple(different), tuple(untested))


@dataclass(frozen=True)
class Tested:
    """One wheel a build's test step passed on."""

    wheel: str
    sha256: str
    build: str
    commit: str | None


def tested_wheels(record: Mapping[str, Any]) -> list[Tested]:
    """The wheels a stored build record says its own test step passed on. A record of
    the wrong shape (crafted, or from another tool) is evidence of nothing."""
    if not isinstance(record, Mapping) or not isinstance(record.get("targets"), list):
        return []
    build, commit = str(record.get("id")), record.get("commit")
    found = []
    for target in record["targets"]:
        if not isinstance(target, Mapping) or target.get("status") != "ok" or target.get("reused_from"):
            continue
        wheel, sha256, steps = target.get("wheel"), target.get("sha256"), target.get("steps")
        passed = isinstance(steps, list) and any(
            isinstance(s, Mapping) and s.get("name") == "test" and s.get("status") == "ok" for s in steps)
        if passed and isinstance(wheel, str) and isinstance(sha256, str):
            found.append(Tested(wheel, sha256, build, commit if isinstance(commit, str) else None))
    return found


def config_gate(config: Config, version: str, cache: Cache, log: Path, env: Mapping[str, str]) -> tuple[list[str], str | None]:
    """What the config adds to the release gate: the targets every CI platform selects, from
    the release tag's commit (its requires-python, not the build branch's), and that commit
    (None when the repository has no tag vVERSION or VERSION, or cannot be reached)."""
    tagged = None
    for tag in (f"v{version}", version):
        try:
            tagged = resolve(replace(config.project, build_commit=tag), cache, log, env)
            break
        except SourceError:
            continue
    try:
        versions = build_matrix(config, cache, log, env, tagged)
    except SourceError as exc:
        raise ReleaseError(f"the release gate needs the project's matrix: {exc}",
                           "check [project] repo, or release with -u and no config") from None
    expected = [t.identifier for p in config.ci.platforms for t in platform_targets(config, p, versions)]
    return expected, tagged.commit if tagged else None


def refused(verdict: Gate, partial: bool, what: str) -> ReleaseError | None:
    """The gate's refusal, or None. ``--partial`` waives missing targets, nothing else:
    no flag uploads a wheel that no build record tested as those bytes."""
    if verdict.different or verdict.untested or (verdict.missing and not partial):
        hint = "--partial releases what is there" if not (verdict.different or verdict.untested) else \
            "publish the wheels with the build records that tested them (wheelworks publish), or build again"
        return ReleaseError(f"{what} refused: {verdict.describe()}", hint)
    return None
