"""``kg synth``: synthetic initiatives in kg's own model, for testing at scale. Never real data.

Everything lives under ``{ID}synthetisch/`` and derives from source passages (one per initiative)
that say so; names read "Synthetisch initiatief N". Distributions follow the eleven real partners:
legal form stated for about two in three (mostly coöperatie and stichting), one to three bottleneck
types with the real frequencies (social procurement most common, liability rarest), two to five
activities, the ten municipalities, and now and then an area, a founding year, a goal or a legal-
form history. A chosen share of initiatives is invalid on purpose, each in one of a few known ways
(``DEFECTS``), so that validation can be checked against what was planted. The same seed gives the
same file.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

from kg.core.files import write_atomic
from kg.core.namespaces import DEF, ID, PREFIXES, XSD

SYN = ID + "synthetisch/"
MUNICIPALITIES = [
    "gm0307",
    "gm0363",
    "gm0599",
    "gm0344",
    "gm0114",
    "gm0613",
    "gm0505",
    "gm0758",
    "gm0518",
    "gm0855",
]
LEGAL_FORMS = {"cooperatie": 4, "stichting": 2, "vereniging": 1, None: 4}  # counts among the eleven partners
BOTTLENECKS = {
    "aanbesteden": 6,
    "fiscaliteit": 5,
    "regelluwte": 3,
    "parapluvergunning": 2,
    "aansprakelijkheid": 1,
}
ACTIVITIES = [
    "groenbeheer",
    "schoonmaak",
    "buurttuin",
    "vastgoedexploitatie",
    "onderhoud-gebouwen",
    "gebiedsontwikkeling",
    "zorg-en-welzijn",
    "mantelzorgondersteuning",
    "maaltijdvoorziening",
    "eenzaamheidsbestrijding",
    "leerwerkbedrijf",
    "ondernemersondersteuning",
    "bewonersbedrijf",
    "arbeidsparticipatie",
    "wijkvaluta",
    "zelfbeheer",
    "energiebesparing",
    "evenementen",
    "ontmoetingsplek",
    "inbraakpreventie",
    "belangenbehartiging",
    "wijkagenda",
    "ondersteuning-bewonersinitiatieven",
    "experimenteerruimte",
    "veiligheid-en-leefbaarheid",
]
# Each defect breaks one rule of the shapes: (name, the shape that must report it, the path).
DEFECTS = {
    "no-municipality": ("Initiative-municipality", DEF + "municipality"),
    "bad-identifier": ("Initiative-identifier", "http://purl.org/dc/terms/identifier"),
    "one-language": ("Initiative-description", "http://purl.org/dc/terms/description"),
    "wrong-legal-form": ("Initiative-orgType", "http://www.w3.org/ns/regorg#orgType"),
    "bad-year": ("Initiative-foundingDate", "https://schema.org/foundingDate"),
}


def _iri(prefix: str, local: str) -> str:
    return f"<{PREFIXES[prefix]}{local}>"


def _lit(value: object, datatype: str | None = None, lang: str | None = None) -> str:
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    if lang:
        return f'"{text}"@{lang}'
    return f'"{text}"^^<{XSD}{datatype}>' if datatype else f'"{text}"'


def triples(
    count: int, seed: int = 1, invalid_rate: float = 0.0, planted: dict[int, str] | None = None
) -> Iterator[str]:
    """N-Triples lines of ``count`` synthetic initiatives (with programme and source).

    ``planted``, if given, receives the number and defect of every initiative made invalid on purpose.
    """
    rng = random.Random(seed)
    a = _iri("rdf", "type")
    programme = f"<{SYN}programma>"
    period = f"<{SYN}programma-periode>"
    title = "Synthetische gegevens: geen echte initiatieven"
    yield f"{programme} {a} {_iri('mi', 'Programme')} ."
    yield f"{programme} {_iri('skos', 'prefLabel')} {_lit('Synthetisch programma')} ."
    made_up = "Een verzonnen programma voor tests."
    yield f"{programme} {_iri('dct', 'description')} {_lit(made_up, lang='nl')} ."
    yield f"{programme} {_iri('dct', 'description')} {_lit('A made-up programme for tests.', lang='en')} ."
    yield f"{programme} {_iri('dct', 'temporal')} {period} ."
    yield f"{programme} {_iri('prov', 'wasAssociatedWith')} {_iri('orgn', 'platform31')} ."
    yield f"{period} {a} {_iri('dct', 'PeriodOfTime')} ."
    yield f"{period} {_iri('dcat', 'startDate')} {_lit(2014, 'gYear')} ."
    forms = list(LEGAL_FORMS)
    form_weights = list(LEGAL_FORMS.values())
    kinds, kind_weights = list(BOTTLENECKS), list(BOTTLENECKS.values())
    defects = list(DEFECTS)
    for n in range(1, count + 1):
        i = f"<{SYN}initiatief/{n}>"
        defect = defects[rng.randrange(len(defects))] if rng.random() < invalid_rate else None
        if defect and planted is not None:
            planted[n] = defect
        gm = rng.choice(MUNICIPALITIES)
        source = f"<{SYN}bron/{n}>"  # a passage of its own, as each real partner has
        yield f"{source} {a} {_iri('mi', 'SourcePassage')} ."
        yield f"{source} {_iri('dct', 'title')} {_lit(title, lang='nl')} ."
        yield f"{source} {_iri('dct', 'title')} {_lit('Synthetic data: no real initiatives', lang='en')} ."
        yield f"{source} {_iri('mi', 'sourceDocument')} <{SYN}> ."
        yield f"{i} {a} {_iri('mi', 'Initiative')} ."
        ident = f"Fout {n}" if defect == "bad-identifier" else f"synth-{n}"
        yield f"{i} {_iri('dct', 'identifier')} {_lit(ident)} ."
        yield f"{i} {_iri('skos', 'prefLabel')} {_lit(f'Synthetisch initiatief {n}')} ."
        yield f"{i} {_iri('dct', 'description')} {_lit(f'Verzonnen initiatief nummer {n}.', lang='nl')} ."
        if defect != "one-language":
            yield f"{i} {_iri('dct', 'description')} {_lit(f'Made-up initiative number {n}.', lang='en')} ."
        if defect != "no-municipality":
            yield f"{i} {_iri('mi', 'municipality')} {_iri('gm', gm)} ."
        form = rng.choices(forms, form_weights)[0]
        if defect == "wrong-legal-form":
            yield f"{i} {_iri('rov', 'orgType')} {_iri('kt', 'fiscaliteit')} ."
        elif form:
            yield f"{i} {_iri('rov', 'orgType')} {_iri('rv', form)} ."
        for code in sorted(set(rng.choices(kinds, kind_weights, k=rng.randint(0, 3)))):
            yield f"{i} {_iri('mi', 'bottleneck')} {_iri('kt', code)} ."
        for code in sorted(rng.sample(ACTIVITIES, rng.randint(2, 5))):
            yield f"{i} {_iri('mi', 'activity')} {_iri('act', code)} ."
        if defect == "bad-year":
            yield f"{i} {_iri('schema', 'foundingDate')} {_lit('ooit')} ."
        elif rng.random() < 0.3:
            yield f"{i} {_iri('schema', 'foundingDate')} {_lit(rng.randint(1990, 2016), 'gYear')} ."
        if rng.random() < 0.2:
            area = f"<{SYN}initiatief/{n}-oppervlakte>"
            yield f"{i} {_iri('mi', 'area')} {area} ."
            yield f"{area} {a} {_iri('schema', 'QuantitativeValue')} ."
            yield f"{area} {_iri('schema', 'value')} {_lit(rng.randint(100, 50000), 'decimal')} ."
            yield f"{area} {_iri('schema', 'unitCode')} {_lit('MTK')} ."
            yield f"{area} {_iri('prov', 'wasDerivedFrom')} {source} ."
        yield f"{i} {_iri('prov', 'wasDerivedFrom')} {source} ."
        part = f"<{SYN}deelname/{n}>"
        yield f"{part} {a} {_iri('mi', 'Participation')} ."
        yield f"{part} {_iri('mi', 'partnerNumber')} {_lit(n, 'integer')} ."
        yield f"{part} {_iri('mi', 'participant')} {i} ."
        yield f"{part} {_iri('mi', 'programme')} {programme} ."
        if defect != "no-municipality":
            yield f"{part} {_iri('mi', 'municipalPartner')} {_iri('gm', gm)} ."
        else:
            yield f"{part} {_iri('mi', 'municipalPartner')} {_iri('gm', MUNICIPALITIES[0])} ."
        yield f"{part} {_iri('prov', 'wasDerivedFrom')} {source} ."


def write(path: Path, count: int, seed: int = 1, invalid_rate: float = 0.0) -> int:
    """Write the synthetic graph as N-Triples (``.nt``) or Turtle; return the number of triples."""
    lines = list(triples(count, seed, invalid_rate))
    header = (
        f"# SYNTHETIC DATA made by kg synth --initiatives {count} --seed {seed} --invalid-rate "
        f"{invalid_rate}: no real initiatives.\n"
    )
    body = "\n".join(lines) + "\n"
    if Path(path).suffix.lower() == ".nt":
        write_atomic(Path(path), (header + body).encode("utf-8"))
    else:
        import pyoxigraph as ox

        data = ox.serialize(
            ox.parse(body.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES),
            format=ox.RdfFormat.TURTLE,
            prefixes=PREFIXES,
        )
        write_atomic(Path(path), header.encode("utf-8") + data)
    return len(lines)
