"""Today's matrix for real: the default matrix from requires-python, and one abi3 wheel
built once, audited, and tested on every CPython of the machine."""

from __future__ import annotations

import re
import textwrap

import pytest

from tests.fixtures import FIXTURES, git_repo, libtally_recipe
from wheelworks import cli
from wheelworks.build.records import Records

pytestmark = pytest.mark.slow


def _config(tmp_path, repo, tarball, sha256, build: str, test: str) -> object:
    path = tmp_path / "wheelworks.toml"
    path.write_text(textwrap.dedent(f"""
        [project]
        name = "{repo.name}"
        repo = "{repo}"
        build-commit = "main"
        [build]
        {build}
        [test]
        command = "{test}"
    """) + libtally_recipe(tarball, sha256))
    return path


ABI3_TEST = "python -c 'import abitally; assert abitally.sum(2, 3, 4) == 9; print(abitally.version())'"


def test_abi3_wheel_is_built_once_audited_and_tested_on_every_cpython(libtally_tarball, tmp_path, capsys):
    from tests.conftest import VERSIONS

    repo = git_repo(FIXTURES / "abitally", tmp_path / "abitally")
    config = _config(tmp_path, repo, *libtally_tarball, f"python = {list(VERSIONS)!r}\nmissing-python = 'warn'",
                     ABI3_TEST)
    assert cli.main(["build", "--config", str(config), "--cache-dir", str(tmp_path / "cache"), "-j", "2"]) == 0
    record = Records(tmp_path / "builds").load("latest")
    ran = [t for t in record.targets if t.status != "missing"]
    assert len(ran) >= 3 and all(t.status == "ok" for t in ran)
    builders = [t for t in ran if any(s.name == "build" for s in t.steps)]
    assert len(builders) == 1 and builders[0] is ran[0]  # built once, by the lowest CPython
    assert [s.name for s in builders[0].steps] == ["build", "repair", "abi3audit", "test"]
    for target in ran[1:]:
        assert [s.name for s in target.steps] == ["test"] and target.built_by == ran[0].identifier
    assert {t.wheel for t in ran} == {builders[0].wheel} and "-cp38-abi3-manylinux" in builders[0].wheel
    wheels = list((tmp_path / "wheelhouse").glob("*.whl"))
    assert [w.name for w in wheels] == [builders[0].wheel]
    logs = Records(tmp_path / "builds").folder(record.id) / "logs"
    for target in ran:  # each test ran its own CPython
        assert f"python{target.python}" in target.interpreter or target.python in target.interpreter
        assert (logs / target.identifier / "test.log").is_file()


def test_a_symbol_outside_the_claimed_limited_api_fails_abi3audit(libtally_tarball, pythons, tmp_path, capsys):
    repo = git_repo(FIXTURES / "abitally", tmp_path / "abitally")
    build = f'python = ["{pythons[-1]}"]\nenvironment = {{ ABITALLY_API = "0x030A0000" }}'
    config = _config(tmp_path, repo, *libtally_tarball, build, ABI3_TEST)
    assert cli.main(["build", "--config", str(config), "--cache-dir", str(tmp_path / "cache")]) == 1
    (target,) = Records(tmp_path / "builds").load("latest").targets
    audit = next(s for s in target.steps if s.name == "abi3audit")
    assert audit.status == "failed" and "uses symbols outside its limited API" in audit.error
    log = (Records(tmp_path / "builds").folder(Records(tmp_path / "builds").load("latest").id) / audit.log).read_text()
    assert "PyUnicode_AsUTF8AndSize" in log


def test_the_default_matrix_comes_from_requires_python(pytally_repo, libtally_tarball, tmp_path, capsys):
    repo = tmp_path / "pytally311"
    git_repo(FIXTURES / "pytally", repo)
    pyproject = repo / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('requires-python = ">=3.8"', 'requires-python = ">=3.11"'))
    from tests.fixtures import _git

    _git(repo, "commit", "-q", "-am", "requires-python >= 3.11")
    config = _config(tmp_path, repo, *libtally_tarball, "",
                     "python -c 'import pytally; assert pytally.sum(2, 3, 4) == 9'")
    assert cli.main(["build", "--config", str(config), "--cache-dir", str(tmp_path / "cache"), "--list"]) == 0
    listing = capsys.readouterr().out
    assert "matrix: 3.11 3.12 3.13 3.14 3.15" in listing and "requires-python >=3.11" in listing
    assert re.search(r"cp314-manylinux_x86_64 +absent here", listing)
    assert not (tmp_path / "builds").exists()  # --list builds nothing

    assert cli.main(["build", "--config", str(config), "--cache-dir", str(tmp_path / "cache"), "-j", "2"]) == 0
    record = Records(tmp_path / "builds").load("latest")
    assert record.matrix == ["3.11", "3.12", "3.13", "3.14", "3.15"]
    status = {t.python: t.status for t in record.targets}
    assert status == {"3.11": "ok", "3.12": "ok", "3.13": "ok", "3.14": "missing", "3.15": "missing"}
    assert re.search(r"cp314-\S+ +python3.14 missing", capsys.readouterr().err)
