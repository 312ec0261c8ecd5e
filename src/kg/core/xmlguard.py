"""RDF/XML read without runaway entity expansion ("billion laughs") and without external entities.

XML 1.0 (section 4.2) lets a document declare entities in its DOCTYPE; a few nested ones expand a
kilobyte into gigabytes, and an external one reads another file or URL. Before an RDF/XML file is
parsed, :func:`check` reads its prolog with expat: external and parameter entities are refused; when
internal entities are declared (as Protégé does for namespaces), the whole file is run through expat,
whose amplification limit (expat >= 2.4: at most 100 times the input once past 8 MiB) stops a runaway
expansion with an error. Files without entity declarations cost one read of the prolog.
"""

from __future__ import annotations

import pyexpat
from pathlib import Path

from kg.core.errors import InputError

_CHUNK = 1 << 16


class _RootReached(Exception):
    """The prolog is over: the root element starts."""


def _declarations(path: Path) -> list[tuple[str, bool, bool]]:
    """(name, is a parameter entity, is external) for each entity the prolog declares."""
    found: list[tuple[str, bool, bool]] = []
    parser = pyexpat.ParserCreate()
    parser.SetParamEntityParsing(pyexpat.XML_PARAM_ENTITY_PARSING_NEVER)

    def declared(name, parameter, value, base, system_id, public_id, notation):
        found.append((name, bool(parameter), value is None))

    def root(name, attributes):
        raise _RootReached

    parser.EntityDeclHandler = declared
    parser.StartElementHandler = root
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except _RootReached:
        pass
    except pyexpat.ExpatError:
        pass  # not well-formed: the RDF/XML parser reports it with its line
    return found


def check(path: Path) -> None:
    """InputError naming ``path`` if its entities are external, parameter or expand without bound."""
    declarations = _declarations(path)
    if not declarations:
        return
    for name, parameter, external in declarations:
        if parameter or external:
            kind = "a parameter entity" if parameter else "an external entity"
            raise InputError(
                f"{path}: declares {kind} ({name}); kg reads no entities that point outside the file"
            )
    parser = pyexpat.ParserCreate()
    parser.SetParamEntityParsing(pyexpat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except pyexpat.ExpatError as err:
        reason = pyexpat.ErrorString(err.code)
        if "amplification" in reason:
            raise InputError(
                f"{path}:{err.lineno}: its XML entities expand without bound ({reason}); not read"
            ) from None
        raise InputError(f"{path}:{err.lineno}: invalid XML: {reason}") from None
