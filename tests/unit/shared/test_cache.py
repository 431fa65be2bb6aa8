"""The cache: entries made once, and swept once no build has used them for a while."""

import os
import time

from wheelworks.shared.cache import IDLE, Cache


def _make(cache: Cache, kind: str, name: str) -> None:
    cache.ensure(cache.path(kind, name), lambda entry: (entry / "made").write_text(name))


def _age(path, seconds: float) -> None:
    os.utime(path, (time.time() - seconds, time.time() - seconds))


def test_entries_unused_for_long_are_swept_and_used_ones_kept(tmp_path):
    cache = Cache(tmp_path)
    for name in ("old-env", "used-env"):
        _make(cache, "buildenvs", name)
    _make(cache, "libraries", "old-lib")
    (tmp_path / "buildenvs" / "py3.12-x.resolved.json").write_text("{}")
    for path in ("buildenvs/old-env.done", "buildenvs/used-env.done", "libraries/old-lib.done",
                 "buildenvs/py3.12-x.resolved.json"):
        _age(tmp_path / path, IDLE + 60)
    assert cache.ensure(cache.path("buildenvs", "used-env"), lambda entry: None)  # a hit marks it used
    assert cache.sweep_idle(time.time()) == ["buildenvs/old-env", "libraries/old-lib"]
    assert sorted(p.name for p in (tmp_path / "buildenvs").iterdir() if not p.name.endswith(".lock")) == [
        "used-env", "used-env.done"]
    assert not (tmp_path / "libraries" / "old-lib").exists()
    # Wanted again after all: made anew.
    assert not cache.ensure(cache.path("libraries", "old-lib"), lambda entry: (entry / "made").write_text("again"))
    assert (tmp_path / "libraries" / "old-lib" / "made").read_text() == "again"


def test_the_sweep_leaves_sources_downloads_and_recent_entries(tmp_path):
    cache = Cache(tmp_path)
    _make(cache, "sources", "repo.git")
    _make(cache, "prefixes", "fresh")
    _age(tmp_path / "sources" / "repo.git.done", IDLE * 2)
    assert cache.sweep_idle(time.time()) == []
    assert (tmp_path / "sources" / "repo.git" / "made").is_file() and (tmp_path / "prefixes" / "fresh").is_dir()
