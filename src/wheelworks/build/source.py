"""The project's source at its build commit, in a fresh folder.

A build resolves its ref once (``resolve``): a git repository is cloned into the cache
(bare) or fetched, once, and the ref becomes a commit hash that the matrix (the project's
requires-python), the checkout and the record all use. Each build checks that commit out
into a new work tree. A plain folder is copied and an sdist unpacked, for projects built
from something other than git.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tarfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wheelworks.config.model import ProjectConfig
from wheelworks.config.names import ref_problem, repo_problem
from wheelworks.shared.cache import Cache, locked
from wheelworks.shared.compat import tomllib
from wheelworks.shared.errors import CommandError, SourceError
from wheelworks.shared.hashes import file_sha256, tree_digest
from wheelworks.shared.paths import is_remote
from wheelworks.shared.run import run

# Local builds must not leak a user's git settings (hooks, signing) into a checkout.
_GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1"}


@dataclass(frozen=True)
class Checkout:
    root: Path  # the whole work tree
    tree: Path  # the folder to build: root, or its subdir
    ref: str
    commit: str | None  # full hash; None for a folder or sdist
    source: str = ""  # what identifies the bytes built: "git-tree:<hash>" of the subdir, or a digest
    epoch: int | None = None  # the commit's time: SOURCE_DATE_EPOCH for reproducible wheels


@dataclass(frozen=True)
class Revision:
    """The project's source pinned to one state, resolved once per build: a commit of a
    git repository, fetched into the cache's mirror; or a folder or sdist as it is."""

    commit: str | None  # full hash; None for a folder or sdist
    mirror: Path | None = None  # the bare clone that holds the commit


def resolve(project: ProjectConfig, cache: Cache, log: Path, env: Mapping[str, str],
            commit: str | None = None) -> Revision:
    """The build commit's full hash, after the one fetch a build makes (a commit no branch or
    tag points at needs a second). ``commit``: a hash the caller already saw (``watch``'s
    ``ls-remote``), built as it is even if the branch moved since."""
    local = _local(project.repo)
    if local is not None and not local.exists():
        raise SourceError(f"[project] repo: {project.repo} does not exist")
    if local is not None and (local.is_file() or not _is_git_root(local, log, env)):
        return Revision(None)
    mirror = _mirror(project.repo, cache, log, env)
    return Revision(_resolve(mirror, project.repo, commit or project.build_commit, log, env), mirror)


def checkout(project: ProjectConfig, revision: Revision, cache: Cache, dest: Path, log: Path,
             env: Mapping[str, str], outputs: Sequence[Path] = ()) -> Checkout:
    """The project's source at ``revision`` in ``dest``, without fetching again. A folder
    (not a git repository) is copied without ``outputs`` (wheelworks' own folders, should
    they be inside it), nor the cache, so they never reach the build or its input key."""
    repo = project.repo
    local = _local(repo)
    if revision.commit is None or revision.mirror is None:
        assert local is not None  # resolve() gives no commit only for a path
        if local.is_file():
            _unpack_sdist(local, dest)
            root = _single_child(dest)
            return Checkout(root, _subdir(root, project), project.build_commit, None, f"sdist:{file_sha256(local)}")
        shutil.copytree(local, dest, symlinks=True, ignore=_leaving_out([cache.root, *outputs]))
        tree = _subdir(dest, project)
        return Checkout(dest, tree, project.build_commit, None, f"folder:{tree_digest(tree)}")
    commit = revision.commit
    _git(["clone", "--quiet", "--shared", "--no-checkout", "--", str(revision.mirror), str(dest)], log, env)
    _git(["-C", str(dest), "checkout", "--quiet", "--detach", commit], log, env)
    if (dest / ".gitmodules").exists():
        # Relative submodule URLs are relative to the real remote, not to the cache.
        _git(["-C", str(dest), "remote", "set-url", "origin", repo], log, env)
        _git(["-C", str(dest), "submodule", "update", "--init", "--recursive", "--depth", "1"], log, env)
    try:
        tree_hash = _git(["-C", str(dest), "rev-parse", f"HEAD:{project.subdir.strip('/')}"], log, env,
                         capture=True).strip()
    except CommandError:
        raise SourceError(f"[project] subdir: '{project.subdir}' is not a folder of the source at {commit[:12]}",
                          "give a folder of the repository, relative to its root") from None
    epoch = int(_git(["-C", str(dest), "log", "-1", "--format=%ct", "HEAD"], log, env, capture=True).strip())
    return Checkout(dest, _subdir(dest, project), project.build_commit, commit, f"git-tree:{tree_hash}", epoch)


