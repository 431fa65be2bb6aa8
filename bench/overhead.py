"""How much does wheelworks add to the best by-hand path, and what does it save? Prints a table
per project.

For every CPython 3.8-3.13 on the machine, each project is built, in one run:

  (a) by hand, as a careful maintainer would, serially, every step timed, uv's cache warm
      (a first untimed round warms it): the C library once with CMake, then per
      interpreter `uv build --wheel`, `auditwheel repair`, `uv venv`, `uv pip install` and
      the test command;
  (b) `wheelworks build -j 1` with an empty wheelworks cache: one wheel builds at a time,
      the one before it is repaired and tested meanwhile;
  (b1) the same held to one CPU (sched_setaffinity), where nothing can run beside;
  (c) `wheelworks build --rebuild` (default -j: the CPU count) with an empty cache;
  (d) `wheelworks build` on the same commit: nothing changed;
  (e) the same after a commit that changes one Python file;
  (f) the same after a commit that changes the C (or Cython) file: the compiler cache hits
      for the rest.

The projects: the fixture (pytally, a C extension linking libtally) and PyYAML 6.0.3, its
Cython-generated `yaml._yaml` linking libyaml 0.2.5 (Debian's upstream tarball) built by its
CMake recipe; PyYAML's sources come from the real-project tests' cache, fetched on first use.

Each row also says what share of the machine's CPU time its hypervisor gave to others
meanwhile (steal, in /proc/stat): on a shared virtual machine a row with more stolen ran on
a slower machine, which the ratios cannot tell otherwise.

Run it from the repository's root on a quiet machine (compare only ratios of one run):
    .venv/bin/python bench/overhead.py [--project fixture|pyyaml] [--frontend uv]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import fixtures, real_sources  # noqa: E402

from wheelworks.build import interpreters  # noqa: E402
from wheelworks.config.settings import from_environment  # noqa: E402
from wheelworks.shared import platforms  # noqa: E402

VERSIONS = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13")
SCRIPTS = Path(sys.executable).parent


@dataclass(frozen=True)
class Project:
    name: str
    repo: Path  # a git repository on main, which rows (e) and (f) commit to
    library: tuple[str, str, Path]  # the C library: name, version, release tarball
    cmake_args: tuple[str, ...]  # for its by-hand build and its recipe
    build_env: dict[str, str]  # what the project's build needs set, by hand and in [build] environment
    test: str  # python code: the import check
    python_file: str  # changed in (e)
    c_file: str  # changed in (f)

    def config(self, folder: Path, pythons: list[str], frontend: str) -> Path:
        recipe = fixtures.recipe_table(*self.library, "cmake", f"args = {list(self.cmake_args)!r}")
        environment = "".join(f'{k} = "{v}"\n' for k, v in self.build_env.items())
        command = json.dumps(f"python -c '{self.test}'")  # a TOML string: JSON's quoting is TOML's
        config = folder / "wheelworks.toml"
        config.write_text(
            f'[project]\nname = "{self.name}"\nrepo = "{self.repo}"\nbuild-commit = "main"\n\n'
            f'[build]\npython = {pythons!r}\nfrontend = "{frontend}"\n\n'
            + (f"[build.environment]\n{environment}\n" if environment else "")
            + f"{recipe}\n[test]\ncommand = {command}\n")
        return config


def fixture(work: Path) -> Project:
    tarball, _ = fixtures.libtally_tarball(work)
    return Project("pytally", fixtures.pytally_repo(work / "pytally"), ("libtally", "1.2.3", tarball), (), {},
                   "import pytally; assert pytally.sum(2, 3, 4) == 9", "src/pytally/__init__.py", "src/_tally.c")


def pyyaml(work: Path) -> Project:
    dl = real_sources.fetch()
    repo = work / "pyyaml"
    with tarfile.open(dl / "pyyaml-6.0.3.tar.gz") as sdist:
        sdist.extractall(work, filter="data")
    (work / "pyyaml-6.0.3").rename(repo)
    fixtures._git(repo, "init", "-q", "-b", "main")
    fixtures._git(repo, "add", "-A")
    fixtures._git(repo, "commit", "-q", "-m", "PyYAML 6.0.3")
    return Project("PyYAML", repo, ("libyaml", "0.2.5", dl / real_sources.DEBIAN["libyaml"]), ("-DBUILD_SHARED_LIBS=ON",),
                   {"PYYAML_FORCE_LIBYAML": "1"},  # a failed libyaml build is an error, not a pure-Python wheel
                   "import yaml; assert yaml.__with_libyaml__; assert yaml.load(\"a: 1\", Loader=yaml.CLoader) == {\"a\": 1}",
                   "lib/yaml/__init__.py", "yaml/_yaml.pyx")


PROJECTS: dict[str, Callable[[Path], Project]] = {"fixture": fixture, "pyyaml": pyyaml}


def sh(*cmd: object, **kw: object) -> None:
    done = subprocess.run([str(c) for c in cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, **kw)
    if done.returncode:
        sys.exit(f"{' '.join(map(str, cmd))}: exit {done.returncode}\n{done.stderr[-3000:]}")


@dataclass(frozen=True)
class Timing:
    seconds: float
    stolen: float  # the share of the machine's CPU time its hypervisor gave to others meanwhile: not quiet


def _cpu() -> tuple[int, int]:
    """All CPU time since boot and the part stolen, in ticks (/proc/stat's first line)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return sum(fields), fields[7]


def timed(action: Callable[[], object]) -> Timing:
    (total, steal), start = _cpu(), time.perf_counter()
    action()
    seconds, (total_after, steal_after) = time.perf_counter() - start, _cpu()
    return Timing(seconds, (steal_after - steal) / max(total_after - total, 1))


def baseline(project: Project, pythons: dict, work: Path) -> Timing:
    """(a): the by-hand steps; a first untimed round warms uv's cache."""
    clean = {k: v for k, v in os.environ.items() if k not in ("CPATH", "LIBRARY_PATH", "LD_LIBRARY_PATH")}
    uv = SCRIPTS / "uv"

    def run_all(round_: str) -> None:
        here = work / f"baseline-{round_}"
        here.mkdir()
        with tarfile.open(project.library[2]) as archive:
            archive.extractall(here / "lib-src", filter="data")
        (src,) = (here / "lib-src").iterdir()
        prefix = here / "prefix"
        sh("cmake", "-S", src, "-B", here / "lib-build", f"-DCMAKE_INSTALL_PREFIX={prefix}",
           "-DCMAKE_BUILD_TYPE=Release", "-DCMAKE_INSTALL_LIBDIR=lib", *project.cmake_args)
        sh("cmake", "--build", here / "lib-build")  # serial, as every by-hand step here
        sh("cmake", "--install", here / "lib-build")
        env = {**clean, **project.build_env, "CPATH": str(prefix / "include"), "LIBRARY_PATH": str(prefix / "lib")}
        for version, interpreter in pythons.items():
            out = here / version
            source = shutil.copytree(project.repo, out / "src", ignore=shutil.ignore_patterns(".git"))
            sh(uv, "build", "--wheel", "--python", interpreter.path, "--out-dir", out / "dist", source, env=env)
            (wheel,) = (out / "dist").glob("*.whl")
            sh(SCRIPTS / "auditwheel", "repair", "-w", out / "wheelhouse", wheel,
               env={**env, "LD_LIBRARY_PATH": str(prefix / "lib"), "PATH": f"{SCRIPTS}:{env['PATH']}"})
            (repaired,) = (out / "wheelhouse").glob("*.whl")
            sh(uv, "venv", "--quiet", "--python", interpreter.path, out / "venv", env=clean)
            sh(uv, "pip", "install", "--quiet", "--python", out / "venv" / "bin" / "python", repaired, env=clean)
            (out / "cwd").mkdir()
            sh(out / "venv" / "bin" / "python", "-c", project.test, cwd=out / "cwd", env=clean)

    run_all("warm-up")
    return timed(lambda: run_all("timed"))


def _commit(repo: Path, path: str, text: str) -> None:
    file = repo / path
    file.write_text(file.read_text() + text)
    fixtures._git(repo, "commit", "-q", "-am", f"change {path}")


def wheelworks(config: Path, cache: Path, *extra: object, cpus: set[int] | None = None) -> tuple[Timing, dict]:
    """One build, on the CPUs ``cpus`` only when given (and what it starts with it)."""
    pinned = {"preexec_fn": lambda: os.sched_setaffinity(0, cpus)} if cpus else {}
    took = timed(lambda: sh(sys.executable, "-m", "wheelworks", "build", "--config", config,
                               "--cache-dir", cache, *extra, **pinned))
    builds = sorted((config.parent / "builds").glob("*/record.json"))
    return took, json.loads(builds[-1].read_text())


def measure(project: Project, pythons: dict, work: Path, frontend: str) -> tuple[Timing, dict[str, tuple[Timing, dict]]]:
    a = baseline(project, pythons, work)
    (work / "cold").mkdir()
    runs = {"b": wheelworks(project.config(work / "cold", list(pythons), frontend), work / "cache-cold", "-j", 1)}
    (work / "one-cpu").mkdir()
    runs["b1"] = wheelworks(project.config(work / "one-cpu", list(pythons), frontend), work / "cache-one-cpu", "-j", 1,
                            cpus={min(os.sched_getaffinity(0))})
    (work / "wheels").mkdir()
    config = project.config(work / "wheels", list(pythons), frontend)
    runs["c"] = wheelworks(config, work / "cache", "--rebuild")
    runs["d"] = wheelworks(config, work / "cache")
    _commit(project.repo, project.python_file, "\n# a changed Python file\n")
    runs["e"] = wheelworks(config, work / "cache")
    comment = "\n# a changed Cython file\n" if project.c_file.endswith(".pyx") else "\n/* a changed C file */\n"
    _commit(project.repo, project.c_file, comment)
    runs["f"] = wheelworks(config, work / "cache")
    return a, runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frontend", default="build[uv]", choices=["build", "build[uv]", "uv"])
    parser.add_argument("--project", choices=list(PROJECTS), action="append", help="default: each")
    parser.add_argument("--python", choices=VERSIONS, action="append", help="default: each one here")
    args = parser.parse_args()

    wanted = args.python or VERSIONS
    found = interpreters.discover(wanted, (), from_environment(os.environ), platforms.native().os)
    pythons = {v: found[v] for v in VERSIONS if v in found}
    print(f"pythons: {' '.join(pythons)}   frontend: {args.frontend}   cpus: {os.cpu_count()}")
    for name in args.project or list(PROJECTS):
        work = Path(tempfile.mkdtemp(prefix="wheelworks-bench-"))
        try:
            project = PROJECTS[name](work)
            a, runs = measure(project, pythons, work, args.frontend)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print()
        print(table(project, a, runs))
        print()
        print(breakdown(runs))


def table(project: Project, a: Timing, runs: dict[str, tuple[Timing, dict]]) -> str:
    labels = {
        "b": "`wheelworks build -j 1`, empty cache",
        "b1": "`wheelworks build -j 1`, empty cache, held to one CPU (its affinity)",
        "c": "`wheelworks build --rebuild` (default -j), empty cache",
        "d": "`wheelworks build`, same commit (nothing changed)",
        "e": "`wheelworks build`, one Python file changed",
        "f": "`wheelworks build`, the C file changed",
    }

    def hits(record: dict) -> str:
        counts = [t["ccache"] for t in record["targets"] if t.get("ccache")]
        reused = sum(bool(t.get("reused_from")) for t in record["targets"])
        cache = f"{sum(x['hits'] for x in counts)} hits / {sum(x['misses'] for x in counts)} misses" if counts else "-"
        return f"{cache}, {reused} of {len(record['targets'])} reused"

    lines = [f"{project.name}:", "", "| run | seconds | ratio to (a) | compiler cache, reuse | CPU stolen |",
             "|---|---:|---:|---|---:|",
             f"| (a) by hand: CMake once, then uv build + auditwheel + uv venv + uv pip install + test, serial, "
             f"uv cache warm | {a.seconds:.1f} | 1.00 | - | {a.stolen:.0%} |"]
    lines += [f"| ({key}) {labels[key]} | {took.seconds:.1f} | {took.seconds / a.seconds:.2f} | {hits(record)} | "
              f"{took.stolen:.0%} |" for key, (took, record) in runs.items()]
    return "\n".join(lines)


def breakdown(runs: dict[str, tuple[Timing, dict]]) -> str:
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
