"""What counts as pinned: the wheelworks a runner installs, and the actions and images a
generated workflow uses. Whatever runs with secrets runs only code named by hash."""

from __future__ import annotations

import re

from packaging.requirements import InvalidRequirement, Requirement

INSTALL_HINT = ("leave it out to bundle the running wheelworks, or write 'wheelworks==X --hash=sha256:<64 hex>' "
                "or 'wheelworks @ git+https://…@<40-hex commit>'")


def install_kind(install: str) -> str | None:
    """How ``[ci] install`` pins wheelworks: "bundled" (empty: the running wheelworks,
    as a wheel in the repository), "hashed" (NAME==X --hash=sha256:…), "vcs" (NAME @
    git+https://…@<commit>); None when it does not pin it."""
    if install == "":
        return "bundled"
    if re.fullmatch(r"[\w.\[\],-]+ @ git\+https://\S+@[0-9a-f]{40}", install.strip()):
        return "vcs"
    spec, _, hashes = install.partition(" --hash=")
    try:
        requirement = Requirement(spec.strip())
    except InvalidRequirement:
        return None
    operators = [s.operator for s in requirement.specifier]
    if operators == ["=="] and re.fullmatch(r"sha256:[0-9a-f]{64}( --hash=sha256:[0-9a-f]{64})*", hashes.strip()):
        return "hashed"
    return None


def pin_problem(name: str, pin: str) -> str | None:
    """Why ``[ci] pins`` entry ``name = pin`` does not pin by hash, or None when it does.
    A name whose first part is a registry host (has a dot) is a container image."""
    if "." in name.split("/")[0]:
        return None if re.fullmatch(r"sha256:[0-9a-f]{64}", pin) else "is not a sha256:<64 hex> digest"
    return None if re.fullmatch(r"[0-9a-f]{40}( +# .+)?", pin) else "is not a 40-hex commit (with an optional '# tag')"
