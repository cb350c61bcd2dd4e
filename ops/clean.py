"""`make clean`: deletes the data folder ($MOBILITY_DATA_DIR) whole, and nothing else.

The folder is deleted only when the project created it: it holds the marker file (gateway.MARKER) that every command
writing there leaves in a folder it makes. A folder without the marker (a path mistyped, a folder of other files, a
data folder from before the marker) is refused with a message, and so is one that contains the project itself.
"""

from __future__ import annotations

import shutil
import sys

from gateway import MARKER, WarehouseDamaged, data_dir, faults
from gateway.lock import EXIT_BUSY, WarehouseBusy, warehouse_lock
from ops.common import PROJECT_DIR

EXIT_REFUSED = 2


def refusal(folder) -> str | None:
    """Why the folder must not be deleted, or None when it is the project's data folder."""
    if folder == PROJECT_DIR or folder in PROJECT_DIR.parents:
        return f"MOBILITY_DATA_DIR={folder} contains the project itself; make clean deletes only a data folder."
    if not (folder / MARKER).is_file():
        return (
            f"MOBILITY_DATA_DIR={folder} has no {MARKER} file, so this project did not create it (or created it "
            "before it marked its folders). make clean deletes only a folder it made; nothing was deleted. Check "
            f"the path, and if the folder holds only this project's data, delete it yourself: rm -rf '{folder}'"
        )
    return None


@faults.reported("make clean")
def clean() -> int:
    """Deletes the data folder when it is ours and no writer holds it."""
    folder = data_dir()
    if not folder.exists():
        print(f"Nothing to clean: {folder} does not exist.")
        return 0
    if reason := refusal(folder):
        print(f"error: {reason}", file=sys.stderr)
        return EXIT_REFUSED
    try:
        with warehouse_lock("make clean"):  # not from under a running UI, ingest or promotion
            shutil.rmtree(folder)
    except WarehouseDamaged:  # a damaged warehouse is what one cleans away
        shutil.rmtree(folder)
    except WarehouseBusy as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BUSY
    print(f"Deleted {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(clean())
