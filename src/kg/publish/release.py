"""``kg release``: a complete, self-describing, reproducible release folder.

Every RDF serialization, a flat CSV for spreadsheet users, DCAT-AP(-NL) dataset metadata with VoID
statistics and a distribution per file (media type, byte size, SHA-256), the ontology documentation,
the SHACL validation report and a checksum file. The same input gives byte-identical files: dates and
version come from ``publish/dataset.ttl``, blank nodes are labelled canonically, everything is sorted.
Data that does not conform is not released.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox

from kg.core import bundle
from kg.core.errors import InputError, KgError
from kg.core.namespaces import ID, PREFIXES
from kg.core.spreadsheet import excel_nl, write_rows, xlsx
from kg.core.turtle import canonical_blank_nodes, serialize
from kg.core.xmlchars import check_triples, rdf_xml
from kg.graph import DATA, INFERRED, ONTOLOGY, KnowledgeGraph
from kg.publish import jsonld
from kg.publish.docs import ontology_html

DATASET = ox.NamedNode(ID + "dataset/kg")
NS = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "void": "http://rdfs.org/ns/void#",
    "spdx": "http://spdx.org/rdf/terms#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "owl": "http://www.w3.org/2002/07/owl#",
}
FILE_TYPES = {  # file name: (IANA media type, EU file-type code, nl title, en title)
    "kg.ttl": ("text/turtle", "RDF_TURTLE", "Ontologie en gegevens in Turtle", "Ontology and data in Turtle"),
    "kg.nt": (
        "application/n-triples",
        "RDF_N_TRIPLES",
        "Ontologie en gegevens in N-Triples",
        "Ontology and data in N-Triples",
    ),
    "kg.jsonld": (
        "application/ld+json",
        "JSON_LD",
        "Ontologie en gegevens in JSON-LD",
        "Ontology and data in JSON-LD",
    ),
    "kg.rdf": (
        "application/rdf+xml",
        "RDF_XML",
        "Ontologie en gegevens in RDF/XML",
        "Ontology and data in RDF/XML",
    ),
    "kg.trig": (
        "application/trig",
        "RDF_TRIG",
        "Ontologie, gegevens en afleidingen als benoemde grafen (TriG)",
        "Ontology, data and inferred triples as named graphs (TriG)",
    ),
    "initiatives.csv": ("text/csv", "CSV", "Initiatieven als tabel", "Initiatives as a table"),
    "initiatives-excel-nl.csv": (
        "text/csv",
        "CSV",
        "Initiatieven als tabel voor Excel met Nederlandse instellingen (puntkomma's, decimale komma's)",
        "Initiatives as a table for Excel with Dutch settings (semicolons, decimal commas)",
    ),
    "initiatives.xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "XLSX",
        "Initiatieven als Excel-werkmap",
        "Initiatives as an Excel workbook",
    ),
}


class ReleaseRefused(KgError):
    """The data does not conform to the shapes: no release (exit 1)."""

    exit_code = 1


def _n(local: str) -> ox.NamedNode:
    prefix, _, name = local.partition(":")
    return ox.NamedNode(NS[prefix] + name)


def _lit(value: object, datatype: str | None = None) -> ox.Literal:
    return ox.Literal(str(value), datatype=_n(datatype)) if datatype else ox.Literal(str(value))


def template() -> list[ox.Triple]:
    """The hand-written dataset metadata (``publish/dataset.ttl``)."""
    return [
        q.triple
        for q in ox.parse(path=str(bundle.root() / "publish" / "dataset.ttl"), format=ox.RdfFormat.TURTLE)
    ]


def _value(triples: list[ox.Triple], predicate: str) -> str:
    found = [t.object.value for t in triples if t.subject == DATASET and t.predicate == _n(predicate)]
    if not found:
        raise InputError(f"publish/dataset.ttl: the dataset has no {predicate}")
    return found[0]


def void_statistics(triples: list[ox.Triple]) -> list[ox.Triple]:
    """VoID statistics of ``triples``, computed (never typed by hand), with class and property partitions."""
    rdf_type = _n("rdf:type")
    classes = Counter(t.object for t in triples if t.predicate == rdf_type)
    properties = Counter(t.predicate for t in triples)
    out = [
        ox.Triple(DATASET, _n("void:triples"), _lit(len(triples), "xsd:integer")),
        ox.Triple(
            DATASET,
            _n("void:entities"),
            _lit(len({t.subject for t in triples if isinstance(t.subject, ox.NamedNode)}), "xsd:integer"),
        ),
        ox.Triple(DATASET, _n("void:classes"), _lit(len(classes), "xsd:integer")),
        ox.Triple(DATASET, _n("void:properties"), _lit(len(properties), "xsd:integer")),
        ox.Triple(
            DATASET, _n("void:distinctSubjects"), _lit(len({t.subject for t in triples}), "xsd:integer")
        ),
        ox.Triple(DATASET, _n("void:distinctObjects"), _lit(len({t.object for t in triples}), "xsd:integer")),
    ]
    for counts, partition, key, measure in (
        (classes, "classPartition", "class", "entities"),
        (properties, "propertyPartition", "property", "triples"),
    ):
        for term, count in sorted(counts.items(), key=lambda kv: str(kv[0])):
            part = ox.BlankNode()
            out += [
                ox.Triple(DATASET, _n(f"void:{partition}"), part),
                ox.Triple(part, _n(f"void:{key}"), term),
                ox.Triple(part, _n(f"void:{measure}"), _lit(count, "xsd:integer")),
            ]
    return out


def dcat_metadata(
    kg: KnowledgeGraph, files: dict[str, bytes], base_url: str, meta: list[ox.Triple]
) -> list[ox.Triple]:
    """The template ``meta`` plus coverage, VoID statistics and one distribution per released data file."""
    version, issued = _value(meta, "dcat:version"), _value(meta, "dct:issued")
    out = list(meta)
    for row in kg.query("SELECT DISTINCT ?m WHERE { ?i a mi:Initiative ; mi:municipality ?m }", infer=False):
        place = ox.NamedNode(row["m"])
        out += [
            ox.Triple(DATASET, _n("dct:spatial"), place),
            ox.Triple(place, _n("rdf:type"), _n("dct:Location")),
        ]
    period = kg.query(
        """SELECT ?start ?end WHERE { ?p a mi:Programme ; dct:temporal ?t .
        ?t dcat:startDate ?start ; dcat:endDate ?end }""",
        infer=False,
    )
    for row in period:
        node = ox.NamedNode(f"{DATASET.value}/periode")
        out += [
            ox.Triple(DATASET, _n("dct:temporal"), node),
            ox.Triple(node, _n("rdf:type"), _n("dct:PeriodOfTime")),
            ox.Triple(node, _n("dcat:startDate"), _lit(row["start"], "xsd:gYear")),
            ox.Triple(node, _n("dcat:endDate"), _lit(row["end"], "xsd:gYear")),
        ]
    released = [t for g in (ONTOLOGY, DATA) for t in kg.triples(g)]
    out += void_statistics(sorted(set(released), key=str))
    licence = next(t.object for t in meta if t.subject == DATASET and t.predicate == _n("dct:license"))
    languages = sorted(
        (t.object for t in meta if t.subject == DATASET and t.predicate == _n("dct:language")), key=str
    )
    for name, data in sorted(files.items()):
        media, code, title_nl, title_en = FILE_TYPES[name]
        dist = ox.NamedNode(f"{DATASET.value}/{version}/{name}")
        url = ox.NamedNode(base_url + name)
        media_iri = ox.NamedNode(f"https://www.iana.org/assignments/media-types/{media}")
        fmt = ox.NamedNode(f"http://publications.europa.eu/resource/authority/file-type/{code}")
        checksum = ox.NamedNode(f"{dist.value}/sha256")
        out += [
            ox.Triple(DATASET, _n("dcat:distribution"), dist),
            ox.Triple(dist, _n("rdf:type"), _n("dcat:Distribution")),
            ox.Triple(dist, _n("dct:title"), ox.Literal(title_nl, language="nl")),
            ox.Triple(dist, _n("dct:title"), ox.Literal(title_en, language="en")),
            ox.Triple(dist, _n("dcat:accessURL"), url),
            ox.Triple(dist, _n("dcat:downloadURL"), url),
            ox.Triple(dist, _n("dcat:mediaType"), media_iri),
            ox.Triple(media_iri, _n("rdf:type"), _n("dct:MediaType")),
            ox.Triple(dist, _n("dct:format"), fmt),
            ox.Triple(fmt, _n("rdf:type"), _n("dct:MediaTypeOrExtent")),
            ox.Triple(dist, _n("dcat:byteSize"), _lit(len(data), "xsd:nonNegativeInteger")),
            ox.Triple(dist, _n("dct:license"), licence),
            *(ox.Triple(dist, _n("dct:language"), lang) for lang in languages),
            ox.Triple(dist, _n("dct:conformsTo"), ox.NamedNode("https://w3id.org/initiatieven/def")),
            ox.Triple(dist, _n("dct:issued"), _lit(issued, "xsd:date")),
            ox.Triple(dist, _n("spdx:checksum"), checksum),
            ox.Triple(checksum, _n("rdf:type"), _n("spdx:Checksum")),
            ox.Triple(checksum, _n("spdx:algorithm"), _n("spdx:checksumAlgorithm_sha256")),
            ox.Triple(_n("spdx:checksumAlgorithm_sha256"), _n("rdf:type"), _n("spdx:ChecksumAlgorithm")),
            ox.Triple(
                checksum, _n("spdx:checksumValue"), _lit(hashlib.sha256(data).hexdigest(), "xsd:hexBinary")
            ),
        ]
    return out


def validate_metadata(triples: list[ox.Triple]) -> object:
    """Check metadata against the official DCAT-AP 3.0.1 and DCAT-AP-NL 3.0.1 shapes (``publish/shapes``).

    Straight from the triples into rdflib: an Oxigraph store would turn xsd:nonNegativeInteger into
    xsd:integer, which DCAT-AP refuses for dcat:byteSize.
    """
    import rdflib

    from kg.engines.validation import validate_graph

    graph = rdflib.Graph()
    graph.parse(data="".join(f"{t} .\n" for t in triples), format="nt")
    return validate_graph(graph, sorted((bundle.root() / "publish" / "shapes").glob("*.ttl")))


CSV_COLUMNS = (
    "number",
    "identifier",
    "name",
    "municipality",
    "cbs_code",
    "province",
    "legal_form",
    "legal_form_label",
    "activities",
    "activity_labels",
    "bottlenecks",
    "bottleneck_labels",
    "founding_year",
    "area_m2",
    "description_nl",
    "description_en",
    "source",
    "iri",
)


def _number(value: object) -> object:
    """A number as a spreadsheet cell: 1000.0 -> 1000; None -> empty."""
    if value is None:
        return ""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def initiatives_table(kg: KnowledgeGraph) -> list[list[object]]:
    """One row per initiative for spreadsheet users (header first): codes with their Dutch labels
    beside them, the founding year, area and descriptions."""
    rows = {r["initiative"]: r for r in kg.query("initiatives", lang="nl")}
    lists: dict[str, dict[str, list[tuple[str, str]]]] = {
        i: {"activities": [], "bottlenecks": []} for i in rows
    }
    for prop, column in (("mi:activity", "activities"), ("mi:bottleneck", "bottlenecks")):
        answer = kg.query(
            f"""SELECT ?i ?code ?label WHERE {{ ?i a mi:Initiative ; {prop} ?c . ?c skos:notation ?code .
            OPTIONAL {{ ?c skos:prefLabel ?label FILTER (LANG(?label) = "nl") }} }}""",
            infer=False,
        )
        for r in answer:
            lists[r["i"]][column].append((r["code"], r["label"] or r["code"]))
    extra = {
        r["i"]: r
        for r in kg.query(
            """SELECT ?i ?id ?code ?form ?source ?year ?area ?nl ?en WHERE { ?i a mi:Initiative ;
        dct:identifier ?id ; mi:municipality/mi:cbsCode ?code ;
        prov:wasDerivedFrom/mi:sourceDocument ?source .
        OPTIONAL { ?i rov:orgType/skos:notation ?form }
        OPTIONAL { ?i schema:foundingDate ?year }
        OPTIONAL { ?i mi:area/schema:value ?area }
        OPTIONAL { ?i dct:description ?nl FILTER (LANG(?nl) = "nl") }
        OPTIONAL { ?i dct:description ?en FILTER (LANG(?en) = "en") } }""",
            infer=False,
        )
    }
    table: list[list[object]] = [list(CSV_COLUMNS)]
    for iri, r in sorted(rows.items(), key=lambda kv: (kv[1]["number"] or 10**9, kv[0])):
        e = extra[iri]
        activities, bottlenecks = sorted(lists[iri]["activities"]), sorted(lists[iri]["bottlenecks"])
        table.append(
            [
                r["number"] or "",
                e["id"],
                r["name"],
                r["municipality"],
                e["code"],
                r["province"],
                e["form"] or "",
                r["legalForm"] or "",
                ";".join(code for code, _ in activities),
                ";".join(label for _, label in activities),
                ";".join(code for code, _ in bottlenecks),
                ";".join(label for _, label in bottlenecks),
                e["year"] or "",
                _number(e["area"]),
                e["nl"] or "",
                e["en"] or "",
                e["source"],
                iri,
            ]
        )
    return table


def _rdf(kg: KnowledgeGraph) -> dict[str, bytes]:
    """The RDF serializations, each deterministic (sorted, canonical blank nodes)."""
    asserted = sorted(canonical_blank_nodes(t for g in (ONTOLOGY, DATA) for t in kg.triples(g)), key=str)
    header = (
        "# kg: ontology and data of the knowledge graph of citizen initiatives (Ruim op de Regels).\n"
        "# Canonical Turtle, sorted, so that diffs between releases are reviewable."
    )
    quads = []
    for graph in (ONTOLOGY, DATA, INFERRED):
        triples = sorted(canonical_blank_nodes(kg.triples(graph)), key=str)
        quads += [ox.Quad(t.subject, t.predicate, t.object, graph) for t in triples]
    return {
        "kg.ttl": serialize(asserted, header=header).encode("utf-8"),
        "kg.nt": "".join(f"{t} .\n" for t in asserted).encode("utf-8"),
        "kg.jsonld": jsonld.serialize(asserted),
        "kg.rdf": rdf_xml(asserted, PREFIXES, "kg.rdf"),
        "kg.trig": ox.serialize(quads, format=ox.RdfFormat.TRIG, prefixes=PREFIXES),
    }


README = """# kg release {version} ({issued})

