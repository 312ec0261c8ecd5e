"""Issue 14, a steward's language: messages in Dutch (the default) and English, codes and labels in any
case and either language, and a municipality added from the spreadsheet (only what the steward typed,
checked against the CBS and TOOI patterns)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import kg
from kg.cli import main
from kg.core.bundle import root
from kg.core.labels import Lookup
from kg.core.messages import MESSAGES, say
from kg.steward.intake import ImportRejected, import_csv

NEW = "linde,Buurttuin De Linde,{municipality},stichting,https://example.org/linde,Een tuin,A garden"
HEADER = "identifier,name,municipality,legal_form,source_url,description_nl,description_en"


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    for name in ("ontology", "shapes", "data", "queries"):
        shutil.copytree(root() / name, folder / name)
    return folder


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rows.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _load(project: Path) -> kg.KnowledgeGraph:
    return kg.load(sorted((project / "data").rglob("*.ttl")))


# --- messages ------------------------------------------------------------------------------------


def test_every_message_has_both_languages_with_the_same_fields() -> None:
    import string

    for key, (nl, en) in MESSAGES.items():
        fields = [{f for _, f, _, _ in string.Formatter().parse(text) if f} for text in (nl, en)]
        assert nl and en and nl != en, key
        assert fields[0] == fields[1], key


def test_import_problems_in_dutch_by_default_and_in_english_on_request(
    project: Path, tmp_path: Path, capsys
) -> None:
    path = _csv(tmp_path, HEADER + "\n" + NEW.format(municipality="Dordrect") + "\n")
    data = ["--data-dir", str(project / "data")]
    assert main(["import", str(path), *data]) == 1
    err = capsys.readouterr().err
    assert "rij 2, kolom municipality: 'Dordrect': geen bekende gemeente (bedoelt u Dordrecht?)" in err
    assert "er is niets geschreven" in err and "nothing was written" not in err
    assert main(["import", str(path), *data, "--lang", "en"]) == 1
    err = capsys.readouterr().err
    assert "row 2, column municipality: 'Dordrect': not a known municipality (did you mean Dordrecht?)" in err
    assert "nothing was written" in err


def test_dry_run_report_in_both_languages(project: Path, tmp_path: Path, capsys) -> None:
    path = _csv(tmp_path, "identifier,founding_year\ncrabbehoeve,2013\n")
    data = ["--data-dir", str(project / "data"), "--dry-run"]
    assert main(["import", str(path), *data]) == 0
    out, err = capsys.readouterr()
    assert "crabbehoeve (bijgewerkt)" in out and "  founding_year: (geen) -> 2013" in out
    assert "0 nieuw, 1 bijgewerkt; zou schrijven 2 bestanden" in err
    assert main(["import", str(path), *data, "--lang", "en"]) == 0
    out, err = capsys.readouterr()
    assert "crabbehoeve (updated)" in out and "0 new, 1 updated; would write 2 files" in err


def test_init_fmt_and_diff_speak_dutch_and_english(tmp_path: Path, capsys) -> None:
    assert main(["init", str(tmp_path / "p")]) == 0
    assert "project gestart in" in capsys.readouterr().err
    assert main(["init", str(tmp_path / "p"), "--lang", "en"]) == 2
    assert "exists and is not an empty folder" in capsys.readouterr().err
    assert main(["init", str(tmp_path / "p")]) == 2
    assert "bestaat en is geen lege map" in capsys.readouterr().err
    turtle = tmp_path / "p" / "data" / "programma.ttl"
    assert main(["fmt", "--check", str(turtle)]) == 0
    assert "alle bestanden staan in canonieke vorm" in capsys.readouterr().err
    assert main(["fmt", "--check", str(turtle), "--lang", "en"]) == 0
    assert "all files are in canonical form" in capsys.readouterr().err
    assert main(["diff", str(turtle), str(turtle)]) == 0
    assert capsys.readouterr().out == "geen verschillen\n"
    assert main(["diff", str(turtle), str(turtle), "--lang", "en"]) == 0
    assert capsys.readouterr().out == "no differences\n"


# --- codes and labels ----------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["fiscaliteit", "Fiscaliteit", "tax", "TAX RULES", "Fiscale  Regelgeving"])
def test_a_bottleneck_by_code_or_label_in_either_language(project: Path, tmp_path: Path, cell: str) -> None:
    import_csv(_csv(tmp_path, f"identifier,bottlenecks\nmarconia,{cell}\n"), project / "data")
    answer = _load(project).query("SELECT ?c WHERE { init:marconia mi:bottleneck/skos:notation ?c }")
    assert answer.column("c") == ["fiscaliteit"]


@pytest.mark.parametrize("cell", ["Stichting", "foundation", "STICHTING"])
def test_a_legal_form_by_code_or_label(project: Path, tmp_path: Path, cell: str) -> None:
    import_csv(_csv(tmp_path, f"identifier,legal_form\nmarconia,{cell}\n"), project / "data")
    answer = _load(project).query(
        "SELECT ?c WHERE { init:marconia rov:orgType/skos:notation ?c }", infer=False
    )
    assert answer.column("c") == ["stichting"]


def test_two_concepts_that_fit_are_never_guessed_between(project: Path, tmp_path: Path) -> None:
    # "public limited company" (nv) and "public legal person" (publiekrechtelijk) both begin with "public"
    with pytest.raises(ImportRejected) as caught:
        import_csv(_csv(tmp_path, "identifier,legal_form\nmarconia,public\n"), project / "data", lang="en")
    (problem,) = caught.value.errors
    assert problem.column == "legal_form" and "fits more than one code" in problem.message
    assert "(nv, publiekrechtelijk)" in problem.message


def test_lookup_matches_whole_words_only() -> None:
    lookup = Lookup.of([("k:r", "regelluwte", ["regelluwe zones", "regulation-light zones"])])
    assert lookup.find("Regelluwe Zones") == "k:r" and lookup.find("regelluwe") == "k:r"
    assert lookup.find("regel") == [] and lookup.find("zones") == []


# --- a municipality from the spreadsheet ---------------------------------------------------------

MUNI_HEADER = HEADER + ",municipality_cbs,province,province_cbs"


def _new_municipality(tmp_path: Path, project: Path, cells: str, lang: str = "en") -> object:
    row = NEW.format(municipality=cells.split(",")[0]) + "," + ",".join(cells.split(",")[1:])
    return import_csv(_csv(tmp_path, MUNI_HEADER + "\n" + row + "\n"), project / "data", lang=lang)


def _about(graph: kg.KnowledgeGraph, iri: str) -> set[tuple[str, str]]:
    answer = graph.query(f"SELECT ?p ?o WHERE {{ <{iri}> ?p ?o }}", infer=False)
    return {(row["p"], str(row["o"])) for row in answer}


def test_a_municipality_is_added_with_exactly_what_the_steward_typed(project: Path, tmp_path: Path) -> None:
    result = _new_municipality(tmp_path, project, "Zwijndrecht,GM0642,Zuid-Holland,")
    assert result.municipalities == ["Zwijndrecht (GM0642, Zuid-Holland)"]
    graph = _load(project)
    gm = "https://identifier.overheid.nl/tooi/id/gemeente/gm0642"
    facts = _about(graph, gm)
    imports = [p for p, o in facts if p.endswith("wasGeneratedBy")]
    assert facts - {(p, o) for p, o in facts if p.endswith("wasGeneratedBy")} == {
        (
            "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
            "https://identifier.overheid.nl/tooi/def/ont/Gemeente",
        ),
        ("http://www.w3.org/2004/02/skos/core#prefLabel", "Zwijndrecht"),
        ("https://w3id.org/initiatieven/def/cbsCode", "GM0642"),
        (
            "https://identifier.overheid.nl/tooi/def/ont/ligtInProvincie",
            "https://identifier.overheid.nl/tooi/id/provincie/pv28",
        ),
    }
    assert len(imports) == 1  # its origin is the import, not a source it never came from
    assert graph.query("SELECT ?m WHERE { init:linde mi:municipality ?m }").column("m") == [gm]
    assert (project / "data" / "referentie" / "gemeenten.ttl").read_text().count("gm0642") >= 1
    assert graph.validate().conforms


def test_a_new_province_needs_its_cbs_code_and_is_added_too(project: Path, tmp_path: Path) -> None:
    with pytest.raises(ImportRejected) as caught:
        _new_municipality(tmp_path, project, "Nijmegen,GM0268,Gelderland,")
    assert [(e.column, "not a known province" in e.message) for e in caught.value.errors] == [
        ("province", True)
    ]
    result = _new_municipality(tmp_path, project, "Nijmegen,gm0268,Gelderland,PV25")
    assert result.municipalities == ["Nijmegen (GM0268, Gelderland)"]
    graph = _load(project)
    pv = "https://identifier.overheid.nl/tooi/id/provincie/pv25"
    assert {(p.rsplit("#", 1)[-1].rsplit("/", 1)[-1], o) for p, o in _about(graph, pv)} >= {
        ("type", "https://identifier.overheid.nl/tooi/def/ont/Provincie"),
        ("prefLabel", "Gelderland"),
    }
    assert graph.validate().conforms


@pytest.mark.parametrize(
    ("cells", "column", "message"),
    [
        ("Zwijndrecht,0642,Zuid-Holland,", "municipality_cbs", "GM and four digits"),
        ("Zwijndrecht,GM642,Zuid-Holland,", "municipality_cbs", "GM and four digits"),
        ("Zwijndrecht,GM06420,Zuid-Holland,", "municipality_cbs", "GM and four digits"),
        ("Zwijndrecht,GM0505,Zuid-Holland,", "municipality_cbs", "already belongs to municipality Dordrecht"),
        ("Dordrecht,GM0642,Zuid-Holland,", "municipality_cbs", "Dordrecht has CBS code GM0505"),
        ("Dordrecht,GM0505,Utrecht,", "province", "lies in province Zuid-Holland"),
        ("Zwijndrecht,,Zuid-Holland,", "municipality_cbs", "required"),
        ("Zwijndrecht,GM0642,,", "province", "needs a province"),
        ("Nijmegen,GM0268,Gelderland,P25", "province_cbs", "PV and two digits"),
        ("Nijmegen,GM0268,Gelderland,PV28", "province_cbs", "already belongs to province Zuid-Holland"),
    ],
)
def test_a_municipality_that_does_not_fit_is_refused(
    project: Path, tmp_path: Path, cells: str, column: str, message: str
) -> None:
    before = (project / "data" / "referentie" / "gemeenten.ttl").read_bytes()
    with pytest.raises(ImportRejected) as caught:
        _new_municipality(tmp_path, project, cells)
    assert [(e.column, message in e.message) for e in caught.value.errors] == [(column, True)]
    assert (project / "data" / "referentie" / "gemeenten.ttl").read_bytes() == before


def test_a_known_municipality_with_its_own_code_adds_nothing(project: Path, tmp_path: Path) -> None:
    result = _new_municipality(tmp_path, project, "Dordrecht,GM0505,Zuid-Holland,")
    assert result.municipalities == [] and result.created == ["linde"]
    assert all("referentie" not in str(p) for p in result.files)


def test_the_municipality_messages_in_dutch(project: Path, tmp_path: Path) -> None:
    with pytest.raises(ImportRejected) as caught:
        _new_municipality(tmp_path, project, "Zwijndrecht,0642,Zuid-Holland,", lang="nl")
    assert caught.value.errors[0].message == say("row.cbs_pattern", "nl")
    assert "GM en vier cijfers" in caught.value.errors[0].message
