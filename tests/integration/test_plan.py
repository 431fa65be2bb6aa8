"""`build --dry-run`: the plan of a build, building nothing; uncommitted edits said."""

from __future__ import annotations

import pytest

from tests.fixtures import _git
from wheelworks import cli
from wheelworks.build.records import Records

pytestmark = pytest.mark.slow


def _run(config, cache_dir, *extra):
    return cli.main(["build", "--config", str(config), "--cache-dir", str(cache_dir), *extra])


def test_a_plan_before_and_after_a_build(make_config, pythons, cache_dir, tmp_path, capsys):
    config = make_config(build=f'[build]\npython = ["{pythons[-1]}"]\n')
    fresh = tmp_path / "fresh-cache"
    assert _run(config, fresh, "--dry-run") == 0
    out = capsys.readouterr().out
    assert "library libtally 1.2.3: to build" in out and "to build with" in out
    assert not (config.parent / "builds").exists() or not Records(config.parent / "builds").ids()
    assert not (fresh / "libraries").exists() or not any((fresh / "libraries").glob("libtally-*"))  # nothing built

    assert _run(config, cache_dir) == 0
    built = Records(config.parent / "builds").load("latest")
    capsys.readouterr()
    assert _run(config, cache_dir, "-n") == 0
    out = capsys.readouterr().out
    assert f"at {built.commit}" in out and "library libtally 1.2.3: cached" in out
    assert f"reused from build {built.id}" in out and "to build with" not in out
    assert len(Records(config.parent / "builds").ids()) == 1  # and no new record
    assert _run(config, cache_dir, "-n", "--rebuild") == 0
    assert "to build with" in capsys.readouterr().out


def test_uncommitted_edits_of_a_local_work_tree_are_said(make_config, pythons, cache_dir, pytally_repo, capsys):
    config = make_config(build=f'[build]\npython = ["{pythons[-1]}"]\n')
    (pytally_repo / "setup.py").write_text((pytally_repo / "setup.py").read_text() + "\n# an edit\n")
    assert _run(config, cache_dir, "--dry-run") == 0
    (line,) = [l for l in capsys.readouterr().err.splitlines() if l.startswith("warning: uncommitted")]
    assert "setup.py" in line and "commit them" in line
    _git(pytally_repo, "commit", "-qam", "the edit")
    assert _run(config, cache_dir, "--dry-run") == 0
    assert "uncommitted" not in capsys.readouterr().err
