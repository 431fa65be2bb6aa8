"""Speed features that change what happens, not how fast: uv, ccache, parallel targets, the cache."""

from __future__ import annotations

import textwrap
import time
import zipfile
from pathlib import Path

import pytest
from packaging.utils import parse_wheel_filename

from wheelworks import cli
from wheelworks.build import frontend as build
from wheelworks.build import pipeline, tools
from wheelworks.build.records import Records

pytestmark = pytest.mark.slow

UV_BUILD = """
    [build]
    python = {pythons!r}
    frontend = "uv"
"""


def _build(config: Path, cache: Path, *extra: str):
    assert cli.main(["build", "--config", str(config), "--cache-dir", str(cache), *extra]) == 0
    return Records(config.parent / "builds").load("latest")


def test_uv_frontend_and_ccache_make_a_rebuild_hit(make_config, pythons, tmp_path):
    config = make_config(build=UV_BUILD.format(pythons=pythons[-1:]))
    cold = _build(config, tmp_path / "cache")
    warm = _build(config, tmp_path / "cache", "--rebuild")  # nothing changed: only --rebuild compiles again
    assert cold.targets[0].ccache == {"hits": 0, "misses": 1}
    assert warm.targets[0].ccache == {"hits": 1, "misses": 0}
    assert warm.libraries[0].cached and not cold.libraries[0].cached
    logs = Records(config.parent / "builds").folder(warm.id) / "logs" / warm.targets[0].identifier
    assert "uv build --wheel --python" in (logs / "build.log").read_text()
    assert "uv venv" in (logs / "test.log").read_text()
    assert cold.targets[0].wheel == warm.targets[0].wheel


def test_parallel_targets_give_what_a_serial_run_gives(make_config, pythons, tmp_path):
    config = make_config(build=UV_BUILD.format(pythons=pythons))
    serial = _build(config, tmp_path / "cache", "-j", "1")
    parallel = _build(config, tmp_path / "cache", "-j", str(len(pythons)), "--rebuild")

    def shape(record):
        out = []
        for t in record.targets:
            with zipfile.ZipFile(Path(record.wheelhouse) / t.wheel) as zf:
                out.append((t.identifier, t.wheel, sorted(map(str, parse_wheel_filename(t.wheel)[3])), sorted(zf.namelist())))
        return out

    assert shape(serial) == shape(parallel)
    assert [t.sha256 for t in serial.targets] == [t.sha256 for t in parallel.targets]  # byte for byte
    store = Records(config.parent / "builds")
    for target in parallel.targets:  # each target's log is its own
        log = (store.folder(parallel.id) / "logs" / target.identifier / "build.log").read_text()
        others = [t.python for t in parallel.targets if t.python != target.python]
        assert f"versions/{target.python}" in log and not any(f"versions/{v}." in log for v in others)


def test_frontend_falls_back_to_build_without_uv(monkeypatch):
    monkeypatch.setattr(tools, "uv", lambda env: None)
    assert build.frontend("uv", {}) == build.Frontend("build")
    assert build.frontend("build[uv]", {}).name == "build"


def test_cache_list_and_clear(make_config, pythons, tmp_path, capsys):
    cache = tmp_path / "cache"
    _build(make_config(build=UV_BUILD.format(pythons=pythons[-1:])), cache)
    capsys.readouterr()
    assert cli.main(["cache", "list", "--cache-dir", str(cache)]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    assert set(rows) == {"sources", "downloads", "libraries", "prefixes", "tools", "buildenvs", "ccache", "zig", "tmp"}
    assert rows["libraries"].split()[1] == "1" and rows["tmp"].split()[1] == "0"
    assert cli.main(["cache", "clear", "libraries", "prefixes", "--cache-dir", str(cache)]) == 0
    assert not (cache / "libraries").exists() and (cache / "sources").exists()
    assert cli.main(["cache", "clear", "nonsense", "--cache-dir", str(cache)]) == 2
    assert "no cache folder named nonsense" in capsys.readouterr().err


def test_a_wheel_is_repaired_and_tested_while_the_next_one_builds(make_config, pythons, tmp_path):
    """-j 1 bounds the builds, not what follows them: the first target's test waits for
    the second target's build to start, which a build that tested before building the
    next would never see (the test would time out and fail)."""
    first, second = pythons[:2]
    started = tmp_path / "builds-started"
    check = tmp_path / "check.py"
    check.write_text(textwrap.dedent(f"""
        import pathlib, sys, time
        import pytally
        if sys.version_info[:2] == {tuple(map(int, first.split(".")))}:
            deadline = time.monotonic() + 60
            while "{second}" not in (pathlib.Path({str(started)!r}).read_text() if pathlib.Path({str(started)!r}).exists() else ""):
                assert time.monotonic() < deadline, "the next build did not start while this wheel was tested"
                time.sleep(0.1)
    """))
    config = make_config(
        build=f"""
            [build]
            python = {[first, second]!r}
            before-build = "python -c \\"import sys; open({str(started)!r}, 'a').write('%d.%d\\\\\\\\n' % sys.version_info[:2])\\""
        """,
        test=f'[test]\ncommand = "python {check}"\n')
    record = _build(config, tmp_path / "cache", "-j", "1")
    assert [t.status for t in record.targets] == ["ok", "ok"]
    assert started.read_text().split() == [first, second]  # one build at a time, in order
    waited = record.targets[0].phases["waiting for a slot"]
    assert waited < 5  # its repair began as its build ended: no slot was waited for


def test_with_nothing_to_reuse_the_libraries_build_while_the_requirements_resolve(
        make_config, pythons, libtally_tarball, tmp_path, monkeypatch):
    """The keys wait here until a library has started: a build that resolved before
    building its libraries would time out. With earlier builds to reuse, no library is
    built on the chance that it is needed."""
    started = tmp_path / "library-started"
    tarball, sha256 = libtally_tarball
    recipe = f'url = "{tarball.as_uri()}"\nsha256 = "{sha256}"\n'
    marker = f"touch {started} && mkdir -p $PREFIX/lib && cc -shared -o $PREFIX/lib/libmarker.so -x c /dev/null"
    config = make_config(
        build=f"[build]\npython = {pythons[-1:]!r}\n",
        library=f'[[library]]\nname = "libtally"\nversion = "1.2.3"\n{recipe}system = "cmake"\n\n'
                f'[[library]]\nname = "marker"\nversion = "1"\n{recipe}system = "script"\nscript = "{marker}"\n')
    keyed_targets = pipeline.keyed_targets

    def after_a_library_started(*args, **kwargs):
        deadline = time.monotonic() + 60
        while not started.exists():
            assert time.monotonic() < deadline, "no library started while the requirements resolved"
            time.sleep(0.05)
        return keyed_targets(*args, **kwargs)

    monkeypatch.setattr(pipeline, "keyed_targets", after_a_library_started)
    first = _build(config, tmp_path / "cache")
    assert [t.status for t in first.targets] == ["ok"] and not first.libraries[0].cached
    monkeypatch.undo()
    started.unlink()
    again = _build(config, tmp_path / "fresh-cache")  # its wheel is reused from the first build
    assert again.targets[0].reused_from == first.id
    assert not started.exists() and not list((tmp_path / "fresh-cache" / "libraries").glob("libtally-*"))
