"""Wheel containers: where built wheels are published, behind one small storage interface.

A backend stores opaque objects by key; everything about wheels and indexes lives in
``wheelworks.containers.publish`` and ``containers.index``, so a new store (Swift, GCS…) is one
module with the seven methods of ``Store``, registered by URL scheme in ``BACKENDS``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

from wheelworks.config.model import ContainerConfig
from wheelworks.config.secrets import reveal
from wheelworks.config.settings import S3Credentials, Settings
from wheelworks.shared.errors import ContainerError
from wheelworks.shared.paths import is_url

# The layout of a container, for every module that reads or writes one.
FILES = "files/"  # files/<sha256[:16]>/<wheel>: bytes, content-addressed, never overwritten
META = ".wheelworks/"  # bookkeeping, never served
CLAIMS = META + "wheels/"  # <wheel>.json: the claim on a file name (its sha256 and metadata)
COMPLETE = META + "complete/"  # <project>/<version>.json: the tags a finished publish delivered
SCRATCH = META + "tmp/"  # a folder store's temporary files
RECORDS = "builds/"  # <build id>/record.json: the build records of published wheels
SIMPLE = "simple/"  # PEP 503 / 691 index pages


def file_key(sha256: str, filename: str) -> str:
    return f"{FILES}{sha256[:16]}/{filename}"


def claim_key(filename: str) -> str:
    return f"{CLAIMS}{filename}.json"


class Store(Protocol):
    url: str  # for messages

    def list(self, prefix: str = "") -> dict[str, int]:
        """Every key under ``prefix`` with its size."""

    def get(self, key: str) -> bytes | None:
        """A small object's bytes (a claim, a page), or None if there is no such key."""

    def size(self, key: str) -> int | None:
        """The object's size, or None if there is no such key."""

    def modified(self, key: str) -> float | None:
        """When the object was stored (epoch seconds), or None if there is no such key."""

    def stream(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Bytes ``start`` to ``end`` (exclusive; None: to the end) of the object, in chunks
        of at most a megabyte; ContainerError if there is no such key."""

    def put(self, key: str, data: bytes | Path, content_type: str, *, sha256: str | None = None,
            if_absent: bool = False) -> bool:
        """Store ``data`` (a file is streamed) whole under ``key``: readers see the old
        object or the new one, never part of it. With ``sha256``, the stored bytes are
        checked against it before the key exists. With ``if_absent``, nothing is written
        if ``key`` exists, and False is returned."""

    def delete(self, key: str) -> None:
        """Remove ``key``; a missing key is not an error."""


def _local(url: str, endpoint: str | None, base: Path | None, credentials: S3Credentials) -> Store:
    from wheelworks.containers.local import LocalStore

    return LocalStore.from_url(url, base)


def _s3(url: str, endpoint: str | None, base: Path | None, credentials: S3Credentials) -> Store:
    from wheelworks.containers.s3 import S3Store  # boto3 is imported only for S3 containers

    return S3Store.from_url(url, endpoint, credentials)


# URL scheme -> backend factory (url, endpoint, base folder, S3 credentials); "" is a plain path.
BACKENDS: dict[str, Callable[[str, str | None, Path | None, S3Credentials], Store]] = {
    "": _local,
    "file": _local,
    "s3": _s3,
}


def open_store(url: str, *, endpoint: str | None = None, base: Path | None = None,
               credentials: S3Credentials | None = None) -> Store:
    """The backend for ``url``: a path or file:// URL (relative to ``base``), or s3://bucket/prefix."""
    scheme = urlparse(url).scheme if is_url(url) else ""
    if scheme not in BACKENDS:
        raise ContainerError(
            f"container url {url!r}: unsupported scheme '{scheme}'",
            "use a folder path, file:///path or s3://bucket/prefix",
        )
    return BACKENDS[scheme](url, endpoint, base, credentials or S3Credentials())


def open_container(container: ContainerConfig, base: Path, settings: Settings) -> Store:
    """The store of a configured container, with its own credentials (decrypted) over
    the environment's."""
    credentials = settings.s3
    for field_, value, key in (("access_key_id", container.access_key_id, "access-key-id"),
                               ("secret_access_key", container.secret_access_key, "secret-access-key")):
        if value:
            revealed = reveal(value, f"containers.{container.name}.{key}", settings.private_key)
            credentials = replace(credentials, **{field_: revealed})
    return open_store(container.url, endpoint=container.endpoint, base=base, credentials=credentials)
