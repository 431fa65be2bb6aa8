"""How much does wheelworks add to the bare work of building wheels? Prints a table.

For every CPython 3.8-3.13 on the machine, the fixture project (a C extension linking
libtally) is built three ways, in one run:

  (a) the bare baseline: per interpreter, by hand and serially, `python -m build --wheel`,
      `auditwheel repair`, a fresh venv with the wheel installed, and the test command
      (each interpreter's venv with `build` in it is made beforehand, untimed, and libtally
      is built once by hand, untimed);
  (b) `wheelworks build -j 1` with an empty wheelworks cache;
  (c) `wheelworks build -j N` again, its cache now full.

Run it from the repository's root:  .venv/bin/python bench/overhead.py [--frontend uv] [-j N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import fixtures  # noqa: E402
from wheelworks import interpreters, platforms  # noqa: E402

VERSIONS = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13")
TEST = "import pytally; assert pytally.sum(2, 3, 4) == 9"
SCRIPTS = Path(sys.executable).parent


def sh(*cmd: object, **kw: object) -> None:
    subprocess.run([str(c) for c in cmd], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def baseline(pythons: dict, work: Path, repo: Path) -> float:
    """(a): the four commands per interpreter, run by hand."""
    prefix = work / "prefix"
    sh("cmake", "-S", fixtures.FIXTURES / "libtally", "-B", work / "lib-build", f"-DCMAKE_INSTALL_PREFIX={prefix}",
       "-DCMAKE_BUILD_TYPE=Release", "-DCMAKE_INSTALL_LIBDIR=lib")
    sh("cmake", "--build", work / "lib-build")
    sh("cmake", "--install", work / "lib-build")
    for version, interpreter in pythons.items():  # untimed preparation
        sh(interpreter.path, "-m", "venv", work / f"tools-{version}")
        sh(work / f"tools-{version}" / "bin" / "python", "-m", "pip", "install", "build")
    env = {**os.environ, "CPATH": str(prefix / "include"), "LIBRARY_PATH": str(prefix / "lib")}
    clean = {k: v for k, v in os.environ.items() if k not in ("CPATH", "LIBRARY_PATH", "LD_LIBRARY_PATH")}

    def run_all() -> None:
        for version, interpreter in pythons.items():
            out = work / f"baseline-{version}"
            source = shutil.copytree(repo, out / "src")
            sh(work / f"tools-{version}" / "bin" / "python", "-m", "build", "--wheel", "--outdir", out / "dist", source, env=env)
            (wheel,) = (out / "dist").glob("*.whl")
            sh(SCRIPTS / "auditwheel", "repair", "-w", out / "wheelhouse", wheel,
               env={**env, "LD_LIBRARY_PATH": str(prefix / "lib"), "PATH": f"{SCRIPTS}:{env['PATH']}"})
            (repaired,) = (out / "wheelhouse").glob("*.whl")
            sh(interpreter.path, "-m", "venv", out / "venv")
            sh(out / "venv" / "bin" / "python", "-m", "pip", "install", repaired, env=clean)
            (out / "cwd").mkdir()
            sh(out / "venv" / "bin" / "python", "-c", TEST, cwd=out / "cwd", env=clean)

    return timed(run_all)


def wheelworks(config: Path, cache: Path, jobs: int) -> tuple[float, dict]:
    seconds = timed(lambda: sh(sys.executable, "-m", "wheelworks", "build", "--config", config,
                               "--cache-dir", cache, "-j", jobs))
    builds = sorted((config.parent / "builds").glob("*/record.json"))
    return seconds, json.loads(builds[-1].read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frontend", default="build[uv]", choices=["build", "build[uv]", "uv"])
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    found = interpreters.discover(VERSIONS, (), os.environ, platforms.native().os)
    pythons = {v: found[v] for v in VERSIONS if v in found}
    work = Path(tempfile.mkdtemp(prefix="wheelworks-bench-"))
    try:
        repo = fixtures.pytally_repo(work / "pytally")
        tarball, sha256 = fixtures.libtally_tarball(work)
        config = work / "wheels" / "wheelworks.toml"
        config.parent.mkdir()
        config.write_text(
            f'[project]\nname = "pytally"\nrepo = "{repo}"\nbuild-commit = "main"\n\n'
            f'[build]\npython = {list(pythons)!r}\nfrontend = "{args.frontend}"\n\n'
            f'[[library]]\nname = "libtally"\nversion = "1.2.3"\nurl = "{tarball.as_uri()}"\n'
            f'sha256 = "{sha256}"\nsystem = "cmake"\n\n[test]\ncommand = "python -c \'{TEST}\'"\n'
        )
        a = baseline(pythons, work, repo)
        b, cold = wheelworks(config, work / "cache", 1)
        c, warm = wheelworks(config, work / "cache", args.jobs)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def hits(record: dict) -> str:
        counts = [t["ccache"] for t in record["targets"] if t.get("ccache")]
        return f"{sum(x['hits'] for x in counts)} hits / {sum(x['misses'] for x in counts)} misses" if counts else "off"

    print(f"pythons: {' '.join(pythons)}   frontend: {args.frontend}   jobs for (c): {args.jobs}   cpus: {os.cpu_count()}")
    print()
    print("| run | seconds | ratio to (a) | compiler cache |")
    print("|---|---:|---:|---|")
    print(f"| (a) baseline: build + auditwheel + venv + test, by hand, serial | {a:.1f} | 1.00 | - |")
    print(f"| (b) `wheelworks build -j 1`, cold cache | {b:.1f} | {b / a:.2f} | {hits(cold)} |")
    print(f"| (c) `wheelworks build -j {args.jobs}`, warm cache | {c:.1f} | {c / a:.2f} | {hits(warm)} |")
    print()
    lib_cold, lib_warm = cold["libraries"][0], warm["libraries"][0]
    print(f"libtally: built in {lib_cold['seconds']:.2f} s cold, {lib_warm['seconds']:.3f} s cached (cached: {lib_warm['cached']})")


if __name__ == "__main__":
    main()
