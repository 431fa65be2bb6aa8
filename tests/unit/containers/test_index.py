import json

from wheelworks.containers.index import IndexedFile, listing_html, project_html, project_json, root_json

FILE = IndexedFile(
    filename="pytally-1.0-cp312-cp312-manylinux_2_17_x86_64.whl", project="pytally", version="1.0",
    path="files/0123456789abcdef/pytally-1.0-cp312-cp312-manylinux_2_17_x86_64.whl", sha256="ab" * 32,
    size=1234, requires_python=">=3.9,<4", uploaded="2026-11-25T00:00:00Z",
)


def test_project_html_links_carry_hash_and_escaped_requires_python():
    html = project_html("pytally", [FILE])
    assert (f'<a href="../../{FILE.path}#sha256={"ab" * 32}" data-requires-python="&gt;=3.9,&lt;4">'
            f"{FILE.filename}</a>") in html


def test_project_json_is_pep_691():
    data = json.loads(project_json("pytally", [FILE]))
    assert data["meta"] == {"api-version": "1.1"}
    assert data["files"] == [{
        "filename": FILE.filename, "url": f"../../{FILE.path}", "hashes": {"sha256": "ab" * 32},
        "requires-python": ">=3.9,<4", "size": 1234, "upload-time": "2026-11-25T00:00:00Z",
    }]
    assert json.loads(root_json(["b", "a"]))["projects"] == [{"name": "a"}, {"name": "b"}]


def test_listing_links_every_file():
    assert f'<a href="{FILE.path}">{FILE.filename}</a> 1234 bytes' in listing_html([FILE])
