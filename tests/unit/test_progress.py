import io

from wheelworks.progress import LiveReporter, PlainReporter, reporter_for


def test_live_display_redraws_one_line_per_target():
    out = io.StringIO()
    live = LiveReporter(out)
    live.event("cp312-x", "build", "start")
    live.event("cp313-x", "build", "start")
    live.event("cp312-x", "build", "ok", 1.25)
    frames = out.getvalue()
    assert frames.count("\x1b[2F") == 1 and frames.count("\x1b[1F") == 1  # cursor back over what was drawn
    last = frames.rsplit("\x1b[2F", 1)[1]
    assert "✓ cp312-x" in last and "build ok (1.2s)" in last and "… cp313-x" in last


def test_plain_lines_when_not_a_terminal():
    out = io.StringIO()
    assert isinstance(reporter_for(out), PlainReporter)
    reporter_for(out).event("library", "libtally", "cached", 0.0)
    assert out.getvalue().split() == ["library", "libtally", "cached", "(0.0s)"]
