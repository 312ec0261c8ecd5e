"""Each stored query's exact answer on the bundled data, derived by reading the source.

Bottlenecks per partner, as the source states them:
 1 maatschappelijk aanbesteden (Wijkwerkplaats), fiscal questions (wijkvaluta)
 2 parapluvergunning            3 maatschappelijk aanbesteden, fiscale regelgeving
 4 parapluvergunning            5 fiscale knelpunten, maatschappelijk aanbesteden
 6 maatschappelijk aanbesteden, regelluwheid, fiscale knelpunten
 7 aanbesteden, aansprakelijkheid                 8 aanbestedingen, regelluwe zone
 9 fiscale knelpunten, regelluwheid               10, 11 none named
"""

from __future__ import annotations

import pytest
from conftest import rows

import kg

BOTTLENECKS = {
    1: {"aanbesteden", "fiscaliteit"},
    2: {"parapluvergunning"},
    3: {"aanbesteden", "fiscaliteit"},
    4: {"parapluvergunning"},
    5: {"aanbesteden", "fiscaliteit"},
    6: {"aanbesteden", "regelluwte", "fiscaliteit"},
    7: {"aanbesteden", "aansprakelijkheid"},
    8: {"aanbesteden", "regelluwte"},
    9: {"fiscaliteit", "regelluwte"},
    10: set(),
    11: set(),
}


def numbers(result: list[dict], key: str = "number") -> list[int]:
    return [r[key] for r in result]


def test_all_stored_queries_are_present() -> None:
    assert set(kg.stored_queries()) == {
        "initiatives",
        "bottleneck-types",
        "initiatives-by-bottleneck",
        "shared-bottlenecks",
        "bottleneck-counts",
        "bottleneck-cooccurrence",
        "initiatives-by-municipality",
        "initiatives-by-legal-form",
        "initiatives-by-activity",
        "legal-form-history",
        "without-bottleneck",
        "similar-initiatives",
        "provenance",
    }


def test_initiatives(graph: kg.KnowledgeGraph) -> None:
    result = rows(graph, "initiatives")
    assert numbers(result) == list(range(1, 12))
    assert {r["number"]: r["bottlenecks"] for r in result} == {n: len(b) for n, b in BOTTLENECKS.items()}
    assert [(r["municipality"], r["province"]) for r in result][:2] == [
        ("Amersfoort", "Utrecht"),
        ("Amsterdam", "Noord-Holland"),
    ]
    assert {r["number"]: r["legalForm"] for r in result if r["legalForm"]} == {
        1: "vereniging",
        3: "stichting",
        4: "coöperatie",
        6: "coöperatie",
        8: "stichting",
        10: "coöperatie",
        11: "coöperatie",
    }


def test_initiatives_in_english(graph: kg.KnowledgeGraph) -> None:
    result = list(graph.query("initiatives", lang="en"))
    assert result[2]["legalForm"] == "foundation" and result[3]["legalForm"] == "cooperative"


@pytest.mark.parametrize(
    "code", ["aanbesteden", "aansprakelijkheid", "fiscaliteit", "regelluwte", "parapluvergunning"]
)
def test_initiatives_by_bottleneck(graph: kg.KnowledgeGraph, code: str) -> None:
    expected = [n for n, b in BOTTLENECKS.items() if code in b]
    assert numbers(rows(graph, "initiatives-by-bottleneck", bottleneck=code)) == expected


def test_broader_bottleneck_includes_narrower(graph: kg.KnowledgeGraph) -> None:
    assert numbers(rows(graph, "initiatives-by-bottleneck", bottleneck="vergunningen")) == [2, 4]


def test_shared_tax_bottlenecks(graph: kg.KnowledgeGraph) -> None:
    # "which initiatives share tax issues?": every pair of 1, 3, 5, 6, 9 once
    result = rows(graph, "shared-bottlenecks", bottleneck="fiscaliteit")
    pairs = [(r["numberA"], r["numberB"]) for r in result]
    assert pairs == [(1, 3), (1, 5), (1, 6), (1, 9), (3, 5), (3, 6), (3, 9), (5, 6), (5, 9), (6, 9)]
    assert {r["shared"] for r in result} == {"fiscaliteit"}


def test_shared_bottlenecks_all_pairs(graph: kg.KnowledgeGraph) -> None:
    expected = {
        (a, b): BOTTLENECKS[a] & BOTTLENECKS[b]
        for a in range(1, 12)
        for b in range(a + 1, 12)
        if BOTTLENECKS[a] & BOTTLENECKS[b]
    }
    result = rows(graph, "shared-bottlenecks")
    assert {(r["numberA"], r["numberB"]): set(r["shared"].split(", ")) for r in result} == expected
    assert all(r["count"] == len(expected[(r["numberA"], r["numberB"])]) for r in result)


