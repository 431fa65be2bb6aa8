"""Pure parts of the stages: command plans, environments, records, discovery."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from wheelworks.config.settings import from_environment
from wheelworks.build import interpreters, repair
from wheelworks.config.recipes import LibraryRecipe
from wheelworks.shared.errors import WheelworksError
from wheelworks.build.libraries import commands, recipe_key, search_environment
from wheelworks.shared.platforms import Platform
from wheelworks.build.records import BuildRecord, Records, StepRecord, TargetRecord
from wheelworks.build.test import clean_environment

SRC, BUILD, PREFIX = Path("/s"), Path("/b"), Path("/p")


def _recipe(system: str, **kw) -> LibraryRecipe:
    return LibraryRecipe(name="z", version="1", system=system, path=Path("/z"), **kw)


def test_cmake_commands_install_into_the_prefix():
    cmds = commands(_recipe("cmake", args=("-DX=ON", "-DP={prefix}/x")), SRC, BUILD, PREFIX, 3)
    assert cmds[0][:4] == ["cmake", "-S", "/s", "-B"]
    assert "-DCMAKE_INSTALL_PREFIX:PATH=/p" in cmds[0] and cmds[0][-2:] == ["-DX=ON", "-DP=/p/x"]
    assert cmds[1:] == [["cmake", "--build", "/b", "--parallel", "3"], ["cmake", "--install", "/b"]]


def test_autotools_bootstraps_only_without_configure(tmp_path):
    assert commands(_recipe("autotools"), tmp_path, BUILD, PREFIX, 2)[0] == ["autoreconf", "-fi"]
    (tmp_path / "configure").touch()
    assert commands(_recipe("autotools", args=("--disable-static",)), tmp_path, BUILD, PREFIX, 2) == [
        ["./configure", "--prefix=/p", "--disable-static"], ["make", "-j2"], ["make", "install"],
    ]


def test_meson_make_and_script_commands():
    assert commands(_recipe("meson"), SRC, BUILD, PREFIX, 2)[0][:4] == ["meson", "setup", "/b", "/s"]
    assert commands(_recipe("make"), SRC, BUILD, PREFIX, 2) == [["make", "-j2", "PREFIX=/p"], ["make", "install", "PREFIX=/p"]]
    assert commands(_recipe("script", script="./build.sh {prefix}"), SRC, BUILD, PREFIX, 2) == ["./build.sh /p"]


def test_recipe_key_covers_args_dependencies_and_toolchain():
    base = recipe_key(_recipe("make"), [], "gcc 12")
    assert base == recipe_key(_recipe("make"), [], "gcc 12")
    assert base != recipe_key(_recipe("make", args=("X=1",)), [], "gcc 12")
    assert base != recipe_key(_recipe("make"), ["dep-key"], "gcc 12")
    assert base != recipe_key(_recipe("make"), [], "gcc 13")


def test_search_environment_puts_prefixes_first():
    sep = os.pathsep
    env = search_environment([PREFIX], {"PATH": "/usr/bin", "LD_LIBRARY_PATH": "/x"}, "linux")
    assert env["PATH"] == sep.join([str(PREFIX / "bin"), "/usr/bin"])
    assert env["LD_LIBRARY_PATH"] == sep.join([str(PREFIX / "lib"), str(PREFIX / "lib64"), "/x"])
    assert env["CPATH"] == str(PREFIX / "include")
    assert env["PKG_CONFIG_PATH"].split(sep)[0] == str(PREFIX / "lib" / "pkgconfig")


def test_search_environment_follows_the_target_os():
    mac = search_environment([PREFIX], {}, "macos")
    assert mac["DYLD_FALLBACK_LIBRARY_PATH"].startswith(str(PREFIX / "lib")) and "LD_LIBRARY_PATH" not in mac
    windows = search_environment([PREFIX], {}, "windows")
    assert windows["INCLUDE"] == str(PREFIX / "include") and windows["LIB"] == str(PREFIX / "lib")
    assert "CPATH" not in windows and "LD_LIBRARY_PATH" not in windows


def test_clean_environment_hides_prefixes():
    env = clean_environment(
        {"PATH": "/p/bin:/usr/bin:/p", "LD_LIBRARY_PATH": "/p/lib", "CPATH": "/p/include", "HOME": "/h"}, [PREFIX]
    )
    assert env == {"PATH": "/usr/bin", "HOME": "/h"}


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


def test_listed_interpreters_come_first(monkeypatch):
    monkeypatch.setenv("WHEELWORKS_PYTHONS", sys.executable)
    version = "%d.%d" % sys.version_info[:2]
    found = interpreters.discover([version], [], from_environment(os.environ), "linux")
    assert found[version].path == Path(sys.executable)
    assert interpreters.probe(Path("/no/such/python")) is None


def test_records_round_trip_and_lookup(tmp_path):
    store = Records(tmp_path)
    for build_id in ("20260101-000000-aaaa", "20260102-000000-bbbb"):
        record = BuildRecord(
            id=build_id, project="p", repo="r", ref="main", config="c", config_digest="d", platform="x", started=1.0,
            targets=[TargetRecord("cp312-x", "3.12", steps=[StepRecord("build", "ok", 1.5, "logs/cp312-x/build.log")])],
        )
        store.save(record)
    assert store.load("latest").id == "20260102-000000-bbbb"
    assert store.load("20260101").targets[0].steps[0].seconds == 1.5
    with pytest.raises(WheelworksError, match="2 builds matching '2026'"):
        store.load("2026")
    with pytest.raises(WheelworksError, match="no build matching 'x'"):
        store.load("x")


def test_record_ids_are_unique_even_when_started_together(tmp_path):
    """300 ids claimed by 30 threads released at the same instant, all in the same second."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    store = Records(tmp_path)
    start = threading.Barrier(30)

    def claim(_: int) -> list[str]:
        start.wait()
        return [store.new_id() for _ in range(10)]

    with ThreadPoolExecutor(30) as pool:
        ids = [i for batch in pool.map(claim, range(30)) for i in batch]
    assert len(set(ids)) == 300 and all(store.folder(i).is_dir() for i in ids)