Knowledge graph of citizen initiatives: the eleven experiment partners of Ruim op de Regels
(Platform31 with the Ministry of BZK, 2014-2016). Kennisgraaf van maatschappelijke initiatieven.

| file | what it is |
|---|---|
| kg.ttl | ontology, vocabularies and data in Turtle (sorted, canonical) |
| kg.nt | the same triples in N-Triples, one per line, sorted |
| kg.jsonld | the same in JSON-LD with a readable context (short keys, initiatives with their parts) |
| kg.rdf | the same in RDF/XML |
| kg.trig | three named graphs: ontology, data and the OWL 2 RL inferred triples |
| initiatives.csv | one row per initiative, for spreadsheets (codes separated by ;), UTF-8 with a BOM |
| initiatives-excel-nl.csv | the same table for Excel with Dutch settings (semicolons, decimal commas) |
| initiatives.xlsx | the same table as an Excel workbook (numbers as numbers) |
| metadata.ttl | DCAT-AP-NL dataset description with VoID statistics and a distribution per file |
| validation-report.ttl | the SHACL validation report of this data (it conforms) |
| docs/ontology.nl.html, docs/ontology.en.html | documentation of the ontology, vocabularies and shapes |
| SHA256SUMS | SHA-256 checksums of every file (check with `sha256sum -c SHA256SUMS`) |

