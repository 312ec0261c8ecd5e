"""The bundled data says what the source says: names, numbering, places, legal forms, figures.

Expected values are read off ../shared/sources/experimentpartners.txt; each names its partner.
"""

from __future__ import annotations

import hashlib
import re

import pytest
from conftest import rows

import kg
from kg.publish.export import serialize

# Partner number -> (name as in the source heading, TOOI municipality code, legal form code or None).
# Legal forms: 1 "Vereniging ..." (name), 3 "Stichting ..." (name), 4 "De coöperatie doet mee",
# 6 "Dorpscoöperatie" (name), 8 "Bewoners hebben een stichting opgericht", 10 "CE is een coöperatie",
# 11 "omgezet ... naar een wijkcoöperatie" (2015). 2, 5, 7 and 9: not stated.
PARTNERS = {
    1: ("Vereniging Duurzaam Soesterkwartier", "gm0307", "vereniging"),
    2: ("Noorderpark Trust", "gm0363", None),
    3: ("Stichting Meevaart Ontwikkelgroep", "gm0363", "stichting"),
    4: ("Openbaar testlab Marconia", "gm0599", "cooperatie"),
    5: ("Zorgverslimmingsplatform Leidsche Rijn", "gm0344", None),
    6: ("Dorpscoöperatie Nieuw-Dordrecht", "gm0114", "cooperatie"),
    7: ("Buurtnetwerk Rhoon", "gm0613", None),
    8: ("Crabbehoeve", "gm0505", "stichting"),
    9: ("Ons Buurthuis", "gm0758", None),
    10: ("Coöperatief Eigenwijzer", "gm0518", "cooperatie"),
    11: ("Wijkonderneming watTWest", "gm0855", "cooperatie"),
}

FACTS = """PREFIX mi: <https://w3id.org/initiatieven/def/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rov: <http://www.w3.org/ns/regorg#>
SELECT ?number ?name ?gemeente ?form WHERE {
  ?p mi:participant ?i ; mi:partnerNumber ?number .
  ?i skos:prefLabel ?name ; mi:municipality ?gemeente .
  OPTIONAL { ?i rov:orgType/skos:notation ?form }
}"""


def test_source_is_the_documented_one(source_text: str) -> None:
    digest = hashlib.sha256(source_text.encode("utf-8")).hexdigest()
    assert digest == "d3189280e468acf47db2a8956bac34857e5bce2ca1fe7c6a08e2afbae07a600d"


def test_eleven_partners_numbered_in_programme_order(graph: kg.KnowledgeGraph) -> None:
    found = {
        r["number"]: (r["name"], r["gemeente"].rsplit("/", 1)[1], r["form"])
        for r in graph.query(FACTS, infer=False)
    }
    assert found == PARTNERS


def test_names_match_the_source_headings(source_text: str) -> None:
    # Headings are "N. Name, Gemeente X"; the fifth is misnumbered "4." and the seventh carries
    # markup residue in the source: neither flaw may reach the data.
    headings = re.findall(r"^\d+\.\s*(?:\"\{color:#333333\}\s*)?(.+?)\s*,\s*[Gg]emeente", source_text, re.M)
    assert [h.strip() for h in headings] == [PARTNERS[n][0] for n in range(1, 12)]


def test_no_flaw_of_the_source_is_copied(graph: kg.KnowledgeGraph) -> None:
    text = serialize(graph, "nt").decode()
    for flaw in ("{color", "#333333", "watTwest", "maatschappelijke aanbesteden", "paraplu vergunning"):
        assert flaw not in text, flaw


def test_partner_five_is_number_five(graph: kg.KnowledgeGraph) -> None:
    assert [r["number"] for r in rows(graph, "initiatives") if r["name"].startswith("Zorg")] == [5]


def test_nieuw_dordrecht_is_a_village_in_emmen_not_dordrecht(graph: kg.KnowledgeGraph) -> None:
    answer = graph.query("""PREFIX schema: <https://schema.org/>
        SELECT ?where WHERE { plaats:nieuw-dordrecht schema:containedInPlace ?where }""")
    assert answer.column("where") == ["https://identifier.overheid.nl/tooi/id/gemeente/gm0114"]