def test_bottleneck_counts(graph: kg.KnowledgeGraph) -> None:
    result = rows(graph, "bottleneck-counts")
    assert [(r["code"], r["initiatives"]) for r in result] == [
        ("aanbesteden", 6),
        ("fiscaliteit", 5),
        ("regelluwte", 3),
        ("parapluvergunning", 2),
        ("vergunningen", 2),
        ("aansprakelijkheid", 1),
    ]


def test_bottleneck_cooccurrence(graph: kg.KnowledgeGraph) -> None:
    result = rows(graph, "bottleneck-cooccurrence")
    found = {
        (r["codeA"], r["codeB"]): (r["initiatives"], sorted(map(int, r["partners"].split(", "))))
        for r in result
    }
    assert found == {
        ("aanbesteden", "fiscaliteit"): (4, [1, 3, 5, 6]),
        ("aanbesteden", "regelluwte"): (2, [6, 8]),
        ("fiscaliteit", "regelluwte"): (2, [6, 9]),
        ("aanbesteden", "aansprakelijkheid"): (1, [7]),
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, list(range(1, 12))),
        ({"municipality": "Amsterdam"}, [2, 3]),
        ({"municipality": "GM0518"}, [10]),
        ({"municipality": "den haag"}, [10]),
        ({"province": "Zuid-Holland"}, [4, 7, 8, 10]),
        ({"province": "Noord-Brabant"}, [9, 11]),
        ({"municipality": "Utrecht", "province": "Utrecht"}, [5]),
    ],
)
def test_initiatives_by_municipality(graph: kg.KnowledgeGraph, params: dict, expected: list) -> None:
    assert sorted(numbers(rows(graph, "initiatives-by-municipality", **params))) == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("stichting", [3, 8]),
        ("cooperatie", [4, 6, 10, 11]),
        ("vereniging", [1, 4, 6, 10, 11]),  # a coöperatie is a vereniging (BW 2:53)
        ("privaatrechtelijk", [1, 3, 4, 6, 8, 10, 11]),
        ("rechtspersoon", [1, 3, 4, 6, 8, 10, 11]),
        ("bv", []),
    ],
)
def test_initiatives_by_legal_form(graph: kg.KnowledgeGraph, code: str, expected: list) -> None:
    assert numbers(rows(graph, "initiatives-by-legal-form", legalform=code)) == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("groenbeheer", [2, 6, 7, 11]),
        ("beheer-openbare-ruimte", [2, 6, 7, 8, 11]),
        ("zorg-en-welzijn", [5, 6]),
        ("werk-en-ondernemerschap", [1, 3, 7, 9, 10]),
        ("inbraakpreventie", [11]),
    ],
)
def test_initiatives_by_activity(graph: kg.KnowledgeGraph, code: str, expected: list) -> None:
    assert numbers(rows(graph, "initiatives-by-activity", activity=code)) == expected


def test_legal_form_history(graph: kg.KnowledgeGraph) -> None:
    # partner 11: stichting from the start in 2011, wijkcoöperatie from 2015, stichting dissolved 2016
    result = rows(graph, "legal-form-history")
    assert [(r["number"], r["legalForm"], r["from"], r["until"]) for r in result] == [
        (11, "stichting", "2011", "2016"),
        (11, "coöperatie", "2015", None),
    ]


def test_without_bottleneck(graph: kg.KnowledgeGraph) -> None:
    assert numbers(rows(graph, "without-bottleneck")) == [10, 11]


def test_similar_initiatives(graph: kg.KnowledgeGraph) -> None:
    # partner 1 shares aanbesteden+fiscaliteit with 3, 5, 6; fiscaliteit and bewonersbedrijf with 9;
    # one item with 7, 8 (aanbesteden) and 10 (bewonersbedrijf)
    result = rows(graph, "similar-initiatives", initiative="duurzaam-soesterkwartier")
    assert [(r["number"], r["score"]) for r in result] == [
        (3, 2),
        (5, 2),
        (6, 2),
        (9, 2),
        (7, 1),
        (8, 1),
        (10, 1),
    ]
    with pytest.raises(kg.ParameterError, match="unknown value '1'"):
        rows(graph, "similar-initiatives", initiative="1")  # an identifier, not a partner number


