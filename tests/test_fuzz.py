"""Property-based tests (hypothesis): every input either works or gets a clear kg error.

Never a traceback from deeper down: a wrong CSV cell, query parameter or RDF file always ends in a
KgError subclass (which the command line turns into one line and an exit status).
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib.compare import isomorphic

import kg
from kg.core import bundle
from kg.core.turtle import serialize
from kg.steward.intake import COLUMNS, import_csv

pytestmark = pytest.mark.slow  # property-based fuzzing: hundreds of generated inputs

SETTINGS = settings(
    max_examples=int(__import__("os").environ.get("KG_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
GRAPH = kg.load()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("project")
    for folder in ("ontology", "data"):
        shutil.copytree(bundle.root() / folder, root / folder)
    return root / "data"


cell = st.one_of(
    st.sampled_from(
        [
            "",
            "-",
            "Tilburg",
            "GM0855",
            "Dordrect",
            "stichting",
            "groenbeheer;buurttuin",
            "fiscaliteit",
            "1000",
            "12,5",
            "2019",
            "https://example.org/x",
            "wattwest",
            "Een tekst",
            "A text",
            '"quoted"',
            "x\ny",
            ";",
            ",",
        ]
    ),
    st.text(max_size=20),
)


@SETTINGS
@given(rows=st.lists(st.fixed_dictionaries({c: cell for c in COLUMNS}), min_size=1, max_size=3))
def test_csv_intake_never_crashes(data_dir: Path, tmp_path_factory, rows: list[dict]) -> None:
    import csv

    path = tmp_path_factory.mktemp("csv") / "rows.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    with contextlib.suppress(kg.KgError):
        import_csv(path, data_dir, dry_run=True)


@SETTINGS
@given(content=st.binary(max_size=300))
def test_csv_bytes_never_crash(data_dir: Path, tmp_path_factory, content: bytes) -> None:
    path = tmp_path_factory.mktemp("csv") / "raw.csv"
    path.write_bytes(content)
    with contextlib.suppress(kg.KgError):
        import_csv(path, data_dir, dry_run=True)


PROBE = kg.core.queries.parse(
    "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\nSELECT ?c WHERE { ?c skos:notation ?_code }",
    "probe",
)
NOTATIONS = set(GRAPH.query("SELECT ?n WHERE { ?c skos:notation ?n }").column("n"))


@SETTINGS
@given(value=st.text(max_size=40))
def test_a_parameter_is_always_one_literal(value: str) -> None:
    """Whatever the value, the query keeps its shape: it matches that exact notation or nothing."""
    rows = GRAPH.query(PROBE, {"code": value}).column("c")
    assert len(rows) == (1 if value in NOTATIONS else 0)


@SETTINGS
@given(
    value=st.text(max_size=40),
    suffix=st.sampled_from(["iri", "integer", "decimal", "date", "gYear", "boolean", "string"]),
)
def test_typed_parameters_validate_or_refuse(value: str, suffix: str) -> None:
    stored = kg.core.queries.parse(f"SELECT ?x WHERE {{ BIND (?_x_{suffix} AS ?x) }}", "typed")
    with contextlib.suppress(kg.ParameterError):
        assert len(GRAPH.query(stored, {"x": value})) == 1


@SETTINGS
@given(value=st.text(max_size=30))
def test_stored_query_parameters_never_crash(value: str) -> None:
    try:
        GRAPH.query("initiatives-by-municipality", {"municipality": value})
    except kg.ParameterError as err:
        assert "municipality" in str(err)


@SETTINGS
@given(
    text=st.one_of(
        st.text(max_size=200),
        st.sampled_from(
            [
                "@prefix ex: <https://example.org/> .\nex:a ex:b ex:c .\n",
                "ex:a ex:b ex:c .",
                "<a> <b> <c> .",
                '@prefix ex: <https://example.org/> .\nex:a ex:b "unterminated .\n',
                "@base <x> . <a> <b> [ <c> ( 1 2",
            ]
        ),
    ),
    suffix=st.sampled_from([".ttl", ".nt", ".jsonld", ".rdf", ".trig"]),
)
def test_rdf_loading_works_or_says_where(tmp_path_factory, text: str, suffix: str) -> None:
    path = tmp_path_factory.mktemp("rdf") / f"input{suffix}"
    path.write_text(text, encoding="utf-8")
    try:
        kg.load([path])
    except kg.InputError as err:
        assert str(err).startswith(str(path))


literal = st.one_of(
    st.builds(ox.Literal, st.text(max_size=15)),
    st.builds(
        lambda t, lang: ox.Literal(t, language=lang), st.text(max_size=10), st.sampled_from(["nl", "en"])
    ),
    st.builds(
        lambda n: ox.Literal(str(n), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")),
        st.integers(),
    ),
    st.builds(
        lambda t: ox.Literal(t, datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#decimal")),
        st.sampled_from(["1.5", "-0.25", "10", ".5"]),
    ),
)
iri = st.sampled_from(
    [
        ox.NamedNode(i)
        for i in (
            "https://w3id.org/initiatieven/def/p",
            "https://w3id.org/initiatieven/id/initiatief/a",
            "https://w3id.org/initiatieven/id/initiatief/a.b",
            "https://example.org/x#y",
            "http://a/b(c)",
            "https://w3id.org/initiatieven/id/bron/experimentpartners/5",
            "urn:x:1",
        )
    ]
)
node = st.one_of(iri, st.sampled_from([ox.BlankNode("b1"), ox.BlankNode("b2"), ox.BlankNode("b3")]))


@SETTINGS
@given(triples=st.lists(st.builds(ox.Triple, node, iri, st.one_of(node, literal)), max_size=12))
def test_canonical_turtle_round_trips(triples: list[ox.Triple]) -> None:
    text = serialize(triples)
    original = rdflib.Graph().parse(data="".join(f"{t} .\n" for t in triples), format="nt")
    assert isomorphic(rdflib.Graph().parse(data=text, format="turtle"), original), text
    assert serialize([q.triple for q in ox.parse(text.encode(), format=ox.RdfFormat.TURTLE)]) == text
