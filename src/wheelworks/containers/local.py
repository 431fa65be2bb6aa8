"""A container in a local folder: the embedded default, servable with ``wheelworks serve``."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlparse

from wheelworks.containers import META, SCRATCH
from wheelworks.shared import atomic
from wheelworks.shared.errors import ContainerError

CHUNK = 1 << 20


class LocalStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = root.as_uri()

    @classmethod
    def from_url(cls, url: str, base: Path | None) -> LocalStore:
        path = Path(unquote(urlparse(url).path)) if url.startswith("file://") else Path(url).expanduser()
        return cls(((base or Path.cwd()) / path).resolve())

    def list(self, prefix: str = "") -> dict[str, int]:
        folder = self.root / prefix.rpartition("/")[0]  # walk only where the prefix can be
        found = {}
        for dirpath, _, names in os.walk(folder):
            for name in names:
                path = Path(dirpath, name)
                key = path.relative_to(self.root).as_posix()
                if not key.startswith(prefix) or (key.startswith(SCRATCH) and not prefix.startswith(SCRATCH)):
                    continue
                try:
                    found[key] = path.stat().st_size
                except FileNotFoundError:  # removed since the walk saw it: a concurrent prune
                    continue
        return found

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def size(self, key: str) -> int | None:
        path = self._path(key)
        try:
            return path.stat().st_size if path.is_file() else None
        except FileNotFoundError:
            return None

    def modified(self, key: str) -> float | None:
        try:
            return self._path(key).stat().st_mtime
        except FileNotFoundError:
            return None

    def stream(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        try:
            stream = self._path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ContainerError(f"container {self.url}: no file {key}") from None
        with stream:
            stream.seek(start)
            left = None if end is None else end - start
            while left is None or left > 0:
                chunk = stream.read(CHUNK if left is None else min(CHUNK, left))
                if not chunk:
                    return
                if left is not None:
                    left -= len(chunk)
                yield chunk

    def put(self, key: str, data: bytes | Path, content_type: str, *, sha256: str | None = None,
            if_absent: bool = False) -> bool:
        target = self._path(key)
        scratch = self.root / SCRATCH
        digest = hashlib.sha256()
        try:
            scratch.mkdir(parents=True, exist_ok=True)
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, partial = atomic.temporary(scratch, "put-")
        except OSError as exc:
            raise ContainerError(f"container {self.url}: cannot write {key}: {exc.strerror}") from None
        try:
            try:
                with os.fdopen(fd, "wb") as out:
                    if isinstance(data, bytes):
                        out.write(data)
                        digest.update(data)
                    else:
                        with data.open("rb") as source:
                            for chunk in iter(lambda: source.read(CHUNK), b""):
                                digest.update(chunk)
                                out.write(chunk)
                    out.flush()
                    os.fsync(out.fileno())
            except OSError as exc:
                raise ContainerError(f"container {self.url}: cannot write {key}: {exc.strerror}") from None
            if sha256 is not None and digest.hexdigest() != sha256:
                raise ContainerError(f"container {self.url}: {key} was stored corrupted (sha256 mismatch)")
            if if_absent:
                try:
                    os.link(partial, target)  # fails if target exists: an atomic create-if-absent
                except FileExistsError:
                    return False
            else:
                os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        return True

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise ContainerError(f"container {self.url}: key {key!r} leaves the container")
        # A symlink from the served part into the bookkeeping would serve it (or let a crafted
        # claim's path name it): only a key under META may reach META.
        if path.is_relative_to(self.root / META) and not key.startswith(META):
            raise ContainerError(f"container {self.url}: key {key!r} leads into {META}")
        return path

