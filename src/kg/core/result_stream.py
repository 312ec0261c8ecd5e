"""Writing a query's answer row by row as it comes, in every output format, with memory that does not
grow with the number of rows.

The bytes are those of :meth:`kg.core.results.Result.serialize` for the same answer (a test compares
them): the W3C SPARQL 1.1 Query Results formats (JSON section 3, XML, CSV and TSV) written one
solution at a time, RDF graphs through Oxigraph's streaming serializers. Two formats need a look
ahead, which is bounded: the terminal table sizes its columns from the first :data:`TABLE_LOOKAHEAD`
rows (later rows are cut to the same :data:`kg.core.results.CELL_WIDTH` but may stick out), and CSV
cells a spreadsheet would run as formulas are quoted row by row (OWASP; :mod:`kg.core.spreadsheet`).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import BinaryIO

import pyoxigraph as ox

from kg.core.result_formats import _csv_cell, _json_term, _tsv_term, _xml_term, csv_text
from kg.core.spreadsheet import looks_like_formula, write_rows
from kg.core.xmlchars import KeepCR, check_row, checked, suspect

TABLE_LOOKAHEAD = 1000
_CHUNK = 512  # rows per write


def _chunks(lines: Iterable[str], out: BinaryIO) -> None:
    """Write ``lines`` in chunks of :data:`_CHUNK` (few system calls, bounded memory)."""
    iterator = iter(lines)
    while chunk := list(itertools.islice(iterator, _CHUNK)):
        out.write("".join(chunk).encode("utf-8"))


def write_json(variables: Sequence[str], rows: Iterable[Sequence], out: BinaryIO) -> None:
    """SPARQL 1.1 Query Results JSON (section 3), :data:`_CHUNK` bindings at a time (one encoder call
    for them: three times as fast as one a binding)."""
    head = json.dumps({"vars": list(variables)}, ensure_ascii=False, separators=(",", ":"))
    out.write(f'{{"head":{head},"results":{{"bindings":['.encode())
    iterator, separator = iter(rows), ""
    while batch := list(itertools.islice(iterator, _CHUNK)):
        bindings = [
            {v: _json_term(t) for v, t in zip(variables, row, strict=True) if t is not None} for row in batch
        ]
        text = json.dumps(bindings, ensure_ascii=False, separators=(",", ":"))
        out.write((separator + text[1:-1]).encode("utf-8"))
        separator = ","
    out.write(b"]}}")


def write_xml(variables: Sequence[str], rows: Iterable[Sequence], out: BinaryIO) -> None:
    """SPARQL Query Results XML Format (second edition), :data:`_CHUNK` result elements at a time; the
    document starts with the first chunk, and a chunk is written only once it is known to hold no
    character XML cannot hold (kg.core.xmlchars: one pass over its bytes, then its rows if need be),
    so that such a value in the first chunk stops the answer before a byte is written."""
    from xml.sax.saxutils import quoteattr

    head = "".join(f"<variable name={quoteattr(v)}/>" for v in variables)
    names = [quoteattr(v) for v in variables]
    parts = [
        f'<?xml version="1.0"?><sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>{head}'
        "</head><results>"
    ]
    iterator, before = iter(rows), 0
    while batch := list(itertools.islice(iterator, _CHUNK)):
        for row in batch:
            cells = "".join(
                f"<binding name={n}>{_xml_term(t)}</binding>"
                for n, t in zip(names, row, strict=True)
                if t is not None
            )
            parts.append(f"<result>{cells}</result>")
        data = "".join(parts).encode("utf-8")
        if suspect(data):  # the row that holds it, if one does (0xEF may also start a Char)
            for number, row in enumerate(batch, start=before + 1):
                check_row(variables, row, number, "--format xml")
        out.write(data)
        parts, before = [], before + len(batch)
    out.write(("".join(parts) + "</results></sparql>").encode("utf-8"))


def write_csv(variables: Sequence[str], rows: Iterable[Sequence], out: BinaryIO) -> None:
    """SPARQL 1.1 Query Results CSV, CRLF line ends; formula-like cells quoted (OWASP) row by row."""

    def line(cells: list[str]) -> str:
        if any(looks_like_formula(c) for c in cells):
            return write_rows([cells])
        return ",".join(_csv_cell(c) for c in cells) + "\r\n"

    _chunks(itertools.chain([line(list(variables))], (line([csv_text(t) for t in row]) for row in rows)), out)


def write_tsv(variables: Sequence[str], rows: Iterable[Sequence], out: BinaryIO) -> None:
    """SPARQL 1.1 Query Results TSV: terms in Turtle syntax, one line per solution."""
    header = "\t".join(f"?{v}" for v in variables) + "\n"
    body = ("\t".join("" if t is None else _tsv_term(t) for t in row) + "\n" for row in rows)
    _chunks(itertools.chain([header], body), out)


def write_table(header: Sequence[str], rows: Iterable[Sequence[str]], out: BinaryIO, noun: str) -> None:
    """The terminal table of :meth:`Result.table`, column widths from the first rows only."""
    iterator = iter(rows)
    first = list(itertools.islice(iterator, TABLE_LOOKAHEAD))
    widths = [max([len(h), *(len(r[i]) for r in first)]) for i, h in enumerate(header)]
    count = 0

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip() + "\n"

    def lines() -> Iterator[str]:
        nonlocal count
        yield line(header)
        yield line(["-" * w for w in widths])
        for row in itertools.chain(first, iterator):
            count += 1
            yield line(row)

    _chunks(lines(), out)
    out.write(f"({count} {noun}{'' if count == 1 else 's'})\n".encode())


def write_graph(triples: Iterable[ox.Triple], fmt: ox.RdfFormat, out: BinaryIO, prefixes: dict) -> None:
    """An RDF graph through Oxigraph's serializer, which writes as the triples come."""
    if fmt == ox.RdfFormat.N_TRIPLES:  # no prefixes, no grouping: chunk by chunk
        iterator = iter(triples)
        while chunk := list(itertools.islice(iterator, _CHUNK)):
            out.write(ox.serialize(chunk, format=fmt))
        return
    if fmt == ox.RdfFormat.RDF_XML:  # refused at a triple XML cannot hold; CR kept (kg.core.xmlchars)
        ox.serialize(checked(triples, "--format xml"), KeepCR(out), format=fmt, prefixes=prefixes)
        return
    ox.serialize(triples, out, format=fmt, prefixes=prefixes)


WRITERS = {"json": write_json, "xml": write_xml, "csv": write_csv, "tsv": write_tsv}
