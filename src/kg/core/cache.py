"""The cache folder: the loaded and inferred graph, and the answers given on it, kept between commands.

Where: ``$KG_CACHE_DIR``, else ``$XDG_CACHE_HOME/kg``, else ``~/.cache/kg`` (XDG Base Directory
Specification 0.8). ``kg query --no-cache`` neither reads nor writes it; ``kg cache clear`` empties it.

What: one entry per set of inputs, a folder named by :func:`inputs_key`: the SHA-256 of kg's own code
and version, pyoxigraph's version, the engine, the base IRI and the path and content of every
ontology and data file, in order. Any change to any of them is another entry, so a stale entry is
never used. At most :data:`MAX_ENTRIES` entries are kept (the least recently used goes). An entry
holds a snapshot of the graph (written by the engine, :mod:`kg.engines.oxigraph.snapshot`) and
``answers/``, one file per query answer (:class:`Answers`).

Safety: an entry is built in a temporary folder and renamed into place in one step, under a lock
(``flock`` on ``.lock``); an answer is written to a temporary file and renamed. A reader sees a whole
entry or none, and a crash while building leaves only a ``.tmp-*`` folder that is never read (and
that the next build or ``kg cache clear`` removes).

Content hashes are remembered per file by its size, inode, modification and change times (``stat``):
a file whose times are not older than when it was hashed (minus :data:`RACY_SECONDS`) is hashed again,
as git does for "racily clean" files, so an edit within the clock's granularity is never missed.
"""

from __future__ import annotations

import array
import hashlib
import itertools
import json
import os
import shutil
import tempfile
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox

from kg.core import result_stream
from kg.core.errors import InputError
from kg.core.files import locked
from kg.core.version import __version__

RACY_SECONDS = 2
MAX_ENTRIES = 4  # sets of inputs kept; building another removes the least recently used
MAX_ROWS = 1_000_000  # longer answers are not kept (the file would outweigh the work it saves)
KEEP_BYTES = 1 << 20  # data files up to this size are kept (by hash) for a later change to be applied
MAX_CHANGED = 64  # data files that may differ from a cached entry for the change to be applied to it
_MEMO = "hashes.json"
_INPUTS = "inputs.json"
_SOURCES = ".sources"
_TRAILER = 16  # bytes: row count and the offset of the row index, both unsigned 64-bit
_CRC = 4  # bytes: a CRC-32 (zlib), per group of rows of a kept answer and at the end of a kept output
_GROUP = 256  # rows of a kept answer under one CRC-32 (a page checks the groups it overlaps)


def root() -> Path:
    """The cache folder (not created here)."""
    given = os.environ.get("KG_CACHE_DIR")
    if given:
        return Path(given)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "kg"


