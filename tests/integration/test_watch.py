"""`wheelworks watch`: builds and publishes new commits and cron ticks; survives failures."""

from __future__ import annotations

import os

import subprocess
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests import fixtures
from wheelworks.config.settings import from_environment
from wheelworks import cli
from wheelworks.config import model as config
from wheelworks.ci import watch
from wheelworks.containers.local import LocalStore
from wheelworks.build.pipeline import BuildOptions
from wheelworks.build.records import Records

pytestmark = pytest.mark.slow


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return fixtures.pytally_repo(tmp_path / "repo")


def _commit(repo: Path, version: str) -> None:
    pyproject = repo / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('version = "0.1.0"', f'version = "{version}"'))
    subprocess.run([*fixtures.GIT, "-C", str(repo), "commit", "-q", "-am", version], check=True)


def _config(make_config, repo: Path, pythons: list[str], test: str = "import pytally") -> Path:
    return make_config(
        project=f'[project]\nname = "pytally"\nrepo = "{repo}"\nbuild-commit = "main"\n',
        build=f'[build]\npython = {pythons[-1:]!r}\nfrontend = "uv"\n',
        test=f'[test]\ncommand = "python -c \'{test}\'"\n',
    )


def _nightly(config_path: Path) -> list[str]:
    return sorted(k.rsplit("/", 1)[1] for k in LocalStore(config_path.parent / "containers" / "nightly").list("files/") if k.endswith(".whl"))


def test_once_builds_new_commits_and_cron_ticks_only(make_config, repo, pythons, cache_dir, capsys):
    path = _config(make_config, repo, pythons)
    once = ["watch", "--once", "--config", str(path), "--cache-dir", str(cache_dir), "--no-schedule"]
    assert cli.main(once) == 0
    assert "new commit: build" in capsys.readouterr().out
    assert [n.split("-")[1] for n in _nightly(path)] == ["0.1.0"]

    assert cli.main(once) == 0
    assert "nothing to do: main is at" in capsys.readouterr().out
    assert len(Records(path.parent / "builds").ids()) == 1

    _commit(repo, "0.1.1")
    assert cli.main(once) == 0
    assert "1 wheels published" in capsys.readouterr().out
    assert [n.split("-")[1] for n in _nightly(path)] == ["0.1.0", "0.1.1"]

    # No new commit, but a tick of the schedule has passed since the last check.
    loaded = config.load(path)
    options = BuildOptions(wheelhouse=path.parent / "wheelhouse", builds_dir=path.parent / "builds",
                           settings=from_environment(os.environ, cache_dir=cache_dir))
    state = watch._load(path.parent / "builds" / watch.STATE)
    hourly = f"{(datetime.fromtimestamp(state.checked, timezone.utc).minute + 30) % 60} * * * *"  # ticks 30 min away
    assert watch.check(loaded, options, hourly, state.checked + 60, None).reason is None
    assert watch.check(loaded, options, hourly, state.checked + 60 + 3600, None).reason == "schedule"
    assert len(Records(path.parent / "builds").ids()) == 3


def test_the_loop_survives_a_failing_build(make_config, repo, pythons, cache_dir, tmp_path):
    path = _config(make_config, repo, pythons, test="import sys; sys.exit(1)")
    options = BuildOptions(wheelhouse=path.parent / "wheelhouse", builds_dir=path.parent / "builds",
                           settings=from_environment(os.environ, cache_dir=cache_dir))
    results: list[watch.CheckResult] = []
    stop = threading.Event()
    loop = threading.Thread(target=watch.run_forever, args=(lambda: config.load(path), options, None, 0.2,
                                                            results.append, stop))
    loop.start()
    try:
        _wait(lambda: any(r.record for r in results))
        assert results[0].record.status == "failed" and not results[0].ok
        _config(make_config, repo, pythons)  # the test fixed, and a new commit to build
        _commit(repo, "0.1.1")
        _wait(lambda: sum(r.record is not None for r in results) == 2)
    finally:
        stop.set()
        loop.join(timeout=60)
    built = [r for r in results if r.record]
    assert [r.record.status for r in built] == ["failed", "ok"] and built[1].published == 1
    assert all(r.record is None for r in results if r not in built)  # the polls between did nothing


def _wait(condition, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "watch did not get there in time"
        time.sleep(0.1)


def test_bad_schedule_is_one_line(make_config, repo, pythons, capsys):
    assert cli.main(["watch", "--once", "--config", str(_config(make_config, repo, pythons)), "--schedule", "every day"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["wheelworks: error: schedule 'every day' is not a cron expression of five fields (minute hour day month weekday) (e.g. \"0 3 * * *\" for 03:00 daily)"]
