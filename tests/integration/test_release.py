"""Releases from a container served over HTTP to a real pypiserver, with real gpg."""

from __future__ import annotations

import hashlib
import http.server
import json
import subprocess
import threading
from functools import partial
from pathlib import Path

import pytest

from tests.helpers import make_wheel, pip_install, serving, record_for
from wheelworks import cli
from wheelworks.containers.local import LocalStore
from wheelworks.containers.publish import publish

TAGS = ["py3-none-any", "cp311-cp311-manylinux_2_17_x86_64", "cp311-cp311-musllinux_1_2_x86_64",
        "cp311-cp311-macosx_11_0_arm64", "cp311-cp311-win_amd64"]


@pytest.fixture
def container(tmp_path: Path) -> LocalStore:
    """pytally 1.0 on five platforms, 1.0.1 and 1.0rc1 beside it, and the confusable pytally-ext 1.0."""
    built = tmp_path / "built"
    wheels = [make_wheel(built, "pytally", "1.0", tag) for tag in TAGS]
    wheels += [make_wheel(built, "pytally", v, TAGS[1]) for v in ("1.0.1", "1.0rc1")]
    wheels += [make_wheel(built, "pytally-ext", "1.0", TAGS[1])]
    store = LocalStore(tmp_path / "container")
    publish(store, wheels, records=[record_for(wheels)])
    return store


def _release(*args: str) -> int:
    return cli.main(["release", *args])


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("wheelworks: error: "), err
    return err[0]


def test_release_fetches_only_that_project_version_and_platform(container, pypiserver, twine_credentials, tmp_path, capsys):
    index, packages = pypiserver
    wheelhouse = tmp_path / "wh"
    with serving(container) as base:
        assert _release("-u", base, "-w", str(wheelhouse), "-t", "manylinux", "--repository-url", index, "PyTally", "1.0") == 0
        out = capsys.readouterr().out
        assert sorted(p.name for p in wheelhouse.iterdir()) == ["pytally-1.0-cp311-cp311-manylinux_2_17_x86_64.whl"]
        assert "downloaded  uploaded" in out
        assert sorted(p.name for p in packages.iterdir()) == ["pytally-1.0-cp311-cp311-manylinux_2_17_x86_64.whl"]

        # Again, with every platform: the manylinux wheel is neither fetched nor uploaded twice.
        assert _release("-u", base, "-w", str(wheelhouse), "--repository-url", index, "pytally", "1.0") == 0
        lines = capsys.readouterr().out.splitlines()
        assert sum("present" in line and "already on the index" in line for line in lines) == 1
        assert sum("downloaded  uploaded" in line for line in lines) == 4
        assert sorted(p.name for p in packages.iterdir()) == sorted(f"pytally-1.0-{t}.whl" for t in TAGS)
        assert _release("-u", base, "-w", str(wheelhouse), "--repository-url", index, "pytally", "1.0") == 0
        assert capsys.readouterr().out.count("already on the index") == 5

    python = pip_install(tmp_path / "venv", index + "simple/", "pytally==1.0", pre=False)
    version = subprocess.run([str(python), "-c", "import pytally; print(pytally.__version__)"],
                             capture_output=True, text=True, check=True).stdout
    assert version.strip() == "1.0"


def test_corrupt_file_stops_the_release_before_any_upload(container, pypiserver, twine_credentials, tmp_path, capsys):
    index, packages = pypiserver
    (blob,) = [k for k in container.list("files/") if k.endswith("win_amd64.whl")]
    (container.root / blob).write_bytes(b"corrupted")
    with serving(container) as base:
        assert _release("-u", base, "-w", str(tmp_path / "wh"), "--repository-url", index, "pytally", "1.0") == 7
    line = _one_error_line(capsys)
    assert "pytally-1.0-cp311-cp311-win_amd64.whl: sha256 mismatch" in line
    assert list(packages.iterdir()) == []
    assert not (tmp_path / "wh" / "pytally-1.0-cp311-cp311-win_amd64.whl").exists()
    assert not [p for p in (tmp_path / "wh").iterdir() if p.name.endswith(".part")]


