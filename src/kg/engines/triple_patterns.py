"""The triple patterns of a one-group SPARQL SELECT query, read with kg's one SPARQL lexer.

For the queries :func:`kg.engines.shacl_sparql_rules.joinable` accepts (one group of triple patterns,
``FILTER`` and ``BIND``), :func:`read` gives the triple patterns with their property paths (SPARQL 1.1
Query, sections 5.2 and 9: the grammar rules TriplesSameSubjectPath, PropertyListPathNotEmpty and Path,
section 19.8), and :func:`alternatives` the same patterns with each path written out as plain triple
patterns, one list per choice of the alternative paths (section 9.3: a sequence is a chain through new
variables, an inverse swaps subject and object). :mod:`kg.engines.revalidation` uses them to find the
focus nodes a changed triple can give a result. Anything else (collections, negated property sets,
``+`` paths, a FROM clause, a word the reader does not know) gives None: the caller then treats the
query as one that may read any triple.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

import pyoxigraph as ox

from kg.core.namespaces import RDF_TYPE
from kg.core.sparql_text import Token, declared_prefixes, tokens

# A word token of the lexer split into SPARQL terminals (section 19.8); the alternatives are tried in
# order, and a word they do not cover entirely is not read.
_PIECE = re.compile(
    r"""
    (?P<var>[?$]\w+)
  | (?P<bnode>_:[\w-]+(?:\.+[\w-]+)*)
  | (?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<number>[+-]?(?:\d+\.\d*[eE][+-]?\d+|\.\d+[eE][+-]?\d+|\d+[eE][+-]?\d+|\d*\.\d+|\d+))
  | (?P<pname>(?:[A-Za-z](?:[\w.-]*[\w-])?)?:(?:[\w:%-](?:[\w.:%-]*[\w:%-])?)?)
  | (?P<keyword>(?:a|true|false)(?![\w:]))
  | (?P<dot>\.)
    """,
    re.VERBOSE,
)
_MAX_ALTERNATIVES = 64


class _Unreadable(Exception):
    pass


@dataclass(frozen=True)
class Var:
    name: str

    def __str__(self) -> str:
        return f"?{self.name}"


@dataclass(frozen=True)
class Const:
    text: str  # as written (a prefixed name needs the query's prologue)
    term: ox.NamedNode | None = None  # the IRI, for IRIs and prefixed names

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Path:
    """A property path: ``op`` "iri" (``args`` = (Const,)), "inv", "seq" or "alt"."""

    op: str
    args: tuple


@dataclass
class Patterns:
    """What :func:`read` found: the prologue (PREFIX and BASE lines) and the triple patterns."""

    prologue: str
    triples: list[tuple[Var | Const, Path | Var, Var | Const]] = field(default_factory=list)

    def predicates(self) -> set[str] | None:
        """The IRIs of the predicates the patterns can match, or None if a variable stands there."""
        found: set[str] = set()

        def walk(path: Path | Var) -> bool:
            if isinstance(path, Var):
                return False
            if path.op == "iri":
                found.add(path.args[0].term.value)
                return True
            return all(walk(a) for a in path.args)

        return found if all(walk(p) for _, p, _ in self.triples) else None


def read(query: str) -> Patterns | None:
    """The triple patterns of the one group of ``query`` (FILTER and BIND left out), or None."""
    toks = tokens(query)
    start = next((i for i, t in enumerate(toks) if t.kind == "punct" and t.text == "{"), None)
    if start is None:
        return None
    select = next(
        (i for i, t in enumerate(toks[:start]) if t.kind == "word" and t.text.upper() == "SELECT"), None
    )
    if select is None or any(t.kind == "word" and t.text.upper() == "FROM" for t in toks[:start]):
        return None
    end = next((j for j in range(start + 1, len(toks)) if toks[j].depth == toks[start].depth), len(toks))
    if end != len(toks) - 1 or not (toks[end].kind == "punct" and toks[end].text == "}"):
        return None
    prefixes = declared_prefixes(toks[:select], {})
    try:
        items = _pieces(_without_calls(toks[start + 1 : end]))
        return Patterns(query[: toks[select].start], _Reader(items, prefixes).block())
    except _Unreadable:
        return None


def _without_calls(body: list[Token]) -> list[Token]:
    """``body`` without its ``FILTER ...( ... )`` and ``BIND ( ... )`` (neither matches triples)."""
    out, i = [], 0
    while i < len(body):
        tok = body[i]
        if tok.kind == "word" and tok.text.upper() in ("FILTER", "BIND"):
            j = i + 1
            if tok.text.upper() == "FILTER" and j < len(body) and body[j].kind == "word":
                j += 1  # FILTER regex(...), FILTER ex:f(...)
            if j >= len(body) or body[j].text != "(" or body[j].kind != "punct":
                raise _Unreadable
            depth = body[j].depth
            j += 1
            while j < len(body) and not (body[j].kind == "punct" and body[j].depth == depth):
                j += 1
            if j >= len(body) or body[j].text != ")":
                raise _Unreadable
            i = j + 1
            continue
        out.append(tok)
        i += 1
    return out


def _pieces(toks: list[Token]) -> list[tuple[str, str]]:
    """(kind, text) per SPARQL terminal: word tokens split into variables, names, numbers, dots."""
    out = []
    for tok in toks:
        if tok.kind != "word":
            out.append((tok.kind, tok.text))
            continue
        at = 0
        while at < len(tok.text):
            found = _PIECE.match(tok.text, at)
            if found is None or found.end() == at:
                raise _Unreadable
            out.append((found.lastgroup, found.group()))
            at = found.end()
    return out


class _Reader:
    """A recursive-descent reader of a triples block (section 19.8, rules [55]-[100])."""

    def __init__(self, items: list[tuple[str, str]], prefixes: dict[str, str]):
        self.items, self.at, self.prefixes = items, 0, prefixes
        self.out: list = []
        self.fresh = itertools.count()
        self.labels: dict[str, Var] = {}

    def peek(self) -> tuple[str, str] | None:
        return self.items[self.at] if self.at < len(self.items) else None

    def take(self) -> tuple[str, str]:
        item = self.peek()
        if item is None:
            raise _Unreadable
        self.at += 1
        return item

    def punct(self, text: str) -> bool:
        if self.peek() == ("punct", text):
            self.at += 1
            return True
        return False

    def block(self) -> list:
        while self.peek() is not None:
            if self.peek()[0] == "dot":
                self.at += 1
                continue
            if self.punct("["):
                subject = self.var()
                if not self.punct("]"):
                    self.properties(subject)
                    if not self.punct("]"):
                        raise _Unreadable
                if self.peek() is not None and self.peek()[0] != "dot":
                    self.properties(subject)
            else:
                self.properties(self.term())
            if self.peek() is not None and self.take()[0] != "dot":
                raise _Unreadable
        return self.out

    def var(self) -> Var:
        return Var(f"_kg_b{next(self.fresh)}")

    def properties(self, subject: Var | Const) -> None:
        while True:
            verb = self.path() if self.peek() is None or self.peek()[0] != "var" else Var(self.take()[1][1:])
            while True:
                self.out.append((subject, verb, self.object()))
                if not self.punct(","):
                    break
            if not self.punct(";"):
                return
            while self.punct(";"):
                pass
            if self.peek() is None or self.peek()[0] == "dot" or self.peek() == ("punct", "]"):
                return

    def object(self) -> Var | Const:
        if self.punct("["):
            node = self.var()
            if not self.punct("]"):
                self.properties(node)
                if not self.punct("]"):
                    raise _Unreadable
            return node
        return self.term()

    def term(self) -> Var | Const:
        kind, text = self.take()
        if kind == "var":
            return Var(text[1:])
        if kind == "bnode":
            return self.labels.setdefault(text, self.var())
        if kind in ("iri", "pname") or (kind == "keyword" and text == "a"):
            if kind == "keyword":
                raise _Unreadable  # "a" is a verb only
            return Const(text, self.iri(kind, text))
        if kind in ("number", "keyword"):
            return Const(text)
        if kind == "string":
            if self.peek() is not None and self.peek()[0] == "lang":
                return Const(text + self.take()[1])
            if self.punct("^"):
                if not self.punct("^"):
                    raise _Unreadable
                kind, datatype = self.take()
                if kind not in ("iri", "pname"):
                    raise _Unreadable
                self.iri(kind, datatype)
                return Const(f"{text}^^{datatype}")
            return Const(text)
        raise _Unreadable

    def iri(self, kind: str, text: str) -> ox.NamedNode:
        if kind == "iri":
            if ":" not in text:
                raise _Unreadable  # relative: would need the base IRI
            return ox.NamedNode(text[1:-1])
        prefix, _, local = text.partition(":")
        if prefix not in self.prefixes or "\\" in local or "%" in local:
            raise _Unreadable
        try:
            return ox.NamedNode(self.prefixes[prefix] + local)
        except ValueError:
            raise _Unreadable from None

    # Path: PathAlternative, PathSequence, PathEltOrInverse, PathElt, PathPrimary (rules [88]-[94])
    def path(self) -> Path:
        members = [self.sequence()]
        while self.punct("|"):
            members.append(self.sequence())
        return members[0] if len(members) == 1 else Path("alt", tuple(members))

    def sequence(self) -> Path:
        members = [self.step()]
        while self.punct("/"):
            members.append(self.step())
        return members[0] if len(members) == 1 else Path("seq", tuple(members))

    def step(self) -> Path:
        inverse = self.punct("^")
        if self.punct("("):
            inner = self.path()
            if not self.punct(")"):
                raise _Unreadable
        else:
            kind, text = self.take()
            if kind == "keyword" and text == "a":
                inner = Path("iri", (Const(f"<{RDF_TYPE}>", ox.NamedNode(RDF_TYPE)),))
            elif kind in ("iri", "pname"):
                inner = Path("iri", (Const(text, self.iri(kind, text)),))
            else:
                raise _Unreadable  # a negated property set, a variable inside a path, ...
        if self.peek() in (("punct", "+"), ("punct", "*")):
            raise _Unreadable
        return Path("inv", (inner,)) if inverse else inner


def alternatives(patterns: Patterns) -> list[list[tuple[Var | Const, Var | Const, Var | Const]]] | None:
    """The patterns without paths: one list of plain triple patterns per choice among alternative
    paths (new variables ``?_kg_mN`` for the nodes inside a sequence), or None if there would be more
    than a few lists."""
    fresh = itertools.count()

    def expand(s: Var | Const, path: Path | Var, o: Var | Const) -> list[list]:
        if isinstance(path, Var) or path.op == "iri":
            return [[(s, path if isinstance(path, Var) else path.args[0], o)]]
        if path.op == "inv":
            return expand(o, path.args[0], s)
        if path.op == "alt":
            return [found for member in path.args for found in expand(s, member, o)]
        nodes = [s, *(Var(f"_kg_m{next(fresh)}") for _ in path.args[1:]), o]
        steps = [expand(a, member, b) for a, member, b in zip(nodes[:-1], path.args, nodes[1:], strict=True)]
        return [list(itertools.chain.from_iterable(choice)) for choice in itertools.product(*steps)]

    out: list[list] = [[]]
    for s, path, o in patterns.triples:
        options = expand(s, path, o)
        out = [done + option for done in out for option in options]
        if len(out) > _MAX_ALTERNATIVES:
            return None
    return out
