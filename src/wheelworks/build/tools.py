"""Optional speed-ups found on the machine: uv (environments, builds) and ccache (compiles).

wheelworks installs neither by itself; it looks beside its own interpreter (where
`pip install wheelworks[fast]` puts them), then on PATH.
"""

from __future__ import annotations

import shutil
import sysconfig
from collections.abc import Mapping
from pathlib import Path

from wheelworks.shared.paths import prepend_path


def find(name: str, env: Mapping[str, str]) -> Path | None:
    # Its own scripts folder first: a PATH entry may be a shim (pyenv's) that is not the tool itself.
    path = prepend_path(env, "PATH", [sysconfig.get_path("scripts")])["PATH"]
    found = shutil.which(name, path=path)
    return Path(found) if found else None


def uv(env: Mapping[str, str]) -> Path | None:
    try:
        from uv import find_uv_bin  # the uv package knows where its binary is
    except ImportError:
        return find("uv", env)
    try:
        return Path(find_uv_bin())
    except FileNotFoundError:
        return find("uv", env)


COMPILERS = ("cc", "c++", "gcc", "g++", "clang", "clang++")


def ccache_environment(ccache: Path, cache_root: Path, source: Path, stats_log: Path,
                       base: Mapping[str, str]) -> dict[str, str]:
    """``base`` with every compiler on PATH going through ccache, its cache in ours.

    Paths under ``source`` are hashed relative to it, so a rebuild of the same code in
    another build's work tree hits; ``stats_log`` receives this build's hits and misses.
    """
    links = cache_root / "ccache" / "bin"
    links.mkdir(parents=True, exist_ok=True)
    for compiler in COMPILERS:
        link = links / compiler
        if not link.is_symlink() and shutil.which(compiler, path=base.get("PATH")):
            try:
                link.symlink_to(ccache)
            except FileExistsError:  # a target building at the same moment made the same link
                pass
    env = prepend_path(base, "PATH", [links])
    env.update(
        CCACHE_DIR=str(cache_root / "ccache" / "store"),
        CCACHE_BASEDIR=str(source),
        CCACHE_NOHASHDIR="1",
        CCACHE_STATSLOG=str(stats_log),
    )
    return env


def ccache_counts(stats_log: Path) -> dict[str, int]:
    """Hits and misses from a ccache stats log (one counter name per line)."""
    lines = stats_log.read_text().splitlines() if stats_log.exists() else []
    hits = sum(line in ("direct_cache_hit", "preprocessed_cache_hit") for line in lines)
    return {"hits": hits, "misses": lines.count("cache_miss")}