def _local(repo: str) -> Path | None:
    """``[project] repo`` as a path on this machine (a git repository, folder or sdist),
    or None for a URL."""
    return None if is_remote(repo) else Path(repo)


def _leaving_out(folders: Sequence[Path]) -> Callable[[str, list[str]], set[str]]:
    """copytree's ignore for ``folders``."""
    resolved = {f.resolve() for f in folders}
    names = {f.name for f in resolved}
    return lambda folder, entries: {n for n in entries if n in names and (Path(folder) / n).resolve() in resolved}


def _git(args: list[str], log: Path, env: Mapping[str, str], capture: bool = False) -> str:
    return run(["git", *args], log=log, env={**env, **_GIT_ENV}, capture=capture)


def default_branch(repo: str, log: Path, env: Mapping[str, str]) -> str | None:
    """The branch a repository's HEAD names (main, master…), or None (a detached HEAD,
    a folder or sdist that is no repository)."""
    try:
        out = _git(["ls-remote", "--symref", "--", repo, "HEAD"], log, env, capture=True)
    except CommandError:
        return None
    found = re.search(r"^ref: refs/heads/(\S+)\tHEAD$", out, re.MULTILINE)
    return found.group(1) if found else None


def uncommitted(project: ProjectConfig, log: Path, env: Mapping[str, str]) -> list[str]:
    """The files of a local work tree (in the project's subdir) that differ from its
    commits: a build takes the commit, so they are not in it."""
    local = _local(project.repo)
    if local is None or not local.is_dir() or not (local / ".git").exists():
        return []
    try:
        out = _git(["-C", str(local), "status", "--porcelain", "--untracked-files=no", "--",
                    project.subdir.strip("/") or "."], log, env,
                   capture=True)
    except CommandError:
        return []
    return [line[3:] for line in out.splitlines() if line.strip()]


def _is_git_root(path: Path, log: Path, env: Mapping[str, str]) -> bool:
    """Whether ``path`` is a git repository itself (a work tree's top, or a bare repository),
    not a folder inside one."""
    try:
        bare, git_dir = _git(["-C", str(path), "rev-parse", "--is-bare-repository", "--absolute-git-dir"], log, env,
                             capture=True).splitlines()
        top = git_dir if bare == "true" else _git(["-C", str(path), "rev-parse", "--show-toplevel"], log, env,
                                                   capture=True).strip()
    except (CommandError, ValueError):
        return False
    return Path(top).resolve() == path.resolve()


def _mirror(repo: str, cache: Cache, log: Path, env: Mapping[str, str]) -> Path:
    """A bare clone of ``repo`` in the cache, brought up to date."""
    mirror = cache.path("sources", hashlib.sha256(repo.encode()).hexdigest()[:16] + ".git")
    with locked(mirror):
        try:
            if not (mirror / "HEAD").exists():
                shutil.rmtree(mirror, ignore_errors=True)
                _git(["clone", "--quiet", "--bare", "--", repo, str(mirror)], log, env)
            else:
                refspecs = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"]
                _git(["-C", str(mirror), "fetch", "--quiet", "--prune", "--", repo, *refspecs], log, env)
        except CommandError as exc:
            raise SourceError(f"[project] repo: cannot fetch {repo}", exc.last_line) from None
    return mirror


def _resolve(mirror: Path, repo: str, ref: str, log: Path, env: Mapping[str, str]) -> str:
    """The full commit hash of a branch, tag or (possibly abbreviated) hash."""
    _check_ref(ref, repo)
    try:
        return _rev_parse(mirror, f"{ref}^{{commit}}", log, env)
    except CommandError:
        pass
    try:  # a commit no branch or tag points at (a pull request's, say) can still be fetched
        _git(["-C", str(mirror), "fetch", "--quiet", "--", repo, ref], log, env)
        return _rev_parse(mirror, "FETCH_HEAD^{commit}", log, env)
    except CommandError:
        raise SourceError(
            f"build-commit: unknown ref '{ref}' in {repo}",
            "give a branch, tag or commit hash of that repository",
        ) from None


