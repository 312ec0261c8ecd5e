"""Issue 14, "What was found": the findings that had no regression test of their own yet."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import kg
from kg.core.bundle import root
from kg.core.progress import Bar
from kg.steward import intake
from kg.steward.intake import import_csv


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    for name in ("ontology", "shapes", "data", "queries"):
        shutil.copytree(root() / name, folder / name)
    return folder


def test_a_large_import_advances_a_progress_bar_row_by_row(
    project: Path, tmp_path: Path, monkeypatch
) -> None:
    """'a 200 MB CSV has no size bound and no progress': the bar counts the rows as they are read."""
    rows = [
        f"voorbeeld-{i},Voorbeeld {i},Tilburg,https://example.org/{i},Een voorbeeld,An example"
        for i in range(40)
    ]
    path = tmp_path / "rows.csv"
    path.write_text(
        "identifier,name,municipality,source_url,description_nl,description_en\n" + "\n".join(rows) + "\n"
    )
    bar = Bar("importing", None)
    monkeypatch.setattr(intake, "current", lambda: bar)  # the bar kg import's terminal shows
    import_csv(path, project / "data", dry_run=True)
    assert (bar.total, bar.done) == (40, 40) and "40/40" in bar.line()


def test_dutch_headers_naam_and_gemeente_for_a_new_initiative(project: Path, tmp_path: Path) -> None:
    """'Dutch column headers (naam, gemeente) are refused'."""
    path = tmp_path / "rows.csv"
    path.write_text(
        "Naam;Gemeente;Rechtsvorm;Knelpunten;Bron;Beschrijving NL;Beschrijving EN\n"
        "Buurttuin De Linde;tilburg;Stichting;Aansprakelijkheid;https://example.org/l;Een tuin;A garden\n",
        encoding="utf-8",
    )
    result = import_csv(path, project / "data")
    assert result.created == ["buurttuin-de-linde"]
    graph = kg.load(sorted((project / "data").rglob("*.ttl")))
    answer = graph.query(
        """SELECT ?m ?form ?b WHERE { init:buurttuin-de-linde mi:municipality/mi:cbsCode ?m ;
        rov:orgType/skos:notation ?form ; mi:bottleneck/skos:notation ?b }""",
        infer=False,
    )
    assert list(answer) == [{"m": "GM0855", "form": "stichting", "b": "aansprakelijkheid"}]
