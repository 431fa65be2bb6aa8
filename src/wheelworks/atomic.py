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


@contextmanager
def writing(path: Path) -> Iterator[BinaryIO]:
    """A binary stream whose bytes replace ``path`` whole when the block ends without an
    error; on an error nothing of it remains."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=PARTIAL)
    partial = Path(name)
    try:
        with os.fdopen(fd, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_bytes(path: Path, data: bytes | Iterable[bytes]) -> None:
    with writing(path) as stream:
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
