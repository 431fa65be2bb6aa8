"""What an unchanged nightly costs on a fresh CI runner, against the cold build it replaces.
Prints a table.

For each project: a cold `wheelworks build` (empty cache) published to a folder container,
then, on an empty cache again (a fresh runner whose actions cache is empty), `wheelworks
build --reuse-published main`, which takes every wheel from the container. The aim is at
most 0.1 of the cold build. The projects: the fixture (pytally and its libtally recipe,
three CPythons) and, when their sources are in the tests' cache (a `-m real` run or
bench/overhead.py fetches them), lz4 4.4.5 with its liblz4 meson recipe and PyYAML 6.0.3
with its libyaml CMake recipe (six CPythons).

    .venv/bin/python bench/reuse.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import fixtures, real_sources  # noqa: E402

WHEELWORKS = Path(sys.executable).parent / "wheelworks"
REAL = real_sources.CACHE / "dl"


def _run(folder: Path, cache: Path, *args: str) -> float:
    env = {**os.environ, "WHEELWORKS_CACHE_DIR": str(cache), "CI": "true"}
    start = time.monotonic()
    subprocess.run([str(WHEELWORKS), *args], cwd=folder, env=env, check=True, capture_output=True)
    return time.monotonic() - start


def measure(folder: Path, project: str, build: str) -> tuple[float, float]:
    (folder / "wheelworks.toml").write_text(textwrap.dedent(project) + textwrap.dedent(f"""
        [containers.nightly]
        url = "{folder / 'container'}"
        branches = ["main"]
    """) + build)
    cold = _run(folder, folder / "cache-cold", "build")
    _run(folder, folder / "cache-cold", "publish", "--ref", "main")
    for gone in ("builds", "wheelhouse"):
        subprocess.run(["rm", "-rf", str(folder / gone)], check=True)
    reused = _run(folder, folder / "cache-fresh", "build", "--reuse-published", "main")
    return cold, reused


def _project(name: str, repo: Path, pythons: list[str], test: str, more: str = "") -> str:
    """The [project], [build] and [test] tables of a config; ``more``: [build] lines."""
    commit = 'build-commit = "main"\n' if repo.is_dir() else ""  # a git repository; an sdist has none
    return (f'[project]\nname = "{name}"\nrepo = "{repo}"\n{commit}[build]\npython = {pythons!r}\n{more}'
            f'[test]\ncommand = "python -c \'{test}\'"\n')


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory(prefix="wheelworks-bench-") as tmp:
        work = Path(tmp)
        tarball, sha256 = fixtures.libtally_tarball(work)
        repo = fixtures.pytally_repo(work / "pytally")
        (work / "fixture").mkdir()
        rows.append(("pytally + libtally, 3 CPythons", *measure(
            work / "fixture", _project("pytally", repo, ["3.9", "3.11", "3.13"], "import pytally"),
            fixtures.libtally_recipe(tarball, sha256))))
        lz4, liblz4 = REAL / "lz4-4.4.5.tar.gz", REAL / "lz4_1.9.4.orig.tar.gz"
        if lz4.exists() and liblz4.exists():
            (work / "lz4").mkdir()
            rows.append(("lz4 4.4.5 + liblz4 (meson), 2 CPythons", *measure(
                work / "lz4", _project("lz4", lz4, ["3.11", "3.13"], "import lz4.frame"),
                fixtures.recipe_table("liblz4", "1.9.4", liblz4, "meson", 'subdir = "contrib/meson"'))))
        pyyaml, libyaml = REAL / "pyyaml-6.0.3.tar.gz", REAL / real_sources.DEBIAN["libyaml"]
        if pyyaml.exists() and libyaml.exists():
            (work / "pyyaml").mkdir()
            rows.append(("PyYAML 6.0.3 + libyaml (cmake), 6 CPythons", *measure(
                work / "pyyaml", _project("PyYAML", pyyaml, ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"],
                                          "import yaml; assert yaml.__with_libyaml__",
                                          '[build.environment]\nPYYAML_FORCE_LIBYAML = "1"\n'),
                fixtures.recipe_table("libyaml", "0.2.5", libyaml, "cmake", 'args = ["-DBUILD_SHARED_LIBS=ON"]'))))
    print(f"{'project':<44} {'cold s':>8} {'reused s':>9} {'ratio':>6}")
    for name, cold, reused in rows:
        print(f"{name:<44} {cold:8.1f} {reused:9.2f} {reused / cold:6.2f}")


if __name__ == "__main__":
    main()
