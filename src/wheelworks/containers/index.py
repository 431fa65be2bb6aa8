"""Pure renderers for a container's indexes: PEP 503 HTML, PEP 691 JSON and a plain listing.

Links are relative, so the same pages work wherever the container is served from.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "text/html; charset=utf-8"
API_VERSION = "1.1"


@dataclass(frozen=True)
class IndexedFile:
    filename: str
    project: str  # normalized name
    version: str
    path: str  # the file's key, relative to the container's root
    sha256: str
    size: int
    requires_python: str | None
    uploaded: str  # ISO 8601, UTC
    metadata_sha256: str | None = None  # of <path>.metadata, the wheel's METADATA (PEP 658)


def _page(title: str, body: Sequence[str]) -> str:
    lines = "\n".join(body)
    return (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta name="pypi:repository-version" content="1.1">\n'
        f"<title>{escape(title)}</title>\n</head>\n<body>\n<h1>{escape(title)}</h1>\n{lines}\n</body>\n</html>\n"
    )


def project_html(project: str, files: Sequence[IndexedFile]) -> str:
    links = []
    for f in sorted(files, key=lambda f: f.filename):
        requires = f' data-requires-python="{escape(f.requires_python)}"' if f.requires_python else ""
        metadata = ""
        if f.metadata_sha256:  # PEP 714's name, and PEP 658's for older pips
            metadata = (f' data-core-metadata="sha256={f.metadata_sha256}"'
                        f' data-dist-info-metadata="sha256={f.metadata_sha256}"')
        links.append(f'<a href="../../{escape(f.path)}#sha256={f.sha256}"{requires}{metadata}>{escape(f.filename)}</a><br>')
    return _page(f"Links for {project}", links)


def project_json(project: str, files: Sequence[IndexedFile]) -> str:
    return json.dumps(
        {
            "meta": {"api-version": API_VERSION},
            "name": project,
            "versions": sorted({f.version for f in files}),
            "files": [_json_file(f) for f in sorted(files, key=lambda f: f.filename)],
        },
        indent=1,
    )


def _json_file(f: IndexedFile) -> dict[str, object]:
    entry: dict[str, object] = {
        "filename": f.filename,
        "url": f"../../{f.path}",
        "hashes": {"sha256": f.sha256},
        "requires-python": f.requires_python,
        "size": f.size,  # PEP 700
        "upload-time": f.uploaded,
    }
    if f.metadata_sha256:
        entry["core-metadata"] = {"sha256": f.metadata_sha256}  # PEP 714
        entry["dist-info-metadata"] = {"sha256": f.metadata_sha256}  # PEP 691 as pips before 23.x read it
    return entry


def root_html(projects: Sequence[str]) -> str:
    return _page("Simple index", [f'<a href="{escape(p)}/">{escape(p)}</a><br>' for p in sorted(projects)])


def root_json(projects: Sequence[str]) -> str:
    return json.dumps({"meta": {"api-version": API_VERSION}, "projects": [{"name": p} for p in sorted(projects)]}, indent=1)


def listing_html(files: Sequence[IndexedFile], builds: bool = False) -> str:
    """The container's front page for people: every file, newest upload first, and a link
    to the builds dashboard when the container has build records."""
    rows = [
        f'<a href="{escape(f.path)}">{escape(f.filename)}</a> {f.size} bytes, {f.uploaded}, sha256 {f.sha256}<br>'
        for f in sorted(files, key=lambda f: (f.uploaded, f.filename), reverse=True)
    ]
    links = '<p><a href="simple/">simple index</a> (pip --index-url …/simple/)'
    links += ' · <a href="builds/index.html">builds</a></p>' if builds else "</p>"
    return _page("Wheels", [links, *rows])
