"""Parse what a remote SPARQL store answers: the four W3C result formats and the common RDF formats.

SPARQL 1.1 Query Results JSON (W3C Rec, 2013), XML (second edition, 2013) and CSV/TSV (2013). Any
blank node label a store sends is accepted (Virtuoso writes ``nodeID://b10003``; the formats leave
labels to the server): each distinct label becomes one blank node of the result, with a label that
is a valid N-Triples label derived from it (the same label always gives the same node). XML comes
with no DOCTYPE or entities (results never need one); CSV carries no term types (section 3 of the CSV/TSV
note), so its cells are read as plain literals and it is the last format kg asks for.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.parsers.expat

import pyoxigraph as ox

from kg.core.errors import InputError
from kg.core.results import Result

_LABEL = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*(?<!\.)")
_XSD = "http://www.w3.org/2001/XMLSchema#"
_RDF_LANG = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


class AnswerError(InputError):
    """The store's answer is not in the format it says it is."""


def blank(label: str) -> ox.BlankNode:
    """The blank node for a store's label: the label itself if valid, else one derived from it."""
    if _LABEL.fullmatch(label):
        return ox.BlankNode(label)
    return ox.BlankNode("x" + label.encode("utf-8").hex())


def _literal(value: str, lang: str | None, datatype: str | None) -> ox.Literal:
    if lang:
        return ox.Literal(value, language=lang)
    if datatype and datatype != _RDF_LANG:
        return ox.Literal(value, datatype=ox.NamedNode(datatype))
    return ox.Literal(value)


def _json_term(cell: dict) -> object:
    kind, value = cell.get("type"), cell.get("value")
    if kind == "uri":
        return ox.NamedNode(value)
    if kind == "bnode":
        return blank(value)
    if kind in ("literal", "typed-literal"):  # typed-literal: the 2007 draft, still sent by Virtuoso
        return _literal(value, cell.get("xml:lang"), cell.get("datatype"))
    if kind == "triple":  # SPARQL 1.2 / RDF-star
        v = value
        return ox.Triple(_json_term(v["subject"]), _json_term(v["predicate"]), _json_term(v["object"]))
    raise AnswerError(f"unknown term type {kind!r}")


def parse_json(body: bytes) -> Result:
    """SPARQL 1.1 Query Results JSON Format (sections 3.1 and 3.2)."""
    data = json.loads(body)
    if "boolean" in data:
        return Result("ASK", boolean=bool(data["boolean"]))
    names = list(data["head"].get("vars", []))
    rows = [
        tuple(None if n not in b else _json_term(b[n]) for n in names) for b in data["results"]["bindings"]
    ]
    return Result("SELECT", names, rows)


def parse_xml(body: bytes) -> Result:
    """SPARQL Query Results XML Format (section 2); any DOCTYPE is refused."""
    names: list[str] = []
    rows: list[tuple] = []
    state: dict = {"row": None, "name": None, "kind": None, "attrs": {}, "text": [], "boolean": None}
    stack: list[dict] = []

    def refuse(*_: object) -> None:
        raise AnswerError("XML results with a DOCTYPE (kg reads none)")

    def start(tag: str, attrs: dict) -> None:
        local = tag.rsplit(" ", 1)[-1]
        if local == "variable":
            names.append(attrs["name"])
        elif local == "result":
            state["row"] = {}
        elif local == "binding":
            state["name"] = attrs["name"]
        elif local == "triple":
            stack.append({"parts": {}, "name": state["name"]})
        elif local in ("subject", "predicate", "object") and stack:
            stack[-1]["slot"] = local
        elif local in ("uri", "bnode", "literal", "boolean"):
            state["kind"], state["attrs"], state["text"] = local, attrs, []

    def end(tag: str) -> None:
        local = tag.rsplit(" ", 1)[-1]
        text = "".join(state["text"])
        if local == "boolean":
            state["boolean"] = text.strip() == "true"
        elif local in ("uri", "bnode", "literal"):
            attrs = state["attrs"]
            lang = attrs.get("http://www.w3.org/XML/1998/namespace lang")
            term = (
                ox.NamedNode(text)
                if local == "uri"
                else blank(text)
                if local == "bnode"
                else _literal(text, lang, attrs.get("datatype"))
            )
            state["kind"] = None
            if stack and "slot" in stack[-1]:
                stack[-1]["parts"][stack[-1].pop("slot")] = term
            else:
                state["row"][state["name"]] = term
        elif local == "triple":
            done = stack.pop()
            p = done["parts"]
            term = ox.Triple(p["subject"], p["predicate"], p["object"])
            if stack:
                stack[-1]["parts"][stack[-1].pop("slot")] = term
            else:
                state["row"][done["name"]] = term
        elif local == "result":
            rows.append(tuple(state["row"].get(n) for n in names))
            state["row"] = None

    def chars(data: str) -> None:
        if state["kind"]:
            state["text"].append(data)

    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.Parse(body, True)
    if state["boolean"] is not None:
        return Result("ASK", boolean=state["boolean"])
    return Result("SELECT", names, rows)


