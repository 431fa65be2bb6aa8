"""The vendoring check: a wheel whose import works only through a copy of the library
outside it (here: an RPATH into the build prefix, as a host's /usr/lib copy would) fails."""

from __future__ import annotations

import pytest

from wheelworks import cli
from wheelworks.records import Records

pytestmark = pytest.mark.slow


def test_a_library_left_out_of_the_wheel_fails_even_when_the_import_works(make_config, pythons, tmp_path, capsys):
    config = make_config(build=f"""
        [build]
        python = {pythons[-1:]!r}
        environment = {{ LDFLAGS = "-Wl,-rpath,{{prefix}}/lib" }}
        repair-exclude = ["libtally.so.1"]
    """)
    assert cli.main(["build", "--config", str(config), "--cache-dir", str(tmp_path / "cache")]) == 1
    store = Records(config.parent / "builds")
    record = store.load("latest")
    (target,) = record.targets
    test = target.steps[-1]
    assert test.name == "test" and test.status == "failed"
    assert "loads " in test.error and "libtally.so.1.2.3 from outside the wheel" in test.error
    log = (store.folder(record.id) / test.log).read_text()
    assert "NOT VENDORED:" in log and "/prefixes/" in log  # the import itself worked, through the RPATH
    assert not list((config.parent / "wheelhouse").glob("*.whl"))  # only tested wheels are delivered
