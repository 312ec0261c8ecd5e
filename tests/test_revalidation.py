"""Validation after a change (kg.engines.revalidation) gives exactly the report of a full validation
of the changed data, runs less than a full validation where it can, and runs in full where it
cannot be sure."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pyoxigraph as ox
import pytest

import kg
from kg.core import bundle
from kg.core.errors import InputError
from kg.core.namespaces import DEF, RDF_TYPE, RDFS, SCHEMA, XSD
from kg.engines import revalidation, triple_patterns
from kg.engines.oxigraph.engine import DATA, ONTOLOGY
from kg.engines.revalidation import ValidationState, revalidate, validate_with_state
from kg.engines.validation import validate_compiled
from kg.synth.generate import SYN, write

GRAPHS = [ONTOLOGY, DATA]
TYPE = ox.NamedNode(RDF_TYPE)
MI = DEF
GM = "https://identifier.overheid.nl/tooi/id/gemeente/"


class Graph:
    """A loaded graph, its validation state, and changes made to its data graph."""

    def __init__(self, files: list[Path] | None = None, shapes: list[Path] | None = None, need: bool = True):
        engine = kg.load(files).engine
        self.store, self.exact, self.base, self.shapes = engine.store, engine.exact, engine.base, shapes
        self.fallback = lambda: engine.to_rdflib([g.value for g in GRAPHS])
        _, self.state = validate_with_state(self.store, GRAPHS, self.exact, shapes, self.base, self.fallback)
        assert self.state is not None or not need, "the compiled path must be used"
        self.before = self.union()

    def union(self) -> set[ox.Triple]:
        return {q.triple for g in GRAPHS for q in self.store.quads_for_pattern(None, None, None, g)}

    def data(self) -> list[ox.Triple]:
        return sorted((q.triple for q in self.store.quads_for_pattern(None, None, None, DATA)), key=str)

    def add(self, *triples: ox.Triple) -> None:
        for t in triples:
            self.store.add(ox.Quad(t.subject, t.predicate, t.object, DATA))

    def remove(self, *triples: ox.Triple) -> None:
        for t in triples:
            self.store.remove(ox.Quad(t.subject, t.predicate, t.object, DATA))

    def delta(self) -> tuple[list[ox.Triple], list[ox.Triple]]:
        after = self.union()
        added, removed = sorted(after - self.before, key=str), sorted(self.before - after, key=str)
        self.before = after
        return added, removed

    def check(self, shapes: list[Path] | None = None) -> revalidation.ValidationReport:
        """Revalidate the change since the last check and compare with a full validation."""
        shapes = self.shapes if shapes is None else shapes
        added, removed = self.delta()
        got, state = revalidate(
            self.store, GRAPHS, self.exact, shapes, self.base, self.fallback, self.state, added, removed
        )
        want = validate_compiled(self.store, GRAPHS, self.exact, shapes, self.base, self.fallback)
        want_canonical, want_state = validate_with_state(
            self.store, GRAPHS, self.exact, shapes, self.base, self.fallback
        )
        assert got.conforms == want.conforms
        if shapes is None:
            assert got.findings == want.findings
            assert got.text() == want.text()
            assert got.text("en") == want.text("en")
            assert got.json() == want.json()
        else:  # blank node shapes and paths have new labels each time the shapes are read
            labels = {
                x for r in (got, want) for f in r.findings for x in (f.shape, f.path) if x and ":" not in x
            }
            assert _anonymous(got.findings, labels) == _anonymous(want.findings, labels)
            for text in ("text", "json"):
                ours, theirs = (_anonymous(getattr(r, text)().splitlines(), labels) for r in (got, want))
                assert ours == theirs
        assert got.compiled == want.compiled and got.declined == want.declined == {}
        assert state.results == want_state.results  # the raw results, in the same order
        assert [_raw(r) for r in got._results] == [_raw(r) for r in want_canonical._results]
        assert _report_graph(got) == _report_graph(want)
        self.state = state
        return got


def _report_graph(report: revalidation.ValidationReport) -> list:
    """The W3C report graph (what ``turtle()`` writes), blank nodes as ``_``: each result with what
    it says, and the other triples."""
    triples = report.triples()
    said: dict[object, list] = {}
    for t in triples:
        said.setdefault(t.subject, []).append((t.predicate.value, _name(t.object)))
    results = [sorted(said.get(t.object, [])) for t in triples if t.predicate.value.endswith("#result")]
    rest = [(_name(t.subject), t.predicate.value, _name(t.object)) for t in triples]
    return [sorted(results), sorted(rest), len(triples)]


def _name(term: object) -> str:
    return "_" if isinstance(term, ox.BlankNode) else str(term)


def _anonymous(items: list, labels: set[str]) -> list[str]:
    """``items`` as text with the given blank node labels as ``_``, sorted."""
    out = []
    for item in items:
        text = str(item)
        for label in labels:
            text = text.replace(label, "_")
        out.append(text)
    return sorted(out)


def _raw(result: tuple) -> tuple:
    """A raw result (check, focus, path, value), blank nodes of the shapes graph (labelled anew
    each time the shapes are read) left out."""
    check, focus, path, value = result
    named = [t.value if isinstance(t, ox.NamedNode) else None for t in (check.shape, path)]
    return (*named, check.component.value, check.query, str(focus), str(value))


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """60 synthetic initiatives, a fifth of them with a planted defect, with municipalities and
    the programme (the data files as benchmarks/scale.py uses them)."""
    path = tmp_path_factory.mktemp("synth") / "synth-60.nt"
    write(path, 60, seed=3, invalid_rate=0.2)
    return [p for p in bundle.data_files() if p.name in ("gemeenten.ttl", "programma.ttl")] + [path]


# --- random changes ---------------------------------------------------------------------------------


def _literal(rng: random.Random) -> ox.Literal:
    return rng.choice(
        [
            ox.Literal("Fout 1"),
            ox.Literal("synth-999"),
            ox.Literal("een tweede naam"),
            ox.Literal("nieuw", language="nl"),
            ox.Literal("new", language="en"),
            ox.Literal("2020", datatype=ox.NamedNode(XSD + "gYear")),
            ox.Literal("ooit", datatype=ox.NamedNode(XSD + "gYear")),
            ox.Literal("7", datatype=ox.NamedNode(XSD + "integer")),
            ox.Literal("-3", datatype=ox.NamedNode(XSD + "integer")),
            ox.Literal("MTK"),
            ox.Literal("GM0344"),
        ]
    )


def change(graph: Graph, rng: random.Random) -> str:
    """One to four random edits of the data graph, like imports and hand edits make them."""
    done = []
    for _ in range(rng.randint(1, 4)):
        data = graph.data()
        if not data:
            break
        t = rng.choice(data)
        kind = rng.choice(
            ["remove", "remove", "copy", "swap", "swap", "type", "literal", "blank", "clone", "drop-label"]
        )
        same_predicate = [x for x in data if x.predicate == t.predicate and x != t]
        if kind == "remove":
            graph.remove(t)
        elif kind == "copy":  # a triple of one thing given to another (a second value, a shared number)
            other = rng.choice(data).subject
            graph.add(ox.Triple(other, t.predicate, t.object))
        elif kind == "swap" and same_predicate:  # another municipality, a partner number taken twice
            graph.remove(t)
            graph.add(ox.Triple(t.subject, t.predicate, rng.choice(same_predicate).object))
        elif kind == "type":
            types = [x for x in data if x.predicate == TYPE] or [t]
            if rng.random() < 0.5:
                graph.remove(rng.choice(types))
            else:
                graph.add(ox.Triple(t.subject, TYPE, rng.choice(types).object))
        elif kind == "literal":
            preds = ["http://purl.org/dc/terms/identifier", "http://www.w3.org/2004/02/skos/core#prefLabel",
                     "http://purl.org/dc/terms/description", SCHEMA + "foundingDate", MI + "partnerNumber",
                     MI + "cbsCode", SCHEMA + "unitCode"]  # fmt: skip
            graph.add(ox.Triple(t.subject, ox.NamedNode(rng.choice(preds)), _literal(rng)))
        elif kind == "blank" and isinstance(t.subject, ox.NamedNode):  # an area as a blank node
            node = ox.BlankNode()
            graph.add(
                ox.Triple(t.subject, ox.NamedNode(MI + "area"), node),
                ox.Triple(node, TYPE, ox.NamedNode(SCHEMA + "QuantitativeValue")),
                ox.Triple(node, ox.NamedNode(SCHEMA + "value"), _literal(rng)),
            )
        elif kind == "clone" and isinstance(t.subject, ox.NamedNode):  # a new thing like another one
            twin = ox.NamedNode(t.subject.value + f"-twin{rng.randrange(1000)}")
            graph.add(*(ox.Triple(twin, x.predicate, x.object) for x in data if x.subject == t.subject))
            if rng.random() < 0.5:
                graph.add(*(ox.Triple(x.subject, x.predicate, twin) for x in data if x.object == t.subject))
        elif kind == "drop-label":
            labels = [
                x for x in data if x.predicate.value.endswith(("prefLabel", "identifier", "description"))
            ]
            graph.remove(rng.choice(labels or [t]))
        done.append(kind)
    return ",".join(done)


def _run(graph: Graph, seed: int, steps: int) -> None:
    rng = random.Random(seed)
    for step in range(steps):
        what = change(graph, rng)
        try:
            graph.check()
        except AssertionError as err:
            raise AssertionError(f"seed {seed}, step {step} ({what}): {err}") from err


def test_random_changes_bundled_data() -> None:
    _run(Graph(), seed=1, steps=6)


def test_random_changes_synthetic_data(synthetic: list[Path]) -> None:
    graph = Graph(synthetic)
    assert graph.state.results, "the planted defects give findings"
    _run(graph, seed=2, steps=6)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(8))
def test_random_changes_many(seed: int, synthetic: list[Path]) -> None:
    _run(Graph(), seed=100 + seed, steps=12)
    _run(Graph(synthetic), seed=200 + seed, steps=12)


SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix mi: <https://w3id.org/initiatieven/def/> .
@prefix ex: <https://example.org/shape/> .
@prefix schema: <https://schema.org/> .
@prefix tooi: <https://identifier.overheid.nl/tooi/def/ont/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix dct: <http://purl.org/dc/terms/> .

ex: sh:declare [ sh:prefix "mi" ; sh:namespace "https://w3id.org/initiatieven/def/"^^xsd:anyURI ] .

ex:Numbered a sh:NodeShape ; sh:targetSubjectsOf mi:partnerNumber ;
    sh:property [ sh:path mi:partnerNumber ; sh:maxCount 1 ; sh:datatype xsd:integer ; sh:minExclusive 0 ] .
ex:Municipality a sh:NodeShape ; sh:targetObjectsOf mi:municipality ;
    sh:nodeKind sh:IRI ;
    sh:property [ sh:path [ sh:inversePath mi:municipality ] ; sh:maxCount 3 ;
                  sh:or ( [ sh:class mi:Initiative ] [ sh:class mi:Participation ] ) ] .
ex:Closed a sh:NodeShape ; sh:targetClass schema:QuantitativeValue ; sh:closed true ;
    sh:ignoredProperties ( rdf:type ) ;
    sh:property [ sh:path schema:value ] , [ sh:path schema:unitCode ] .
ex:Nested a sh:NodeShape ; sh:targetClass mi:Participation ;
    sh:property [ sh:path mi:participant ;
                  sh:node [ sh:property [ sh:path mi:municipality ; sh:minCount 1 ] ] ] .
ex:Sequence a sh:NodeShape ; sh:targetClass mi:Participation ;
    sh:property [ sh:path ( mi:participant mi:municipality ) ; sh:minCount 1 ; sh:maxCount 1 ] .
ex:Identified a sh:NodeShape ; sh:targetNode <https://w3id.org/initiatieven/id/synthetisch/initiatief/3> ;
    sh:property [ sh:path dct:identifier ; sh:minCount 1 ; sh:pattern "^synth-" ] .
ex:SameMunicipality a sh:NodeShape ; sh:targetClass mi:Participation ;
    sh:sparql [ sh:prefixes ex: ; sh:select \"\"\"
        SELECT $this ?value WHERE {
            $this mi:participant/mi:municipality ?value ; mi:municipalPartner ?partner .
            [] ^mi:municipality ?value ; a mi:Initiative .
            FILTER (?value != ?partner)
        }\"\"\" ] .
ex:AnyPredicate a sh:NodeShape ; sh:targetClass mi:Initiative ;
    sh:sparql [ sh:prefixes ex: ; sh:select \"\"\"
        SELECT $this ?path ?value WHERE {
            $this ?path ?value . FILTER (isLiteral(?value) && lang(?value) = "en") }
        \"\"\" ] .
ex:Shared a sh:NodeShape ; sh:targetClass mi:Initiative ;
    sh:sparql [ sh:prefixes ex: ; sh:select \"\"\"
        SELECT $this ?value WHERE { $this mi:activity|mi:bottleneck ?value .
            ?other (mi:activity|mi:bottleneck) ?value ; mi:municipality ?m . $this mi:municipality ?m .
            FILTER (?other != $this && STR(?value) < "https://w3id.org/initiatieven/id/ac") }
        \"\"\" ] .
ex:PerNode a sh:NodeShape ; sh:targetClass mi:Initiative ;
    sh:sparql [ sh:prefixes ex: ; sh:select \"\"\"
        SELECT $this WHERE { FILTER NOT EXISTS { $this mi:bottleneck ?b } }
        \"\"\" ] .
"""


