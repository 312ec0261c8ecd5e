"""``kg fmt``: canonical Turtle for the ontology and data files (see kg.core.turtle).

Canonical Turtle keeps a file's opening comment block and no other comment; a file with another
comment (a steward's note) is rewritten only when the caller agrees to lose it (``drop_comments``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kg.core import bundle
from kg.core.errors import InputError
from kg.core.files import write_atomic
from kg.core.messages import say
from kg.core.turtle import dropped_comments, format_text


def default_files() -> list[Path]:
    """The Turtle files of ``ontology/`` and ``data/`` in the project folder."""
    project = bundle.project_dir()
    return sorted((project / "ontology").rglob("*.ttl")) + sorted((project / "data").rglob("*.ttl"))


def canonical(path: Path, base: str | None = None, lang: str = "nl") -> tuple[str, str]:
    """(current text, canonical text) of a Turtle file; InputError names file and line if invalid.
    Relative IRIs resolve against ``base``; without one they are an error (kg fmt writes IRIs in
    full, and the file's own file:// IRI would tie the data to this machine)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(say("fmt.unreadable", lang, path=path, reason=err)) from None
    try:
        return text, format_text(text, base)
    except SyntaxError as err:
        reason = str(err).split(" (", 1)[0]
        if base is None and "No scheme found" in reason:
            reason = "a relative IRI; give --base IRI to resolve it (kg fmt writes IRIs in full)"
        raise InputError(say("fmt.invalid", lang, path=path, line=err.lineno, reason=reason)) from None


def fmt(
    paths: Sequence[Path] | None = None,
    *,
    check: bool = False,
    base: str | None = None,
    lang: str = "nl",
    drop_comments: bool = False,
) -> dict[Path, int | None]:
    """Reformat the files (or with ``check`` only find them); return those not yet canonical, each with
    the line of the first comment formatting drops (None if it drops none).

    Without ``check`` a file whose comments outside its opening block would be lost is refused
    (InputError naming file and line, nothing written) unless ``drop_comments``. Without ``paths``, the
    project's own files, each of which must lie inside the project folder (a symbolic link to a file
    elsewhere is refused before anything is written); files named in ``paths`` are the caller's choice."""
    files = [Path(p) for p in paths] if paths else default_files()
    project = None if paths else bundle.project_dir().resolve()
    changes: dict[Path, str] = {}
    dropped: dict[Path, int | None] = {}
    for path in files:
        if path.suffix.lower() != ".ttl":
            raise InputError(say("fmt.turtle_only", lang, path=path))
        if not check and project is not None and not path.resolve().is_relative_to(project):
            # a link in the project (git keeps them) is no licence to rewrite a file elsewhere
            raise InputError(say("fmt.outside", lang, path=path, target=path.resolve()))
        text, formatted = canonical(path, base, lang)
        if formatted == text:
            continue
        lost = dropped_comments(text)
        if lost and not check and not drop_comments:
            line, comment = lost[0]
            shown = repr(comment if len(comment) <= 60 else comment[:59] + "…")
            raise InputError(say("fmt.comment", lang, path=path, line=line, comment=shown))
        changes[path] = formatted
        dropped[path] = lost[0][0] if lost else None
    if not check:
        for path, formatted in changes.items():
            write_atomic(path, formatted.encode("utf-8"))
    return dropped
