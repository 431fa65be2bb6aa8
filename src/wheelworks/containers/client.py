"""Reading indexes: what files a project has, where, and with which sha256.

One ``Index`` protocol over every source a release can come from: a container read
directly (its claims are the authority on each file's hash), or a page over HTTP or
file:// (PEP 691 JSON, PEP 503 HTML, or a plain listing such as a CDN's container page,
parsed by mousebender). Links are resolved after percent-decoding and normalising, and a
page whose links leave its container is refused whole.
"""

from __future__ import annotations

import json
import posixpath
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urljoin, urlparse

from mousebender import simple
from packaging.utils import canonicalize_name

from wheelworks.config.settings import S3Credentials
from wheelworks.containers import CLAIMS, RECORDS, SIMPLE, Store, open_store
from wheelworks.containers.index import JSON_TYPE
from wheelworks.containers.state import decode_claim
from wheelworks.shared.downloads import url_chunks
from wheelworks.shared.errors import ReleaseError
from wheelworks.shared.paths import is_url

_ACCEPT = f"{JSON_TYPE}, text/html;q=0.5"
PAGE_CAP = 64 << 20  # bytes of an index page read; pip's own project pages are far smaller


@dataclass(frozen=True)
class RemoteFile:
    filename: str
    location: str  # an absolute URL, or a key of the container's store
    sha256: str | None  # None when the source gives no hash
    size: int | None = None


class Index(Protocol):
    where: str  # for messages

    def files(self, project: str) -> list[RemoteFile]:
        """Every file the index lists for ``project``."""

    def chunks(self, file: RemoteFile) -> Iterator[bytes]:
        """The file's bytes, streamed; ReleaseError if they cannot be read."""

    def records(self, newest: int | None = None) -> list[dict[str, Any]]:
        """The build records stored beside the files (a container's), else none; with
        ``newest``, only that many, of the builds that started last."""


class ContainerIndex:
    """A container read through its store: files and hashes from its claims."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.where = store.url

    def files(self, project: str) -> list[RemoteFile]:
        wanted = canonicalize_name(project)
        found = []
        for key in sorted(k for k in self.store.list(CLAIMS) if k.endswith(".json")):
            data = self.store.get(key)
            if data is None:
                continue
            claim = decode_claim(self.store, key, data)
            if claim.project == wanted:
                found.append(RemoteFile(claim.filename, claim.path, claim.sha256, claim.size))
        return found

    def chunks(self, file: RemoteFile) -> Iterator[bytes]:
        return self.store.stream(file.location)

    def records(self, newest: int | None = None) -> list[dict[str, Any]]:
        out = []
        keys = sorted(k for k in self.store.list(RECORDS) if k.endswith("/record.json"))
        for key in keys[-newest:] if newest else keys:  # ids begin with the start time
            data = self.store.get(key)
            if data:
                out.append(json.loads(data))
        return out


class PageIndex:
    """A PEP 691/503 page, a plain listing, or a container's root URL (its simple/ page)."""

    def __init__(self, url: str, *, contained: bool = True, optional: bool = False) -> None:
        self.where = url
        self.contained = contained  # links must stay in the page's container (always, for downloads)
        self.optional = optional  # a missing page lists nothing rather than failing

    def files(self, project: str) -> list[RemoteFile]:
        url = self.where
        pages = [url]
        if url.endswith("/") and f"/{SIMPLE}" not in urlparse(url).path:
            pages.insert(0, urljoin(url, f"{SIMPLE}{canonicalize_name(project)}/"))  # a container's root
        for page in pages:
            body = _read(page)
            if body is None:
                continue
            data, content_type = body
            kind = "application/json" if content_type.startswith(("application/json", JSON_TYPE)) else "text/html"
            try:
                if kind == "text/html":
                    details = simple.from_project_details_html(data.decode("utf-8", "replace"), project)
                else:
                    details = json.loads(data)
            except (ValueError, TypeError) as exc:
                raise ReleaseError(f"index {page}: not a PEP 691 or 503 page ({exc})") from None
            root = container_root(page)
            return [f for entry in _entries(details, page) if (f := self._file(entry, page, root))]
        if self.optional:
            return []
        raise ReleaseError(f"cannot read index {url}: not found")

    def _file(self, entry: Mapping[str, Any], page: str, root: str) -> RemoteFile | None:
        """One file entry of a page (PEP 691's shape; mousebender gives HTML pages the same)."""
        filename, href, hashes, size = entry.get("filename"), entry.get("url"), entry.get("hashes"), entry.get("size")
        if not isinstance(filename, str) or not isinstance(href, str):
            raise ReleaseError(f"index {page}: a file entry without filename and url")
        if not filename.endswith(".whl"):
            return None  # a listing's other links ("../", sdists) are never fetched
        _check_name(filename, page)
        if not isinstance(hashes, (dict, type(None))) or not isinstance(size, (int, type(None))) or isinstance(size, bool):
            raise ReleaseError(f"index {page}: {filename}: 'hashes' must be a table and 'size' a number (PEP 691)")
        sha256 = (hashes or {}).get("sha256")
        location = inside(page, href, root) if self.contained else urljoin(page, href)
        return RemoteFile(filename, location, sha256.lower() if isinstance(sha256, str) else None, size)

    def chunks(self, file: RemoteFile) -> Iterator[bytes]:
        try:
            yield from url_chunks(file.location)
        except OSError as exc:
            raise ReleaseError(str(exc)) from None

    def records(self, newest: int | None = None) -> list[dict[str, Any]]:
        """The build records a served container lists in builds/index.json."""
        root = container_root(self.where)
        listing = _read(urljoin(root, f"{RECORDS}index.json"))
        if listing is None:
            return []
        try:
            keys = sorted(json.loads(listing[0])["records"])
            keys = keys[-newest:] if newest else keys
            return [json.loads(body[0]) for key in keys if (body := _read(inside(root, key, root)))]
        except (ValueError, KeyError, TypeError) as exc:
            raise ReleaseError(f"{root}{RECORDS}: unreadable build records ({exc})") from None


