"""Content hashes: cache keys, config digests and wheel sha256 sums all come from here."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import IO


def file_sha256(path: Path) -> str:
    with path.open("rb") as stream:
        return stream_sha256(stream)


def stream_sha256(stream: IO[bytes]) -> str:
    """sha256 of what ``stream`` reads, a megabyte at a time (a file, a zip member)."""
    h = hashlib.sha256()
    for chunk in iter(lambda: stream.read(1 << 20), b""):
        h.update(chunk)
    return h.hexdigest()


def record_hash(data: bytes) -> str:
    """A wheel's RECORD form of ``data``'s hash: sha256=<urlsafe base64, unpadded>."""
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def digest(value: object) -> str:
    """sha256 of a JSON-able value, independent of dict order."""
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def tree_digest(root: Path) -> str:
    """sha256 over a folder's files (names and bytes), .git excluded."""
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if ".git" in path.relative_to(root).parts or not path.is_file():
            continue
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()
