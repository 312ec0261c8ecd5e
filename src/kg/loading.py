"""Reading RDF files into an Oxigraph store, with one-line errors that name the file and line."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox

from .errors import InputError

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


def load_files(store: ox.Store, paths: Iterable[Path], graph: ox.NamedNode) -> None:
    """Parse each file into ``graph`` of ``store``; a bad file raises InputError naming file and line.

    Triples of every graph of a dataset file (TriG, N-Quads) are merged into ``graph`` too. Files are
    parsed completely before anything is added, so a failure leaves the store unchanged.
    """
    quads: list[ox.Quad] = []
    for path in paths:
        path = Path(path)
        if not path.is_file():
            raise InputError(f"{path}: no such file")
        fmt = rdf_format(path)
        try:
            for quad in ox.parse(path=str(path), format=fmt):
                quads.append(ox.Quad(quad.subject, quad.predicate, quad.object, graph))
        except SyntaxError as err:
            line = f":{err.lineno}" if err.lineno else ""
            reason = str(err).split(" (", 1)[0]
            raise InputError(f"{path}{line}: invalid {fmt.name}: {reason}") from None
        except (OSError, UnicodeDecodeError) as err:
            raise InputError(f"{path}: cannot read: {err}") from None
    store.extend(quads)
