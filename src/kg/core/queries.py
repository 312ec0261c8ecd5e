"""Stored SPARQL queries: one ``.rq`` file each, with a grlc-compatible ``#+`` YAML header.

Parameters follow the grlc/BASIL convention: ``?_name`` is required, ``?__name`` optional, and an
optional type suffix (``?_name_iri``, ``?_name_integer``, ...) sets the RDF term it is bound as
(default: an ``xsd:string`` literal). Values are validated, turned into typed RDF terms and bound by
the engine (SEP-0007 substitution); they are never pasted into the query text.

Header keys: ``summary``, ``description``, ``tags``, ``defaults`` (example values) and ``enumerate``
(grlc); kg adds ``params`` (one line of help per parameter), ``values`` (a SPARQL pattern binding
``?value`` in every solution, listing the allowed values of a parameter, and optionally ``?label``:
other names a user may give a value by, matched in any case) and ``inference`` (false: asserted triples only).
``pagination: N`` (grlc) pages the answer by N rows: ``kg query --page`` and the web API's ``?page=``.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

import pyoxigraph as ox
import yaml

from kg.core import bundle
from kg.core.errors import ParameterError, QueryError
from kg.core.messages import LANGS
from kg.core.namespaces import PREFIXES, XSD
from kg.core.sparql_text import check, explain, prologue, query_form, tokens

TYPES = ("iri", "string", "integer", "decimal", "boolean", "date", "gYear")
_PARAM = re.compile(r"[?$](__?)([A-Za-z][A-Za-z0-9]*)(?:_(" + "|".join(TYPES) + r"))?\b")


@dataclass(frozen=True)
class Parameter:
    """A named, typed parameter of a stored query."""

    name: str
    variable: str
    type: str = "string"
    required: bool = True
    description: str = ""
    example: str | None = None
    values: str | None = None

    def to_term(self, raw: str) -> ox.NamedNode | ox.Literal:
        """Validate ``raw`` against the parameter's type and return it as an RDF term."""
        bad = ParameterError(f"parameter {self.name}: {raw!r} is not a valid {self.type}")
        if self.type == "iri":
            iri = expand(raw)
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+", iri):
                raise bad
            return ox.NamedNode(iri)
        checks = {
            "integer": r"[+-]?\d+",
            "decimal": r"[+-]?(\d+(\.\d*)?|\.\d+)",
            "boolean": r"true|false|1|0",
            "gYear": r"-?\d{4,}",
        }
        if self.type in checks and not re.fullmatch(checks[self.type], raw):
            raise bad
        if self.type == "date":
            try:
                date.fromisoformat(raw)
            except ValueError:
                raise bad from None
        if self.type == "string":
            return ox.Literal(raw)
        return ox.Literal(raw, datatype=ox.NamedNode(XSD + self.type))


@dataclass(frozen=True)
class StoredQuery:
    """A stored query: its name, SPARQL text, header metadata and parameters."""

    name: str
    text: str
    summary: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    parameters: tuple[Parameter, ...] = ()
    inference: bool = True
    path: Path | None = None
    form: str = field(default="SELECT")
    pagination: int | None = None  # rows per page (grlc's ``#+ pagination: N``), None: not paged

    def parameter(self, name: str) -> Parameter:
        """The parameter called ``name``; ParameterError names the known ones otherwise."""
        for param in self.parameters:
            if param.name == name:
                return param
        known = ", ".join(p.name for p in self.parameters) or "none"
        raise ParameterError(f"query {self.name} has no parameter {name!r} (parameters: {known})")

    def values_query(self, param: Parameter, labels: bool = False) -> str:
        """A SELECT listing the allowed values of ``param``, with this file's prefixes; with ``labels``,
        also the ``?label`` names the pattern gives each value (codes and labels are both accepted)."""
        prefixes = prologue(self.text)[0]
        label = " ?label" if labels and "?label" in (param.values or "") else ""
        return f"{prefixes}\nSELECT DISTINCT ?value{label} WHERE {{ {param.values} }} ORDER BY ?value"

    def allowed_query(self, param: Parameter, raw: str) -> str:
        """An ASK: is ``raw`` (as a plain string) one of the allowed values of ``param``?

        The VALUES block comes first in the pattern's own group, so engines bind ``?value`` before
        they match (Oxigraph at 10,000 initiatives: 0.2 ms for an unknown value, against 11 ms when the
        pattern is a group of its own, growing with the data). A pattern that assigns ``?value`` (BIND
        ... AS ?value) may not see it bound before (SPARQL 1.1, section 18.2.1), so it stays a group
        of its own, joined with the VALUES block."""
        prefixes = prologue(self.text)[0]
        value = ox.Literal(raw)
        toks = tokens(param.values or "")
        assigns = any(
            a.text.upper() == "AS" and b.text in ("?value", "$value") for a, b in itertools.pairwise(toks)
        )
        if assigns:
            return f"{prefixes}\nASK {{ VALUES ?value {{ {value} }} {{ {param.values} }} }}"
        return f"{prefixes}\nASK {{ VALUES ?value {{ {value} }} {param.values} }}"


