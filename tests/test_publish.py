"""Publishing: JSON-LD people can read, DCAT-AP(-NL) metadata, VoID, documentation, kg release."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from conftest import TESTS, copy_bundled_data, shared
from pyld import jsonld as pyld
from rdflib.compare import isomorphic

import kg
from kg.core import bundle
from kg.core.turtle import format_text
from kg.publish.export import serialize
from kg.publish.release import ReleaseRefused, build, release

DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
DCT = rdflib.Namespace("http://purl.org/dc/terms/")
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
SPDX = rdflib.Namespace("http://spdx.org/rdf/terms#")
DATASET = rdflib.URIRef("https://w3id.org/initiatieven/id/dataset/kg")
TEN_MUNICIPALITIES = {
    f"https://identifier.overheid.nl/tooi/id/gemeente/gm{c}"
    for c in ("0307", "0363", "0599", "0344", "0114", "0613", "0505", "0758", "0518", "0855")
}


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    return build(kg.load())


@pytest.fixture(scope="module")
def metadata(files: dict[str, bytes]) -> rdflib.Graph:
    return rdflib.Graph().parse(data=files["metadata.ttl"].decode(), format="turtle")


# --- JSON-LD ------------------------------------------------------------------------------------


@pytest.mark.parametrize("inferred", [False, True])
def test_jsonld_round_trips_through_pyld(inferred: bool) -> None:
    graph = kg.load()
    document = json.loads(serialize(graph, "jsonld", inferred=inferred))
    nquads = pyld.to_rdf(pyld.expand(document), {"format": "application/n-quads"})
    via_pyld = rdflib.Graph().parse(data=nquads, format="nt")
    turtle = rdflib.Graph().parse(
        data=serialize(graph, "turtle", inferred=inferred).decode(), format="turtle"
    )
    assert len(via_pyld) == len(turtle) and isomorphic(via_pyld, turtle)


def test_jsonld_is_compact_and_nested() -> None:
    document = json.loads(serialize(kg.load(), "jsonld"))
    assert (
        document["@context"]
        == json.loads((bundle.root() / "publish" / "context.jsonld").read_text())["@context"]
    )
    nodes = {n["id"]: n for n in document["@graph"]}
    marconia = nodes["init:marconia"]
    assert marconia["type"] == "Initiative" and marconia["name"] == "Openbaar testlab Marconia"
    assert marconia["municipality"] == "gm:gm0599" and marconia["legalForm"] == "rv:cooperatie"
    assert marconia["area"]["value"] == "30000" and marconia["area"]["unitCode"] == "MTK"  # nested
    assert "init:marconia-oppervlakte" not in nodes
    assert set(marconia["description"]) == {"nl", "en"}
    wattwest = nodes["init:wattwest"]
    periods = {p["periodLegalForm"]: (p["startDate"], p.get("endDate")) for p in wattwest["legalFormPeriod"]}
    assert periods == {"rv:stichting": ("2011", "2016"), "rv:cooperatie": ("2015", None)}
    assert nodes["kt:fiscaliteit"]["label"] == {"en": "tax rules", "nl": "fiscale regelgeving"}


# --- DCAT-AP and VoID ---------------------------------------------------------------------------


def test_metadata_conforms_to_official_dcat_ap_and_dcat_ap_nl(files: dict[str, bytes]) -> None:
    import pyshacl

    shapes = rdflib.Graph()
    for path in sorted((bundle.root() / "publish" / "shapes").glob("*.ttl")):
        shapes.parse(path)
    data = rdflib.Graph().parse(data=files["metadata.ttl"].decode(), format="turtle")
    conforms, report, text = pyshacl.validate(data, shacl_graph=shapes, allow_warnings=True)
    assert conforms, text
    violations = list(report.subjects(rdflib.namespace.SH.resultSeverity, rdflib.namespace.SH.Violation))
    assert violations == []


def test_the_copied_shapes_are_the_official_ones() -> None:
    reference = shared("reference")
    copies = bundle.root() / "publish" / "shapes"
    assert (copies / "dcat-ap-3.0.1-SHACL.ttl").read_bytes() == (
        reference / "dcat-ap-3.0.1" / "dcat-ap-SHACL.ttl"
    ).read_bytes()
    for original in (reference / "dcat-ap-nl-3.0.1").glob("*.ttl"):
        name = original.name.replace("dcat-ap-nl-SHACL", "dcat-ap-nl-3.0.1-SHACL")
        assert (copies / name).read_bytes() == original.read_bytes()
    assert "CC BY 4.0" in (copies / "NOTICE.md").read_text()


def test_dataset_description(metadata: rdflib.Graph) -> None:
    titles = {t.language for t in metadata.objects(DATASET, DCT.title)}
    assert titles == {"nl", "en"} and {d.language for d in metadata.objects(DATASET, DCT.description)} == {
        "nl",
        "en",
    }
    for prop in (
        DCT.publisher,
        DCAT.contactPoint,
        DCT.license,
        DCAT.theme,
        DCAT.keyword,
        DCAT.version,
        DCT.issued,
    ):
        assert metadata.value(DATASET, prop) is not None, prop
    assert {str(s) for s in metadata.objects(DATASET, DCT.spatial)} == TEN_MUNICIPALITIES
    period = metadata.value(DATASET, DCT.temporal)
    assert (str(metadata.value(period, DCAT.startDate)), str(metadata.value(period, DCAT.endDate))) == (
        "2014",
        "2016",
    )


def test_every_distribution_describes_its_real_file(files: dict[str, bytes], metadata: rdflib.Graph) -> None:
    described = {}
    for dist in metadata.objects(DATASET, DCAT.distribution):
        name = str(metadata.value(dist, DCAT.downloadURL)).rsplit("/", 1)[1]
        checksum = metadata.value(dist, SPDX.checksum)
        described[name] = (
            int(metadata.value(dist, DCAT.byteSize)),
            str(metadata.value(checksum, SPDX.checksumValue)),
            str(metadata.value(dist, DCAT.mediaType)).rsplit("/", 2)[-2:],
        )
    assert set(described) == {
        "kg.ttl",
        "kg.nt",
        "kg.jsonld",
        "kg.rdf",
        "kg.trig",
        "initiatives.csv",
        "initiatives-excel-nl.csv",
        "initiatives.xlsx",
    }
    for name, (size, digest, _) in described.items():
        assert size == len(files[name]) and digest == hashlib.sha256(files[name]).hexdigest(), name
    assert described["kg.ttl"][2] == ["text", "turtle"] and described["kg.jsonld"][2] == [
        "application",
        "ld+json",
    ]


def test_void_statistics_are_computed(files: dict[str, bytes], metadata: rdflib.Graph) -> None:
    lines = files["kg.nt"].decode().splitlines()
    assert int(metadata.value(DATASET, VOID.triples)) == len(lines)
    partitions = {
        str(metadata.value(p, VOID["class"])): int(metadata.value(p, VOID.entities))
        for p in metadata.objects(DATASET, VOID.classPartition)
    }
    assert partitions["https://w3id.org/initiatieven/def/Initiative"] == 11
    assert partitions["https://identifier.overheid.nl/tooi/def/ont/Gemeente"] == 10
    per_property = [
        int(metadata.value(p, VOID.triples)) for p in metadata.objects(DATASET, VOID.propertyPartition)
    ]
    assert sum(per_property) == len(lines) and len(per_property) == int(
        metadata.value(DATASET, VOID.properties)
    )


# --- documentation, CSV, TriG -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        (
            "nl",
            [
                "Klassen",
                "coöperatie",
                "Begrippenkaders",
                "parapluvergunning",
                "Een initiatief ligt in precies",
            ],
        ),
        (
            "en",
            ["Classes", "cooperative", "Concept schemes", "umbrella permit", "An initiative lies in exactly"],
        ),
    ],
)
def test_documentation_pages(files: dict[str, bytes], lang: str, words: list[str]) -> None:
    page = files[f"docs/ontology.{lang}.html"].decode()
    assert page.startswith("<!DOCTYPE html>") and f'<html lang="{lang}">' in page
    for word in words:
        assert word in page, word
    graph = kg.load()
    classes = graph.query("SELECT ?c WHERE { ?c a owl:Class FILTER (STRSTARTS(STR(?c), STR(mi:))) }").column(
        "c"
    )
    for cls in classes:
        assert f'id="{cls.rsplit("/", 1)[1]}"' in page


def test_initiatives_csv(files: dict[str, bytes]) -> None:
    rows = list(csv.DictReader(io.StringIO(files["initiatives.csv"].decode("utf-8-sig"))))
    assert [r["number"] for r in rows] == [str(n) for n in range(1, 12)]
    wattwest = rows[10]
    assert (
        wattwest["identifier"],
        wattwest["legal_form"],
        wattwest["cbs_code"],
        wattwest["bottlenecks"],
    ) == ("wattwest", "cooperatie", "GM0855", "")
    assert rows[5]["bottlenecks"] == "aanbesteden;fiscaliteit;regelluwte"


def test_trig_has_three_named_graphs_and_turtle_is_canonical(files: dict[str, bytes]) -> None:
    dataset = rdflib.Dataset()
    dataset.parse(data=files["kg.trig"].decode(), format="trig")
    names = {str(g.identifier) for g in dataset.graphs() if len(g)}
    assert names == {f"https://w3id.org/initiatieven/graph/{n}" for n in ("ontology", "data", "inferred")}
    text = files["kg.ttl"].decode()
    assert format_text(text) == text


# --- kg release ---------------------------------------------------------------------------------


def test_release_is_reproducible_and_checks_out(tmp_path: Path) -> None:
    first = release(tmp_path / "a")
    second = release(tmp_path / "b")
    assert first == second
    done = subprocess.run(
        ["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=tmp_path / "a", capture_output=True, check=False
    )
    assert done.returncode == 0, done.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]


def test_release_refuses_nonconforming_data(tmp_path: Path) -> None:
    bad = TESTS / "fixtures" / "invalid" / "Initiative-municipality.ttl"
    with pytest.raises(ReleaseRefused, match="does not conform"):
        release(tmp_path / "out", kg.load([*bundle.data_files(), bad]))
    assert list(tmp_path.iterdir()) == []
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "kg.cli",
            "release",
            "--out",
            str(tmp_path / "out"),
            "--data",
            *map(str, bundle.data_files()),
            "--data",
            str(bad),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1 and "mish:Initiative-municipality" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_release_into_existing_folder(tmp_path: Path) -> None:
    """Only a release kg made is replaced, and only with --force; a folder of other files never (issue 14)."""
    out = tmp_path / "rel"
    out.mkdir()
    (out / "old.txt").write_text("old")
    args = [sys.executable, "-m", "kg.cli", "release", "--out", str(out)]
    for extra in ([], ["--force"]):
        done = subprocess.run([*args, *extra], capture_output=True, text=True, check=False)
        assert (
            done.returncode == 2 and "not a release made by kg" in done.stderr and (out / "old.txt").exists()
        )
    (out / "old.txt").unlink()
    assert subprocess.run(args, capture_output=True, check=False).returncode == 0  # an empty folder is fine
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "use --force" in done.stderr
    done = subprocess.run([*args, "--force"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and (out / "kg.ttl").exists()
    assert done.stderr.strip().splitlines() == [f"kg: released 14 files into {out}"]  # quiet when piped
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rel"]


def test_failed_release_leaves_no_folder(tmp_path: Path, monkeypatch) -> None:
    calls = []
    original = Path.write_bytes

    def failing(self: Path, data: bytes) -> int:
        calls.append(self)
        if len(calls) == 4:
            raise OSError(28, "No space left on device")
        return original(self, data)

    monkeypatch.setattr(Path, "write_bytes", failing)
    with pytest.raises(kg.InputError, match="No space left on device"):
        release(tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_progress_in_a_terminal_only(monkeypatch, capsys) -> None:
    from kg.publish.release import terminal_progress

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    show = terminal_progress(total=2)
    show("validating the data")
    show("writing")
    assert capsys.readouterr().err.splitlines() == ["[1/2] validating the data", "[2/2] writing"]
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    terminal_progress()("anything")
    assert capsys.readouterr().err == ""


# --- characters XML 1.0 cannot hold -------------------------------------------------------------


@pytest.fixture()
def escaped(tmp_path: Path) -> tuple[list[Path], Path, int]:
    """The project's data with ESC (U+001B) in wattwest's name, as a steward could type it in Turtle:
    (data files, the edited file, the line of the literal)."""
    files = sorted(p for p in copy_bundled_data(tmp_path / "data").rglob("*") if p.is_file())
    edited = next(p for p in files if p.name == "11-wattwest.ttl")
    text = edited.read_text()
    old = 'skos:prefLabel "Wijkonderneming watTWest"'
    assert old in text
    edited.write_text(text.replace(old, 'skos:prefLabel "Wijkonderneming watTWest\\u001B[31m"'))
    line = edited.read_text()[: edited.read_text().index("\\u001B")].count("\n") + 1
    return files, edited, line


def _kg(*args: object, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kg.cli", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )


def test_release_refuses_a_character_xml_cannot_hold(tmp_path: Path, escaped) -> None:
    """XML 1.0 section 2.2: ESC cannot be in kg.rdf nor in initiatives.xlsx, not even as &#27;."""
    files, edited, line = escaped
    out = tmp_path / "out"
    done = _kg("release", "--out", out, "--data", *files)
    assert done.returncode == 2, done.stderr
    (message,) = done.stderr.strip().splitlines()
    assert f"{edited}:{line}:" in message and "U+001B" in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # no release, no temporary folder


