"""The interface every engine implements, so that :class:`kg.graph.KnowledgeGraph` needs no other.

An engine holds three named graphs (ontology, data, inferred; see :mod:`kg.core.namespaces`), answers
SPARQL over a chosen set of them, fills the inferred graph and validates with SHACL. Two exist:
``oxigraph`` (:mod:`kg.engines.oxigraph.engine`, the default) and ``rdflib`` (:mod:`kg.engines.reference`,
the reference path of rdflib, owlrl and pyshacl). Terms cross the interface as pyoxigraph terms.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Protocol

import pyoxigraph as ox

from kg.core.errors import QueryTimeout
from kg.core.report import ValidationReport
from kg.core.results import Result


class Engine(Protocol):
    """What the graph asks of an engine."""

    name: str
    reasoner: str | None  # the reasoner whose triples the inferred graph holds, or None

    def load(self, files: Sequence[Path], graph: str, base: str | None = None) -> None:
        """Parse ``files`` into the named graph ``graph``; InputError names a bad file and line.

        Relative IRIs resolve against each file's ``file://`` IRI, or against ``base``."""

    def triples(self, graph: str) -> list[ox.Triple]:
        """The triples of one named graph."""

    def infer(self, reasoner: str | None = None) -> int:
        """(Re)fill the inferred graph from the ontology and data; return its size."""

    def query(
        self,
        text: str,
        graphs: Sequence[str] | None,
        *,
        named: Sequence[str] | None = None,
        base: str | None = None,
        limit: int | None = None,
        timeout: float | None = None,
        where: str = "<query>",
        lazy: bool = False,
    ) -> Result:
        """Evaluate SPARQL ``text`` (already checked by :func:`kg.core.sparql_text.check`).

        The default graph is the union of ``graphs`` (None: the query's own FROM), the named graphs
        ``named`` (None: all); relative IRIs resolve against ``base``. ``limit`` caps rows (SELECT)
        or triples (CONSTRUCT, DESCRIBE) and the result says whether it cut; ``timeout`` (seconds)
        stops producing the answer once passed (QueryTimeout). ``lazy``: rows or triples as an iterator
        to be read on the calling thread, without ``limit`` and ``timeout`` (the caller applies them).
        """

    def validate(self, shapes: Sequence[Path] | None = None) -> ValidationReport:
        """Validate the ontology and data graphs against the SHACL shapes (bundled ones if None)."""

    def to_rdflib(self, graphs: Sequence[str]) -> object:
        """An rdflib.Graph with the triples of ``graphs``."""


def bounded(items: Iterable, limit: int | None, timeout: float | None) -> tuple[list, bool]:
    """Take at most ``limit`` items, within ``timeout`` seconds; return them and whether some were left.

    Engines evaluate lazily where they can, so stopping early bounds the work as well as the output.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    out: list = []
    iterator: Iterator = iter(items)
    for item in iterator:
        if limit is not None and len(out) >= limit:
            return out, True
        if deadline is not None and len(out) % 256 == 0 and time.monotonic() > deadline:
            raise QueryTimeout(f"the query took longer than {timeout:g} s")
        out.append(item)
    return out, False
