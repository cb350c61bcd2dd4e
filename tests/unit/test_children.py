"""gateway/children.py: a TERM sent to a workflow command reaches the step it runs, and the command waits for it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT

# A command running a long child step through children.call, saying the child's PID once it has started.
PARENT = """
import subprocess, sys
from gateway import children
from gateway.children import Interrupted
original = subprocess.Popen.__init__
def announce(self, *args, **kwargs):
    original(self, *args, **kwargs)
    print(self.pid, flush=True)
subprocess.Popen.__init__ = announce
try:
    children.call([sys.executable, "-c", "import time; time.sleep(600)"])
except Interrupted as error:
    print("stopped", error.exit_code, flush=True)
    sys.exit(error.exit_code)
"""


def alive(pid: int) -> bool:
    """True while a process exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_terminated_command_stops_its_child_and_waits_for_it() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    assert alive(child)
    os.kill(parent.pid, signal.SIGTERM)
    try:
        assert parent.wait(timeout=30) == 128 + signal.SIGTERM  # not the child's 600 s: the TERM reached it
    finally:
        for pid in (child, parent.pid):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
    remaining = parent.stdout.read()
    assert "stopped 143" in remaining
    deadline = time.monotonic() + 10
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(child), "the child outlived the command that started it"
