"""The text of SHACL-SPARQL queries: what SHACL says to reject, and when one query may serve all focus nodes.

SHACL section 5.2.1 (pre-bound variables) forbids, in SPARQL-based constraints and validators,
``MINUS``, federated queries (``SERVICE``), ``VALUES``, ``AS ?var`` for a pre-bound variable, and
sub-queries that do not return every pre-bound variable. kg rejects them before any engine runs
(so a shapes file can never make kg send a request to the URL of a ``SERVICE`` clause).

A query may be run once over all nodes and its rows kept for the focus nodes (instead of once per
focus node with ``$this`` pre-bound) only when that gives the same rows: a single group of triple
patterns, ``FILTER`` and ``BIND`` in which ``$this`` occurs in a triple pattern, and no construct
whose answer depends on where ``$this`` is bound (nested groups, aggregates, zero-length paths,
``BIND`` or ``bound()`` over ``$this``). :func:`joinable` says so, conservatively.
"""

from __future__ import annotations

import re

# Strings (long and short), IRIs and comments: blanked out before looking at the query's keywords.
_HIDE = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\''
    r'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|<[^<>"{}|^`\\\s]*>|#[^\n]*'
)


def skeleton(query: str) -> str:
    """``query`` with strings, IRIs and comments replaced by placeholders of no meaning."""
    return _HIDE.sub(lambda m: " <> " if m.group(0).startswith("<") else ' "" ', query)


def rejected(query: str, prebound: set[str]) -> str | None:
    """Why SHACL 5.2.1 rejects ``query``, or None if it does not."""
    text = skeleton(query)
    for word in ("SERVICE", "MINUS", "VALUES"):
        if re.search(rf"\b{word}\b", text, re.I):
            return f"{word} is not allowed in SHACL-SPARQL queries (SHACL 5.2.1)"
    names = "|".join(map(re.escape, sorted(prebound)))
    found = re.search(rf"\b[Aa][Ss]\s*[?$]({names})\b", text)
    if found:
        return f"AS ?{found.group(1)} rebinds a pre-bound variable (SHACL 5.2.1)"
    for sub in re.finditer(r"\{\s*SELECT\b(.*?)\bWHERE\b|\{\s*SELECT\b(.*?)\{", text, re.I | re.S):
        projection = sub.group(1) if sub.group(1) is not None else sub.group(2)
        if "this" in prebound and not re.search(r"[?$]this\b", projection):
            return "a sub-query does not return $this (SHACL 5.2.1)"
    return None


def _strip_calls(text: str, names: str) -> str:
    """``text`` without ``NAME ( ... )`` calls (balanced parentheses) of the given names."""
    out, i = [], 0
    pattern = re.compile(rf"\b(?:{names})\s*\(", re.I)
    while (m := pattern.search(text, i)) is not None:
        out.append(text[i : m.start()])
        depth, j = 1, m.end()
        while j < len(text) and depth:
            depth += {"(": 1, ")": -1}.get(text[j], 0)
            j += 1
        i = j
    out.append(text[i:])
    return "".join(out)


def joinable(query: str) -> bool:
    """Whether running ``query`` once and keeping the rows of each focus node equals pre-binding."""
    text = skeleton(query)
    head, _, body = text.partition("{")
    if not re.search(r"\bSELECT\b", head, re.I) or not re.search(r"[?$]this\b", head):
        return False
    body = body.rsplit("}", 1)[0]
    tail = text.rsplit("}", 1)[1] if "}" in text else ""
    if "{" in body or "}" in body or tail.strip():
        return False  # nested groups, OPTIONAL, UNION, EXISTS, sub-queries; GROUP BY, LIMIT, ...
    if re.search(r"\b(COUNT|SUM|MIN|MAX|AVG|SAMPLE|GROUP_CONCAT|GRAPH)\b|\bbound\s*\(", text, re.I):
        return False
    if re.search(r"[\w>)]\s*[*?](?![\w])|\*", body):
        return False  # zero-length paths (p*, p?) also match nodes that are not in the graph
    for bind in re.finditer(r"\bBIND\s*\(", body, re.I):
        inner = _strip_calls(body[bind.start() :], "BIND")
        expression = body[bind.start() : len(body) - len(inner)]
        if re.search(r"[?$]this\b", expression):
            return False
    patterns = _strip_calls(body, "FILTER|BIND")
    patterns = re.sub(r"\bFILTER\s+\w+\s*\([^)]*\)", " ", patterns, flags=re.I)
    return re.search(r"[?$]this\b", patterns) is not None