def test_similar_to_wattwest(graph: kg.KnowledgeGraph) -> None:
    result = rows(graph, "similar-initiatives", initiative="wattwest")
    assert [(r["number"], r["sharedActivities"]) for r in result] == [(7, 2), (2, 1), (6, 1)]


def test_provenance(graph: kg.KnowledgeGraph) -> None:
    result = rows(graph, "provenance", initiative="wattwest")
    assert {r["partner"] for r in result} == {11}
    assert {r["source"] for r in result} == {"https://w3id.org/initiatieven/id/bron/experimentpartners/11"}
    statements = {
        (r["subject"].rsplit("/", 1)[1], r["property"].rsplit("/", 1)[1], r["value"]) for r in result
    }
    assert ("wattwest", "foundingDate", "2011") in statements
    assert ("wattwest-rechtsvorm-stichting", "dcat#endDate", "2016") in statements
    assert ("11", "partnerNumber", 11) in statements
    # asserted statements only: no inferred class membership
    assert not any(v == "https://w3id.org/initiatieven/def/Cooperative" for *_, v in statements)


# --- parameters ---------------------------------------------------------------------------------


def test_missing_required_parameter(graph: kg.KnowledgeGraph) -> None:
    expected = r"needs parameter bottleneck \(e\.g\. -p bottleneck=fiscaliteit\)"
    with pytest.raises(kg.ParameterError, match=expected):
        graph.query("initiatives-by-bottleneck")


def test_missing_parameter_is_worded_per_interface(graph: kg.KnowledgeGraph) -> None:
    """The suggested setting is written as the caller's interface spells it; str() is the CLI's."""
    with pytest.raises(kg.ParameterError) as caught:
        graph.query("initiatives-by-bottleneck")
    http = caught.value.worded(lambda name, value: f"?{name}={value}")
    assert http == "query initiatives-by-bottleneck needs parameter bottleneck (e.g. ?bottleneck=fiscaliteit)"
    assert str(caught.value) == http.replace("?bottleneck", "-p bottleneck")


@pytest.mark.parametrize("values", [{"lang": "fr"}, {"lang": "NL"}, {"lang": ""}])
def test_lang_parameter_must_be_a_language_of_kg(graph: kg.KnowledgeGraph, values: dict) -> None:
    with pytest.raises(kg.ParameterError, match=r"parameter lang: .* use one of: nl, en"):
        graph.query("initiatives", values)
    with pytest.raises(kg.ParameterError, match=r"parameter lang: 'fr'"):
        graph.query("initiatives", lang="fr")  # the language that fills a lang parameter not given


def test_unknown_parameter(graph: kg.KnowledgeGraph) -> None:
    with pytest.raises(kg.ParameterError, match="has no parameter 'colour'"):
        graph.query("initiatives", {"colour": "red"})


def test_unknown_value_suggests_near_miss(graph: kg.KnowledgeGraph) -> None:
    with pytest.raises(kg.ParameterError, match="did you mean fiscaliteit"):
        graph.query("initiatives-by-bottleneck", {"bottleneck": "fiscalitet"})


@pytest.mark.parametrize(
    "evil",
    [
        'fiscaliteit" } UNION { ?initiative ?p ?o } #',
        "fiscaliteit' || true || '",
        "x> } SELECT * WHERE { ?s ?p ?o",
        "\\u0022 }",
    ],
)
def test_values_cannot_change_the_query(graph: kg.KnowledgeGraph, evil: str) -> None:
    # validated against the allowed values first ...
    with pytest.raises(kg.ParameterError):
        graph.query("initiatives-by-bottleneck", {"bottleneck": evil})
    # ... and where a value is not validated, it stays one literal: no rows, no error
    stored = kg.core.queries.parse(
        "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\nSELECT ?c WHERE { ?c skos:notation ?_code }",
        "probe",
    )
    assert len(graph.query(stored, {"code": evil})) == 0
    assert graph.query(stored, {"code": "fiscaliteit"}).column("c") == [
        "https://w3id.org/initiatieven/id/knelpunttype/fiscaliteit"
    ]


@pytest.mark.parametrize(
    ("suffix", "value", "ok"),
    [
        ("integer", "11", True),
        ("integer", "elf", False),
        ("iri", "init:wattwest", True),
        ("iri", "not an iri", False),
        ("date", "2015-02-30", False),
        ("gYear", "2015", True),
    ],
)
def test_typed_parameters(graph: kg.KnowledgeGraph, suffix: str, value: str, ok: bool) -> None:
    stored = kg.core.queries.parse(f"SELECT ?x WHERE {{ BIND (?_x_{suffix} AS ?x) }}", "typed")
    if ok:
        assert len(graph.query(stored, {"x": value})) == 1
    else:
        with pytest.raises(kg.ParameterError, match=f"parameter x: .* is not a valid {suffix}"):
            graph.query(stored, {"x": value})


