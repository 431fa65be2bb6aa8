"""The vendoring check: a wheel whose import works only through a copy of the library
outside it (here: an RPATH into the build prefix, as a host's /usr/lib copy would) fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from wheelworks import cli
from wheelworks.build.records import Records

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
    assert "pytally/_tally" in test.error and "needs libtally.so.1, which resolved to" in test.error
    assert "outside the wheel" in test.error and "/prefixes/" in test.error
    log = (store.folder(record.id) / test.log).read_text()
    assert "NOT VENDORED:" in log and "/prefixes/" in log  # the import itself worked, through the RPATH
    assert not list((config.parent / "wheelhouse").glob("*.whl"))  # only tested wheels are delivered


def test_a_host_library_another_import_loads_is_not_the_wheel_s(make_config, pythons, libtally_tarball, tmp_path,
                                                              monkeypatch):
    """As tkinter's Tk loads the host's libfreetype: the module dlopens a host copy of a
    recipe library at import. The wheel itself needs only its own copy, so the check passes."""
    import shutil

    from tests.fixtures import FIXTURES, git_repo

    source = tmp_path / "pytally-src"
    shutil.copytree(FIXTURES / "pytally", source)
    init = source / "src" / "pytally" / "__init__.py"
    init.write_text("import ctypes, os\nctypes.CDLL(os.environ['HOST_LIBTALLY'])  # like tkinter's Tk\n"
                    + init.read_text())
    repo = git_repo(source, tmp_path / "pytally")
    host_lib = _host_libtally(libtally_tarball[0], tmp_path)
    monkeypatch.setenv("HOST_LIBTALLY", str(host_lib))
    config = make_config(project=f'[project]\nname = "pytally"\nrepo = "{repo}"\n',
                         build=f"[build]\npython = {pythons[-1:]!r}\n")
    assert cli.main(["build", "--config", str(config), "--cache-dir", str(tmp_path / "cache")]) == 0
    record = Records(config.parent / "builds").load("latest")
    (target,) = record.targets
    assert target.status == "ok" and len(target.vendored) == 1 and ".libs/libtally-" in target.vendored[0]
    log = (Records(config.parent / "builds").folder(record.id) / target.steps[-1].log).read_text()
    assert "NOT VENDORED" not in log  # the host's copy was loaded, and rightly not judged


def _host_libtally(tarball: Path, tmp_path: Path) -> Path:
    """libtally built on its own, as a distribution's package would be: another build id."""
    import subprocess
    import tarfile

    with tarfile.open(tarball) as archive:
        archive.extractall(tmp_path / "host-src", filter="data")
    (src,) = (tmp_path / "host-src").iterdir()
    host = tmp_path / "host"
    subprocess.run(["cmake", "-S", str(src), "-B", str(tmp_path / "host-build"), f"-DCMAKE_INSTALL_PREFIX={host}",
                    "-DCMAKE_INSTALL_LIBDIR:PATH=lib", "-DCMAKE_C_FLAGS=-O1"], check=True, capture_output=True)
    subprocess.run(["cmake", "--build", str(tmp_path / "host-build"), "--target", "install"], check=True,
                   capture_output=True)
    return host / "lib" / "libtally.so.1"


def test_a_grafted_host_copy_of_a_recipe_library_fails(make_config, pythons, libtally_tarball, tmp_path):
    """The extension linked the host's libtally (an RPATH to it), and auditwheel grafted that
    copy: the wheel is self-contained, but not with the library the recipe built."""
    host_lib = _host_libtally(libtally_tarball[0], tmp_path)
    config = make_config(build=f"""
        [build]
        python = {pythons[-1:]!r}
        environment = {{ LDFLAGS = "-L{host_lib.parent} -Wl,-rpath,{host_lib.parent}" }}
    """)
    assert cli.main(["build", "--config", str(config), "--cache-dir", str(tmp_path / "cache")]) == 1
    record = Records(config.parent / "builds").load("latest")
    (target,) = record.targets
    test = target.steps[-1]
    assert test.name == "test" and test.status == "failed"
    assert "is not the recipe's build of that library" in test.error and "pytally.libs/libtally-" in test.error


@pytest.mark.skipif(not Path("/lib/x86_64-linux-gnu/libffi.so.8").exists() and not Path("/usr/lib/libffi.so.8").exists(),
                    reason="needs the host's libffi.so.8 (Debian's libffi8)")
def test_a_host_library_the_repair_grafts_is_said(make_config, pythons, tmp_path, capsys):
    """The extension also links the host's libffi, which no recipe builds: auditwheel grafts
    it, and the record and one warning line say where it came from."""
    config = make_config(build=f"""
        [build]
        python = {pythons[-1:]!r}
        environment = {{ LDFLAGS = "-Wl,--no-as-needed -lffi" }}
    """)
    assert cli.main(["build", "--config", str(config), "--cache-dir", str(tmp_path / "cache")]) == 0
    (target,) = Records(config.parent / "builds").load("latest").targets
    (entry,) = target.host_libraries
    assert entry.startswith("libffi.so.8") and "/libffi.so.8" in entry.split("(", 1)[1]  # the file, and where
    if Path("/usr/bin/dpkg").exists():
        assert "package libffi8" in entry
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning: vendored from the host")]
    assert len(warnings) == 1 and "libffi.so.8" in warnings[0]
