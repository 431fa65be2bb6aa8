"""A target's input key, and when an earlier build's wheel may stand for a new one."""

from dataclasses import replace
from pathlib import Path

import pytest

from tests.helpers import record_for
from wheelworks.build.inputs import reusable, target_key
from wheelworks.build.interpreters import Interpreter
from wheelworks.config.model import load

PY = Interpreter(Path("/usr/bin/python3.12"), "3.12", False, "3.12.7 (main, Oct 1 2024) [GCC 12.2.0] cpython-312")


@pytest.fixture
def config(tmp_path):
    (tmp_path / "wheelworks.toml").write_text('[project]\nname = "pytally"\nrepo = "src"\n')
    return load(tmp_path / "wheelworks.toml")


def _key(config, **change):
    args = {"identifier": "cp312-manylinux_x86_64", "source": "tree:abc", "library_keys": ["lib:1"],
            "interpreter": PY, "frontend": "build[uv]", "build_requires": ["setuptools==80.0"],
            "tools": {"auditwheel": "6.5.0"}, "image": None, **change}
    return target_key(config, args.pop("identifier"), args.pop("source"), args.pop("library_keys"),
                      args.pop("interpreter"), args.pop("frontend"), args.pop("build_requires"), args.pop("tools"),
                      args.pop("image"))


def test_the_key_is_stable_and_each_input_changes_it(config):
    base = _key(config)
    assert base == _key(config)
    changed = [
        _key(config, source="tree:abd"), _key(config, library_keys=["lib:2"]),
        _key(config, interpreter=replace(PY, build=PY.build.replace("3.12.7", "3.12.8"))),
        _key(config, interpreter=replace(PY, free_threaded=True)), _key(config, frontend="uv"),
        _key(config, build_requires=["setuptools==80.1"]), _key(config, tools={"auditwheel": "6.6.0"}),
        _key(config, identifier="cp312-manylinux_aarch64"),
        _key(config, image="quay.io/pypa/manylinux_2_28_x86_64@sha256:e0ad"),
        _key(config, image="quay.io/pypa/manylinux_2_28_x86_64@sha256:e0ae"),
        _key(replace(config, build=replace(config.build, environment={"CFLAGS": "-O3"}))),
        _key(replace(config, build=replace(config.build, config_settings={"setup-args": "-Dx=1"}))),
        _key(replace(config, build=replace(config.build, before_build="make gen"))),
        _key(replace(config, test=replace(config.test, command="pytest -x"))),
    ]
    assert base not in changed and len(set(changed)) == len(changed)


def test_an_environment_value_reaches_the_key_only_hashed(config, monkeypatch):
    from wheelworks.build import inputs

    seen = []
    monkeypatch.setattr(inputs, "digest", lambda data: seen.append(repr(data)) or "key")
    _key(replace(config, build=replace(config.build, environment={"TOKEN": "hunter2-value"})))
    assert seen and "TOKEN" in seen[0] and "hunter2-value" not in seen[0]


def _wheel(tmp_path, name="pytally-1.0-cp312-cp312-linux_x86_64.whl", data=b"wheel"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_only_a_passing_target_whose_wheel_is_still_its_bytes_is_reused(tmp_path):
    wheel = _wheel(tmp_path)
    good = record_for([wheel])
    good.targets[0].key = "k"
    hashes = {wheel.name: good.targets[0].sha256}
    assert reusable("k", [good], hashes.get) == (good, good.targets[0])
    assert reusable("other", [good], hashes.get) is None
    assert reusable("k", [good], {}.get) is None  # the wheel is gone from the wheelhouse
    assert reusable("k", [good], {wheel.name: "0" * 64}.get) is None  # replaced by other bytes
    failed = record_for([wheel])
    failed.targets[0].key, failed.targets[0].status = "k", "failed"
    assert reusable("k", [failed], hashes.get) is None


def test_the_newest_matching_record_wins(tmp_path):
    old, new = record_for([_wheel(tmp_path)]), record_for([_wheel(tmp_path)])
    for record in (old, new):
        record.targets[0].key = "k"
    hashes = {t.wheel: t.sha256 for t in new.targets}
    assert reusable("k", [old, new], hashes.get)[0] is new
