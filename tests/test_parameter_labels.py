"""Parameter values by code or by label, in either language and any case (issue 16)."""

from __future__ import annotations

import pytest

import kg
from kg.cli import main


def _names(graph: kg.KnowledgeGraph, query: str, **params: str) -> list[str]:
    return sorted(str(v) for v in graph.query(query, params).column("name"))


@pytest.mark.parametrize(
    "given",
    ["fiscaliteit", "FISCALITEIT", "Fiscaliteit", "fiscale regelgeving", "Tax rules", "tax", "belasting"],
)
def test_bottleneck_by_code_or_label(graph: kg.KnowledgeGraph, given: str) -> None:
    assert _names(graph, "initiatives-by-bottleneck", bottleneck=given) == _names(
        graph, "initiatives-by-bottleneck", bottleneck="fiscaliteit"
    )


@pytest.mark.parametrize(
    ("query", "param", "code", "label"),
    [
        ("initiatives-by-legal-form", "legalform", "stichting", "Foundation"),
        ("initiatives-by-legal-form", "legalform", "privaatrechtelijk", "private legal person"),
        ("initiatives-by-activity", "activity", "groenbeheer", "Groenbeheer"),
        ("initiatives-by-municipality", "municipality", "Den Haag", "gm0518"),
    ],
)
def test_other_parameters_by_label(graph, query: str, param: str, code: str, label: str) -> None:
    expected = _names(graph, query, **{param: code})
    assert expected and _names(graph, query, **{param: label}) == expected


def test_initiative_by_name(graph: kg.KnowledgeGraph) -> None:
    by_code = graph.query("similar-initiatives", {"initiative": "wattwest"}).rows
    assert by_code and graph.query("similar-initiatives", {"initiative": "WatTWest"}).rows == by_code


def test_the_label_is_turned_into_the_code_before_binding(graph: kg.KnowledgeGraph) -> None:
    text = graph.bound(kg.graph.resolve("shared-bottlenecks"), {"bottleneck": "Tax rules"})
    assert '"fiscaliteit"' in text and "Tax rules" not in text


def test_unknown_value_lists_codes_and_suggests(graph: kg.KnowledgeGraph) -> None:
    with pytest.raises(kg.ParameterError, match=r"unknown value 'liabilty' \(did you mean liability\?\)"):
        graph.query("initiatives-by-bottleneck", {"bottleneck": "liabilty"})


def test_command_line_accepts_english_labels(capsysbinary) -> None:
    assert main(["query", "initiatives-by-bottleneck", "-p", "bottleneck=tax", "--lang", "en"]) == 0
    assert b"(5 rows)" in capsysbinary.readouterr().out
