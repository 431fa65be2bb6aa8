"""Every bad input ends in one line naming what is wrong, a non-zero exit, and no traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from wheelworks import cli
from tests.conftest import FIXTURES


def _fails(capsys, config: Path, cache_dir: Path, *extra: str) -> tuple[int, str]:
    code = cli.main(["build", "--config", str(config), "--cache-dir", str(cache_dir), *extra])
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0
    assert err and err[-1].startswith("wheelworks: error: ")
    assert not any("Traceback" in line for line in err)
    return code, err[-1]


def test_unknown_key_suggests_the_right_one(make_config, cache_dir, capsys):
    config = make_config(build='[build]\npyhton = ["3.12"]\n')
    code, line = _fails(capsys, config, cache_dir)
    assert code == 2
    assert line == "wheelworks: error: wheelworks.toml: [build]: unknown key 'pyhton' (did you mean 'python'?)"


def test_missing_field(make_config, cache_dir, capsys):
    config = make_config(project='[project]\nrepo = "x"\n')
    _, line = _fails(capsys, config, cache_dir)
    assert "[project]: missing required key 'name'" in line


def test_wrong_type(make_config, cache_dir, capsys):
    config = make_config(test="[test]\ncommand = 3\n")
    _, line = _fails(capsys, config, cache_dir)
    assert "[test]: 'command' must be a string, not 3" in line


def test_missing_config_file(tmp_path, cache_dir, capsys):
    _, line = _fails(capsys, tmp_path / "nope.toml", cache_dir)
    assert "nope.toml: no such config file" in line


@pytest.mark.slow
def test_wrong_sha256_stops_before_building(make_config, cache_dir, libtally_tarball, tmp_path, capsys):
    tarball, _ = libtally_tarball
    config = make_config(library=f"""
        [[library]]
        name = "libtally"
        version = "1.2.3"
        url = "{tarball.as_uri()}"
        sha256 = "{'0' * 64}"
        system = "cmake"
    """)
    code, line = _fails(capsys, config, cache_dir)
    assert code == 4
    assert f"library 'libtally': sha256 mismatch for {tarball.as_uri()}: expected {'0' * 64}, got" in line
    assert not (tmp_path / "wheelhouse").exists()


@pytest.mark.slow
def test_unknown_ref(make_config, cache_dir, capsys):
    code, line = _fails(capsys, make_config(), cache_dir, "--build-commit", "no-such-branch")
    assert code == 3
    assert "build-commit: unknown ref 'no-such-branch' in" in line


@pytest.mark.slow
def test_broken_library_build_names_the_library_and_its_log(make_config, cache_dir, tmp_path, capsys):
    broken = shutil.copytree(FIXTURES / "libtally", tmp_path / "libbroken")
    (broken / "tally.c").write_text("this is not C;\n")
    config = make_config(library=f"""
        [[library]]
        name = "libbroken"
        version = "0.0.1"
        path = "{broken}"
        system = "cmake"
    """)
    code, line = _fails(capsys, config, cache_dir)
    assert code == 4
    assert "library 'libbroken' failed to build: command failed with exit code" in line
    log = Path(line.rsplit("see ", 1)[1].rstrip(")"))
    assert "this is not C" in log.read_text()
    assert not list((cache_dir / "libraries").glob("libbroken-*[0-9a-f]"))  # no half-built prefix left


def test_missing_interpreter(make_config, cache_dir, capsys):
    config = make_config(build='[build]\npython = ["3.99"]\n')
    code, line = _fails(capsys, config, cache_dir)
    assert code == 5
    assert "no interpreter found for python3.99" in line
    assert not (config.parent / "builds").exists()


def test_selection_matching_nothing(make_config, cache_dir, capsys):
    _, line = _fails(capsys, make_config(), cache_dir, "--only", "pp*")
    assert "no target selected" in line
