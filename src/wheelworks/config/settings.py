"""Every setting a run takes from its environment, read once, by the CLI.

Below the CLI nothing reads a setting from the environment: stages get these fields, and
``env`` only as the base environment of the subprocesses they start (where PATH, HOME
and the compilers' variables mean what they always do).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from wheelworks.config.secrets import PrivateKey, private_key

BUILD_COMMIT_VARS = ("WHEELWORKS_BUILD_COMMIT", "BUILD_COMMIT")


@dataclass(frozen=True, kw_only=True)
class S3Credentials:
    """What boto3 would read from the environment, read here so a test or a caller can
    give other values."""

    endpoint: str | None = None  # AWS_ENDPOINT_URL; a container's endpoint wins
    region: str = "us-east-1"  # AWS_REGION, AWS_DEFAULT_REGION
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)
    profile: str | None = None  # AWS_PROFILE


@dataclass(frozen=True, kw_only=True)
class GitHubRun:
    """The workflow run a step of GitHub Actions is part of, and how to reach its API."""

    api_url: str = "https://api.github.com"  # GITHUB_API_URL (another for GitHub Enterprise, or a test's)
    server_url: str = "https://github.com"  # GITHUB_SERVER_URL
    repository: str = ""  # GITHUB_REPOSITORY: owner/name
    run_id: str = ""  # GITHUB_RUN_ID
    token: str | None = field(default=None, repr=False)  # GITHUB_TOKEN, as the workflow passes it
    needs: str | None = None  # WHEELWORKS_NEEDS: the job's toJSON(needs), the results of the jobs before it

    @property
    def run_url(self) -> str:
        return f"{self.server_url}/{self.repository}/actions/runs/{self.run_id}"


@dataclass(frozen=True, kw_only=True)
class Settings:
    env: Mapping[str, str] = field(repr=False)  # the base environment of subprocesses
    cache_dir: Path  # --cache-dir, $WHEELWORKS_CACHE_DIR, else the user cache folder
    pythons: tuple[Path, ...] = ()  # $WHEELWORKS_PYTHONS: interpreters to prefer
    pyenv_root: Path | None = None  # $PYENV_ROOT, else ~/.pyenv
    tool_cache: Path | None = None  # $RUNNER_TOOL_CACHE: actions/setup-python's CPythons
    build_commit: tuple[str, str] | None = None  # (ref, the variable that gave it), over the config's
    source_date_epoch: int | None = None  # $SOURCE_DATE_EPOCH, for a source with no commit time
    interactive: bool = False  # not on CI and TERM is not dumb: a live view where there is a terminal
    github_actions: bool = False  # on GitHub Actions: secrets are masked with ::add-mask::
    github: GitHubRun = field(default_factory=GitHubRun)
    image: str | None = None  # $WHEELWORKS_IMAGE: the container image a CI job builds in, by digest
    s3: S3Credentials = field(default_factory=S3Credentials)
    twine_username: str | None = None  # $TWINE_USERNAME, as twine's CLI reads it
    twine_password: str | None = field(default=None, repr=False)
    private_key: PrivateKey = field(default_factory=PrivateKey, repr=False)


def from_environment(env: Mapping[str, str], *, cache_dir: Path | None = None) -> Settings:
    """The settings ``env`` (the process environment, at the CLI) gives; ``cache_dir`` (a
    flag) outranks the variable."""
    home = Path(env.get("HOME") or Path.home())
    commit = next(((env[var], var) for var in BUILD_COMMIT_VARS if env.get(var)), None)
    try:
        epoch = int(env["SOURCE_DATE_EPOCH"]) if env.get("SOURCE_DATE_EPOCH") else None
    except ValueError:
        epoch = None  # as reproducible-builds.org says: ignore a value that is not a number
    return Settings(
        env=dict(env),
        cache_dir=cache_dir.resolve() if cache_dir else default_cache_dir(env),
        pythons=tuple(Path(p) for p in env.get("WHEELWORKS_PYTHONS", "").split(os.pathsep) if p),
        pyenv_root=Path(env["PYENV_ROOT"]) if env.get("PYENV_ROOT") else home / ".pyenv",
        tool_cache=Path(env["RUNNER_TOOL_CACHE"]) if env.get("RUNNER_TOOL_CACHE") else None,
        build_commit=commit,
        source_date_epoch=epoch,
        interactive=not env.get("CI") and env.get("TERM") != "dumb",
        github_actions=env.get("GITHUB_ACTIONS") == "true",
        github=GitHubRun(
            api_url=(env.get("GITHUB_API_URL") or GitHubRun.api_url).rstrip("/"),
            server_url=(env.get("GITHUB_SERVER_URL") or GitHubRun.server_url).rstrip("/"),
            repository=env.get("GITHUB_REPOSITORY", ""),
            run_id=env.get("GITHUB_RUN_ID", ""),
            token=env.get("GITHUB_TOKEN") or None,
            needs=env.get("WHEELWORKS_NEEDS") or None,
        ),
        image=env.get("WHEELWORKS_IMAGE") or None,
        s3=S3Credentials(
            endpoint=env.get("AWS_ENDPOINT_URL") or None,
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            access_key_id=env.get("AWS_ACCESS_KEY_ID") or None,
            secret_access_key=env.get("AWS_SECRET_ACCESS_KEY") or None,
            session_token=env.get("AWS_SESSION_TOKEN") or None,
            profile=env.get("AWS_PROFILE") or None,
        ),
        twine_username=env.get("TWINE_USERNAME"),
        twine_password=env.get("TWINE_PASSWORD"),
        private_key=private_key(env),
    )


def default_cache_dir(env: Mapping[str, str]) -> Path:
    """$WHEELWORKS_CACHE_DIR, else the platform's user cache folder (XDG on Linux,
    ~/Library/Caches on macOS, %LOCALAPPDATA% on Windows)."""
    if env.get("WHEELWORKS_CACHE_DIR"):
        return Path(env["WHEELWORKS_CACHE_DIR"]).expanduser().resolve()
    if env.get("XDG_CACHE_HOME"):  # platformdirs reads os.environ; the env given here wins
        return Path(env["XDG_CACHE_HOME"]) / "wheelworks"
    return Path(platformdirs.user_cache_dir("wheelworks", appauthor=False))
