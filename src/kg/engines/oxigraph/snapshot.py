"""The engine's graph saved into, and read back from, a folder of the cache (:mod:`kg.core.cache`).

A snapshot is the store's triples as the store holds them, one N-Triples file per named graph (RDF 1.1
N-Triples, W3C Recommendation 2014), which Oxigraph bulk-loads without parsing Turtle or inferring
again; the quads with blank nodes in N-Quads, loaded with their labels; the quads of the
:class:`kg.core.loading.Exact` table as they were written, so literals keep the form they had in the
files (literal fidelity survives the cache); the quads more than one data file states (so that a
later change to one file is applied exactly, :mod:`kg.engines.oxigraph.delta`); and ``meta.json``
(the reasoner whose triples the inferred graph holds, the base IRI, and the layers). A snapshot of
inputs that differ by a small change from a cached one is that one's files (hard links) plus a
layer: the quads removed and added, applied in order when it is loaded. Measured at 100,000
initiatives (3.4 M quads): loading the snapshot is about 3x faster than parsing and inferring (see
README, "Speed at scale").
"""

from __future__ import annotations

import json
import os
import zlib
from pathlib import Path

import pyoxigraph as ox

from kg.engines.oxigraph.engine import OxigraphEngine

EXACT, META, BLANK, REPEATED = "exact.nq", "meta.json", "blank.nq", "repeated.nq"
MAX_LAYERS = 8  # changes kept as layers over one full snapshot; one more and the snapshot is whole again
_PLAIN = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH %s { ?s ?p ?o FILTER (%s) } }"
_NO_BLANK = "!isBlank(?s) && !isBlank(?o) && !isTRIPLE(?s) && !isTRIPLE(?o)"
_BLANK = "SELECT ?s ?p ?o WHERE { GRAPH %s { ?s ?p ?o FILTER (!(%s)) } }"


def save(engine: OxigraphEngine, folder: Path) -> None:
    """Write the engine's store, literal table and state into ``folder`` (meta.json last).

    Oxigraph renames blank nodes when it bulk-loads, so the quads with a blank node (few in kg's
    data) are kept apart and added back with their labels: the literal table and kept answers name
    them."""
    graphs, blank = [], []
    for number, graph in enumerate(sorted(engine.store.named_graphs(), key=str)):
        if not isinstance(graph, ox.NamedNode):
            continue  # kg's graphs are all named by IRIs
        path = folder / f"graph-{number}.nt"
        found = [ox.Quad(*row, graph) for row in engine.store.query(_BLANK % (graph, _NO_BLANK))]
        if found:  # the graph without them (a CONSTRUCT: some 4x slower than a dump)
            answer = engine.store.query(_PLAIN % (graph, _NO_BLANK))
            answer.serialize(str(path), format=ox.RdfFormat.N_TRIPLES)
        else:
            engine.store.dump(str(path), format=ox.RdfFormat.N_TRIPLES, from_graph=graph)
        graphs.append([graph.value, path.name])
        blank += found
    (folder / BLANK).write_bytes(ox.serialize(blank, format=ox.RdfFormat.N_QUADS) if blank else b"")
    written = [quad for quads in engine.exact.table.values() for quad in quads]
    (folder / EXACT).write_bytes(ox.serialize(written, format=ox.RdfFormat.N_QUADS) if written else b"")
    _save_repeated(engine, folder)
    meta = {"reasoner": engine.reasoner, "base": engine.base, "graphs": graphs, "layers": []}
    meta["repeated"] = engine.repeated is not None
    _write_meta(folder, meta)


def _save_repeated(engine: OxigraphEngine, folder: Path) -> None:
    """The quads stated by several files, each written once for every file beyond the first."""
    found = [q for q, count in (engine.repeated or {}).items() for _ in range(count - 1)]
    (folder / REPEATED).write_bytes(ox.serialize(found, format=ox.RdfFormat.N_QUADS) if found else b"")