def test_random_changes_other_shapes(synthetic: list[Path], tmp_path: Path) -> None:
    """Shapes of every kind revalidation tells apart: value-local ones with other targets and an
    inverse path, sh:closed, sh:node, a sequence path, SPARQL with paths, a blank node and a variable
    predicate, SPARQL run per focus node."""
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(SHAPES)
    graph = Graph(synthetic, [shapes])
    assert graph.state.results
    _run(graph, seed=3, steps=8)


@pytest.mark.slow
def test_random_changes_w3c_suite() -> None:
    """Each entry of the W3C SHACL test suite whose shapes compile, changed at random a few times:
    every component and target kind the suite covers."""
    from w3c_shacl_suite import entries

    tried = 0
    for number, entry in enumerate(entries()):
        if entry.expected is None:
            continue
        try:
            graph = Graph([entry.data], [entry.shapes], need=False)
        except InputError:  # a known failure of the suite (test_w3c_shacl.KNOWN_FAILURES)
            continue
        if graph.state is None or not graph.data():
            continue
        tried += 1
        try:
            _run(graph, seed=number, steps=8)
        except AssertionError as err:
            raise AssertionError(f"{entry.name}: {err}") from err
    assert tried >= 100


# --- where it runs in full ----------------------------------------------------------------------------


