"""Names for the machine wheelworks builds on, in cibuildwheel's identifier style."""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Platform:
    """``os`` is linux, macos or windows; ``tag`` is the identifier suffix, e.g. manylinux_x86_64."""

    os: str
    arch: str
    tag: str
    libc: str = ""


def native() -> Platform:
    arch = platform.machine()
    if sys.platform.startswith("linux"):
        libc, version = platform.libc_ver()
        family = "manylinux" if libc == "glibc" else "musllinux"
        return Platform("linux", arch, f"{family}_{arch}", f"{libc or 'musl'}-{version}")
    if sys.platform == "darwin":
        return Platform("macos", arch, f"macosx_{arch}", platform.mac_ver()[0])
    if sys.platform == "win32":
        win = {"AMD64": "win_amd64", "ARM64": "win_arm64", "x86": "win32"}.get(arch, f"win_{arch}")
        return Platform("windows", arch, win)
    return Platform(sys.platform, arch, f"{sys.platform}_{arch}")
