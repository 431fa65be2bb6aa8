"""``wheelworks release``: a version's wheels from a container, verified, signed, uploaded.

Plan, then act. ``find`` reads the index (a container's claims, or a PEP 691/503 page or
listing: ``containers.client``) and selects the files; every one must have a sha256, and
the release gate (``gate.py``) checks them against the build records that tested
them. ``download`` streams them to disk,
each verified before it takes its name; ``sign`` detach-signs them; ``upload`` hands them
to twine, after checking that any file the target index already has is the same bytes.
Nothing is uploaded unless everything was verified first.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from wheelworks.config.settings import Settings
from wheelworks.containers.client import Index, PageIndex, RemoteFile
from wheelworks.containers.state import spelling_conflicts
from wheelworks.release.gate import Gate, gate, refused
from wheelworks.shared.atomic import sweep_partials
from wheelworks.shared.downloads import save_verified
from wheelworks.shared.errors import CommandError, HashMismatch, ReleaseError
from wheelworks.shared.hashes import file_sha256
from wheelworks.shared.run import run

PLATFORMS = ("all", "manylinux", "musllinux", "macosx", "win")
PYPI_UPLOADS = ("https://upload.pypi.org/", "https://test.pypi.org/")


@dataclass(frozen=True)
class ReleasePlan:
    name: str
    version: str
    index: str
    files: tuple[RemoteFile, ...]
    gate: Gate = field(default_factory=Gate)


def find(index: Index, name: str, version: str, platform: str = "all") -> ReleasePlan:
    """The wheels of ``name`` ``version`` (on ``platform``) that ``index`` lists, each with
    a sha256; duplicate links to one file collapse, conflicting ones are refused."""
    try:
        wanted = Version(version)
    except InvalidVersion:
        raise ReleaseError(f"version {version!r} is not a valid version") from None
    chosen: dict[str, RemoteFile] = {}
    for file in index.files(name):
        try:
            wheel_name, wheel_version, _, tags = parse_wheel_filename(file.filename)
        except InvalidWheelFilename:
            continue
        if canonicalize_name(wheel_name) != canonicalize_name(name) or wheel_version != wanted:
            continue
        if platform != "all" and not any(tag.platform.startswith(platform) for tag in tags):
            continue
        if file.sha256 is None:
            raise ReleaseError(f"index {index.where}: {file.filename} has no sha256",
                               "a release uploads only verified bytes; publish it with wheelworks, "
                               "or use an index that gives hashes")
        seen = chosen.get(file.filename)
        if seen is not None and seen.sha256 != file.sha256:
            raise ReleaseError(f"index {index.where}: {file.filename} is listed with two different sha256s",
                               "refusing the whole listing")
        chosen.setdefault(file.filename, file)
    spelled = spelling_conflicts(sorted(chosen), ())
    if spelled:
        raise ReleaseError(f"index {index.where}: {', '.join(spelled)} is one wheel under two file names",
                           "refusing the whole listing")
    if not chosen:
        what = f"{name} {version}" + ("" if platform == "all" else f" for {platform}")
        raise ReleaseError(f"no wheels of {what} in {index.where}", "check the name, version and -t")
    return ReleasePlan(name, version, index.where, tuple(sorted(chosen.values(), key=lambda f: f.filename)))


def download(plan: ReleasePlan, index: Index, wheelhouse: Path, jobs: int = 4) -> dict[str, str]:
    """Fetch every file of ``plan`` into ``wheelhouse``; returns {filename: downloaded|present}.

    Each file is streamed to a unique temporary name and takes its own only once its
    sha256 is checked; raises after all downloads end if any failed.
    """
    wheelhouse.mkdir(parents=True, exist_ok=True)
    sweep_partials(wheelhouse, time.time())  # what killed downloads left (an hour old: no live one's)

    def fetch(file: RemoteFile) -> tuple[str, str | Exception]:
        final = wheelhouse / file.filename
        try:
            if final.is_file() and file_sha256(final) == file.sha256:
                return file.filename, "present"
            assert file.sha256 is not None  # find() refuses files without one
            save_verified(index.chunks(file), final, file.sha256, file.filename)
        except HashMismatch as exc:
            return file.filename, ReleaseError(
                f"{file.filename}: sha256 mismatch: the index says {file.sha256}, the download is {exc.actual}",
                "the container's copy is corrupt; nothing was uploaded")
        except (ReleaseError, OSError) as exc:
            return file.filename, ReleaseError(f"{file.filename}: {exc}")
        return file.filename, "downloaded"

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = dict(pool.map(fetch, plan.files))
    failures = [r for r in results.values() if isinstance(r, Exception)]
    if failures:
        raise failures[0]
    return {k: str(v) for k, v in results.items()}


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
    def from_settings(cls, settings: Settings, **where: Any) -> UploadTarget:
        """``where`` to upload, with the credentials TWINE_USERNAME and TWINE_PASSWORD gave."""
        return cls(username=settings.twine_username, password=settings.twine_password, **where)


def simple_index(upload_url: str) -> str:
    """The simple index that shows what ``upload_url`` received."""
    if upload_url.startswith("https://upload.pypi.org/"):
        return "https://pypi.org/simple/"
    base = upload_url[: -len("legacy/")] if upload_url.endswith("/legacy/") else upload_url.rstrip("/") + "/"
    return base + "simple/"


def index_hashes(upload_url: str, project: str) -> dict[str, str]:
    """{filename: sha256} of what the target index already has of ``project``."""
    page = PageIndex(f"{simple_index(upload_url)}{canonicalize_name(project)}/", contained=False, optional=True)
    return {f.filename: f.sha256 or "" for f in page.files(project)}


def upload(wheels: Sequence[Path], target: UploadTarget, signatures: Sequence[Path] = (),
           verified: Mapping[str, str] | None = None) -> tuple[dict[str, str], str]:
    """Upload with twine; returns {filename: uploaded|already on the index} and the upload URL.

    A file counts as already on the index only if the index's sha256 for it is the one in
    ``verified`` (each wheel's own, by default); a different file of that name stops the
    release before anything is uploaded. Signatures go along only to indexes that still
    accept them.
    """
    verified = dict(verified or {w.name: file_sha256(w) for w in wheels})
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
    projects = {canonicalize_name(parse_wheel_filename(w.name)[0]) for w in wheels}
    present = {name: sha for project in projects for name, sha in index_hashes(url, project).items()}
    for wheel in wheels:
        if wheel.name in present and present[wheel.name] != verified[wheel.name]:
            raise ReleaseError(f"{sanitize_url(url)} already has a different {wheel.name} "
                               f"(sha256 {present[wheel.name][:12] or 'unknown'}…, ours {verified[wheel.name][:12]}…)",
                               "nothing was uploaded; a published file can never be replaced: release a new version")
    try:
        for wheel in wheels:
            if wheel.name in present:
                outcome[wheel.name] = "already on the index"
                continue
            package = PackageFile.from_filename(str(wheel), None)
            if wheel.name + ".asc" in by_name:
                package.add_gpg_signature(str(by_name[wheel.name + ".asc"]), wheel.name + ".asc")
            response = repository.upload(package)
            if skip_upload(response, True, package):
                # Uploaded by someone since we looked: it counts only if it is our bytes.
                theirs = index_hashes(url, parse_wheel_filename(wheel.name)[0]).get(wheel.name)
                if theirs != verified[wheel.name]:
                    raise ReleaseError(f"{sanitize_url(url)} refused {wheel.name} as existing, "
                                       "and its copy is not the verified bytes")
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
    refusal: ReleaseError | None = None  # a dry run's verdict, where the real run would refuse


def release(
    index: Index,
    name: str,
    version: str,
    wheelhouse: Path,
    target: UploadTarget,
    *,
    platform: str = "all",
    expected: Sequence[str] | None = None,  # target identifiers the config selects; None: not checked
    tag_commit: str | None = None,  # the commit the release tag names, when the repository was reachable
    partial: bool = False,
    sign_with: str | None = None,  # a gpg identity, or "" for gpg's default key
    dry_run: bool = False,
    upload_files: bool = True,  # False: fetch and verify only (a CI job's first half)
) -> ReleaseResult:
    found = find(index, name, version, platform)
    verdict = gate(found.files, index.records(), expected, tag_commit)
    plan = ReleasePlan(found.name, found.version, found.index, found.files, verdict)
    notes = [f"release gate: {verdict.describe()}"]
    refusal = refused(verdict, partial, f"release of {name} {version}")
    if verdict.missing and partial and refusal is None:
        notes.append("--partial: releasing what is there, not every selected target")
    url = target.repository_url or target.repository
    if dry_run:  # the same verdict as the real run: the CLI prints the plan, then refuses
        return ReleaseResult(plan, {f.filename: "would download" for f in plan.files},
                             {f.filename: f"would upload to {url}" for f in plan.files}, [], notes, refusal)
    if refusal is not None:
        raise refusal
    downloaded = download(plan, index, wheelhouse)
    wheels = [wheelhouse / f.filename for f in plan.files]
    signatures = sign(wheels, sign_with or None, wheelhouse / ".wheelworks-release.log") if sign_with is not None else []
    if not upload_files:
        return ReleaseResult(plan, downloaded, {f.filename: "not uploaded" for f in plan.files}, signatures, notes)
    uploaded, upload_url = upload(wheels, target, signatures, {f.filename: f.sha256 or "" for f in plan.files})
    if signatures and not accepts_signatures(upload_url):
        notes.append("PyPI no longer accepts PGP signatures: the .asc files stay in the wheelhouse, not uploaded")
    return ReleaseResult(plan, downloaded, uploaded, signatures, notes)
