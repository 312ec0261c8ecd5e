"""Reading RDF files into an Oxigraph store, with one-line errors that name the file and line.

Relative IRIs (``<>``, ``<#x>``) resolve against the file's own ``file://`` IRI, or against ``base``
when one is given (RFC 3986 section 5.1; ``--base`` on the command line).

Literals as written. Oxigraph stores typed literals by value: ``"7"^^xsd:int`` comes back as
``"7"^^xsd:integer``, ``"010"^^xsd:long`` as ``"10"^^xsd:integer``, ``"1"^^xsd:boolean`` as
``"true"`` (oxigraph issue #526). While parsing, kg finds each literal the store would give back
otherwise and keeps the quad as written in an :class:`Exact` table (stored quad -> quads as written).
Export and the reference path read through that table, and the compiled validator declines a graph
that has any (pyshacl then validates the literals as written). Nothing is fetched: a JSON-LD file
with a remote ``@context`` is refused with the context's IRI.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyoxigraph as ox

from kg.core import xmlguard
from kg.core.errors import InputError
from kg.core.files import regular_file
from kg.core.namespaces import RDF, XSD


class Exact:
    """Quads whose literal Oxigraph would store in another form: stored quad -> quads as written."""

    def __init__(self) -> None:
        self.table: dict[ox.Quad, list[ox.Quad]] = {}
        self.forms: dict[ox.Literal, set[ox.Literal]] = {}  # stored literal -> the forms written
        self.graphs: set[ox.NamedNode] = set()  # the graphs loaded through this table
        self._canonical: dict[ox.Literal, ox.Literal] = {}
        self._scratch = ox.Store()
        self._written: dict[ox.Literal, ox.Literal] | None = None

    def __bool__(self) -> bool:
        return bool(self.table)

    def example(self) -> str:
        """One rewritten literal, for messages."""
        for written in self.table.values():
            return str(written[0].object)
        return ""

    def stored(self, literal: ox.Literal) -> ox.Literal:
        """The literal as the store gives it back (memoized; a one-quad scratch store tells)."""
        canonical = _CANONICAL.get(literal.datatype.value)
        if canonical is not None and canonical.fullmatch(literal.value):
            return literal
        found = self._canonical.get(literal)
        if found is None:
            quad = ox.Quad(ox.NamedNode("urn:x-kg:s"), ox.NamedNode("urn:x-kg:p"), literal)
            self._scratch.add(quad)
            found = next(iter(self._scratch)).object
            self._scratch.remove(quad)
            self._canonical[literal] = found
        return found

    def note(self, quads: list[ox.Quad], store: ox.Store | None = None) -> list[ox.Quad]:
        """Record the quads of ``quads`` that the store would rewrite; return ``quads``.

        A quad written in the stored form as well (``"7"^^xsd:integer`` beside ``"7"^^xsd:int``, in
        ``quads`` or already in ``store``) stays in the table's list too, so that neither is lost.
        """
        for quad in quads:
            obj = quad.object
            if (
                type(obj) is ox.Literal
                and obj.datatype.value not in _KEPT
                and (obj.datatype.value.startswith(XSD))
            ):
                stored = self.stored(obj)
                if stored != obj:
                    key = ox.Quad(quad.subject, quad.predicate, stored, quad.graph_name)
                    written = self.table.get(key)
                    if written is None:
                        written = self.table[key] = [key] if store is not None and key in store else []
                    if quad not in written:
                        written.append(quad)
                    self.forms.setdefault(stored, set()).add(obj)
                    self._written = None
        if self.table:
            for quad in quads:
                written = self.table.get(quad)
                if written is not None and quad not in written:
                    written.append(quad)
        return quads

    def written(self, store: ox.Store) -> dict[ox.Literal, ox.Literal]:
        """Stored literal -> the one form it was written in, for each literal the store rewrote that
        was written in that one form only: never in another, and never as stored in a loaded graph.
        A term of a query answer that is such a literal can only have come from those writings."""
        if self._written is None:
            found = {}
            for stored, forms in self.forms.items():
                if len(forms) != 1:
                    continue
                native = any(
                    quad not in self.table or quad in self.table[quad]
                    for graph in self.graphs
                    for quad in store.quads_for_pattern(None, None, stored, graph)
                )
                if not native:
                    (found[stored],) = forms
            self._written = found
        return self._written

    def quads(self, quads: Iterable[ox.Quad]) -> Iterator[ox.Quad]:
        """``quads`` from the store, with each rewritten literal as it was written."""
        for quad in quads:
            yield from self.table.get(quad, (quad,))


# Lexical forms the store is known to keep as written (a fast path; anything else is tried).
_CANONICAL = {
    f"{XSD}integer": re.compile(r"0|-?[1-9][0-9]*"),
    f"{XSD}decimal": re.compile(r"(0|-?[1-9][0-9]*)(\.[0-9]*[1-9])?|-0\.[0-9]*[1-9]"),
    f"{XSD}gYear": re.compile(r"[0-9]{4}"),
    f"{XSD}boolean": re.compile(r"true|false"),
}
# Datatypes the store keeps as written.
_KEPT = {f"{XSD}string", f"{RDF}langString", f"{XSD}anyURI"}

FORMATS: dict[str, ox.RdfFormat] = {
    ".ttl": ox.RdfFormat.TURTLE,
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".n3": ox.RdfFormat.N3,
    ".rdf": ox.RdfFormat.RDF_XML,
    ".owl": ox.RdfFormat.RDF_XML,
    ".xml": ox.RdfFormat.RDF_XML,
    ".jsonld": ox.RdfFormat.JSON_LD,
    ".trig": ox.RdfFormat.TRIG,
    ".nq": ox.RdfFormat.N_QUADS,
}


def rdf_format(path: Path) -> ox.RdfFormat:
    """The RDF syntax of a file, from its extension."""
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        known = ", ".join(sorted(FORMATS))
        raise InputError(f"{path}: unknown RDF file extension (known: {known})") from None


DATASETS = {ox.RdfFormat.TRIG, ox.RdfFormat.N_QUADS}


def load_files(
    store: ox.Store,
    paths: Iterable[Path],
    graph: ox.NamedNode,
    base: str | None = None,
    exact: Exact | None = None,
    repeated: dict[ox.Quad, int] | None = None,
) -> Exact:
    """Parse each file into ``graph`` of ``store``; a bad file raises InputError naming file and line.

    ``repeated``, if given, counts the quads that more than one of the files states (quad -> how
    many files), so that a later change to one file can tell whether another still states a quad.

    Triples of every graph of a dataset file (TriG, N-Quads) are merged into ``graph`` too. A failure
    leaves the store as it was: each file loads in one transaction, and a graph this call started is
    removed again if a later file fails.
    """
    exact = Exact() if exact is None else exact
    exact.graphs.add(graph)
    fresh = not store.contains_named_graph(graph)
    try:
        for path in paths:
            _load_file(store, Path(path), graph, base, exact, repeated)
    except InputError:
        if fresh and store.contains_named_graph(graph):
            store.remove_graph(graph)
        raise
    return exact


def base_iri(path: Path, base: str | None = None) -> str:
    """The IRI relative IRIs in ``path`` resolve against: ``base``, or the file's own IRI."""
    return base if base else path.resolve().as_uri()


