"""What `toolchain = "zig"` costs against the machine's gcc, on the fixture. Prints a table.

The fixture project (a C extension linking libtally, a CMake recipe) for one CPython:
first zig's first use in an empty cache (installing ziglang, compiling libc++ and the glibc
stubs for the target: what a build pays once per machine and target), then, each with a
warm cache, `wheelworks build --rebuild` natively and with zig for manylinux_2_17, the
best of three. The aim is at most 1.2 times the native build.

    .venv/bin/python bench/zig.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import fixtures  # noqa: E402

WHEELWORKS = Path(sys.executable).parent / "wheelworks"
PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"


def config(work: Path, zig: bool) -> Path:
    (work / "dl").mkdir(exist_ok=True)
    tarball, sha256 = fixtures.libtally_tarball(work / "dl")
    repo = work / "pytally" if (work / "pytally").exists() else fixtures.pytally_repo(work / "pytally")
    folder = work / ("zig" if zig else "native")
    folder.mkdir(exist_ok=True)
    path = folder / "wheelworks.toml"
    build = 'manylinux = "manylinux_2_17"\ntoolchain = "zig"\n' if zig else ""
    path.write_text(f'[project]\nname = "pytally"\nrepo = "{repo}"\nbuild-commit = "main"\n'
                    f'[build]\npython = ["{PYTHON}"]\n{build}'
                    f'[[library]]\nname = "libtally"\nversion = "1.2.3"\nurl = "{tarball.as_uri()}"\n'
                    f'sha256 = "{sha256}"\nsystem = "cmake"\n'
                    "[test]\ncommand = \"python -c 'import pytally; assert pytally.sum(2, 3, 4) == 9'\"\n")
    return path


def build(path: Path, cache: Path, *extra: str) -> float:
    start = time.perf_counter()
    subprocess.run([str(WHEELWORKS), "build", "--config", str(path), "--cache-dir", str(cache), *extra],
                   check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work, cache = Path(tmp), Path(tmp) / "cache"
        native, zig = config(work, False), config(work, True)
        cold = build(zig, cache)
        record = json.loads(next((zig.parent / "builds").glob("*/record.json")).read_text())
        build(native, cache)
        warm_native = min(build(native, cache, "--rebuild") for _ in range(3))
        warm_zig = min(build(zig, cache, "--rebuild") for _ in range(3))
    print(f"{'CPython':>8} {'zig first use':>14} {'native':>8} {'zig':>8} {'ratio':>6}")
    print(f"{PYTHON:>8} {record['toolchain_seconds']:>13.1f}s {warm_native:>7.1f}s {warm_zig:>7.1f}s "
          f"{warm_zig / warm_native:>6.2f}")
    print(f"(the first zig build took {cold:.1f} s in all, its toolchain step {record['toolchain_seconds']:.1f} s)")


if __name__ == "__main__":
    main()
