"""Processes that die together: every workflow command runs its steps (ingest, sqlmesh, the scan) as children
through here, so a `kill <PID>` of the command stops the step it is running, and no orphan keeps the warehouse.

SIGTERM and SIGHUP sent to the command are passed on to its child, and the command waits for the child to end
before it stops with `Interrupted`, which its main turns into the closing summary and exit code 128 + signal.
Ctrl-C reaches the child from the terminal directly (the same process group), so SIGINT is not passed on a second
time: the command waits for the child to stop, then stops the same way.

A step run in the command's own process instead (`make restate`'s plan: SQLMesh is loaded there already) is stopped
where it is by the same signals (`stoppable`), and the command then stops with `Interrupted` just the same.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
from collections.abc import Iterator

FORWARDED = (signal.SIGTERM, signal.SIGHUP)


class Interrupted(Exception):  # a stop asked for, not an error
    """A signal asked this command to stop; its child has ended."""

    def __init__(self, number: int) -> None:
        self.number = number
        super().__init__(f"stopped by {signal.Signals(number).name}")

    @property
    def exit_code(self) -> int:
        """The shell's convention for a process ended by a signal: 128 + its number (130 Ctrl-C, 143 TERM)."""
        return 128 + self.number


@contextlib.contextmanager
def forwarding(process: subprocess.Popen) -> Iterator[None]:
    """While the body runs (and waits for `process`), TERM/HUP go on to the process and Ctrl-C is waited out.

    Raises Interrupted after the body when a signal arrived, so the caller stops after its child, not before.
    """
    received: list[int] = []

    def forward(number: int, _frame) -> None:
        received.append(number)
        if process.poll() is None:
            process.send_signal(number)

    def remember(number: int, _frame) -> None:
        received.append(number)

    handlers = {number: forward for number in FORWARDED} | {signal.SIGINT: remember}
    try:
        previous = {number: signal.signal(number, handler) for number, handler in handlers.items()}
    except ValueError:  # not the main thread: signals cannot be handled here, the process simply runs
        yield
        return
    try:
        yield
        process.wait()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if received:
        raise Interrupted(received[0])


def call(command: list[str], **options) -> int:
    """subprocess.call with signals passed on (see the module docstring): the child's exit code."""
    process = subprocess.Popen(command, **options)
    with forwarding(process):
        return process.wait()


@contextlib.contextmanager
def stoppable() -> Iterator[None]:
    """While the body runs in this process, TERM, HUP and Ctrl-C stop it where it is (DuckDB interrupts its query);
    the body then ends with Interrupted, also when the code it ran caught the stop and carried on or reported failure.
    """
    received: list[int] = []

    def stop(number: int, _frame) -> None:
        received.append(number)
        raise Interrupted(number)

    try:
        previous = {number: signal.signal(number, stop) for number in (*FORWARDED, signal.SIGINT)}
    except ValueError:  # not the main thread: signals cannot be handled here, the step simply runs
        yield
        return
    try:
        yield
    except Exception:
        if not received:
            raise
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if received:
        raise Interrupted(received[0])
