"""Shared fixtures: the C library and package of tests/fixtures, made into real inputs."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tarfile
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from wheelworks import interpreters

FIXTURES = Path(__file__).parent / "fixtures"
VERSIONS = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13")
GIT = ["git", "-c", "user.name=wheelworks-tests", "-c", "user.email=tests@wheelworks.invalid"]


def _git(repo: Path, *args: str) -> str:
    return subprocess.run([*GIT, "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="session")
def pythons() -> list[str]:
    """CPythons the build tests target: three spread over what the machine has, or all of
    3.8-3.13 it has when WHEELWORKS_TEST_PYTHONS=all."""
    found = sorted(interpreters.discover(VERSIONS, (), os.environ), key=lambda v: int(v.split(".")[1]))
    if len(found) < 3:
        pytest.fail(f"the build tests need three CPythons of {VERSIONS}; found {found}")
    if os.environ.get("WHEELWORKS_TEST_PYTHONS") == "all":
        return found
    return [found[0], found[len(found) // 2], found[-1]]


@pytest.fixture(scope="session")
def libtally_tarball(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """libtally as a release tarball, and its sha256."""
    tarball = tmp_path_factory.mktemp("dist") / "libtally-1.2.3.tar.gz"
    with tarfile.open(tarball, "w:gz") as tf:
        tf.add(FIXTURES / "libtally", arcname="libtally-1.2.3")
    return tarball, hashlib.sha256(tarball.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def pytally_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository of pytally: main (tagged v0.1.0) and a branch `next` at 0.2.0."""
    repo = tmp_path_factory.mktemp("repos") / "pytally"
    shutil.copytree(FIXTURES / "pytally", repo)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "pytally 0.1.0")
    _git(repo, "tag", "v0.1.0")
    _git(repo, "checkout", "-q", "-b", "next")
    pyproject = repo / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('version = "0.1.0"', 'version = "0.2.0"'))
    _git(repo, "commit", "-q", "-am", "pytally 0.2.0")
    _git(repo, "checkout", "-q", "main")
    return repo


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One wheelworks cache for the session, so build tools venvs are made once."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def make_config(
    tmp_path: Path, pytally_repo: Path, libtally_tarball: tuple[Path, str], pythons: list[str]
) -> Callable[..., Path]:
    """Write a wheelworks.toml for pytally; keyword arguments replace whole sections."""

    def make(**sections: str) -> Path:
        tarball, sha256 = libtally_tarball
        defaults = {
            "project": f"""
                [project]
                name = "pytally"
                repo = "{pytally_repo}"
                build-commit = "main"
            """,
            "build": f"""
                [build]
                python = {pythons!r}
            """,
            "library": f"""
                [[library]]
                name = "libtally"
                version = "1.2.3"
                url = "{tarball.as_uri()}"
                sha256 = "{sha256}"
                system = "cmake"
            """,
            "test": """
                [test]
                command = "python -c 'import pytally; assert pytally.sum(2, 3, 4) == 9'"
            """,
        }
        defaults.update(sections)
        path = tmp_path / "wheelworks.toml"
        path.write_text("\n".join(textwrap.dedent(s) for s in defaults.values()))
        return path

    return make
