"""Build backends that run tools of their build environment: meson-python runs `meson`
and `ninja`, scikit-build-core runs `cmake` and `ninja`. On a machine with none of those
on PATH, the build finds the copies its build environment installed from PyPI."""

from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path

import pytest

from tests.fixtures import FIXTURES, git_repo
from wheelworks import cli
from wheelworks.build.records import Records

pytestmark = pytest.mark.slow

# What a machine without build tools of its own lacks; the build environments bring them.
BUILD_TOOLS = ("meson", "ninja", "cmake", "ctest", "cpack", "ccmake")


@pytest.fixture
def bare_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PATH as this machine has it, less every meson, ninja and cmake: one folder of links."""
    shadow = tmp_path / "bin"
    shadow.mkdir()
    for folder in os.environ["PATH"].split(os.pathsep):
        if not folder or not Path(folder).is_dir():
            continue
        for entry in Path(folder).iterdir():
            link = shadow / entry.name
            if entry.name not in BUILD_TOOLS and not link.exists() and os.access(entry, os.X_OK):
                link.symlink_to(entry)
    monkeypatch.setenv("PATH", str(shadow))
    return shadow


# The tools each extension says built it (its console script prints them).
TOOLS = {"mesontally": ("MESON", "NINJA"), "skbtally": ("CMAKE", "MAKE")}


@pytest.mark.parametrize(("project", "frontend"), [
    ("mesontally", "build[uv]"), ("mesontally", "uv"), ("mesontally", "build"),
    ("skbtally", "build[uv]"), ("skbtally", "uv"),
])
def test_backend_tools_come_from_the_build_environment(project, frontend, bare_path, pythons, tmp_path):
    repo = git_repo(FIXTURES / project, tmp_path / project)
    config = tmp_path / "wheelworks.toml"
    config.write_text(textwrap.dedent(f"""
        [project]
        name = "{project}"
        repo = "{repo}"
        [build]
        python = ["{pythons[-1]}"]
        frontend = "{frontend}"
        [test]
        # The wheel's console script is on the test environment's PATH only.
        command = "python -c 'import {project} as m; assert m.twice(21) == 42' && {project}-tools"
    """))
    assert cli.main(["build", "--config", str(config), "--cache-dir", str(tmp_path / "cache")]) == 0

    store = Records(tmp_path / "builds")
    record = store.load("latest")
    (target,) = record.targets
    assert target.status == "ok" and re.search(r"-cp3\d+-manylinux", target.wheel), target
    log = (store.folder(record.id) / "logs" / target.identifier / "test.log").read_text()
    found = dict(re.findall(r"^(\w+)=(.+)$", log, re.MULTILINE))
    for name in TOOLS[project]:
        tool = Path(found[name])
        # Built with a tool of the build environment, not one of the machine's (it has none).
        assert tool.is_absolute() and tool.parent != bare_path, (name, tool)
        assert tool.name in BUILD_TOOLS, (name, tool)
        if frontend != "uv":  # wheelworks' cached build environment; uv keeps its own
            assert tool.is_relative_to(tmp_path / "cache" / "buildenvs"), (name, tool)


@pytest.mark.parametrize("frontend", ["build[uv]", "uv", "build"])
def test_config_settings_reach_the_backend_and_the_key(frontend, pythons, cache_dir, tmp_path, capsys):
    repo = git_repo(FIXTURES / "mesontally", tmp_path / "mesontally")
    config = tmp_path / "wheelworks.toml"

    def build(flavour: str) -> str:
        config.write_text(textwrap.dedent(f"""
            [project]
            name = "mesontally"
            repo = "{repo}"
            [build]
            python = ["{pythons[-1]}"]
            frontend = "{frontend}"
            config-settings = {{ "setup-args" = "-Dflavour={flavour}" }}
            [test]
            command = "mesontally-tools"
        """))
        assert cli.main(["build", "--config", str(config), "--cache-dir", str(cache_dir)]) == 0
        store = Records(tmp_path / "builds")
        record = store.load("latest")
        (target,) = record.targets
        log = (store.folder(record.id) / "logs" / target.identifier / "test.log").read_text()
        return dict(re.findall(r"^(\w+)=(.+)$", log, re.MULTILINE))["FLAVOUR"]

    assert build("spicy") == "spicy"
    assert build("mild") == "mild"  # another setting is another wheel: not reused
