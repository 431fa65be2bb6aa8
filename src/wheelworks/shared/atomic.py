"""Files that appear whole or not at all: written to a unique temporary name beside
their final one, flushed, then renamed over it."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

# Temporary names start with this, so a sweep can tell a dead writer's leftovers.
PARTIAL = ".wheelworks-partial-"


def _set_umask() -> int:
    mask = os.umask(0o022)  # reading it this way means setting it: done once, at import, before any thread
    os.umask(mask)
    return mask


_UMASK_AT_START = _set_umask()


def file_mode() -> int:
    """The mode a plain open() gives a new file now: 0o666 less the umask. Files wheelworks
    writes are served by web servers running as other users and synced to CDNs, so they
    get that, never mkstemp's 0600; the umask only ever removes permissions."""
    try:  # Linux says what the umask is without changing it (thread-safe)
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    except OSError:
        pass
    return 0o666 & ~_UMASK_AT_START


def temporary(folder: Path, prefix: str = PARTIAL, mode: int | None = None) -> tuple[int, Path]:
    """A new file in ``folder`` with a unique name and ``mode`` (default ``file_mode()``):
    its descriptor and path."""
    fd, name = tempfile.mkstemp(dir=folder, prefix=prefix)
    if hasattr(os, "fchmod"):  # not on Windows, where mode bits mean little
        os.fchmod(fd, file_mode() if mode is None else mode)
    return fd, Path(name)


@contextmanager
def writing(path: Path, mode: int | None = None) -> Iterator[BinaryIO]:
    """A binary stream whose bytes replace ``path`` whole when the block ends without an
    error; on an error nothing of it remains. ``mode``: see ``temporary``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = temporary(path.parent, mode=mode)
    try:
        with os.fdopen(fd, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_bytes(path: Path, data: bytes | Iterable[bytes], mode: int | None = None) -> None:
    with writing(path, mode) as stream:
        for chunk in [data] if isinstance(data, bytes) else data:
            stream.write(chunk)


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def copy(source: Path, path: Path) -> None:
    """``source``'s bytes to ``path``, streamed."""
    with source.open("rb") as src, writing(path) as out:
        shutil.copyfileobj(src, out, 1 << 20)


def sweep_partials(folder: Path, now: float, grace: float = 3600.0) -> list[Path]:
    """Remove temporary files dead writers left in ``folder`` (older than ``grace`` seconds)."""
    removed = []
    for path in folder.glob(f"{PARTIAL}*") if folder.is_dir() else []:
        try:
            if now - path.stat().st_mtime > grace:
                path.unlink()
                removed.append(path)
        except FileNotFoundError:
            continue
    return removed
