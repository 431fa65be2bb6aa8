from __future__ import annotations

from datetime import date

from pathlib import Path

import pytest

from wheelworks.config.settings import from_environment
from wheelworks.config.model import load
from wheelworks.build.targets import matrix, select_targets
from wheelworks.shared.errors import ConfigError
from wheelworks.shared.platforms import Platform

LINUX = Platform("linux", "x86_64", "manylinux_x86_64", "glibc-2.36")
BASE = """
[project]
name = "pytally"
repo = "src"
"""


def _load(tmp_path: Path, text: str, env: dict[str, str] | None = None, name: str = "wheelworks.toml"):
    path = tmp_path / name
    path.write_text(text)
    return load(path, from_environment(env or {}).build_commit)


def test_defaults_and_relative_paths(tmp_path):
    config = _load(tmp_path, BASE)
    assert config.project.repo == str(tmp_path / "src")
    assert config.project.build_commit == "HEAD"
    assert config.build.python is None and config.build.enable == ()  # the matrix comes from the data
    assert config.libraries == ()


def test_urls_stay_urls(tmp_path):
    config = _load(tmp_path, BASE.replace('"src"', '"https://example.invalid/x.git"'))
    assert config.project.repo == "https://example.invalid/x.git"


@pytest.mark.parametrize(
    ("env", "expected"),
    [({}, "main"), ({"BUILD_COMMIT": "v1"}, "v1"), ({"BUILD_COMMIT": "v1", "WHEELWORKS_BUILD_COMMIT": "v2"}, "v2")],
)
def test_build_commit_env_overrides(tmp_path, env, expected):
    config = _load(tmp_path, BASE + 'build-commit = "main"\n', env)
    assert config.project.build_commit == expected


def test_digest_changes_with_settings(tmp_path):
    a = _load(tmp_path, BASE).digest
    b = _load(tmp_path, BASE + '[build]\nskip = ["cp38-*"]\n').digest
    assert a != b and len(a) == 64


def test_pyproject_tool_table(tmp_path):
    config = _load(tmp_path, '[project]\nname = "pkg"\n[tool.wheelworks.build]\npython = ["3.12"]\n', name="pyproject.toml")
    assert config.project.name == "pkg"
    assert config.project.repo == str(tmp_path)
    assert config.build.python == ("3.12",)


