"""The build's ref is resolved once: one fetch per build, and every stage sees that commit."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.fixtures import FIXTURES, git_repo
from wheelworks.config.settings import from_environment
from wheelworks import cli
from wheelworks.config.model import load
from wheelworks.build.pipeline import BuildOptions, build_wheels
from wheelworks.build.records import Records

pytestmark = pytest.mark.slow

NETWORK = ("clone", "fetch", "ls-remote")  # the git commands that talk to the repository


@pytest.fixture
def counted_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """git on PATH through a wrapper that notes every call; returns the notes' file."""
    real = shutil.which("git")
    assert real
    calls = tmp_path / "git-calls"
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "git").write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{calls}"\nexec "{real}" "$@"\n')
    (shim / "git").chmod(stat.S_IRWXU)
    monkeypatch.setenv("PATH", f"{shim}{os.pathsep}{os.environ['PATH']}")
    return calls


def _remote_calls(calls: Path, repo: Path) -> list[str]:
    """The calls that reached ``repo`` (a clone of the cache's mirror is local, not a round trip)."""
    lines = calls.read_text().splitlines() if calls.exists() else []
    return [line for line in lines if any(f" {c} " in f" {line} " for c in NETWORK) and str(repo) in line]


def _bare(tmp_path: Path) -> Path:
    work = git_repo(FIXTURES / "mesontally", tmp_path / "work")
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "clone", "--quiet", "--bare", str(work), str(bare)], check=True)
    return bare


def test_a_build_fetches_once_and_uses_one_commit_throughout(counted_git, pythons, tmp_path):
    bare = _bare(tmp_path)
    config_path = tmp_path / "wheelworks.toml"
    config_path.write_text(textwrap.dedent(f"""
        [project]
        name = "mesontally"
        repo = "{bare}"
        build-commit = "main"
        [test]
        command = "python -c 'import mesontally'"
    """))  # no [build] python: the matrix comes from requires-python at the build commit
    config = load(config_path)
    options = BuildOptions(wheelhouse=tmp_path / "wheelhouse", builds_dir=tmp_path / "builds",
                           jobs=2, only=f"cp{pythons[-1].replace('.', '')}-*",
                           settings=from_environment(os.environ, cache_dir=tmp_path / "cache"))
    for build in range(2):  # the first clones the mirror, the second fetches it
        before = len(_remote_calls(counted_git, bare))
        record = build_wheels(config, options)
        assert record.status == "ok", record
        network = _remote_calls(counted_git, bare)[before:]
        assert len(network) == 1, network
        assert network[0].split()[0 if build == 0 else 2] in ("clone", "fetch"), network
    head = subprocess.run(["git", "-C", str(bare), "rev-parse", "main"], capture_output=True, text=True,
                          check=True).stdout.strip()
    assert record.commit == head
    log = (Records(tmp_path / "builds").folder(record.id) / "logs" / "source.log").read_text()
    assert "rev-parse" in log and "show" in log  # the matrix's read of pyproject.toml is in the build's log


def test_watch_builds_the_commit_it_saw(counted_git, pythons, tmp_path, monkeypatch):
    from wheelworks.ci import watch

    bare = _bare(tmp_path)
    config_path = tmp_path / "wheelworks.toml"
    config_path.write_text(f'[project]\nname = "mesontally"\nrepo = "{bare}"\nbuild-commit = "main"\n'
                           f'[build]\npython = ["{pythons[-1]}"]\n[test]\ncommand = "python -c \'import mesontally\'"\n')
    config = load(config_path)
    seen = subprocess.run(["git", "-C", str(bare), "rev-parse", "main"], capture_output=True, text=True,
                          check=True).stdout.strip()
    real_head = watch.remote_head

    def then_moved(*args, **kwargs):  # the branch moves right after watch looked
        head = real_head(*args, **kwargs)
        subprocess.run(["git", "-C", str(bare), "commit-tree", "-m", "next", "-p", head, f"{head}^{{tree}}"],
                       capture_output=True, check=True)
        moved = subprocess.run(["git", "-C", str(bare), "commit-tree", "-m", "next", "-p", head, f"{head}^{{tree}}"],
                               capture_output=True, text=True, check=True).stdout.strip()
        subprocess.run(["git", "-C", str(bare), "update-ref", "refs/heads/main", moved], check=True)
        return head

    monkeypatch.setattr(watch, "remote_head", then_moved)
    options = BuildOptions(wheelhouse=tmp_path / "wheelhouse", builds_dir=tmp_path / "builds",
                           jobs=1, settings=from_environment(os.environ, cache_dir=tmp_path / "cache"))
    result = watch.check(config, options, None, 0.0)
    assert result.record is not None and result.record.commit == seen != subprocess.run(
        ["git", "-C", str(bare), "rev-parse", "main"], capture_output=True, text=True, check=True).stdout.strip()


def test_release_and_ci_honour_the_cache_dir(tmp_path, monkeypatch, capsys):
    bare = _bare(tmp_path)
    config = tmp_path / "wheelworks.toml"
    config.write_text(f'[project]\nname = "mesontally"\nrepo = "{bare}"\n[containers.release]\nurl = "c"\n')
    (tmp_path / "c").mkdir()
    monkeypatch.setenv("WHEELWORKS_CACHE_DIR", str(tmp_path / "default-cache"))
    cli.main(["release", "--config", str(config), "--cache-dir", str(tmp_path / "mine"), "-n", "mesontally", "0.1.0"])
    capsys.readouterr()
    assert list((tmp_path / "mine" / "sources").glob("*.git")) and not (tmp_path / "default-cache").exists()