def expand(value: str) -> str:
    """Expand a ``prefix:local`` name with kg's prefixes; other strings are returned as they are."""
    prefix, sep, local = value.partition(":")
    if sep and prefix in PREFIXES and not local.startswith("//"):
        return PREFIXES[prefix] + local
    return value


def parse(text: str, name: str, path: Path | None = None) -> StoredQuery:
    """Parse a stored query's text (header and body) into a StoredQuery."""
    header_lines = []
    for line in text.splitlines():
        if line.startswith("#+"):
            header_lines.append(line[3:] if line.startswith("#+ ") else line[2:])
        elif line.strip() and not line.startswith("#"):
            break
    where = path or name
    try:
        header = yaml.safe_load("\n".join(header_lines)) or {}
    except yaml.YAMLError as err:
        raise QueryError(f"{where}: invalid #+ header: {str(err).splitlines()[0]}") from None
    if not isinstance(header, dict):
        raise QueryError(f"{where}: the #+ header must be a YAML mapping")
    form = query_form(text)
    if not form:
        error = syntax_error(text)
        if error:
            raise QueryError(f"{where}: SPARQL syntax error: {error}")
        raise QueryError(f"{where}: not a SELECT, CONSTRUCT, ASK or DESCRIBE query")
    examples = _merge(header.get("defaults"))
    helps = header.get("params") or {}
    values = header.get("values") or {}
    params: dict[str, Parameter] = {}
    for under, pname, ptype in _PARAM.findall(text):
        if pname in params:
            continue
        params[pname] = Parameter(
            name=pname,
            variable=f"{under}{pname}" + (f"_{ptype}" if ptype else ""),
            type=ptype or "string",
            required=under == "_",
            description=str(helps.get(pname, "")),
            example=None if examples.get(pname) is None else str(examples[pname]),
            values=values.get(pname),
        )
    tags = header.get("tags") or ()
    pagination = header.get("pagination")
    if pagination is not None and (type(pagination) is not int or pagination < 1):
        raise QueryError(f"{where}: #+ pagination must be a positive whole number of rows")
    return StoredQuery(
        name=name,
        text=text,
        summary=str(header.get("summary", "")),
        description=str(header.get("description", "")),
        tags=tuple(map(str, tags)),
        parameters=tuple(params.values()),
        inference=bool(header.get("inference", True)),
        path=path,
        form=form,
        pagination=pagination,
    )


def sparql(text: str, where: str = "<query>") -> StoredQuery:
    """Plain SPARQL from a user or client, as an unnamed query: no header, no parameters, no file."""
    form = query_form(text)
    if not form:
        error = syntax_error(text)
        raise QueryError(f"{where}: " + (f"SPARQL syntax error: {error}" if error else "not a query"))
    return StoredQuery(name=where, text=text, form=form)


def _merge(items: object) -> dict:
    """grlc writes ``defaults`` as a list of one-key mappings; accept a plain mapping too."""
    if isinstance(items, dict):
        return items
    merged: dict = {}
    for item in items or ():
        if isinstance(item, dict):
            merged.update(item)
    return merged


