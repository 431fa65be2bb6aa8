"""``wheelworks release``: a version's wheels from a container, verified, signed, uploaded.

Plan, then act: ``find`` reads the container's index and selects the files; ``download``
fetches them in parallel (each to a temporary name, verified against the index's sha256,
then renamed); ``sign`` detach-signs them with gpg; ``upload`` hands them to twine. Every
download is verified before the first upload, so a corrupt file stops the release whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlparse

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from wheelworks.containers import Store
from wheelworks.containers.local import LocalStore
from wheelworks.containers.index import JSON_TYPE
from wheelworks.errors import CommandError, ReleaseError
from wheelworks.hashes import file_sha256
from wheelworks.run import run

PLATFORMS = ("all", "manylinux", "musllinux", "macosx", "win")
PYPI_UPLOADS = ("https://upload.pypi.org/", "https://test.pypi.org/")
_ACCEPT = f"{JSON_TYPE}, text/html;q=0.5"


@dataclass(frozen=True)
class RemoteWheel:
    filename: str
    location: str  # a URL, or a key of the container's store
    sha256: str | None  # None when the listing gives no hash
    size: int | None = None


@dataclass(frozen=True)
class ReleasePlan:
    name: str
    version: str
    index: str
    files: tuple[RemoteWheel, ...]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def open_index(location: str) -> str | Store:
    """What ``-u`` names: a container folder (read as a store), or a URL of a page or a container."""
    local = unquote(urlparse(location).path) if location.startswith("file://") else None if "://" in location else location
    if local is None:
        return location
    path = Path(local).expanduser().resolve()
    return LocalStore(path) if path.is_dir() else path.as_uri()


def find(index: str | Store, name: str, version: str, platform: str = "all") -> ReleasePlan:
    """The wheels of ``name`` ``version`` (on ``platform``) that ``index`` lists.

    ``index`` is a URL of a PEP 691 JSON or PEP 503 HTML page, of a plain HTML listing
    (a container's front page), of a container's root (its simple/ page is then used),
    or a container's Store.
    """
    try:
        wanted = Version(version)
    except InvalidVersion:
        raise ReleaseError(f"version {version!r} is not a valid version") from None
    entries = _store_entries(index, name) if not isinstance(index, str) else _url_entries(index, name)
    where = index if isinstance(index, str) else index.url
    files = []
    for filename, location, sha256, size in entries:
        if "/" in filename or "\\" in filename or filename in (".", ".."):
            raise ReleaseError(f"index {where}: file name {filename!r} is a path", "refusing the whole listing")
        try:
            wheel_name, wheel_version, _, tags = parse_wheel_filename(filename)
        except InvalidWheelFilename:
            continue
        if canonicalize_name(wheel_name) != canonicalize_name(name) or wheel_version != wanted:
            continue
        if platform != "all" and not any(tag.platform.startswith(platform) for tag in tags):
            continue
        files.append(RemoteWheel(filename, location, sha256, size))
    if not files:
        what = f"{name} {version}" + ("" if platform == "all" else f" for {platform}")
        raise ReleaseError(f"no wheels of {what} in {where}", "check the name, version and -t")
    return ReleasePlan(name, version, where, tuple(sorted(files, key=lambda f: f.filename)))


Entry = tuple[str, str, "str | None", "int | None"]  # filename, location, sha256, size


def _store_entries(store: Store, name: str) -> list[Entry]:
    page = f"simple/{canonicalize_name(name)}/"
    data = store.get(page + "index.json")
    if data is None:
        return []
    return [(f, posixpath.normpath(page + loc), sha, size) for f, loc, sha, size in _json_entries(data)]


def _url_entries(url: str, name: str) -> list[Entry]:
    pages = [url]
    if url.endswith("/") and "/simple/" not in urlparse(url).path:
        pages.insert(0, urljoin(url, f"simple/{canonicalize_name(name)}/"))  # a container's root
    for page in pages:
        try:
            body, content_type = _read_page(page)
        except FileNotFoundError:
            continue
        if content_type.startswith(JSON_TYPE) or content_type.startswith("application/json"):
            raw = _json_entries(body)
        else:
            raw = [_html_entry(href) for href in _hrefs(body)]
        root = _container_root(page)
        return [(f, _inside(page, loc, root), sha, size) for f, loc, sha, size in raw if f]
    raise ReleaseError(f"cannot read index {url}: not found")


def _read_page(url: str) -> tuple[bytes, str]:
    request = urllib.request.Request(url, headers={"Accept": _ACCEPT})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.read(), response.headers.get("Content-Type", "") or _guess_type(url)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise FileNotFoundError(url) from None
        raise ReleaseError(f"cannot read index {url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        if isinstance(getattr(exc, "reason", None), FileNotFoundError) or isinstance(exc, FileNotFoundError):
            raise FileNotFoundError(url) from None
        raise ReleaseError(f"cannot read index {url}: {getattr(exc, 'reason', exc)}") from None


def _guess_type(url: str) -> str:
    return "application/json" if url.endswith(".json") else "text/html"


def _json_entries(body: bytes) -> list[Entry]:
    try:
        files = json.loads(body)["files"]
        return [(f["filename"], f["url"], f.get("hashes", {}).get("sha256"), f.get("size")) for f in files]
    except (ValueError, KeyError, TypeError) as exc:
        raise ReleaseError(f"index is not PEP 691 JSON: {exc}") from None


def _hrefs(body: bytes) -> list[str]:
    parser = _Links()
    parser.feed(body.decode("utf-8", errors="replace"))
    return parser.hrefs


def _html_entry(href: str) -> Entry:
    url, fragment = urldefrag(href)
    sha256 = fragment[len("sha256="):] if fragment.startswith("sha256=") else None
    filename = unquote(posixpath.basename(urlparse(url).path))
    return (filename if filename.endswith(".whl") else "", url, sha256, None)


def _container_root(page: str) -> str:
    path = urlparse(page).path
    cut = path.find("/simple/")
    base = path[: cut + 1] if cut >= 0 else path.rsplit("/", 1)[0] + "/"
    return urljoin(page, base)


def _inside(page: str, href: str, root: str) -> str:
    """The absolute URL of ``href``, which must stay inside the container at ``root``."""
    url = urljoin(page, href)
    if not url.startswith(root) or ".." in urlparse(url).path.split("/"):
        raise ReleaseError(
            f"index {page}: link {href!r} points outside the container {root}",
            "a container's links must stay inside it; refusing the whole listing",
        )
    return url


def download(plan: ReleasePlan, wheelhouse: Path, store: Store | None = None, jobs: int = 4) -> dict[str, str]:
    """Fetch every file of ``plan`` into ``wheelhouse``; returns {filename: downloaded|present}.

    Raises after all downloads end if any file's bytes do not match the index's sha256.
    """
    wheelhouse.mkdir(parents=True, exist_ok=True)

    def fetch(wheel: RemoteWheel) -> tuple[str, str | Exception]:
        try:
            return wheel.filename, _fetch_one(wheel, wheelhouse, store)
        except ReleaseError as exc:
            return wheel.filename, exc

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = dict(pool.map(fetch, plan.files))
    failures = [r for r in results.values() if isinstance(r, Exception)]
    if failures:
        raise failures[0]
    return {k: str(v) for k, v in results.items()}


def _fetch_one(wheel: RemoteWheel, wheelhouse: Path, store: Store | None) -> str:
    final = wheelhouse / wheel.filename
    if final.exists() and wheel.sha256 and file_sha256(final) == wheel.sha256:
        return "present"
    partial = wheelhouse / f".{wheel.filename}.{os.getpid()}.part"
    digest = hashlib.sha256()
    try:
        with partial.open("wb") as out:
            for chunk in _chunks(wheel, store):
                digest.update(chunk)
                out.write(chunk)
        if wheel.sha256 and digest.hexdigest() != wheel.sha256:
            raise ReleaseError(
                f"{wheel.filename}: sha256 mismatch: the index says {wheel.sha256}, "
                f"the download is {digest.hexdigest()}",
                "the container's copy is corrupt; nothing was uploaded",
            )
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)
    return "downloaded"


def _chunks(wheel: RemoteWheel, store: Store | None) -> Iterable[bytes]:
    if store is not None:
        data = store.get(wheel.location)
        if data is None:
            raise ReleaseError(f"{wheel.filename}: listed but missing from {store.url}")
        yield data
        return
    try:
        with urllib.request.urlopen(wheel.location, timeout=120) as response:
            yield from iter(lambda: response.read(1 << 20), b"")
    except (urllib.error.URLError, OSError) as exc:
        raise ReleaseError(f"cannot download {wheel.location}: {getattr(exc, 'reason', exc)}") from None


def sign(wheels: Sequence[Path], identity: str | None, log: Path) -> list[Path]:
    """Detach-sign each wheel with gpg (ASCII-armoured, ``<wheel>.asc`` beside it)."""
    signatures = []
    for wheel in wheels:
        asc = wheel.with_name(wheel.name + ".asc")
        cmd = ["gpg", "--batch", "--yes", "--detach-sign", "--armor", "--output", str(asc)]
        try:
            run([*cmd, *(["--local-user", identity] if identity else []), str(wheel)], log=log)
        except CommandError as exc:
            raise ReleaseError(f"gpg could not sign {wheel.name}: {exc.last_line or exc.message}",
                               "check -i/--identity and that its secret key is available") from None
        signatures.append(asc)
    return signatures


def accepts_signatures(repository_url: str) -> bool:
    """PyPI and TestPyPI have ignored PGP signatures since May 2023."""
    return not repository_url.startswith(PYPI_UPLOADS)


@dataclass(frozen=True, kw_only=True)
class UploadTarget:
    """Where to upload: a ~/.pypirc section, or a URL; credentials come from twine's
    usual sources (TWINE_USERNAME/TWINE_PASSWORD, ~/.pypirc, keyring)."""

    repository: str = "pypi"
    repository_url: str | None = None
    config_file: str = "~/.pypirc"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    verbose: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str], **settings: Any) -> UploadTarget:
        """Settings with credentials from TWINE_USERNAME and TWINE_PASSWORD, as twine's CLI reads them."""
        return cls(username=env.get("TWINE_USERNAME"), password=env.get("TWINE_PASSWORD"), **settings)


def upload(wheels: Sequence[Path], target: UploadTarget, signatures: Sequence[Path] = ()) -> tuple[dict[str, str], str]:
    """Upload with twine; returns {filename: uploaded|already on the index} and the upload URL.

    Signatures go along only to indexes that still accept them.
    """
    import requests
    from twine import exceptions as twine_errors
    from twine.commands.upload import skip_upload
    from twine.package import PackageFile
    from twine.settings import Settings
    from twine.utils import sanitize_url

    try:
        settings = Settings(
            repository_name=target.repository, repository_url=target.repository_url,
            config_file=target.config_file, username=target.username, password=target.password, non_interactive=True, skip_existing=True,
            disable_progress_bar=True, verbose=target.verbose,
        )
        url = str(settings.repository_config["repository"])
        repository = settings.create_repository()
    except (twine_errors.TwineException, requests.RequestException) as exc:
        raise ReleaseError(f"cannot upload to {target.repository_url or target.repository}: {exc}") from None
    by_name = {s.name: s for s in signatures} if accepts_signatures(url) else {}
    outcome = {}
    try:
        for wheel in wheels:
            package = PackageFile.from_filename(str(wheel), None)
            if wheel.name + ".asc" in by_name:
                package.add_gpg_signature(str(by_name[wheel.name + ".asc"]), wheel.name + ".asc")
            if repository.package_is_uploaded(package):
                outcome[wheel.name] = "already on the index"
                continue
            response = repository.upload(package)
            if skip_upload(response, True, package):
                outcome[wheel.name] = "already on the index"
                continue
            if response.is_redirect or response.status_code >= 400:
                hint = "check the credentials" if response.status_code in (401, 403) else None
                raise ReleaseError(
                    f"upload of {wheel.name} to {sanitize_url(url)} failed: {response.status_code} {response.reason}", hint
                )
            outcome[wheel.name] = "uploaded"
    except requests.RequestException as exc:
        raise ReleaseError(f"cannot upload to {sanitize_url(url)}: {type(exc).__name__}") from None
    finally:
        repository.close()
    return outcome, url


@dataclass
class ReleaseResult:
    plan: ReleasePlan
    downloaded: dict[str, str]
    uploaded: dict[str, str]
    signatures: list[Path]
    notes: list[str]


def release(
    index: str | Store,
    name: str,
    version: str,
    wheelhouse: Path,
    target: UploadTarget,
    *,
    platform: str = "all",
    sign_with: str | None = None,  # a gpg identity, or "" for gpg's default key
    dry_run: bool = False,
    upload_files: bool = True,  # False: fetch and verify only (a CI job's first half)
) -> ReleaseResult:
    plan = find(index, name, version, platform)
    store = None if isinstance(index, str) else index
    url = target.repository_url or target.repository
    notes = []
    if dry_run:
        return ReleaseResult(plan, {f.filename: "would download" for f in plan.files},
                             {f.filename: f"would upload to {url}" for f in plan.files}, [], notes)
    downloaded = download(plan, wheelhouse, store)
    wheels = [wheelhouse / f.filename for f in plan.files]
    signatures = sign(wheels, sign_with or None, wheelhouse / ".wheelworks-release.log") if sign_with is not None else []
    if not upload_files:
        return ReleaseResult(plan, downloaded, {f.filename: "not uploaded" for f in plan.files}, signatures, notes)
    uploaded, upload_url = upload(wheels, target, signatures)
    if signatures and not accepts_signatures(upload_url):
        notes.append("PyPI no longer accepts PGP signatures: the .asc files stay in the wheelhouse, not uploaded")
    return ReleaseResult(plan, downloaded, uploaded, signatures, notes)
