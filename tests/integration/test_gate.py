"""Nothing a container, a config or a ref can say gets around the checks: the release
gate under every flag, crafted container state, refs that would be git options."""

from __future__ import annotations

import json
import time
import os
import subprocess
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from tests.helpers import make_wheel, record_for
from wheelworks.config.settings import from_environment
from wheelworks import cli
from wheelworks.config.model import ProjectConfig
from wheelworks.containers import CLAIMS, claim_key, file_key
from wheelworks.containers.local import LocalStore
from wheelworks.shared.errors import ContainerError, SourceError
from wheelworks.containers.publish import publish
from wheelworks.build.source import remote_head, resolve
from wheelworks.shared.cache import Cache

pytestmark = pytest.mark.slow


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("wheelworks: error: "), err
    return err[0]


def test_a_build_that_reused_every_target_releases(make_config, pythons, pytally_repo, cache_dir, pypiserver,
                                                   twine_credentials, tmp_path, capsys):
    """The natural order: build, build again with nothing changed, publish, release."""
    index, packages = pypiserver
    config = make_config(build=f"[build]\npython = {pythons[-1:]!r}\n")
    build = ["build", "--config", str(config), "--cache-dir", str(cache_dir)]
    assert cli.main(build) == 0
    assert cli.main(build) == 0  # every target reused
    assert cli.main(["publish", "--config", str(config), "--container", "release"]) == 0
    records = list((tmp_path / "containers" / "release" / "builds").glob("*/record.json"))
    assert len(records) == 1  # the first build's: the one that tested the wheel
    capsys.readouterr()
    assert cli.main(["release", "--config", str(config), "-w", str(tmp_path / "wh"), "--repository-url", index,
                     "pytally", "0.1.0"]) == 0, capsys.readouterr().err
    assert len(list(packages.iterdir())) == 1


@pytest.mark.parametrize("flags", [[], ["--partial"], ["-n"], ["-n", "--partial"], ["--download-only"]])
def test_no_flag_releases_a_wheel_no_record_tested(flags, pypiserver, twine_credentials, tmp_path, capsys):
    index, packages = pypiserver
    store = LocalStore(tmp_path / "container")
    tested = make_wheel(tmp_path / "b", "pytally", "2.0", "cp311-cp311-manylinux_2_17_x86_64")
    untested = make_wheel(tmp_path / "b", "pytally", "2.0", "cp312-cp312-manylinux_2_17_x86_64")
    reused = make_wheel(tmp_path / "b", "pytally", "2.0", "cp313-cp313-manylinux_2_17_x86_64")
    record = record_for([tested, reused])
    record.targets[1].reused_from, record.targets[1].steps = "20200101-000000000000-abcd", []  # tested nothing
    publish(store, [tested, untested, reused], records=[record])
    code = cli.main(["release", "-u", str(store.root), "-w", str(tmp_path / "wh"), *flags,
                     "--repository-url", index, "pytally", "2.0"])
    assert code == 7
    line = _error_line(capsys)
    assert f"no build record tested {untested.name}, {reused.name}" in line
    assert list(packages.iterdir()) == [] and not (tmp_path / "wh").exists()


def test_one_wheel_under_two_spellings_is_refused(tmp_path):
    store = LocalStore(tmp_path / "container")
    spellings = [_spelled(tmp_path, n, "1.0") for n in ("Synth_Pkg", "synth.pkg")]
    with pytest.raises(ContainerError, match="is one wheel under two file names"):
        publish(store, spellings)
    assert not store.list()  # refused before anything was written
    publish(store, [_spelled(tmp_path, "synth_pkg", "1.0")])
    with pytest.raises(ContainerError, match=r"Synth_Pkg-1.0-py3-none-any.whl \(as synth_pkg-1.0-py3-none-any.whl\)"):
        publish(store, spellings[:1])
    # Another version, or other tags, is another wheel.
    publish(store, [_spelled(tmp_path, "Synth_Pkg", "1.1"), _spelled(tmp_path, "synth.pkg", "1.0", "cp311-cp311-linux_x86_64")])
    with pytest.raises(ContainerError, match="two different files named"):
        publish(store, [make_wheel(tmp_path / d, "other", "1.0", padding=10) for d in ("f", "g")])


