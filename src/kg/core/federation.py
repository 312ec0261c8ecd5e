"""Federated queries (SPARQL 1.1 Federated Query, ``SERVICE``) are refused unless the endpoint is allowed.

kg never calls out because of what a query, a shapes file or an HTTP request says: both engines would
send a ``SERVICE`` clause's request as soon as the query is evaluated, so every SPARQL text is checked
here first. The check reads the text as SPARQL tokens (strings, IRIs, comments, variables and prefixed
names are skipped), so ``?service``, ``ex:SERVICE`` or ``"SERVICE"`` are not mistaken for the keyword.
An endpoint is allowed only when it is written as a full IRI that starts with an allowed prefix.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from kg.core.errors import QueryError

_TOKEN = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n]|\\.)*"'
    r"|'(?:[^'\\\n]|\\.)*'"
    r"|<[^<>\"{}|^`\\\x00-\x20]*>"
    r"|\#[^\n]*"
    r"|[?$]\w+"
    r"|(?:[A-Za-z_][\w.-]*)?:[\w.:-]*"
    r"|(?P<service>(?i:\bSERVICE\b))",
)
_AFTER = re.compile(r"(?:\s|\#[^\n]*)*(?:(?i:SILENT)\b(?:\s|\#[^\n]*)*)?(<[^<>\"{}|^`\\\x00-\x20]*>)?")


def services(text: str) -> list[str]:
    """The endpoints of the ``SERVICE`` clauses in ``text``: IRIs, or the text after the keyword when
    it names no IRI (a variable or a prefixed name)."""
    found = []
    for match in _TOKEN.finditer(text):
        if match.group("service"):
            after = _AFTER.match(text, match.end())
            iri = after.group(1)
            found.append(iri[1:-1] if iri else text[after.end() : after.end() + 40].split()[0])
    return found


def refuse_service(text: str, allowed: Sequence[str] = (), where: str = "<query>") -> None:
    """Raise QueryError if ``text`` has a ``SERVICE`` whose endpoint no prefix in ``allowed`` covers."""
    for endpoint in services(text):
        if not any(endpoint.startswith(prefix) for prefix in allowed if prefix):
            raise QueryError(
                f"{where}: SERVICE {endpoint} refused: federated queries are off (kg sends no requests "
                "because of what a query says; allow an endpoint explicitly to use it)"
            )