def test_signed_release_verifies_with_gpg(container, pypiserver, twine_credentials, gpg_key, tmp_path, capsys):
    index, packages = pypiserver
    wheelhouse = tmp_path / "wh"
    with serving(container) as base:
        assert _release("-u", base, "-w", str(wheelhouse), "-t", "win", "-s", "-i", gpg_key,
                        "--repository-url", index, "pytally", "1.0") == 0
    wheel = wheelhouse / "pytally-1.0-cp311-cp311-win_amd64.whl"
    verified = subprocess.run(["gpg", "--verify", f"{wheel}.asc", str(wheel)], capture_output=True, text=True)
    assert verified.returncode == 0 and "Good signature" in verified.stderr
    assert "signed pytally-1.0-cp311-cp311-win_amd64.whl.asc" in capsys.readouterr().out
    assert (packages / wheel.name).is_file()


@pytest.mark.parametrize("form", ["path", "file-url"])
def test_a_local_container_folder_is_read_directly(container, tmp_path, form, capsys):
    url = str(container.root) if form == "path" else container.root.as_uri()
    assert _release("-u", url, "-w", str(tmp_path / "wh"), "--download-only", "-t", "win", "pytally", "1.0") == 0
    assert [p.name for p in (tmp_path / "wh").iterdir()] == ["pytally-1.0-cp311-cp311-win_amd64.whl"]
    assert "downloaded  not uploaded" in capsys.readouterr().out


def test_dry_run_writes_nothing(container, tmp_path, capsys):
    with serving(container) as base:
        assert _release("-u", base, "-w", str(tmp_path / "wh"), "-n", "pytally", "1.0") == 0
    out = capsys.readouterr().out
    assert out.count("would download") == 5 and "would upload to pypi" in out
    assert not (tmp_path / "wh").exists()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_plain_file_listing_works_like_a_cdn_page(tmp_path, pypiserver, twine_credentials, capsys):
    index, packages = pypiserver
    cdn = tmp_path / "site" / "container"
    wheels = [make_wheel(cdn, "pytally", "2.0", TAGS[0]), make_wheel(cdn, "pytally", "2.1", TAGS[0])]
    links = "".join(f'<a href="{w.name}#sha256={_sha(w)}">{w.name}</a>\n' for w in wheels)
    (cdn / "index.html").write_text(links + '<a href="../">up</a>')
    with _static(tmp_path / "site") as base:
        # No build records beside a CDN listing: nothing is released, whatever the flags.
        for flags in ([], ["--partial"], ["--partial", "-n"], ["--download-only"]):
            assert _release("-u", base + "container/index.html", "-w", str(tmp_path / "wh"), *flags,
                            "--repository-url", index, "pytally", "2.0") == 7
            assert "no build record tested pytally-2.0-py3-none-any.whl" in _one_error_line(capsys)
        assert list(packages.iterdir()) == [] and not (tmp_path / "wh").exists()
        _records_beside(cdn, wheels[:1])  # as a published container serves them
        assert _release("-u", base + "container/index.html", "-w", str(tmp_path / "wh"),
                        "--repository-url", index, "pytally", "2.0") == 0
    assert [p.name for p in packages.iterdir()] == ["pytally-2.0-py3-none-any.whl"]


def _records_beside(folder: Path, wheels: list[Path]) -> None:
    """A build record that tested ``wheels``, where a served container keeps its records."""
    record = record_for(wheels)
    key = f"builds/{record.id}/record.json"
    (folder / key).parent.mkdir(parents=True)
    (folder / key).write_text(record.to_json())
    (folder / "builds" / "index.json").write_text(json.dumps({"records": [key]}))