def _spelled(tmp_path: Path, name: str, version: str, tag: str = "py3-none-any") -> Path:
    """A wheel of ``name`` (different bytes each time) whose file name spells it that way."""
    wheel = make_wheel(tmp_path / os.urandom(4).hex(), name, version, tag, padding=10)
    return wheel.rename(wheel.with_name(f"{name}-{version}-{tag}.whl"))


def _crafted(store: LocalStore, under: str, **fields) -> Path:
    """A claim written by hand into the container, as an attacker with write access would."""
    path = store.root / claim_key(under)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(fields) if fields else "{not json")
    return path


@pytest.fixture
def published(tmp_path) -> tuple[LocalStore, list[Path]]:
    store = LocalStore(tmp_path / "container")
    wheels = [make_wheel(tmp_path / "b", "pytally", v) for v in ("1.0", "2.0")]
    for wheel in wheels:
        publish(store, [wheel], records=[record_for([wheel])])
    return store, wheels


def _claim_of(store: LocalStore, wheel: Path) -> dict:
    return json.loads((store.root / claim_key(wheel.name)).read_bytes())


@pytest.mark.parametrize("craft", ["escaping name", "other version's bytes", "not json", "wrong shape",
                                   "other project", "record as path"])
def test_crafted_claims_are_refused_before_any_read_write_or_delete(craft, published, tmp_path, capsys):
    store, wheels = published
    old = _claim_of(store, wheels[0])
    name = "pytally-3.0-py3-none-any.whl"
    if craft == "escaping name":
        fields = {**old, "filename": f"..%2F..%2F/../../{name}", "version": "3.0"}
        _crafted(store, "evil", **fields)
    elif craft == "other version's bytes":
        _crafted(store, name, **{**old, "filename": name, "version": "3.0"})
    elif craft == "not json":
        _crafted(store, name)
    elif craft == "wrong shape":
        _crafted(store, name, filename=name, size="big")
    elif craft == "other project":
        _crafted(store, name, **{**old, "filename": name, "project": "numpy", "version": "3.0"})
    else:
        record = next(k for k in store.list("builds/") if k.endswith("record.json"))
        _crafted(store, name, **{**old, "filename": name, "version": "3.0", "path": record})
    before = {k: v for k, v in store.list().items() if not k.startswith(CLAIMS)}

    code = cli.main(["release", "-u", str(store.root), "-w", str(tmp_path / "wh"), "-n", "pytally", "1.0"])
    assert code != 0 and "container" in _error_line(capsys)
    newer = make_wheel(tmp_path / "n", "pytally", "4.0")
    with pytest.raises(ContainerError, match=r"\.wheelworks/wheels/.*(claim|not its own|path|wrong type|says)"):
        publish(store, [newer], keep=1, records=[record_for([newer])])
    assert {k: v for k, v in store.list().items() if not k.startswith(CLAIMS)} == before  # nothing deleted
    assert not (tmp_path / "wh").exists() and not list(tmp_path.glob("**/pytally-3.0-py3-none-any.whl"))


def test_a_record_claiming_another_id_is_not_published(tmp_path, capsys):
    """A CI artifact's record whose id would write under simple/."""
    artifact = tmp_path / "artifact"
    wheel = make_wheel(artifact / "wheelhouse", "pytally", "1.0")
    record = record_for([wheel])
    folder = artifact / "builds" / record.id
    folder.mkdir(parents=True)
    data = json.loads(record.to_json())
    (folder / "record.json").write_text(json.dumps({**data, "id": "../simple/x"}))
    config = tmp_path / "wheelworks.toml"
    config.write_text(f'[project]\nname = "pytally"\nrepo = "{tmp_path}"\n[containers.nightly]\nurl = "c"\n'
                      'branches = ["main"]\n')
    assert cli.main(["publish", "--config", str(config), str(artifact / "wheelhouse"), "--ref", "main"]) == 0
    assert not (tmp_path / "c" / "simple" / "x").exists()
    assert not list((tmp_path / "c").glob("builds/*/record.json"))


