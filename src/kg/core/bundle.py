"""Where the bundled ontology, shapes, data and queries live.

In a source checkout they are the top-level folders; in an installed wheel they are copied into
``kg/bundled/`` (see ``pyproject.toml``). Either way the layout below that root is the same.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from kg.core.errors import InputError


@cache
def root() -> Path:
    """The folder holding ``ontology/``, ``shapes/``, ``data/`` and ``queries/``."""
    packaged = Path(__file__).resolve().parents[1] / "bundled"
    if (packaged / "ontology").is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[3]
    if (checkout / "ontology").is_dir():
        return checkout
    raise InputError("kg: bundled files not found (reinstall the package)")


def ontology_files() -> list[Path]:
    """The ontology, the axioms of reused vocabularies and the SKOS vocabularies."""
    return sorted((root() / "ontology").rglob("*.ttl"))


def shapes_files() -> list[Path]:
    """The SHACL shapes the data must conform to."""
    return sorted((root() / "shapes").glob("*.ttl"))


def data_files() -> list[Path]:
    """The bundled instance data (programme, municipalities, initiatives)."""
    return sorted((root() / "data").rglob("*.ttl"))


def queries_dir() -> Path:
    """The folder of stored ``.rq`` queries."""
    return root() / "queries"


def project_dir(start: Path | None = None) -> Path:
    """The project folder a data steward edits: the current folder (or a parent) holding ``data/``.

    Falls back to the source checkout kg runs from; an installed package's own copy is never
    written to.
    """
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "data").is_dir() and (folder / "ontology").is_dir():
            return folder
    if root().name != "bundled":
        return root()
    raise InputError(
        "no project folder here (one with ontology/ and data/): run kg in your clone "
        "of the project, or name the files"
    )
