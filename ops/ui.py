"""`make ui [PORT=8000]` / `make ui-stop`: the SQLMesh UI on 127.0.0.1, in the background, holding the write lock.

`sqlmesh ui` opens the warehouse for writing and keeps it open while it runs (DuckDB allows one writing process), so
it is started through `python -m gateway.lock`: it waits for the current writer like any other, and while it runs
every other writer (make plan, ingest, run, restate, promote) waits MOBILITY_LOCK_TIMEOUT seconds and then stops
with a message naming it. Its process id and URL are kept in `$MOBILITY_DATA_DIR/ui.pid` and its output in
`ui.log`; `make ui-stop` stops that process (it passes the signal on to the UI) and with it releases the lock.

The UI runs in a session of its own, led by the lock process, so when that process was killed on its own the UI left
behind is still found: `make ui-stop` stops the members of the recorded process group that serve the recorded port.

    python -m ops.ui start [--port 8000]     python -m ops.ui stop
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from gateway import data_dir, own_data_dir
from gateway.lock import EXIT_BUSY
from ops.common import PROJECT_DIR, pin_data_dir, sqlmesh_executable

HOST = "127.0.0.1"
START_SECONDS = 90.0
STOP_SECONDS = 15.0
POLL_SECONDS = 0.3


def pid_file() -> Path:
    """Where the running UI's process id is kept."""
    return data_dir() / "ui.pid"


def log_file() -> Path:
    """Where the UI's output goes."""
    return data_dir() / "ui.log"


def recorded() -> tuple[int, str] | None:
    """(process id, URL) from the pid file, or None when there is none."""
    try:
        pid, url = pid_file().read_text().split()[:2]
        return int(pid), url
    except (OSError, ValueError):
        return None


def running_pid() -> int | None:
    """The process id in the pid file when that process is still our UI's lock process, else None."""
    found = recorded()
    if found is None:
        return None
    pid = found[0]
    command = process_field(pid, "command")
    if not is_alive(pid) or "gateway.lock" not in command or " ui " not in f"{command} ":
        return None
    return pid


def orphans() -> list[int]:
    """The recorded UI's processes left behind by a lock process that died: members of its process group running
    `sqlmesh ui` while the recorded port still answers. Empty when there are none."""
    found = recorded()
    if found is None or running_pid() is not None:
        return []
    group, url = found
    members = [pid for pid in group_members(group) if "sqlmesh" in process_field(pid, "command")]
    port = int(url.rsplit(":", 1)[1])
    return members if members and not port_is_free(port) else []