@pytest.mark.parametrize("ref", ["--upload-pack=touch {mark};git-upload-pack", "-c", "--output={mark}"])
@pytest.mark.parametrize("where", ["WHEELWORKS_BUILD_COMMIT", "BUILD_COMMIT", "--build-commit", "config"])
def test_a_ref_is_never_a_git_option(ref, where, pytally_repo, tmp_path, monkeypatch, capsys):
    mark = tmp_path / "mark"
    ref = ref.format(mark=mark)
    config = tmp_path / "wheelworks.toml"
    commit = f'build-commit = "{ref}"\n' if where == "config" else ""
    config.write_text(f'[project]\nname = "pytally"\nrepo = "{pytally_repo}"\n{commit}')
    monkeypatch.chdir(tmp_path)
    for var in ("WHEELWORKS_BUILD_COMMIT", "BUILD_COMMIT"):
        monkeypatch.delenv(var, raising=False)
    if where.isupper():
        monkeypatch.setenv(where, ref)
    flag = [f"--build-commit={ref}"] if where == "--build-commit" else []
    assert cli.main(["build", "--config", str(config), "--cache-dir", str(tmp_path / "cache"), *flag]) == 2
    assert "which git would take as an option" in _error_line(capsys)
    assert not mark.exists()


@pytest.mark.parametrize("repo", ["--upload-pack=touch {mark};x://", "ext::sh -c touch% {mark}"])
def test_a_repository_is_never_a_git_option_or_command(repo, tmp_path, capsys):
    mark = tmp_path / "mark"
    config = tmp_path / "wheelworks.toml"
    config.write_text(f'[project]\nname = "x"\nrepo = "{repo.format(mark=mark)}"\n')
    assert cli.main(["build", "--config", str(config), "--cache-dir", str(tmp_path / "cache")]) == 2
    assert "[project] repo" in _error_line(capsys)
    assert not mark.exists()


def test_the_library_checks_refs_too(pytally_repo, tmp_path):
    """For callers of the library who build a ProjectConfig themselves."""
    mark = tmp_path / "mark"
    project = ProjectConfig(name="pytally", repo=str(pytally_repo), build_commit=f"--upload-pack=touch {mark};x")
    with pytest.raises(SourceError, match="git would take as an option"):
        resolve(project, Cache(tmp_path / "cache"), tmp_path / "git.log", os.environ)
    with pytest.raises(SourceError, match="git would take as an option"):
        resolve(replace(project, build_commit="main"), Cache(tmp_path / "cache"), tmp_path / "git.log", os.environ,
                commit="--output=/tmp/x")
    with pytest.raises(SourceError, match="git would take as an option"):
        remote_head(project, tmp_path / "git.log", os.environ)
    assert not mark.exists()


def test_a_wheel_that_is_not_what_its_name_says_is_not_published(tmp_path):
    store = LocalStore(tmp_path / "container")
    wheel = make_wheel(tmp_path / "b", "pytally", "1.0")
    other = tmp_path / "numpy-1.0-py3-none-any.whl"
    other.write_bytes(wheel.read_bytes())  # METADATA says pytally 1.0
    with pytest.raises(ContainerError, match="its METADATA says pytally 1.0, its file name numpy 1.0"):
        publish(store, [other])
    slip = tmp_path / "s" / wheel.name
    slip.parent.mkdir()
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(slip, "w") as out:
        for item in src.infolist():
            out.writestr(item, src.read(item))
        out.writestr("../../etc/evil.py", "")
    with pytest.raises(ContainerError, match="would be installed outside site-packages"):
        publish(store, [slip])
    bomb = tmp_path / "m" / wheel.name
    bomb.parent.mkdir()
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            data = src.read(item)
            out.writestr(item.filename, data + b"X" * (20 << 20) if item.filename.endswith("METADATA") else data)
    assert bomb.stat().st_size < 1 << 20  # a small file that inflates past the cap
    with pytest.raises(ContainerError, match="METADATA is over 16 MiB"):
        publish(store, [bomb])
    assert not store.list()


