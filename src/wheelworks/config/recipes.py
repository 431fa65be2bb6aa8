"""[[library]] tables -> LibraryRecipes, checked and in build order (dependencies first)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wheelworks.config.names import component_problem, relative_problem
from wheelworks.config.schema import require, strs
from wheelworks.shared.errors import ConfigError

LIBRARY_SYSTEMS = ("autotools", "cmake", "meson", "make", "script")


@dataclass(frozen=True, kw_only=True)
class LibraryRecipe:
    name: str
    version: str
    system: str
    url: str | None = None
    path: Path | None = None
    sha256: str | None = None
    args: tuple[str, ...] = ()
    script: str | None = None
    depends: tuple[str, ...] = ()
    subdir: str = ""  # where the build files are inside the source (lz4's contrib/meson, say)
    jobs: int | None = None  # parallel compile jobs; None: the build's -j
    env: Mapping[str, str] = field(default_factory=dict)  # the build's own variables (CFLAGS, say), in its key
    license: str | None = None  # an SPDX expression, for the wheel's SBOM


def recipes(tables: Sequence[Mapping[str, Any]], base: Path, where: str) -> tuple[LibraryRecipe, ...]:
    """Checked tables (see schema) -> recipes in build order; paths relative to ``base``."""
    return _ordered(tuple(_recipe(t, i, base, where) for i, t in enumerate(tables)), where)


def _recipe(table: Mapping[str, Any], index: int, base: Path, where: str) -> LibraryRecipe:
    for key in ("name", "version", "system"):
        require(table, key, f"{where}: library[{index}]")
    if why := component_problem(table["name"]):  # it names the library's folders and log
        raise ConfigError(f"{where}: library[{index}] name = {table['name']!r} {why}")
    here = f"{where}: library '{table['name']}'"
    if why := relative_problem(table.get("subdir", "")):
        raise ConfigError(f"{here}: subdir = {table['subdir']!r} {why}")
    if table["system"] not in LIBRARY_SYSTEMS:
        raise ConfigError(f"{here}: unknown system {table['system']!r}", f"use one of {', '.join(LIBRARY_SYSTEMS)}")
    if ("url" in table) == ("path" in table):
        raise ConfigError(f"{here}: give exactly one of 'url' or 'path'")
    sha256 = table.get("sha256")
    if "url" in table and not sha256:
        raise ConfigError(f"{here}: missing required key 'sha256' (needed with 'url')")
    if sha256 is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", sha256):
        raise ConfigError(f"{here}: sha256 {sha256!r} is not 64 hex digits")
    if (table["system"] == "script") != ("script" in table):
        raise ConfigError(f"{here}: 'script' is required with system = \"script\" and only then")
    return LibraryRecipe(
        name=table["name"],
        version=table["version"],
        system=table["system"],
        url=table.get("url"),
        path=(base / table["path"]).resolve() if "path" in table else None,
        sha256=sha256.lower() if sha256 else None,
        args=strs(table.get("args")),
        script=table.get("script"),
        depends=strs(table.get("depends")),
        subdir=table.get("subdir", "").strip("/"),
        jobs=table.get("jobs"),
        env=dict(table.get("env", {})),
        license=table.get("license"),
    )


def _ordered(libraries: tuple[LibraryRecipe, ...], where: str) -> tuple[LibraryRecipe, ...]:
    """Dependencies before their dependents; unknown or circular dependencies are errors."""
    by_name: dict[str, LibraryRecipe] = {}
    for library in libraries:
        if library.name in by_name:
            raise ConfigError(f"{where}: library '{library.name}' is defined twice")
        by_name[library.name] = library
    ordered: list[LibraryRecipe] = []
    visiting: list[str] = []

    def visit(library: LibraryRecipe) -> None:
        if library in ordered:
            return
        if library.name in visiting:
            cycle = " -> ".join([*visiting[visiting.index(library.name) :], library.name])
            raise ConfigError(f"{where}: libraries depend on each other in a cycle: {cycle}")
        visiting.append(library.name)
        for dep in library.depends:
            if dep not in by_name:
                raise ConfigError(f"{where}: library '{library.name}' depends on unknown library '{dep}'")
            visit(by_name[dep])
        visiting.pop()
        ordered.append(library)

    for library in libraries:
        visit(library)
    return tuple(ordered)
