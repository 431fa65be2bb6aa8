"""The command line: parse, call the library, print, exit. Nothing else lives here.

Each module of this package owns a group of commands: their arguments (``register``)
and what each one calls and prints. ``main`` turns errors into one line and an exit code.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import signal
import sys
import threading
from collections.abc import Iterable, Sequence
from typing import NoReturn

from wheelworks.cli import building, inspecting, publishing, repository
from wheelworks.config.settings import from_environment
from wheelworks.shared import masking
from wheelworks.shared.errors import WheelworksError

GROUPS = (building, publishing, repository, inspecting)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminated)
    settings = from_environment(os.environ, cache_dir=getattr(args, "cache_dir", None))
    if settings.github_actions:
        masking.listen(_github_masks)
    masking.register_environment(os.environ)  # the key file's contents were registered as it was read
    try:
        return int(args.func(args, settings) or 0)
    except WheelworksError as exc:
        if args.traceback:
            raise
        print(f"wheelworks: error: {masking.mask(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("wheelworks: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # a file or folder the user named that cannot be used
        if args.traceback:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"wheelworks: error: {where}{masking.mask(exc.strerror or str(exc))}", file=sys.stderr)
        return 1


class _Parser(argparse.ArgumentParser):
    """argparse, with a bad argument reported in one line like every other error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def parser() -> argparse.ArgumentParser:
    root = _Parser(prog="wheelworks", description="Build, repair and test binary wheels.")
    root.add_argument("--traceback", action="store_true", help="show the Python traceback of an error")
    root.add_argument("--version", action="version", version=f"wheelworks {importlib.metadata.version('wheelworks')}")
    commands = root.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.register(commands)
    return root


def _github_masks(values: Iterable[str]) -> None:
    for value in values:  # GitHub masks these in every later line of the job's log
        print(f"::add-mask::{value}", flush=True)


def _terminated(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM ends a build the way Ctrl-C does: recorded, cleaned up
