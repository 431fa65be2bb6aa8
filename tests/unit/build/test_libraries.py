"""Library recipes: their commands, keys and search environments."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wheelworks.build.libraries import commands, recipe_key, search_environment
from wheelworks.config.recipes import LibraryRecipe
from wheelworks.shared.errors import WheelworksError

SRC, BUILD, PREFIX = Path("/s"), Path("/b"), Path("/p")


def _recipe(system: str, **kw) -> LibraryRecipe:
    return LibraryRecipe(name="z", version="1", system=system, path=Path("/z"), **kw)


def test_cmake_commands_install_into_the_prefix():
    cmds = commands(_recipe("cmake", args=("-DX=ON", "-DP={prefix}/x")), SRC, BUILD, PREFIX, 3)
    assert cmds[0][:4] == ["cmake", "-S", "/s", "-B"]
    assert "-DCMAKE_INSTALL_PREFIX:PATH=/p" in cmds[0] and cmds[0][-2:] == ["-DX=ON", "-DP=/p/x"]
    assert cmds[1:] == [["cmake", "--build", "/b", "--parallel", "3"], ["cmake", "--install", "/b"]]


def test_autotools_bootstraps_only_without_configure(tmp_path):
    assert commands(_recipe("autotools"), tmp_path, BUILD, PREFIX, 2)[0] == ["autoreconf", "-fi"]
    (tmp_path / "configure").touch()
    assert commands(_recipe("autotools", args=("--disable-static",)), tmp_path, BUILD, PREFIX, 2) == [
        ["./configure", "--prefix=/p", "--disable-static"], ["make", "-j2"], ["make", "install"],
    ]


def test_meson_make_and_script_commands():
    assert commands(_recipe("meson"), SRC, BUILD, PREFIX, 2)[0][:4] == ["meson", "setup", "/b", "/s"]
    assert commands(_recipe("make"), SRC, BUILD, PREFIX, 2) == [["make", "-j2", "PREFIX=/p"], ["make", "install", "PREFIX=/p"]]
    assert commands(_recipe("script", script="./build.sh {prefix}"), SRC, BUILD, PREFIX, 2) == ["./build.sh /p"]


def test_recipe_key_covers_args_dependencies_and_toolchain():
    base = recipe_key(_recipe("make"), [], "gcc 12")
    assert base == recipe_key(_recipe("make"), [], "gcc 12")
    assert base != recipe_key(_recipe("make", args=("X=1",)), [], "gcc 12")
    assert base != recipe_key(_recipe("make"), ["dep-key"], "gcc 12")
    assert base != recipe_key(_recipe("make"), [], "gcc 13")


def test_search_environment_puts_prefixes_first():
    sep = os.pathsep
    env = search_environment([PREFIX], {"PATH": "/usr/bin", "LD_LIBRARY_PATH": "/x"}, "linux")
    assert env["PATH"] == sep.join([str(PREFIX / "bin"), "/usr/bin"])
    assert env["LD_LIBRARY_PATH"] == sep.join([str(PREFIX / "lib"), str(PREFIX / "lib64"), "/x"])
    assert env["CPATH"] == str(PREFIX / "include")
    assert env["PKG_CONFIG_PATH"].split(sep)[0] == str(PREFIX / "lib" / "pkgconfig")


def test_search_environment_follows_the_target_os():
    mac = search_environment([PREFIX], {}, "macos")
    assert mac["DYLD_FALLBACK_LIBRARY_PATH"].startswith(str(PREFIX / "lib")) and "LD_LIBRARY_PATH" not in mac
    windows = search_environment([PREFIX], {}, "windows")
    assert windows["INCLUDE"] == str(PREFIX / "include") and windows["LIB"] == str(PREFIX / "lib")
    assert "CPATH" not in windows and "LD_LIBRARY_PATH" not in windows


def test_recipe_subdir_and_jobs_reach_the_commands(tmp_path):
    recipe = LibraryRecipe(name="lz4", version="1.9.4", system="meson", subdir="contrib/meson", jobs=1, path=tmp_path)
    setup, compile_, _ = commands(recipe, Path("/src"), Path("/b"), Path("/p"), 8)
    assert setup[3] == str(Path("/src/contrib/meson")) and compile_[-1] == "1"
    make = commands(LibraryRecipe(name="x", version="1", system="make", path=tmp_path), Path("/s"), Path("/b"),
                    Path("/p"), 3)
    assert make[0][1] == "-j3"  # no jobs in the recipe: the build's -j


def test_autotools_without_configure_or_autoreconf_is_one_line_naming_the_packages(tmp_path):
    from wheelworks.build import libraries
    from wheelworks.shared import platforms
    from wheelworks.shared.cache import Cache

    source = tmp_path / "libnoconf"
    source.mkdir()
    (source / "configure.ac").write_text("AC_INIT([x], [1])\n")
    recipe = LibraryRecipe(name="libnoconf", version="1", system="autotools", path=source)
    how = libraries.LibraryBuild(cache=Cache(tmp_path / "cache"), platform=platforms.native(), logs=tmp_path / "logs",
                                 jobs=1, env={"PATH": str(tmp_path / "empty")})
    with pytest.raises(WheelworksError) as error:
        libraries.build_all([recipe], how)
    assert "no configure script, and autoreconf is not installed" in str(error.value)
    assert "apt-get install autoconf automake libtool" in str(error.value) and "brew install" in str(error.value)
