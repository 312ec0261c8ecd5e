"""Readable SPARQL errors (issue 16): where (line, column, the line and a caret), what (an unknown
prefix named, with the known ones; an unclosed bracket), and warnings for terms that match nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import kg
from kg.core import queries
from kg.core.namespaces import PREFIXES
from kg.core.sparql_text import explain, tokens, undeclared


def _caret_column(message: str) -> int:
    """The column (from 1) of the caret on the message's last line, relative to the shown line."""
    shown, caret = message.splitlines()[-2:]
    assert shown.startswith("  ") and caret.startswith("  ")
    return caret.index("^") - 1


def test_unknown_prefix_is_named_with_the_known_ones() -> None:
    text = 'PREFIX ex: <http://example.org/>\nSELECT ?x WHERE {\n  ?x a foo:Bar ; ex:p "foo:not" .\n}\n'
    message = queries.syntax_error(text)
    assert message is not None
    first = message.splitlines()[0]
    assert first.startswith("line 3, column 8: unknown prefix 'foo:' in foo:Bar")
    for prefix in ("mi", "skos", "tooi", "ex"):  # kg's prefixes and the query's own
        assert f" {prefix}," in first or f" {prefix})" in first
    assert "foo:Bar" in message.splitlines()[-2] and _caret_column(message) == 8
    assert message.splitlines()[-2][2 + 7 :].startswith("foo:Bar")


def test_prefixes_inside_strings_iris_and_comments_are_not_names() -> None:
    text = 'SELECT ?x WHERE { ?x ?p "foo:bar" . ?x ?q <urn:x:y> } # bar:baz'
    assert undeclared(tokens(text), PREFIXES) == []


def test_missing_brace_points_at_the_brace_left_open() -> None:
    message = queries.syntax_error("SELECT ?x WHERE {\n  ?x a mi:Initiative .\n  FILTER (?x != ?y\n")
    assert message is not None
    assert message.startswith("line 3, column 10: '(' is never closed")
    assert _caret_column(message) == 10


def test_engine_errors_lose_character_classes_and_count_characters() -> None:
    text = 'SELECT * WHERE { ?x ?p "é" . ?x a  }'
    message = queries.syntax_error(text)
    assert message is not None and "\\u{" not in message and "['" not in message
    line = message.splitlines()[0]
    assert line.startswith("line 1, column 36: unexpected '}'")  # the é is one column, not two bytes
    assert text[_caret_column(message) - 1] == "}"


def test_a_misspelt_form_is_named() -> None:
    message = queries.syntax_error("PREFIX a: <http://x/>\nSELEC * WHERE {}")
    assert message is not None and message.startswith("line 2, column 1: a query starts with SELECT")


def test_explain_keeps_a_message_without_position() -> None:
    assert explain("SELECT * {}", "something odd\n  happened", PREFIXES) == "something odd happened"


def test_query_error_in_the_library_and_on_the_command_line(tmp_path: Path) -> None:
    with pytest.raises(kg.QueryError, match=r"unknown prefix 'foo:'"):
        kg.load().query("SELECT ?x WHERE { ?x a foo:Bar }")
    bad = tmp_path / "bad.rq"
    bad.write_text("SELECT ?x WHERE {\n  ?x a foo:Bar .\n}\n")
    done = subprocess.run(
        [sys.executable, "-m", "kg.cli", "query", str(bad)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert lines[0].startswith(f"kg: error: {bad}: SPARQL syntax error: line 2, column 8: unknown prefix")
    assert lines[1:] == ["    ?x a foo:Bar .", "         ^"]


def test_misspelt_terms_warn_with_a_suggestion(graph: kg.KnowledgeGraph, tmp_path: Path) -> None:
    result = graph.query("SELECT ?x WHERE { ?x a mi:Initiatve ; mi:bottleneck kt:fiscalitiet }")
    assert len(result) == 0
    assert result.warnings == [
        "line 1, column 24: mi:Initiatve is not a term of kg's ontology or data, so it matches nothing "
        "(did you mean mi:Initiative?)",
        "line 1, column 53: kt:fiscalitiet is not a term of kg's ontology or data, so it matches nothing "
        "(did you mean kt:fiscaliteit?)",
    ]
    good = graph.query("SELECT ?x WHERE { ?x a mi:Initiative ; mi:bottleneck kt:fiscaliteit }")
    assert good.warnings == [] and len(good) == 5
    bad = tmp_path / "typo.rq"
    bad.write_text("SELECT ?x WHERE { ?x a <https://w3id.org/initiatieven/def/Initiatve> }\n")
    done = subprocess.run(
        [sys.executable, "-m", "kg.cli", "query", str(bad)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and "(0 rows)" in done.stdout
    assert "kg: warning:" in done.stderr and "did you mean mi:Initiative?" in done.stderr


@pytest.mark.parametrize("name", sorted(queries.stored()))
def test_stored_queries_name_only_known_terms(graph: kg.KnowledgeGraph, name: str) -> None:
    assert graph.unknown_terms(queries.stored()[name].text) == []
