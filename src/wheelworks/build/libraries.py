"""C/C++ libraries built from source into cached prefixes.

Each library is built once per platform into ``libraries/<name>-<version>-<key>``, where
the key hashes its recipe, its source and its dependencies' keys; every Python and every
later build reuses it. The wheel builds see all of them through one merged prefix.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from wheelworks.build import toolchain, tools, venvs
from wheelworks.config.recipes import LibraryRecipe
from wheelworks.shared.cache import Cache
from wheelworks.shared.downloads import save_verified, url_chunks
from wheelworks.shared.errors import CommandError, HashMismatch, LibraryError
from wheelworks.shared.hashes import digest, file_sha256, tree_digest
from wheelworks.shared.paths import prepend_path
from wheelworks.shared.platforms import Platform
from wheelworks.shared.run import run


@dataclass(frozen=True)
class BuiltLibrary:
    name: str
    key: str
    prefix: Path
    cached: bool
    seconds: float
    source: str  # the tarball's sha256, or a path recipe's source digest


@dataclass(frozen=True)
class Prefix:
    """What the wheel builds link against: every library merged into one folder."""

    path: Path
    libraries: tuple[BuiltLibrary, ...]
    toolchain: str  # what built them (_toolchain_id): the platform, compilers and their flags

    def environment(self, base: Mapping[str, str], os_name: str) -> dict[str, str]:
        return search_environment([self.path], base, os_name)


def search_variables(os_name: str) -> dict[str, tuple[str, ...]]:
    """The search-path variables a prefix goes on for ``os_name``, with the prefix's
    sub-folders each takes."""
    common = {"PATH": ("bin",), "PKG_CONFIG_PATH": ("lib/pkgconfig", "lib64/pkgconfig", "share/pkgconfig"),
              "CMAKE_PREFIX_PATH": ("",)}
    if os_name == "windows":
        return {**common, "INCLUDE": ("include",), "LIB": ("lib",)}
    loader = "DYLD_FALLBACK_LIBRARY_PATH" if os_name == "macos" else "LD_LIBRARY_PATH"
    return {**common, "CPATH": ("include",), "LIBRARY_PATH": ("lib", "lib64"), loader: ("lib", "lib64")}


def search_environment(prefixes: Sequence[Path], base: Mapping[str, str], os_name: str) -> dict[str, str]:
    """``base`` with ``prefixes`` put first on every compiler, linker and loader search path."""
    env = dict(base)
    for var, subdirs in search_variables(os_name).items():
        env = prepend_path(env, var, [p / sub for p in prefixes for sub in subdirs])
    return env


@dataclass(frozen=True, kw_only=True)
class LibraryBuild:
    """Where and how the libraries of one build are made."""

    cache: Cache
    platform: Platform
    logs: Path
    jobs: int
    env: Mapping[str, str]
    at_once: int | None = None  # recipes built at the same time (default: jobs), each compiling with up to jobs


@dataclass(frozen=True)
class Planned:
    name: str
    version: str
    key: str
    prefix: Path
    cached: bool  # its prefix is complete in the cache: nothing to build


def plan(recipes: Sequence[LibraryRecipe], how: LibraryBuild) -> list[Planned]:
    """What ``build_all`` would do with each recipe, in build order, building nothing."""
    toolchain = _toolchain_id(how.platform, how.env, how.logs / "toolchain.log")
    by_name = {recipe.name: recipe for recipe in recipes}
    keys: dict[str, str] = {}
    found = []
    for recipe in recipes:  # in dependency order (recipes.py): the keys below are known
        key = recipe_key(recipe, [keys[name] for name in below(recipe, by_name)], toolchain)
        keys[recipe.name] = key
        prefix = _prefix(how, recipe, key)
        found.append(Planned(recipe.name, recipe.version, key, prefix, how.cache.has(prefix)))
    return found


def _prefix(how: LibraryBuild, recipe: LibraryRecipe, key: str) -> Path:
    return how.cache.path("libraries", f"{recipe.name}-{recipe.version}-{key[:16]}")


def build_all(recipes: Sequence[LibraryRecipe], how: LibraryBuild) -> Prefix:
    """Build (or reuse) each library once everything below it is built, independent ones at
    the same time (most of a recipe's time is a single-threaded configure), then merge them
    into one prefix. The first failure is raised once the recipes already started end."""
    cache = how.cache
    toolchain = _toolchain_id(how.platform, how.env, how.logs / "toolchain.log")
    by_name = {recipe.name: recipe for recipe in recipes}
    built: dict[str, BuiltLibrary] = {}
    running: dict[Future[BuiltLibrary], str] = {}
    waiting = list(recipes)  # in dependency order (recipes.py)
    limit = max(how.at_once or how.jobs, 1)
    with ThreadPoolExecutor(max_workers=limit) as pool:
        while waiting or running:
            ready = [r for r in waiting if all(dep in built for dep in below(r, by_name))]
            for recipe in ready[:limit - len(running)]:  # none queued: a failure starts nothing more
                waiting.remove(recipe)
                deps = [built[name] for name in below(recipe, by_name)]
                running[pool.submit(_build_one, recipe, deps, how, toolchain)] = recipe.name
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                name = running.pop(future)
                try:
                    built[name] = future.result()
                except BaseException:
                    wait(running)  # what runs already finishes
                    raise
    libraries = tuple(built[recipe.name] for recipe in recipes)
    key = digest([lib.key for lib in libraries])
    merged = cache.path("prefixes", key[:16])
    cache.ensure(merged, lambda dest: _merge([lib.prefix for lib in libraries], dest))
    return Prefix(merged, libraries, toolchain)


def below(recipe: LibraryRecipe, by_name: Mapping[str, LibraryRecipe]) -> list[str]:
    """Every library ``recipe`` depends on, directly or through another, dependencies first:
    freetype's libpng brings zlib too, so its configure finds the recipe's zlib, not the host's."""
    found: list[str] = []

    def visit(name: str) -> None:
        for dep in by_name[name].depends:
            if dep not in found:
                visit(dep)
                found.append(dep)

    visit(recipe.name)
    return found


def source_digest(recipe: LibraryRecipe) -> str:
    """What the recipe builds from: the tarball's sha256, or the digest of a path's tree."""
    if recipe.url and recipe.sha256:
        return recipe.sha256
    assert recipe.path is not None  # config guarantees a url with its sha256, or a path
    return tree_digest(recipe.path)


def recipe_key(recipe: LibraryRecipe, dep_keys: Sequence[str], toolchain: str, source: str | None = None) -> str:
    return digest(
        {
            "subdir": recipe.subdir,
            "name": recipe.name,
            "version": recipe.version,
            "system": recipe.system,
            "url": recipe.url,
            "source": source or source_digest(recipe),
            "args": list(recipe.args),
            "script": recipe.script,
            "env": dict(sorted(recipe.env.items())),
            "depends": list(dep_keys),
            "toolchain": toolchain,
        }
    )


# What each system needs on PATH; those PyPI has are provisioned when missing.
TOOLS = {"cmake": ("cmake",), "meson": ("meson", "ninja"), "autotools": ("make",), "make": ("make",)}
FROM_PYPI = {"cmake": "cmake", "meson": "meson", "ninja": "ninja"}
AUTOTOOLS_HINT = ("install autoconf, automake and libtool (Debian/Ubuntu: apt-get install autoconf automake "
                  "libtool libltdl-dev; Fedora: dnf install autoconf automake libtool libtool-ltdl-devel; macOS: "
                  "brew install autoconf automake libtool), or use a release tarball that has configure")


def commands(recipe: LibraryRecipe, src: Path, build: Path, prefix: Path, jobs: int) -> list[list[str] | str]:
    """The commands that build ``recipe`` from ``src`` (its subdir, if it has one) and
    install it into ``prefix``; ``jobs`` compile at once unless the recipe says."""
    args = [arg.replace("{prefix}", str(prefix)) for arg in recipe.args]
    src = src / recipe.subdir if recipe.subdir else src
    j = str(recipe.jobs or jobs)
    if recipe.system == "autotools":
        bootstrap: list[list[str] | str] = []
        if not (src / "configure").exists():
            bootstrap = [["sh", "autogen.sh"]] if (src / "autogen.sh").exists() else [["autoreconf", "-fi"]]
        return [*bootstrap, ["./configure", f"--prefix={prefix}", *args], ["make", f"-j{j}"], ["make", "install"]]
    if recipe.system == "cmake":
        return [
            # Typed: an untyped LIBDIR meets a project's own GNUInstallDirs as a path relative to
            # the build tree, and the library is installed there instead of into the prefix.
            ["cmake", "-S", str(src), "-B", str(build), f"-DCMAKE_INSTALL_PREFIX:PATH={prefix}",
             "-DCMAKE_BUILD_TYPE=Release", "-DCMAKE_INSTALL_LIBDIR:PATH=lib", *args],
            ["cmake", "--build", str(build), "--parallel", j],
            ["cmake", "--install", str(build)],
        ]
    if recipe.system == "meson":
        return [
            ["meson", "setup", str(build), str(src), f"--prefix={prefix}", "--libdir=lib",
             "--buildtype=release", *args],
            ["meson", "compile", "-C", str(build), "-j", j],
            ["meson", "install", "-C", str(build)],
        ]
    if recipe.system == "make":
        return [["make", f"-j{j}", f"PREFIX={prefix}", *args], ["make", "install", f"PREFIX={prefix}", *args]]
    assert recipe.script is not None  # config guarantees it for system = "script"
    return [recipe.script.replace("{prefix}", str(prefix))]


def _build_one(recipe: LibraryRecipe, deps: Sequence[BuiltLibrary], how: LibraryBuild, toolchain: str) -> BuiltLibrary:
    source = source_digest(recipe)
    key = recipe_key(recipe, [d.key for d in deps], toolchain, source)
    prefix = _prefix(how, recipe, key)
    log = how.logs / f"{recipe.name}.log"
    start = time.monotonic()
    log.parent.mkdir(parents=True, exist_ok=True)
    cached = how.cache.ensure(prefix, lambda dest: _build_into(recipe, deps, how, dest, log))
    if cached:
        with log.open("a", encoding="utf-8") as stream:
            stream.write(f"cached: {recipe.name} {recipe.version} in {prefix} (recipe {key[:16]})\n")
    return BuiltLibrary(recipe.name, key, prefix, cached, time.monotonic() - start, source)


def _build_into(recipe: LibraryRecipe, deps: Sequence[BuiltLibrary], how: LibraryBuild, prefix: Path, log: Path) -> None:
    scratch = how.cache.root / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"{recipe.name}-", dir=scratch) as tmp:
        src = _source(recipe, how.cache, Path(tmp) / "src")
        if recipe.subdir and not (src / recipe.subdir).is_dir():
            raise LibraryError(f"library '{recipe.name}': subdir '{recipe.subdir}' is not a folder of its source")
        work = src / recipe.subdir if recipe.subdir else src
        env = search_environment([d.prefix for d in deps], how.env, how.platform.os)
        env = prepend_path(env, "PATH", build_tools(recipe, how, log))
        env.update(PREFIX=str(prefix), JOBS=str(recipe.jobs or how.jobs))
        env.update({k: v.replace("{prefix}", str(prefix)) for k, v in recipe.env.items()})
        plan = commands(recipe, src, Path(tmp) / "build", prefix, how.jobs)
        if plan and plan[0] == ["autoreconf", "-fi"] and shutil.which("autoreconf", path=env.get("PATH")) is None:
            raise LibraryError(f"library '{recipe.name}': no configure script, and autoreconf is not installed",
                               AUTOTOOLS_HINT)
        try:
            for cmd in plan:
                run(cmd, log=log, cwd=work, env=env)
        except CommandError as exc:
            raise LibraryError(
                f"library '{recipe.name}' failed to build: {exc.message}", toolchain.tripped(log, env) or f"see {log}"
            ) from None
        if not _libraries_in(prefix):
            strays = sorted(str(p) for p in _libraries_in(Path(tmp)))
            where = f"; the build left {', '.join(strays[:3])}" if strays else ""
            raise LibraryError(f"library '{recipe.name}' installed no library into its prefix {prefix}{where}",
                               "have it install into the prefix: args such as -DCMAKE_INSTALL_LIBDIR:PATH=lib (CMake) "
                               f"or --libdir={{prefix}}/lib (configure); see {log}")