def _tsv_term(cell: str) -> object:
    if not cell:
        return None
    if cell.startswith("_:"):
        return blank(cell[2:])
    # one term in Turtle syntax (IRIs, literals, bare numbers and booleans): parsed as the object of
    # a triple, which must then be the only triple
    found = list(ox.parse(f"<urn:x-kg:s> <urn:x-kg:p> {cell} .", format=ox.RdfFormat.TURTLE))
    if len(found) != 1 or found[0].subject != ox.NamedNode("urn:x-kg:s"):
        raise AnswerError(f"not one RDF term: {cell[:60]!r}")
    return found[0].object


def parse_tsv(body: bytes) -> Result:
    """SPARQL 1.1 Query Results TSV (section 4): terms in SPARQL/Turtle syntax."""
    text = body.decode("utf-8")
    lines = (text[:-1] if text.endswith("\n") else text).split("\n")
    names = [v.strip()[1:] for v in lines[0].rstrip("\r").split("\t")] if lines[0].strip() else []
    rows = [tuple(_tsv_term(c) for c in line.rstrip("\r").split("\t")) for line in lines[1:]]
    return Result("SELECT", names, rows)


def parse_csv(body: bytes) -> Result:
    """SPARQL 1.1 Query Results CSV (section 3): values only, read as plain literals (lossy)."""
    reader = csv.reader(io.StringIO(body.decode("utf-8"), newline=""))
    table = list(reader)
    names = table[0] if table else []

    def term(cell: str) -> object:
        if not cell:
            return None
        return blank(cell[2:]) if cell.startswith("_:") else ox.Literal(cell)

    return Result("SELECT", names, [tuple(term(c) for c in row) for row in table[1:]])


RESULT_PARSERS = {
    "application/sparql-results+json": parse_json,
    "application/json": parse_json,
    "application/sparql-results+xml": parse_xml,
    "application/xml": parse_xml,
    "text/tab-separated-values": parse_tsv,
    "text/csv": parse_csv,
}
RESULTS_ACCEPT = (
    "application/sparql-results+json, application/sparql-results+xml;q=0.9, "
    "text/tab-separated-values;q=0.8, text/csv;q=0.1"
)
RDF_PARSERS = {
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/plain": ox.RdfFormat.N_TRIPLES,  # N-Triples as older stores label it
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/x-turtle": ox.RdfFormat.TURTLE,
    "text/n3": ox.RdfFormat.TURTLE,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/n-quads": ox.RdfFormat.N_QUADS,
    "application/trig": ox.RdfFormat.TRIG,
}
RDF_ACCEPT = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5, application/ld+json;q=0.3"


def parse(body: bytes, content_type: str, where: str) -> Result:
    """The result in ``body``, by its media type (results formats, or an RDF graph)."""
    media = content_type.split(";")[0].strip().lower()
    try:
        if media in RESULT_PARSERS:
            return RESULT_PARSERS[media](body)
        if media in RDF_PARSERS:
            triples = [q.triple for q in ox.parse(body, format=RDF_PARSERS[media])]
            return Result("CONSTRUCT", triples=triples)
    except AnswerError as err:
        raise AnswerError(f"{where}: {err}") from None
    except (ValueError, KeyError, TypeError, SyntaxError, xml.parsers.expat.ExpatError) as err:
        message = " ".join(str(err).split())[:200]
        raise AnswerError(f"{where}: the answer is not valid {media}: {message}") from None
    raise AnswerError(f"{where}: answered in {media or 'an unnamed format'}, which kg does not read")