@pytest.mark.parametrize("fmt", ["xml", "graphml", "gexf"])
def test_export_refuses_a_character_xml_cannot_hold(tmp_path: Path, escaped, fmt: str) -> None:
    files, edited, line = escaped
    out = tmp_path / f"kg.{fmt}"
    done = _kg("export", "--format", fmt, "--data", *files, "-o", out)
    assert done.returncode == 2, done.stderr
    (message,) = done.stderr.strip().splitlines()
    assert f"{edited}:{line}:" in message and "U+001B" in message
    assert not out.exists()


@pytest.mark.parametrize("form", ["SELECT ?l", "CONSTRUCT { ?s ?p ?l }"])
def test_query_xml_refuses_a_character_xml_cannot_hold(tmp_path: Path, escaped, form: str) -> None:
    files, _, _ = escaped
    query = tmp_path / "q.rq"
    query.write_text(
        f"PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
        f"{form} WHERE {{ ?s ?p ?l . FILTER (?p = skos:prefLabel && CONTAINS(?l, 'watT')) }}"
    )
    out = tmp_path / "answer.xml"
    done = _kg("query", query, "--data", *files, "--format", "xml", "-o", out)
    assert done.returncode == 2, done.stderr
    (message,) = done.stderr.strip().splitlines()
    assert "U+001B" in message and "XML" in message
    assert not out.exists()
    done = _kg("query", query, "--data", *files, "--format", "xml")  # to stdout: no document at all
    assert done.returncode == 2 and done.stdout == ""
    other = "json" if form.startswith("SELECT") else "nt"  # what can hold it, does
    done = _kg("query", query, "--data", *files, "--format", other)
    assert done.returncode == 0 and "\\u001b" in done.stdout.lower()


