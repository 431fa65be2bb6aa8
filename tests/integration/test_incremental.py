"""Incremental nightlies: unchanged inputs reuse the wheel, any changed input rebuilds,
two cold builds give the same bytes, and an unchanged nightly publishes nothing."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from tests.fixtures import _git
from wheelworks import cli
from wheelworks.build import interpreters
from wheelworks.build.frontend import frontend
from wheelworks.build.pipeline import BuildOptions
from wheelworks.build.records import Records
from wheelworks.ci import watch
from wheelworks.config.model import load
from wheelworks.config.settings import from_environment
from wheelworks.containers.local import LocalStore
from wheelworks.shared import platforms
from wheelworks.shared.cache import Cache

pytestmark = pytest.mark.slow


def _build(config: Path, cache: Path, *extra: str):
    assert cli.main(["build", "--config", str(config), "--cache-dir", str(cache), *extra]) == 0
    return Records(config.parent / "builds").load("latest")


def _steps(record) -> list[list[str]]:
    return [[s.name for s in t.steps] for t in record.targets]


def test_an_unchanged_build_reuses_every_wheel(make_config, pythons, tmp_path):
    config = make_config(build=f"[build]\npython = {pythons[-2:]!r}\n")
    first = _build(config, tmp_path / "cache")
    start = time.monotonic()
    second = _build(config, tmp_path / "cache")
    assert time.monotonic() - start < 15
    assert _steps(second) == [["reused"], ["reused"]]
    assert [t.reused_from for t in second.targets] == [first.id, first.id]
    assert [t.sha256 for t in second.targets] == [t.sha256 for t in first.targets]
    assert [t.key for t in second.targets] == [t.key for t in first.targets]
    logs = Records(config.parent / "builds").folder(second.id) / "logs"
    assert not list(logs.rglob("build.log"))  # no build, repair or test ran
    # `log` on a reused target shows the logs of the build that made its wheel, and says so.
    identifier = second.targets[0].identifier
    out = subprocess.run([sys.executable, "-m", "wheelworks", "log", "--config", str(config), second.id, identifier],
                         capture_output=True, text=True, check=True).stdout
    assert out.startswith(f"{identifier} in build {second.id} reused the wheel of build {first.id}; its logs:")
    assert "==> " in out and "build.log" in out

    forced = _build(config, tmp_path / "cache", "--rebuild")
    assert all("build" in steps for steps in _steps(forced))
    # A wheel that is gone, or changed, is not reused.
    (Path(forced.wheelhouse) / forced.targets[0].wheel).write_bytes(b"not the wheel")
    again = _build(config, tmp_path / "cache")
    assert _steps(again)[0][0] == "build" and _steps(again)[1] == ["reused"]


@pytest.mark.parametrize("change", ["commit", "recipe", "environment", "interpreter"])
def test_each_kind_of_input_rebuilds(make_config, pythons, pytally_repo, tmp_path, change):
    repo = Path(shutil.copytree(pytally_repo, tmp_path / "repo"))
    config = make_config(build=f'[build]\npython = {pythons[-1:]!r}\nenvironment = {{ SALT = "1" }}\n')
    config.write_text(config.read_text().replace(str(pytally_repo), str(repo)))
    first = _build(config, tmp_path / "cache")
    if change == "commit":
        (repo / "README").write_text("a new commit\n")
        _git(repo, "add", "README")
        _git(repo, "commit", "-q", "-m", "new")
    elif change == "recipe":
        config.write_text(config.read_text().replace('system = "cmake"', 'system = "cmake"\nargs = ["-DX=1"]'))
    elif change == "environment":
        config.write_text(config.read_text().replace('SALT = "1"', 'SALT = "2"'))
    else:  # the same CPython through another path (a link in another folder) is another interpreter
        link = tmp_path / "other-bin" / "python3"
        link.parent.mkdir()
        link.symlink_to(Path(first.targets[0].interpreter).resolve())
        config.write_text(config.read_text().replace("[build]", f'[build]\ninterpreters = ["{link}"]'))
    second = _build(config, tmp_path / "cache")
    assert _steps(second)[0][0] == "build", change
    assert second.targets[0].key != first.targets[0].key


def test_two_cold_builds_give_byte_identical_wheels(make_config, pythons, tmp_path):
    shas = []
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        config = make_config(build=f"[build]\npython = {pythons[-1:]!r}\n")
        moved = shutil.move(str(config), folder / "wheelworks.toml")
        shas.append(_build(Path(moved), folder / "cache").targets[0].sha256)  # empty caches, other folders
    assert shas[0] == shas[1]


def test_a_nightly_with_nothing_new_builds_and_publishes_nothing(make_config, pythons, tmp_path, monkeypatch):
    config_path = make_config(build=f"[build]\npython = {pythons[-1:]!r}\n")
    config = load(config_path)
    options = BuildOptions(wheelhouse=tmp_path / "wheelhouse", builds_dir=tmp_path / "builds",
                           jobs=1, settings=from_environment(os.environ, cache_dir=tmp_path / "cache"))
    first = watch.check(config, options, "* * * * *", time.time())
    assert first.ok and first.published == 1
    store = LocalStore(tmp_path / "containers" / "nightly")
    writes: list[str] = []
    put, delete = LocalStore.put, LocalStore.delete
    monkeypatch.setattr(LocalStore, "put", lambda self, key, *a, **k: (writes.append(key), put(self, key, *a, **k))[1])
    monkeypatch.setattr(LocalStore, "delete", lambda self, key: (writes.append(key), delete(self, key))[1])
    before = {p: p.stat().st_mtime_ns for p in store.root.rglob("*") if p.is_file()}
    tick = watch.check(config, options, "* * * * *", time.time() + 120)  # a cron tick, no new commit
    assert tick.reason == "schedule" and tick.ok and tick.published == 0
    assert [[s.name for s in t.steps] for t in tick.record.targets] == [["reused"]]
    assert writes == []  # not one byte written to the container
    assert {p: p.stat().st_mtime_ns for p in store.root.rglob("*") if p.is_file()} == before


def _helper_wheel(folder: Path, version: str) -> None:
    """A pure wheel of ``wwhelper`` (a build requirement only this test's index has)."""
    name = f"wwhelper-{version}"
    files = {
        "wwhelper/__init__.py": f"VERSION = {version!r}\n",
        f"{name}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: wwhelper\nVersion: {version}\n",
        f"{name}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = [f"{path},sha256={base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b'=').decode()},"
              f"{len(text.encode())}" for path, text in files.items()]
    files[f"{name}.dist-info/RECORD"] = "\n".join([*record, f"{name}.dist-info/RECORD,,"]) + "\n"
    with zipfile.ZipFile(folder / f"{name}-py3-none-any.whl", "w") as wheel:
        for path, text in files.items():
            wheel.writestr(path, text)


