"""What counts as pinned, for the wheelworks runners install and the actions and images
generated workflows use."""

import pytest

from wheelworks.config.pins import install_kind, pin_problem

HASH = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("install", "kind"),
    [
        ("", "bundled"),
        (f"wheelworks==1.2 --hash={HASH}", "hashed"),
        (f"wheelworks[s3]==1.2 --hash={HASH} --hash={HASH}", "hashed"),
        ("wheelworks @ git+https://github.com/o/wheelworks@" + "0" * 40, "vcs"),
        ("wheelworks", None),
        ("wheelworks==1.2", None),  # a version can be re-uploaded under another hash
        (f"wheelworks>=1.2 --hash={HASH}", None),
        ("wheelworks @ git+https://github.com/o/wheelworks@main", None),
        (f"wheelworks==1.2 --hash=md5:{'ab' * 16}", None),
    ],
)
def test_install_kind(install, kind):
    assert install_kind(install) == kind


@pytest.mark.parametrize(
    ("name", "pin", "problem"),
    [
        ("actions/checkout", "a" * 40, None),
        ("actions/checkout", "a" * 40 + " # v6", None),
        ("actions/checkout", "v6", "40-hex commit"),
        ("quay.io/pypa/manylinux_2_28_x86_64", "sha256:" + "0" * 64, None),
        ("quay.io/pypa/manylinux_2_28_x86_64", "a" * 40, "sha256:<64 hex> digest"),
    ],
)
def test_pin_problem(name, pin, problem):
    found = pin_problem(name, pin)
    assert (found is None) if problem is None else (problem in found)
