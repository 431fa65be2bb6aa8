"""Settings: every variable a run reads from its environment, read in one place."""

import ast
import os
from pathlib import Path

import pytest

from wheelworks.config import secrets
from wheelworks.config.settings import from_environment
from wheelworks.shared.errors import SecretError
from tests.unit.test_conventions import _modules


def test_each_variable_lands_in_its_field(tmp_path):
    settings = from_environment({
        "WHEELWORKS_CACHE_DIR": str(tmp_path / "c"), "WHEELWORKS_PYTHONS": os.pathsep.join(["/a/python", "", "/b/python"]),
        "PYENV_ROOT": "/p", "RUNNER_TOOL_CACHE": "/t", "BUILD_COMMIT": "v1", "SOURCE_DATE_EPOCH": "1700000000",
        "TERM": "xterm", "GITHUB_ACTIONS": "true", "AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "s3cr3t-value", "TWINE_USERNAME": "__token__", "TWINE_PASSWORD": "pypi-abcdef",
        "WHEELWORKS_IMAGE": "quay.io/pypa/manylinux_2_28_x86_64@sha256:e0", "GITHUB_API_URL": "http://127.0.0.1:9/",
        "GITHUB_REPOSITORY": "o/w", "GITHUB_RUN_ID": "7", "GITHUB_TOKEN": "ghs_tokenvalue", "WHEELWORKS_NEEDS": "{}",
    })
    assert settings.cache_dir == (tmp_path / "c").resolve()
    assert settings.pythons == (Path("/a/python"), Path("/b/python"))
    assert (settings.pyenv_root, settings.tool_cache) == (Path("/p"), Path("/t"))
    assert settings.build_commit == ("v1", "BUILD_COMMIT")
    assert settings.source_date_epoch == 1700000000
    assert settings.interactive and settings.github_actions
    assert (settings.s3.region, settings.s3.access_key_id) == ("eu-west-1", "AKIAEXAMPLE")
    assert (settings.twine_username, settings.twine_password) == ("__token__", "pypi-abcdef")
    assert settings.image == "quay.io/pypa/manylinux_2_28_x86_64@sha256:e0"
    assert (settings.github.api_url, settings.github.token, settings.github.needs) == ("http://127.0.0.1:9", "ghs_tokenvalue", "{}")
    assert settings.github.run_url == "https://github.com/o/w/actions/runs/7"
    shown = repr(settings)
    assert "ghs_tokenvalue" not in shown and "s3cr3t-value" not in shown and "pypi-abcdef" not in shown and "AKIAEXAMPLE" not in shown


def test_flags_and_precedence(tmp_path):
    both = {"WHEELWORKS_BUILD_COMMIT": "main", "BUILD_COMMIT": "v1", "WHEELWORKS_CACHE_DIR": str(tmp_path / "env")}
    settings = from_environment(both, cache_dir=tmp_path / "flag")
    assert settings.cache_dir == (tmp_path / "flag").resolve()
    assert settings.build_commit == ("main", "WHEELWORKS_BUILD_COMMIT")
    assert from_environment({"XDG_CACHE_HOME": str(tmp_path)}).cache_dir == tmp_path / "wheelworks"


@pytest.mark.parametrize(("env", "interactive"), [({}, True), ({"CI": "true"}, False), ({"TERM": "dumb"}, False)])
def test_interactive_only_off_ci_and_on_a_real_terminal(env, interactive):
    assert from_environment(env).interactive is interactive


def test_a_bad_epoch_is_ignored_and_defaults_are_empty():
    settings = from_environment({"SOURCE_DATE_EPOCH": "yesterday", "HOME": "/home/u"})
    assert settings.source_date_epoch is None
    assert settings.pythons == () and settings.build_commit is None and settings.tool_cache is None
    assert settings.pyenv_root == Path("/home/u/.pyenv")


def test_an_unreadable_key_file_is_said_only_when_a_secret_needs_it(tmp_path):
    settings = from_environment({"WHEELWORKS_PRIVATE_KEY_FILE": str(tmp_path / "absent.pem")})
    assert secrets.reveal("plain", "build.environment.X", settings.private_key) == "plain"
    with pytest.raises(SecretError, match="WHEELWORKS_PRIVATE_KEY_FILE: cannot read"):
        secrets.reveal("wwenc:abc", "build.environment.X", settings.private_key)


# Names whose values are settings, not part of a subprocess's environment.
SETTINGS_VARIABLES = {
    "WHEELWORKS_CACHE_DIR", "WHEELWORKS_PYTHONS", "WHEELWORKS_BUILD_COMMIT", "BUILD_COMMIT", "SOURCE_DATE_EPOCH",
    "CI", "TERM", "GITHUB_ACTIONS", "PYENV_ROOT", "RUNNER_TOOL_CACHE", "XDG_CACHE_HOME", "AWS_ENDPOINT_URL",
    "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_PROFILE", "TWINE_USERNAME", "TWINE_PASSWORD", "WHEELWORKS_PRIVATE_KEY", "WHEELWORKS_PRIVATE_KEY_FILE",
    "WHEELWORKS_IMAGE", "GITHUB_API_URL", "GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID", "GITHUB_TOKEN",
    "WHEELWORKS_NEEDS",
}


def _reads_a_setting(node: ast.AST) -> bool:
    """``x.get("NAME")`` or ``x["NAME"]`` for a settings variable (by literal or a *_VAR constant)."""
    def named(arg: ast.AST) -> bool:
        return (isinstance(arg, ast.Constant) and arg.value in SETTINGS_VARIABLES) or (
            isinstance(arg, ast.Name) and arg.id.endswith("_VAR"))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" and node.args:
        return named(node.args[0])
    return isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and named(node.slice)


def test_settings_are_read_in_one_place():
    readers = {name for name, tree in _modules() if any(_reads_a_setting(n) for n in ast.walk(tree))}
    assert readers == {"config/settings.py", "config/secrets.py"}  # secrets: the key, read for settings.py
