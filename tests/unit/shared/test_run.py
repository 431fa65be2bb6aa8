"""How an error line shows the command that failed, and how an interrupted build ends its commands."""

import subprocess
import threading
import time

from wheelworks.shared import run
from wheelworks.shared.errors import CommandError


def test_an_error_line_shows_a_command_on_one_line_masked_before_it_is_cut():
    from wheelworks.shared import masking
    from wheelworks.shared.run import brief

    masking.register("s3cr3t-t0ken-value")
    script = "printf 'a\\n' > x.c &&\n  cc x.c\n" + "y" * 300 + " s3cr3t-t0ken-value"
    shown = brief(masking.mask(script))
    assert "\n" not in shown and shown.startswith("printf 'a\\n' > x.c && ; cc x.c ;") and shown.endswith("…")
    assert len(shown) == 200 and "s3cr3t" not in shown


def test_a_command_that_starts_while_the_build_is_stopped_is_ended_too(tmp_path, monkeypatch):
    # A loaded machine: the command is running (its marker written) before run() has listed it.
    started = tmp_path / "started"
    real_popen = subprocess.Popen

    def slow_popen(*args, **kwargs):
        proc = real_popen(*args, **kwargs)
        while not started.exists():
            time.sleep(0.01)
        time.sleep(0.3)
        return proc

    monkeypatch.setattr(run.subprocess, "Popen", slow_popen)
    outcome: list[BaseException] = []

    def build() -> None:
        try:
            run.run(f"touch {started}; sleep 30", log=tmp_path / "log")
        except CommandError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=build)
    worker.start()
    try:
        while not started.exists():
            time.sleep(0.01)
        run.stop_all()
        worker.join(timeout=10)
        assert not worker.is_alive(), "the command outlived stop_all()"
        assert outcome and "interrupted" in str(outcome[0])
    finally:
        run.resume()