def load_file(path: Path) -> StoredQuery:
    """Read and parse one ``.rq`` file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise QueryError(f"{path}: cannot read: {err}") from None
    return parse(text, Path(path).stem, Path(path))


def stored() -> dict[str, StoredQuery]:
    """Every stored query of the project (or the bundle), by name."""
    return _stored(bundle.queries_dir())


@cache
def _stored(folder: Path) -> dict[str, StoredQuery]:
    return {p.stem: load_file(p) for p in sorted(folder.glob("*.rq"))}


def get(name_or_path: str) -> StoredQuery:
    """A stored query by name, or a query file by path (anything ending in ``.rq``)."""
    if name_or_path.endswith(".rq"):
        return load_file(Path(name_or_path))
    try:
        return stored()[name_or_path]
    except KeyError:
        known = ", ".join(stored())
        close = difflib.get_close_matches(name_or_path, stored(), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise QueryError(f"unknown query {name_or_path!r}{hint}; known queries: {known}") from None


def _body_start(text: str) -> int:
    """Index just after the ``{`` that opens the query's outermost WHERE group.

    Scans the text as SPARQL tokens, skipping comments, IRIs and string literals, so that a brace
    or a ``WHERE`` inside them is not mistaken for syntax.
    """
    i, n = 0, len(text)
    seen_where = False
    form = None
    while i < n:
        c = text[i]
        if c == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
            continue
        if c == "<":
            end = text.find(">", i)
            if end > 0 and not any(ch.isspace() for ch in text[i + 1 : end]):
                i = end + 1
                continue
        if c in "\"'":
            quote = text[i : i + 3] if text[i : i + 3] in ('"""', "'''") else c
            i += len(quote)
            while i < n and not text.startswith(quote, i):
                i += 2 if text[i] == "\\" else 1
            i += len(quote)
            continue
        if c.isalpha():
            end = i
            while end < n and (text[end].isalnum() or text[end] == "_"):
                end += 1
            word = text[i:end].upper()
            if form is None and word in ("SELECT", "CONSTRUCT", "ASK", "DESCRIBE"):
                form = word
            seen_where = seen_where or word == "WHERE"
            i = end
            continue
        if c == "{" and (seen_where or form in ("SELECT", "ASK")):
            return i + 1
        i += 1
    raise QueryError("cannot find the WHERE clause of the query")


def bind(text: str, bindings: dict[str, ox.NamedNode | ox.Literal]) -> str:
    """The query with each bound parameter variable replaced by its validated RDF term.

    Every engine then sees a constant where the parameter is used, as grlc binds parameters; a
    VALUES block is not portable: Virtuoso 7.2 fails with SP031 on a multi-variable block, and does not
    see a one-variable block's value in a FILTER inside OPTIONAL (it took ``?__lang`` as unbound
    there). ``BOUND(?param)`` becomes ``true``; a parameter not given stays an unbound variable (no
    ``UNDEF``). Parameters may appear only inside the WHERE clause, and not as ``AS ?param``.
    Terms are written by Oxigraph in N-Triples syntax with escaping, and replace one variable token
    of the query as lexed by :func:`kg.core.sparql_text.tokens`: a value can only ever be one RDF
    term, never change the structure of the query.
    """
    if not bindings:
        return text
    toks = tokens(text)
    body = _body_start(text)
    out, pos = [], 0
    for i, tok in enumerate(toks):
        name = tok.text[1:] if tok.kind == "word" and tok.text[:1] in "?$" else None
        if name not in bindings:
            continue
        before = [t.text.upper() for t in toks[max(i - 2, 0) : i]]
        if tok.start < body or tok.depth < 1 or before[-1:] == ["AS"]:
            raise QueryError(
                f"parameter {tok.text} may only be used inside the WHERE clause, not as AS {tok.text}"
            )
        if before == ["BOUND", "("] and i + 1 < len(toks) and toks[i + 1].text == ")":
            out += [text[pos : toks[i - 2].start], "true"]
            pos = toks[i + 1].start + 1
        else:
            out += [text[pos : tok.start], str(bindings[name])]
            pos = tok.start + len(tok.text)
    out.append(text[pos:])
    return "".join(out)


def terms(
    stored: StoredQuery,
    values: dict[str, str],
    lang: str,
    allowed: Callable[[Parameter, str], bool],
    listing: Callable[[str], dict[str, set[str]]],
) -> dict[str, ox.NamedNode | ox.Literal]:
    """Validate raw parameter values; return variable name -> RDF term, for :func:`bind`.

    ``lang`` fills a ``lang`` parameter not given; a ``lang`` parameter is one of kg's languages
    (:data:`kg.core.messages.LANGS`), as ``--lang`` and the web API's ``lang`` enum say. A parameter
    with a ``values`` pattern must name one of the allowed values: ``allowed(param, raw)`` asks the
    graph (local or remote) about one value; on a miss ``listing(name)`` gives every allowed value with
    the names it may be given by (:func:`choices`), and a name (a label in any language, any case) is
    turned into its value."""
    values = dict(values)
    names = {p.name for p in stored.parameters}
    if "lang" in names and "lang" not in values:
        values["lang"] = lang
    subs: dict[str, ox.NamedNode | ox.Literal] = {}
    for name, raw in values.items():
        param = stored.parameter(name)  # raises with the list of known parameters
        if name == "lang" and raw not in LANGS:
            raise ParameterError(
                f"parameter lang: {raw!r} is not a language of kg; use one of: {', '.join(LANGS)}"
            )
        param.to_term(raw)  # the type is checked first, on the value as given
        if param.values and not allowed(param, raw):
            raw = canonical(param, raw, listing(name))
        subs[param.variable] = param.to_term(raw)
    for param in stored.parameters:
        if param.required and param.name not in values:
            example = (param.name, param.example) if param.example else None
            raise ParameterError(f"query {stored.name} needs parameter {param.name}", example)
    return subs


def choices(rows: list) -> dict[str, set[str]]:
    """Allowed value -> the names it may be given by (itself and its labels), from the rows of
    :meth:`StoredQuery.values_query` with ``labels=True`` (``?value`` and, if bound, ``?label``)."""
    found: dict[str, set[str]] = {}
    for row in rows:
        if row[0] is None:
            continue
        names = found.setdefault(row[0].value, {row[0].value})
        if len(row) > 1 and row[1] is not None:
            names.add(row[1].value)
    return found


def canonical(param: Parameter, raw: str, known: dict[str, set[str]]) -> str:
    """The allowed value that ``raw`` names: a value or one of its labels, in any language and any case
    (Unicode case folding, spaces normalised). ParameterError lists the values and the nearest name."""
    wanted = " ".join(raw.split()).casefold()
    hits = sorted(v for v, names in known.items() if wanted in {n.casefold() for n in names})
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        raise ParameterError(f"parameter {param.name}: {raw!r} names several values: {', '.join(hits)}")
    # the same suggestion on every engine and in every process (sets and a store's rows have no order):
    # a value's own code before its labels, then in sorted order
    names: dict[str, str] = {}
    for value in sorted(known):
        names.setdefault(value.casefold(), value)
    for value in sorted(known):
        for name in sorted(known[value]):
            names.setdefault(name.casefold(), name)
    close = difflib.get_close_matches(wanted, sorted(names), n=1)
    hint = f" (did you mean {names[close[0]]}?)" if close else ""
    raise ParameterError(
        f"parameter {param.name}: unknown value {raw!r}{hint}; known: {', '.join(sorted(known))} "
        "(or their labels)"
    )


def syntax_error(text: str) -> str | None:
    """The SPARQL syntax error in ``text`` as written, or None if it parses: line and column, the line
    with a caret under the place, and unknown prefixes named (:func:`kg.core.sparql_text.explain`)."""
    try:  # Oxigraph sends a SERVICE request as soon as it parses: never here (nor a crash)
        check(text, prefixes=PREFIXES)
    except QueryError:
        return None
    try:
        ox.Store().query(text, prefixes=PREFIXES)
    except SyntaxError as err:
        return explain(text, str(err), PREFIXES)
    except OSError:  # parsed, but failed to evaluate on an empty store
        return None
    return None
