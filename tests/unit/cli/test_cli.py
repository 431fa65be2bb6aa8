"""The command line's own answers, which need no config."""

from __future__ import annotations

import importlib.metadata

import pytest

from wheelworks import cli


def test_the_version_is_one_line(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"wheelworks {importlib.metadata.version('wheelworks')}\n"


def test_a_bad_argument_is_one_line(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["build", "--jobs", "0"])
    assert info.value.code == 2
    assert capsys.readouterr().err == "wheelworks build: error: argument -j/--jobs: 0 is not at least 1 (see wheelworks build --help)\n"