def test_municipalities_carry_cbs_code_and_province(graph: kg.KnowledgeGraph) -> None:
    found = {
        (r["municipality"], r["cbsCode"], r["province"]) for r in rows(graph, "initiatives-by-municipality")
    }
    assert ("Emmen", "GM0114", "Drenthe") in found
    assert ("'s-Gravenhage", "GM0518", "Zuid-Holland") in found
    assert len({m for m, _, _ in found}) == 10


def test_figures_with_units(graph: kg.KnowledgeGraph) -> None:
    # Partner 4: 30.000 m2, "de komende tien jaar"; partner 8: 1000 m2; partner 2: "in 2015".
    answer = graph.query("""PREFIX mi: <https://w3id.org/initiatieven/def/>
        PREFIX schema: <https://schema.org/>
        SELECT ?i ?value ?unit WHERE { ?i mi:area [ schema:value ?value ; schema:unitCode ?unit ] }
        ORDER BY ?value""")
    assert [(r["i"].rsplit("/", 1)[1], r["value"], r["unit"]) for r in answer] == [
        ("crabbehoeve", 1000.0, "MTK"),
        ("marconia", 30000.0, "MTK"),
    ]
    duration = graph.query("SELECT ?d WHERE { init:marconia mi:plannedDuration ?d }")
    assert duration.column("d") == ["P10Y"]
    goal = graph.query("SELECT ?y WHERE { init:noorderpark-trust mi:goal/mi:targetYear ?y }")
    assert goal.column("y") == ["2015"]


def test_programme_runs_2014_to_2016_with_platform31_and_bzk(graph: kg.KnowledgeGraph) -> None:
    answer = graph.query("""SELECT ?start ?end (COUNT(DISTINCT ?org) AS ?orgs) WHERE {
        prog:ruim-op-de-regels dct:temporal [ dcat:startDate ?start ; dcat:endDate ?end ] ;
            prov:wasAssociatedWith ?org } GROUP BY ?start ?end""")
    assert list(answer) == [{"start": "2014", "end": "2016", "orgs": 2}]


def test_every_initiative_has_provenance_and_bilingual_description(graph: kg.KnowledgeGraph) -> None:
    answer = graph.query(
        """SELECT ?i ?n (COUNT(DISTINCT ?d) AS ?descriptions) WHERE {
        ?i a mi:Initiative ; prov:wasDerivedFrom ?src ; dct:description ?d .
        ?src mi:partnerNumber ?n ; mi:sourceDocument
            <https://www.platform31.nl/wat-we-doen/experimenten/ruim-op-de-regels/experimentpartners> .
        FILTER (LANG(?d) IN ("nl", "en")) } GROUP BY ?i ?n""",
        infer=False,
    )
    assert sorted(r["n"] for r in answer) == list(range(1, 12))
    assert {r["descriptions"] for r in answer} == {2}


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) >= 6]


def test_descriptions_are_in_own_words(graph: kg.KnowledgeGraph, source_text: str) -> None:
    """No source sentence is reused, and no run of eight words is shared with the source."""
    descriptions = graph.query("SELECT ?d WHERE { ?i a mi:Initiative ; dct:description ?d }").column("d")
    words = re.findall(r"\w+", source_text.lower())
    source_runs = {tuple(words[i : i + 8]) for i in range(len(words) - 7)}
    for text in descriptions:
        for sentence in _sentences(source_text):
            assert sentence not in text
        own = re.findall(r"\w+", text.lower())
        shared = [own[i : i + 8] for i in range(len(own) - 7) if tuple(own[i : i + 8]) in source_runs]
        assert not shared, shared


def test_legal_form_absent_where_the_source_is_silent(graph: kg.KnowledgeGraph) -> None:
    silent = [r["number"] for r in rows(graph, "initiatives") if r["legalForm"] is None]
    assert silent == [2, 5, 7, 9]


@pytest.mark.parametrize("number", range(1, 12))
def test_each_partner_has_activities(graph: kg.KnowledgeGraph, number: int) -> None:
    answer = graph.query(
        "SELECT ?a WHERE { ?p mi:partnerNumber ?_n_integer ; mi:participant/mi:activity ?a }", {"n": number}
    )
    assert len(answer) >= 2