def _modes(root: Path) -> set[tuple[bool, int]]:
    return {(p.is_dir(), p.stat().st_mode & 0o777) for p in root.rglob("*")}


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_published_files_get_the_mode_the_umask_allows(umask, tmp_path):
    """0644 and 0755 under the usual umask (any web server can serve them), never 0600."""
    old = os.umask(umask)
    try:
        store = LocalStore(tmp_path / "container")
        wheel = make_wheel(tmp_path / "b", "pytally", "1.0")
        publish(store, [wheel], records=[record_for([wheel])])
    finally:
        os.umask(old)
    assert _modes(store.root) == {(False, 0o666 & ~umask), (True, 0o777 & ~umask)}


SECRETS = {"TWINE_PASSWORD": "twine-pass-1", "AWS_SECRET_ACCESS_KEY": "aws-secret-1", "AWS_PROFILE": "prod",
           "WHEELWORKS_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----", "GPG_PASSPHRASE": "gpg-pass-1",
           "GITHUB_TOKEN": "ghs_abcdef", "MY_INDEX_TOKEN": "index-token-1"}


def test_hooks_and_tests_get_no_credentials_but_those_passed_on(make_config, pythons, cache_dir, tmp_path,
                                                                monkeypatch):
    seen = tmp_path / "seen"
    config = make_config(build=f"""
        [build]
        python = {pythons[-1:]!r}
        pass-environment = ["MY_INDEX_TOKEN"]
        before-build = "env | cut -d= -f1 > {seen}.hook"
    """, test=f"""
        [test]
        command = "env | cut -d= -f1 > {seen}.test && python -c 'import pytally'"
    """)
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("WHEELWORKS_TEST_MARK", "1")  # an ordinary variable passes
    assert cli.main(["build", "--config", str(config), "--cache-dir", str(cache_dir), "--rebuild"]) == 0
    for step in ("hook", "test"):
        names = set(Path(f"{seen}.{step}").read_text().split())
        assert "WHEELWORKS_TEST_MARK" in names and "MY_INDEX_TOKEN" in names, step
        assert not names & (set(SECRETS) - {"MY_INDEX_TOKEN"}), (step, names & set(SECRETS))


def test_key_files_url_passwords_and_passphrases_are_masked(tmp_path, monkeypatch, capsys):
    from wheelworks.shared import masking

    key = tmp_path / "key.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n")
    monkeypatch.setenv("WHEELWORKS_PRIVATE_KEY_FILE", str(key))
    monkeypatch.setenv("GPG_PASSPHRASE", "correct battery")
    code = cli.main(["release", "-u", str(tmp_path / "none"), "--repository-url",
                     "http://uploader:hunter22@127.0.0.1:1/", "-n", "pytally", "1.0"])
    assert code != 0
    assert masking.mask(key.read_text()).count("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC") == 0
    assert "correct battery" not in masking.mask("passphrase: correct battery")
    assert masking.mask("see https://user:hunter22@host/simple/") == "see https://user:***@host/simple/"
    out, err = capsys.readouterr()
    assert "hunter22" not in out + err


def test_a_release_sweeps_what_killed_downloads_left(published, tmp_path):
    from wheelworks.release import upload as release
    from wheelworks.shared.atomic import PARTIAL
    from wheelworks.containers.client import ContainerIndex

    store, _ = published
    wheelhouse = tmp_path / "wh"
    wheelhouse.mkdir()
    dead, live = wheelhouse / f"{PARTIAL}dead", wheelhouse / f"{PARTIAL}live"
    dead.write_bytes(b"x" * 1000)
    live.write_bytes(b"x")
    os.utime(dead, (0, 0))  # a killed release's, long ago; the other may be a live one's
    index = ContainerIndex(store)
    release.download(release.find(index, "pytally", "1.0"), index, wheelhouse)
    assert not dead.exists() and live.exists()
    assert sorted(p.name for p in wheelhouse.iterdir()) == sorted([live.name, "pytally-1.0-py3-none-any.whl"])


