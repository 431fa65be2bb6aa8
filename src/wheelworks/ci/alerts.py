"""The nightly's failure issue: a scheduled run that fails opens one (or comments on the
one already open), listing the failed targets with links to their jobs' logs; the next
run that passes closes it. It talks to GitHub's REST API with the job's own token, which
the generated workflow grants ``issues: write`` in this job only.
"""

from __future__ import annotations

import fnmatch
import json
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from wheelworks.build.records import BuildRecord
from wheelworks.config.model import ci_resources
from wheelworks.config.settings import GitHubRun
from wheelworks.shared.errors import GitHubError, UsageError

MARKER = "<!-- wheelworks: nightly failures -->"  # how the issue is found again, whatever its title becomes


@dataclass(frozen=True)
class Failure:
    what: str  # a target and its failed step, or a job with no build record
    url: str | None  # the log of the job it failed in


def failed_jobs(needs: str | None) -> list[str]:
    """The jobs the alert job needs whose result is failure (from ``toJSON(needs)``)."""
    if needs is None:
        raise UsageError("WHEELWORKS_NEEDS is not set", "the workflow passes toJSON(needs) in it; generate it again")
    try:
        results = json.loads(needs)
        return sorted(name for name, job in results.items() if job["result"] in ("failure", "cancelled"))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise UsageError(f"WHEELWORKS_NEEDS is not the JSON of a needs context: {needs[:60]!r}") from None


def failures(jobs: Sequence[str], records: Sequence[BuildRecord], job_urls: Mapping[str, str]) -> list[Failure]:
    """Each failed target of ``records`` with the log of the job that built it (build jobs
    are named for their platform), then each failed job that left no failed target."""
    platforms = ci_resources()["platforms"]
    found, explained = [], set()
    for record in records:
        for target in record.targets:
            if target.status not in ("failed", "interrupted"):
                continue
            platform = next((p for p, spec in platforms.items()
                             if fnmatch.fnmatchcase(target.identifier, f"*-{spec['tag']}")), None)
            step = next((s.name for s in target.steps if s.status != "ok"), "build")
            found.append(Failure(f"{target.identifier}: {step} failed", job_urls.get(platform or "")))
            explained.add(platform)
    for job in jobs:
        names = [n for n in job_urls if n == job or n.startswith(f"{job} ")] or [job]
        found += [Failure(f"job {name} failed", job_urls.get(name)) for name in names if name not in explained]
    return found


def body(failed: Sequence[Failure], run: GitHubRun) -> str:
    lines = [MARKER, f"The scheduled run {run.run_url} failed:", ""]
    lines += [f"- {f.what}" + (f" ([log]({f.url}))" if f.url else "") for f in failed]
    lines += ["", "wheelworks closes this issue when a scheduled run passes."]
    return "\n".join(lines)


def alert(run: GitHubRun, project: str, records: Sequence[BuildRecord]) -> str:
    """Open, update or close the failure issue for this run; says what it did."""
    if not (run.token and run.repository and run.run_id):
        raise UsageError("GITHUB_TOKEN, GITHUB_REPOSITORY and GITHUB_RUN_ID must be set", "run it in the alert job")
    api = _Api(run)
    jobs = failed_jobs(run.needs)
    repo = f"/repos/{run.repository}"
    open_issue = next((i for i in api.get(f"{repo}/issues?state=open&per_page=100")
                       if MARKER in (i.get("body") or "") and "pull_request" not in i), None)
    if not jobs:
        if open_issue is None:
            return "the run passed; no failure issue is open"
        number = open_issue["number"]
        api.send("POST", f"{repo}/issues/{number}/comments", {"body": f"Passing again: {run.run_url}"})
        api.send("PATCH", f"{repo}/issues/{number}", {"state": "closed", "state_reason": "completed"})
        return f"the run passed; closed issue #{number}"
    listed = api.get(f"{repo}/actions/runs/{run.run_id}/jobs?per_page=100")
    urls = {j["name"]: j["html_url"] for j in listed.get("jobs", []) if isinstance(j, dict)}
    text = body(failures(jobs, records, urls), run)
    if open_issue is not None:
        number = open_issue["number"]
        api.send("POST", f"{repo}/issues/{number}/comments", {"body": text})
        return f"the run failed; commented on issue #{number}"
    made = api.send("POST", f"{repo}/issues", {"title": f"Scheduled wheels of {project} are failing", "body": text})
    return f"the run failed; opened issue #{made['number']}"


class _Api:
    def __init__(self, run: GitHubRun) -> None:
        self.run = run

    def get(self, path: str) -> Any:
        return self.send("GET", path, None)

    def send(self, method: str, path: str, data: Mapping[str, Any] | None) -> Any:
        request = urllib.request.Request(
            self.run.api_url + path, method=method, data=json.dumps(data).encode() if data is not None else None,
            headers={"Authorization": f"Bearer {self.run.token}", "Accept": "application/vnd.github+json",
                     "X-GitHub-Api-Version": "2022-11-28", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise GitHubError(f"GitHub API {method} {path}: HTTP {exc.code} {exc.reason}",
                              "the alert job needs `issues: write`") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise GitHubError(f"GitHub API {method} {path}: {getattr(exc, 'reason', exc)}") from None