def group_members(group: int) -> list[int]:
    """The live processes of a process group."""
    try:
        answer = subprocess.run(["ps", "-A", "-o", "pid=,pgid=,stat="], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return []
    members = []
    for line in answer.stdout.splitlines():
        pid, pgid, state = line.split()[:3]
        if int(pgid) == group and not state.startswith(("Z", "X")):
            members.append(int(pid))
    return members


def port_is_free(port: int) -> bool:
    """True when nothing listens on HOST:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex((HOST, port)) != 0


def answers(url: str) -> bool:
    """True when the UI answers its home page."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def launch(port: int) -> subprocess.Popen:
    """Starts `sqlmesh ui` under the warehouse lock in its own session, its output in ui.log."""
    purpose = f"the SQLMesh UI at http://{HOST}:{port}, started by make ui"
    command = [sys.executable, "-m", "gateway.lock", "--purpose", purpose, "--", sqlmesh_executable(), "ui"]
    command += ["--host", HOST, "--port", str(port)]
    environment = {**os.environ, "MOBILITY_DATA_DIR": str(data_dir()), "SQLMESH__DISABLE_ANONYMIZED_ANALYTICS": "1"}
    own_data_dir()
    with open(log_file(), "w") as log:
        return subprocess.Popen(
            command, cwd=PROJECT_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def wait_until_up(process: subprocess.Popen, url: str) -> bool:
    """Waits for the UI to answer; False when it exited or did not answer in time."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        if answers(url):
            return True
        time.sleep(POLL_SECONDS)
    return False


def start(port: int) -> int:
    """Starts the UI unless it runs already; prints the URL and the lock it holds."""
    url = f"http://{HOST}:{port}"
    if pid := running_pid():
        print(f"The SQLMesh UI already runs (PID {pid}); stop it with `make ui-stop`. Its log: {log_file()}")
        return 0
    if left := orphans():
        print(
            f"error: a SQLMesh UI left behind by a killed `make ui` (PID {', '.join(map(str, left))}) still serves "
            f"{recorded()[1]} and holds the warehouse; stop it with `make ui-stop`, then run `make ui` again.",
            file=sys.stderr,
        )
        return EXIT_BUSY
    if not port_is_free(port):
        print(f"error: {HOST}:{port} is in use by another program; choose another port: make ui PORT=8001")
        return 2
    process = launch(port)
    if not wait_until_up(process, url):
        stop_process(process.pid)
        tail = log_file().read_text().strip().splitlines()[-5:]
        print("error: the SQLMesh UI did not start:\n  " + "\n  ".join(tail), file=sys.stderr)
        return EXIT_BUSY if process.returncode == EXIT_BUSY else 1
    pid_file().write_text(f"{process.pid} {url}\n")
    print(f"SQLMesh UI: {url}  (PID {process.pid}, log {log_file()})")
    print(
        "It holds the warehouse's write lock while it runs: make plan, ingest, run, restate and promote wait "
        "MOBILITY_LOCK_TIMEOUT seconds for it and then stop with a message. Stop it with `make ui-stop`."
    )
    return 0


def process_field(pid: int, field: str) -> str:
    """`ps -o FIELD` of a process (`command`, `stat`), or "" when it is gone."""
    try:
        answer = subprocess.run(["ps", "-o", f"{field}=", "-p", str(pid)], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return ""
    return answer.stdout.strip()


def is_alive(pid: int) -> bool:
    """True while the process exists and is not a zombie waiting to be reaped."""
    state = process_field(pid, "stat")
    return bool(state) and not state.startswith(("Z", "X"))


def stop_process(pid: int) -> None:
    """Sends TERM to the process (the lock runner passes it on to the UI), then KILL to its group if it lingers."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + STOP_SECONDS
    while time.monotonic() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)  # reaps it when it is our own child
        except ChildProcessError:
            pass
        if not is_alive(pid):
            return
        time.sleep(POLL_SECONDS)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def stop_orphans(pids: list[int]) -> None:
    """TERM to each process left behind, then KILL to those that linger."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    while time.monotonic() < deadline and any(is_alive(pid) for pid in pids):
        time.sleep(POLL_SECONDS)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            if is_alive(pid):
                os.kill(pid, signal.SIGKILL)


def stop() -> int:
    """Stops the UI started by `make ui`: its lock process, or what it left behind when that process was killed."""
    if (pid := running_pid()) is not None:
        stop_process(pid)
        pid_file().unlink(missing_ok=True)
        print(f"Stopped the SQLMesh UI (PID {pid}); the warehouse lock is released.")
        return 0
    if left := orphans():
        group, url = recorded()
        stop_orphans(left)
        pid_file().unlink(missing_ok=True)
        listed = ", ".join(map(str, left))
        print(
            f"Stopped a SQLMesh UI left behind at {url} (PID {listed}; the lock process PID {group} that started it "
            "had been killed); the warehouse is released."
        )
        return 0
    pid_file().unlink(missing_ok=True)
    print("The SQLMesh UI is not running (no live process in the pid file, nothing serving its port).")
    return 0


def main(argv: list[str]) -> int:
    """`start [--port N]` or `stop`."""
    parser = argparse.ArgumentParser(prog="python -m ops.ui", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("start", "stop"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    args = parser.parse_args(argv)
    pin_data_dir()
    return start(args.port) if args.action == "start" else stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