@pytest.fixture
def spied(monkeypatch: pytest.MonkeyPatch) -> dict[str, list]:
    """Records the full runs revalidation falls back to, and the checks it runs itself."""
    calls: dict[str, list] = {"full": [], "checks": []}
    full, run = revalidation.validate_with_state, revalidation.run

    def counted_full(*args: object) -> object:
        calls["full"].append(args)
        return full(*args)

    def counted_run(checks: list, select: object) -> object:
        calls["checks"].extend(checks)
        return run(checks, select)

    monkeypatch.setattr(revalidation, "validate_with_state", counted_full)
    monkeypatch.setattr(revalidation, "run", counted_run)
    return calls


def test_a_changed_class_hierarchy_runs_in_full(spied: dict[str, list], synthetic: list[Path]) -> None:
    graph = Graph(synthetic)
    sub = ox.NamedNode(RDFS + "subClassOf")
    graph.add(ox.Triple(ox.NamedNode(MI + "Initiative"), sub, ox.NamedNode(MI + "Participation")))
    report = graph.check()
    assert len(spied["full"]) == 1 and not spied["checks"]
    assert any(f.shape.endswith("Participation-partnerNumber") for f in report.findings)  # now applies


def test_other_shapes_run_in_full(spied: dict[str, list], synthetic: list[Path], tmp_path: Path) -> None:
    graph = Graph(synthetic)
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(SHAPES)
    graph.check([shapes])
    assert len(spied["full"]) == 1
    shapes.write_text(SHAPES.replace("sh:maxCount 3", "sh:maxCount 2"))
    graph.state = validate_with_state(graph.store, GRAPHS, graph.exact, [shapes], None, graph.fallback)[1]
    shapes.write_text(SHAPES.replace("sh:maxCount 3", "sh:maxCount 1"))  # edited since the state
    graph.check([shapes])
    assert len(spied["full"]) == 2


