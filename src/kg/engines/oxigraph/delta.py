"""From one set of data files to another: the asserted triples that change, applied to a loaded engine.

A cached graph (:mod:`kg.core.cache`) was built from data files whose content is known by hash; the
files now given differ in a few (edited, added, removed). Only those are parsed, the old version from
the cache's copy: the triples a file no longer states leave the data graph unless another file
still states them (the engine's ``repeated`` table counts the quads stated by several files), and
the new ones come in. :func:`kg.engines.oxigraph.incremental.update` then brings the inferred graph up
to date. Files with blank nodes (whose labels differ at each parse) or with literals the store keeps
in another form are declined (:class:`~kg.engines.oxigraph.incremental.Declined`), as is anything
that would not match the engine; the caller then loads from scratch.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pyoxigraph as ox

from kg.core.loading import base_iri, check_file, rdf_format, refuse_remote
from kg.core.namespaces import RDF, XSD
from kg.engines.oxigraph import incremental
from kg.engines.oxigraph.engine import DATA, INFERRED, ONTOLOGY, OxigraphEngine
from kg.engines.oxigraph.incremental import Declined

_KEPT = {XSD + "string", RDF + "langString", XSD + "anyURI"}


def _parse(
    engine: OxigraphEngine, path: Path, content: bytes | None, base: str | None, digest: str = ""
) -> set[ox.Triple]:
    """The triples a version of a data file states (``content``, or the file itself if None, which
    must still have the content hash ``digest``: an edit since it was hashed is declined, so that the
    graph holds what the cache entry is named for)."""
    if content is None:
        fmt = check_file(path)
        refuse_remote(path)
        try:
            content = path.read_bytes()
        except OSError as err:
            raise Declined(f"{path}: {err}") from None
        if hashlib.sha256(content).hexdigest() != digest:
            raise Declined(f"{path} changed while kg read it")
    else:
        fmt = rdf_format(path)
    parsed = ox.parse(content, format=fmt, base_iri=base_iri(path, base))
    try:
        found = {q.triple for q in parsed}  # every graph of a dataset file goes into one
    except SyntaxError as err:  # the caller loads from scratch, which names the file and line
        raise Declined(f"{path}: {err}") from None
    for t in found:
        if isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode):
            raise Declined(f"{path} has blank nodes")
        obj = t.object
        if type(obj) is ox.Literal and obj.datatype.value not in _KEPT and engine.exact.stored(obj) != obj:
            raise Declined(f"{path} has a literal the store rewrites: {obj}")
    return found


def changes(
    engine: OxigraphEngine,
    before: Mapping[str, str],
    after: Mapping[str, str],
    old_content: Callable[[str], bytes | None],
    base: str | None,
) -> tuple[list[ox.Triple], list[ox.Triple]]:
    """The triples the data graph gains and loses going from the files ``before`` to ``after`` (each
    resolved path -> content hash); ``old_content(hash)`` gives a file's old bytes, or None if they
    were not kept (declined). Updates the engine's ``repeated`` table."""
    if engine.repeated is None:
        raise Declined("the cached graph does not count repeated triples")
    net: Counter = Counter()
    for path, digest in before.items():
        if after.get(path) == digest:
            continue
        content = old_content(digest)
        if content is None:
            raise Declined(f"no copy of the old {path}")
        net.subtract(_parse(engine, Path(path), content, base))
    for path, digest in after.items():
        if before.get(path) != digest:
            net.update(_parse(engine, Path(path), None, base, digest))
    added, removed, counts = [], [], {}
    for triple, change in net.items():
        if not change:
            continue
        quad = ox.Quad(*triple, DATA)
        if quad in engine.exact.table:
            raise Declined(f"{triple.object} is also stated in another form")
        now = engine.repeated.get(quad) or (1 if quad in engine.store else 0)
        then = now + change
        if then < 0:
            raise Declined("the cached graph does not match its files")
        if now == 0 and then > 0:
            added.append(triple)
        elif now > 0 and then == 0:
            removed.append(triple)
        counts[quad] = then
    for quad, count in counts.items():
        if count >= 2:
            engine.repeated[quad] = count
        else:
            engine.repeated.pop(quad, None)
    return added, removed


def apply(
    engine: OxigraphEngine,
    before: Mapping[str, str],
    after: Mapping[str, str],
    old_content: Callable[[str], bytes | None],
    base: str | None,
) -> tuple[list[ox.Triple], list[ox.Triple], list[ox.Quad], list[ox.Quad]]:
    """Bring ``engine`` (data and, with the rules reasoner, inferred graph) from the files ``before`` to
    ``after``. Returns the asserted triples gained and lost, and the quads added to and removed from
    the store (data and inferred graphs), for the cache to keep as a layer. Declined: nothing
    changed."""
    if engine.reasoner not in (None, "rules"):
        raise Declined(f"inferred by {engine.reasoner}")
    saved = dict(engine.repeated or {})
    added, removed = changes(engine, before, after, old_content, base)
    journal = incremental.Journal(engine.store)
    try:
        if engine.reasoner is None:
            for t in removed:
                journal.remove(ox.Quad(*t, DATA))
            for t in added:
                journal.add(ox.Quad(*t, DATA))
            gained = [t for t in added if ox.Quad(*t, ONTOLOGY) not in engine.store]
            lost = [t for t in removed if ox.Quad(*t, ONTOLOGY) not in engine.store]
        else:
            gained, lost = incremental.update(engine.store, ONTOLOGY, DATA, INFERRED, added, removed, journal)
    except Declined:
        engine.repeated = saved
        raise
    plus, minus = journal.changed()
    return gained, lost, plus, minus


def files(paths: Sequence[Path], digest: Callable[[Path], str]) -> dict[str, str]:
    """Resolved path -> content hash, for :func:`changes`."""
    return {str(Path(p).resolve()): digest(Path(p)) for p in paths}