# What a library install leaves: shared objects (with versions), static archives, import libraries.
_LIBRARY_FILES = ("*.so", "*.so.*", "*.a", "*.dylib", "*.lib", "*.dll")


def _libraries_in(root: Path) -> list[Path]:
    return [p for pattern in _LIBRARY_FILES for p in root.rglob(pattern) if p.is_file()]


def build_tools(recipe: LibraryRecipe, how: LibraryBuild, log: Path) -> list[Path]:
    """Folders to put first on PATH so that the recipe's build tools are there: meson,
    ninja and cmake come from PyPI into a cached venv when the machine lacks them."""
    missing = [tool for tool in TOOLS.get(recipe.system, ()) if shutil.which(tool, path=how.env.get("PATH")) is None]
    wanted = sorted(FROM_PYPI[tool] for tool in missing if tool in FROM_PYPI)
    if not wanted:
        return []
    venv = how.cache.path("tools", f"build-tools-{digest(wanted)[:12]}")
    how.cache.ensure(venv, lambda dest: venvs.create(Path(sys.executable), dest, wanted, log, how.platform.os,
                                                     how.env, tools.uv(how.env)))
    return [venvs.bin_dir(venv, how.platform.os)]


def _source(recipe: LibraryRecipe, cache: Cache, dest: Path) -> Path:
    if recipe.path is not None:
        if not recipe.path.is_dir():
            raise LibraryError(f"library '{recipe.name}': path {recipe.path} is not a folder")
        shutil.copytree(recipe.path, dest, symlinks=True)
        return dest
    archive = _download(recipe, cache)
    _extract(recipe, archive, dest)
    entries = list(dest.iterdir())
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else dest


