"""Where the ontology, shapes, data and queries live: the project folder, or the bundled ones.

Inside a project folder (found from the working folder upwards, see :func:`find_project`) every verb
uses that project's files; outside one, the bundled files. In a source checkout the bundled files are
the top-level folders; in an installed wheel they are copied into ``kg/bundled/`` (see
``pyproject.toml``). Either way the layout below that root is the same.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from kg.core.errors import InputError
from kg.core.files import settle
from kg.core.loading import FORMATS
from kg.core.messages import say


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


PROJECT_FILE = "kg.toml"
FOLDERS = ("ontology", "shapes", "data", "queries")


def find_project(start: Path | None = None) -> Path | None:
    """The project folder around ``start`` (default: the working folder), found as git finds a repository.

    From ``start`` upwards, the first folder holding a ``kg.toml`` or all of ``ontology/``, ``shapes/``,
    ``data/`` and ``queries/``; None outside a project.
    """
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / PROJECT_FILE).is_file() or all((folder / name).is_dir() for name in FOLDERS):
            return folder
    return None


def folder(name: str) -> Path:
    """``ontology``, ``shapes``, ``data`` or ``queries`` of the project, or of the bundle outside one.

    A project that lacks one of them (a ``kg.toml`` beside ``data/`` only) uses the bundled one.
    """
    project = find_project()
    if project is not None and (project / name).is_dir():
        return project / name
    return root() / name


def ontology_files() -> list[Path]:
    """The ontology, the axioms of reused vocabularies and the SKOS vocabularies."""
    return sorted(folder("ontology").rglob("*.ttl"))


def shapes_files() -> list[Path]:
    """The SHACL shapes the data must conform to."""
    return sorted(folder("shapes").glob("*.ttl"))


def data_files() -> list[Path]:
    """The instance data (programme, municipalities, initiatives), a pending change finished first."""
    data = folder("data")
    settle(data)
    return sorted(data.rglob("*.ttl"))


def queries_dir() -> Path:
    """The folder of stored ``.rq`` queries."""
    return folder("queries")


def expand(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given, folders as the RDF files in them (sorted); pending changes finished first.

    A folder given here, and the data folder of the project a given file lies in, is settled
    (kg.core.files.settle) before anything is read, so a half-done change is never read. No other
    folder's journal is touched (a journal planted in a shared folder above is not kg's business).
    """
    out: list[Path] = []
    settled: set[Path] = set()
    projects: dict[Path, Path | None] = {}

    def settle_once(folder: Path) -> None:
        if folder not in settled:
            settled.add(folder)
            settle(folder)

    for given in map(Path, paths):
        if given.is_dir():
            settle_once(given.resolve())
            out += sorted(p for p in given.rglob("*") if p.suffix.lower() in FORMATS and p.is_file())
            continue
        parent = given.resolve().parent
        if parent not in projects:
            projects[parent] = find_project(parent)
        project = projects[parent]
        if project is not None and parent.is_relative_to(project / "data"):
            settle_once(project / "data")
        out.append(given)
    return out


def project_dir(start: Path | None = None) -> Path:
    """The project folder a data steward edits (see :func:`find_project`).

    Falls back to the source checkout kg runs from; an installed package's own copy is never
    written to.
    """
    project = find_project(start)
    if project is not None:
        return project
    if root().name != "bundled":
        return root()
    raise InputError(
        "no project folder here (one with kg.toml, or ontology/, shapes/, data/ and queries/): "
        "start one with kg init DIR, or name the files"
    )


def init(target: Path, lang: str = "nl") -> Path:
    """A new project folder ``target``: the bundled ontology, shapes, data and queries, and a kg.toml.

    Refused if ``target`` exists and is not empty; built beside it and renamed into place.
    """
    target = Path(target).resolve()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InputError(say("init.exists", lang, path=target))
    staging = target.parent / f".{target.name}.init-{os.getpid()}"
    try:
        for name in (*FOLDERS, "templates"):
            if (root() / name).is_dir():
                shutil.copytree(root() / name, staging / name)
        (staging / PROJECT_FILE).write_text(
            "# A kg project: kg run in this folder (or below) uses its ontology, shapes, data and queries.\n"
            f'[project]\nname = "{target.name}"\n',
            encoding="utf-8",
        )
        if target.exists():
            target.rmdir()
        staging.rename(target)
    except OSError as err:
        raise InputError(say("init.failed", lang, path=target, reason=err.strerror or err)) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
