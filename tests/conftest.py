"""Shared fixtures: the loaded bundled graph and the paths of the shared reference material."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import kg

TESTS = Path(__file__).parent
SHARED = TESTS.parent.parent / "shared"
SOURCE = SHARED / "sources" / "experimentpartners.txt"


def shared(relative: str) -> Path:
    """A path under ../shared. A fresh clone has no ../shared: the test skips, saying why; in CI
    (``CI=true``), where ../shared is always laid beside the checkout, its absence fails the test."""
    path = SHARED / relative
    if not path.exists():
        message = f"../shared/{relative} is absent (a fresh clone has no ../shared)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + "; in CI it must be there")
        pytest.skip(message)
    return path


@pytest.fixture(autouse=True, scope="session")
def _cache_folder(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Commands under test keep their cache (kg.core.cache) in a folder of the test run, never in the
    user's ~/.cache."""
    os.environ["KG_CACHE_DIR"] = str(tmp_path_factory.mktemp("kg-cache"))


@pytest.fixture(scope="session")
def graph() -> kg.KnowledgeGraph:
    """The bundled ontology and data, with inference (rules) computed."""
    g = kg.load()
    g.infer()
    return g


@pytest.fixture(scope="session")
def source_text() -> str:
    """The source page as received; tests that need it skip when ../shared is absent."""
    return shared("sources/experimentpartners.txt").read_text(encoding="utf-8")


def copy_bundled_data(folder: Path) -> Path:
    """A copy of the bundled data files under ``folder``, in their own layout; returns ``folder``."""
    from kg.core import bundle

    for path in bundle.data_files():
        target = folder / path.relative_to(bundle.project_dir() / "data")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    return folder


def rows(graph: kg.KnowledgeGraph, name: str, **params: str) -> list[dict]:
    """A stored query's rows as dicts of plain values."""
    return list(graph.query(name, params))


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's Chromium driven by Playwright (the kg serve browser tests)."""
    if shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=shutil.which("chromium"),
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
        )
        try:
            yield browser
        finally:
            browser.close()