@pytest.mark.parametrize(("href", "message"), [
    ("../elsewhere/pytally-2.0-py3-none-any.whl", "points outside the container"),
    ("/tmp/pytally-2.0-py3-none-any.whl", "points outside the container"),
    ("file:///etc/pytally-2.0-py3-none-any.whl", "points outside the container"),
    ("%2e%2e/elsewhere/pytally-2.0-py3-none-any.whl", "points outside the container"),
    ("%2E%2E/%2E%2E/%2E%2E/%2E%2E/elsewhere/pytally-2.0-py3-none-any.whl", "points outside the container"),
    ("sub/%2e%2e/%2e%2e/elsewhere/pytally-2.0-py3-none-any.whl", "points outside the container"),
    ("..%2F..%2Fpytally-2.0-py3-none-any.whl", "file name '../../pytally-2.0-py3-none-any.whl' is a path"),
])
@pytest.mark.parametrize("source", ["http", "file"])
def test_listing_with_links_outside_the_container_is_refused(tmp_path, href, message, source, capsys):
    cdn = tmp_path / "site" / "container"
    outside = make_wheel(tmp_path / "site" / "elsewhere", "pytally", "2.0")
    cdn.mkdir(parents=True)
    (cdn / "index.html").write_text(f'<a href="{href}#sha256={_sha(outside)}">pytally-2.0-py3-none-any.whl</a>')
    before = sorted(p for p in tmp_path.rglob("*"))
    with _static(tmp_path / "site") as base:
        page = base + "container/index.html" if source == "http" else (cdn / "index.html").as_uri()
        assert _release("-u", page, "-w", str(tmp_path / "wh"), "--partial", "--download-only", "pytally", "2.0") == 7
    assert message in _one_error_line(capsys)
    assert sorted(p for p in tmp_path.rglob("*")) == before  # nothing written anywhere


def test_links_without_a_hash_or_with_two_hashes_are_refused(tmp_path, pypiserver, twine_credentials, capsys):
    index, packages = pypiserver
    cdn = tmp_path / "site" / "container"
    wheel = make_wheel(cdn, "pytally", "2.0")
    page = cdn / "index.html"
    with _static(tmp_path / "site") as base:
        page.write_text(f'<a href="{wheel.name}">{wheel.name}</a>')
        assert _release("-u", base + "container/index.html", "-w", str(tmp_path / "wh"), "--partial",
                        "--repository-url", index, "pytally", "2.0") == 7
        assert f"{wheel.name} has no sha256" in _one_error_line(capsys)
        page.write_text(f'<a href="{wheel.name}#sha256={_sha(wheel)}">x</a><a href="./{wheel.name}#sha256={"0" * 64}">y</a>')
        assert _release("-u", base + "container/index.html", "-w", str(tmp_path / "wh"), "--partial",
                        "--repository-url", index, "pytally", "2.0") == 7
        assert "listed with two different sha256s" in _one_error_line(capsys)
        # Twelve links to one file (same hash) are one file, downloaded once.
        page.write_text("".join(f'<a href="{"./" * i}{wheel.name}#sha256={_sha(wheel)}">{i}</a>' for i in range(1, 13)))
        _records_beside(cdn, [wheel])
        assert _release("-u", base + "container/index.html", "-w", str(tmp_path / "wh"), "--partial",
                        "--repository-url", index, "pytally", "2.0") == 0
    assert [p.name for p in packages.iterdir()] == [wheel.name]
    assert [p.name for p in (tmp_path / "wh").iterdir()] == [wheel.name]


def test_a_different_file_already_on_the_index_stops_the_release(container, pypiserver, twine_credentials, tmp_path,
                                                                 capsys):
    index, packages = pypiserver
    impostor = make_wheel(tmp_path / "impostor", "pytally", "1.0", TAGS[4], padding=10)
    (packages / impostor.name).write_bytes(impostor.read_bytes())
    with serving(container) as base:
        assert _release("-u", base, "-w", str(tmp_path / "wh"), "--repository-url", index, "pytally", "1.0") == 7
    line = _one_error_line(capsys)
    assert f"already has a different {impostor.name}" in line
    assert sorted(p.name for p in packages.iterdir()) == [impostor.name]  # nothing else went up


def _gated(make_config, tmp_path, pythons_selected):
    config = make_config(build=f"[build]\npython = {pythons_selected!r}\n")
    return config, LocalStore(config.parent / "containers" / "release")