@pytest.mark.parametrize("frontend", ["build[uv]", "uv"])
def test_a_new_release_of_a_build_requirement_rebuilds_once_resolved_again(pythons, tmp_path, monkeypatch, frontend):
    links = tmp_path / "links"
    links.mkdir()
    _helper_wheel(links, "1.0")
    monkeypatch.setenv("UV_FIND_LINKS", str(links))  # beside PyPI, which has setuptools
    project = tmp_path / "project"
    (project / "src" / "purehelp").mkdir(parents=True)
    (project / "src" / "purehelp" / "__init__.py").write_text("")
    (project / "pyproject.toml").write_text(textwrap.dedent("""
        [build-system]
        requires = ["setuptools>=61", "wwhelper>=1.0"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "purehelp"
        version = "1.0"
    """))
    # The wheel says which wwhelper its build environment held.
    (project / "setup.py").write_text(
        "import pathlib, wwhelper, setuptools\n"
        "pathlib.Path('src/purehelp/_helper.py').write_text(f'HELPER = {wwhelper.VERSION!r}\\n')\n"
        "setuptools.setup()\n")
    config = tmp_path / "wheelworks.toml"
    config.write_text(f'[project]\nname = "purehelp"\nrepo = "{project}"\n'
                      f'[build]\npython = {pythons[-1:]!r}\nfrontend = "{frontend}"\n'
                      '[test]\ncommand = "python -c \'import purehelp\'"\n')
    cache = tmp_path / "cache"

    def helper(record) -> str:
        with zipfile.ZipFile(Path(record.wheelhouse) / record.targets[0].wheel) as wheel:
            return wheel.read("purehelp/_helper.py").decode()

    first = _build(config, cache)
    assert "wwhelper==1.0" in first.targets[0].build_requires and helper(first) == "HELPER = '1.0'\n"

    _helper_wheel(links, "1.1")  # released; the resolution is still fresh: nothing changed
    second = _build(config, cache)
    assert _steps(second) == [["reused"]] and "wwhelper==1.0" in second.targets[0].build_requires
    forced = _build(config, cache, "--rebuild")  # built again, still of what was resolved
    assert helper(forced) == "HELPER = '1.0'\n"

    for resolution in (cache / "buildenvs").glob("*.resolved.json"):  # a day later
        data = json.loads(resolution.read_text())
        resolution.write_text(json.dumps({**data, "time": data["time"] - 2 * 86400}))
    third = _build(config, cache)
    assert _steps(third)[0][0] == "build" and third.targets[0].key != first.targets[0].key
    assert "wwhelper==1.1" in third.targets[0].build_requires and helper(third) == "HELPER = '1.1'\n"
    if frontend == "build[uv]":
        used = [p.name for p in (cache / "buildenvs").glob("*/lib/python*/site-packages/wwhelper-*.dist-info")]
        assert sorted(used) == ["wwhelper-1.0.dist-info", "wwhelper-1.1.dist-info"]  # a new environment, the old one kept


