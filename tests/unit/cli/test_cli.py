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


def test_every_argument_has_help():
    import argparse

    from wheelworks.cli import parser

    missing = []

    def walk(p: argparse.ArgumentParser, path: str) -> None:
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{path} {name}")
            elif not action.help and action.dest != "help":
                missing.append(f"{path} {action.option_strings or action.dest}")

    walk(parser(), "wheelworks")
    assert not missing