def _download(recipe: LibraryRecipe, cache: Cache) -> Path:
    """The archive at ``recipe.url``, verified against its sha256 and kept in the cache."""
    assert recipe.url is not None and recipe.sha256 is not None
    name = recipe.url.rstrip("/").rsplit("/", 1)[-1] or "source"
    archive = cache.path("downloads", f"{recipe.sha256[:16]}-{name}")
    if archive.exists() and file_sha256(archive) == recipe.sha256:
        return archive
    try:
        save_verified(url_chunks(recipe.url), archive, recipe.sha256, recipe.url)
    except OSError as exc:
        raise LibraryError(f"library '{recipe.name}': {exc}") from None
    except HashMismatch as exc:
        raise LibraryError(
            f"library '{recipe.name}': sha256 mismatch for {recipe.url}: expected {recipe.sha256}, got {exc.actual}",
            "check the url and sha256 in the config",
        ) from None
    return archive


def _extract(recipe: LibraryRecipe, archive: Path, dest: Path) -> None:
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(dest)
        else:
            with tarfile.open(archive) as tf:
                tf.extractall(dest, filter="data")
    except (tarfile.TarError, zipfile.BadZipFile, OSError) as exc:
        raise LibraryError(f"library '{recipe.name}': cannot unpack {archive.name}: {exc}") from None