def test_characters_xml_can_hold_are_written_as_valid_xml(tmp_path: Path) -> None:
    """Tab, LF, CR and U+0085 are XML 1.0 Chars: every XML output keeps them and parses."""
    import xml.dom.minidom

    data = tmp_path / "d.ttl"
    data.write_text(
        '<https://example.org/a> <http://www.w3.org/2000/01/rdf-schema#label> "a\\tb\\nc\\rd\\u0085e" .\n'
    )
    for fmt in ("xml", "graphml", "gexf"):
        out = tmp_path / f"kg.{fmt}"
        done = _kg("export", "--format", fmt, "--data", data, "-o", out)
        assert done.returncode == 0, done.stderr
        xml.dom.minidom.parse(str(out))
    out = tmp_path / "rdf.xml"
    assert _kg("export", "--format", "xml", "--data", data, "-o", out).returncode == 0
    assert "a\tb\nc\rd\u0085e" in {str(o) for o in rdflib.Graph().parse(out, format="xml").objects()}


# XML 1.0 (fifth edition), section 2.2: Char is #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | ...
NOT_CHARS = [c for c in range(0x20) if c not in (0x9, 0xA, 0xD)] + [0xFFFE, 0xFFFF]


@pytest.mark.parametrize("code", NOT_CHARS)
def test_every_character_xml_cannot_hold_is_found_among_many_triples(
    code: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check looks at a chunk of triples at once: a character XML cannot hold is found in any
    kind of literal, in a quoted triple, and in the second chunk, with the number of its triple."""
    from kg.core import xmlchars
    from kg.core.errors import InputError, UsageError

    monkeypatch.setattr(xmlchars, "_CHUNK", 100)
    ex = "https://example.org/"
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    text = "\t\r\n\u0085\x7f\uf000"  # Chars, one of them (U+F000) written after a byte 0xEF
    fine = [ox.Triple(ox.NamedNode(f"{ex}{i}"), label, ox.Literal(f"{i}{text}")) for i in range(150)]
    escapes = [ox.Triple(ox.NamedNode(ex), label, ox.Literal("\\b \\f \\u0001 \\U0001F600"))]
    for triples in (fine, escapes):  # Chars, and backslashes written as such, are let through
        xmlchars.check_triples(triples, "x")
        assert list(xmlchars.checked(triples, "x")) == triples
    char = chr(code)
    bad_terms = [
        ox.Literal(f"a{char}"),
        ox.Literal(f"a{char}", language="nl"),
        ox.Literal(f"a{char}", datatype=ox.NamedNode(f"{ex}type")),
        ox.Triple(ox.NamedNode(ex), label, ox.Literal(char)),
    ]
    for term in bad_terms:
        triples = [*fine, ox.Triple(ox.NamedNode(f"{ex}bad"), label, term), *fine[:10]]
        with pytest.raises(InputError, match=f"U\\+{code:04X}"):
            xmlchars.check_triples(triples, "x")
        with pytest.raises(UsageError, match=f"triple 151 .*U\\+{code:04X}"):
            list(xmlchars.checked(triples, "x"))


@pytest.mark.parametrize("code", [0x1B, 0x0E, 0xFFFF])
def test_a_streamed_xml_answer_names_the_row_of_a_character_xml_cannot_hold(code: int) -> None:
    """SPARQL XML results are checked a chunk of rows at a time: the row is named wherever it is, a
    chunk is written only when it is whole and fit, and Chars after a byte 0xEF are no alarm."""
    from kg.core.errors import UsageError
    from kg.core.result_stream import write_xml

    rows = [(ox.Literal(f"r{i}\uf000\t"),) for i in range(1200)]
    out = io.BytesIO()
    write_xml(["v"], rows, out)
    assert out.getvalue().count(b"<result>") == 1200
    rows[700] = (ox.Literal(f"x{chr(code)}"),)
    out = io.BytesIO()
    with pytest.raises(UsageError, match=f"row 701, \\?v: holds U\\+{code:04X}"):
        write_xml(["v"], rows, out)
    assert out.getvalue().count(b"<result>") == 512  # the first chunk only, whole