def open_index(location: str, credentials: S3Credentials) -> Index:
    """What ``-u`` names: a container (folder, file:// folder or s3://), or a page's URL."""
    try:
        parsed = urlparse(location)
        parsed.port  # noqa: B018 - parsing the port is what checks it
    except ValueError as exc:
        raise ReleaseError(f"-u {location!r}: not a valid URL ({exc})") from None
    scheme = parsed.scheme if is_url(location) else ""
    if scheme == "s3":
        return ContainerIndex(open_store(location, credentials=credentials))
    if scheme in ("", "file"):
        path = Path(unquote(urlparse(location).path) if scheme else location).expanduser().resolve()
        if path.is_dir():
            return ContainerIndex(open_store(str(path), credentials=credentials))
        return PageIndex(path.as_uri())
    return PageIndex(location)


def _read(url: str) -> tuple[bytes, str] | None:
    """A page's body and content type; None if it does not exist."""
    request = urllib.request.Request(url, headers={"Accept": _ACCEPT})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            body = response.read(PAGE_CAP + 1)  # bounded: a page is read whole, then parsed
            content_type = response.headers.get("Content-Type", "") or _guess_type(url)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        first = str(exc.reason).splitlines()[0] if exc.reason else ""  # a redirect loop's reason is three lines
        raise ReleaseError(f"cannot read index {url}: HTTP {exc.code} {first}".rstrip()) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason: object = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        if isinstance(reason, (FileNotFoundError, IsADirectoryError)) or isinstance(exc, FileNotFoundError):
            return None
        raise ReleaseError(f"cannot read index {url}: {reason}") from None
    if len(body) > PAGE_CAP:
        raise ReleaseError(f"index {url}: the page is over {PAGE_CAP >> 20} MiB", "no index page of one project is")
    return body, content_type


def _entries(details: Any, page: str) -> list[Mapping[str, Any]]:
    files = details.get("files") if isinstance(details, dict) else None
    if not isinstance(files, list) or not all(isinstance(f, dict) for f in files):
        raise ReleaseError(f"index {page}: not a PEP 691 project page ('files' must be a list of tables)")
    return files


def _guess_type(url: str) -> str:
    return "application/json" if url.endswith(".json") else "text/html"


def _check_name(filename: str, page: str) -> None:
    if "/" in filename or "\\" in filename or filename in (".", "..") or "\0" in filename:
        raise ReleaseError(f"index {page}: file name {filename!r} is a path", "refusing the whole listing")


def container_root(page: str) -> str:
    """The container a page belongs to: what precedes /simple/, or the page's folder."""
    path = urlparse(page).path
    cut = path.find(f"/{SIMPLE}")
    base = path[: cut + 1] if cut >= 0 else path.rsplit("/", 1)[0] + "/"
    return urljoin(page, base)


def inside(page: str, href: str, root: str) -> str:
    """The absolute URL of ``href`` on ``page``, which must stay inside the container at
    ``root`` once percent-decoded and normalised (no ``..``, other hosts or schemes)."""
    url = urlparse(urljoin(page, href))
    base = urlparse(root)
    decoded = unquote(url.path)
    refused = (
        (url.scheme, url.netloc) != (base.scheme, base.netloc)
        or ".." in decoded.replace("\\", "/").split("/")
        or "\0" in decoded
        or not posixpath.normpath(decoded).startswith(unquote(base.path))
    )
    if refused:
        raise ReleaseError(
            f"index {page}: link {href!r} points outside the container {root}",
            "a container's links must stay inside it; refusing the whole listing",
        )
    return url._replace(fragment="").geturl()