def test_a_resolution_a_published_record_carries_stands_for_one_made_here_while_young(pythons, tmp_path):
    # A fresh runner has no resolution of its own; the container's records carry theirs.
    (interpreter,) = interpreters.discover(pythons[-1:], (), from_environment(os.environ), platforms.native().os).values()
    source = tmp_path / "project"
    source.mkdir()
    (source / "pyproject.toml").write_text('[build-system]\nrequires = ["setuptools>=61"]\n')
    chosen = frontend("build[uv]", os.environ, ())
    now, hour = time.time(), 3600.0

    def requires(cache: str, log: str, at: float, known=()):
        return chosen.requires(interpreter, source, Cache(tmp_path / cache), os.environ, tmp_path / log, at, hour,
                               known)

    made = requires("first", "first.log", now)
    assert "uv" in (tmp_path / "first.log").read_text() and any(p.startswith("setuptools==") for p in made.pins)
    taken = requires("fresh", "taken.log", now + 60, [made])
    assert taken == made and not (tmp_path / "taken.log").exists()  # nothing ran
    assert requires("fresh", "kept.log", now + 120) == made and not (tmp_path / "kept.log").exists()  # and kept

    elsewhere = [replace(made, time=now - 2 * hour), replace(made, of="another interpreter or requirements")]
    again = requires("other", "again.log", now, elsewhere)
    assert again.time == now and "pip compile" in (tmp_path / "again.log").read_text()  # too old, or not this one's

    # Requirements as written (no uv) are no resolution: another machine never takes them for its own.
    unresolved = frontend("build", os.environ, ()).requires(interpreter, source, Cache(tmp_path / "nouv"), os.environ,
                                                           tmp_path / "nouv.log", now, hour)
    assert unresolved.pins == ("setuptools>=61",) and unresolved.of == ""


def test_a_folder_project_holding_its_outputs_and_the_cache_is_reused(pythons, tmp_path):
    # Not a git repository: the folder is copied, but never wheelworks' own folders in it
    # (the cache, builds/, wheelhouse/), or it would copy itself and its key never repeat.
    project = tmp_path / "project"
    (project / "src" / "purefold").mkdir(parents=True)
    (project / "src" / "purefold" / "__init__.py").write_text("")
    (project / "pyproject.toml").write_text(textwrap.dedent(f"""
        [build-system]
        requires = ["setuptools>=61"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "purefold"
        version = "1.0"
        [tool.wheelworks.build]
        python = {pythons[-1:]!r}
    """))
    first = _build(project / "pyproject.toml", project / ".cache")
    assert first.source.startswith("folder:") and _steps(first)[0][0] == "build"
    second = _build(project / "pyproject.toml", project / ".cache")
    assert _steps(second) == [["reused"]] and second.source == first.source