def test_serve_never_serves_bookkeeping_through_a_symlink(published):
    import urllib.error
    import urllib.request

    from tests.helpers import serving

    store, wheels = published
    claim = store.root / claim_key(wheels[0].name)
    for link, target in (("files/peek.json", claim), ("peek", store.root / ".wheelworks")):
        (store.root / link).symlink_to(target)
    with serving(store) as base:
        for path in ("files/peek.json", f"peek/wheels/{wheels[0].name}.json", ".wheelworks/"):
            with pytest.raises(urllib.error.HTTPError) as info:
                urllib.request.urlopen(base + path, timeout=10)
            assert info.value.code == 404, path
        assert urllib.request.urlopen(base + "simple/pytally/", timeout=10).status == 200


def test_serve_closes_idle_connections(published, monkeypatch):
    import socket
    import time

    from tests.helpers import serving
    from wheelworks.containers import serve

    monkeypatch.setattr(serve, "IDLE_TIMEOUT", 0.5)
    store, _ = published
    with serving(store) as base:
        port = int(base.rsplit(":", 1)[1].strip("/"))
        with socket.create_connection(("127.0.0.1", port)) as idle:
            idle.settimeout(10)
            start = time.monotonic()
            assert idle.recv(1) == b""  # the server hung up on a client that sent nothing
            assert time.monotonic() - start < 5


def _indexed(store: LocalStore, project: str = "pytally") -> list[str]:
    page = store.get(f"simple/{project}/index.json")
    return sorted(f["filename"] for f in json.loads(page)["files"]) if page else []


def _links_resolve(store: LocalStore) -> bool:
    """Every file a page links is there (pip gets no 404)."""
    for key in store.list("simple/"):
        if key.endswith("index.json") and key.count("/") == 2:
            for f in json.loads(store.get(key))["files"]:
                if store.size(f["url"].removeprefix("../../")) is None:
                    return False
    return True


@pytest.mark.parametrize("killed", ["before the index", "before the marker"])
def test_a_rerun_finishes_an_interrupted_publish(killed, tmp_path, monkeypatch):
    from wheelworks.containers import state
    from wheelworks.containers import publish as publish_mod

    store = LocalStore(tmp_path / "container")
    wheels = [make_wheel(tmp_path / "b", "pytally", "1.0", t) for t in ("cp311-cp311-linux_x86_64", "py3-none-any")]
    real_put = LocalStore.put

    def dies(self, key, *args, **kwargs):
        if key.startswith(".wheelworks/complete/"):
            raise KeyboardInterrupt
        return real_put(self, key, *args, **kwargs)

    with monkeypatch.context() as patch:
        if killed == "before the index":
            patch.setattr(publish_mod, "rebuild_index", lambda store: (_ for _ in ()).throw(KeyboardInterrupt()))
        else:
            patch.setattr(LocalStore, "put", dies)
        with pytest.raises(KeyboardInterrupt):
            publish(store, wheels)
    assert _indexed(store) == []  # claimed, not yet indexed
    result = publish(store, wheels)  # the rerun: nothing new to upload, but it finishes the job
    assert result.uploaded == [] and _indexed(store) == sorted(w.name for w in wheels)
    assert state.read_state(store).complete[("pytally", "1.0")]
    assert state.index_current(store)


def test_a_prune_killed_before_its_index_is_finished_without_404s(tmp_path, monkeypatch):
    from wheelworks.containers import publish as publish_mod
    from wheelworks.containers.state import sweep

    store = LocalStore(tmp_path / "container")
    old, new = (make_wheel(tmp_path / v, "pytally", v) for v in ("1.0", "2.0"))
    publish(store, [old], keep=1)
    with monkeypatch.context() as patch:
        patch.setattr(publish_mod, "rebuild_index", lambda store: (_ for _ in ()).throw(KeyboardInterrupt()))
        with pytest.raises(KeyboardInterrupt):
            publish(store, [new], keep=1)  # the claim of 1.0 is gone, the pages still list it
    assert _indexed(store) == [old.name]
    assert publish_mod.plan(store, [new], keep=1).reindex
    result = publish(store, [new], keep=1)  # the rerun: nothing new, the index rebuilt
    assert result.uploaded == [] and _indexed(store) == [new.name]
    sweep(store, time.time() + 7200)  # an hour later, the 1.0 bytes no claim names go
    assert _links_resolve(store) and not publish_mod.plan(store, [new], keep=1).reindex