def save_layer(
    engine: OxigraphEngine, below: Path, folder: Path, plus: list[ox.Quad], minus: list[ox.Quad]
) -> None:
    """Save ``engine`` into ``folder`` as the snapshot in ``below`` plus one change: the quads added
    (``plus``) and removed (``minus``) since. The files of ``below`` are shared by hard links (kg
    never writes to a snapshot file once it is in place); a whole snapshot is written instead when
    ``below`` has :data:`MAX_LAYERS` layers already, or links cannot be made."""
    meta = json.loads((below / META).read_text())
    layers = list(meta.get("layers", []))
    if len(layers) >= MAX_LAYERS:
        save(engine, folder)
        return
    linked = [EXACT, BLANK, *(n for _, n in meta["graphs"]), *(n for pair in layers for n in pair)]
    try:
        for name in linked:
            os.link(below / name, folder / name)
    except OSError:
        for path in folder.iterdir():
            path.unlink()
        save(engine, folder)
        return
    number = len(layers)
    pair = [f"layer-{number}-minus.nq", f"layer-{number}-plus.nq"]
    for name, quads in zip(pair, (minus, plus), strict=True):
        (folder / name).write_bytes(ox.serialize(quads, format=ox.RdfFormat.N_QUADS) if quads else b"")
    _save_repeated(engine, folder)
    known = {name: meta["files"][name] for name in linked}  # checked when ``below`` was loaded
    meta.update(reasoner=engine.reasoner, layers=[*layers, pair], repeated=engine.repeated is not None)
    _write_meta(folder, meta, known)


def _write_meta(folder: Path, meta: dict, known: dict | None = None) -> None:
    """``meta.json``, last, with the size and CRC-32 of every other file of the snapshot: a file found
    cut short, grown or changed later is damage, and the snapshot is not used (:func:`load`). ``known``:
    the checks of files linked from the snapshot below, which need not be read again."""
    known = known or {}
    meta["files"] = {
        p.name: known.get(p.name) or [p.stat().st_size, _crc32(p)]
        for p in sorted(folder.iterdir())
        if p.is_file()
    }
    (folder / META).write_text(json.dumps(meta))


def _crc32(path: Path) -> int:
    """The CRC-32 of a file (zlib's; about 3 GB/s here, a few percent of loading what it checks)."""
    crc = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            crc = zlib.crc32(chunk, crc)
    return crc


def _check_files(folder: Path, meta: dict) -> None:
    """Raise ValueError unless every file has the size and CRC-32 it was written with (sizes first:
    they cost no reading)."""
    files = meta.get("files")
    if not isinstance(files, dict):
        raise ValueError(f"{folder / META}: no file checks")
    for name, (size, _) in files.items():
        if (folder / name).stat().st_size != size:
            raise ValueError(f"{folder / name}: damaged (not the size it was written with)")
    for name, (_, crc) in files.items():
        if _crc32(folder / name) != crc:
            raise ValueError(f"{folder / name}: damaged (not the CRC-32 it was written with)")


def reasoner(folder: Path) -> str | None:
    """The reasoner of a saved snapshot, without loading it."""
    return json.loads((folder / META).read_text()).get("reasoner")


def load(folder: Path) -> OxigraphEngine:
    """An engine with the snapshot in ``folder`` in memory."""
    meta = json.loads((folder / META).read_text())
    _check_files(folder, meta)
    store = ox.Store()
    for graph, name in meta["graphs"]:  # kg wrote these files: no need to check them again
        store.bulk_load(
            path=str(folder / name), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(graph), lenient=True
        )
    if (folder / BLANK).stat().st_size:
        store.extend(list(ox.parse(path=str(folder / BLANK), format=ox.RdfFormat.N_QUADS)))
    engine = OxigraphEngine(store)
    engine.reasoner = meta.get("reasoner")
    engine.base = meta.get("base")
    for minus, plus in meta.get("layers", []):  # the changes since, in order
        for quad in _quads(folder / minus):
            store.remove(quad)
        store.extend(_quads(folder / plus))
    if (folder / EXACT).stat().st_size:
        engine.exact.note(list(ox.parse(path=str(folder / EXACT), format=ox.RdfFormat.N_QUADS)))
    if meta.get("repeated"):
        engine.repeated = {}
        for quad in _quads(folder / REPEATED):
            engine.repeated[quad] = engine.repeated.get(quad, 1) + 1
    return engine


def _quads(path: Path) -> list[ox.Quad]:
    """The quads of an N-Quads file kg wrote (blank nodes keep their labels)."""
    if not path.is_file() or not path.stat().st_size:
        return []
    return list(ox.parse(path=str(path), format=ox.RdfFormat.N_QUADS))
