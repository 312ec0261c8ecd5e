"""The fast path (Oxigraph: SPARQL rules, shapes compiled to SPARQL) and the reference path (rdflib,
owlrl, pyshacl, rdflib SPARQL) give the same answers: on the bundled data, on every invalid fixture and
on 1,000 synthetic initiatives with planted defects."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import TESTS

import kg
from kg.core import bundle
from kg.synth.generate import DEFECTS, triples

REFERENCE = [p for p in bundle.data_files() if p.name in ("gemeenten.ttl", "programma.ttl")]
FIXTURES = sorted((TESTS / "fixtures" / "invalid").glob("*.ttl"))


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[int, str]]:
    """1,000 synthetic initiatives, 5 % of them with one planted defect each."""
    planted: dict[int, str] = {}
    path = tmp_path_factory.mktemp("synth") / "synth-1000.nt"
    path.write_text("\n".join(triples(1000, seed=3, invalid_rate=0.05, planted=planted)) + "\n")
    return path, planted


def _same_validation(graph: kg.KnowledgeGraph) -> kg.engines.validation.ValidationReport:
    fast, reference = graph.validate(engine="oxigraph"), graph.validate(engine="rdflib")
    assert (fast.engine, reference.engine) == ("oxigraph", "rdflib")
    assert fast.findings == reference.findings  # focus, path, shape, severity, value and messages
    assert fast.conforms == reference.conforms
    return fast


def test_same_validation_on_bundled_data() -> None:
    report = _same_validation(kg.load())
    assert report.conforms and report.findings == []


@pytest.mark.slow  # pyshacl per fixture; the default engine's answer per fixture is in test_shapes.py
@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.stem for f in FIXTURES])
def test_same_validation_on_invalid_fixture(fixture: Path) -> None:
    report = _same_validation(kg.load([*bundle.data_files(), fixture]))
    assert report.findings  # each fixture breaks at least one shape


@pytest.mark.slow
def test_same_validation_on_synthetic_defects(synthetic: tuple[Path, dict[int, str]]) -> None:
    path, planted = synthetic
    report = _same_validation(kg.load([*REFERENCE, path]))
    assert len(planted) > 30 and set(planted.values()) == set(DEFECTS)
    assert {f.focus.rsplit("/", 1)[-1] for f in report.findings} == {str(n) for n in planted}


def test_fast_report_turtle_is_a_shacl_report() -> None:
    import rdflib

    graph = kg.load([*bundle.data_files(), FIXTURES[0]])
    fast, reference = graph.validate(engine="oxigraph"), graph.validate(engine="rdflib")
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")

    def results(text: str) -> set[tuple]:
        report = rdflib.Graph().parse(data=text, format="turtle")
        assert (None, sh.conforms, rdflib.Literal(False)) in report
        fields = (
            sh.focusNode,
            sh.sourceShape,
            sh.resultPath,
            sh.resultSeverity,
            sh.sourceConstraintComponent,
        )
        return {
            tuple(report.value(r, f) for f in fields)
            for r in report.subjects(rdflib.RDF.type, sh.ValidationResult)
        }

    assert results(fast.turtle()) == results(reference.turtle()) != set()


def test_shapes_the_compiler_does_not_cover_fall_back_to_pyshacl(tmp_path: Path) -> None:
    shapes = tmp_path / "optional.ttl"
    shapes.write_text("""@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix mi: <https://w3id.org/initiatieven/def/> .
<urn:x:GoalShape> a sh:NodeShape ; sh:targetClass mi:Goal ;
    sh:sparql [ sh:select "SELECT $this WHERE { $this ?p ?o } GROUP BY $this HAVING (COUNT(?o) > 0)" ] .
""")
    report = kg.load().validate([shapes])
    assert report.engine == "rdflib"  # $this in GROUP BY cannot be pre-bound by substitution
    assert set(report.declined) == {"urn:x:GoalShape"} and report.compiled == []
    assert not report.conforms and {f.shape for f in report.findings} == {"urn:x:GoalShape"}


def test_sparql_constraints_that_need_pre_binding_run_per_focus_node(tmp_path: Path) -> None:
    """OPTIONAL and bound(): the rows depend on where $this is bound (SHACL 5.3.1), so the compiled
    engine runs the query once per focus node; the findings are pyshacl's."""
    shapes = tmp_path / "optional.ttl"
    shapes.write_text("""@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix mi: <https://w3id.org/initiatieven/def/> .
<urn:x:GoalShape> a sh:NodeShape ; sh:targetClass mi:Goal ;
    sh:sparql [ sh:select "SELECT $this WHERE { OPTIONAL { $this <urn:x:none> ?x } FILTER (!bound(?x)) }" ] .
""")
    fast, reference = (kg.load().validate([shapes], engine=e) for e in ("oxigraph", "rdflib"))
    assert fast.engine == "oxigraph" and fast.declined == {} and fast.compiled == ["urn:x:GoalShape"]
    assert fast.findings == reference.findings and len(fast.findings) > 0


def test_unknown_engine_is_a_usage_error() -> None:
    from kg.core.errors import UsageError

    with pytest.raises(UsageError, match="unknown validation engine 'jena'"):
        kg.load().validate(engine="jena")


