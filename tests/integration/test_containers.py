"""Publishing to real containers: a local folder and SeaweedFS over S3, served to a real pip."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import time
from dataclasses import asdict

import pytest

from tests.helpers import check_index, fetch, make_wheel, pip_install, serving
from wheelworks import cli
from wheelworks.containers import claim_key, open_store
from wheelworks.containers.local import LocalStore
from wheelworks.shared.errors import ContainerError
from wheelworks.containers.publish import describe, publish


def test_pip_installs_the_newest_wheel_and_hashes_match(store, tmp_path):
    wheels = tmp_path / "wheels"
    publish(store, [make_wheel(wheels, "pytally", "0.1.0"), make_wheel(wheels, "Py.Tally-Extra", "2.0")])
    publish(store, [make_wheel(wheels, "pytally", "0.2.0.dev20261125", requires_python=">=3.9")])
    with serving(store) as base:
        listed = check_index(base)
        assert set(listed) == {
            "pytally-0.1.0-py3-none-any.whl", "pytally-0.2.0.dev20261125-py3-none-any.whl",
            "py_tally_extra-2.0-py3-none-any.whl",
        }
        for name, sha256 in listed.items():
            assert hashlib.sha256((wheels / name).read_bytes()).hexdigest() == sha256
        page = fetch(base + "simple/pytally/").decode()
        assert 'data-requires-python="&gt;=3.9"' in page
        assert json.loads(fetch(base + "simple/py-tally-extra/", "application/vnd.pypi.simple.v1+json"))["name"] == "py-tally-extra"
        assert "pytally-0.1.0-py3-none-any.whl" in fetch(base).decode()  # the page for people

        python = pip_install(tmp_path / "venv", base + "simple/", "pytally")
        version = subprocess.run([str(python), "-c", "import pytally; print(pytally.__version__)"],
                                 capture_output=True, text=True, check=True).stdout.strip()
        assert version == "0.2.0.dev20261125"


def test_republish_is_a_no_op_and_a_different_file_needs_overwrite(store, tmp_path):
    first = make_wheel(tmp_path / "a", "pytally", "1.0")
    assert publish(store, [first]).uploaded == [first.name]
    assert publish(store, [first]).unchanged == [first.name]

    other = make_wheel(tmp_path / "b", "pytally", "1.0", padding=10)  # same name, different bytes
    with pytest.raises(ContainerError, match="already has different files named pytally-1.0-py3-none-any.whl"):
        publish(store, [other])
    with serving(store) as base:
        assert check_index(base)[first.name] == hashlib.sha256(first.read_bytes()).hexdigest()

    assert publish(store, [other], overwrite=True).uploaded == [other.name]
    with serving(store) as base:
        assert check_index(base)[other.name] == hashlib.sha256(other.read_bytes()).hexdigest()
    key = f"files/{hashlib.sha256(other.read_bytes()).hexdigest()[:16]}/{other.name}"
    assert sorted(store.list("files/")) == [key, key + ".metadata"]  # the replaced file and its metadata are gone


def test_pruning_keeps_the_newest_versions(store, tmp_path):
    versions = ["1.0", "1.1", "1.2", "2.0.dev1", "2.0"]
    for version in versions:
        result = publish(store, [make_wheel(tmp_path / version, "pytally", version)], keep=3)
    assert result.pruned == ["pytally-1.1-py3-none-any.whl"]
    with serving(store) as base:
        assert sorted(check_index(base)) == [f"pytally-{v}-py3-none-any.whl" for v in ("1.2", "2.0", "2.0.dev1")]
    assert len(store.list("files/")) == 6  # pruned bytes (and their .metadata) are gone too

    # An older version published late would be pruned at once: it is refused, and nothing is written.
    before = store.list()
    with pytest.raises(ContainerError, match="pytally 0.9 is older than the 3 newest versions it keeps"):
        publish(store, [make_wheel(tmp_path / "old", "pytally", "0.9")], keep=3)
    assert store.list() == before


def test_pruning_never_strands_a_python(store, tmp_path):
    """keep = 1, then a newer version for one Python only: the older one still serves the other."""
    cp311, cp312 = "cp311-cp311-manylinux_2_17_x86_64", "cp312-cp312-manylinux_2_17_x86_64"
    publish(store, [make_wheel(tmp_path / "3", "pytally", "3.0", tag) for tag in (cp311, cp312)], keep=1)
    result = publish(store, [make_wheel(tmp_path / "4", "pytally", "4.0.dev1", cp312)], keep=1)
    assert result.pruned == []
    with serving(store) as base:
        assert f"pytally-3.0-{cp311}.whl" in check_index(base)

    # A publish that died after storing only cp311 of 5.0 (bytes and claim, no completion
    # marker): 5.0 is not complete, so an unrelated publish prunes nothing of 3.0.
    dead = make_wheel(tmp_path / "5", "pytally", "5.0", cp311)
    f = describe(dead)
    store.put(f.path, dead, "application/octet-stream", sha256=f.sha256)
    store.put(claim_key(f.filename), json.dumps(asdict(f)).encode(), "application/json")
    assert publish(store, [make_wheel(tmp_path / "other", "other", "1.0")], keep=1).pruned == []
    with serving(store) as base:
        listed = check_index(base)
    assert {f"pytally-3.0-{cp311}.whl", f"pytally-3.0-{cp312}.whl", f"pytally-4.0.dev1-{cp312}.whl"} <= set(listed)

    # 6.0 for both Pythons, complete: now everything older is covered and goes.
    result = publish(store, [make_wheel(tmp_path / "6", "pytally", "6.0", tag) for tag in (cp311, cp312)], keep=1)
    assert sorted(result.pruned) == sorted([f"pytally-3.0-{cp311}.whl", f"pytally-3.0-{cp312}.whl",
                                            f"pytally-4.0.dev1-{cp312}.whl", f"pytally-5.0-{cp311}.whl"])


def test_publish_dry_run_prints_the_plan_and_writes_nothing(make_config, tmp_path, capsys):
    config = make_config()
    wheelhouse = tmp_path / "wh"
    make_wheel(wheelhouse, "pytally", "1.0")
    before = sorted(tmp_path.rglob("*"))
    assert cli.main(["publish", "--config", str(config), str(wheelhouse), "--ref", "main", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "upload    pytally-1.0-py3-none-any.whl" in out and "dry run" in out
    assert sorted(tmp_path.rglob("*")) == before


PUBLISHER = """
import sys
from pathlib import Path
from wheelworks.containers import open_store
from wheelworks.containers.publish import publish
url, endpoint, *wheels = sys.argv[1:]
publish(open_store(url, endpoint=endpoint or None), [Path(w) for w in wheels])
"""


PRUNING_PUBLISHER = """
import sys
from pathlib import Path
from wheelworks.containers import open_store
from wheelworks.containers.publish import publish
url, endpoint, *wheels = sys.argv[1:]
for wheel in wheels:
    publish(open_store(url, endpoint=endpoint or None), [Path(wheel)], keep=1)
