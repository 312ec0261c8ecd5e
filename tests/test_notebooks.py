"""Notebooks (issue 16): Result.to_df(), HTML views of results and reports, one column-naming rule,
whole cell text unless a width is asked for."""

from __future__ import annotations

from html import unescape
from html.parser import HTMLParser

import pandas as pd
import pytest

import kg
from kg.cli import main
from kg.core.results import column_name
from kg.views import figures


class _Cells(HTMLParser):
    """The text of each <th>/<td>, row by row."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._in = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._in = True
            self.rows[-1].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self._in = False

    def handle_data(self, data: str) -> None:
        if self._in:
            self.rows[-1][-1] += data


def _cells(html: str) -> list[list[str]]:
    parser = _Cells()
    parser.feed(html)
    return parser.rows


def test_column_rule() -> None:
    assert [column_name(v) for v in ("legalForm", "numberA", "name", "cbsCode", "sharedBottlenecks")] == [
        "legal_form",
        "number_a",
        "name",
        "cbs_code",
        "shared_bottlenecks",
    ]


def test_to_df_has_every_row_and_plain_values(graph: kg.KnowledgeGraph) -> None:
    result = graph.query("initiatives", lang="en")
    frame = result.to_df()
    assert isinstance(frame, pd.DataFrame) and len(frame) == len(result) == 11
    assert list(frame.columns) == [column_name(v) for v in result.variables]
    assert frame["number"].tolist() == list(range(1, 12))
    assert frame.loc[frame["number"] == 3, "legal_form"].item() == "foundation"
    assert frame.legal_form.isna().sum() == 4  # partners 2, 5, 7 and 9: the source names no form
    ask = graph.query("ASK { ?i a mi:Initiative }").to_df()
    assert ask["boolean"].tolist() == [True]


def test_one_naming_rule_in_query_df_and_networkx(graph: kg.KnowledgeGraph) -> None:
    frame = figures.query_df(graph, "initiatives", lang="en")
    network = figures.to_networkx(graph, lang="en")
    wattwest = network.nodes["https://w3id.org/initiatieven/id/initiatief/wattwest"]
    assert "legal_form" in frame.columns and "legal_form" in wattwest
    row = frame[frame["initiative"] == "https://w3id.org/initiatieven/id/initiatief/wattwest"]
    assert row["legal_form"].item() == wattwest["legal_form"] == "cooperative"


def test_result_html_shows_whole_values(graph: kg.KnowledgeGraph) -> None:
    result = graph.query(
        "SELECT ?i ?d WHERE { ?i a mi:Initiative ; dct:description ?d FILTER (LANG(?d) = 'en') }"
    )
    rows = _cells(result._repr_html_())
    assert rows[0] == ["i", "d"] and len(rows) == 12
    longest = max(r["d"] for r in result)
    assert len(longest) > 60 and any(longest in cell for row in rows for cell in row)
    assert "@en" in rows[1][1]  # the language tag is shown
    assert "(11 rows)" in result._repr_html_()


def test_html_escapes_values(tmp_path) -> None:
    data = tmp_path / "x.ttl"
    data.write_text('<http://example.org/a> <http://example.org/b> "<script>alert(1)</script>" .\n')
    result = kg.load([data]).query("SELECT ?o WHERE { ?s <http://example.org/b> ?o }", infer=False)
    assert "<script>" not in result._repr_html_() and "&lt;script&gt;" in result._repr_html_()


def test_report_html(tmp_path) -> None:
    report = kg.load().validate()
    assert report.summary("nl") in unescape(report._repr_html_())
    bad = tmp_path / "bad.ttl"
    bad.write_text(
        "@prefix mi: <https://w3id.org/initiatieven/def/> .\n"
        "<https://w3id.org/initiatieven/id/initiatief/x> a mi:Initiative .\n"
    )
    report = kg.load([bad]).validate()
    fragment = report._repr_html_()
    assert "<html" not in fragment and "<script" not in fragment  # a fragment for a notebook cell
    rows = [r for r in _cells(fragment) if len(r) == 6]
    body = [r for r in rows if r[0].casefold() not in ("ernst", "severity")]
    assert len(body) == len(report.findings) > 0
    assert all(any(f.message_in("nl") == r[4] for r in body) for f in report.findings)


@pytest.mark.parametrize(("width", "cut"), [(None, False), (20, True)])
def test_table_cells_whole_unless_a_width_is_asked(graph, capsysbinary, width, cut) -> None:
    args = ["query", "initiatives", "--lang", "en"] + ([] if width is None else ["--cell-width", str(width)])
    assert main(args) == 0
    out = capsysbinary.readouterr().out.decode()
    assert ("Zorgverslimmingsplatform Leidsche Rijn" in out) is not cut
    assert ("…" in out) is cut
