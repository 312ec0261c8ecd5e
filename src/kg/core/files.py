"""Writing files so that nothing is ever half-written or lost.

One file: written to a temporary file beside it, then renamed over it (rename is atomic on POSIX).
Several files: all are written to temporary files first; then a journal listing the renames is
written (atomically) and the renames are done; the journal is removed last. If the process dies
during the renames, ``recover()`` (run at the start of every writing command) finishes them, so the
folder always ends up either wholly before or wholly after the change.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from kg.core.errors import InputError

JOURNAL = ".kg-write-journal.json"


def _mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _temp_beside(target: Path, data: bytes) -> Path:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _mode())  # mkstemp makes 0600; give the file the usual mode
    except BaseException:
        os.unlink(tmp)
        raise
    return Path(tmp)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step."""
    target = Path(path).resolve()
    try:
        os.replace(_temp_beside(target, data), target)
    except OSError as err:
        raise InputError(f"{path}: cannot write: {err.strerror or err}") from None


def write_many(folder: Path, files: Mapping[Path, bytes]) -> None:
    """Replace several files under ``folder`` as one change (see the module docstring)."""
    folder = Path(folder).resolve()
    staged: list[tuple[str, str]] = []
    try:
        for path, data in files.items():
            target = Path(path).resolve()
            target.parent.mkdir(parents=True, exist_ok=True)
            staged.append((str(_temp_beside(target, data)), str(target)))
        write_atomic(folder / JOURNAL, json.dumps(staged).encode())
    except BaseException:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        raise
    recover(folder)


def recover(folder: Path) -> bool:
    """Finish the renames of an interrupted ``write_many`` in ``folder``; True if there were any."""
    journal = Path(folder) / JOURNAL
    if not journal.exists():
        return False
    for tmp, target in json.loads(journal.read_text()):
        if Path(tmp).exists():
            os.replace(tmp, target)
    journal.unlink()
    return True
