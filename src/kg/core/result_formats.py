"""Writers of the W3C SPARQL 1.1 Query Results formats from rows already computed.

JSON (W3C Recommendation 2013, section 3), XML (section 2 of the XML format), CSV and TSV (the CSV/TSV
Recommendation): one evaluation of a query gives every format, with no second run. The bytes are
those Oxigraph's own serializers write for the same solutions (a test compares them), except that XML
writes a CR as ``&#13;`` (a raw one is read back as LF) and refuses a value XML 1.0 cannot hold
(kg.core.xmlchars) instead of writing a document no parser reads.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from kg.core.namespaces import XSD
from kg.core.xmlchars import check_row

Row = Sequence[ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None]
_STRING = XSD + "string"


def _json_term(term: object) -> dict:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Triple):
        return {
            "type": "triple",
            "value": {
                "subject": _json_term(term.subject),
                "predicate": _json_term(term.predicate),
                "object": _json_term(term.object),
            },
        }
    out = {"type": "literal", "value": term.value}
    if term.language:
        out["xml:lang"] = term.language
    elif term.datatype.value != _STRING:
        out["datatype"] = term.datatype.value
    return out


def _json(variables: Sequence[str], rows: Sequence[Row], boolean: bool | None) -> bytes:
    if boolean is not None:
        return json.dumps({"head": {}, "boolean": boolean}, separators=(",", ":")).encode()
    bindings = [
        {v: _json_term(t) for v, t in zip(variables, row, strict=True) if t is not None} for row in rows
    ]
    document = {"head": {"vars": list(variables)}, "results": {"bindings": bindings}}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def _xml_term(term: object) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, ox.Triple):
        parts = zip(
            ("subject", "predicate", "object"), (term.subject, term.predicate, term.object), strict=True
        )
        return "<triple>" + "".join(f"<{k}>{_xml_term(v)}</{k}>" for k, v in parts) + "</triple>"
    text = escape(term.value, {'"': "&quot;", "'": "&apos;", "\r": "&#13;"})  # CR kept (XML 2.11)
    if term.language:
        return f"<literal xml:lang={quoteattr(term.language)}>{text}</literal>"
    if term.datatype.value != _STRING:
        return f"<literal datatype={quoteattr(term.datatype.value)}>{text}</literal>"
    return f"<literal>{text}</literal>"


def _xml(variables: Sequence[str], rows: Sequence[Row], boolean: bool | None) -> bytes:
    out = ['<?xml version="1.0"?><sparql xmlns="http://www.w3.org/2005/sparql-results#">']
    if boolean is not None:
        out.append(f"<head></head><boolean>{str(boolean).lower()}</boolean></sparql>")
        return "".join(out).encode()
    out.append("<head>" + "".join(f"<variable name={quoteattr(v)}/>" for v in variables) + "</head>")
    out.append("<results>")
    for number, row in enumerate(rows, start=1):
        check_row(variables, row, number, "--format xml")
        cells = "".join(
            f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>"
            for v, t in zip(variables, row, strict=True)
            if t is not None
        )
        out.append(f"<result>{cells}</result>")
    out.append("</results></sparql>")
    return "".join(out).encode()


def csv_text(term: object) -> str:
    """A term as the CSV format writes it: IRIs and literals bare, blank nodes as ``_:label``."""
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Triple):
        return str(term)
    return term.value


def _csv_cell(text: str) -> str:
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv(variables: Sequence[str], rows: Sequence[Row], boolean: bool | None) -> bytes:
    lines = [",".join(_csv_cell(v) for v in variables)]
    lines += [",".join(_csv_cell(csv_text(t)) for t in row) for row in rows]
    return "".join(line + "\r\n" for line in lines).encode()


def _tsv(variables: Sequence[str], rows: Sequence[Row], boolean: bool | None) -> bytes:
    lines = ["\t".join(f"?{v}" for v in variables)]
    lines += ["\t".join("" if t is None else _tsv_term(t) for t in row) for row in rows]
    return "".join(line + "\n" for line in lines).encode()


def _tsv_term(term: object) -> str:
    if (
        isinstance(term, ox.Literal)
        and not term.language
        and term.datatype.value
        in (
            XSD + "integer",
            XSD + "decimal",
            XSD + "double",
            XSD + "boolean",
        )
    ):
        return term.value if _bare_number(term) else str(term)
    return str(term)


def _bare_number(term: ox.Literal) -> bool:
    """Whether Turtle reads the bare lexical form back as the same literal (TSV writes it bare)."""
    try:
        return ox.parse(f"<x:s> <x:p> {term.value} .", format=ox.RdfFormat.TURTLE).__next__().object == term
    except (SyntaxError, StopIteration):
        return False


WRITERS: dict[str, Callable[[Sequence[str], Sequence[Row], bool | None], bytes]] = {
    "json": _json,
    "xml": _xml,
    "csv": _csv,
    "tsv": _tsv,
}
