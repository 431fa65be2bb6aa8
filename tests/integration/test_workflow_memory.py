"""CI that remembers, run here job by job (tests/workflow_harness.py): an unchanged nightly
on a fresh runner takes every wheel from the container and publishes nothing; a new commit
builds again; bytes that no longer match their record are never taken; the actions cache
carries the wheelworks cache; scheduled failures open and close an issue on a fake GitHub
API; `test-on` installs the wheels on another runner before anything is published."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.fake_github import FakeGitHub
from tests.fixtures import GIT, libtally_recipe
from tests.helpers import serving
from tests.workflow_harness import Runner, image_pythons, load
from wheelworks import cli
from wheelworks.build import interpreters
from wheelworks.build.records import BuildRecord
from wheelworks.ci.runner_install import TOOL_PYTHON
from wheelworks.config.settings import from_environment
from wheelworks.containers.local import LocalStore
from wheelworks.shared import platforms
from wheelworks.shared.hashes import file_sha256

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def setup(pytally_repo, libtally_tarball, pythons, tmp_path_factory):
    """A project we may commit to, a nightly container outside the wheels repository (a
    self-hosted disk) served at its public URL, and the wheels repository with its workflows."""
    root = tmp_path_factory.mktemp("memory")
    project = root / "pytally"
    subprocess.run(["git", "clone", "-q", str(pytally_repo), str(project)], check=True)
    container = root / "container"
    container.mkdir()
    with serving(LocalStore(container)) as url:
        repo = root / "wheels-repo"
        repo.mkdir()
        tarball, sha256 = libtally_tarball
        (repo / "wheelworks.toml").write_text(textwrap.dedent(f"""
            [project]
            name = "pytally"
            repo = "{project}"
            build-commit = "main"
            [build]
            python = {json.dumps(pythons)}
            [test]
            command = "python -c 'import pytally; assert pytally.sum(2, 3, 4) == 9'"
            [containers.nightly]
            url = "{container}"
            public-url = "{url}"
            branches = ["main"]
            keep = 3
            stale-after = 2
            [ci]
            test-on = ["ubuntu-22.04"]
        """) + libtally_recipe(tarball, sha256))
        cwd = Path.cwd()
        os.chdir(repo)
        try:
            assert cli.main(["ci", "github"]) == 0
        finally:
            os.chdir(cwd)
        yield {"pythons": pythons, "repo": repo, "project": project, "container": container, "url": url, "root": root,
               "workflow": load(repo / ".github" / "workflows" / "wheels.yml")}


def _runner(setup, name: str, actions_cache: Path, **kwargs) -> Runner:
    """A fresh runner: its own workspace and an empty wheelworks cache (the actions cache
    may bring one back)."""
    root = setup["root"] / name
    found = interpreters.discover([*setup["pythons"], TOOL_PYTHON], (), from_environment(os.environ), platforms.native().os)
    # The image's python3.X, at one path as in every run of an image (python3: a test-on
    # runner's own Python, standing in for ubuntu-22.04's).
    images = image_pythons(setup["root"] / "image-bin", {**{v: i.path for v, i in found.items()}, "3": found[setup["pythons"][-1]].path})
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "VIRTUAL_ENV", "WHEELWORKS_", "PYTHONPATH"))}
    env["PATH"] = os.pathsep.join([str(images), env["PATH"]])
    github = {"ref_name": "main", "ref": "refs/heads/main", "repository": "example/wheels", "run_id": name,
              "event_name": "schedule", "token": "ghs_test"}
    return Runner(repo=setup["repo"], root=root, github=github, base_env=env, inputs={"build-commit": ""},
                  secrets={"WHEELWORKS_PRIVATE_KEY": ""}, interpreters={v: i.path for v, i in found.items()},
                  actions_cache=actions_cache, **kwargs)


def _linux(runner: Runner, setup) -> BuildRecord:
    """Run the Linux build job; the record of its build (the artifact may also carry the
    container's records of the wheels it reused)."""
    workflow = setup["workflow"]
    runner.run_job(workflow, "linux", workflow["jobs"]["linux"]["strategy"]["matrix"]["include"][0])
    records = (runner.artifacts / "wheels-linux-x86_64" / "builds").glob("*/record.json")
    return max((BuildRecord.from_json(json.loads(r.read_text())) for r in records), key=lambda r: r.started)


def _contents(container: Path) -> dict[str, str]:
    return {str(p.relative_to(container)): file_sha256(p) for p in sorted(container.rglob("*"))
            if p.is_file() and ".wheelworks/tmp" not in str(p)}


def _commit(project: Path, text: str) -> None:
    """A new commit, with the new version a nightly's commit has (setuptools-scm and kin)."""
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('version = "0.1.0"', 'version = "0.1.1.dev1"'))
    (project / "CHANGES.txt").write_text(text)
    subprocess.run([*GIT, "-C", str(project), "add", "-A"], check=True)
    subprocess.run([*GIT, "-C", str(project), "commit", "-qm", text], check=True)