def _digest(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


class Hashes:
    """SHA-256 of files, remembered by their ``stat`` between commands (see the module docstring)."""

    def __init__(self, folder: Path):
        self.path = folder / _MEMO
        try:
            self.memo: dict[str, list] = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.memo = {}
        self.changed = False
        self.seen: dict[str, list[int]] = {}  # resolved path -> its stat signature when hashed

    def of(self, path: Path) -> str:
        resolved = str(Path(path).resolve())
        try:
            info = os.stat(resolved)
        except OSError as err:
            raise InputError(f"{path}: cannot read: {err.strerror or err}") from None
        signature = _signature(info)
        self.seen[resolved] = signature
        known = self.memo.get(resolved)
        if isinstance(known, list) and len(known) == 6 and known[:4] == signature:
            return str(known[5])
        started = time.time_ns()
        digest = _digest(Path(resolved))
        after = os.stat(resolved)
        settled = max(after.st_mtime_ns, after.st_ctime_ns) < started - RACY_SECONDS * 10**9
        if settled and _signature(after) == signature:
            self.memo[resolved] = [*signature, started, digest]
            self.changed = True
        return digest

    def save(self) -> None:
        if not self.changed:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tmp-hashes-")
            with os.fdopen(fd, "w") as handle:
                json.dump(self.memo, handle)
            os.replace(tmp, self.path)
        except OSError:
            pass  # only a memo: the next command hashes again


def _signature(info: os.stat_result) -> list[int]:
    """What tells a file changed without reading it: size, inode, modification and change times."""
    return [info.st_size, info.st_ino, info.st_mtime_ns, info.st_ctime_ns]


def _code_digest() -> str:
    """kg's own code (every .py file of the package) and version, and pyoxigraph's version."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(f"kg {__version__} pyoxigraph {ox.__version__}".encode())
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def inputs_key(
    engine: str, base: str | None, ontology: Sequence[Path], data: Sequence[Path], hashes: Hashes
) -> str:
    """The name of the entry for these inputs (see the module docstring)."""
    return _inputs(engine, base, ontology, data, hashes)[0]


def _inputs(
    engine: str, base: str | None, ontology: Sequence[Path], data: Sequence[Path], hashes: Hashes
) -> tuple[str, dict]:
    """The entry's name, and what it was built from: the ``stem`` (kg's code, engine, base IRI), and
    each ontology and data file with its content hash."""
    stem = json.dumps(["kg-cache 1", _code_digest(), engine, base])
    digest = hashlib.sha256(stem.encode())
    inputs: dict = {"stem": hashlib.sha256(stem.encode()).hexdigest(), "ontology": [], "data": []}
    for role, files in (("ontology", ontology), ("data", data)):
        for path in files:
            entry = [str(Path(path).resolve()), hashes.of(path)]
            digest.update(json.dumps([role, *entry]).encode() + b"\n")
            inputs[role].append(entry)
    return digest.hexdigest(), inputs


class Cache:
    """The cache folder and the entry for one set of inputs."""

    def __init__(self, key: str, folder: Path | None = None, inputs: dict | None = None):
        self.root = Path(folder) if folder is not None else root()
        self.key = key
        self.entry = self.root / key
        self.inputs = inputs
        self._given: tuple | None = None  # engine, base, ontology and data files, to check again
        self._seen: dict[str, list[int]] = {}  # their stat signatures when they were hashed

    @classmethod
    def for_inputs(
        cls, engine: str, base: str | None, ontology: Sequence[Path], data: Sequence[Path]
    ) -> Cache:
        folder = root()
        hashes = Hashes(folder)
        key, inputs = _inputs(engine, base, ontology, data, hashes)
        hashes.save()
        found = cls(key, folder, inputs)
        found._given = (engine, base, list(ontology), list(data))
        found._seen = dict(hashes.seen)
        if found.exists():
            with suppress(OSError):
                os.utime(found.entry)  # used now (the least recently used entry goes first)
        return found

    @staticmethod
    def has_entries(folder: Path | None = None) -> bool:
        """Whether the cache folder holds any entry (without hashing anything)."""
        folder = Path(folder) if folder is not None else root()
        try:
            return any(not p.name.startswith(".") and p.is_dir() for p in folder.iterdir())
        except OSError:
            return False

    def exists(self) -> bool:
        """Whether the entry for these inputs has been built (it is whole if it is there)."""
        return (self.entry / "meta.json").is_file()

    def discard(self) -> None:
        """Remove this entry (found damaged), so that the next command builds it again."""
        with suppress(OSError), _lock(self.root):
            shutil.rmtree(self.entry, ignore_errors=True)

    def meta(self) -> dict:
        return json.loads((self.entry / "meta.json").read_text())

    @contextmanager
    def building(self) -> Iterator[Path]:
        """A temporary folder to build the entry in; renamed into place when the block ends without
        error, removed otherwise. If another command built the same entry meanwhile, that one stays."""
        self.root.mkdir(parents=True, exist_ok=True)
        _remove_stale(self.root)
        tmp = Path(tempfile.mkdtemp(dir=self.root, prefix=".tmp-"))
        try:
            yield tmp
            (tmp / "answers").mkdir(exist_ok=True)
            if self.inputs is not None:
                (tmp / _INPUTS).write_text(json.dumps(self.inputs))
            with _lock(self.root):
                if self.exists() or not self._unchanged():  # an edited input: not what it is named for
                    shutil.rmtree(tmp, ignore_errors=True)
                else:
                    if self.entry.exists():  # a leftover without meta.json: never whole
                        shutil.rmtree(self.entry, ignore_errors=True)
                    os.rename(tmp, self.entry)
                    _evict(self.root, keep=self.entry)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def _unchanged(self) -> bool:
        """Whether the input files are untouched since this entry was named: the same stat signature
        and content. A file edited since may have been read in its new form, even one edited back to
        its old content meanwhile (A, then C read, then A again): the entry is then not kept."""
        if self._given is None:
            return True
        hashes = Hashes(self.root)
        try:
            if any(_signature(os.stat(path)) != seen for path, seen in self._seen.items()):
                return False
            return _inputs(*self._given, hashes)[0] == self.key
        except OSError:
            return False
        finally:
            hashes.save()

    # --- a change to the inputs of another entry ------------------------------------------------

    def nearest(self) -> tuple[Path, dict[str, str], dict[str, str]] | None:
        """The entry whose inputs differ least from these (same stem and ontology; at most
        :data:`MAX_CHANGED` data files added, removed or changed, the old version of each kept; no
        file given twice, which :mod:`kg.engines.oxigraph.delta` would count once), with
        its data files and these (resolved path -> content hash); None if there is none."""
        if self.inputs is None or not self.root.is_dir():
            return None
        now = dict(map(tuple, self.inputs["data"]))
        if len(now) != len(self.inputs["data"]):
            return None  # a file given twice (or by a link) states its triples twice: not counted here
        best = None
        for folder in self.root.iterdir():
            if folder.name.startswith(".") or folder == self.entry or not (folder / "meta.json").is_file():
                continue
            try:
                then = json.loads((folder / _INPUTS).read_text())
            except (OSError, ValueError):
                continue
            if then.get("stem") != self.inputs["stem"] or then.get("ontology") != self.inputs["ontology"]:
                continue
            before = dict(map(tuple, then["data"]))
            if len(before) != len(then["data"]):
                continue
            changed = [p for p in before.keys() | now.keys() if before.get(p) != now.get(p)]
            if len(changed) > MAX_CHANGED:
                continue
            if any(p in before and not self._source(before[p]).is_file() for p in changed):
                continue
            if best is None or len(changed) < best[0]:
                best = (len(changed), folder, before)
        return None if best is None else (best[1], best[2], now)

    def _source(self, digest: str) -> Path:
        return self.root / _SOURCES / digest

    def old_content(self, digest: str) -> bytes | None:
        """A data file's content as it was when it had hash ``digest``, if kept (and not damaged since:
        a copy whose content no longer has that hash is not used)."""
        try:
            content = self._source(digest).read_bytes()
        except OSError:
            return None
        return content if hashlib.sha256(content).hexdigest() == digest else None

    def keep_sources(self) -> None:
        """Keep a copy of each data file of these inputs up to :data:`KEEP_BYTES`, named by its hash
        (a file whose content no longer has that hash is not kept)."""
        if self.inputs is None:
            return
        folder = self.root / _SOURCES
        for path, digest in self.inputs["data"]:
            target = folder / digest
            try:
                if target.is_file() or os.stat(path).st_size > KEEP_BYTES:
                    continue
                content = Path(path).read_bytes()
                if hashlib.sha256(content).hexdigest() != digest:
                    continue  # edited since it was read: not what the entry holds
                folder.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
                with os.fdopen(fd, "wb") as handle:
                    handle.write(content)
                os.replace(tmp, target)
            except OSError:
                continue  # only a copy: without it a later change is loaded from scratch

    # --- answers ----------------------------------------------------------------------------

    def answer_key(self, *parts: object) -> str:
        return hashlib.sha256(json.dumps([str(p) for p in parts]).encode()).hexdigest()

    def answer(self, key: str, offset: int = 0, limit: int | None = None) -> Answers | None:
        """The stored answer for ``key``, or None; None too if it is damaged in its structure or in
        any of the rows ``offset`` to ``offset + limit`` (all after ``offset`` if limit is None), the
        rows about to be read (it is then removed, to be computed and kept again)."""
        path = self.entry / "answers" / f"{key}.tsv"
        if not (self.exists() and path.is_file()):
            return None
        try:
            answers = Answers(path)
            answers.verify(offset, limit)
            return answers
        except ValueError:  # damaged: computed and kept again
            path.unlink(missing_ok=True)
            for kept in path.parent.glob(f"{key}-*.out"):
                kept.unlink(missing_ok=True)
            return None

    def keep_answer(self, key: str, variables: Sequence[str], rows: Iterable[Sequence]) -> Answers | None:
        """Store an answer (read to its end here); None if it is longer than :data:`MAX_ROWS`."""
        folder = self.entry / "answers"
        if not folder.is_dir():
            return None
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".tsv")
        try:
            with os.fdopen(fd, "wb") as handle:
                if not _write_answer(handle, variables, rows):
                    Path(tmp).unlink()
                    return None
            target = folder / f"{key}.tsv"
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return Answers(target)


def _write_answer(handle: BinaryIO, variables: Sequence[str], rows: Iterable[Sequence]) -> bool:
    """TSV (SPARQL 1.1 Query Results TSV) of the rows, then the byte offset of each row, the CRC-32
    of the header and of each :data:`_GROUP` rows, and the trailer. False if there are more than
    MAX_ROWS rows."""
    header = ("\t".join(f"?{v}" for v in variables) + "\n").encode()
    offsets, crcs = array.array("Q"), array.array("I", [zlib.crc32(header)])
    handle.write(header)
    position, crc = len(header), 0
    for row in rows:
        if len(offsets) >= MAX_ROWS:
            return False
        line = ("\t".join("" if t is None else result_stream._tsv_term(t) for t in row) + "\n").encode()
        if offsets and len(offsets) % _GROUP == 0:
            crcs.append(crc)
            crc = 0
        offsets.append(position)
        crc = zlib.crc32(line, crc)
        handle.write(line)
        position += len(line)
    if offsets:
        crcs.append(crc)
    offsets.append(position)  # the end of the last row
    handle.write(offsets.tobytes())
    handle.write(crcs.tobytes())
    handle.write(array.array("Q", [len(offsets) - 1, position]).tobytes())
    return True


class Answers:
    """A stored answer: rows by position, read from the file without reading the rest."""

    def __init__(self, path: Path):
        self.path = path
        with path.open("rb") as handle:
            handle.seek(-_TRAILER, os.SEEK_END)
            size = handle.seek(0, os.SEEK_END)
            if size < _TRAILER:
                raise ValueError(f"{path}: damaged cache file")
            handle.seek(-_TRAILER, os.SEEK_END)
            trailer = array.array("Q")
            trailer.frombytes(handle.read(_TRAILER))
            self.count, self._index = int(trailer[0]), int(trailer[1])
            handle.seek(0)
            self._header = handle.readline()
            self._crcs = self._index + 8 * (self.count + 1)
            groups = -(-self.count // _GROUP)
            if self._crcs + _CRC * (groups + 1) + _TRAILER != size or len(self._header) > self._index:
                raise ValueError(f"{path}: damaged cache file (not the size its index says)")
            if self._offset(handle, self.count) != self._index or self._offset(handle, 0) != len(
                self._header
            ):
                raise ValueError(f"{path}: damaged cache file (its index does not match)")
            handle.seek(self._crcs)
            header_crc = array.array("I")
            header_crc.frombytes(handle.read(_CRC))
            if zlib.crc32(self._header) != header_crc[0]:
                raise ValueError(f"{path}: damaged cache file (its header changed)")
        self.variables = [v[1:] for v in self._header.decode().rstrip("\n").split("\t") if v]

    def _offset(self, handle: BinaryIO, row: int) -> int:
        handle.seek(self._index + 8 * row)
        value = array.array("Q")
        value.frombytes(handle.read(8))
        return int(value[0])

    def verify(self, offset: int = 0, limit: int | None = None) -> None:
        """Raise ValueError unless rows ``offset`` to ``offset + limit`` (their groups of
        :data:`_GROUP`) have the CRC-32 they were written with (a byte changed in place changes no
        size), and the index gives each of them the start of its own line (an offset changed in place
        would make a page start or end at another row)."""
        start = min(offset, self.count)
        stop = self.count if limit is None else min(self.count, start + limit)
        if stop <= start:
            return
        first, last = start // _GROUP, (stop - 1) // _GROUP + 1
        with self.path.open("rb") as handle:
            crcs = array.array("I")
            handle.seek(self._crcs + _CRC * (first + 1))  # after the header's
            crcs.frombytes(handle.read(_CRC * (last - first)))
            index = array.array("Q")  # the offsets of these groups' rows, and the end of the last
            handle.seek(self._index + 8 * first * _GROUP)
            index.frombytes(handle.read(8 * (min(last * _GROUP, self.count) - first * _GROUP + 1)))
            for number, group in enumerate(range(first, last)):
                at = number * _GROUP
                begin, end = index[at], index[min(at + _GROUP, len(index) - 1)]
                if not begin <= end <= self._index:
                    raise ValueError(f"{self.path}: damaged cache file (rows {group * _GROUP}- moved)")
                handle.seek(begin)
                data = handle.read(end - begin)
                if zlib.crc32(data) != crcs[number]:
                    raise ValueError(f"{self.path}: damaged cache file (rows {group * _GROUP}- changed)")
                lines = data.split(b"\n")[:-1]  # a row is one line: TSV escapes line breaks
                starts = itertools.accumulate((len(line) + 1 for line in lines), initial=begin)
                if array.array("Q", starts) != index[at : at + _GROUP + 1]:
                    raise ValueError(f"{self.path}: damaged cache file (rows {group * _GROUP}- moved)")

    def rows(self, offset: int = 0, limit: int | None = None) -> Iterator[tuple]:
        """Rows ``offset`` to ``offset + limit`` (all after ``offset`` if limit is None)."""
        start = min(offset, self.count)
        stop = self.count if limit is None else min(self.count, start + limit)
        if stop <= start:
            return iter(())
        with self.path.open("rb") as handle:
            begin, end = self._offset(handle, start), self._offset(handle, stop)
        return self._parse(begin, end)

    def write(self, out: BinaryIO, fmt: str, render: Callable[[BinaryIO], None]) -> None:
        """Write the whole answer in ``fmt``: a copy of the bytes kept from the first time, or
        ``render(out)``, keeping a copy of what it writes (renamed into place only when whole)."""
        if not fmt.isalnum():
            raise ValueError(f"not a format name: {fmt!r}")
        kept = self.path.with_name(f"{self.path.stem}-{fmt}.out")
        try:
            with kept.open("rb") as handle:
                if _copy_checked(handle, out):
                    return
            kept.unlink(missing_ok=True)  # damaged: rendered and kept again
        except FileNotFoundError:
            pass
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as copy:
                tee = _Tee(out, copy)
                render(tee)
                copy.write(tee.crc.to_bytes(_CRC, "little"))
            os.replace(tmp, kept)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _parse(self, begin: int, end: int) -> Iterator[tuple]:
        with self.path.open("rb") as handle:
            handle.seek(begin)
            remaining = end - begin
            while remaining > 0:  # a megabyte of whole lines at a time
                block = handle.read(min(remaining, 1 << 20))
                cut = block.rfind(b"\n") + 1 if len(block) < remaining else len(block)
                if cut <= 0:
                    raise InputError(f"{self.path}: damaged cache file (kg cache clear)")
                handle.seek(cut - len(block), os.SEEK_CUR)
                remaining -= cut
                parsed = ox.parse_query_results(self._header + block[:cut], format=ox.QueryResultsFormat.TSV)
                for solution in parsed:
                    yield tuple(solution)


def _copy_checked(handle: BinaryIO, out: BinaryIO) -> bool:
    """Copy a kept output (its bytes, then their CRC-32) to ``out`` if the CRC-32 matches; False,
    writing nothing, if it does not (the file is read twice: checked first, then copied). InputError
    if it changes between the two readings (what was written is then not the kept answer)."""
    size = handle.seek(0, os.SEEK_END) - _CRC
    if size < 0:
        return False
    handle.seek(size)
    want = int.from_bytes(handle.read(_CRC), "little")
    handle.seek(0)
    crc, left = 0, size
    while left > 0:
        chunk = handle.read(min(left, 1 << 20))
        if not chunk:
            return False
        crc, left = zlib.crc32(chunk, crc), left - len(chunk)
    if crc != want:
        return False
    handle.seek(0)
    crc, left = 0, size
    while left > 0:  # checked again: the file may have changed since (never loop on a shorter one)
        chunk = handle.read(min(left, 1 << 20))
        if not chunk:
            break
        out.write(chunk)
        crc, left = zlib.crc32(chunk, crc), left - len(chunk)
    if left or crc != want:
        raise InputError(f"{getattr(handle, 'name', 'a kept output')}: damaged cache file (kg cache clear)")
    return True


class _Tee:
    """Writes to two binary files at once, and keeps the CRC-32 of what it wrote."""

    def __init__(self, first: BinaryIO, second: BinaryIO):
        self.first, self.second, self.crc = first, second, 0

    def write(self, data: bytes) -> int:
        self.first.write(data)
        self.second.write(data)
        self.crc = zlib.crc32(data, self.crc)
        return len(data)

    def flush(self) -> None:
        self.first.flush()
        self.second.flush()


@contextmanager
def _lock(folder: Path) -> Iterator[None]:
    with locked(folder):
        yield


def _evict(folder: Path, keep: Path) -> None:
    """Remove the least recently used entries beyond MAX_ENTRIES (the caller holds the lock)."""
    entries = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".") and p != keep]
    entries.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[MAX_ENTRIES - 1 :]:
        shutil.rmtree(old, ignore_errors=True)
    used = set()
    for entry in [keep, *entries[: MAX_ENTRIES - 1]]:
        try:
            used |= {digest for _, digest in json.loads((entry / _INPUTS).read_text())["data"]}
        except (OSError, ValueError, KeyError):
            continue
    sources = folder / _SOURCES
    if sources.is_dir():
        for blob in sources.iterdir():
            if blob.name not in used and not blob.name.startswith(".tmp-"):
                blob.unlink(missing_ok=True)


def _remove_stale(folder: Path, age: float = 3600.0) -> None:
    """Remove ``.tmp-*`` leftovers of builds that crashed (older than ``age`` seconds)."""
    now = time.time()
    for path in folder.glob(".tmp-*"):
        try:
            if now - path.stat().st_mtime > age:
                shutil.rmtree(path) if path.is_dir() else path.unlink()
        except OSError:
            pass


def clear(folder: Path | None = None) -> int:
    """Remove every entry and leftover from the cache folder; return how many entries went."""
    folder = Path(folder) if folder is not None else root()
    if not folder.is_dir():
        return 0
    count = 0
    with _lock(folder):
        for path in folder.iterdir():
            if path.is_dir():
                count += not path.name.startswith(".")
                shutil.rmtree(path, ignore_errors=True)
            elif path.name == _MEMO or path.name.startswith(".tmp-"):
                path.unlink(missing_ok=True)
    return count