def _merge(prefixes: Sequence[Path], dest: Path) -> None:
    for prefix in prefixes:
        shutil.copytree(prefix, dest, symlinks=True, dirs_exist_ok=True, copy_function=_link_or_copy)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        if os.path.lexists(dst):
            os.unlink(dst)
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


# Variables that change what a compiler or linker makes of the same source.
TOOLCHAIN_VARIABLES = ("CC", "CXX", "CFLAGS", "CXXFLAGS", "CPPFLAGS", "LDFLAGS", "AR", "RANLIB",
                       "MACOSX_DEPLOYMENT_TARGET", "ARCHFLAGS")


def _toolchain_id(platform: Platform, env: Mapping[str, str], log: Path) -> str:
    """The platform, the compilers (their real paths and whole --version) and the variables
    that steer them: a library built another way is another build."""
    compilers = []
    for compiler in (env.get("CC", "cc"), env.get("CXX", "c++")):
        found = shutil.which(compiler.split()[0], path=env.get("PATH")) if compiler else None
        try:
            version = run([*compiler.split(), "--version"], log=log, env=env, capture=True)
        except CommandError:
            version = ""
        compilers.append([compiler, str(Path(found).resolve()) if found else None, version])
    steering = {var: env[var] for var in TOOLCHAIN_VARIABLES if env.get(var)}
    return json.dumps([platform.tag, platform.libc, compilers, steering])
