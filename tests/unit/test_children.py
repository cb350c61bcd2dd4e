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


def catching(pid: int, number: int) -> bool:
    """Waits (up to 30 s) until the process has a handler for the signal (SigCgt in /proc): True once it has."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = Path(f"/proc/{pid}/status").read_text()
        caught = int(next(line for line in status.splitlines() if line.startswith("SigCgt:")).split()[1], 16)
        if caught >> (number - 1) & 1:
            return True
        time.sleep(0.01)
    return False


def test_a_terminated_command_stops_its_child_and_waits_for_it() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    assert alive(child)
    assert catching(parent.pid, signal.SIGTERM)  # the child is announced before the parent passes signals on
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


# A command running a long step in its own process under children.stoppable; the step's code catches every exception
# and carries on, as SQLMesh's scheduler does with a failing model.
IN_PROCESS = """
import sys, time
from gateway import children
from gateway.children import Interrupted
try:
    with children.stoppable():
        try:
            print("ready", flush=True)
            time.sleep(600)
        except Exception as error:
            print("caught", type(error).__name__, flush=True)
        print("carried on", flush=True)
    print("not stopped", flush=True)
except Interrupted as error:
    print("stopped", error.exit_code, flush=True)
    sys.exit(error.exit_code)
"""


def test_a_step_run_in_process_stops_where_it_is_and_the_command_stops_after_it() -> None:
    for number in (signal.SIGTERM, signal.SIGINT):
        command = subprocess.Popen([sys.executable, "-c", IN_PROCESS], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert command.stdout.readline().strip() == "ready"
        assert catching(command.pid, number)
        os.kill(command.pid, number)
        try:
            assert command.wait(timeout=30) == 128 + number  # not the step's 600 s
        finally:
            if alive(command.pid):
                os.kill(command.pid, signal.SIGKILL)
        said = command.stdout.read().splitlines()
        assert said == ["caught Interrupted", "carried on", f"stopped {128 + number}"], said
