"""SHACL checks written in SPARQL that other stores answer as Oxigraph does: the portable dialect.

:mod:`kg.engines.oxigraph.shacl` compiles shapes to SPARQL tuned for Oxigraph. Run on another store
(``kg validate --endpoint``), some of that text is answered differently. Found on Virtuoso 7.2.5 by
running every compiled query of the bundled shapes and the W3C SHACL test suite there and locally:

- ``sameTerm(?v, "MTK")`` is false for the stored simple literal ``"MTK"`` (Virtuoso keeps simple and
  ``xsd:string`` literals apart), and ``!(sameTerm(?v, ex:a) || sameTerm(?v, ex:b))`` is true for
  ``ex:a``: constants are compared without sameTerm here;
- a cast of an ill-typed literal does not fail (``xsd:decimal("abc")`` is a literal), and a cast that
  does fail can abort the whole query: no casts. A literal's datatype and language are compared,
  and its lexical form is judged by Oxigraph itself, here: :func:`ill_typed` fetches the distinct
  lexical forms of each datatype from the store and returns the ill-typed ones (SHACL 4.1.2: a
  literal with an ill-typed lexical form does not have the datatype), which the query then excludes;
- comparing terms of different types aborts the query instead of being false: a bound
  (``sh:minInclusive`` ...) is checked on numbers only, after ``isNumeric``;
- regular expressions are PCRE there and XPath here: only a subset both read alike is sent.

The structure of the queries (no UNION of targets, no VALUES inside a UNION, no zero-length paths,
no ``NOT EXISTS`` of a ``FILTER NOT EXISTS``) is the compiler's part. A literal that a store does not
keep as written (Virtuoso gives ``"P1Y"^^xsd:duration`` back as ``"12"``) cannot be judged there:
:func:`ill_typed` says so, naming the datatype, rather than report valid literals as ill-typed.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pyoxigraph as ox

from kg.core.errors import KgError
from kg.core.namespaces import RDF, XSD

# SPARQL text -> (variable names, rows)
Select = Callable[[str], tuple[list[str], list[tuple]]]

_NUMERIC = {f"{XSD}{t}" for t in ("integer", "decimal", "double", "float")}
# A valid literal of each datatype whose lexical form a store might not keep (kg.engines.oxigraph.shacl
# checks these with a cast): what a store gives back must still be a valid literal of the type.
SAMPLES = {
    f"{XSD}{t}": v
    for t, v in {
        "integer": "1", "decimal": "1.5", "double": "1.5E0", "float": "1.5E0", "boolean": "true",
        "dateTime": "2020-01-01T00:00:00Z", "date": "2020-01-01", "time": "12:00:00", "duration": "P1Y",
        "gYear": "2020", "gYearMonth": "2020-01", "gMonthDay": "--01-01", "gDay": "---01", "gMonth": "--01",
        "dayTimeDuration": "P1D", "yearMonthDuration": "P1Y",
    }.items()
}  # fmt: skip
_MARKER = re.compile(r"%%ILLTYPED <([^>]+)> (\?\w+)%%")
_REGEX_TOKEN = re.compile(
    r"\[[A-Za-z0-9 _.:/@,;=!%&~-]+\]"  # a class of letters, digits and punctuation (ranges with -)
    r"|\\[.\-+*?()\[\]{}|^$/:\\]"  # an escaped metacharacter
    r"|\{[0-9]+(,[0-9]*)?\}"  # a counted quantifier
    r"|[A-Za-z0-9 _:/#@,;=<>'\"!%&~-]"  # a character that stands for itself
    r"|[\^$()|*+?]"
)


class Unportable(Exception):
    """The check cannot be written so that every store answers it as Oxigraph does."""


def same_term(var: str, term: ox.NamedNode | ox.Literal) -> str:
    """``sameTerm(var, term)`` without sameTerm, which Virtuoso 7.2 gets wrong for a simple literal
    and inside ``||``: an IRI by ``=`` (RDF term equality, the same for IRIs), a literal by its
    lexical form, datatype and language tag."""
    if isinstance(term, ox.NamedNode):
        return f"{var} = {term}"
    lexical = ox.Literal(term.value)
    if term.language:
        tag = ox.Literal(term.language)
        return f"(isLiteral({var}) && lang({var}) = {tag} && STR({var}) = {lexical})"
    kind = f"<{term.datatype.value}>"
    return f'(isLiteral({var}) && lang({var}) = "" && datatype({var}) = {kind} && STR({var}) = {lexical})'


def datatype_ok(var: str, datatype: str, castable: bool) -> str:
    """``var`` is a literal of ``datatype`` with a valid lexical form (SHACL 4.1.2). For a datatype
    Oxigraph casts (``castable``), the ill-typed forms are filled in by :func:`ill_typed`."""
    if datatype == f"{RDF}langString":
        return f'(isLiteral({var}) && lang({var}) != "")'
    ok = f'isLiteral({var}) && lang({var}) = "" && datatype({var}) = <{datatype}>'
    if castable:
        ok += f" && %%ILLTYPED <{datatype}> {var}%%"
    return f"({ok})"


def bound_ok(var: str, op: str, bound: ox.Literal) -> str:
    """``var op bound`` is true (SHACL 4.3), for a numeric bound: numbers only, as Oxigraph compares
    a number with nothing else (its error is false here too)."""
    if bound.language or bound.datatype.value not in _NUMERIC or bound.value.strip() != bound.value:
        raise Unportable(f"the bound {bound} on a store (only numeric bounds are checked there)")
    return f"(isNumeric({var}) && {var} {op} {bound})"


def pattern_ok(var: str, pattern: str, flags: str | None) -> str:
    """``REGEX(STR(var), pattern)`` for a regular expression that PCRE or Java (Virtuoso, Fuseki) and
    XPath (SPARQL 1.1, 17.4.3.14) read alike: ASCII letters, digits and punctuation, classes of them
    without escapes, groups, alternatives, quantifiers and escaped metacharacters, ``^`` only first
    and ``$`` only last, and no flags. No such pattern matches a line break; PCRE's ``$`` also
    matches before a final one, so with ``$`` a value with a line break fails, as in XPath, where
    nothing could match it."""
    if flags:
        raise Unportable(f"sh:flags {flags!r} on a store (stores read regular expression flags differently)")
    body = pattern.removeprefix("^")
    end = body.endswith("$") and not body.endswith("\\$")
    body = body.removesuffix("$") if end else body
    depth, alternatives = 0, False
    rest = body
    while rest:
        match = _REGEX_TOKEN.match(rest)
        if match is None or match.group(0) in ("^", "$"):
            raise Unportable(
                f"sh:pattern {pattern!r} on a store (stores read this regular expression differently)"
            )
        token = match.group(0)
        depth += {"(": 1, ")": -1}.get(token, 0)
        alternatives |= token == "|" and depth == 0
        rest = rest[match.end() :]
    if end and alternatives:
        raise Unportable(
            f"sh:pattern {pattern!r} on a store ($ after an alternative: stores read it differently)"
        )
    guard = f'!CONTAINS(STR({var}), "\\n") && !CONTAINS(STR({var}), "\\r") && ' if end else ""
    return f"(!isBlank({var}) && {guard}REGEX(STR({var}), {ox.Literal(pattern)}))"


def markers(query: str) -> set[str]:
    """The datatypes whose ill-typed lexical forms ``query`` needs."""
    return {m.group(1) for m in _MARKER.finditer(query)}


def fill(query: str, bad: dict[str, list[str]]) -> str:
    """``query`` with each datatype's ill-typed lexical forms (``bad``) excluded."""

    def one(match: re.Match) -> str:
        forms = bad[match.group(1)]
        if not forms:
            return "true"
        quoted = ", ".join(str(ox.Literal(f)) for f in forms)
        return f"!(STR({match.group(2)}) IN ({quoted}))"

    return _MARKER.sub(one, query)


