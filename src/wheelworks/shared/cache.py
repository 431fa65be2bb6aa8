"""The wheelworks cache: content-keyed folders, each built once under a lock.

An entry counts only once its ``<name>.done`` marker exists, so a build killed midway
leaves a folder that the next run removes and makes again.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import filelock

from wheelworks.shared import owners
from wheelworks.shared.errors import UsageError

OWNER = ".owner"  # in a work folder: "<pid> <host>" of the build using it
IDLE = 30 * 86400.0  # seconds an entry may go unused before a build's sweep removes it
SWEPT = ("buildenvs", "libraries", "prefixes", "tools")  # the kinds whose keys change with their inputs
CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by wheelworks.\n"
)


class Cache:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        tag = root / "CACHEDIR.TAG"
        if not tag.exists():
            tag.write_text(CACHEDIR_TAG)

    def claim_tmp(self, folder: Path) -> None:
        """Make a work folder under tmp/ that names its process, so a later sweep can tell
        whether it is still in use."""
        folder.mkdir(parents=True, exist_ok=True)
        pid, host = owners.this_process()
        (folder / OWNER).write_text(f"{pid} {host}\n")

    def sweep_tmp(self, now: float, grace: float = 86400.0) -> list[str]:
        """Remove what killed builds left in tmp/: work folders whose process is gone, and
        anything else (a library's scratch build) untouched for ``grace`` seconds."""
        removed = []
        folder = self.root / "tmp"
        for entry in folder.iterdir() if folder.is_dir() else []:
            try:
                owner = (entry / OWNER).read_text().split() if (entry / OWNER).is_file() else None
                dead = owners.gone(int(owner[0]), owner[1]) if owner else None
                if dead is None:
                    dead = now - entry.stat().st_mtime > grace
            except (OSError, ValueError, IndexError):
                continue
            if dead:
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry.name)
        return removed

    def path(self, kind: str, name: str) -> Path:
        return self.root / kind / name

    def has(self, entry: Path) -> bool:
        """Whether ``entry`` is complete (what a dry run asks, not marking it used)."""
        return _marker(entry).exists()

    def ensure(self, entry: Path, create: Callable[[Path], object]) -> bool:
        """Make ``entry`` with ``create(entry)`` (its return value unused) unless it is complete already.

        Returns True when the entry was already there (a cache hit).
        """
        done = _marker(entry)
        if done.exists():
            _used(done)
            return True
        with locked(entry):
            if done.exists():
                return True
            shutil.rmtree(entry, ignore_errors=True)
            entry.mkdir(parents=True)
            try:
                create(entry)
            except BaseException:
                shutil.rmtree(entry, ignore_errors=True)
                raise
            done.touch()
        return False

    def sweep_idle(self, now: float, idle: float = IDLE) -> list[str]:
        """Remove the entries no build has used for ``idle`` seconds: what superseded
        recipes and build requirements left. Each goes under its lock, its marker first,
        so a build that wants it after all makes it anew."""
        removed = []
        for kind in SWEPT:
            for done in sorted(d for d in (self.root / kind).glob("*.done") if _idle(d, now, idle)):
                entry = done.with_name(done.name.removesuffix(".done"))
                with locked(entry):
                    if not _idle(done, now, idle):  # used meanwhile, or already gone
                        continue
                    done.unlink()
                    shutil.rmtree(entry, ignore_errors=True)
                removed.append(f"{kind}/{entry.name}")
            for note in (self.root / kind).glob("*.resolved.json"):  # build.Frontend.requires
                if _idle(note, now, idle):
                    note.unlink(missing_ok=True)
        return removed


def _marker(entry: Path) -> Path:
    return entry.with_name(entry.name + ".done")


def _used(done: Path) -> None:
    """Mark a complete entry as used now (its marker's time), for sweep_idle."""
    try:
        os.utime(done)
    except OSError:  # swept this instant: the entry was complete when looked at, and is used as such
        pass


def _idle(path: Path, now: float, idle: float) -> bool:
    try:
        return now - path.stat().st_mtime > idle
    except OSError:
        return False


@contextmanager
def locked(entry: Path) -> Iterator[None]:
    """The exclusive lock of a cache entry (``<entry>.lock`` beside it), shared with other
    wheelworks processes on this machine."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    with filelock.FileLock(entry.with_name(entry.name + ".lock")):
        yield


# What each folder of the cache holds, for `wheelworks cache list`.
KINDS = {
    "sources": "bare git mirrors of project repositories",
    "downloads": "library source archives, by sha256",
    "libraries": "one install prefix per library recipe",
    "prefixes": "merged prefixes the wheel builds link against",
    "tools": "build tools from PyPI: meson, ninja and cmake for recipes, zig and its wrappers",
    "buildenvs": "build environments: pypa/build and a project's build requirements, per interpreter",
    "ccache": "the compiler cache",
    "zig": "what zig compiles once per target: libc++, glibc stubs",
    "tmp": "work trees of running builds",
}


def usage(root: Path) -> list[tuple[str, int, int]]:
    """(kind, entries, bytes) for each folder of the cache."""
    rows = []
    for kind in KINDS:
        folder = root / kind
        entries = [p for p in folder.iterdir() if not p.name.endswith((".done", ".lock"))] if folder.is_dir() else []
        size = sum(f.lstat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink()) if folder.is_dir() else 0
        rows.append((kind, len(entries), size))
    return rows


def clear(root: Path, kinds: list[str]) -> list[str]:
    """Remove the named folders of the cache (all of them when ``kinds`` is empty)."""
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise UsageError(f"no cache folder named {', '.join(unknown)}", f"known: {', '.join(KINDS)}")
    removed = []
    for kind in kinds or list(KINDS):
        if (root / kind).exists():
            shutil.rmtree(root / kind)
            removed.append(kind)
    return removed