def test_an_unchanged_nightly_takes_the_containers_wheels_and_publishes_nothing(setup, tmp_path):
    workflow, container = setup["workflow"], setup["container"]
    first = _runner(setup, "first", tmp_path / "cache-a")
    built = _linux(first, setup)
    assert [s.name for s in built.targets[0].steps][:1] == ["build"] and built.libraries
    first.run_job(workflow, "test-runners", workflow["jobs"]["test-runners"]["strategy"]["matrix"]["include"][0])
    first.run_job(workflow, "publish")
    published = _contents(container)
    assert any(k.endswith(".whl") for k in published)

    # A fresh runner with an empty actions cache: everything comes from the container.
    second = _runner(setup, "second", tmp_path / "cache-b")
    record = _linux(second, setup)
    assert len(record.targets) == len(setup["pythons"]) and not record.libraries
    for target in record.targets:
        assert [s.name for s in target.steps] == ["reused"] and target.reused_from == built.id
        assert "in container nightly" in str(target.steps[0].error)
    cache = second.root / "linux-linux-x86_64" / "workspace" / ".wheelworks-cache"
    assert not (cache / "libraries").exists() and not (cache / "prefixes").exists()  # no library was built
    assert [p.name for p in (cache / "buildenvs").iterdir() if p.is_dir()] == []  # nor a build environment
    # Nor were the build requirements resolved again: the first run's resolution came with its records.
    assert [t.build_requires_at for t in record.targets] == [t.build_requires_at for t in built.targets]
    assert all(t.build_requires_at for t in record.targets)
    # (What this costs against a cold build: bench/reuse.py prints it.)
    second.run_job(workflow, "publish")
    assert _contents(container) == published  # nothing uploaded, nothing rewritten
    # A dry run where the job ran (its image, its interpreters) says so without building.
    entry = workflow["jobs"]["linux"]["strategy"]["matrix"]["include"][0]
    job = second.root / "linux-linux-x86_64"
    dry = subprocess.run([str(job / "temp" / "wheelworks" / "bin" / "wheelworks"), "build", "--dry-run",
                          "--reuse-published", "main", "--builds-dir", str(tmp_path / "dry-builds"),
                          "--wheelhouse", str(tmp_path / "dry-wheelhouse")], cwd=job / "workspace", capture_output=True, text=True,
                         env={**second.base_env, "WHEELWORKS_IMAGE": entry["image"],
                              "WHEELWORKS_CACHE_DIR": str(tmp_path / "dry")})
    assert dry.stdout.count(f"reused from build {built.id} in container nightly") == len(setup["pythons"]), dry

    # The release gate takes the reused wheel: the record that tested it is in the container.
    assert cli.main(["release", "--download-only", "-u", setup["url"], "-w", str(tmp_path / "dist"),
                     "pytally", "0.1.0"]) == 0

    # A new commit builds again: reuse is never blanket.
    _commit(setup["project"], "a change")
    third = _runner(setup, "third", tmp_path / "cache-a")  # and the first run's actions cache comes back
    rebuilt = _linux(third, setup)
    assert all(t.steps[0].name == "build" for t in rebuilt.targets)
    assert all(lib.cached for lib in rebuilt.libraries)  # the library came back with the actions cache
    third.run_job(workflow, "test-runners", workflow["jobs"]["test-runners"]["strategy"]["matrix"]["include"][0])
    third.run_job(workflow, "publish")

    # The container's bytes changed behind the record's back: never taken, and said so.
    tampered = rebuilt.targets[0]
    (wheel,) = [p for p in container.rglob("*.whl") if p.parent.parent.name == "files" and file_sha256(p) == tampered.sha256]
    wheel.write_bytes(wheel.read_bytes()[:-10] + b"0123456789")
    fourth = _runner(setup, "fourth", tmp_path / "cache-d")
    again = {t.identifier: t for t in _linux(fourth, setup).targets}
    target = again[tampered.identifier]
    assert target.steps[0].name == "build"
    assert any("sha256 mismatch" in w and str(target.wheel) in w for w in target.warnings), target.warnings
    assert all(t.steps[0].name == "reused" for i, t in again.items() if i != tampered.identifier)


