"""Downloads that are kept only when their bytes are the ones expected."""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path

from wheelworks.shared.atomic import writing
from wheelworks.shared.errors import HashMismatch

CHUNK = 1 << 20


def save_verified(chunks: Iterable[bytes], dest: Path, sha256: str, what: str) -> None:
    """Stream ``chunks`` to ``dest`` through a unique temporary file, which becomes ``dest``
    only if its sha256 is ``sha256``; otherwise HashMismatch and nothing is left."""
    digest = hashlib.sha256()
    with writing(dest) as out:
        for chunk in chunks:
            digest.update(chunk)
            out.write(chunk)
        if digest.hexdigest() != sha256:
            raise HashMismatch(what, sha256, digest.hexdigest())


def url_chunks(url: str, timeout: float = 120) -> Iterator[bytes]:
    """The body of ``url`` (http(s) or file), a megabyte at a time; OSError if it cannot be read."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            yield from iter(lambda: response.read(CHUNK), b"")
    except urllib.error.URLError as exc:
        raise OSError(f"cannot download {url}: {exc.reason}") from None
    except ValueError as exc:
        raise OSError(f"cannot download {url}: {exc}") from None
