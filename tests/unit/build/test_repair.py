"""Repair plans per OS."""

from __future__ import annotations

from pathlib import Path

import pytest

from wheelworks.build import repair
from wheelworks.shared.platforms import Platform

PREFIX = Path("/p")


@pytest.mark.parametrize(
    ("platform", "tool", "first"),
    [
        (Platform("linux", "x86_64", "manylinux_x86_64"), "auditwheel", "auditwheel"),
        (Platform("macos", "arm64", "macosx_arm64"), "delocate", "--require-archs"),
        (Platform("windows", "AMD64", "win_amd64"), "delvewheel", "delvewheel"),
    ],
)
def test_repair_plans(platform, tool, first):
    plan = repair.plan(Path("/d/pkg-1.0-cp312-cp312-linux_x86_64.whl"), Path("/out"), platform, PREFIX)
    assert plan.tool == tool
    assert first in plan.argv and plan.argv[-1] == "/d/pkg-1.0-cp312-cp312-linux_x86_64.whl"
    assert str(Path("/out")) in plan.argv


def test_pure_wheels_are_not_repaired():
    plan = repair.plan(Path("pkg-1.0-py3-none-any.whl"), Path("/out"), Platform("linux", "x86_64", "x"), PREFIX)
    assert plan.tool is None