def remote_contexts(path: Path) -> list[str]:
    """The IRIs of remote JSON-LD contexts (and @import) that ``path`` names."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []  # the parser reports the error with its position
    found: list[str] = []

    def walk(node: object, in_context: bool = False) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("@context", "@import") or (in_context and key == "@context"):
                    walk_context(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    def walk_context(context: object) -> None:
        if isinstance(context, str):
            found.append(context)
        elif isinstance(context, list):
            for item in context:
                walk_context(item)
        elif isinstance(context, dict):
            walk(context, True)

    walk(document)
    return found


def refuse_remote(path: Path) -> None:
    """Raise InputError if a JSON-LD file needs a remote context: kg never fetches one."""
    if rdf_format(path) == ox.RdfFormat.JSON_LD:
        remote = remote_contexts(path)
        if remote:
            raise InputError(
                f"{path}: remote JSON-LD context {remote[0]} is not fetched (kg makes no network "
                "requests); put the context inline"
            )


def check_file(path: Path) -> ox.RdfFormat:
    """The RDF syntax of ``path`` once it is known to be safe to read: a regular file (no FIFO or
    device) with a known extension, and for RDF/XML no runaway or external entities (kg.core.xmlguard)."""
    regular_file(path)
    fmt = rdf_format(path)
    if fmt == ox.RdfFormat.RDF_XML:
        xmlguard.check(path)
    return fmt


def _load_file(
    store: ox.Store,
    path: Path,
    graph: ox.NamedNode,
    base: str | None,
    exact: Exact,
    repeated: dict[ox.Quad, int] | None = None,
) -> None:
    fmt = check_file(path)
    refuse_remote(path)
    try:
        parsed = ox.parse(path=str(path), format=fmt, base_iri=base_iri(path, base))
        if fmt in DATASETS:  # every graph of the file into ``graph``
            quads = [ox.Quad(q.subject, q.predicate, q.object, graph) for q in parsed]
        else:
            quads = [ox.Quad(t.subject, t.predicate, t.object, graph) for t in parsed]
        if repeated is not None:
            for quad in {q for q in quads if q in store}:  # stated by an earlier file too
                repeated[quad] = repeated.get(quad, 1) + 1
        store.extend(exact.note(quads, store))
    except SyntaxError as err:
        line = f":{err.lineno}" if err.lineno else ""
        reason = str(err).split(" (", 1)[0]
        raise InputError(f"{path}{line}: invalid {fmt.name}: {reason}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: cannot read: {err}") from None
