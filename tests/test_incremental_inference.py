"""Incremental inference (kg.engines.oxigraph.incremental) gives exactly what inferring from scratch gives."""

from __future__ import annotations

import random
from pathlib import Path

import pyoxigraph as ox
import pytest

import kg
from kg.core import bundle
from kg.core.namespaces import ID, OWL, RDF, RDFS, SKOS
from kg.engines.oxigraph import incremental
from kg.engines.oxigraph.rules import infer_rules
from kg.graph import DATA, INFERRED, ONTOLOGY

TYPE = ox.NamedNode(RDF + "type")


def _graph(store: ox.Store, graph: ox.NamedNode) -> set[ox.Triple]:
    return {q.triple for q in store.quads_for_pattern(None, None, None, graph)}


def _from_scratch(store: ox.Store) -> set[ox.Triple]:
    fresh = ox.Store()
    fresh.extend(q for g in (ONTOLOGY, DATA) for q in store.quads_for_pattern(None, None, None, g))
    infer_rules(fresh, [ONTOLOGY, DATA], INFERRED)
    return _graph(fresh, INFERRED)


def _change(store: ox.Store, rng: random.Random, size: int) -> tuple[list, list]:
    """A random change to the data graph: triples dropped, and triples made by moving a subject's or an
    object's statement to another node of the data (new types, links between concepts, ...)."""
    data = sorted(_graph(store, DATA), key=str)
    data = [t for t in data if not incremental._schema_triple((t.subject, t.predicate, t.object))]
    nodes = {t.subject for t in data} | {t.object for t in data if isinstance(t.object, ox.NamedNode)}
    nodes = sorted(nodes, key=str)
    classes = sorted({t.object for t in data if t.predicate == TYPE}, key=str)
    removed = rng.sample(data, min(len(data), rng.randint(0, size)))
    added = []
    for _ in range(rng.randint(0, size)):
        t = rng.choice(data)
        kind = rng.random()
        if kind < 0.3:
            added.append(ox.Triple(rng.choice(nodes), t.predicate, t.object))
        elif kind < 0.6 and isinstance(t.object, ox.NamedNode):
            added.append(ox.Triple(t.subject, t.predicate, rng.choice(nodes)))
        elif kind < 0.8:
            added.append(ox.Triple(rng.choice(nodes), TYPE, rng.choice(classes)))
        else:  # the transitive and inverse skos properties
            prop = ox.NamedNode(SKOS + rng.choice(["broader", "narrower", "broaderTransitive", "related"]))
            added.append(ox.Triple(rng.choice(nodes), prop, rng.choice(nodes)))
    if rng.random() < 0.2 and removed:
        added.append(removed[0])  # removed and added at once: no change
    return added, removed


def _inferred_store(files: list[Path] | None) -> ox.Store:
    graph = kg.load(files)
    graph.infer("rules")
    return graph.store


@pytest.fixture(scope="module")
def bundled() -> ox.Store:
    return _inferred_store(None)


def _copy(store: ox.Store) -> ox.Store:
    copy = ox.Store()
    copy.extend(store.quads_for_pattern(None, None, None, None))
    return copy


@pytest.mark.parametrize("seed", range(40))
def test_random_changes_to_the_bundled_data(bundled: ox.Store, seed: int) -> None:
    store = _copy(bundled)
    rng = random.Random(seed)
    added, removed = _change(store, rng, size=1 + seed % 12)
    new, gone = incremental.update(store, ONTOLOGY, DATA, INFERRED, added, removed)
    assert _graph(store, INFERRED) == _from_scratch(store)
    data = _graph(store, DATA)
    assert all(t in data for t in new) and not any(t in data for t in gone)


def test_a_removed_initiative_takes_its_conclusions_along(bundled: ox.Store) -> None:
    store = _copy(bundled)
    wattwest = ox.NamedNode(ID + "initiatief/wattwest")
    own = [q.triple for q in store.quads_for_pattern(wattwest, None, None, DATA)]
    about = [q.triple for q in store.quads_for_pattern(None, None, wattwest, DATA)]
    before = len(_graph(store, INFERRED))
    incremental.update(store, ONTOLOGY, DATA, INFERRED, [], own + about)
    after = _graph(store, INFERRED)
    assert after == _from_scratch(store)
    assert not any(t.subject == wattwest or t.object == wattwest for t in after)
    assert len(after) < before
    incremental.update(store, ONTOLOGY, DATA, INFERRED, own + about, [])  # and back again
    assert _graph(store, INFERRED) == _graph(bundled, INFERRED)


@pytest.mark.parametrize(
    "triple",
    [
        (ox.NamedNode("urn:x:a"), ox.NamedNode(RDFS + "subClassOf"), ox.NamedNode("urn:x:b")),
        (ox.NamedNode("urn:x:p"), ox.NamedNode(RDFS + "domain"), ox.NamedNode("urn:x:b")),
        (ox.NamedNode("urn:x:p"), TYPE, ox.NamedNode(OWL + "TransitiveProperty")),
    ],
)
def test_a_schema_change_is_declined_and_nothing_changes(bundled: ox.Store, triple: tuple) -> None:
    store = _copy(bundled)
    with pytest.raises(incremental.Declined):
        incremental.update(store, ONTOLOGY, DATA, INFERRED, [ox.Triple(*triple)], [])
    assert _graph(store, DATA) == _graph(bundled, DATA)
    assert _graph(store, INFERRED) == _graph(bundled, INFERRED)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(25))
def test_random_changes_to_synthetic_data(tmp_path_factory: pytest.TempPathFactory, seed: int) -> None:
    from kg.synth.generate import triples

    folder = tmp_path_factory.mktemp("synth")
    path = folder / "s.nt"
    path.write_text("\n".join(triples(300, seed=3)) + "\n")
    files = [p for p in bundle.data_files() if p.name in ("gemeenten.ttl", "programma.ttl")] + [path]
    store = _inferred_store(files)
    added, removed = _change(store, random.Random(seed), size=40)
    incremental.update(store, ONTOLOGY, DATA, INFERRED, added, removed)
    assert _graph(store, INFERRED) == _from_scratch(store)