def test_integer_parameter_is_bound_as_typed_term(graph: kg.KnowledgeGraph) -> None:
    stored = kg.core.queries.parse(
        "PREFIX mi: <https://w3id.org/initiatieven/def/>\n"
        "SELECT ?p WHERE { ?p mi:partnerNumber ?_n_integer ; a mi:Participation }",
        "n",
    )
    assert graph.query(stored, {"n": "5"}).column("p") == [
        "https://w3id.org/initiatieven/id/deelname/ruim-op-de-regels/5"
    ]


COOPERATIVES = [
    "https://w3id.org/initiatieven/id/initiatief/cooperatief-eigenwijzer",
    "https://w3id.org/initiatieven/id/initiatief/dorpscooperatie-nieuw-dordrecht",
    "https://w3id.org/initiatieven/id/initiatief/marconia",
    "https://w3id.org/initiatieven/id/initiatief/wattwest",
]


@pytest.mark.parametrize(
    "prologue",
    [
        "PREFIX mi: <https://w3id.org/initiatieven/def/> ",  # the prologue on the query's own line
        "PREFIX mi: <https://w3id.org/initiatieven/def/> PREFIX dct: <http://purl.org/dc/terms/> ",
        "PREFIX mi:\n    <https://w3id.org/initiatieven/def/>\n",  # one declaration over two lines
        "BASE <https://w3id.org/initiatieven/> PREFIX mi: <def/> ",
        "prefix mi: <https://w3id.org/initiatieven/def/> # a comment\n\n",
    ],
)
def test_any_valid_prologue_is_a_query(graph: kg.KnowledgeGraph, prologue: str, tmp_path) -> None:
    """SPARQL 1.1 section 19.5: a prologue is tokens, not lines; the query form follows it anywhere."""
    text = prologue + "SELECT ?s WHERE { ?s a mi:Cooperative } ORDER BY ?s"
    assert kg.core.queries.parse(text, "q").form == "SELECT"
    assert kg.core.queries.sparql(text).form == "SELECT"
    assert graph.query(text).column("s") == COOPERATIVES
    file = tmp_path / "q.rq"
    file.write_text(prologue + "SELECT ?s WHERE { ?s a mi:Cooperative ; mi:municipality ?_m_iri }")
    assert graph.query(str(file), {"m": "gm:gm0855"}).column("s") == COOPERATIVES[-1:]


@pytest.mark.parametrize(
    "prologue",
    [
        "PREFIX mi: <https://w3id.org/initiatieven/def/> PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n",
        "PREFIX mi: <https://w3id.org/initiatieven/def/>\n"
        "PREFIX skos:\n  <http://www.w3.org/2004/02/skos/core#> ",  # a declaration over two lines
    ],
)
def test_allowed_values_see_the_whole_prologue(graph: kg.KnowledgeGraph, prologue: str) -> None:
    """The `values` check runs with the file's own prologue, however its declarations are laid out."""
    header = '#+ values:\n#+   b: "?t a mi:BottleneckType ; skos:notation ?value ; skos:prefLabel ?label"\n'
    body = "SELECT ?i WHERE { ?t skos:notation ?_b . ?i mi:bottleneck ?t }"
    stored = kg.core.queries.parse(header + prologue + body, "q")
    found = graph.query(stored, {"b": "Tax rules"}).column("i")
    assert sorted(found) == sorted(
        graph.query("initiatives-by-bottleneck", {"bottleneck": "fiscaliteit"}).column("initiative")
    )
    assert len(found) == sum("fiscaliteit" in codes for codes in BOTTLENECKS.values())
    with pytest.raises(kg.ParameterError, match="unknown value 'nope'"):
        graph.query(stored, {"b": "nope"})


@pytest.mark.parametrize("text", ["PREFIX mi: <https://w3id.org/initiatieven/def/> INSERT DATA { }", "mi:x"])
def test_not_a_query_is_still_refused(text: str) -> None:
    with pytest.raises(kg.QueryError):
        kg.core.queries.parse(text, "q")


def test_header_is_grlc_compatible() -> None:
    query = kg.get_query("initiatives-by-bottleneck")
    assert query.summary.startswith("The initiatives that meet")
    assert query.tags == ("bottlenecks", "initiatives")
    assert [(p.name, p.required, p.example) for p in query.parameters] == [
        ("bottleneck", True, "fiscaliteit"),
        ("lang", False, None),
    ]


