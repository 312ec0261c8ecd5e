"""A small change to the inputs of a cached graph is applied to it (issue 17): the graph, inferred
triples and answers are exactly those of loading the changed files from scratch."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import copy_bundled_data

import kg
from kg.graph import DATA, INFERRED, KnowledgeGraph

NEW = """@prefix gm: <https://identifier.overheid.nl/tooi/id/gemeente/> .
@prefix init: <https://w3id.org/initiatieven/id/initiatief/> .
@prefix mi: <https://w3id.org/initiatieven/def/> .
@prefix act: <https://w3id.org/initiatieven/id/activiteit/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
init:nieuw a mi:Initiative ; skos:prefLabel "Nieuw initiatief"@nl ;
    mi:municipality gm:gm0518 ; mi:activity act:groenbeheer .
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KG_CACHE_DIR", str(tmp_path / "cache"))
    return copy_bundled_data(tmp_path / "data")


def _files(data: Path) -> list[Path]:
    return sorted(data.rglob("*.ttl"))


def _bare(triples: list) -> list[str]:
    """Triples as sorted text, blank node labels left out (two loads label them differently)."""
    return sorted(re.sub(r"_:[A-Za-z0-9]+", "_:b", str(t)) for t in triples)


def _state(graph: KnowledgeGraph) -> tuple[list, list]:
    graph.graphs(inferred=True)
    return _bare(graph.triples(DATA)), _bare(graph.triples(INFERRED))


def _scratch(data: Path) -> tuple[list, list]:
    return _state(kg.load(_files(data)))


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_an_edit_an_import_and_a_removal_are_applied_exactly(project: Path) -> None:
    first = KnowledgeGraph.load(_files(project), cache=True)
    first.query("initiatives")  # builds the entry
    assert first.changed_from is None
    wattwest = project / "initiatieven" / "11-wattwest.ttl"
    _edit(wattwest, "mi:municipalPartner gm:gm0855", "mi:municipalPartner gm:gm0518")
    (project / "initiatieven" / "12-nieuw.ttl").write_text(NEW)
    (project / "initiatieven" / "09-ons-buurthuis.ttl").unlink()

    second = KnowledgeGraph.load(_files(project), cache=True)
    assert _state(second) == _scratch(project)
    assert second.changed_from is not None  # the change was applied, not loaded from scratch
    _, gained, lost = second.changed_from
    assert any("nieuw" in str(t.subject) for t in gained)
    assert any("ons-buurthuis" in str(t.subject) for t in lost)
    rows = second.query("initiatives").rows
    assert rows == kg.load(_files(project)).query("initiatives").rows
    assert any("Nieuw initiatief" in str(row) for row in rows)

    # a second change on top: kept as a second layer, and reopened from the cache exactly
    _edit(project / "initiatieven" / "12-nieuw.ttl", "act:groenbeheer", "act:zorg-en-welzijn")
    third = KnowledgeGraph.load(_files(project), cache=True)
    assert _state(third) == _scratch(project)
    assert third.changed_from is not None
    reopened = KnowledgeGraph.load(_files(project), cache=True)
    assert reopened._engine is None and reopened.cache.exists()
    assert _state(reopened) == _scratch(project)


def test_a_triple_another_file_still_states_stays(project: Path) -> None:
    KnowledgeGraph.load(_files(project), cache=True).query("initiatives")
    copy = project / "initiatieven" / "12-nieuw.ttl"
    copy.write_text(NEW)
    KnowledgeGraph.load(_files(project), cache=True).query("initiatives")  # both state init:nieuw
    (project / "initiatieven" / "13-ook.ttl").write_text(NEW)
    KnowledgeGraph.load(_files(project), cache=True).query("initiatives")
    copy.unlink()  # 13-ook.ttl still says all of it
    graph = KnowledgeGraph.load(_files(project), cache=True)
    assert _state(graph) == _scratch(project)
    assert graph.changed_from is not None
    assert any("Nieuw initiatief" in t for t in _state(graph)[0])


def test_blank_nodes_in_a_changed_file_are_loaded_from_scratch(project: Path) -> None:
    KnowledgeGraph.load(_files(project), cache=True).query("initiatives")
    (project / "initiatieven" / "12-nieuw.ttl").write_text(NEW + "init:nieuw mi:area [ mi:x 1 ] .\n")
    graph = KnowledgeGraph.load(_files(project), cache=True)
    assert _state(graph) == _scratch(project)
    assert graph.changed_from is None  # declined: blank node labels differ at each parse


def test_a_schema_change_in_the_data_is_inferred_from_scratch(project: Path) -> None:
    KnowledgeGraph.load(_files(project), cache=True).query("initiatives")
    (project / "initiatieven" / "12-nieuw.ttl").write_text(
        NEW + "mi:Initiative <http://www.w3.org/2000/01/rdf-schema#subClassOf> mi:Thing .\n"
    )
    graph = KnowledgeGraph.load(_files(project), cache=True)
    assert _state(graph) == _scratch(project)
    assert graph.changed_from is None


def _report(graph: KnowledgeGraph) -> tuple[bool, str, str]:
    report = graph.validate()
    return report.conforms, report.text("en"), report.json()


def test_validation_after_a_change_runs_only_what_it_can_affect(
    project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    graph = KnowledgeGraph.load(_files(project), cache=True)
    graph.query("initiatives")
    assert _report(graph) == _report(kg.load(_files(project)))  # full run; its state is kept
    wattwest = project / "initiatieven" / "11-wattwest.ttl"
    _edit(wattwest, "mi:municipalPartner gm:gm0855", "mi:municipalPartner gm:gm0518")  # a violation
    (project / "initiatieven" / "12-nieuw.ttl").write_text(NEW)
    changed = KnowledgeGraph.load(_files(project), cache=True, build=False)
    with caplog.at_level("DEBUG", logger="kg.engines.revalidation"):
        found = _report(changed)
    assert changed.changed_from is not None
    assert found == _report(kg.load(_files(project)))
    assert not found[0] and "wattwest" in found[1]
    ran = [r.getMessage() for r in caplog.records if "checks run" in r.getMessage()]
    assert ran and not ran[0].startswith("revalidation: full run")
    run, total = map(int, ran[0].split(": ", 1)[1].split(" checks")[0].split(" of "))
    assert 0 < run < total
    # the same inputs again: the kept state answers, with nothing to run again
    again = KnowledgeGraph.load(_files(project), cache=True, build=False)
    caplog.clear()
    with caplog.at_level("DEBUG", logger="kg.engines.revalidation"):
        assert _report(again) == found
    assert any("0 of" in r.getMessage() for r in caplog.records)


def test_kg_validate_with_the_cache_says_what_it_says_without(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kg.cli import main

    args = ["validate", "--data", *map(str, _files(project)), "--format", "json"]
    KnowledgeGraph.load(_files(project), cache=True).query("initiatives")
    _edit(
        project / "initiatieven" / "11-wattwest.ttl",
        "mi:municipalPartner gm:gm0855",
        "mi:municipalPartner gm:gm0518",
    )
    statuses, outputs = [], []
    for extra in ([], ["--no-cache"], []):
        statuses.append(main(args + extra))
        outputs.append(capsys.readouterr().out)
    assert statuses == [1, 1, 1]
    assert outputs[0] == outputs[1] == outputs[2]