def test_masking_of_environment_credentials():
    from wheelworks.shared import masking

    masking.register_environment({"DEBUG_TOKEN": "true", "MY_API_KEY": "k3y-0f-the-api", "MY_API_TOKEN": "abc1234",
                                  "PIN_SECRET": "4711", "SIGNING_PRIVATE_KEY_FILE": "/x/key.pem"})
    text = "flag true, key k3y-0f-the-api, token abc1234, pin 4711, file /x/key.pem"
    assert masking.mask(text) == "flag true, key ***, token ***, pin ***, file /x/key.pem"


def test_masking_registry_starts_empty_in_every_test():
    from wheelworks.shared import masking

    assert masking.mask("k3y-0f-the-api abc1234") == "k3y-0f-the-api abc1234"


def test_signatures_go_only_to_indexes_that_take_them():
    from wheelworks.release.upload import accepts_signatures, simple_index

    assert not accepts_signatures("https://upload.pypi.org/legacy/")
    assert not accepts_signatures("https://test.pypi.org/legacy/")
    assert accepts_signatures("http://127.0.0.1:8080/")
    assert simple_index("https://upload.pypi.org/legacy/") == "https://pypi.org/simple/"
    assert simple_index("https://test.pypi.org/legacy/") == "https://test.pypi.org/simple/"
    assert simple_index("http://127.0.0.1:8080") == "http://127.0.0.1:8080/simple/"


def test_vendoring_judges_what_the_wheel_needs(tmp_path):
    from wheelworks.build.vendoring import Need, judge, library_stems, needs

    (tmp_path / "p" / "lib").mkdir(parents=True)
    for name in ("libtally.so", "libtally.so.1", "libtally.so.1.2.3", "libscore.so", "libfreetype.so.6"):
        (tmp_path / "p" / "lib" / name).touch()
    stems = library_stems([tmp_path / "p"])
    assert stems == {"libtally", "libscore", "libfreetype"}
    site = "/v/lib/python3.12/site-packages"
    ext, vendored_tally = f"{site}/pytally/_tally.cpython-312-x86_64-linux-gnu.so", f"{site}/pytally.libs/libtally-1a2b3c4d.so.1.2.3"
    elf = {  # path -> (SONAME, DT_NEEDED)
        ext: (None, ["libtally-1a2b3c4d.so.1.2.3", "libc.so.6"]),
        vendored_tally: ("libtally-1a2b3c4d.so.1.2.3", ["libscore.so", "libc.so.6"]),
        "/usr/lib/x86_64-linux-gnu/libscore.so": ("libscore.so", ["libc.so.6"]),
        "/usr/lib/x86_64-linux-gnu/libc.so.6": ("libc.so.6", []),
        # Tk, loaded by tkinter, not by the wheel, and what it loaded:
        "/usr/lib/x86_64-linux-gnu/libtk8.6.so": ("libtk8.6.so", ["libfreetype.so.6"]),
        "/usr/lib/x86_64-linux-gnu/libfreetype.so.6": ("libfreetype.so.6", []),
    }
    found = needs([ext, vendored_tally], list(elf), lambda path: elf.get(path, (None, [])))
    assert Need(vendored_tally, "libscore.so", "/usr/lib/x86_64-linux-gnu/libscore.so") in found  # through the wheel
    assert not any(n.name == "libfreetype.so.6" for n in found)  # the interpreter's business
    vendored, foreign = judge(found, site, stems)
    assert vendored == [vendored_tally]
    assert foreign == [Need(vendored_tally, "libscore.so", "/usr/lib/x86_64-linux-gnu/libscore.so")]