def test_release_gate_wants_every_selected_target_tested(make_config, pytally_repo, pypiserver, twine_credentials,
                                                         tmp_path, capsys):
    index, packages = pypiserver
    config, store = _gated(make_config, tmp_path, ["3.11", "3.12"])
    commit = subprocess.run(["git", "-C", str(pytally_repo), "rev-parse", "v0.1.0^{commit}"],
                            capture_output=True, text=True, check=True).stdout.strip()
    cp311 = make_wheel(tmp_path / "b", "pytally", "0.1.0", "cp311-cp311-manylinux_2_17_x86_64")
    publish(store, [cp311], records=[record_for([cp311], commit)])
    args = ["--config", str(config), "-w", str(tmp_path / "wh"), "--repository-url", index, "pytally", "0.1.0"]

    assert _release(*args) == 7
    line = _one_error_line(capsys)
    assert "refused: no wheel for cp312-manylinux_x86_64" in line and "--partial" in line
    assert list(packages.iterdir()) == []
    assert _release("-n", *args) == 7  # the dry run's verdict is the real run's
    out, err = capsys.readouterr()
    assert "would upload" in out and "release gate: no wheel for cp312-manylinux_x86_64" in out
    assert err.count("\n") == 1 and "refused: no wheel for cp312-manylinux_x86_64" in err
    assert _release("-n", "--partial", *args) == 0
    assert "--partial: releasing what is there" in capsys.readouterr().out
    assert list(packages.iterdir()) == [] and not (tmp_path / "wh").exists()
    assert _release("--partial", *args) == 0
    assert "--partial: releasing what is there" in capsys.readouterr().out
    assert [p.name for p in packages.iterdir()] == [cp311.name]


def test_release_gate_refuses_bytes_or_commits_no_build_tested(make_config, pypiserver, twine_credentials, tmp_path,
                                                               capsys):
    index, packages = pypiserver
    config, store = _gated(make_config, tmp_path, ["3.11"])
    built = make_wheel(tmp_path / "b", "pytally", "0.1.0", "cp311-cp311-manylinux_2_17_x86_64")
    record = record_for([built], "0" * 40)
    publish(store, [built], records=[record])
    args = ["--config", str(config), "-w", str(tmp_path / "wh"), "--partial", "--repository-url", index,
            "pytally", "0.1.0"]
    assert _release(*args) == 7  # the record's commit is not the one tag v0.1.0 names
    assert "not the release tag's commit" in _one_error_line(capsys)

    other = make_wheel(tmp_path / "c", "pytally", "0.1.0", "cp311-cp311-manylinux_2_17_x86_64", padding=10)
    record.targets[0].sha256 = _sha(other)  # the record tested other bytes than those published
    store.put(f"builds/{record.id}/record.json", record.to_json().encode(), "application/json")
    assert _release(*args) == 7
    assert f"{built.name} is not the bytes build {record.id} tested" in _one_error_line(capsys)
    assert list(packages.iterdir()) == []


def test_bad_inputs_are_one_line(container, pypiserver, twine_credentials, tmp_path, monkeypatch, capsys):
    index, packages = pypiserver
    with serving(container) as base:
        assert _release("-u", base, "-w", str(tmp_path / "wh"), "pytally", "9.9") == 7
        assert "no wheels of pytally 9.9 in" in _one_error_line(capsys)
        assert _release("-u", base, "-w", str(tmp_path / "wh"), "-t", "musllinux", "PyTally_Ext", "1.0") == 7
        assert "no wheels of PyTally_Ext 1.0 for musllinux" in _one_error_line(capsys)

        monkeypatch.setenv("TWINE_PASSWORD", "wrong")
        assert _release("-u", base, "-w", str(tmp_path / "wh"), "--repository-url", index, "pytally-ext", "1.0") == 7
        line = _one_error_line(capsys)
        assert "failed: 403" in line and "check the credentials" in line and "wrong" not in line
        assert list(packages.iterdir()) == []
    assert _release("-u", "http://127.0.0.1:9/", "-w", str(tmp_path / "wh"), "pytally", "1.0") == 7
    assert "cannot read index http://127.0.0.1:9/" in _one_error_line(capsys)


def test_default_index_is_the_release_container(make_config, pypiserver, twine_credentials, tmp_path, capsys):
    index, packages = pypiserver
    config = make_config()
    wheel = make_wheel(tmp_path / "b", "pytally", "3.0")
    publish(LocalStore(tmp_path / "containers" / "release"), [wheel], records=[record_for([wheel])])
    # A pure wheel serves no cp3X-manylinux target: the gate lets it go only with --partial.
    assert _release("--config", str(config), "-w", str(tmp_path / "wh"), "--partial", "--repository-url", index,
                    "pytally", "3.0") == 0
    assert [p.name for p in packages.iterdir()] == ["pytally-3.0-py3-none-any.whl"]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


class _static:
    """A plain static file server on 127.0.0.1, like a CDN in front of a storage container."""

    def __init__(self, root: Path) -> None:
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))

    def __enter__(self) -> str:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
