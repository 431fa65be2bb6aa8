"""A manylinux policy that holds: the repair targets it, and a wheel that cannot meet it fails in one line."""

from __future__ import annotations

import zipfile

import pytest
from packaging.utils import parse_wheel_filename

from tests.fixtures import threadtally_config
from wheelworks import cli
from wheelworks.build.records import Records

pytestmark = pytest.mark.slow


def test_a_native_build_that_needs_glibc_2_34_cannot_meet_2_17(tmp_path, pythons, cache_dir, capsys):
    config = threadtally_config(tmp_path, pythons[-1], 'manylinux = "manylinux2014"')
    assert cli.main(["build", "--config", str(config), "--cache-dir", str(cache_dir)]) == 1
    err = capsys.readouterr().err
    (line,) = [l for l in err.splitlines() if "cannot meet" in l]
    assert "manylinux_2_17 (glibc 2.17)" in line and "pthread_create@GLIBC_2.34" in line
    assert 'toolchain = "zig"' in line and "manylinux images" in line
    (target,) = Records(tmp_path / "builds").load("latest").targets
    assert target.status == "failed" and [s.name for s in target.steps] == ["build", "repair"]


def test_unset_the_wheel_gets_the_lowest_tag_and_one_warning_line(tmp_path, pythons, cache_dir, capsys):
    config = threadtally_config(tmp_path, pythons[-1])
    assert cli.main(["build", "--config", str(config), "--cache-dir", str(cache_dir)]) == 0
    (target,) = Records(tmp_path / "builds").load("latest").targets
    tags = {t.platform for t in parse_wheel_filename(target.wheel)[3]}
    assert tags == {"manylinux_2_34_x86_64"}, tags  # what this glibc 2.36 machine gives pthread_create
    warnings = [l for l in capsys.readouterr().err.splitlines() if l.startswith("warning:") and "glibc 2.34" in l]
    assert len(warnings) == 1 and "Debian 11" in warnings[0] and "Ubuntu 20.04" in warnings[0]
    assert "Ubuntu 22.04" not in warnings[0]  # its glibc 2.35 takes it


def test_a_wheel_that_meets_the_policy_is_tagged_for_it(tmp_path, pythons, cache_dir, make_config):
    config = make_config(build=f'[build]\npython = ["{pythons[-1]}"]\nmanylinux = "manylinux_2_34"\n')
    assert cli.main(["build", "--config", str(config), "--cache-dir", str(cache_dir)]) == 0
    (target,) = Records(config.parent / "builds").load("latest").targets
    tags = {t.platform for t in parse_wheel_filename(target.wheel)[3]}
    assert "manylinux_2_34_x86_64" in tags and tags <= {"manylinux_2_34_x86_64", "manylinux_2_17_x86_64",
                                                         "manylinux2014_x86_64"}, tags  # and lower ones it meets
    assert not target.warnings
    with zipfile.ZipFile(config.parent / "wheelhouse" / target.wheel) as zf:
        assert any(n.startswith("pytally.libs/libtally") for n in zf.namelist())
