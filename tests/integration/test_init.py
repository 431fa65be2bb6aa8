"""`wheelworks init` on a project that has a [tool.cibuildwheel] table."""

from __future__ import annotations

import pytest

from tests.fixtures import FIXTURES, git_repo
from wheelworks import cli
from wheelworks.config.model import load

pytestmark = pytest.mark.slow

CIBUILDWHEEL = """
[tool.cibuildwheel]
build = "cp311-* cp313-*"
skip = "*-musllinux*"
test-requires = ["packaging"]
test-command = "python {project}/tests/check.py"
environment = { THREADTALLY_FLAVOUR = "carried" }
before-build = "python -c \\"open('before-build-ran', 'w').close()\\""
container-engine = "podman"

[[tool.cibuildwheel.overrides]]
select = "cp313-*"
test-command = "true"
"""


def test_init_carries_cibuildwheel_and_the_build_runs_its_test(tmp_path, cache_dir, capsys):
    source = tmp_path / "source"
    source.mkdir()
    project = git_repo(FIXTURES / "threadtally", source / "threadtally", tag="v0.1.0")
    (project / "pyproject.toml").write_text((project / "pyproject.toml").read_text() + CIBUILDWHEEL)
    from tests.fixtures import _git
    _git(project, "commit", "-qam", "cibuildwheel settings")
    wheels = tmp_path / "wheels"
    assert cli.main(["init", str(project), "--output", str(wheels), "--cache-dir", str(cache_dir)]) == 0
    out, err = capsys.readouterr()
    assert f"wrote {wheels / 'wheelworks.toml'}" in out and (wheels / ".gitignore").read_text().count("builds/") == 1
    notes = [line for line in err.splitlines() if line.startswith("not carried:")]
    assert any("container-engine" in n for n in notes) and any("overrides" in n and "cp313-*" in n for n in notes)
    assert not any("test-requires" in n or "environment" in n or "before-build" in n for n in notes)

    config = load(wheels / "wheelworks.toml")
    assert config.project.build_commit == "main"  # the branch HEAD names: its builds go to the nightly container
    assert config.build.python == ("3.11", "3.13") and config.build.skip == ("*-musllinux*",)
    assert config.test.requires == ("packaging",) and config.build.environment == {"THREADTALLY_FLAVOUR": "carried"}
    assert cli.main(["build", "--config", str(wheels / "wheelworks.toml"), "--cache-dir", str(cache_dir), "--list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()[1:]]
    assert listed == ["cp311-manylinux_x86_64", "cp313-manylinux_x86_64"]  # what cibuildwheel builds here

    assert cli.main(["build", "--config", str(wheels / "wheelworks.toml"), "--cache-dir", str(cache_dir)]) == 0
    log = (wheels / "builds").glob("*/logs/cp313-manylinux_x86_64/test.log")
    assert "threadtally ok" in next(log).read_text()  # the carried command, with {project}, ran and passed


def test_init_refuses_an_existing_config_and_a_project_without_a_name(tmp_path, cache_dir, capsys):
    (tmp_path / "wheelworks.toml").write_text("")
    assert cli.main(["init", str(FIXTURES / "threadtally"), "--output", str(tmp_path), "--cache-dir", str(cache_dir)]) == 2
    assert "exists already" in capsys.readouterr().err
    nameless = tmp_path / "nameless"
    nameless.mkdir()
    (nameless / "pyproject.toml").write_text("[build-system]\nrequires = []\n")
    assert cli.main(["init", str(nameless), "--output", str(tmp_path / "w"), "--cache-dir", str(cache_dir)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no [project] name" in err and "--name" in err


def test_init_with_ci_writes_the_workflows_and_the_key_pair(tmp_path, cache_dir, capsys):
    project = git_repo(FIXTURES / "threadtally", tmp_path / "threadtally")
    wheels = tmp_path / "wheels"
    assert cli.main(["init", str(project), "--output", str(wheels), "--cache-dir", str(cache_dir), "--ci"]) == 0
    out, err = capsys.readouterr()
    assert (wheels / ".github" / "workflows" / "wheels.yml").is_file()
    assert (wheels / ".github" / "workflows" / "release.yml").is_file()
    assert (wheels / ".wheelworks" / "public.pem").read_text().startswith("-----BEGIN PUBLIC KEY-----")
    assert "-----BEGIN PRIVATE KEY-----" in out and "WHEELWORKS_PRIVATE_KEY" in err  # shown once, never written
    assert not list(wheels.rglob("*private*"))
