"""Query results: rows for Python, a readable table, and the W3C result and RDF formats.

SELECT and ASK results are written in the W3C SPARQL 1.1 Query Results formats (JSON, XML, CSV, TSV)
from the rows of the one evaluation (:mod:`kg.core.result_formats`); in CSV, cells a spreadsheet could
run as formulas get a leading quote (see kg.core.spreadsheet). CONSTRUCT and DESCRIBE results are RDF
graphs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html import escape
from typing import BinaryIO

import pyoxigraph as ox

from kg.core import result_stream
from kg.core.errors import UsageError
from kg.core.namespaces import PREFIXES, shorten
from kg.core.result_formats import WRITERS, csv_text
from kg.core.spreadsheet import neutralise
from kg.core.xmlchars import rdf_xml

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple

RESULT_FORMATS = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}
GRAPH_FORMATS = {
    "turtle": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "jsonld": ox.RdfFormat.JSON_LD,
    "xml": ox.RdfFormat.RDF_XML,
    "trig": ox.RdfFormat.TRIG,
    "nquads": ox.RdfFormat.N_QUADS,
}
SELECT_FORMATS = ("table", *RESULT_FORMATS, "xlsx")
CONSTRUCT_FORMATS = ("turtle", "nt", "jsonld", "xml", "table")
QUERY_FORMATS = tuple(dict.fromkeys((*SELECT_FORMATS, *CONSTRUCT_FORMATS)))  # what `kg query` offers


HTML_ROWS = 1000  # rows a notebook shows of a result (to_df() has them all)


def column_name(variable: str) -> str:
    """The one column-naming rule of kg's DataFrames and NetworkX attributes: a SPARQL variable in
    camelCase becomes snake_case (``legalForm`` -> ``legal_form``, ``numberA`` -> ``number_a``), so a
    column is also a Python identifier (``frame.legal_form``)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", variable).lower()


def _cell(text: str, width: int | None = None) -> str:
    """One table cell: a single line; cut with an ellipsis only when ``width`` is given and exceeded."""
    text = " ".join(text.split())
    return text if width is None or len(text) <= width else text[: max(width - 1, 0)] + "…"


