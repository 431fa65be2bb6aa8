"""Real builds: a CMake library from a tarball, a C extension linking it, auditwheel, clean venvs."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
from packaging.utils import parse_wheel_filename

from wheelworks import cli
from wheelworks.build import interpreters, libraries, test
from wheelworks.build.frontend import Frontend
from wheelworks.build.records import Records
from wheelworks.config.model import load
from wheelworks.config.settings import from_environment
from wheelworks.shared import platforms
from wheelworks.shared.cache import Cache
from wheelworks.shared.errors import CommandError
from wheelworks.shared.phases import Phases

pytestmark = pytest.mark.slow


def _build(config: Path, cache_dir: Path, *extra: str) -> int:
    return cli.main(["build", "--config", str(config), "--cache-dir", str(cache_dir), *extra])


def _record(config: Path):
    store = Records(config.parent / "builds")
    return store.load("latest"), store


def test_wheels_are_manylinux_vendored_and_import_without_the_prefix(
    make_config, cache_dir, pythons, pytally_repo, tmp_path, capsys
):
    config = make_config()
    assert _build(config, cache_dir, "-j", "2") == 0

    record, store = _record(config)
    assert record.status == "ok"
    assert set(record.phases) == {"ref, matrix and interpreters", "checkout", "keys (resolving build requirements)",
                                  "reuse", "libraries", "targets"}
    assert abs(sum(record.phases.values()) - (record.finished - record.started)) < 0.5, record.phases
    assert record.commit == subprocess.run(
        ["git", "-C", str(pytally_repo), "rev-parse", "main"], capture_output=True, text=True, check=True
    ).stdout.strip()
    wheels = sorted((tmp_path / "wheelhouse").iterdir())
    assert [w.name for w in wheels] == sorted(t.wheel for t in record.targets)
    assert {t.python for t in record.targets} == set(pythons)

    for target in record.targets:
        wheel = tmp_path / "wheelhouse" / target.wheel
        _, version, _, tags = parse_wheel_filename(wheel.name)
        assert str(version) == "0.1.0"
        assert all(re.fullmatch(r"manylinux(_2_\d+|1|2010|2014)_x86_64", tag.platform) for tag in tags), tags
        assert target.sha256 == hashlib.sha256(wheel.read_bytes()).hexdigest()
        assert target.size == wheel.stat().st_size
        assert [s.name for s in target.steps] == ["build", "repair", "test"]
        assert all(s.status == "ok" and s.seconds > 0 for s in target.steps)
        # Every second accounted for: the phases add up to the steps, with the wait and resolution before them.
        phases = target.phases
        assert {"build environment", "backend and compiler", "repair tool", "SBOM", "canonical rewrite",
                "test venv", "test command", "vendoring and ABI checks"} <= set(phases), phases
        inside = sum(v for k, v in phases.items()
                     if k not in ("waiting for a slot", "resolve build requirements", "build environment, made ahead"))
        assert phases["build environment, made ahead"] > 0, phases  # while the library built
        assert abs(inside - sum(s.seconds for s in target.steps)) < 0.01 * len(phases), phases
        for step in target.steps:
            assert (store.folder(record.id) / step.log).read_text().startswith("+ ")
        # Compiled as the interpreter's own extensions are (its CFLAGS: -O3, -DNDEBUG), the work
        # tree's path mapped away: today's setuptools (84) replaces those flags with a CFLAGS it is given.
        own = subprocess.run([target.interpreter, "-c", "import sysconfig; print(sysconfig.get_config_var('CFLAGS'))"],
                             capture_output=True, text=True, check=True).stdout.split()
        (compile_line,) = [line for line in (store.folder(record.id) / target.steps[0].log).read_text().splitlines()
                           if " -c src/_tally.c " in line]
        assert set(own) <= set(compile_line.split()) and "-ffile-prefix-map=" in compile_line, (own, compile_line)
        names = zipfile.ZipFile(wheel).namelist()
        vendored = [n for n in names if n.startswith("pytally.libs/") and not n.endswith("/")]
        assert len(vendored) == 1 and re.fullmatch(r"pytally\.libs/libtally-[0-9a-f]{8}\.so\.1\.2\.3", vendored[0])
        # ... and the test step saw the extension load that copy, from the installed wheel.
        assert len(target.vendored) == 1 and target.vendored[0].endswith("/site-packages/" + vendored[0])

    # Nothing of the build may be needed at run time: delete every library prefix.
    for kind in ("libraries", "prefixes"):
        shutil.rmtree(cache_dir / kind)
    for target in record.targets:
        _import_in_clean_venv(target.interpreter, tmp_path / "wheelhouse" / target.wheel, tmp_path / target.identifier)

    capsys.readouterr()
    assert cli.main(["builds", "--config", str(config)]) == 0
    assert record.id in capsys.readouterr().out
    assert cli.main(["log", "--config", str(config), "latest", record.targets[0].identifier]) == 0
    out = capsys.readouterr().out
    # pypa/build ran the backend's hook in the build environment
    assert "auditwheel repair" in out and "_in_process.py build_wheel" in out


def _import_in_clean_venv(interpreter: str, wheel: Path, folder: Path) -> None:
    subprocess.run([interpreter, "-m", "venv", str(folder / "venv")], check=True)
    python = folder / "venv" / "bin" / "python"
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ["HOME"]}
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], check=True, env={**os.environ, **env})
    out = subprocess.run(
        [str(python), "-c", "import pytally; print(pytally.sum(4, 5, 6), pytally.median(9, 1, 5), pytally.version())"],
        check=True, capture_output=True, text=True, cwd=folder, env=env,
    ).stdout
    assert out.split() == ["15", "5", "libtally", "1.2.3"]


def test_later_build_reuses_the_library_and_builds_a_tag_or_env_ref(
    make_config, cache_dir, pythons, monkeypatch
):
    config = make_config()
    only = f"cp{pythons[-1].replace('.', '')}-*"
    assert _build(config, cache_dir, "--only", only, "--build-commit", "v0.1.0") == 0
    record, _ = _record(config)
    assert record.ref == "v0.1.0" and str(parse_wheel_filename(record.targets[0].wheel)[1]) == "0.1.0"

    monkeypatch.setenv("BUILD_COMMIT", "next")
    assert _build(config, cache_dir, "--only", only) == 0
    record, store = _record(config)
    assert record.ref == "next"
    assert str(parse_wheel_filename(record.targets[0].wheel)[1]) == "0.2.0"
    assert record.libraries[0].cached
    assert "cached: libtally 1.2.3" in (store.folder(record.id) / record.libraries[0].log).read_text()
    assert len(store.ids()) == 2  # every record stays


def test_failing_test_command_fails_the_target_and_keeps_its_log(make_config, cache_dir, pythons, tmp_path, capsys):
    config = make_config(test="""
        [test]
        command = "python -c 'import pytally, sys; print(\\"tests ran\\"); sys.exit(3)'"
    """)
    only = f"cp{pythons[-1].replace('.', '')}-*"
    assert _build(config, cache_dir, "--only", only) == 1
    record, store = _record(config)
    assert record.status == "failed"
    (target,) = record.targets
    assert target.status == "failed" and target.wheel is None
    assert [(s.name, s.status) for s in target.steps] == [("build", "ok"), ("repair", "ok"), ("test", "failed")]
    assert "tests ran" in (store.folder(record.id) / target.steps[-1].log).read_text()
    assert not (tmp_path / "wheelhouse").exists()  # only tested wheels are delivered...
    kept = store.folder(record.id) / str(target.kept)  # ...the failed one is kept as evidence
    assert target.kept and kept.is_file() and kept.name.endswith(".whl") and "manylinux" in kept.name
    assert record.error and record.error.startswith("1 of 1 targets failed: cp")  # the record says why
    out, err = capsys.readouterr()
    assert "1 of 1 targets failed" in err and kept.name in err and "wheels in" not in out


def test_unrepaired_wheel_fails_in_the_test_venv(make_config, cache_dir, pythons, pytally_repo, tmp_path):
    """The test step must hide the prefix even when the caller's environment points at it."""
    config = load(make_config())
    native = platforms.native()
    how = libraries.LibraryBuild(cache=Cache(cache_dir), platform=native, logs=tmp_path / "logs", jobs=2, env=os.environ)
    prefix = libraries.build_all(config.libraries, how)
    (interpreter,) = interpreters.discover(pythons[-1:], (), from_environment(os.environ), native.os).values()
    log = tmp_path / "steps.log"
    source = shutil.copytree(pytally_repo, tmp_path / "src")
    frontend = Frontend("build")
    requires = frontend.requires(interpreter, source, Cache(cache_dir), os.environ, log, time.time(), 3600).pins
    where = frontend.prepare(interpreter, Cache(cache_dir), log, native.os, source, os.environ, requires)
    leaky = prefix.environment(os.environ, native.os)  # LD_LIBRARY_PATH, CPATH... all lead to libtally
    wheel = frontend.build_wheel(where, source, tmp_path / "dist", leaky, log)

    with pytest.raises(CommandError):
        test.run_tests(interpreter.path, wheel, config.test, tmp_path / "t", source,
                       [prefix.path, *(lib.prefix for lib in prefix.libraries)], leaky, log, native.os, Phases())
    assert "libtally.so.1: cannot open shared object file" in log.read_text()


def test_missing_interpreter_can_be_a_warning(make_config, cache_dir, pythons, capsys):
    config = make_config(build=f"""
        [build]
        python = ["3.99", "{pythons[-1]}"]
        missing-python = "warn"
        frontend = "build"  # pip and venv, as without uv
    """)
    assert _build(config, cache_dir) == 0
    record, _ = _record(config)
    assert [(t.python, t.status) for t in record.targets] == [(pythons[-1], "ok"), ("3.99", "missing")]  # in version order
    assert re.search(r"cp399-\S+ +python3.99 missing", capsys.readouterr().err)
    logs = Records(config.parent / "builds").folder(record.id) / "logs" / record.targets[0].identifier
    build_log = (logs / "build.log").read_text()
    assert re.search(r"buildenvs/\S+/bin/python \S+/_in_process\.py build_wheel ", build_log), build_log
    assert "-m pip install" in (logs / "test.log").read_text()