def test_recipe_subdir_and_jobs_reach_the_commands(tmp_path):
    recipe = LibraryRecipe(name="lz4", version="1.9.4", system="meson", subdir="contrib/meson", jobs=1, path=tmp_path)
    setup, compile_, _ = commands(recipe, Path("/src"), Path("/b"), Path("/p"), 8)
    assert setup[3] == str(Path("/src/contrib/meson")) and compile_[-1] == "1"
    make = commands(LibraryRecipe(name="x", version="1", system="make", path=tmp_path), Path("/s"), Path("/b"),
                    Path("/p"), 3)
    assert make[0][1] == "-j3"  # no jobs in the recipe: the build's -j


def test_autotools_without_configure_or_autoreconf_is_one_line_naming_the_packages(tmp_path):
    from wheelworks.build import libraries
    from wheelworks.shared import platforms
    from wheelworks.shared.cache import Cache

    source = tmp_path / "libnoconf"
    source.mkdir()
    (source / "configure.ac").write_text("AC_INIT([x], [1])\n")
    recipe = LibraryRecipe(name="libnoconf", version="1", system="autotools", path=source)
    how = libraries.LibraryBuild(cache=Cache(tmp_path / "cache"), platform=platforms.native(), logs=tmp_path / "logs",
                                 jobs=1, env={"PATH": str(tmp_path / "empty")})
    with pytest.raises(WheelworksError) as error:
        libraries.build_all([recipe], how)
    assert "no configure script, and autoreconf is not installed" in str(error.value)
    assert "apt-get install autoconf automake libtool" in str(error.value) and "brew install" in str(error.value)


def test_the_dashboard_orders_targets_by_version_and_takes_any_identifier():
    from wheelworks.build.report import overview_html

    record = BuildRecord(id="b1", project="p", repo=".", ref="main", config="c", config_digest="d", platform="x",
                         started=0.0)
    record.targets = [TargetRecord(i, "3", status="ok") for i in
                      ("cp310-manylinux_x86_64", "cp314t-manylinux_x86_64", "cp38-manylinux_x86_64",
                       "cp314-manylinux_x86_64", "a-wheel-name.whl")]
    page = overview_html([record])
    order = [page.index(f'data-target="{i}"') for i in ("cp38-manylinux_x86_64", "cp310-manylinux_x86_64",
                                                        "cp314-manylinux_x86_64", "cp314t-manylinux_x86_64")]
    assert order == sorted(order) and 'data-target="a-wheel-name.whl"' in page


def test_a_build_page_shows_what_each_build_environment_held():
    from wheelworks.build.report import build_html

    record = BuildRecord(id="b1", project="p", repo=".", ref="main", config="c", config_digest="d", platform="x",
                         started=0.0)
    old, new = ["cython==3.1.0", "setuptools==80.0"], ["cython==3.2.1", "setuptools==80.0"]
    record.targets = [TargetRecord("cp312-x", "3.12", build_requires=old), TargetRecord("cp313-x", "3.13",
                      build_requires=old), TargetRecord("cp314-x", "3.14", build_requires=new)]
    page = build_html(record)
    assert "<td>cp312-x cp313-x</td><td><code>cython==3.1.0 setuptools==80.0</code>" in page
    assert "<td>cp314-x</td><td><code>cython==3.2.1 setuptools==80.0</code>" in page


def test_latest_is_the_build_started_last_even_within_a_second(tmp_path):
    store = Records(tmp_path)
    ids = []
    for _ in range(5):
        ids.append(store.new_id())
        store.save(BuildRecord(id=ids[-1], project="p", repo=".", ref="main", config="c", config_digest="d",
                               platform="x", started=0.0))
    assert store.ids() == ids and store.load("latest").id == ids[-1]
