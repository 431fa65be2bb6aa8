import io

from rich.console import Console

from wheelworks.config.settings import from_environment
from wheelworks.cli.progress import LiveReporter, PlainReporter, reporter_for, summary_table
from wheelworks.build.records import BuildRecord, StepRecord, TargetRecord


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_live_table_shows_each_target_s_current_step():
    out = io.StringIO()
    live = LiveReporter(console=Console(file=out, width=100, force_terminal=True))
    live.event("cp312-x", "build", "start")
    live.event("cp313-x", "build", "start")
    live.event("cp312-x", "test", "ok", 1.25)
    live.console.print(live.render())
    text = out.getvalue()
    assert "cp312-x" in text and "test" in text and "1.2" in text and "cp313-x" in text and "build" in text
    assert "1/2 targets" in text  # the overall bar counts finished targets


def test_plain_lines_when_not_a_terminal_or_on_ci():
    out = io.StringIO()
    assert isinstance(reporter_for(out, True), PlainReporter)
    reporter_for(out, True).event("library", "libtally", "cached", 0.0)
    assert out.getvalue().split() == ["library", "libtally", "cached", "(0.0s)"]
    assert isinstance(reporter_for(_Terminal(), from_environment({"CI": "true"}).interactive), PlainReporter)
    assert isinstance(reporter_for(_Terminal(), from_environment({}).interactive), LiveReporter)


def test_summary_table_has_seconds_per_step_and_the_wheel():
    record = BuildRecord(id="b1", project="p", repo=".", ref="main", config="c", config_digest="d", platform="x",
                         started=0.0, commit="a" * 40)
    record.targets = [TargetRecord("cp312-x", "3.12", status="ok", wheel="p-1-cp312.whl",
                                   steps=[StepRecord("build", "ok", 2.5, "b.log"), StepRecord("test", "ok", 1.0, "t.log")]),
                      TargetRecord("cp313-x", "3.13", status="failed",
                                   steps=[StepRecord("build", "failed", 0.5, "b.log", "boom")])]
    out = io.StringIO()
    Console(file=out, width=120).print(summary_table(record))
    text = out.getvalue()
    assert "2.5" in text and "p-1-cp312.whl" in text and "failed" in text


def test_the_live_total_is_stable_from_the_start_and_missing_targets_are_not_done():
    out = io.StringIO()
    live = LiveReporter(console=Console(file=out, width=80, force_terminal=True))
    live.event("source", "main", "ok")
    live.event("cp314-x", "python3.14", "missing")
    for target in ("cp312-x", "cp313-x"):
        live.event(target, "queued", "queued")
    live.console.print(live.render())
    live.event("cp312-x", "reused from b1", "ok", 0.0)
    live.event("cp313-x", "build", "start")
    live.console.print(live.render())
    first, second = out.getvalue().split("targets")[:2]
    assert "0/2" in first and "1/2" in second and "1 missing here" in out.getvalue()
    assert "status" in out.getvalue()  # every column has its header


def test_at_80_columns_wheel_names_stay_whole():
    record = BuildRecord(id="b1", project="p", repo=".", ref="main", config="c", config_digest="d", platform="x",
                         started=0.0, commit="a" * 40)
    names = [f"pytally-0.1.0-cp3{m}-cp3{m}-manylinux_2_17_x86_64.manylinux2014_x86_64.whl" for m in (11, 12, 13)]
    record.targets = [TargetRecord(f"cp3{m}-manylinux_x86_64", f"3.{m}", status="ok", wheel=name,
                                   steps=[StepRecord("build", "ok", 2.5, "b.log"), StepRecord("test", "ok", 1.0, "t.log")])
                      for m, name in zip((11, 12, 13), names)]
    out = io.StringIO()
    Console(file=out, width=80).print(summary_table(record))
    text = out.getvalue()
    assert max(len(line) for line in text.splitlines()) <= 80 and "…" not in text  # folded, never cut
    for m in (11, 12, 13):  # each wheel keeps what tells it from the others
        assert f"cp3{m}-cp3{m}" in text.replace(" ", "").replace("\n", "").replace("│", "")