def ill_typed(datatypes: set[str], select: Select) -> dict[str, list[str]]:
    """For each datatype, the lexical forms of the store's literals of that type that Oxigraph finds
    ill-typed (usually none). Where the store gives a valid sample back in a form that is not valid
    (Virtuoso: ``"P1Y"^^xsd:duration`` as ``"12"``) and holds literals of the type, they cannot be
    judged there: :class:`Unportable` naming the datatype and the count."""
    found = {}
    for datatype in sorted(datatypes):
        # no lang() test beside datatype() here: Virtuoso 7.2 then finds no literal at all
        test = f"isLiteral(?o) && datatype(?o) = <{datatype}>"
        _, rows = select(f"SELECT DISTINCT (STR(?o) AS ?lex) WHERE {{ ?s ?p ?o FILTER ({test}) }}")
        forms = sorted({row[0].value for row in rows if row[0] is not None})
        if forms:
            sample = SAMPLES[datatype]
            try:
                _, back = select(f'SELECT (STR("{sample}"^^<{datatype}>) AS ?lex) WHERE {{}}')
                given = back[0][0].value if back and back[0][0] is not None else None
            except KgError:  # the store cannot give it back at all
                given = None
            if given is None or _invalid([given], datatype):
                short = datatype.removeprefix(XSD)
                raise Unportable(
                    f'the store gives "{sample}"^^xsd:{short} back as {given!r}, not as a valid '
                    f"xsd:{short}: its {len(forms)} distinct xsd:{short} literal form(s) cannot be checked "
                    "against sh:datatype there"
                )
        found[datatype] = _invalid(forms, datatype)
    return found


def _invalid(forms: list[str], datatype: str) -> list[str]:
    """The forms that are ill-typed for ``datatype``, as Oxigraph's cast judges them (the local
    compiled check's test, kg.engines.oxigraph.shacl)."""
    if not forms:
        return []
    values = " ".join(f"({ox.Literal(f)})" for f in forms)
    query = (
        f"SELECT ?lex WHERE {{ VALUES (?lex) {{ {values} }} "
        f"FILTER (!COALESCE(isLiteral(<{datatype}>(STRDT(?lex, <{datatype}>))), false)) }}"
    )
    return sorted(sol[0].value for sol in ox.Store().query(query))