def test_wheelworks_status_fails_on_a_stale_container(setup, tmp_path, capsys):
    config = str(setup["repo"] / "wheelworks.toml")
    assert cli.main(["status", "--config", config]) in (0, 1)
    capsys.readouterr()
    empty = tmp_path / "empty"
    empty.mkdir()
    text = (setup["repo"] / "wheelworks.toml").read_text()
    stale = tmp_path / "wheelworks.toml"
    stale.write_text(text.replace(f'url = "{setup["container"]}"', f'url = "{empty}"').replace(
        f'public-url = "{setup["url"]}"\n', ""))
    assert cli.main(["status", "--config", str(stale)]) == 1
    assert "nightly: STALE: holds no passing build of the project (stale after 2 days)" in capsys.readouterr().out


def test_scheduled_failures_open_an_issue_and_a_passing_run_closes_it(setup, tmp_path):
    workflow = setup["workflow"]
    with FakeGitHub() as github:
        github.jobs = [{"name": "linux-x86_64", "conclusion": "failure",
                        "html_url": "https://github.com/example/wheels/actions/runs/1/job/11"}]
        failing = _runner(setup, "failing", tmp_path / "c", needs={"linux": "failure", "publish": "skipped"})
        failing.base_env = {**failing.base_env, "GITHUB_API_URL": github.url}
        record = failing.artifacts / "wheels-linux-x86_64" / "builds" / "20261202-000000000000-abcd"
        record.mkdir(parents=True)
        (record / "record.json").write_text(json.dumps({
            "id": record.name, "project": "pytally", "repo": "r", "ref": "main", "config": "c", "config_digest": "d",
            "platform": "linux_x86_64", "started": 1.0, "status": "failed", "libraries": [],
            "targets": [{"identifier": "cp312-manylinux_x86_64", "python": "3.12", "status": "failed",
                         "steps": [{"name": "build", "status": "ok", "seconds": 1, "log": "x"},
                                   {"name": "test", "status": "failed", "seconds": 1, "log": "y"}]}]}))
        failing.run_job(workflow, "alert")
        (issue,) = github.issues.values()
        assert issue["state"] == "open" and "pytally" in issue["title"]
        assert "cp312-manylinux_x86_64: test failed ([log](https://github.com/example/wheels/actions/runs/1/job/11))" \
            in issue["body"]
        failing.run_job(workflow, "alert")  # failing again: a comment, not a second issue
        assert len(github.issues) == 1 and len(issue["comments"]) == 1
        assert github.authorizations == {"Bearer ghs_test"}

        passing = _runner(setup, "passing", tmp_path / "c", needs={"linux": "success", "publish": "success"})
        passing.base_env = {**passing.base_env, "GITHUB_API_URL": github.url}
        shutil.copytree(failing.artifacts, passing.artifacts)
        passing.run_job(workflow, "alert")
        assert issue["state"] == "closed" and "Passing again" in issue["comments"][-1]

        # Not scheduled (a push, a manual run): the job does not run at all.
        manual = _runner(setup, "manual", tmp_path / "c", needs={"linux": "failure"})
        manual.github = {**manual.github, "event_name": "workflow_dispatch"}
        assert manual.run_job(workflow, "alert") is None


def test_test_on_fails_where_no_wheel_fits(setup, tmp_path, capsys):
    """A wheelhouse with no wheel for the runner's Python: the job fails in one line."""
    wheelhouse = tmp_path / "wheelhouse"
    wheelhouse.mkdir()
    found = interpreters.discover(["3.11"], (), from_environment(os.environ), platforms.native().os)
    fake = wheelhouse / "pytally-0.1.0-cp312-cp312-manylinux_2_17_x86_64.whl"
    fake.write_bytes(b"not really a wheel")
    code = cli.main(["test", "--config", str(setup["repo"] / "wheelworks.toml"), "--python", str(found["3.11"].path),
                     "--log", str(tmp_path / "t.log"), str(wheelhouse)])
    err = capsys.readouterr().err
    assert code != 0 and f"no wheel of pytally in {wheelhouse} installs on {found['3.11'].path}" in err
