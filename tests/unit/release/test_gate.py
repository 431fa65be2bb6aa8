"""The release gate as a pure function: what counts as tested, and what each flag waives."""

from __future__ import annotations

import pytest

from wheelworks.containers.client import RemoteFile
from wheelworks.release.gate import Gate, gate, refused
from wheelworks.release.gate import tested_wheels as evidence  # not collected as a test

SHA = "a" * 64
WHEEL = "pytally-1.0-cp312-cp312-manylinux_2_17_x86_64.whl"


def _record(**target) -> dict:
    steps = target.pop("steps", [{"name": "test", "status": "ok"}])
    return {"id": "b1", "commit": "c" * 40,
            "targets": [{"status": "ok", "wheel": WHEEL, "sha256": SHA, "steps": steps, **target}]}


def test_a_passed_test_step_is_evidence():
    assert [(t.wheel, t.sha256, t.build) for t in evidence(_record())] == [(WHEEL, SHA, "b1")]


@pytest.mark.parametrize("record", [
    _record(reused_from="b0"),  # reused: tested nothing itself
    _record(steps=[]), _record(steps=[{"name": "test", "status": "failed"}]), _record(status="failed"),
    _record(steps=[{"name": "build", "status": "ok"}]), _record(sha256=None), _record(wheel=7),
    {"targets": "x"}, {"targets": [1, None, "x"]}, [], "x", None, _record(steps="test"),
])
def test_anything_else_is_evidence_of_nothing(record):
    assert evidence(record) == []


def test_the_gate_names_untested_and_different_bytes():
    files = [RemoteFile(WHEEL, "k", SHA), RemoteFile(WHEEL.replace("312", "313"), "k", SHA)]
    verdict = gate(files, [_record(sha256="b" * 64)], None, None)
    assert verdict.untested == (files[1].filename,) and "is not the bytes build b1 tested" in verdict.different[0]
    assert gate(files[:1], [_record()], None, "d" * 40).different  # built from another commit than the tag's


@pytest.mark.parametrize(("verdict", "partial", "refuses"), [
    (Gate(), False, False),
    (Gate(missing=("cp313",)), False, True),
    (Gate(missing=("cp313",)), True, False),  # --partial waives missing targets...
    (Gate(untested=(WHEEL,)), True, True),  # ...and nothing else
    (Gate(different=("x",)), True, True),
    (Gate(missing=("cp313",), untested=(WHEEL,)), True, True),
])
def test_partial_waives_missing_targets_only(verdict, partial, refuses):
    assert (refused(verdict, partial, "release") is not None) == refuses
