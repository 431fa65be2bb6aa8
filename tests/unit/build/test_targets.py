"""Today's CPython matrix: versions as data, requires-python, enable, free-threaded and abi3 targets."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from wheelworks.config import pythons
from wheelworks.config.model import load
from wheelworks.shared.errors import ConfigError, StepError
from wheelworks.build import abi
from wheelworks.shared.platforms import Platform
from wheelworks.build.targets import Target, matrix, select_targets, serves

TODAY = date(2026, 11, 25)
LINUX = Platform("linux", "x86_64", "manylinux_x86_64")


def test_the_data_knows_today_s_cpythons():
    versions = {p.version: p for p in pythons.known()}
    assert {"3.13", "3.14", "3.15"} <= set(versions)
    assert versions["3.14"].free_threaded and not versions["3.12"].free_threaded
    assert not versions["3.14"].prerelease
    assert any(p.prerelease for p in pythons.known())  # the next one is known before its release


@pytest.mark.parametrize(("requires", "enable", "expected"), [
    (">=3.11", (), ["3.11", "3.12", "3.13", "3.14", "3.15"]),
    (">=3.11,<3.14", (), ["3.11", "3.12", "3.13"]),
    (None, (), ["3.11", "3.12", "3.13", "3.14", "3.15"]),  # 3.10 reached its end of life in October 2026
    (">=3.8", (), ["3.11", "3.12", "3.13", "3.14", "3.15"]),
    (">=3.13", ("free-threaded",), ["3.13", "3.13t", "3.14", "3.14t", "3.15", "3.15t"]),
    (">=3.15", ("prerelease",), ["3.15", "3.16"]),
    ("!=3.12.*,>=3.11", (), ["3.11", "3.13", "3.14", "3.15"]),
])
def test_default_matrix(requires, enable, expected):
    assert pythons.default_matrix(requires, enable, TODAY) == expected


def test_end_of_life_follows_the_date():
    assert "3.10" in pythons.default_matrix(None, (), date(2026, 6, 1))
    assert "3.10" not in pythons.default_matrix(None, (), TODAY)


def test_a_bad_requires_python_is_one_line():
    with pytest.raises(ConfigError, match="requires-python '>=three' is not a version specifier"):
        pythons.default_matrix(">=three", (), TODAY)


def _config(tmp_path: Path, build: str) -> object:
    path = tmp_path / "wheelworks.toml"
    path.write_text(f'[project]\nname = "p"\nrepo = "."\n[build]\n{build}\n')
    return load(path)


def test_config_names_versions_or_the_data_chooses(tmp_path):
    named = matrix(_config(tmp_path, 'python = ["3.14t", "3.12"]'), ">=3.13", TODAY)
    assert named.versions == ("3.12", "3.14t") and named.from_config
    chosen = matrix(_config(tmp_path, 'enable = ["free-threaded"]'), ">=3.14", TODAY)
    assert chosen.versions == ("3.14", "3.14t", "3.15", "3.15t") and not chosen.from_config
    targets = select_targets(_config(tmp_path, 'enable = ["free-threaded"]\nskip = ["cp315*"]'), LINUX, chosen)
    assert [t.identifier for t in targets] == ["cp314-manylinux_x86_64", "cp314t-manylinux_x86_64"]
    assert targets[1].free_threaded and not targets[0].free_threaded


@pytest.mark.parametrize(("bad", "message"), [
    ('enable = ["threads"]', r"\[build\] enable: unknown 'threads'"),
    ('python = ["3.14x"]', r"\[build\] python: '3.14x' is not a CPython version"),
    ("abi3 = 1", "abi3"),
])
def test_bad_build_settings(tmp_path, bad, message):
    with pytest.raises(ConfigError, match=message):
        _config(tmp_path, bad)


def test_free_threaded_wheels_are_checked_against_their_target():
    ft = Target("cp314t-manylinux_x86_64", "3.14t")
    gil = Target("cp314-manylinux_x86_64", "3.14")
    abi.check(ft, "p-1.0-cp314-cp314t-linux_x86_64.whl")
    abi.check(gil, "p-1.0-cp314-cp314-linux_x86_64.whl")
    abi.check(ft, "p-1.0-py3-none-any.whl")
    with pytest.raises(StepError, match="not a free-threaded"):
        abi.check(ft, "p-1.0-cp314-cp314-linux_x86_64.whl")
    with pytest.raises(StepError, match="not a GIL"):
        abi.check(gil, "p-1.0-cp314-cp314t-linux_x86_64.whl")


def test_which_wheel_serves_which_target():
    abi3 = "p-1.0-cp38-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    assert serves("cp38-manylinux_x86_64", abi3) and serves("cp314-manylinux_x86_64", abi3)
    assert not serves("cp314t-manylinux_x86_64", abi3)  # free-threaded CPython has no abi3 (yet)
    assert not serves("cp314-musllinux_x86_64", abi3) and not serves("cp314-manylinux_aarch64", abi3)
    assert serves("cp314t-manylinux_x86_64", "p-1.0-cp314-cp314t-manylinux_2_28_x86_64.whl")
    assert not serves("cp314-manylinux_x86_64", "p-1.0-cp314-cp314t-manylinux_2_28_x86_64.whl")
    assert serves("cp312-win_amd64", "p-1.0-cp312-cp312-win_amd64.whl")
    assert serves("cp312-macosx_arm64", "p-1.0-cp312-cp312-macosx_11_0_arm64.whl")
