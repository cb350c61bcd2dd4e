"""`make dashboard [PORT=8501]` / `make dashboard-stop`: the Streamlit dashboard over prod, in the background.

Unlike the SQLMesh UI it never holds the warehouse: it reads prod's marts read-only, a connection per query, so
writers go on while it runs (and it shows its last answers, with a note, while one holds the file). Its process id is
kept in `$MOBILITY_DATA_DIR/dashboard.pid` and its output in `dashboard.log`.

    python -m ops.dashboard start [--port 8501]     python -m ops.dashboard stop
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from gateway import data_dir, own_data_dir
from ops.common import PROJECT_DIR, pin_data_dir
from ops.ui import HOST, is_alive, port_is_free, process_field, stop_process, wait_until_up

APP = PROJECT_DIR / "dashboard" / "app.py"


def pid_file() -> Path:
    return data_dir() / "dashboard.pid"


def log_file() -> Path:
    return data_dir() / "dashboard.log"


def running_pid() -> int | None:
    """The dashboard's process id when it still runs, else None (a stale pid file is removed)."""
    try:
        pid = int(pid_file().read_text().split()[0])
    except (OSError, ValueError, IndexError):
        pid_file().unlink(missing_ok=True)
        return None
    if not is_alive(pid) or str(APP) not in process_field(pid, "command"):
        pid_file().unlink(missing_ok=True)
        return None
    return pid


def launch(port: int) -> subprocess.Popen:
    """`streamlit run dashboard/app.py` in its own session, headless, no usage statistics, output in the log."""
    command = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.address", HOST, "--server.port", str(port)]
    command += ["--server.headless", "true", "--browser.gatherUsageStats", "false", "--global.developmentMode", "false"]
    environment = {**os.environ, "MOBILITY_DATA_DIR": str(data_dir()), "PYTHONPATH": str(PROJECT_DIR)}
    own_data_dir()
    with open(log_file(), "w") as log:
        return subprocess.Popen(
            command, cwd=PROJECT_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def start(port: int) -> int:
    url = f"http://{HOST}:{port}"
    if pid := running_pid():
        print(f"The dashboard already runs (PID {pid}): {pid_file().read_text().split()[1]}; stop: make dashboard-stop")
        return 0
    if not port_is_free(port):
        print(f"error: {HOST}:{port} is in use by another program; choose another port: make dashboard PORT=8502")
        return 2
    process = launch(port)
    if not wait_until_up(process, f"{url}/_stcore/health"):
        stop_process(process.pid)
        tail = log_file().read_text().strip().splitlines()[-5:]
        print("error: the dashboard did not start:\n  " + "\n  ".join(tail), file=sys.stderr)
        return 1
    pid_file().write_text(f"{process.pid} {url}\n")
    print(f"Dashboard: {url}  (PID {process.pid}, log {log_file()}); read-only over prod. Stop: make dashboard-stop")
    return 0


def stop() -> int:
    pid = running_pid()
    if pid is None:
        print("The dashboard is not running (no live process in the pid file).")
        return 0
    stop_process(pid)
    pid_file().unlink(missing_ok=True)
    print(f"Stopped the dashboard (PID {pid}).")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.dashboard", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("start", "stop"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8501")))
    args = parser.parse_args(argv)
    pin_data_dir()
    return start(args.port) if args.action == "start" else stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
