"""A container in a local folder: the embedded default, servable with ``wheelworks serve``."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse

from wheelworks.errors import ContainerError
from wheelworks.hashes import file_sha256

_SCRATCH = ".wheelworks/tmp"


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
        if not folder.is_dir():
            return {}
        found = {}
        for path in folder.rglob("*"):
            key = path.relative_to(self.root).as_posix()
            if key.startswith(prefix) and not key.startswith(_SCRATCH) and path.is_file():
                found[key] = path.stat().st_size
        return found

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def put(self, key: str, data: bytes | Path, content_type: str, *, sha256: str | None = None,
            if_absent: bool = False) -> bool:
        target = self._path(key)
        scratch = self.root / _SCRATCH
        try:
            scratch.mkdir(parents=True, exist_ok=True)
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=scratch)
            partial = Path(name)
            with os.fdopen(fd, "wb") as out:
                out.write(data if isinstance(data, bytes) else data.read_bytes())
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            raise ContainerError(f"container {self.url}: cannot write {key}: {exc.strerror}") from None
        try:
            if sha256 is not None and file_sha256(partial) != sha256:
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
        return path
