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
