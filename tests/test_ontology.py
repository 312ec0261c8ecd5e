"""The ontology and vocabularies: documented terms, one namespace, NL-SBB, legal-form classes."""

from __future__ import annotations

import re

from conftest import shared

import kg
from kg.core import bundle
from kg.core.namespaces import BASE, PREFIXES

TERMS = """SELECT ?term ?kind WHERE {
  VALUES ?kind { owl:Class owl:ObjectProperty owl:DatatypeProperty }
  ?term a ?kind . FILTER (isIRI(?term) && STRSTARTS(STR(?term), STR(mi:))) }"""


def test_every_term_has_labels_definitions_and_is_defined_by(graph: kg.KnowledgeGraph) -> None:
    terms = graph.query(TERMS, infer=False).column("term")
    assert len(terms) > 30
    for term in terms:
        for prop in ("rdfs:label", "skos:definition"):
            langs = graph.query(
                f"SELECT ?l WHERE {{ <{term}> {prop} ?v BIND (LANG(?v) AS ?l) }}", infer=False
            ).column("l")
            assert sorted(langs) == ["en", "nl"], (term, prop)
        assert graph.query(f"ASK {{ <{term}> rdfs:isDefinedBy ?o }}", infer=False).boolean, term


def test_properties_have_domain_and_range(graph: kg.KnowledgeGraph) -> None:
    answer = graph.query(
        """SELECT ?p WHERE { ?p a owl:ObjectProperty .
        FILTER (STRSTARTS(STR(?p), STR(mi:))) FILTER NOT EXISTS { ?p rdfs:domain ?d } }""",
        infer=False,
    )
    assert list(answer) == []


def test_ontology_metadata(graph: kg.KnowledgeGraph) -> None:
    answer = graph.query("""SELECT ?version ?licence WHERE {
        <https://w3id.org/initiatieven/def> a owl:Ontology ;
            owl:versionInfo ?version ; dct:license ?licence }""")
    assert list(answer) == [
        {"version": kg.__version__, "licence": "https://creativecommons.org/licenses/by/4.0/"}
    ]


def test_turtle_prefixes_agree_with_the_configured_namespaces() -> None:
    files = bundle.ontology_files() + bundle.data_files() + bundle.shapes_files()
    for path in files:
        for prefix, iri in re.findall(r"@prefix\s+(\w*):\s*<([^>]*)>", path.read_text()):
            if iri.startswith(BASE) and prefix in PREFIXES:
                assert PREFIXES[prefix] == iri, (path.name, prefix)


def test_each_legal_form_has_a_class_that_mirrors_the_concept_hierarchy(graph: kg.KnowledgeGraph) -> None:
    forms = graph.query(
        """SELECT ?form ?class ?restriction WHERE {
        ?form skos:inScheme bk:rechtsvormen ; mi:formClass ?class .
        OPTIONAL { ?restriction owl:onProperty rov:orgType ; owl:hasValue ?form ;
            rdfs:subClassOf ?class } }""",
        infer=False,
    )
    assert len(forms) == 12
    assert all(r["restriction"] for r in forms)
    # skos:broader between forms <=> rdfs:subClassOf between their classes
    mismatch = graph.query(
        """SELECT ?form WHERE {
        ?form mi:formClass ?c ; skos:broader ?up . ?up mi:formClass ?upc .
        FILTER NOT EXISTS { ?c rdfs:subClassOf ?upc } }""",
        infer=False,
    )
    assert list(mismatch) == []


def test_legal_forms_link_to_gleif_and_civil_code(graph: kg.KnowledgeGraph) -> None:
    # ../shared/reference/legal-forms-elf-nl.csv and the Burgerlijk Wetboek articles it lists
    answer = graph.query("""SELECT ?code ?elf ?article WHERE { ?f skos:notation ?code ;
        skos:inScheme bk:rechtsvormen . OPTIONAL { ?f mi:elf ?elf }
        OPTIONAL { ?f mi:civilCodeArticle ?article } }""")
    found = {r["code"]: (r["elf"], r["article"]) for r in answer}
    assert found["stichting"] == ("https://rdf.gleif.org/EntityLegalForm/ELF-V44D", "2:285")
    assert found["cooperatie"] == ("https://rdf.gleif.org/EntityLegalForm/ELF-NFFH", "2:53 lid 1")
    assert found["vereniging"] == (None, "2:26")
    assert found["vereniging-volledig"][0].endswith("ELF-33MN")
    assert found["vereniging-beperkt"][0].endswith("ELF-8VFX")


def test_elf_codes_exist_in_the_gleif_list() -> None:
    csv = shared("reference/legal-forms-elf-nl.csv")
    codes = {line.split(",", 1)[0] for line in csv.read_text(encoding="utf-8").splitlines()[1:]}
    text = "".join(p.read_text() for p in bundle.ontology_files())
    used = set(re.findall(r"elf:ELF-([A-Z0-9]{4})", text))
    assert used and used <= codes


def test_bottleneck_types_are_the_programme_domains_plus_permits(graph: kg.KnowledgeGraph) -> None:
    answer = graph.query("bottleneck-types")
    assert {(r["code"], r["broader"]) for r in answer} == {
        ("aanbesteden", None),
        ("aansprakelijkheid", None),
        ("fiscaliteit", None),
        ("regelluwte", None),
        ("vergunningen", None),
        ("parapluvergunning", "vergunningen"),
    }


def test_vocabularies_conform_to_official_nl_sbb_shapes() -> None:
    shapes = shared("reference/nl-sbb/skos-ap-nl.ttl")
    report = kg.load().validate([shapes])
    serious = [f for f in report.findings if f.severity in ("Violation", "Warning")]
    assert report.conforms and serious == []


def test_municipalities_match_the_reference_csv(graph: kg.KnowledgeGraph) -> None:
    csv = shared("reference/municipalities.csv")
    expected = set()
    for line in csv.read_text(encoding="utf-8").splitlines()[1:]:
        cols = line.split(",")
        expected.add((cols[2], cols[1], cols[4]))
    answer = graph.query("""SELECT ?g ?code ?p WHERE { ?g a tooi:Gemeente ; mi:cbsCode ?code ;
        tooi:ligtInProvincie ?p }""")
    assert {(r["g"], r["code"], r["p"]) for r in answer} == expected


def test_every_concept_scheme_term_is_a_typed_concept(graph: kg.KnowledgeGraph) -> None:
    untyped = graph.query(
        """SELECT ?c WHERE { ?c skos:inScheme ?s .
        FILTER NOT EXISTS { ?c a mi:LegalForm } FILTER NOT EXISTS { ?c a mi:Activity }
        FILTER NOT EXISTS { ?c a mi:BottleneckType } }""",
        infer=False,
    )
    assert list(untyped) == []
