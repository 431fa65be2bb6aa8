"""toolchain = "zig": wheels for an old glibc from this glibc 2.36 machine, proved on Debian 11."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from packaging.utils import parse_wheel_filename

from tests.fixtures import threadtally_config
from tests.older_root import CHROOT, debian11, run_with_wheel
from wheelworks import cli
from wheelworks.build import vendoring
from wheelworks.build.records import Records
from wheelworks.config.policy import lowest_glibc

pytestmark = pytest.mark.slow
IMPORT = "import threadtally; print(threadtally.sum_in_thread(100))"


def _built(config: Path, cache_dir: Path) -> tuple[Path, object]:
    assert cli.main(["build", "--config", str(config), "--cache-dir", str(cache_dir)]) == 0
    record = Records(config.parent / "builds").load("latest")
    (target,) = record.targets
    return config.parent / "wheelhouse" / target.wheel, record


def _glibc_versions(wheel: Path, folder: Path) -> set[str]:
    folder.mkdir(parents=True)
    found: set[str] = set()
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            if vendoring.SHARED.search(name.rsplit("/", 1)[-1]):
                path = folder / name.replace("/", "_")
                path.write_bytes(zf.read(name))
                found |= {v for v in vendoring.symbol_versions(str(path)) if v.startswith("GLIBC_")}
    return found


def test_a_glibc_2_34_symbol_meets_2_17_with_zig(tmp_path, pythons, cache_dir):
    wheel, record = _built(threadtally_config(tmp_path, pythons[-1], 'manylinux = "manylinux2014"\ntoolchain = "zig"'),
                           cache_dir)
    tags = {t.platform for t in parse_wheel_filename(wheel.name)[3]}
    assert "manylinux_2_17_x86_64" in tags and lowest_glibc(tags) <= (2, 17), tags  # the policy, or older
    versions = _glibc_versions(wheel, tmp_path / "elf")
    assert versions and all(tuple(map(int, v[6:].split(".")[:2])) <= (2, 17) for v in versions), versions
    assert record.toolchain and record.toolchain.startswith("zig ") and "x86_64-linux-gnu.2.17" in record.toolchain


def test_the_fixture_with_its_cmake_recipe_builds_with_zig(make_config, pythons, cache_dir, tmp_path):
    config = make_config(build=f'[build]\npython = ["{pythons[-1]}"]\nmanylinux = "manylinux_2_17"\ntoolchain = "zig"\n')
    wheel, record = _built(config, cache_dir)
    assert "manylinux_2_17_x86_64" in {t.platform for t in parse_wheel_filename(wheel.name)[3]}
    (target,) = record.targets
    assert len(target.vendored) == 1 and "libtally" in target.vendored[0]  # the recipe's copy, from the wheel
    assert all(tuple(map(int, v[6:].split(".")[:2])) <= (2, 17) for v in _glibc_versions(wheel, tmp_path / "elf"))
    # zig's library is not gcc's: another key, another prefix.
    native = make_config(build=f'[build]\npython = ["{pythons[-1]}"]\n')
    _, gcc = _built(native, cache_dir)
    assert gcc.libraries[0].key != record.libraries[0].key and gcc.libraries[0].prefix != record.libraries[0].prefix


def test_a_recipe_that_needs_openmp_says_zig_has_none(make_config, pythons, cache_dir, capsys):
    config = make_config(build=f'[build]\npython = ["{pythons[-1]}"]\ntoolchain = "zig"\n', library="""
        [[library]]
        name = "parallel"
        version = "1"
        path = "."
        system = "script"
        script = "printf '#include <omp.h>\\nint f(void) { return omp_get_max_threads(); }\\n' > p.c && $CC -fopenmp -shared -o $PREFIX/libparallel.so p.c"
    """)
    assert cli.main(["build", "--config", str(config), "--cache-dir", str(cache_dir)]) != 0
    (line,) = [l for l in capsys.readouterr().err.splitlines() if l.startswith("wheelworks: error:")]
    assert "library 'parallel' failed to build" in line and "needs OpenMP, which zig does not have" in line


@pytest.mark.real
def test_on_debian_11_the_zig_wheel_loads_and_the_native_one_cannot(tmp_path, cache_dir):
    root = debian11()
    assert "GLIBC 2.31" in subprocess.run([CHROOT, str(root), "/usr/bin/ldd", "--version"], capture_output=True,
                                          text=True).stdout.upper()
    zig, _ = _built(threadtally_config(tmp_path / "zig", "3.9", 'manylinux = "manylinux_2_17"\ntoolchain = "zig"'), cache_dir)
    loaded = run_with_wheel(root, zig, IMPORT)
    assert loaded.returncode == 0 and loaded.stdout.strip() == "5050", loaded.stderr
    native, _ = _built(threadtally_config(tmp_path / "native", "3.9", ""), cache_dir)
    assert "manylinux_2_34" in native.name
    refused = run_with_wheel(root, native, IMPORT)
    assert refused.returncode != 0 and "GLIBC_2.34' not found" in refused.stderr, refused.stderr
