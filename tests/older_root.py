"""An older distribution's root to run wheels in: Debian 11 (bullseye, glibc 2.31), made
once with debootstrap (as root, like CI) from Debian's packages and cached between runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

CHROOT = shutil.which("chroot", path="/usr/sbin:/usr/bin:/sbin:/bin") or "chroot"


def debian11() -> Path:
    """A Debian 11 root with its python3.9; about a minute the first time."""
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "wheelworks-tests" / "debian11"
    root = cache / "root"
    if (cache / "complete").is_file():
        return root
    if os.geteuid() != 0 or shutil.which("debootstrap") is None:
        pytest.fail("the Debian 11 root needs debootstrap run as root (scripts/system-packages.sh installs it)")
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(parents=True)
    mirror = _debian_mirror()
    subprocess.run(["debootstrap", "--variant=minbase", "--include=python3", "bullseye", str(root), mirror],
                   check=True, capture_output=True)
    (cache / "complete").write_text(mirror + "\n")
    return root


def _debian_mirror() -> str:
    """The Debian archive this machine's apt uses (its deb822 sources), else Debian's CDN."""
    for source in Path("/etc/apt/sources.list.d").glob("*.sources"):
        for line in source.read_text().splitlines():
            if line.startswith("URIs:") and line.split()[1].rstrip("/").endswith("/debian"):
                return line.split()[1]
    return "http://deb.debian.org/debian"


def run_with_wheel(root: Path, wheel: Path, code: str) -> subprocess.CompletedProcess[str]:
    """``code`` run by the root's python3.9 with ``wheel`` unpacked first on its path."""
    site = root / "wheel-under-test"
    shutil.rmtree(site, ignore_errors=True)
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    script = f"import sys; sys.path.insert(0, '/wheel-under-test'); {code}"
    return subprocess.run([CHROOT, str(root), "/usr/bin/python3.9", "-c", script], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
