"""Seconds of the library stage: independent recipes one at a time, then at the same time.

Four real recipes from Debian's upstream tarballs (zlib and libffi by autotools, libjpeg-turbo
by CMake, liblz4 by meson), none depending on another, built into empty caches with -j 2:
first one recipe at a time, then up to two at once (the default on two cores). Most of a
recipe's time is a single-threaded configure, so building them side by side should take at
most 0.6 of one after another.

The tarballs are the ones `-m real` tests fetch into ~/.cache/wheelworks-tests/real/dl
(run `pytest -m real` once first).

    .venv/bin/python bench/libraries.py
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from wheelworks.build import libraries
from wheelworks.config.recipes import LibraryRecipe
from wheelworks.shared import platforms
from wheelworks.shared.cache import Cache

DL = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "wheelworks-tests" / "real" / "dl"
RECIPES = [  # name, version, tarball, system, args, subdir
    ("zlib", "1.2.13", "zlib_1.2.13.dfsg.orig.tar.bz2", "autotools", (), ""),
    ("libffi", "3.4.4", "libffi_3.4.4.orig.tar.gz", "autotools", ("--disable-static", "--disable-docs"), ""),
    ("libjpeg-turbo", "2.1.5", "libjpeg-turbo_2.1.5.orig.tar.gz", "cmake", ("-DWITH_SIMD=0",), ""),
    ("liblz4", "1.9.4", "lz4_1.9.4.orig.tar.gz", "meson", (), "contrib/meson"),
]


def recipes() -> list[LibraryRecipe]:
    found = []
    for name, version, tarball, system, args, subdir in RECIPES:
        path = DL / tarball
        if not path.exists():
            raise SystemExit(f"{path} is missing: run `pytest -m real` once to fetch the sources")
        found.append(LibraryRecipe(name=name, version=version, system=system, url=path.as_uri(),
                                   sha256=hashlib.sha256(path.read_bytes()).hexdigest(), args=args, subdir=subdir))
    return found


def timed(at_once: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        how = libraries.LibraryBuild(cache=Cache(Path(tmp) / "cache"), platform=platforms.native(),
                                     logs=Path(tmp) / "logs", jobs=2, env=os.environ)
        start = time.perf_counter()
        libraries.build_all(recipes(), replace(how, at_once=at_once))
        return time.perf_counter() - start


def main() -> None:
    serial, parallel = timed(1), timed(2)
    print(f"{'recipes':>8} {'one at a time':>14} {'two at once':>12} {'ratio':>6}")
    print(f"{len(RECIPES):>8} {serial:>13.1f}s {parallel:>11.1f}s {parallel / serial:>6.2f}")


if __name__ == "__main__":
    main()