def test_a_state_of_other_compiled_checks_or_none_runs_in_full(spied: dict[str, list]) -> None:
    graph = Graph()
    graph.state.checks_key = "0" * 64
    graph.check()
    assert len(spied["full"]) == 1
    graph.state = None
    graph.check()
    assert len(spied["full"]) == 2


def test_a_literal_not_kept_as_written_means_pyshacl(tmp_path: Path) -> None:
    """With the literal table in use the compiled path is not: no state, and the same report."""
    path = tmp_path / "data.ttl"
    path.write_text(
        "@prefix mi: <https://w3id.org/initiatieven/def/> .\n"
        "<https://example.org/p> a mi:Participation ; mi:partnerNumber 01 .\n"
    )
    engine = kg.load([path]).engine
    args = (
        engine.store,
        GRAPHS,
        engine.exact,
        None,
        engine.base,
        lambda: engine.to_rdflib([g.value for g in GRAPHS]),
    )
    report, state = validate_with_state(*args)
    assert state is None and report.engine == "rdflib"
    again, state = revalidate(*args, None, [], [])
    assert state is None and again.findings == report.findings


def test_a_blank_node_gone_from_the_store_runs_in_full(spied: dict[str, list], synthetic: list[Path]) -> None:
    graph = Graph(synthetic)
    node = ox.BlankNode()
    graph.add(ox.Triple(node, TYPE, ox.NamedNode(SCHEMA + "QuantitativeValue")))
    graph.check()  # a finding on the blank node (no value, no unit)
    assert any(row[1] == str(node) for row in graph.state.results)
    graph.store.remove(ox.Quad(node, TYPE, ox.NamedNode(SCHEMA + "QuantitativeValue"), DATA))
    graph.store.add(ox.Quad(ox.NamedNode(MI + "x"), TYPE, ox.NamedNode(MI + "y"), DATA))
    before = len(spied["full"])
    added, _ = graph.delta()
    revalidate(
        graph.store, GRAPHS, graph.exact, None, None, graph.fallback, graph.state, added, []
    )  # removal unsaid
    assert len(spied["full"]) == before + 1


