"""``[build] toolchain = "zig"``: C and C++ compiled for the policy's glibc, on any Linux machine.

zig (PyPI's ``ziglang``: clang and LLD with the headers and stubs of every glibc) links
against the glibc the target names (``x86_64-linux-gnu.2.17``) whatever the host has, so a
wheel built on a glibc 2.36 machine loads on Debian 11 or RHEL 8. Every recipe system and
backend finds it through CC and CXX, which name wrapper scripts that add what zig needs
and does not assume: the target, optimisation with sanitizers off (zig's default is -O0
with UBSan), the library folders of LIBRARY_PATH as -L (zig ignores the variable),
lenient version scripts (LLD refuses ones naming undefined symbols) and a GNU build id
(LLD writes none unasked; the vendoring check compares them).

Limits: no OpenMP and no Fortran; C++ links zig's own static libc++, so C++ exceptions do
not cross two zig-built shared libraries and nothing mixes with g++-built C++ libraries.
"""

from __future__ import annotations

import re
import shlex
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from wheelworks.build import tools, venvs
from wheelworks.config.policy import Policy
from wheelworks.shared.cache import Cache
from wheelworks.shared.errors import ToolError
from wheelworks.shared.hashes import digest
from wheelworks.shared.platforms import Platform
from wheelworks.shared.run import run

ZIGLANG = "ziglang==0.17.1"  # pinned: a new zig is a new toolchain, in every key through its --version
DEFAULT_POLICY = Policy("manylinux", 2, 17)  # zig with no policy asked for: what manylinux2014 promises
WRAPPED = {"cc": "cc", "c++": "c++", "gcc": "cc", "g++": "c++", "clang": "cc", "clang++": "c++",
           "ar": "ar", "ranlib": "ranlib"}
HELLO = {"c": "int main(void) { return 0; }\n",
         "cpp": "#include <string>\nint main() { std::string s(\"x\"); return (int)s.size() - 1; }\n"}


@dataclass(frozen=True)
class Zig:
    target: str  # x86_64-linux-gnu.2.17
    bin: Path  # the wrapper scripts: cc, c++ (and the names build systems look for), ar, ranlib
    env: Mapping[str, str]  # CC, CXX, AR, RANLIB, LDSHARED and zig's cache folders
    seconds: float  # what this build spent making it ready (the first use per target compiles libc++)


def target(platform: Platform, policy: Policy | None) -> str:
    """zig's target triple for ``platform`` at ``policy``'s libc."""
    chosen = policy or DEFAULT_POLICY
    if chosen.family == "musllinux":
        return f"{platform.arch}-linux-musl"
    return f"{platform.arch}-linux-gnu.{chosen.major}.{chosen.minor}"


def wrapper(zig_command: str, mode: str, triple: str) -> str:
    """The shell script that runs ``zig <mode>`` for ``triple``; flags the build passes come
    after the defaults, so a project's own -O or -fsanitize wins."""
    zig = zig_command
    if mode in ("ar", "ranlib"):
        return f'#!/bin/sh\nexec {zig} {mode} "$@"\n'
    return (
        "#!/bin/sh\n"
        "# zig ignores LIBRARY_PATH: its folders become -L flags\n"
        'old_ifs=$IFS; IFS=:; for dir in ${LIBRARY_PATH:-}; do [ -n "$dir" ] && set -- "$@" "-L$dir"; done; IFS=$old_ifs\n'
        f'exec {zig} {mode} -target {triple} -O2 -fno-sanitize=undefined -Wl,--undefined-version -Wl,--build-id=sha1 '
        '"$@"\n'
    )


def provide(cache: Cache, platform: Platform, policy: Policy | None, base: Mapping[str, str], log: Path) -> Zig:
    """zig for ``platform`` at ``policy`` from the cached tools, its wrappers, and the
    environment that makes every build use them; a C and a C++ program compiled once so
    the cost of the target's first use (libc++, glibc stubs) is paid, timed, here."""
    if platform.os != "linux":
        raise ToolError(f'[build] toolchain = "zig" is for Linux wheels, not {platform.tag}',
                        "leave toolchain unset on macOS and Windows")
    start = time.monotonic()
    triple = target(platform, policy)
    venv = cache.path("tools", f"zig-{ZIGLANG.split('==')[1]}")
    cache.ensure(venv, lambda dest: venvs.create(Path(sys.executable), dest, [ZIGLANG], log, platform.os, base,
                                                 tools.uv(base)))
    # The binary itself, not `python -m ziglang`: configure scripts run the compiler hundreds of times.
    binary = venvs.site_packages(venv, platform.os) / "ziglang" / "zig"
    scripts = {name: wrapper(shlex.quote(str(binary)), mode, triple) for name, mode in WRAPPED.items()}
    # Named by what the scripts say: CC's path, and so every key, changes when they do.
    folder = cache.path("tools", f"zig-{ZIGLANG.split('==')[1]}-{triple}-{digest(scripts)[:12]}")

    def make(dest: Path) -> None:
        (dest / "bin").mkdir(parents=True)
        for name, text in scripts.items():
            script = dest / "bin" / name
            script.write_text(text)
            script.chmod(0o755)

    cache.ensure(folder, make)
    bin_dir = folder / "bin"
    zig_cache = cache.root / "zig"  # what zig compiles once per target (libc++, glibc stubs): kept
    env = {
        "CC": str(bin_dir / "cc"), "CXX": str(bin_dir / "c++"), "AR": str(bin_dir / "ar"),
        "RANLIB": str(bin_dir / "ranlib"), "LDSHARED": f"{bin_dir / 'cc'} -shared",
        "LDCXXSHARED": f"{bin_dir / 'c++'} -shared",
        "ZIG_GLOBAL_CACHE_DIR": str(zig_cache), "ZIG_LOCAL_CACHE_DIR": str(zig_cache),
    }

    def warm(dest: Path) -> None:  # once per target: what zig compiles on first use goes to its cache
        dest.mkdir(parents=True, exist_ok=True)
        for suffix, code in HELLO.items():
            source = dest / f"hello.{suffix}"
            source.write_text(code)
            compiler = env["CXX"] if suffix == "cpp" else env["CC"]
            run([compiler, str(source), "-o", str(dest / f"hello-{suffix}")], log=log, env={**base, **env})

    cache.ensure(cache.path("tools", f"{folder.name}-warm"), warm)
    return Zig(triple, bin_dir, env, time.monotonic() - start)


# What a failed build's log shows when it needed what zig lacks.
LIMITS = {
    "OpenMP": re.compile(r"omp\.h|-fopenmp|libgomp|OpenMP_C_FOUND|OpenMP.*not found", re.IGNORECASE),
    "Fortran": re.compile(r"gfortran|Fortran compiler|\.f90\b|No CMAKE_Fortran_COMPILER", re.IGNORECASE),
}


def tripped(log: Path, env: Mapping[str, str]) -> str | None:
    """For a build that failed under zig (its environment has zig's cache variable), what
    zig lacks that the log shows it needed, as a hint; None otherwise."""
    if "ZIG_GLOBAL_CACHE_DIR" not in env or not log.is_file():
        return None
    text = log.read_text(errors="replace")[-200_000:]
    lacking = [name for name, pattern in LIMITS.items() if pattern.search(text)]
    if not lacking:
        return None
    return (f"it needs {' and '.join(lacking)}, which zig does not have: leave [build] toolchain native and build "
            f"in the manylinux images (wheelworks ci github); see {log}")
