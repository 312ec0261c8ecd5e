"""Writing files so that nothing is ever half-written or lost, and reading only whole, bounded files.

One file: written to a temporary file beside it, then renamed over it (rename is atomic on POSIX).
Several files: all are written to temporary files first; then a journal listing the renames is
written (atomically) and the renames are done; the journal is removed last. If the process dies
during the renames, :func:`recover` finishes them, so the folder always ends up either wholly before or
wholly after the change. Every writing command recovers first and removes the temporary files a killed
kg left behind; every reading command finishes a pending journal before it reads (:func:`settle`).

A journal is input like any other: it is obeyed only if each entry renames one of kg's own temporary
files (``.NAME.XXXXXXXX.tmp``) onto ``NAME`` in the same folder, inside the folder that holds the
journal (symbolic links resolved). Anything else is refused, and nothing is moved.

Writers of one folder take an exclusive ``flock`` on the folder itself, so two imports never interleave.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import stat
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from kg.core.errors import InputError

JOURNAL = ".kg-write-journal.json"
_TEMP = re.compile(r"\.(?P<name>.+)\.[A-Za-z0-9_]{8}\.tmp")  # what tempfile.mkstemp makes below


class JournalError(InputError):
    """A write journal that kg did not write, or that points outside its folder: nothing is moved."""


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
        if target.exists() and not target.is_file():
            raise InputError(f"{path}: not a regular file; kg writes files only")
        os.replace(_temp_beside(target, data), target)
    except OSError as err:
        raise InputError(f"{path}: cannot write: {err.strerror or err}") from None


@contextmanager
def atomic_output(path: Path) -> Iterator[BinaryIO]:
    """A file to write ``path`` through: a temporary file beside it, renamed into place only when the
    block ends without error (removed otherwise), so a reader never sees it half written."""
    target = Path(path).resolve()
    if target.exists() and not target.is_file():
        raise InputError(f"{path}: not a regular file; kg writes files only")
    try:
        tmp = _temp_beside(target, b"")
    except OSError as err:
        raise InputError(f"{path}: cannot write: {err.strerror or err}") from None
    try:
        with tmp.open("ab") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise InputError(f"{path}: cannot write: {err.strerror or err}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (a ``flock`` on the folder itself; no file is created)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def write_many(folder: Path, files: Mapping[Path, bytes]) -> None:
    """Replace several files under ``folder`` as one change (see the module docstring).

    The caller should hold :func:`locked` on ``folder`` for the whole read-change-write; this
    function takes no lock of its own.
    """
    folder = Path(folder).resolve()
    recover(folder)
    staged: list[tuple[str, str]] = []
    try:
        for path, data in files.items():
            target = Path(path).resolve()
            if not target.is_relative_to(folder):
                raise InputError(f"{path}: outside {folder}; kg writes only inside the data folder")
            target.parent.mkdir(parents=True, exist_ok=True)
            staged.append((str(_temp_beside(target, data)), str(target)))
        write_atomic(folder / JOURNAL, json.dumps(staged).encode())
    except BaseException:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        raise
    recover(folder)


def _entries(folder: Path, journal: Path) -> list[tuple[Path, Path]]:
    """The journal's renames, each checked; JournalError for anything kg would not have written."""
    fix = f"nothing was moved. Check {folder} (kg validate; git status) and remove {journal} to go on"
    try:
        entries = json.loads(journal.read_bytes())
        if not isinstance(entries, list) or not all(
            isinstance(e, list) and len(e) == 2 and all(isinstance(p, str) for p in e) for e in entries
        ):
            raise ValueError("not a list of [temporary file, target] pairs")
    except (ValueError, UnicodeDecodeError) as err:
        raise JournalError(f"{journal}: not a write journal of kg ({err}); {fix}") from None
    except OSError as err:
        raise JournalError(f"{journal}: cannot read: {err.strerror or err}; {fix}") from None
    root = folder.resolve()
    checked = []
    for tmp_name, target_name in entries:
        tmp, target = Path(tmp_name), Path(target_name)
        # the folders are resolved (symbolic links, ..); the names themselves must be plain
        tmp_dir, target_dir = tmp.parent.resolve(), target.parent.resolve()
        match = _TEMP.fullmatch(tmp.name)
        inside = tmp_dir.is_relative_to(root) and target_dir.is_relative_to(root)
        if not (tmp.is_absolute() and target.is_absolute() and inside and tmp_dir == target_dir):
            raise JournalError(f"{journal}: renames {tmp_name} onto {target_name}, outside {folder}; {fix}")
        if match is None or match["name"] != target.name or target.name in ("", ".", ".."):
            raise JournalError(f"{journal}: {tmp_name} is not a temporary file of {target_name}; {fix}")
        checked.append((tmp_dir / tmp.name, target_dir / target.name))
    return checked


def recover(folder: Path) -> bool:
    """Finish the renames of an interrupted ``write_many`` in ``folder``; True if there were any.

    The journal is checked entry by entry before anything moves (JournalError, exit 2, otherwise).
    Afterwards the temporary files a killed kg left behind are removed.
    """
    folder = Path(folder)
    journal = folder / JOURNAL
    if not journal.exists():
        remove_stale_temporaries(folder)
        return False
    entries = _entries(folder, journal)
    try:
        for tmp, target in entries:
            if tmp.exists():
                os.replace(tmp, target)
        journal.unlink()
    except OSError as err:
        raise InputError(
            f"{journal}: an interrupted change cannot be finished ({err.strerror or err}); "
            "run kg where it may write this folder"
        ) from None
    remove_stale_temporaries(folder)
    return True


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Remove kg's own temporary files (``.NAME.XXXXXXXX.tmp``) under ``folder``; what was removed.

    Only when no journal is pending (its files are still needed) and only kg's naming pattern: a
    steward's own ``notes.tmp`` stays.
    """
    folder = Path(folder)
    if (folder / JOURNAL).exists():
        return []
    removed = []
    for path in folder.rglob(".*.tmp"):
        if _TEMP.fullmatch(path.name) and path.is_file() and not path.is_symlink():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def settle(folder: Path) -> None:
    """Before reading ``folder``: finish a pending journal there (under the lock), or refuse to read."""
    folder = Path(folder)
    if (folder / JOURNAL).exists():
        with locked(folder):
            if (folder / JOURNAL).exists():
                recover(folder)


def regular_file(path: Path, max_bytes: int | None = None) -> int:
    """The size of ``path``; InputError unless it is a regular file (no FIFO, device or folder).

    ``max_bytes`` bounds the size; the error names the option that raises it.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as err:
        raise InputError(f"{path}: cannot read: {err.strerror or err}") from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file (a pipe or device)"
        raise InputError(f"{path}: {kind}; kg reads regular files only")
    if max_bytes is not None and info.st_size > max_bytes:
        raise InputError(
            f"{path}: {info.st_size / 1e6:.1f} MB, more than the limit of {max_bytes / 1e6:g} MB "
            "(raise it with --max-size MB)"
        )
    return info.st_size
