"""How much does wheelworks add to the best by-hand path, and what does it save? Prints a table.

For every CPython 3.8-3.13 on the machine, the fixture project (a C extension linking
libtally) is built, in one run:

  (a) by hand, as a careful maintainer would, serially, every step timed, uv's cache warm:
      per interpreter `uv build --wheel`, `auditwheel repair`, `uv venv`, `uv pip install`
      and the test command (libtally is built once by hand, untimed);
  (b) `wheelworks build -j 1` with an empty wheelworks cache;
  (c) `wheelworks build -j 2 --rebuild`: everything again, the cache warm (ccache hits);
  (d) `wheelworks build -j 2` on the same commit: nothing changed;
  (e) the same after a commit that changes one Python file;
  (f) the same after a commit that changes the C file (ccache hits for the rest).

Run it from the repository's root on a quiet machine (compare only ratios of one run):
    .venv/bin/python bench/overhead.py [--frontend uv]
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

from wheelworks.build import interpreters  # noqa: E402
from wheelworks.config.settings import from_environment  # noqa: E402
from wheelworks.shared import platforms  # noqa: E402

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
    """(a): the by-hand steps per interpreter, with uv; a first untimed round warms uv's cache."""
    prefix = work / "prefix"
    sh("cmake", "-S", fixtures.FIXTURES / "libtally", "-B", work / "lib-build", f"-DCMAKE_INSTALL_PREFIX={prefix}",
       "-DCMAKE_BUILD_TYPE=Release", "-DCMAKE_INSTALL_LIBDIR=lib")
    sh("cmake", "--build", work / "lib-build")
    sh("cmake", "--install", work / "lib-build")
    env = {**os.environ, "CPATH": str(prefix / "include"), "LIBRARY_PATH": str(prefix / "lib")}
    clean = {k: v for k, v in os.environ.items() if k not in ("CPATH", "LIBRARY_PATH", "LD_LIBRARY_PATH")}
    uv = SCRIPTS / "uv"

    def run_all(round_: str) -> None:
        for version, interpreter in pythons.items():
            out = work / f"baseline-{round_}-{version}"
            source = shutil.copytree(repo, out / "src")
            sh(uv, "build", "--wheel", "--python", interpreter.path, "--out-dir", out / "dist", source, env=env)
            (wheel,) = (out / "dist").glob("*.whl")
            sh(SCRIPTS / "auditwheel", "repair", "-w", out / "wheelhouse", wheel,
               env={**env, "LD_LIBRARY_PATH": str(prefix / "lib"), "PATH": f"{SCRIPTS}:{env['PATH']}"})
            (repaired,) = (out / "wheelhouse").glob("*.whl")
            sh(uv, "venv", "--quiet", "--python", interpreter.path, out / "venv", env=clean)
            sh(uv, "pip", "install", "--quiet", "--python", out / "venv" / "bin" / "python", repaired, env=clean)
            (out / "cwd").mkdir()
            sh(out / "venv" / "bin" / "python", "-c", TEST, cwd=out / "cwd", env=clean)

    run_all("warm-up")
    return timed(lambda: run_all("timed"))


def _commit(repo: Path, path: str, text: str) -> None:
    file = repo / path
    file.write_text(file.read_text() + text)
    fixtures._git(repo, "commit", "-q", "-am", f"change {path}")


def wheelworks(config: Path, cache: Path, jobs: int, *extra: str) -> tuple[float, dict]:
    seconds = timed(lambda: sh(sys.executable, "-m", "wheelworks", "build", "--config", config,
                               "--cache-dir", cache, "-j", jobs, *extra))
    builds = sorted((config.parent / "builds").glob("*/record.json"))
    return seconds, json.loads(builds[-1].read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frontend", default="build[uv]", choices=["build", "build[uv]", "uv"])
    args = parser.parse_args()

    found = interpreters.discover(VERSIONS, (), from_environment(os.environ), platforms.native().os)
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
        runs = {"b": wheelworks(config, work / "cache", 1)}
        runs["c"] = wheelworks(config, work / "cache", 2, "--rebuild")
        runs["d"] = wheelworks(config, work / "cache", 2)
        _commit(repo, "src/pytally/__init__.py", "\n# a changed Python file\n")
        runs["e"] = wheelworks(config, work / "cache", 2)
        _commit(repo, "src/_tally.c", "\n/* a changed C file */\n")
        runs["f"] = wheelworks(config, work / "cache", 2)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def hits(record: dict) -> str:
        counts = [t["ccache"] for t in record["targets"] if t.get("ccache")]
        reused = sum(bool(t.get("reused_from")) for t in record["targets"])
        cache = f"{sum(x['hits'] for x in counts)} hits / {sum(x['misses'] for x in counts)} misses" if counts else "-"
        return f"{cache}, {reused} of {len(record['targets'])} reused"

    labels = {
        "b": "`wheelworks build -j 1`, cold cache",
        "c": "`wheelworks build -j 2 --rebuild`, warm cache",
        "d": "`wheelworks build -j 2`, same commit (nothing changed)",
        "e": "`wheelworks build -j 2`, one Python file changed",
        "f": "`wheelworks build -j 2`, the C file changed",
    }
    print(f"pythons: {' '.join(pythons)}   frontend: {args.frontend}   cpus: {os.cpu_count()}")
    print()
    print("| run | seconds | ratio to (a) | compiler cache, reuse |")
    print("|---|---:|---:|---|")
    print(f"| (a) by hand: uv build + auditwheel + uv venv + uv pip install + test, serial, uv cache warm | {a:.1f} | 1.00 | - |")
    for key, (seconds, record) in runs.items():
        print(f"| ({key}) {labels[key]} | {seconds:.1f} | {seconds / a:.2f} | {hits(record)} |")
    print()
    print(breakdown(runs))


def breakdown(runs: dict[str, tuple[float, dict]]) -> str:
    """Each run's seconds by phase, summed over its targets (the records' phases: they add
    up to each target's time, so targets that ran at once count twice), then the build's
    own wall time by phase (its record's: the ref, the checkout, keys, libraries, targets)."""
    phases: list[str] = []
    for _, record in runs.values():
        for target in record["targets"]:
            phases += [p for p in target.get("phases", {}) if p not in phases]
    lines = ["| phase, summed over targets | " + " | ".join(f"({k})" for k in runs) + " |",
             "|---|" + "---:|" * len(runs)]
    for phase in phases:
        sums = [sum(t.get("phases", {}).get(phase, 0.0) for t in r["targets"]) for _, r in runs.values()]
        lines.append(f"| {phase} | " + " | ".join(f"{x:.2f}" for x in sums) + " |")
    walls: list[str] = []
    for _, record in runs.values():
        walls += [p for p in record.get("phases", {}) if p not in walls]
    for phase in walls:
        lines.append(f"| build, wall: {phase} | "
                     + " | ".join(f"{r.get('phases', {}).get(phase, 0.0):.2f}" for _, r in runs.values()) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