@pytest.mark.skipif(os.geteuid() != 0 or not Path("/usr/bin/setpriv").exists(),
                    reason="runs the static server as another user: needs root and setpriv (util-linux)")
def test_a_folder_container_is_served_by_a_plain_static_server_as_another_user(tmp_path):
    """What nginx or a CDN sync would do: serve the files as they are, as a user who owns none of them."""
    import shutil
    import sys
    import tempfile

    from tests.helpers import free_port, pip_install, wait_for_port

    old = os.umask(0o022)
    site = Path(tempfile.mkdtemp(prefix="wheelworks-site-", dir="/tmp"))  # outside pytest's private folder
    try:
        site.chmod(0o755)
        store = LocalStore(site / "container")
        wheel = make_wheel(tmp_path / "b", "pytally", "1.0")
        publish(store, [wheel], records=[record_for([wheel])])
        port = free_port()
        server = subprocess.Popen(
            ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "/usr/bin/python3", "-m", "http.server",
             "--bind", "127.0.0.1", "--directory", str(store.root), str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_port(port)
            python = pip_install(tmp_path / "venv", f"http://127.0.0.1:{port}/simple/", "pytally", interpreter=sys.executable)
            out = subprocess.run([str(python), "-c", "import pytally; print(pytally.__version__)"],
                                 capture_output=True, text=True, check=True).stdout
            assert out.strip() == "1.0"
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        os.umask(old)
        shutil.rmtree(site, ignore_errors=True)


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB filesystem (tmpfs), as a full disk at the moment a publish writes; yields
    its folder and a function that makes it 16 MiB (the user freeing space)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem needs root")
    folder = tmp_path / "small"
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)], check=True)
    try:
        yield folder, lambda: subprocess.run(["mount", "-o", "remount,size=16m", str(folder)], check=True)
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def _valid(store: LocalStore) -> None:
    """What pip sees is whole: every page parses and every link resolves."""
    for key in store.list("simple/"):
        if key.endswith(".json"):
            json.loads(store.get(key))
    assert _links_resolve(store)


FULL_AT: list[str] = []  # the writes a full disk stopped, over the cases (tmpfs gives each file 4 KiB pages)


# A new version with its record reaches the disk's end at its claim, marker, record, page or
# dashboard; a new project without one, at its index pages (replacing a file needs no room).
@pytest.mark.parametrize("second", ["pytally with a record", "another project"])
@pytest.mark.parametrize("fill", range(0, 40 * 1024, 4096))
def test_a_full_disk_at_any_write_leaves_the_container_valid_and_the_rerun_completes(fill, second, small_disk, tmp_path,
                                                                                     full=FULL_AT):
    folder, free_space = small_disk
    store = LocalStore(folder / "container")
    first = make_wheel(tmp_path / "a", "pytally", "1.0")
    publish(store, [first], keep=1, records=[record_for([first])])
    project = "pytally" if "record" in second else "other"
    # Bytes that leave about `fill` bytes free: the disk fills at a different write each time.
    left = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
    wheel = make_wheel(tmp_path / "b", project, "2.0", padding=max(left - fill - 8192, 0))
    records = [record_for([wheel])] if project == "pytally" else []
    try:
        publish(store, [wheel], keep=1, records=records)
    except ContainerError as exc:
        assert "\n" not in str(exc) and "No space left" in str(exc)
        full.append(str(exc))
    _valid(store)
    free_space()
    publish(store, [wheel], keep=1, records=records)  # the rerun completes what the full disk stopped
    _valid(store)
    assert _indexed(store, project) == [wheel.name] and _indexed(store) == [(wheel if records else first).name]
    assert all((store.root / "builds" / r.id / "record.json").is_file() for r in records)


