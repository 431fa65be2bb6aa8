"""cibuildwheel's settings in wheelworks' terms, and a line for each one that is not carried."""

from wheelworks.ci.init import render
from wheelworks.config.cibuildwheel import carry
from wheelworks.config.model import ci_resources
from wheelworks.shared.compat import tomllib

VERSIONS = ["3.9", "3.10", "3.11", "3.12", "3.13", "3.13t", "3.14", "3.14t"]
PLATFORMS = {name: spec["tag"] for name, spec in ci_resources()["platforms"].items()}


def test_selectors_give_the_pythons_and_platforms():
    out = carry({"build": ["cp310-*", "cp312-manylinux_*"], "skip": "*-win32 cp310-macosx_*"}, VERSIONS, PLATFORMS)
    assert out.build["python"] == ["3.10", "3.12"] and out.build["skip"] == ["*-win32", "cp310-macosx_*"]
    assert out.ci["platforms"] == ["linux-x86_64", "linux-aarch64", "windows-AMD64", "windows-ARM64"]  # macOS: skipped
    linux_only = carry({"build": "cp3*-manylinux_*"}, VERSIONS, PLATFORMS)
    assert linux_only.ci["platforms"] == ["linux-x86_64", "linux-aarch64"]
    # cp3* matches cp313t too, but cibuildwheel builds 3.13t only when enabled; 3.14t by default
    assert linux_only.build["python"] == ["3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.14t"]
    threads = carry({"build": "cp313*", "enable": "cpython-freethreading"}, VERSIONS, PLATFORMS)
    assert threads.build["python"] == ["3.13", "3.13t"] and threads.build["enable"] == ["free-threaded"]
    assert carry({}, VERSIONS, PLATFORMS).build == {}  # build = "*": the matrix stays requires-python's


def test_archs_per_os_pick_the_ci_platforms():
    out = carry({"linux": {"archs": "x86_64"}, "macos": {"archs": ["arm64"]}}, VERSIONS, PLATFORMS)
    assert out.ci["platforms"] == ["linux-x86_64", "macos-arm64", "windows-AMD64", "windows-ARM64"]
    assert out.notes == ["cibuildwheel also builds musllinux wheels: wheelworks builds them on a musl machine only"]


def test_each_carried_setting_lands_in_its_key_with_placeholders_translated():
    out = carry({
        "environment": 'CFLAGS="-O2 -g" TALLY=1', "before-build": "pip install cython && ls {package}",
        "test-requires": "pytest hypothesis", "test-command": ["pytest {package}/tests", "python {project}/x.py"],
        "test-sources": ["tests", "conftest.py"], "config-settings": {"setup-args": ["-Da=1", "-Db=2"]},
        "build-frontend": "build[uv]", "enable": ["cpython-freethreading", "pypy"],
        "manylinux-x86_64-image": "manylinux2014", "before-all": "make -C {project}/lib install PREFIX=$PREFIX",
    }, VERSIONS, PLATFORMS, subdir="python")
    assert out.build["environment"] == {"CFLAGS": "-O2 -g", "TALLY": "1"}
    assert out.build["before-build"] == "pip install cython && ls ."  # it runs in the package's folder
    assert out.test["requires"] == ["pytest", "hypothesis"]
    # test-sources are the checkout's (its root is above the package's folder, python/)
    assert out.test["command"] == ("cp -r '{project}/../tests' '{project}/../conftest.py' . && "
                                   "pytest {project}/tests && python {project}/../x.py")
    assert out.build["config-settings"] == {"setup-args": "-Da=1 -Db=2"} and out.build["frontend"] == "build[uv]"
    assert out.build["enable"] == ["free-threaded"] and out.build["manylinux"] == "manylinux_2_17"
    assert out.libraries == [{"name": "before-all", "version": "0", "system": "script", "path": ".",
                              "script": "make -C ./lib install PREFIX=$PREFIX"}]
    notes = [n.split(" ")[0] for n in out.notes if "musllinux" not in n]
    assert notes == ["enable", "before-all"]  # pypy, and what a recipe must do


def test_what_has_no_equivalent_is_named_once_each():
    out = carry({"container-engine": "podman", "repair-wheel-command": "x", "test-skip": "*-macosx_arm64",
                 "dependency-versions": "pinned", "build-frontend": "pip", "manylinux-x86_64-image": "quay.io/x/y:1",
                 "windows": {"before-build": "x"}, "overrides": [{"select": "cp38-*", "environment": {}}]},
                VERSIONS, PLATFORMS)
    joined = "\n".join(out.notes)
    for key in ("container-engine", "repair-wheel-command", "test-skip", "build-frontend = 'pip'",
                "manylinux-x86_64-image", "[tool.cibuildwheel.windows] before-build", "overrides"):
        assert joined.count(key) == 1, key
    assert "dependency-versions" not in joined  # cibuildwheel's default: nothing lost
    assert all("\n" not in n for n in out.notes)


def test_what_init_writes_is_a_config_wheelworks_reads():
    out = carry({"build": "cp312-*", "environment": {"A": 'say "hi" \\ ünïcode'}, "test-command": "pytest"},
                VERSIONS, PLATFORMS)
    data = tomllib.loads(render("pytally", "https://e.org/p.git", "main", "", out, True))
    assert data["project"] == {"name": "pytally", "repo": "https://e.org/p.git", "build-commit": "main"}
    assert data["build"]["environment"] == {"A": 'say "hi" \\ ünïcode'} and data["test"]["command"] == "pytest"