# --- that it runs less ----------------------------------------------------------------------------------


def test_one_changed_initiative_runs_its_checks_only(spied: dict[str, list], synthetic: list[Path]) -> None:
    graph = Graph(synthetic)
    seven = ox.NamedNode(SYN + "initiatief/7")
    old = next(graph.store.quads_for_pattern(seven, ox.NamedNode(MI + "municipality"), None, DATA))
    graph.remove(old.triple)
    graph.add(ox.Triple(seven, ox.NamedNode(MI + "municipality"), ox.NamedNode(GM + "gm9999")))
    report = graph.check()
    assert not spied["full"]
    total = len(revalidation.compile_shapes(*_shapes()).checks)
    ran = spied["checks"]
    assert 0 < len(ran) < total / 3
    for check in ran:  # each for the focus nodes the change touched only
        text = check.query + (check.focus or "")
        assert "VALUES ?this {" in text, text
        named = {n for n in text.split() if n.startswith(f"<{SYN}")}
        assert named <= {f"<{SYN}initiatief/7>", f"<{SYN}deelname/7>"}, named
    assert any(f.focus == seven.value and f.value == GM + "gm9999" for f in report.findings)


def test_a_change_no_shape_reads_runs_nothing(spied: dict[str, list], synthetic: list[Path]) -> None:
    graph = Graph(synthetic)
    graph.add(
        ox.Triple(
            ox.NamedNode(SYN + "initiatief/7"),
            ox.NamedNode(RDFS + "seeAlso"),
            ox.NamedNode("https://example.org/"),
        )
    )
    graph.check()
    assert not spied["full"] and not spied["checks"]


def test_a_shared_partner_number_runs_the_sparql_constraint_for_both(
    spied: dict[str, list], synthetic: list[Path]
) -> None:
    graph = Graph(synthetic)
    number = ox.NamedNode(MI + "partnerNumber")
    five, nine = (ox.NamedNode(f"{SYN}deelname/{n}") for n in (5, 9))
    graph.remove(next(graph.store.quads_for_pattern(nine, number, None, DATA)).triple)
    graph.add(ox.Triple(nine, number, ox.Literal("5", datatype=ox.NamedNode(XSD + "integer"))))
    report = graph.check()
    unique = [c for c in spied["checks"] if c.shape.value.endswith("UniquePartnerNumberShape")]
    assert len(unique) == 1
    assert f"VALUES ?this {{ {five} {nine} }}" in unique[0].query
    assert {f.focus for f in report.findings if f.shape.endswith("UniquePartnerNumberShape")} == {
        five.value,
        nine.value,
    }


def _shapes() -> tuple[ox.Store, ox.NamedNode]:
    from kg.engines.validation import _SHAPES, _shapes_store

    return _shapes_store(None)[0], _SHAPES


# --- the state file ---------------------------------------------------------------------------------