BAD_CONFIGS = [  # (wheelworks.toml, what its one-line error says); tests/integration/test_bad_input runs them by CLI
    ('[projct]\nname = "x"\n', "unknown key 'projct' (did you mean 'project'?)"),
    (BASE + "[build]\npython = [3.12]\n", "'python' must be a list of strings"),
    (BASE + '[build]\npython = ["3.x"]\n', "'3.x' is not a CPython version"),
    (BASE + '[build]\nmissing-python = "maybe"\n', "missing-python must be 'error' or 'warn'"),
    (BASE + '[[library]]\nname = "a"\nversion = "1"\nsystem = "cmake"\n', "give exactly one of 'url' or 'path'"),
    (BASE + '[[library]]\nname = "a"\nversion = "1"\nsystem = "cmake"\nurl = "file:///a.tgz"\n', "missing required key 'sha256'"),
    (BASE + '[[library]]\nname = "a"\nversion = "1"\nsystem = "cmake"\nurl = "file:///a"\nsha256 = "abc"\n', "is not 64 hex digits"),
    (BASE + '[[library]]\nname = "a"\nversion = "1"\nsystem = "scons"\npath = "a"\n', "unknown system 'scons'"),
    (BASE + '[[library]]\nname = "a"\nversion = "1"\nsystem = "script"\npath = "a"\n', "'script' is required"),
    (BASE + '[[library]]\nname = "a"\nversion = "1"\nsystem = "make"\npath = "a"\ndepends = ["b"]\n', "depends on unknown library 'b'"),
    ("[project]\nname = \"x\"\n", "missing required key 'repo'"),
    (BASE + '[build]\nenvironment = ["A=1"]\n', "'environment' must be a table of strings"),
    (BASE + '[[library]]\nname = "a"\nversion = "1"\nsystem = "make"\npath = "a"\njobs = 0\n', "'jobs' must be a positive integer"),
    (BASE + '[ci]\npins = { "actions/checkout" = "v6" }\n', "[ci] pins: actions/checkout = 'v6' is not a 40-hex commit"),
    ("[project\n", "invalid TOML"),
    # values that would reach git, a path or a generated workflow
    (BASE + 'build-commit = "--upload-pack=touch X;git-upload-pack"\n', "build-commit = '--upload-pack"),
    (BASE + 'build-commit = "main..other"\n', "is not a valid git ref name"),
    (BASE + 'build-commit = ""\n', "build-commit = '' is empty"),
    (BASE.replace('"src"', '"--upload-pack=x;y://"'), "[project] repo = '--upload-pack"),
    (BASE.replace('"src"', '"ext::sh -c touch% X"'), "uses a git transport that runs commands"),
    (BASE + 'subdir = "../.."\n', "[project] subdir = '../..' must be a relative path"),
    (BASE + 'subdir = "/etc"\n', "[project] subdir = '/etc' must be a relative path"),
    (BASE + '[[library]]\nname = "../../x"\nversion = "1"\nsystem = "make"\npath = "a"\n', "name = '../../x' must be"),
    (BASE + '[[library]]\nname = "a/b"\nversion = "1"\nsystem = "make"\npath = "a"\n', "name = 'a/b' must be"),
    (BASE + '[[library]]\nname = "a"\nversion = "1"\nsystem = "make"\npath = "a"\nsubdir = "../x"\n', "subdir = '../x'"),
    (BASE + '[ci]\nschedule = "every day"\n', "[ci] schedule = 'every day' is not a cron expression"),
    (BASE + '[ci]\nschedule = "0 3 * * * *"\n', "is not a cron expression of five fields"),
    (BASE + '[ci]\nschedule = "61 3 * * *"\n', "is not a cron expression"),
    (BASE + '[ci]\nsecrets = ["X }}\\n  run: evil"]\n', "[ci] secrets: 'X }}\\n  run: evil' must be letters"),
    (BASE + '[ci]\nsecrets = ["GITHUB_TOKEN"]\n', "cannot start with GITHUB_"),
    (BASE + '[ci]\npypi-token-secret = "${{ github.token }}"\n', "[ci] pypi-token-secret:"),
    (BASE + '[ci]\nmanylinux = "manylinux_2_28"\n', "[ci] manylinux is now [build] manylinux"),
    (BASE + '[build]\nmanylinux = "musllinux_1_2"\n', "no manylinux image builds for it on CI"),
    (BASE + '[build]\nmanylinux = "manylinux1"\n', "no manylinux image builds for it on CI"),
    (BASE + '[build]\nmanylinux = "glibc-2.17"\n', "is not a manylinux or musllinux policy"),
    (BASE + '[build]\nmanylinux = 2.17\n', "manylinux"),
    (BASE + '[build]\ntoolchain = "clang"\n', "toolchain must be one of native, zig"),
    (BASE + '[ci]\nplatforms = []\n', "[ci] platforms is empty"),
    (BASE.replace('"pytally"', '"x ${{ secrets.PYPI_API_TOKEN }}"'), "[project] name = 'x ${{"),
    (BASE.replace('"pytally"', '"-x"'), "is not a project name"),
    (BASE.replace('"pytally"', '"x/y"'), "is not a project name"),
    (BASE + '[[library]]\nname = "a"\nversion = "1"\nsystem = "make"\npath = "a"\nenv = ["CFLAGS=-O2"]\n',
     "'env' must be a table of strings"),
    (BASE + "x = " + "[" * 3000 + "]" * 3000 + "\n", "nested too deeply"),
]


