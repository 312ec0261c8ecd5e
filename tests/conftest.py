"""Shared fixtures: the loaded bundled graph and the paths of the shared reference material."""

from __future__ import annotations

from pathlib import Path

import pytest

import kg

TESTS = Path(__file__).parent
SHARED = TESTS.parent.parent / "shared"
SOURCE = SHARED / "sources" / "experimentpartners.txt"


@pytest.fixture(scope="session")
def graph() -> kg.KnowledgeGraph:
    """The bundled ontology and data, with inference (rules) computed."""
    g = kg.load()
    g.infer()
    return g


@pytest.fixture(scope="session")
def source_text() -> str:
    """The source page as received; tests that need it skip when ../shared is absent."""
    if not SOURCE.is_file():
        pytest.skip("../shared/sources/experimentpartners.txt is absent (fresh clone without shared/)")
    return SOURCE.read_text(encoding="utf-8")


def rows(graph: kg.KnowledgeGraph, name: str, **params: str) -> list[dict]:
    """A stored query's rows as dicts of plain values."""
    return list(graph.query(name, params))