def test_the_full_disk_cases_stopped_many_different_writes():
    if not FULL_AT:
        pytest.skip("the full-disk cases did not run (not root?)")
    stopped = {line.split(": cannot write ", 1)[1].split(":")[0].split("/")[0] for line in FULL_AT}
    assert {".wheelworks", "builds", "simple"} <= stopped, FULL_AT


def test_a_redirect_loop_or_an_oversized_page_is_one_line(tmp_path, monkeypatch, capsys):
    import http.server
    import threading

    from wheelworks.containers import client

    class Loop(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the base class's name
            if self.path.startswith("/big"):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"files": [' + b" " * (2 << 20) + b"]}")
                return
            self.send_response(302)
            self.send_header("Location", self.path)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Loop)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(client, "PAGE_CAP", 1 << 20)  # the same check as at 64 MiB, on a page of 2 MiB
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        assert cli.main(["release", "-u", f"{base}/simple/x/", "-n", "x", "1.0"]) == 7
        assert "HTTP 302" in _error_line(capsys)
        assert cli.main(["release", "-u", f"{base}/big/index.json", "-n", "x", "1.0"]) == 7
        assert "the page is over 1 MiB" in _error_line(capsys)
    finally:
        server.shutdown()
        server.server_close()


def test_a_subdir_the_commit_lacks_is_named(pytally_repo, tmp_path, capsys):
    config = tmp_path / "wheelworks.toml"
    config.write_text(f'[project]\nname = "pytally"\nrepo = "{pytally_repo}"\nsubdir = "nope"\n[build]\npython = ["3.12"]\n'
                      "missing-python = \"warn\"\n")
    assert cli.main(["build", "--config", str(config), "--cache-dir", str(tmp_path / "cache")]) == 3
    err = capsys.readouterr().err  # after the progress lines, one error line
    assert "Traceback" not in err
    assert "[project] subdir: 'nope' is not a folder of the source at" in err.strip().splitlines()[-1]


def test_s3_objects_say_how_long_a_cdn_may_keep_them(seaweedfs, s3_env):
    import boto3

    from wheelworks.containers import open_store

    prefix = f"cc-{os.urandom(4).hex()}"
    store = open_store(f"s3://wheels/{prefix}", endpoint=seaweedfs, credentials=from_environment(os.environ).s3)
    wheel_key = file_key("a" * 64, "x-1.0-py3-none-any.whl")
    for key in (wheel_key, "simple/x/index.html", "simple/index.json", "builds/b/record.json", "index.html"):
        store.put(key, b"data", "text/plain")
    s3 = boto3.client("s3", endpoint_url=seaweedfs, region_name="us-east-1")

    def cache_control(key: str) -> str:
        return s3.head_object(Bucket="wheels", Key=f"{prefix}/{key}").get("CacheControl", "")

    assert "immutable" in cache_control(wheel_key) and "max-age=31536000" in cache_control(wheel_key)
    for key in ("simple/x/index.html", "simple/index.json", "builds/b/record.json", "index.html"):
        assert cache_control(key) == "no-cache", key


def test_targets_starting_together_share_the_compiler_links(tmp_path):
    """Many threads making ccache's links at once, as targets on a cold cache do."""
    import shutil
    import threading

    from wheelworks.build import tools

    ccache = shutil.which("ccache") or "/usr/bin/true"
    errors: list[BaseException] = []
    start = threading.Barrier(16)

    def make() -> None:
        try:
            start.wait()
            tools.ccache_environment(Path(ccache), tmp_path, tmp_path / "src", tmp_path / "stats.log", os.environ)
        except BaseException as exc:  # noqa: BLE001 - any error of any thread fails the test
            errors.append(exc)

    threads = [threading.Thread(target=make) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and (tmp_path / "ccache" / "bin" / "cc").is_symlink()