def _check_ref(ref: str, repo: str) -> None:
    """Refs are checked where they enter (config, CLI); this keeps callers of the library honest too."""
    for problem, value in ((ref_problem, ref), (repo_problem, repo)):
        if why := problem(value):
            raise SourceError(f"build-commit: {value!r} {why}", "give a branch, tag or commit hash of that repository")


def _rev_parse(mirror: Path, rev: str, log: Path, env: Mapping[str, str]) -> str:
    return _git(["-C", str(mirror), "rev-parse", "--verify", "--quiet", rev], log, env, capture=True).strip()


def _unpack_sdist(sdist: Path, dest: Path) -> None:
    try:
        with tarfile.open(sdist) as archive:
            archive.extractall(dest, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise SourceError(f"[project] repo: cannot unpack sdist {sdist}: {exc}") from None


def _single_child(folder: Path) -> Path:
    children = [p for p in folder.iterdir() if p.is_dir()]
    return children[0] if len(children) == 1 else folder


def _subdir(tree: Path, project: ProjectConfig) -> Path:
    if not project.subdir:
        return tree
    path = tree / project.subdir
    if not path.is_dir():
        raise SourceError(f"[project] subdir: '{project.subdir}' is not a folder of the source")
    return path


def remote_head(project: ProjectConfig, log: Path, env: Mapping[str, str]) -> str:
    """The commit the build commit names now, without fetching (a hash names itself)."""
    ref = project.build_commit
    if re.fullmatch(r"[0-9a-f]{40}", ref):
        return ref
    _check_ref(ref, project.repo)
    try:
        out = _git(["ls-remote", "--", project.repo, ref, f"refs/heads/{ref}", f"refs/tags/{ref}^{{}}"], log, env, capture=True)
    except CommandError as exc:
        raise SourceError(f"[project] repo: cannot reach {project.repo}", exc.last_line) from None
    heads = dict(line.split("\t")[::-1] for line in out.splitlines() if "\t" in line)
    for name in (f"refs/tags/{ref}^{{}}", f"refs/tags/{ref}", f"refs/heads/{ref}", ref):
        if name in heads:
            return heads[name]
    raise SourceError(f"build-commit: unknown ref '{ref}' in {project.repo}",
                      "give a branch, tag or commit hash of that repository")


def read_file(project: ProjectConfig, revision: Revision, name: str, log: Path, env: Mapping[str, str]) -> str | None:
    """The text of the project's file ``name`` (in its subdir) at ``revision``, or None if it
    has none: a git repository is read from the mirror, without a work tree or another fetch."""
    relative = "/".join(filter(None, [project.subdir.strip("/"), name]))
    repo = project.repo
    local = _local(repo)
    try:
        if revision.commit is not None and revision.mirror is not None:
            try:
                return _git(["-C", str(revision.mirror), "show", f"{revision.commit}:{relative}"], log, env, capture=True)
            except CommandError:
                return None
        if local is not None and local.is_file():
            with tarfile.open(local) as archive:
                member = next((m for m in archive.getmembers() if m.name.split("/", 1)[-1] == relative), None)
                stream = archive.extractfile(member) if member is not None else None
                return stream.read().decode() if stream is not None else None
        path = Path(repo) / relative
        return path.read_text() if path.is_file() else None
    except (OSError, tarfile.TarError, UnicodeDecodeError) as exc:
        raise SourceError(f"[project] repo: cannot read {relative} of {repo}: {exc}") from None


def pyproject(project: ProjectConfig, revision: Revision, log: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """The project's pyproject.toml at ``revision`` ({} when it has none)."""
    text = read_file(project, revision, "pyproject.toml", log, env)
    try:
        return tomllib.loads(text) if text is not None else {}
    except tomllib.TOMLDecodeError as exc:
        where = "/".join(filter(None, [project.subdir.strip("/"), "pyproject.toml"]))
        raise SourceError(f"{where} of {project.repo}: invalid TOML: {exc}") from None


def requires_python(project: ProjectConfig, revision: Revision, log: Path, env: Mapping[str, str]) -> str | None:
    """The project's requires-python, read from its pyproject.toml at ``revision``."""
    value = pyproject(project, revision, log, env).get("project", {}).get("requires-python")
    return value if isinstance(value, str) else None
