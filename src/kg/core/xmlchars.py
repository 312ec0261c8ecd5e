"""Characters XML 1.0 cannot hold, found before an XML document is written; CR kept as ``&#13;``.

XML 1.0 (fifth edition), section 2.2: a document holds only Chars (tab, LF, CR, U+0020-U+D7FF,
U+E000-U+FFFD, U+10000-U+10FFFF). The other C0 controls (ESC, U+001B, among them), surrogates,
U+FFFE and U+FFFF cannot appear, not even as a character reference (section 4.1, "Legal Character").
An RDF literal may hold them (Turtle writes ``"\\u001B"``), so RDF/XML, SPARQL XML results, GraphML,
GEXF and .xlsx (Office Open XML) cannot carry it: kg refuses such an output, naming the file and line
of the literal (kg.core.sources), before a byte is written, instead of writing what no XML parser reads.

A CR written as such is read back as LF (section 2.11, end-of-line handling): every XML writer of kg
writes it as the character reference ``&#13;`` (:class:`KeepCR`), so the literal comes back whole.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox

from kg.core.errors import InputError, UsageError
from kg.core.sources import locate

NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_READ_LIMIT = 200_000_000  # a file larger than this is not searched for the line
# In the N-Triples Oxigraph writes for a chunk of triples, each of those characters is written as an
# ECHAR (\b, \f) or a UCHAR, or (another version of the writer) as itself: a C0 byte, or U+FFFE/U+FFFF
# after the byte 0xEF. A backslash written as ``\\`` or another character after 0xEF may look the same
# (a false alarm only sends the chunk to the term-by-term check). IRIs cannot hold them (Oxigraph
# refuses such an IRI).
_ESCAPED = re.compile(rb"\\(?:[bfU]|u(?:00[01][0-9A-Fa-f]|[Dd][89A-Fa-f][0-9A-Fa-f]{2}|[Ff]{3}[EeFf]))")
_HARMLESS = bytes(c for c in range(256) if c in (0x09, 0x0A, 0x0D) or 0x20 <= c != 0xEF)  # deleted
_CHUNK = 65_536  # triples checked by one serialization and one search


def _chunks(triples: Iterable[ox.Triple]) -> Iterator[list[ox.Triple]]:
    iterator = iter(triples)
    while chunk := list(itertools.islice(iterator, _CHUNK)):
        yield chunk


def _fit(chunk: list[ox.Triple]) -> bool:
    """Whether no triple of ``chunk`` can hold a character XML cannot hold: one N-Triples serialization
    and two passes over it (a fifth of the time of a search per term); False: look term by term."""
    text = ox.serialize(chunk, format=ox.RdfFormat.N_TRIPLES)
    return not suspect(text) and _ESCAPED.search(text) is None


def suspect(data: bytes) -> bool:
    """Whether UTF-8 ``data`` may hold a character XML cannot hold as itself (a C0 byte but tab, LF
    and CR, or a byte 0xEF, which starts U+FFFE and U+FFFF): one pass at C speed; True only means look
    closer, term by term."""
    return bool(data.translate(None, _HARMLESS))


def shown(char: str) -> str:
    """``U+001B``: how a message names a character (it is never printed as such)."""
    return f"U+{ord(char):04X}"


def unfit(term: object) -> str | None:
    """The first character of an RDF term (or quoted triple) that XML 1.0 cannot hold, if any."""
    if term is None:
        return None
    if isinstance(term, ox.Triple):
        return unfit(term.subject) or unfit(term.predicate) or unfit(term.object)
    found = NOT_IN_XML.search(getattr(term, "value", ""))
    return found[0] if found else None


def unfit_text(text: str) -> str | None:
    """The first character of ``text`` that XML 1.0 cannot hold, if any."""
    found = NOT_IN_XML.search(text)
    return found[0] if found else None


def check_triples(
    triples: Iterable[ox.Triple], output: str, files: Sequence[Path] = (), base: str | None = None
) -> None:
    """InputError naming where the first triple with a character XML cannot hold is written (file and
    line among ``files``, else the triple itself) and that ``output`` cannot be written."""
    for triple in (t for chunk in _chunks(triples) if not _fit(chunk) for t in chunk):
        char = unfit(triple)
        if char is not None:
            raise InputError(
                f"{place(triple, char, files, base)}{triple.subject} {triple.predicate}: holds "
                f"{shown(char)}, a control character that XML 1.0 cannot hold (section 2.2); {output} "
                "cannot be written (nothing was written; remove the character from the data)"
            )


def check_row(variables: Sequence[str], row: Sequence[object], number: int, output: str) -> None:
    """UsageError naming the row and variable of a value XML cannot hold (a query answer)."""
    for variable, term in zip(variables, row, strict=True):
        char = unfit(term)
        if char is not None:
            raise UsageError(
                f"{output}: row {number}, ?{variable}: holds {shown(char)}, a control character that "
                "XML 1.0 cannot hold (section 2.2); use --format json"
            )


def checked(triples: Iterable[ox.Triple], output: str) -> Iterator[ox.Triple]:
    """The triples as they come, checked a chunk at a time before any of the chunk is given; UsageError
    at the first one XML cannot hold (a query answer)."""
    before = 0  # triples of the chunks before this one
    for chunk in _chunks(triples):
        for number, triple in enumerate(() if _fit(chunk) else chunk, start=before + 1):
            char = unfit(triple)
            if char is not None:
                raise UsageError(
                    f"{output}: triple {number} ({triple.subject} {triple.predicate}): holds {shown(char)}, "
                    "a control character that XML 1.0 cannot hold (section 2.2); use --format turtle"
                )
        yield from chunk
        before += len(chunk)


class KeepCR:
    """A binary writer that writes each CR as ``&#13;`` (so XML parsers keep it) to ``out``.

    Only in character data and attribute values of the XML kg writes can a CR occur (its own markup
    ends lines with LF), and a character reference means the character in both (section 4.1)."""

    def __init__(self, out: BinaryIO):
        self.out = out

    def write(self, data: bytes) -> int:
        data = bytes(data)
        self.out.write(data.replace(b"\r", b"&#13;"))
        return len(data)  # what was taken: Oxigraph's writer counts on it

    def flush(self) -> None:
        flush = getattr(self.out, "flush", None)
        if flush is not None:
            flush()


def rdf_xml(triples: Iterable[ox.Triple], prefixes: dict[str, str], output: str = "RDF/XML") -> bytes:
    """RDF/XML (Oxigraph's writer) with CR kept; UsageError for a character XML cannot hold."""
    import io

    out = io.BytesIO()
    ox.serialize(list(checked(triples, output)), KeepCR(out), format=ox.RdfFormat.RDF_XML, prefixes=prefixes)
    return out.getvalue()


def place(triple: ox.Triple, char: str, files: Sequence[Path], base: str | None = None) -> str:
    """``file:line: `` where ``char`` of ``triple`` is written, as near as can be found, or ``""``.

    The subject's definition is found as validation reports find it (kg.core.sources.locate); from
    there on, the first line that writes the character (as such, or as ``\\uXXXX``/``\\UXXXXXXXX``
    in Turtle, N-Triples and JSON-LD) is the line; a blank-node subject is looked for in every file."""
    files = [Path(f) for f in files]
    starts: list[tuple[Path, int]] = []
    if isinstance(triple.subject, ox.NamedNode):
        found = locate([triple.subject.value], files, base)
        if triple.subject.value in found:
            starts = [found[triple.subject.value]]
    for path, line in starts or [(f, 1) for f in files]:
        hit = _written(path, line, char)
        if hit is not None:
            return f"{path}:{hit}: "
    return f"{starts[0][0]}:{starts[0][1]}: " if starts else ""


def _written(path: Path, line: int, char: str) -> int | None:
    """The first line from ``line`` on in ``path`` that writes ``char``, raw or escaped."""
    try:
        if path.stat().st_size > _READ_LIMIT:
            return None
        text = path.read_bytes().decode("utf-8", "replace")
    except OSError:
        return None
    code = ord(char)
    pattern = re.compile(
        re.escape(char) + rf"|\\u{code:04x}|\\U{code:08x}" if code <= 0xFFFF else re.escape(char),
        re.IGNORECASE,
    )
    offset = 0
    for _ in range(line - 1):
        offset = text.find("\n", offset) + 1
        if offset == 0:
            return None
    found = pattern.search(text, offset)
    return None if found is None else line + text.count("\n", offset, found.start())
