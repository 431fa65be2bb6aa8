"""What a value must look like before it reaches git, a file path or a generated file.

Each check returns the problem in a few words, or None; the caller, which knows where
the value came from (a config key, a variable, a container), makes it an error naming
that place. Values are checked where they enter, so nothing deeper has to wonder
whether ``--upload-pack=…`` is a branch or ``../..`` a library.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable

# git check-ref-format's rules, plus: never an option, never empty.
_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//")
# A name that becomes one path component (a library, a build id, a target).
_COMPONENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")
# PEP 508's rule for a distribution's name (what pip and PyPI accept).
_PROJECT = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")
# GitHub's rule for secret names: letters, digits, underscores, not starting with a digit.
_SECRET = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def ref_problem(ref: str) -> str | None:
    """Why ``ref`` cannot be a branch, tag or commit hash handed to git, or None."""
    if not ref:
        return "is empty"
    if ref.startswith("-"):
        return "starts with '-', which git would take as an option"
    if _REF_FORBIDDEN.search(ref) or ref.startswith(("/", ".")) or ref.endswith(("/", ".", ".lock")) or ref == "@":
        return "is not a valid git ref name"
    if any(part.startswith(".") or part.endswith(".lock") for part in ref.split("/")):
        return "is not a valid git ref name"
    return None


def repo_problem(repo: str) -> str | None:
    """Why ``repo`` cannot be a repository URL or path handed to git, or None."""
    if not repo:
        return "is empty"
    if repo.startswith("-"):
        return "starts with '-', which git would take as an option"
    if any(ord(c) < 0x20 or c == "\x7f" for c in repo):
        return "contains a control character"
    if re.match(r"(?i)ext::|fd::", repo):
        return "uses a git transport that runs commands"
    return None


def project_problem(name: str) -> str | None:
    """Why ``name`` cannot be a Python project's name, or None."""
    if not _PROJECT.fullmatch(name):
        return "is not a project name (letters, digits and . _ -, starting and ending with a letter or digit)"
    return None


def component_problem(name: str) -> str | None:
    """Why ``name`` cannot be one component of a path wheelworks writes, or None."""
    if not _COMPONENT.fullmatch(name) or name.endswith("."):
        return "must be letters, digits and . _ + - (starting with a letter or digit), with no '/'"
    return None


def relative_problem(path: str) -> str | None:
    """Why ``path`` cannot be a folder inside a source tree, or None."""
    parts = path.replace("\\", "/").split("/")
    if path.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", path) or ".." in parts:
        return "must be a relative path inside the source, without '..'"
    if any(ord(c) < 0x20 for c in path):
        return "contains a control character"
    return None


def secret_problem(name: str) -> str | None:
    """Why ``name`` cannot be the name of a GitHub Actions secret, or None."""
    if not _SECRET.fullmatch(name):
        return "must be letters, digits and underscores, not starting with a digit"
    if name.upper().startswith("GITHUB_"):
        return "cannot start with GITHUB_ (GitHub reserves it)"
    return None


def cron_problem(schedule: str) -> str | None:
    """Why ``schedule`` cannot be a GitHub Actions cron line (five fields), or None."""
    from croniter import croniter

    if len(schedule.split()) != 5 or not croniter.is_valid(schedule):
        return "is not a cron expression of five fields (minute hour day month weekday)"
    return None


def matches(name: str, patterns: Iterable[str]) -> bool:
    """Whether ``name`` (a target identifier, a branch) matches any shell-style pattern."""
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)