"""


def test_concurrent_pruning_publishers_all_succeed(tmp_path):
    """8 publishers, each of 10 rising versions of its own project, into one keep = 1
    folder: none fails, and the index ends with the newest version of each project."""
    url = (tmp_path / "container").as_uri()
    groups = [[make_wheel(tmp_path / f"p{i}", f"project{i}", f"1.{j}") for j in range(10)] for i in range(8)]
    procs = [subprocess.Popen([sys.executable, "-c", PRUNING_PUBLISHER, url, "", *map(str, wheels)],
                              stderr=subprocess.PIPE, text=True) for wheels in groups]
    errors = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, errors
    store = LocalStore(tmp_path / "container")
    with serving(store) as base:
        listed = check_index(base)
    assert sorted(listed) == sorted(wheels[-1].name for wheels in groups)


def test_concurrent_publishers_lose_nothing(container, store, tmp_path):
    url, endpoint = container
    groups = [[make_wheel(tmp_path / f"p{i}", f"project{i % 2}", f"1.{i}.{j}") for j in range(3)] for i in range(4)]
    procs = [
        subprocess.Popen([sys.executable, "-c", PUBLISHER, url, endpoint or "", *map(str, wheels)])
        for wheels in groups
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    with serving(store) as base:
        assert sorted(check_index(base)) == sorted(w.name for wheels in groups for w in wheels)


def test_publish_killed_midway_leaves_a_valid_index(container, store, tmp_path):
    url, endpoint = container
    publish(store, [make_wheel(tmp_path / "base", "pytally", "0.1")])
    wheels = [make_wheel(tmp_path / "big", "pytally", f"1.0.{i}", padding=500_000) for i in range(40)]
    # Kill once the first new bytes are stored, and once half the new claims are.
    for prefix, count in (("files/", 2), (".wheelworks/wheels/", 21)):
        proc = subprocess.Popen([sys.executable, "-c", PUBLISHER, url, endpoint or "", *map(str, wheels)])
        while len(store.list(prefix)) < count and proc.poll() is None:
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL, "the publisher finished before it could be killed"
        with serving(store) as base:
            listed = check_index(base)  # every link resolves to bytes of the right hash
        assert "pytally-0.1-py3-none-any.whl" in listed
    result = publish(store, wheels)  # publishing again completes the job
    assert len(result.uploaded) + len(result.unchanged) == 40
    with serving(store) as base:
        assert len(check_index(base)) == 41


@pytest.mark.slow
def test_built_wheels_publish_by_branch_and_install(make_config, cache_dir, pythons, tmp_path, capsys):
    config = make_config()
    assert cli.main(["build", "--config", str(config), "--cache-dir", str(cache_dir), "--only", "cp311-*"]) == 0
    assert cli.main(["publish", "--config", str(config)]) == 0  # main -> the default nightly container
    assert "published 1 new of 1 wheels to nightly" in capsys.readouterr().out
    nightly = open_store(str(tmp_path / "containers" / "nightly"))
    with serving(nightly) as base:
        (name,) = check_index(base)
        assert "manylinux" in name
        python = pip_install(tmp_path / "venv", base + "simple/", "pytally")
        out = subprocess.run([str(python), "-c", "import pytally; print(pytally.sum(1, 2))"],
                             capture_output=True, text=True, check=True, cwd=tmp_path).stdout
        assert out.strip() == "3"
    assert not (tmp_path / "containers" / "release").exists()


def test_release_branch_goes_to_the_release_container(make_config, tmp_path, capsys):
    wheelhouse = tmp_path / "wh"
    make_wheel(wheelhouse, "pytally", "1.0.0")
    config = make_config()
    assert cli.main(["publish", "--config", str(config), "--ref", "v1.0.0", str(wheelhouse)]) == 0
    assert "to release" in capsys.readouterr().out
    assert (tmp_path / "containers" / "release" / "simple" / "pytally" / "index.html").is_file()
    assert cli.main(["publish", "--config", str(config), "--ref", "feature-x", str(wheelhouse)]) == 2
    assert "no container takes builds of 'feature-x'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://host/x", "unsupported scheme 'ftp'"),
        ("s3://", "no bucket"),
    ],
)
def test_bad_container_urls(make_config, tmp_path, url, message, capsys):
    make_wheel(tmp_path / "wh", "pytally", "1.0")
    assert cli.main(["publish", "--config", str(make_config()), "--container", url, str(tmp_path / "wh")]) == 6
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_s3_errors_are_one_line(make_config, seaweedfs, s3_env, tmp_path, monkeypatch, capsys):
    make_wheel(tmp_path / "wh", "pytally", "1.0")
    config = make_config()

    def publish_to(url: str) -> str:
        assert cli.main(["publish", "--config", str(config), "--container", url, str(tmp_path / "wh")]) == 6
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("wheelworks: error: container s3://")
        return err[0]

    monkeypatch.setenv("AWS_ENDPOINT_URL", seaweedfs)
    assert "bucket 'no-such-bucket' does not exist" in publish_to("s3://no-such-bucket/x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong")
    assert "access denied" in publish_to("s3://no-such-bucket/x")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    assert "no S3 credentials found" in publish_to("s3://wheels/x")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    assert "cannot reach the S3 endpoint http://127.0.0.1:9" in publish_to("s3://wheels/x")


def test_serve_command_serves_a_folder_to_pip(tmp_path):
    from tests.helpers import free_port, wait_for_port
    from wheelworks.containers.local import LocalStore

    wheel = make_wheel(tmp_path / "w", "pytally", "4.0")
    publish(LocalStore(tmp_path / "c"), [wheel])
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "wheelworks", "serve", "--root", str(tmp_path / "c"),
                               "--port", str(port)], stdout=subprocess.PIPE, text=True)
    try:
        wait_for_port(port)
        base = f"http://127.0.0.1:{port}/"
        assert check_index(base) == {wheel.name: hashlib.sha256(wheel.read_bytes()).hexdigest()}
        with pytest.raises(Exception, match="404"):
            fetch(base + ".wheelworks/wheels/" + wheel.name + ".json")  # bookkeeping is not served
        python = pip_install(tmp_path / "venv", base + "simple/", "pytally")
        assert subprocess.run([str(python), "-c", "import pytally; print(pytally.__version__)"],
                              capture_output=True, text=True, check=True).stdout.strip() == "4.0"
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert f"at http://127.0.0.1:{port}/" in server.stdout.read()