def term_text(term: Term | None) -> str:
    """A short human-readable form of a term: prefixed IRI, literal value, or empty."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return shorten(term.value)
    if isinstance(term, ox.Literal):
        return term.value
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return str(term)


def _xlsx_value(term: Term | None) -> object:
    """A cell of a workbook: integers and decimals as numbers when a spreadsheet holds them exactly
    (15 significant digits, IEEE 754 doubles), doubles as numbers; all else as text, as CSV writes it."""
    from decimal import Decimal, InvalidOperation

    if isinstance(term, ox.Literal) and not term.language:
        dt = term.datatype.value.removeprefix("http://www.w3.org/2001/XMLSchema#")
        try:
            if dt in ("integer", "int", "long", "short", "positiveInteger", "nonNegativeInteger", "decimal"):
                number = Decimal(term.value)
                if number.is_finite() and len(number.normalize().as_tuple().digits) <= 15:
                    return int(number) if dt != "decimal" else number
            elif dt in ("double", "float"):
                return float(term.value)
        except (InvalidOperation, ValueError):
            pass
    return csv_text(term)


def python_value(term: Term | None) -> object:
    """A plain Python value for a term: str for IRIs and strings, int/float/bool for numbers."""
    if not isinstance(term, ox.Literal):
        return None if term is None else term.value
    dt = term.datatype.value.rsplit("#", 1)[-1]
    try:
        if dt in ("integer", "int", "long", "positiveInteger", "nonNegativeInteger"):
            return int(term.value)
        if dt in ("decimal", "double", "float"):
            return float(term.value)
    except ValueError:
        return term.value
    if dt == "boolean":
        return term.value in ("true", "1")
    return term.value


@dataclass
class Result:
    """The answer to a query. ``form`` is SELECT, ASK, CONSTRUCT or DESCRIBE.

    A streamed answer (``KnowledgeGraph.query(..., stream=True)``) has an iterator as ``rows`` or
    ``triples``: it can be read once, and ``truncated`` is known once it has been read to the end.
    :meth:`write` writes either kind without holding the rows.
    """

    form: str
    variables: list[str] = field(default_factory=list)
    rows: list[tuple[Term | None, ...]] | Iterator[tuple[Term | None, ...]] = field(default_factory=list)
    boolean: bool | None = None
    triples: list[ox.Triple] | Iterator[ox.Triple] = field(default_factory=list)
    truncated: bool = False  # a limit cut the answer short
    warnings: list[str] = field(default_factory=list)  # e.g. terms of kg's namespaces that match nothing
    # the whole answer as kept in the cache (kg.core.cache.Answers): write() copies its bytes
    kept: object | None = field(default=None, repr=False, compare=False)

    def __iter__(self) -> Iterator[dict[str, object]]:
        """Rows as dicts of plain Python values, keyed by variable name."""
        for row in self.rows:
            yield {v: python_value(t) for v, t in zip(self.variables, row, strict=True)}

    def __len__(self) -> int:
        return len(self.triples) if self.form in ("CONSTRUCT", "DESCRIBE") else len(self.rows)

    def column(self, name: str) -> list[object]:
        """The plain values of one variable, in row order."""
        index = self.variables.index(name)
        return [python_value(row[index]) for row in self.rows]

    def serialize(self, fmt: str = "table") -> bytes:
        """The result in ``fmt``: table, or a W3C result format, or an RDF format for graphs."""
        if fmt == "table":
            return self.table().encode()
        if self.form in ("CONSTRUCT", "DESCRIBE"):
            if fmt not in GRAPH_FORMATS or fmt in ("trig", "nquads"):
                raise UsageError(
                    f"--format {fmt} does not fit a {self.form} query "
                    f"(use one of: {', '.join(CONSTRUCT_FORMATS)})"
                )
            if fmt == "xml":
                return rdf_xml(self.triples, PREFIXES, "--format xml")
            return ox.serialize(self.triples, format=GRAPH_FORMATS[fmt], prefixes=PREFIXES)
        if fmt not in RESULT_FORMATS and fmt != "xlsx":
            raise UsageError(
                f"--format {fmt} does not fit a {self.form} query (use one of: {', '.join(SELECT_FORMATS)})"
            )
        if fmt == "xlsx":
            return self.xlsx()
        if self.form == "ASK" and fmt in ("csv", "tsv"):
            return b"true" if self.boolean else b"false"
        data = WRITERS[fmt](self.variables, self.rows, self.boolean if self.form == "ASK" else None)
        if fmt == "csv":  # cells a spreadsheet would run as formulas get a leading quote (OWASP)
            return neutralise(data.decode("utf-8")).encode("utf-8")
        return data

    def xlsx(self) -> bytes:
        """The rows as an Excel workbook: a header of variable names, numbers as numbers, everything
        else as CSV writes it, formula-like cells neutralised (kg.core.spreadsheet.xlsx)."""
        from kg.core.spreadsheet import xlsx

        if self.form == "ASK":
            rows: list[list[object]] = [["boolean"], ["true" if self.boolean else "false"]]
        else:
            rows = [list(self.variables)] + [[_xlsx_value(t) for t in row] for row in self.rows]
        try:
            return xlsx(rows, sheet="resultaat")
        except ValueError as err:
            raise UsageError(f"--format xlsx: {err}; use --format csv") from None

    def write(self, out: BinaryIO, fmt: str = "table", width: int | None = None) -> None:
        """Write the answer in ``fmt`` to ``out`` as it comes (the bytes :meth:`serialize` gives,
        except that a table longer than its look-ahead sizes its columns from the first rows);
        ``width`` cuts table cells as :meth:`table` does."""
        if self.kept is not None:
            kept, self.kept = self.kept, None
            name = f"{fmt}{width}" if fmt == "table" and width is not None else fmt
            kept.write(out, name, lambda target: self.write(target, fmt, width))
            return
        graph = self.form in ("CONSTRUCT", "DESCRIBE")
        if self.form == "ASK" or (fmt != "table" and not graph and fmt not in RESULT_FORMATS):
            out.write(self.serialize(fmt))  # small, or the error serialize gives
            return
        if fmt == "table":
            noun = "triple" if graph else "row"
            header = ["subject", "predicate", "object"] if graph else list(self.variables)
            body: Iterable = (
                (
                    tuple(_cell(term_text(x), width) for x in (t.subject, t.predicate, t.object))
                    for t in self.triples
                )
                if graph
                else ([_cell(term_text(t), width) for t in row] for row in self.rows)
            )
            result_stream.write_table(header, body, out, noun)
        elif graph:
            if fmt not in GRAPH_FORMATS or fmt in ("trig", "nquads"):
                self.serialize(fmt)  # raises the usage error
            result_stream.write_graph(self.triples, GRAPH_FORMATS[fmt], out, PREFIXES)
        else:
            result_stream.WRITERS[fmt](self.variables, self.rows, out)

    def _header_and_cells(self) -> tuple[list[str], list[list[Term | None]]]:
        if self.form in ("CONSTRUCT", "DESCRIBE"):
            return ["subject", "predicate", "object"], [
                [t.subject, t.predicate, t.object] for t in self.triples
            ]
        return list(self.variables), [list(row) for row in self.rows]

    def table(self, width: int | None = None) -> str:
        """A plain-text table for reading in a terminal, every value whole (on one line); ``width``
        cuts longer values to that many characters with an ellipsis."""
        if self.form == "ASK":
            return ("true" if self.boolean else "false") + "\n"
        header, cells = self._header_and_cells()
        body = [[_cell(term_text(t), width) for t in row] for row in cells]
        widths = [max([len(h), *(len(r[i]) for r in body)]) for i, h in enumerate(header)]
        lines = [
            "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in [header, ["-" * w for w in widths], *body]
        ]
        noun = "triple" if self.form in ("CONSTRUCT", "DESCRIBE") else "row"
        lines.append(f"({len(body)} {noun}{'' if len(body) == 1 else 's'})")
        return "\n".join(lines) + "\n"

    def to_df(self) -> object:
        """The result as a pandas DataFrame: one column per variable, named by :func:`column_name`,
        plain Python values (IRIs and strings as str, numbers as int or float, unbound as None).
        CONSTRUCT and DESCRIBE give the columns subject, predicate, object; ASK one column ``boolean``."""
        import pandas as pd

        if self.form == "ASK":
            return pd.DataFrame({"boolean": [bool(self.boolean)]})
        header, cells = self._header_and_cells()
        data = [[python_value(t) for t in row] for row in cells]
        return pd.DataFrame(data, columns=[column_name(h) for h in header])

    def _repr_html_(self) -> str:
        """How a notebook shows a result: a table of whole values (IRIs as prefixed names, the full IRI
        as a tooltip), at most HTML_ROWS rows, with the number of rows."""
        if self.form == "ASK":
            return f"<p><code>{'true' if self.boolean else 'false'}</code></p>"
        header, cells = self._header_and_cells()

        def cell(term: Term | None) -> str:
            text = escape(term_text(term))
            if isinstance(term, ox.NamedNode):
                return f'<td title="{escape(term.value)}">{text}</td>'
            if isinstance(term, ox.Literal) and term.language:
                return f'<td lang="{escape(term.language)}">{text} <sub>@{escape(term.language)}</sub></td>'
            return f"<td>{text}</td>"

        head = "".join(f"<th>{escape(column_name(h))}</th>" for h in header)
        body = "".join("<tr>" + "".join(cell(t) for t in row) + "</tr>" for row in cells[:HTML_ROWS])
        noun = "triple" if self.form in ("CONSTRUCT", "DESCRIBE") else "row"
        count = f"{len(cells)} {noun}{'' if len(cells) == 1 else 's'}"
        if len(cells) > HTML_ROWS:
            count += f", the first {HTML_ROWS} shown (to_df() has them all)"
        if self.truncated:
            count += ", cut by a limit"
        return (
            f'<table class="kg-result"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
            f"<p>({escape(count)})</p>"
        )