@pytest.mark.parametrize(("text", "message"), BAD_CONFIGS)
def test_bad_config(tmp_path, text, message):
    with pytest.raises(ConfigError, match=None) as info:
        _load(tmp_path, text)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_libraries_are_ordered_and_cycles_refused(tmp_path):
    lib = '[[library]]\nname = "{}"\nversion = "1"\nsystem = "make"\npath = "x"\ndepends = [{}]\n'
    config = _load(tmp_path, BASE + lib.format("png", '"zlib"') + lib.format("zlib", ""))
    assert [lib.name for lib in config.libraries] == ["zlib", "png"]
    with pytest.raises(ConfigError, match="cycle: a -> b -> a"):
        _load(tmp_path, BASE + lib.format("a", '"b"') + lib.format("b", '"a"'))


def test_select_targets(tmp_path):
    config = _load(tmp_path, BASE + '[build]\npython = ["3.8", "3.12", "3.13"]\nskip = "cp38-*"\n')
    assert [t.identifier for t in select_targets(config, LINUX, matrix(config, None, date.today()))] == ["cp312-manylinux_x86_64", "cp313-manylinux_x86_64"]
    assert [t.python for t in select_targets(config, LINUX, matrix(config, None, date.today()), "cp313-*")] == ["3.13"]
    assert select_targets(config, LINUX, matrix(config, None, date.today()), "*-macosx_*") == []


@pytest.mark.parametrize("var", ["WHEELWORKS_BUILD_COMMIT", "BUILD_COMMIT"])
def test_a_build_commit_from_the_environment_is_checked_and_named(tmp_path, var):
    with pytest.raises(ConfigError, match=f"^{var} = '-c' starts with '-'"):
        _load(tmp_path, BASE, {var: "-c"})


def test_a_recipe_has_an_environment_of_its_own(tmp_path):
    config = _load(tmp_path, BASE + '[[library]]\nname = "z"\nversion = "1"\nsystem = "make"\npath = "z"\n'
                             'env = { CFLAGS = "-O2 -fPIC" }\n')
    assert config.libraries[0].env == {"CFLAGS": "-O2 -fPIC"}


@pytest.mark.parametrize(("given", "policy", "image"), [
    ("manylinux2014", "manylinux_2_17", "manylinux2014"), ("manylinux_2_17", "manylinux_2_17", "manylinux2014"),
    ("manylinux_2_28", "manylinux_2_28", "manylinux_2_28"), ("manylinux_2_31", "manylinux_2_31", "manylinux_2_28"),
    ("manylinux_2_34", "manylinux_2_34", "manylinux_2_34"),
])
def test_the_policy_is_one_setting_and_ci_s_image_follows_it(tmp_path, given, policy, image):
    config = _load(tmp_path, BASE + f'[build]\nmanylinux = "{given}"\ntoolchain = "zig"\n')
    assert (config.build.manylinux, config.build.toolchain, config.ci.manylinux) == (policy, "zig", image)
    unset = _load(tmp_path, BASE)
    assert (unset.build.manylinux, unset.build.toolchain, unset.ci.manylinux) == (None, "native", "manylinux_2_28")


def test_a_project_pyproject_with_cibuildwheel_settings_gets_a_hint_to_init(tmp_path):
    text = '[project]\nname = "pkg"\n[tool.cibuildwheel]\nbuild = "cp312-*"\n'
    with pytest.raises(ConfigError, match=r"no \[tool.wheelworks\] table; run `wheelworks init .`"):
        _load(tmp_path, text, name="pyproject.toml")
    config = _load(tmp_path, text + '[tool.wheelworks.build]\npython = ["3.12"]\n', name="pyproject.toml")
    assert len(config.hints) == 1 and "wheelworks init ." in config.hints[0]
    assert _load(tmp_path, BASE).hints == ()