def _rows(result: kg.Result) -> list[tuple]:
    """Rows as comparable text, in a stable order (rows that tie in ORDER BY may come in any order).
    GROUP_CONCAT lists are compared as they come: the stored queries order them (issue 16)."""
    return sorted(tuple("" if t is None else str(t) for t in row) for row in result.rows)


def _same_answers(
    fast: kg.KnowledgeGraph, reference: object, initiative: str, skip: tuple[str, ...] = ()
) -> dict[str, int]:
    sizes = {}
    for name, stored in kg.stored_queries().items():
        if name in skip:
            continue
        params = {p.name: p.example for p in stored.parameters if p.required and p.example is not None}
        if "initiative" in params:
            params["initiative"] = initiative
        a, b = fast.query(stored, params), reference.query(stored, params)
        assert a.variables == b.variables, name
        assert _rows(a) == _rows(b), name
        sizes[name] = len(a)
    return sizes


def test_same_query_answers_on_bundled_data() -> None:
    sizes = _same_answers(kg.load(), kg.load(engine="rdflib"), "wattwest")
    assert sizes["initiatives"] == 11 and sizes["shared-bottlenecks"] > 0


@pytest.fixture(scope="module")
def reference(synthetic: tuple[Path, dict[int, str]]) -> object:
    """The synthetic graph on the reference path, with owlrl's closure (15 s: computed once)."""
    graph = kg.load([*REFERENCE, synthetic[0]], engine="rdflib")
    graph.infer()
    return graph


# Pairs of initiatives: rdflib's engine needs minutes for these at 1,000 (272 s for shared-bottlenecks,
# quadratic in the size), so they are compared on 150 initiatives below.
PAIRWISE = ("shared-bottlenecks", "similar-initiatives")


@pytest.mark.slow
def test_same_query_answers_on_synthetic_data(
    synthetic: tuple[Path, dict[int, str]], reference: object
) -> None:
    sizes = _same_answers(kg.load([*REFERENCE, synthetic[0]]), reference, "synth-1", skip=PAIRWISE)
    assert sizes["initiatives"] > 900 and sizes["initiatives-by-legal-form"] > 100


@pytest.mark.slow
def test_same_pairwise_answers_on_smaller_synthetic_data(tmp_path: Path) -> None:
    path = tmp_path / "synth-150.nt"
    path.write_text("\n".join(triples(150, seed=4, invalid_rate=0.05)) + "\n")
    files = [*REFERENCE, path]
    fast, reference = kg.load(files), kg.load(files, engine="rdflib")
    skip = tuple(n for n in kg.stored_queries() if n not in PAIRWISE)
    sizes = _same_answers(fast, reference, "synth-1", skip=skip)
    assert sizes["shared-bottlenecks"] > 1000 and sizes["similar-initiatives"] > 10


def _inferred_about_things(triples: object) -> set[tuple]:
    """Inferred triples whose subject is an initiative, municipality or other thing (not a term)."""
    from kg.core.namespaces import ID
    from kg.synth.generate import SYN

    skip = {
        "http://www.w3.org/2002/07/owl#Thing",
        "http://www.w3.org/2000/01/rdf-schema#Resource",
        "http://www.w3.org/2002/07/owl#sameAs",
    }
    return {
        (s, p, o)
        for s, p, o in triples
        if s.startswith((ID, SYN, "https://identifier.overheid.nl/"))
        and not o.startswith("_:")
        and o not in skip
        and p not in skip
    }


@pytest.mark.slow
def test_same_inferred_triples_on_synthetic_data(
    synthetic: tuple[Path, dict[int, str]], reference: object
) -> None:
    import rdflib

    from kg.graph import INFERRED

    path, _ = synthetic
    fast = kg.load([*REFERENCE, path])
    fast.infer()
    ours = _inferred_about_things(
        (
            t.subject.value,
            t.predicate.value,
            t.object.value if isinstance(t.object, ox.NamedNode) else str(t.object),
        )
        for t in fast.triples(INFERRED)
        if not isinstance(t.subject, ox.BlankNode)
    )
    if reference.reasoner is None:  # the module fixture may have inferred already
        reference.infer()
    added = set(reference.engine.graphs[INFERRED.value])  # owlrl's closure less the asserted

    def text(term: object) -> str:
        if isinstance(term, rdflib.BNode):
            return "_:"
        return str(term) if isinstance(term, rdflib.URIRef) else term.n3()

    theirs = _inferred_about_things(
        (text(s), str(p), text(o)) for s, p, o in added if not isinstance(s, rdflib.Literal)
    )
    assert ours == theirs
    assert len(ours) > 5000


def test_command_line_engines_agree(capsys: pytest.CaptureFixture[str]) -> None:
    from kg.cli import main

    outputs = {}
    for engine in ("oxigraph", "rdflib"):
        assert main(["query", "initiatives", "--engine", engine, "--format", "csv"]) == 0
        outputs[engine] = capsys.readouterr().out
        assert main(["validate", "--engine", engine, "--format", "json"]) == 0
        assert '"conforms": true' in capsys.readouterr().out
    assert outputs["oxigraph"] == outputs["rdflib"]
    assert outputs["oxigraph"].count("\n") == 12  # header and the eleven partners
    assert main(["query", "initiatives", "--engine", "jena"]) == 2
    assert "invalid choice: 'jena'" in capsys.readouterr().err
