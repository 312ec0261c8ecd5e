"""The fast path (Oxigraph: SPARQL rules, shapes compiled to SPARQL) and the reference path (rdflib,
owlrl, pyshacl, rdflib SPARQL) give the same answers: on the bundled data, on every invalid fixture and
on 1,000 synthetic initiatives with planted defects."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import TESTS

import kg
from kg import bundle
from kg.synth import DEFECTS, triples

REFERENCE = [p for p in bundle.data_files() if p.name in ("gemeenten.ttl", "programma.ttl")]
FIXTURES = sorted((TESTS / "fixtures" / "invalid").glob("*.ttl"))


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[int, str]]:
    """1,000 synthetic initiatives, 5 % of them with one planted defect each."""
    planted: dict[int, str] = {}
    path = tmp_path_factory.mktemp("synth") / "synth-1000.nt"
    path.write_text("\n".join(triples(1000, seed=3, invalid_rate=0.05, planted=planted)) + "\n")
    return path, planted


def _same_validation(graph: kg.KnowledgeGraph) -> kg.validation.ValidationReport:
    fast, reference = graph.validate(engine="oxigraph"), graph.validate(engine="rdflib")
    assert (fast.engine, reference.engine) == ("oxigraph", "rdflib")
    assert fast.findings == reference.findings  # focus, path, shape, severity, value and messages
    assert fast.conforms == reference.conforms
    return fast


def test_same_validation_on_bundled_data() -> None:
    report = _same_validation(kg.load())
    assert report.conforms and report.findings == []


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.stem for f in FIXTURES])
def test_same_validation_on_invalid_fixture(fixture: Path) -> None:
    report = _same_validation(kg.load([*bundle.data_files(), fixture]))
    assert report.findings  # each fixture breaks at least one shape


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
        fields = (sh.focusNode, sh.sourceShape, sh.resultPath, sh.resultSeverity,
                  sh.sourceConstraintComponent)
        return {tuple(report.value(r, f) for f in fields)
                for r in report.subjects(rdflib.RDF.type, sh.ValidationResult)}

    assert results(fast.turtle()) == results(reference.turtle()) != set()


def test_shapes_the_compiler_does_not_cover_fall_back_to_pyshacl(tmp_path: Path) -> None:
    shapes = tmp_path / "closed.ttl"
    shapes.write_text("""@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix mi: <https://w3id.org/initiatieven/def/> .
<urn:x:GoalShape> a sh:NodeShape ; sh:targetClass mi:Goal ; sh:closed true ;
    sh:ignoredProperties ( <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> ) .
""")
    report = kg.load().validate([shapes])
    assert report.engine == "rdflib"
    assert not report.conforms and {f.shape for f in report.findings} == {"urn:x:GoalShape"}


def test_unknown_engine_is_a_usage_error() -> None:
    from kg.errors import UsageError

    with pytest.raises(UsageError, match="unknown validation engine 'jena'"):
        kg.load().validate(engine="jena")
