"""Library recipes for real: a dependency chain across build systems, and its cache keys."""

from __future__ import annotations

import os
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from tests.fixtures import FIXTURES
from wheelworks.build import libraries
from wheelworks.shared import platforms
from wheelworks.shared.cache import Cache
from wheelworks.shared.errors import LibraryError
from wheelworks.config.recipes import LibraryRecipe

pytestmark = pytest.mark.slow

TALLY = LibraryRecipe(name="libtally", version="1.2.3", system="cmake", path=FIXTURES / "libtally")
SCORE = LibraryRecipe(name="libscore", version="0.1", system="make", path=FIXTURES / "libscore", depends=("libtally",))
NOTES = LibraryRecipe(name="notes", version="1", system="script",
                      script='mkdir -p "$PREFIX/share" "$PREFIX/lib" && echo "jobs=$JOBS" > {prefix}/share/notes.txt'
                             ' && ar rcs {prefix}/lib/libnotes.a',
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


def test_depends_is_transitive(tmp_path):
    """top depends on libscore only; libscore's libtally must be on top's search paths too."""
    top = LibraryRecipe(name="top", version="1", system="script", path=FIXTURES / "libscore", depends=("libscore",),
                        script='case "$CPATH:$LIBRARY_PATH:$PKG_CONFIG_PATH" in *libtally-1.2.3-*) ;; *) exit 3;; esac;'
                               ' test -f "$(pkg-config --variable=libdir tally)/libtally.so.1"'
                               ' && mkdir -p {prefix}/lib && ar rcs {prefix}/lib/libtop.a')
    prefix = libraries.build_all([TALLY, SCORE, top], _how(Cache(tmp_path / "cache"), tmp_path / "logs"))
    assert (prefix.path / "lib" / "libtop.a").exists()


def test_a_recipe_env_is_its_own_and_in_its_key(tmp_path):
    cache = Cache(tmp_path / "cache")
    flags = replace(TALLY, env={"CFLAGS": "-O1 -DTALLY_FLAVOUR=1"})
    first = libraries.build_all([flags], _how(cache, tmp_path / "a"))
    assert not first.libraries[0].cached and "TALLY_FLAVOUR" not in os.environ.get("CFLAGS", "")
    assert libraries.build_all([flags], _how(cache, tmp_path / "b")).libraries[0].cached  # unchanged: reused
    changed = libraries.build_all([replace(flags, env={"CFLAGS": "-O2"})], _how(cache, tmp_path / "c"))
    assert not changed.libraries[0].cached and changed.libraries[0].key != first.libraries[0].key
    # The machine's own CFLAGS, or another compiler, is another build too.
    how = replace(_how(cache, tmp_path / "d"), env={**os.environ, "CFLAGS": "-O0"})
    assert not libraries.build_all([TALLY], how).libraries[0].cached
    assert libraries.build_all([TALLY], replace(how, logs=tmp_path / "e")).libraries[0].cached


def test_a_recipe_that_installs_no_library_fails_in_one_line(tmp_path):
    nothing = LibraryRecipe(name="nothing", version="1", system="script", path=FIXTURES / "libscore",
                            script="make libscore.so CC=cc LDFLAGS= || cc -shared -fPIC -o libscore.so score.c")
    with pytest.raises(LibraryError) as info:
        libraries.build_all([TALLY, replace(nothing, depends=("libtally",))], _how(Cache(tmp_path / "cache"), tmp_path / "l"))
    message = str(info.value)
    assert "library 'nothing' installed no library into its prefix" in message and "\n" not in message
    assert "the build left" in message and "libscore.so" in message  # where the build put it


def test_a_cmake_project_with_its_own_install_dirs_installs_into_the_prefix(tmp_path):
    """An old bundled GNUInstallDirs caches LIBDIR as a PATH: an untyped -D value becomes
    relative to the source tree, and the library would be installed there."""
    source = tmp_path / "libbundled"
    subprocess.run(["cp", "-r", str(FIXTURES / "libtally"), str(source)], check=True)
    cmake = source / "CMakeLists.txt"
    cmake.write_text(cmake.read_text().replace(
        "include(GNUInstallDirs)",
        'set(CMAKE_INSTALL_LIBDIR "lib64" CACHE PATH "object code libraries")\n'
        'set(CMAKE_INSTALL_INCLUDEDIR "include" CACHE PATH "C header files")'))
    prefix = libraries.build_all([replace(TALLY, path=source)], _how(Cache(tmp_path / "cache"), tmp_path / "logs"))
    assert (prefix.libraries[0].prefix / "lib" / "libtally.so.1").exists()


def _waiting_for(me: str, other: str, meeting: Path) -> LibraryRecipe:
    """A recipe that starts, then waits up to 3 s for ``other`` to have started too."""
    script = (f'touch "$MEETING/{me}"; for i in $(seq 30); do [ -e "$MEETING/{other}" ] && break; sleep 0.1; done;'
              f' [ -e "$MEETING/{other}" ] && mkdir -p {{prefix}}/lib && ar rcs {{prefix}}/lib/lib{me}.a')
    return LibraryRecipe(name=me, version="1", system="script", path=FIXTURES / "libscore", script=script,
                         env={"MEETING": str(meeting)})


def test_independent_recipes_build_at_the_same_time(tmp_path):
    """Each waits until the other has started: built one after another, neither could finish."""
    meeting = tmp_path / "meeting"
    meeting.mkdir()
    after = LibraryRecipe(name="after", version="1", system="script", path=FIXTURES / "libscore", depends=("a", "b"),
                          script='test -f "$(echo $LIBRARY_PATH | tr : "\\n" | grep /a-1- | head -1)/liba.a"'
                                 ' && mkdir -p {prefix}/lib && ar rcs {prefix}/lib/libafter.a')
    prefix = libraries.build_all([_waiting_for("a", "b", meeting), _waiting_for("b", "a", meeting), after],
                                 _how(Cache(tmp_path / "cache"), tmp_path / "logs"))
    assert [lib.name for lib in prefix.libraries] == ["a", "b", "after"]  # record order is the config's
    assert (prefix.path / "lib" / "libafter.a").exists()


def test_one_recipe_at_a_time_when_asked(tmp_path):
    alone = tmp_path / "alone"
    alone.mkdir()
    with pytest.raises(LibraryError, match="library 'a' failed to build"):  # a waits in vain for b
        libraries.build_all([_waiting_for("a", "b", alone), _waiting_for("b", "a", alone)],
                            replace(_how(Cache(tmp_path / "cache"), tmp_path / "logs"), at_once=1))
    assert not (alone / "b").exists()  # and b never started: the first failure stops the rest