Cite as: kg project, *{title}*, version {version}, {issued}. {dataset}. Licence CC BY 4.0.
Source of the facts: Platform31, "Experimentpartners", Ruim op de Regels,
https://www.platform31.nl/wat-we-doen/experimenten/ruim-op-de-regels/experimentpartners.
"""


def build(
    kg: KnowledgeGraph, base_url: str | None = None, progress: Callable[[str], None] = lambda _: None
) -> dict[str, bytes]:
    """All files of a release, by relative path. Raises ReleaseRefused if the data does not conform."""
    progress("validating the data")
    report = kg.validate()
    if not report.conforms:
        raise ReleaseRefused(
            f"the data does not conform ({report.count('Violation')} violations); "
            "nothing was released\n" + report.text("en").rstrip()
        )
    # kg.rdf and initiatives.xlsx are XML: a character XML 1.0 cannot hold is refused at its line
    check_triples(
        (t for g in (ONTOLOGY, DATA) for t in kg.triples(g)),
        "the release (kg.rdf, initiatives.xlsx)",
        [*kg.ontology_files, *kg.data_files],
    )
    progress("inferring (OWL 2 RL)")
    kg.infer()
    meta = template()
    version, issued = _value(meta, "dcat:version"), _value(meta, "dct:issued")
    title = next(
        t.object.value
        for t in meta
        if t.subject == DATASET and t.predicate == _n("dct:title") and t.object.language == "en"
    )
    base_url = base_url or f"https://w3id.org/initiatieven/release/{version}/"
    progress("writing the RDF serializations")
    files = _rdf(kg)
    progress("writing initiatives.csv, initiatives-excel-nl.csv and initiatives.xlsx")
    table = initiatives_table(kg)
    files["initiatives.csv"] = write_rows(table, bom=True).encode("utf-8")
    files["initiatives-excel-nl.csv"] = excel_nl(write_rows(table)).encode("utf-8")
    files["initiatives.xlsx"] = xlsx(table, sheet="initiatieven")
    progress("describing the dataset (DCAT-AP-NL, VoID)")
    metadata = dcat_metadata(kg, dict(files), base_url, meta)
    checked = validate_metadata(metadata)
    if not checked.conforms:
        raise InputError(
            "publish/dataset.ttl: the dataset metadata does not conform to DCAT-AP(-NL):\n"
            + checked.text("en").rstrip()
        )
    files["metadata.ttl"] = serialize(
        metadata, header="# DCAT-AP-NL 3.0.1 description of this release, with VoID statistics."
    ).encode("utf-8")
    progress("writing the documentation")
    for lang in ("nl", "en"):
        files[f"docs/ontology.{lang}.html"] = ontology_html(kg, lang).encode("utf-8")
    files["validation-report.ttl"] = serialize(
        report.triples(),
        header="# SHACL validation report of the released data.",
    ).encode("utf-8")
    files["README.md"] = README.format(
        version=version, issued=issued, title=title, dataset=DATASET.value
    ).encode("utf-8")
    progress("computing checksums")
    files["SHA256SUMS"] = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items())
    ).encode("utf-8")
    return files


def check_out(out: Path, force: bool, inputs: list[Path] | None = None) -> None:
    """Refuse an ``--out`` that could lose anything, even with ``force``.

    Refused: a file; the working folder or any folder above it; a folder holding any input file; a
    non-empty folder that is not a release kg made (one whose files are exactly those its SHA256SUMS
    lists, with those checksums). A release kg made is replaced only with ``force``.
    """
    out = Path(out).resolve()
    cwd = Path.cwd().resolve()
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: is a file, not a folder; kg release writes a folder (choose another --out)")
    if cwd.is_relative_to(out):
        raise InputError(f"{out}: is the working folder or a folder above it; kg release will not replace it")
    for path in inputs or []:
        if Path(path).resolve().is_relative_to(out):
            raise InputError(f"{out}: holds the input file {path}; kg release will not replace it")
    if not out.exists() or not any(out.iterdir()):
        return
    unexpected = _not_from_kg(out)
    if unexpected:
        raise InputError(
            f"{out}: not a release made by kg ({unexpected}); kg release replaces only its own, "
            "even with --force: choose another --out, or empty the folder yourself"
        )
    if not force:
        raise InputError(f"{out}: already holds a release (use --force to replace it)")


def _not_from_kg(folder: Path) -> str:
    """Why ``folder`` is not a release kg wrote, unchanged since; empty if it is one."""
    sums = folder / "SHA256SUMS"
    if not sums.is_file():
        return "no SHA256SUMS"
    listed: dict[str, str] = {}
    for line in sums.read_text(encoding="utf-8", errors="replace").splitlines():
        digest, _, name = line.partition("  ")
        listed[name] = digest
    present = {str(p.relative_to(folder)) for p in folder.rglob("*") if not p.is_dir()}
    extra = sorted(present - set(listed) - {"SHA256SUMS"})
    if extra:
        return f"{extra[0]} is not one of its files"
    for name, digest in sorted(listed.items()):
        path = folder / name
        if not path.is_file() or path.is_symlink():
            return f"{name} is missing"
        if hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            return f"{name} was changed"
    return ""


def release(
    out: Path,
    kg: KnowledgeGraph | None = None,
    *,
    base_url: str | None = None,
    force: bool = False,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, bytes]:
    """Build a release into the folder ``out``: a temporary folder renamed into place at the end.

    ``out`` is checked first (:func:`check_out`). When a previous release is replaced, it is moved
    aside, the new one renamed into place, and the old one removed; if the second rename fails, the old
    release is put back. An error is raised only when ``out`` does not hold the new release.
    """
    out = Path(out).resolve()
    kg = kg or KnowledgeGraph.load()
    check_out(out, force, [*kg.ontology_files, *kg.data_files])
    files = build(kg, base_url, progress)
    check_out(out, force)  # again: the folder may have changed while the release was built
    progress(f"writing {len(files)} files")
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    try:
        for name, data in files.items():
            target = tmp / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        if out.exists():
            out.rename(old)
            try:
                tmp.rename(out)
            except OSError:
                old.rename(out)
                raise
        else:
            tmp.rename(out)
    except OSError as err:
        raise InputError(
            f"{out}: cannot write the release: {err.strerror or err}; {out} is as it was"
        ) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)
    return files


def terminal_progress(total: int = 8) -> Callable[[str], None]:
    """Progress lines on stderr in a terminal; nothing when stderr is piped or redirected."""
    if not sys.stderr.isatty():
        return lambda _: None
    step = [0]

    def show(message: str) -> None:
        step[0] += 1
        print(f"[{step[0]}/{total}] {message}", file=sys.stderr, flush=True)

    return show
