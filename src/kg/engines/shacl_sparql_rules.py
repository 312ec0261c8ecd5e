"""What SHACL says about the text of SHACL-SPARQL queries, read with kg's one SPARQL lexer.

Strings, IRIs and comments are recognised once, by :func:`kg.core.sparql_text.tokens`; the rules here
only look at the tokens outside them.

- :func:`rejected`: SHACL 5.2.1 (pre-bound variables) forbids, in SPARQL-based constraints and
  validators, ``MINUS``, federated queries (``SERVICE``), ``VALUES``, ``AS ?var`` for a pre-bound
  variable, and sub-queries that do not return every pre-bound variable. kg rejects them before any
  engine runs (so a shapes file can never make kg send a request to the URL of a ``SERVICE`` clause).
- :func:`joinable`: a query may be run once over all nodes and its rows kept for the focus nodes
  (instead of once per focus node with ``$this`` pre-bound) only when that gives the same rows: a single
  group of triple patterns, ``FILTER`` and ``BIND`` in which ``$this`` occurs in a triple pattern, and
  no construct whose answer depends on where ``$this`` is bound (nested groups, aggregates, zero-length
  paths, ``BIND`` or ``bound()`` over ``$this``). Conservative: False when in doubt.
- :func:`prebind`: the query with pre-bound variables replaced by their values, as SHACL's Appendix
  "Pre-binding of variables" defines it (each occurrence of the variable takes the value, and the
  solutions carry it), or None where kg cannot write that as SPARQL text exactly.
- :func:`variables`: the variables a query mentions.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable

from kg.core.sparql_text import VARIABLE, Token, tokens

__all__ = [
    "ask_as_select",
    "joinable",
    "prebind",
    "prebinder",
    "rejected",
    "selects_path_values",
    "variables",
]

_AGGREGATES = {"COUNT", "SUM", "MIN", "MAX", "AVG", "SAMPLE", "GROUP_CONCAT", "GRAPH"}
_MODIFIERS = {"GROUP", "ORDER", "HAVING", "LIMIT", "OFFSET"}


def _word(tok: Token, *words: str) -> bool:
    return tok.kind == "word" and tok.text.upper() in words


def _variable(tok: Token) -> str | None:
    """The name of the variable a word token starts with (``?x`` or ``$x``; ``?x.`` ends a triple)."""
    if tok.kind != "word":
        return None
    found = VARIABLE.match(tok.text)
    return found.group(1) if found else None


def _matching(toks: list[Token], i: int) -> int:
    """The index of the bracket that closes the one at ``i`` (or len(toks) if none does)."""
    depth = toks[i].depth
    for j in range(i + 1, len(toks)):
        if toks[j].kind == "punct" and toks[j].depth == depth and toks[j].text in "})]":
            return j
    return len(toks)


def _is(tok: Token, text: str) -> bool:
    return tok.kind == "punct" and tok.text == text


def _projection(toks: list[Token], select: int) -> list[Token]:
    """The tokens of a SELECT clause (from the token after SELECT to WHERE or the group)."""
    out = []
    for tok in toks[select + 1 :]:
        if _word(tok, "WHERE", "FROM") or (_is(tok, "{") and tok.depth == toks[select].depth):
            break
        out.append(tok)
    return out


def rejected(query: str, prebound: set[str]) -> str | None:
    """Why SHACL 5.2.1 rejects ``query``, or None if it does not."""
    toks = tokens(query)
    for tok in toks:
        if _word(tok, "SERVICE", "MINUS", "VALUES"):
            return f"{tok.text.upper()} is not allowed in SHACL-SPARQL queries (SHACL 5.2.1)"
    for tok, after in itertools.pairwise(toks):
        if _word(tok, "AS") and _variable(after) in prebound:
            return f"AS ?{_variable(after)} rebinds a pre-bound variable (SHACL 5.2.1)"
    for i, (tok, after) in enumerate(itertools.pairwise(toks)):
        sub = _is(tok, "{") and _word(after, "SELECT") and "this" in prebound
        if sub and not any(_variable(t) == "this" for t in _projection(toks, i + 1)):
            return "a sub-query does not return $this (SHACL 5.2.1)"
    return None


def _calls(toks: list[Token], names: set[str]) -> list[tuple[int, int]]:
    """The spans (start, end inclusive) of ``NAME ( ... )`` and ``FILTER f( ... )`` in ``toks``."""
    spans, i = [], 0
    while i < len(toks) - 1:
        j = i + 1
        if _word(toks[i], *names):
            if _word(toks[i], "FILTER") and toks[j].kind == "word" and j + 1 < len(toks):
                j += 1  # FILTER regex(...), FILTER ex:f(...)
            if _is(toks[j], "("):
                end = _matching(toks, j)
                spans.append((i, end))
                i = end + 1
                continue
        i += 1
    return spans


def joinable(query: str) -> bool:
    """Whether running ``query`` once and keeping the rows of each focus node equals pre-binding."""
    toks = tokens(query)
    start = next((i for i, t in enumerate(toks) if _is(t, "{")), None)
    if start is None:
        return False
    head = toks[:start]
    if not any(_word(t, "SELECT") for t in head) or not any(_variable(t) == "this" for t in head):
        return False
    end = _matching(toks, start)
    body, tail = toks[start + 1 : end], toks[end + 1 :]
    if tail or any(t.kind == "punct" and t.text in "{}" for t in body):
        return False  # nested groups, OPTIONAL, UNION, EXISTS, sub-queries; GROUP BY, LIMIT, ...
    for i, tok in enumerate(toks):
        if _word(tok, *_AGGREGATES) or (_word(tok, "BOUND") and i + 1 < len(toks) and _is(toks[i + 1], "(")):
            return False
    for tok in body:
        path = tok.kind == "word" and "?" in tok.text and not VARIABLE.fullmatch(tok.text.rstrip("."))
        if path or _is(tok, "*"):
            return False  # zero-length paths (p*, p?) also match nodes that are not in the graph
    for a, b in _calls(body, {"BIND"}):
        if any(_variable(t) == "this" for t in body[a : b + 1]):
            return False
    inside = {k for a, b in _calls(body, {"FILTER", "BIND"}) for k in range(a, b + 1)}
    return any(_variable(t) == "this" for k, t in enumerate(body) if k not in inside)


def prebind(query: str, values: dict[str, str]) -> str | None:
    """``query`` with each variable of ``values`` pre-bound to the SPARQL term given (SHACL, Appendix
    "Pre-binding of variables": every occurrence takes the value). A variable a SELECT clause
    projects becomes ``(term AS ?_kg_{name}N)`` (the caller knows the value), and ``bound(?v)``
    becomes ``(true)``.

    None where the substitution would not be SPARQL, or not exact: the variable in a solution modifier
    (GROUP BY, ORDER BY, ...) or inside a longer word token.
    """
    binder = prebinder(query, values)
    return None if binder is None else binder(values)


def prebinder(query: str, names: Iterable[str]) -> Callable[[dict[str, str]], str] | None:
    """:func:`prebind` for the variables ``names``, read once: a function of their values (for a
    query run once per focus node), or None where :func:`prebind` gives None."""
    names = set(names)
    toks = tokens(query)
    projected = {
        t.start
        for i, s in enumerate(toks)
        if _word(s, "SELECT")
        for t in _projection(toks, i)
        if t.depth == s.depth
    }
    parts: list[str | tuple[str, str, str]] = []  # text, or (variable, "(" + AS name or "", rest)
    at, counter = 0, itertools.count()
    modifiers: set[int] = set()  # depths at which a solution modifier has begun
    i = 0
    while i < len(toks):
        tok = toks[i]
        if _word(tok, *_MODIFIERS):
            modifiers.add(tok.depth)
        elif _is(tok, "}"):
            modifiers = {d for d in modifiers if d <= tok.depth}
        name = _variable(tok)
        inner = tok.kind == "word" and name not in names
        if inner and any(m.group(1) in names for m in VARIABLE.finditer(tok.text)):
            return None  # ex:p?this: a variable inside a word token
        if name not in names:
            i += 1
            continue
        if modifiers:
            return None
        rest = tok.text[1 + len(name) :]
        bound = i >= 2 and _word(toks[i - 2], "BOUND") and _is(toks[i - 1], "(")
        if bound and not rest and i + 1 < len(toks) and _is(toks[i + 1], ")"):
            parts.append(query[at : toks[i - 2].start] + "(true)")
            at = toks[i + 1].start + 1
            i += 2
            continue
        alias = f"?_kg_{name}{next(counter)}" if tok.start in projected else ""
        parts += [query[at : tok.start], (name, alias, " " + rest if rest else "")]
        at = tok.start + len(tok.text)
        i += 1
    parts.append(query[at:])

    def bind(values: dict[str, str]) -> str:
        out = []
        for part in parts:
            if isinstance(part, str):
                out.append(part)
            else:
                name, alias, rest = part
                out.append((f"({values[name]} AS {alias})" if alias else values[name]) + rest)
        return "".join(out)

    return bind


def ask_as_select(query: str) -> str | None:
    """An ASK query (SPARQL 1.1, 16.3) as a SELECT that has one row, of ``?_kg_ask``, where the ASK
    is true, so that it runs wherever SELECT queries run; None if something follows its pattern."""
    toks = tokens(query)
    at = next((i for i, t in enumerate(toks) if t.depth == 0 and _word(t, "ASK")), None)
    start = None if at is None else next((i for i in range(at, len(toks)) if _is(toks[i], "{")), None)
    if start is None or _matching(toks, start) != len(toks) - 1:
        return None
    ask = toks[at]
    return f"{query[: ask.start]}SELECT (1 AS ?_kg_ask){query[ask.start + 3 :]}\nLIMIT 1"


def selects_path_values(query: str) -> bool:
    """Whether ``query`` selects ``?value`` and has the triple pattern ``$this $PATH ?value``: its
    rows then each have a value node of the focus node as ``?value``."""
    toks = tokens(query)
    start = next((i for i, t in enumerate(toks) if _is(t, "{")), len(toks))
    if not any(_variable(t) == "value" for t in toks[:start]):
        return False
    names = [_variable(t) for t in toks]
    return any(
        names[i : i + 3] == ["this", "PATH", "value"] and not toks[i + 1].text[5:]
        for i in range(len(toks) - 2)
    )


def variables(query: str) -> set[str]:
    """The names of the variables ``query`` mentions (``?x`` and ``$x`` are the same variable)."""
    return {m.group(1) for t in tokens(query) if t.kind == "word" for m in VARIABLE.finditer(t.text)}