def test_the_state_round_trips_through_a_file(synthetic: list[Path], tmp_path: Path) -> None:
    graph = Graph(synthetic)
    node = ox.BlankNode()
    graph.add(ox.Triple(node, TYPE, ox.NamedNode(SCHEMA + "QuantitativeValue")))
    graph.add(
        ox.Triple(
            ox.NamedNode(SYN + "initiatief/2"),
            ox.NamedNode(SCHEMA + "foundingDate"),
            ox.Literal('"twee"\n\\', language="nl"),
        )
    )
    graph.check()
    path = tmp_path / "state.json"
    graph.state.save(path)
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temporary file left
    loaded = ValidationState.load(path)
    assert loaded == graph.state
    graph.state = loaded
    graph.remove(ox.Triple(node, TYPE, ox.NamedNode(SCHEMA + "QuantitativeValue")))
    graph.check()


DAMAGED = [b"", b"{}", b"[]", b'{"format": "other"}'] + [
    b'{"format": "kg-validation-state 1", "shapes_key": "a", "checks_key": "b", "results": %s}' % row
    for row in (b'[[0, "<x", null, null]]', b'[["0", "<x>", null, null]]', b'[[0, "<x> <y>", null, null]]',
                b'[[0, "<urn:x>", null, ""]]', b'[[0, "<urn:x>"]]')
]  # fmt: skip


@pytest.mark.parametrize("content", DAMAGED)
def test_a_damaged_state_file_is_an_input_error(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(content)
    with pytest.raises(InputError, match=r"state\.json"):
        ValidationState.load(path)


def test_a_state_file_keeps_its_terms(tmp_path: Path) -> None:
    rows = [(0, "<https://example.org/a>", None, '"x\\ny"@nl'), (3, "_:b1", "", '"1"^^<' + XSD + "integer>")]
    state = ValidationState("s", "c", rows)
    state.save(tmp_path / "s.json")
    assert json.loads((tmp_path / "s.json").read_text())["results"][1] == [3, "_:b1", "", rows[1][3]]
    assert ValidationState.load(tmp_path / "s.json") == state


# --- the triple patterns of a SPARQL constraint -----------------------------------------------------------


def test_triple_patterns_of_one_group() -> None:
    found = triple_patterns.read(
        "PREFIX mi: <https://w3id.org/initiatieven/def/>\nSELECT $this ?value WHERE {\n"
        "  $this mi:a ?value ; mi:b/^mi:c ?x , 'lit'@en . [ a mi:T ; mi:d ?x ] mi:e 1.5 .\n"
        "  FILTER (?x != $this && regex(?value, '{')) BIND (mi:a AS ?path) ?path mi:f ?value.\n}"
    )
    assert found is not None and found.prologue.startswith("PREFIX mi:")
    rows = [(str(s), str(o)) for s, _, o in found.triples]
    assert rows[:3] == [("?this", "?value"), ("?this", "?x"), ("?this", "'lit'@en")]
    assert found.predicates() == {MI + n for n in "abcdef"} | {RDF_TYPE}
    variants = triple_patterns.alternatives(found)
    assert len(variants) == 1
    assert [(str(s), p.term.value, str(o)) for s, p, o in variants[0][1:3]] == [
        ("?this", MI + "b", "?_kg_m0"),
        ("?x", MI + "c", "?_kg_m0"),
    ]


def test_alternative_paths_give_one_pattern_list_each() -> None:
    found = triple_patterns.read(
        "PREFIX mi: <urn:mi:> SELECT $this WHERE { $this (mi:a|mi:b)/(mi:c|^mi:d) ?v }"
    )
    assert len(triple_patterns.alternatives(found)) == 4


@pytest.mark.parametrize(
    "query",
    [
        "SELECT $this WHERE { $this !<urn:p> ?v }",  # a negated property set
        "SELECT $this WHERE { $this <urn:p>+ ?v }",
        "SELECT $this WHERE { $this <urn:p> ( 1 2 ) }",  # a collection
        "SELECT $this FROM <urn:g> WHERE { $this <urn:p> ?v }",
        "SELECT $this WHERE { $this ex:p ?v }",  # an undeclared prefix
        "SELECT $this WHERE { $this <rel> ?v }",  # a relative IRI
        "SELECT $this WHERE { $this <urn:p> ?v } LIMIT 1",
        "SELECT $this WHERE { $this ?p/<urn:q> ?v }",
    ],
)
def test_what_the_pattern_reader_does_not_read(query: str) -> None:
    assert triple_patterns.read(query) is None


def test_a_variable_predicate_can_match_any_triple() -> None:
    found = triple_patterns.read("SELECT $this WHERE { $this ?p ?v . ?v a <urn:C> }")
    assert found is not None and found.predicates() is None
