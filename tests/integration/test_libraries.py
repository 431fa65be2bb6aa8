"""Library recipes for real: a dependency chain across build systems, and its cache keys."""

from __future__ import annotations

import os
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from tests.fixtures import FIXTURES
from wheelworks import libraries, platforms
from wheelworks.cache import Cache
from wheelworks.recipes import LibraryRecipe

pytestmark = pytest.mark.slow

TALLY = LibraryRecipe(name="libtally", version="1.2.3", system="cmake", path=FIXTURES / "libtally")
SCORE = LibraryRecipe(name="libscore", version="0.1", system="make", path=FIXTURES / "libscore", depends=("libtally",))
NOTES = LibraryRecipe(name="notes", version="1", system="script",
                      script='mkdir -p "$PREFIX/share" && echo "jobs=$JOBS" > {prefix}/share/notes.txt',
                      path=FIXTURES / "libscore")


def _how(cache: Cache, logs: Path) -> libraries.LibraryBuild:
    return libraries.LibraryBuild(cache=cache, platform=platforms.native(), logs=logs, jobs=2, env=os.environ)


def test_dependencies_build_first_and_are_visible_to_their_dependents(tmp_path):
    cache = Cache(tmp_path / "cache")
    prefix = libraries.build_all([TALLY, SCORE, NOTES], _how(cache, tmp_path / "logs"))
    merged = prefix.path
    assert (merged / "lib" / "libtally.so.1").exists() and (merged / "include" / "score.h").exists()
    needed = subprocess.run(["readelf", "-d", str(merged / "lib" / "libscore.so")], capture_output=True, text=True).stdout
    assert "[libtally.so.1]" in needed
    assert (merged / "share" / "notes.txt").read_text() == "jobs=2\n"
    assert "-ltally" in (tmp_path / "logs" / "libscore.log").read_text()

    again = libraries.build_all([TALLY, SCORE, NOTES], _how(cache, tmp_path / "logs2"))
    assert [lib.cached for lib in again.libraries] == [True, True, True] and again.path == merged

    # A change to libtally's recipe is a new libtally, so also a new libscore built on it.
    changed = libraries.build_all([replace(TALLY, args=("-DCMAKE_C_FLAGS=-O1",)), SCORE], _how(cache, tmp_path / "logs3"))
    assert [lib.cached for lib in changed.libraries] == [False, False]
    assert {lib.key for lib in changed.libraries}.isdisjoint(lib.key for lib in again.libraries)


def test_a_changed_source_folder_is_a_new_build(tmp_path):
    source = tmp_path / "libtally"
    subprocess.run(["cp", "-r", str(FIXTURES / "libtally"), str(source)], check=True)
    recipe = replace(TALLY, path=source)
    cache = Cache(tmp_path / "cache")
    first = libraries.build_all([recipe], _how(cache, tmp_path / "logs"))
    (source / "tally.c").write_text((source / "tally.c").read_text() + "\n/* changed */\n")
    second = libraries.build_all([recipe], _how(cache, tmp_path / "logs"))
    assert not second.libraries[0].cached and second.libraries[0].key != first.libraries[0].key
