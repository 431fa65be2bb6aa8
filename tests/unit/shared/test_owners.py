"""Whether the owner of a work folder or a running build is gone."""

import os
import socket
import subprocess
import sys

import pytest

from wheelworks.shared import owners


@pytest.mark.skipif(os.name != "posix", reason="only POSIX has a cheap liveness check")
def test_a_finished_process_is_gone_and_a_running_one_is_not():
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    pid, host = owners.this_process()
    assert owners.gone(pid, host) is False
    assert owners.gone(done.pid, host) is True


def test_another_hosts_owner_is_never_declared_gone():
    assert owners.gone(os.getpid(), socket.gethostname() + ".elsewhere") is None
    assert owners.gone(None, socket.gethostname()) is None