def test_syntax_error_names_file_and_position(tmp_path) -> None:
    bad = tmp_path / "bad.rq"
    bad.write_text("#+ summary: broken\nSELECT ?x\nWHERE { ?x ?y ?_z .\n  ?x <a> }\n")
    with pytest.raises(kg.QueryError, match=r"bad.rq: SPARQL syntax error: line 4, column 11: expected"):
        kg.load().query(str(bad), {"z": "a"})


def test_unknown_query_lists_names(graph: kg.KnowledgeGraph) -> None:
    expected = r"unknown query 'initiative' \(did you mean initiatives\?\); known queries: "
    with pytest.raises(kg.QueryError, match=expected):
        graph.query("initiative")


def test_every_query_runs_as_is_in_another_engine() -> None:
    """Each file declares its own prefixes: rdflib parses every one without kg's help."""
    from rdflib.plugins.sparql import prepareQuery

    for query in kg.stored_queries().values():
        prepareQuery(query.text)


def test_provenance_lists_every_statement_of_the_partner_file(graph: kg.KnowledgeGraph) -> None:
    """Checked against rdflib's own reading of data/initiatieven/11-wattwest.ttl."""
    import rdflib

    from kg.core import bundle

    path = next(p for p in bundle.data_files() if p.name == "11-wattwest.ttl")
    source = rdflib.URIRef("https://w3id.org/initiatieven/id/bron/experimentpartners/11")
    g = rdflib.Graph().parse(path)
    derived = set(g.subjects(rdflib.PROV.wasDerivedFrom, source))
    expected = {(str(s), str(p), str(o)) for s, p, o in g if s in derived and p != rdflib.PROV.wasDerivedFrom}
    result = graph.query("provenance", {"initiative": "wattwest"})
    found = {tuple(str(t.value) for t in row[:3]) for row in result.rows}
    assert found == expected and len(expected) == 40


def test_the_allowed_check_agrees_with_the_values_list(graph: kg.KnowledgeGraph) -> None:
    """The one-lookup check (KnowledgeGraph._allowed) accepts exactly the listed values: every stored
    parameter with a values pattern (BIND ... AS ?value among them), each listed value and some that
    are not listed, and patterns with OPTIONAL, FILTER and UNION."""
    cases = []
    for stored in kg.stored_queries().values():
        for param in stored.parameters:
            if param.values:
                cases.append((stored, param))
    probe = kg.core.queries.parse(
        "#+ values:\n"
        '#+   a: "?i a mi:Initiative OPTIONAL { ?i skos:prefLabel ?label } ?i dct:identifier ?value"\n'
        '#+   b: "?i dct:identifier ?value FILTER (STRSTARTS(?value, \\"w\\"))"\n'
        '#+   c: "{ ?i dct:identifier ?value } UNION { ?c skos:notation ?value }"\n'
        "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
        "PREFIX mi: <https://w3id.org/initiatieven/def/>\n"
        "PREFIX dct: <http://purl.org/dc/terms/>\n"
        "SELECT * WHERE { ?s ?p ?_a , ?_b , ?_c }",
        "probe",
    )
    cases += [(probe, p) for p in probe.parameters]
    assert len(cases) >= 11 and all(p.values for _, p in cases)
    assert any("AS ?value" in p.values for _, p in cases)
    for stored, param in cases:
        listed = set(graph.values(stored, param.name))
        for raw in [*sorted(listed), "nobody", "Utrecht ", "wattwest2", ""]:
            assert graph._allowed(stored, param, raw) == (raw in listed), (stored.name, param.name, raw)


def test_the_suggestion_for_an_unknown_value_is_the_same_in_every_process() -> None:
    """'bvx' is close to the code bv and to its label BV: the code is suggested, whatever the order of
    a set (hash seed) or of a store's rows (it differed between Virtuoso and Oxigraph)."""
    import os
    import subprocess
    import sys

    code = (
        "import kg\n"
        "try:\n"
        "    kg.load().query('initiatives-by-legal-form', {'legalform': 'bvx'})\n"
        "except kg.ParameterError as err:\n"
        "    print(err)\n"
    )
    said = set()
    for seed in range(1, 7):
        env = {**os.environ, "PYTHONHASHSEED": str(seed)}
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        said.add(done.stdout)
    assert len(said) == 1 and "(did you mean bv?)" in said.pop()
