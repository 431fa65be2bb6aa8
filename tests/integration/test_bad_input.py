"""Every bad input ends in one line naming what is wrong, a non-zero exit, and no traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from wheelworks import cli
from tests.conftest import FIXTURES
from tests.unit.config.test_model import BAD_CONFIGS


def _fails(capsys, config: Path, cache_dir: Path, *extra: str) -> tuple[int, str]:
    code = cli.main(["build", "--config", str(config), "--cache-dir", str(cache_dir), *extra])
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0
    assert err and err[-1].startswith("wheelworks: error: ")
    assert not any("Traceback" in line for line in err)
    return code, err[-1]


def test_unknown_key_suggests_the_right_one(make_config, cache_dir, capsys):
    config = make_config(build='[build]\npyhton = ["3.12"]\n')
    code, line = _fails(capsys, config, cache_dir)
    assert code == 2
    assert line == "wheelworks: error: wheelworks.toml: [build]: unknown key 'pyhton' (did you mean 'python'?)"


def test_missing_field(make_config, cache_dir, capsys):
    config = make_config(project='[project]\nrepo = "x"\n')
    _, line = _fails(capsys, config, cache_dir)
    assert "[project]: missing required key 'name'" in line


def test_wrong_type(make_config, cache_dir, capsys):
    config = make_config(test="[test]\ncommand = 3\n")
    _, line = _fails(capsys, config, cache_dir)
    assert "[test]: 'command' must be a string, not 3" in line


def test_missing_config_file(tmp_path, cache_dir, capsys):
    _, line = _fails(capsys, tmp_path / "nope.toml", cache_dir)
    assert "nope.toml: no such config file" in line


@pytest.mark.slow
def test_wrong_sha256_stops_before_building(make_config, cache_dir, libtally_tarball, tmp_path, capsys):
    tarball, _ = libtally_tarball
    config = make_config(library=f"""
        [[library]]
        name = "libtally"
        version = "1.2.3"
        url = "{tarball.as_uri()}"
        sha256 = "{'0' * 64}"
        system = "cmake"
    """)
    code, line = _fails(capsys, config, cache_dir)
    assert code == 4
    assert f"library 'libtally': sha256 mismatch for {tarball.as_uri()}: expected {'0' * 64}, got" in line
    assert not (tmp_path / "wheelhouse").exists()


@pytest.mark.slow
def test_unknown_ref(make_config, cache_dir, capsys):
    code, line = _fails(capsys, make_config(), cache_dir, "--build-commit", "no-such-branch")
    assert code == 3
    assert "build-commit: unknown ref 'no-such-branch' in" in line


@pytest.mark.slow
def test_broken_library_build_names_the_library_and_its_log(make_config, cache_dir, tmp_path, capsys):
    broken = shutil.copytree(FIXTURES / "libtally", tmp_path / "libbroken")
    (broken / "tally.c").write_text("this is not C;\n")
    config = make_config(library=f"""
        [[library]]
        name = "libbroken"
        version = "0.0.1"
        path = "{broken}"
        system = "cmake"
    """)
    code, line = _fails(capsys, config, cache_dir)
    assert code == 4
    assert "library 'libbroken' failed to build: command failed with exit code" in line
    log = Path(line.rsplit("see ", 1)[1].rstrip(")"))
    assert "this is not C" in log.read_text()
    assert not list((cache_dir / "libraries").glob("libbroken-*[0-9a-f]"))  # no half-built prefix left


def test_missing_interpreter(make_config, cache_dir, capsys):
    config = make_config(build='[build]\npython = ["3.99"]\n')
    code, line = _fails(capsys, config, cache_dir)
    assert code == 5
    assert "no interpreter found for python3.99" in line
    assert not (config.parent / "builds").exists()


def test_selection_matching_nothing(make_config, cache_dir, capsys):
    _, line = _fails(capsys, make_config(), cache_dir, "--only", "pp*")
    assert "no target selected" in line


# The battery: every bad value a user, a CI environment or a crafted container can give,
# through the CLI, ends in one line naming it, a non-zero exit, and no traceback.

def _one_line(capsys, code: int) -> str:
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert code != 0, (out, err)
    assert len(lines) == 1 and lines[0].startswith(("wheelworks: error: ", "wheelworks ")), lines
    assert "Traceback" not in out + err
    return lines[0]


@pytest.mark.parametrize(("text", "message"), BAD_CONFIGS)
def test_battery_config_values(text, message, tmp_path, capsys):
    config = tmp_path / "wheelworks.toml"
    config.write_text(text)
    assert message in _one_line(capsys, cli.main(["build", "--list", "--config", str(config)]))


PYPROJECTS = [
    ('tool = 1\n[project]\nname = "x"\n', "no [tool.wheelworks] table"),
    ('[project]\nname = "x"\n[tool]\nwheelworks = 1\n', "tool.wheelworks must be a table"),
    ('project = 3\n[tool.wheelworks.build]\npython = ["3.12"]\n', "missing required key 'name'"),
    ('[tool.wheelworks]\nbuild = 7\n', "'build' must be a table"),
    (b'\xff\xfe[project]\n', "not UTF-8 text"),
]


@pytest.mark.parametrize(("text", "message"), PYPROJECTS)
def test_battery_pyproject_tables(text, message, tmp_path, capsys):
    path = tmp_path / "pyproject.toml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    assert message in _one_line(capsys, cli.main(["build", "--list", "--config", str(path)]))


BASE_TOML = '[project]\nname = "pytally"\nrepo = "."\n'
COMMANDS = [
    # (argv, environment, message)
    (["watch", "--interval", "-5"], {}, "-5 is not a positive number of seconds"),
    (["watch", "--interval", "nan"], {}, "is not a positive number of seconds"),
    (["watch", "--interval", "inf"], {}, "is not a positive number of seconds"),
    (["build", "-j", "0"], {}, "0 is not at least 1"),
    (["build", "-j", "two"], {}, "'two' is not a whole number"),
    (["build", "--list", "--build-commit=--output=x"], {}, "--build-commit '--output=x' starts with '-'"),
    (["build", "--list", "--build-commit=a..b"], {}, "is not a valid git ref name"),
    (["build", "--list"], {"WHEELWORKS_BUILD_COMMIT": "-c"}, "WHEELWORKS_BUILD_COMMIT = '-c' starts with '-'"),
    (["build", "--list"], {"BUILD_COMMIT": "x:y"}, "BUILD_COMMIT = 'x:y' is not a valid git ref name"),
    (["serve", "--root", "nonexistent", "--port", "0"], {}, "is not a container"),
    (["serve", "--root", "containers/release", "--port", "70000"], {}, "--port 70000: not a port number"),
    (["release", "-u", "http://[::1/simple/", "x", "1.0"], {}, "not a valid URL"),
    (["release", "-u", "http://127.0.0.1:bad/", "x", "1.0"], {}, "not a valid URL"),
    (["release", "-u", "ftp://example.invalid/simple/", "x", "1.0"], {}, "cannot read index"),
    (["release", "-u", "nonexistent-folder", "x", "1.0"], {}, "cannot read index"),
    (["release", "-u", "s3://", "x", "1.0"], {}, "no bucket"),
    (["release", "-u", "s3://b/p", "x", "1.0"], {"AWS_PROFILE": "nosuchprofile"}, "nosuchprofile"),
    (["release", "-u", "s3://b/p", "x", "1.0"], {"AWS_REGION": "no/such region"}, "region 'no/such region'"),
    (["release", "-u", "s3://b/p", "x", "1.0"], {"AWS_ENDPOINT_URL": "not a url"}, "Invalid endpoint: not a url"),
    (["release", "-u", "containers/release", "x", "not-a-version"], {}, "is not a valid version"),
    (["publish", "no-such-build"], {}, "no build matching 'no-such-build'"),
    (["publish", "../../etc"], {}, "is not a build id"),
    (["log", "../x"], {}, "is not a build id"),
    (["secret", "encrypt", "x"], {}, "public.pem"),
]


@pytest.mark.parametrize(("argv", "env", "message"), COMMANDS)
def test_battery_command_lines_and_environments(argv, env, message, tmp_path, monkeypatch, capsys):
    (tmp_path / "wheelworks.toml").write_text(BASE_TOML)
    (tmp_path / "containers" / "release").mkdir(parents=True)
    (tmp_path / "containers" / "release" / "index.html").write_text("")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    for name in ("WHEELWORKS_BUILD_COMMIT", "BUILD_COMMIT", "AWS_PROFILE", "AWS_REGION", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse's own one line, exit 2
        code = int(exc.code or 0)
    assert message in _one_line(capsys, code)


PAGES = [
    ('{"files": null}', "not a PEP 691 project page"),
    ('{"files": "x"}', "not a PEP 691 project page"),
    ('{"files": [1]}', "not a PEP 691 project page"),
    ("[1, 2]", "not a PEP 691 project page"),
    ('"x"', "not a PEP 691 project page"),
    ("{", "not a PEP 691 or 503 page"),
    ('{"files": [{"filename": "x-1.0-py3-none-any.whl"}]}', "a file entry without filename and url"),
    ('{"files": [{"filename": 3, "url": "x"}]}', "a file entry without filename and url"),
    ('{"files": [{"filename": "x-1.0-py3-none-any.whl", "url": "x-1.0-py3-none-any.whl", "hashes": []}]}',
     "'hashes' must be a table"),
    ('{"files": [{"filename": "x-1.0-py3-none-any.whl", "url": "x-1.0-py3-none-any.whl", "hashes": {}, '
     '"size": "big"}]}', "'size' a number"),
    ('{"files": [{"filename": "x-1.0-py3-none-any.whl", "url": "x-1.0-py3-none-any.whl", "hashes": {}, '
     '"size": true}]}', "'size' a number"),
    ('{"files": [{"filename": "x-1.0-py3-none-any.whl", "url": "x-1.0-py3-none-any.whl"}]}', "has no sha256"),
    ('{"files": [{"filename": "../x-1.0-py3-none-any.whl", "url": "x"}]}', "is a path"),
    ('{"files": [{"filename": "x-1.0-py3-none-any.whl", "url": "/etc/x-1.0-py3-none-any.whl", '
     '"hashes": {"sha256": "00"}}]}', "points outside the container"),
    ('{"files": [{"filename": "X-1.0-py3-none-any.whl", "url": "X-1.0-py3-none-any.whl", "hashes": {"sha256": "0"}},'
     ' {"filename": "x-1.0-py3-none-any.whl", "url": "x-1.0-py3-none-any.whl", "hashes": {"sha256": "1"}}]}',
     "is one wheel under two file names"),
    ('{"files": []}', "no wheels of x 1.0"),
]


@pytest.mark.parametrize(("page", "message"), PAGES)
def test_battery_index_pages(page, message, tmp_path, capsys):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.json").write_text(page)
    code = cli.main(["release", "-u", (tmp_path / "site" / "index.json").as_uri(), "-n", "x", "1.0"])
    assert message in _one_line(capsys, code)


CLAIMS = [
    ("not json", "is not a claim"),
    ("[]", "is not a claim"),
    ('{"filename": "x"}', "is not a claim"),
    ('{"filename": 1, "project": "x", "version": "1.0", "path": "p", "sha256": "s", "size": 1, '
     '"requires_python": null, "uploaded": ""}', "fields of the wrong type"),
    ('{"filename": "x-1.0-py3-none-any.whl", "project": "x", "version": "1.0", "path": "p", "sha256": "s", '
     '"size": -1, "requires_python": null, "uploaded": ""}', "fields of the wrong type"),
    ('{"filename": "y-1.0-py3-none-any.whl", "project": "y", "version": "1.0", "path": "p", "sha256": "s", '
     '"size": 1, "requires_python": null, "uploaded": ""}', "not its own"),
    ('{"filename": "x-1.0-py3-none-any.whl", "project": "y", "version": "1.0", "path": "p", "sha256": "s", '
     '"size": 1, "requires_python": null, "uploaded": ""}', "says y 1.0"),
    ('{"filename": "x-1.0-py3-none-any.whl", "project": "x", "version": "1.0", "path": "p", "sha256": "s", '
     '"size": 1, "requires_python": null, "uploaded": ""}', "not 64 hex digits"),
    ('{"filename": "x-1.0-py3-none-any.whl", "project": "x", "version": "1.0", "path": "builds/x", '
     f'"sha256": "{"a" * 64}", "size": 1, "requires_python": null, "uploaded": ""}}', "names the path 'builds/x'"),
]


@pytest.mark.parametrize(("claim", "message"), CLAIMS)
@pytest.mark.parametrize("command", ["release", "publish"])
def test_battery_container_state(claim, message, command, tmp_path, capsys):
    from tests.helpers import make_wheel

    container = tmp_path / "container"
    (container / ".wheelworks" / "wheels").mkdir(parents=True)
    (container / ".wheelworks" / "wheels" / "x-1.0-py3-none-any.whl.json").write_text(claim)
    if command == "release":
        code = cli.main(["release", "-u", str(container), "-n", "x", "1.0"])
    else:
        wheels = make_wheel(tmp_path / "wh", "x", "1.0").parent
        (tmp_path / "wheelworks.toml").write_text('[project]\nname = "x"\nrepo = "."\n')
        code = cli.main(["publish", "--config", str(tmp_path / "wheelworks.toml"), "--container", str(container),
                         "--ref", "main", str(wheels)])
    assert message in _one_line(capsys, code)


MARKERS = ["not json", "[]", '{"project": "x"}', '{"project": "x", "version": "1.0", "tags": "a"}',
           '{"project": "x", "version": "1.0", "tags": [["a"]]}', '{"project": 1, "version": "1.0", "tags": []}']


@pytest.mark.parametrize("marker", MARKERS)
def test_battery_completion_markers(marker, tmp_path, capsys):
    from tests.helpers import make_wheel

    container = tmp_path / "container"
    (container / ".wheelworks" / "complete" / "x" / "1.0").mkdir(parents=True)
    (container / ".wheelworks" / "complete" / "x" / "1.0" / "m.json").write_text(marker)
    wheels = make_wheel(tmp_path / "wh", "x", "2.0").parent
    (tmp_path / "wheelworks.toml").write_text(f'[project]\nname = "x"\nrepo = "."\n[containers.nightly]\n'
                                              f'url = "{container}"\nbranches = ["main"]\nkeep = 1\n')
    code = cli.main(["publish", "--config", str(tmp_path / "wheelworks.toml"), "--ref", "main", str(wheels)])
    assert "is not a completion marker" in _one_line(capsys, code)


def test_battery_secret_inputs(tmp_path, monkeypatch, capsys):
    import io
    import subprocess

    def encrypt(data: bytes, public: Path) -> int:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
        return cli.main(["secret", "encrypt", "build.environment.X", "--public-key", str(public)])

    rsa = tmp_path / "rsa.pem"
    assert cli.main(["secret", "keygen", "--public-key", str(rsa), "--private-key", str(tmp_path / "k")]) == 0
    capsys.readouterr()
    assert "standard input is not UTF-8 text" in _one_line(capsys, encrypt(b"\xff\xfe", rsa))
    assert "no value on standard input" in _one_line(capsys, encrypt(b"\n", rsa))
    ec = tmp_path / "ec.pem"
    key = subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout"], capture_output=True,
                         check=True).stdout
    ec.write_bytes(subprocess.run(["openssl", "ec", "-pubout"], input=key, capture_output=True, check=True).stdout)
    assert "the public key is ECPublicKey, not RSA" in _one_line(capsys, encrypt(b"v", ec))
    (tmp_path / "junk.pem").write_text("not a key")
    assert "not a PEM public key" in _one_line(capsys, encrypt(b"v", tmp_path / "junk.pem"))
