"""Faults of the machine, named for what they are: a full disk, a read-only or forbidden data folder.

Python says `OSError: [Errno 28]`, DuckDB says `IO Error: ... No space left on device`, dlt wraps either in its own
step error; an operator needs one paragraph that names the folder and what to do. `explain` finds such a cause in an
exception (or anything it was raised from) and returns that paragraph, or None for every other error.
"""

from __future__ import annotations

import errno
import functools
import logging
import re
import sys
from collections.abc import Callable

from gateway import data_dir

EXIT_IO = 74  # EX_IOERR: the machine refused a write (full disk, read-only or forbidden folder)

CAUSES = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "this user may not write there",
    errno.EPERM: "this user may not write there",
}
# The same causes as DuckDB and dlt word them in their own exceptions' text.
WORDED = (
    (re.compile(r"No space left on device|disk is full|out of disk space", re.I), errno.ENOSPC),
    (re.compile(r"Disk quota exceeded", re.I), errno.EDQUOT),
    (re.compile(r"Read-only file system", re.I), errno.EROFS),
    (re.compile(r"Permission denied", re.I), errno.EACCES),
)
ADVICE = {
    errno.ENOSPC: "Free space there (or point MOBILITY_DATA_DIR at a larger disk) and run the command again",
    errno.EDQUOT: "Free space within the quota (or point MOBILITY_DATA_DIR elsewhere) and run the command again",
    errno.EROFS: "Remount it read-write or point MOBILITY_DATA_DIR at a writable folder, then run the command again",
    errno.EACCES: "Give this user write access to it (or point MOBILITY_DATA_DIR elsewhere) and run the command again",
}


def _causes(error: BaseException) -> list[BaseException]:
    """The exception and every exception it was raised from or during, innermost last."""
    chain, seen = [], error
    while seen is not None and seen not in chain:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    return chain


def cause(error: BaseException) -> tuple[int, str] | None:
    """(errno, the file or message) of the first machine fault in the exception's chain, or None."""
    for link in _causes(error):
        if isinstance(link, OSError) and link.errno in CAUSES:
            return link.errno, link.filename or str(link)
        for pattern, number in WORDED:
            if line := next((line for line in str(link).splitlines() if pattern.search(line)), None):
                return number, line.strip()[:300]
    return None


class _Unrepeated(logging.Filter):
    """Drops dlt's log records (tracebacks of every retry) of a machine fault: the command says it once."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None and cause(record.exc_info[1]):
            return False
        return not any(pattern.search(record.getMessage()) for pattern, _ in WORDED)


def quiet_dlt() -> None:
    """Keeps dlt's own logging of a machine fault (a traceback per load retry) off the terminal."""
    logging.getLogger("dlt").addFilter(_Unrepeated())


def explain(error: BaseException, doing: str) -> str | None:
    """One paragraph for a machine fault met while `doing` something, or None when the error is something else."""
    found = cause(error)
    if found is None:
        return None
    number, where = found
    folder = data_dir()
    return (
        f"{doing} stopped: {CAUSES[number]} ({where}). The data folder is {folder}. "
        f"{ADVICE.get(number, ADVICE[errno.EACCES])}. What was being written was not committed: the warehouse "
        "keeps its last committed state (a landing resumes where it stopped, a build redoes the missing batches)."
    )


def reported(doing: str | Callable[[list[str]], str]) -> Callable[[Callable[..., int]], Callable[..., int]]:
    """Decorates a command's main: a machine fault met anywhere in it ends in its one paragraph and EXIT_IO, not a
    traceback; every other error is left to the command. `doing` names the command, or derives it from the main's
    argument list."""

    def decorate(main: Callable[..., int]) -> Callable[..., int]:
        @functools.wraps(main)
        def guarded(*args, **kwargs) -> int:
            try:
                return main(*args, **kwargs)
            except Exception as error:
                named = doing(args[0] if args and args[0] is not None else sys.argv[1:]) if callable(doing) else doing
                message = explain(error, named)
                if message is None:
                    raise
                print(f"error: {message}", file=sys.stderr)
                return EXIT_IO

        return guarded

    return decorate
