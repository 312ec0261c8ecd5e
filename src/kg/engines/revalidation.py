"""Validation after a small change to the data: the compiled checks run again only where the change
can alter their results, and the report is the one a full validation gives.

:func:`validate_with_state` validates as :func:`kg.engines.validation.validate_compiled` does and also
returns a :class:`ValidationState`: the raw results of the compiled checks (which check, focus node,
path, value). :func:`revalidate` takes that state, the store that now holds the changed data and the
triples added and removed, and returns the same report and state as a full run, or runs in full when
it cannot be sure. Which results may stay, per top-level shape (SHACL, W3C 2017):

- **Value-local shapes**: a node or property shape with targets (2.1.3) whose own constraints and
  whose property shapes, each on a predicate path or the inverse of one (2.3.1), use only components
  that look at the focus node, its values and their types: class, datatype, nodeKind, min/maxCount,
  the range bounds, min/maxLength, pattern, languageIn, uniqueLang, in, hasValue, and not/and/or/xone/
  node over shapes made of the same (sections 4.1-4.4, 4.6, 4.8.2-4.8.3). Their results for a focus
  node depend only on its types, its values on those paths, and (for sh:class) the values' types, so
  they run again for the nodes a changed triple touches: its subject (a path or rdf:type, or a
  ``sh:targetSubjectsOf`` predicate), its object (an inverse path, a ``sh:targetObjectsOf`` predicate),
  and, when a node's rdf:type changes, the nodes that have it as a value of a path with sh:class.
  Nodes that are a focus node neither before nor after the change are left out.
- **SPARQL-based constraints** (section 5) whose query is one group of triple patterns with FILTER and
  BIND (:func:`kg.engines.shacl_sparql_rules.joinable`): such a query is monotone in the data, so a
  row can disappear only for a focus node that had a result before, and a new row needs a solution
  that uses an added triple (found by the query's own triple patterns, one bound to the added triples:
  :mod:`kg.engines.triple_patterns`) or a node that became a focus node.
- **Everything else** runs whole when a changed triple's predicate occurs in its queries (any change at
  all where it may read any predicate: sh:closed, custom components, other SPARQL).

The runs that remain see only their focus nodes (a VALUES block, :func:`compile_shapes` ``only``); the
others keep their results. The results are kept in one order (check, then focus, path, value as
N-Triples), so the report, its text, JSON and Turtle are those of a full run over the same state.

A full run instead when: the state is for other shapes (``shapes_key``) or other compiled checks, the
compiled path is not used (shapes the compiler declines, or the literal table is not empty), an
``rdfs:subClassOf`` triple changed (the class hierarchy of every sh:class and target), or a blank node
of a kept result is no longer in the store. The state names blank nodes by their labels: it belongs
to the store it was made on (or a snapshot of it that keeps the labels), changed by ``added`` and
``removed``. ``added`` and ``removed`` may hold more than the change (a triple added that was there
already): that costs time, never correctness.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from kg.core import bundle
from kg.core.errors import InputError
from kg.core.files import write_atomic
from kg.core.loading import Exact, base_iri
from kg.core.namespaces import RDF, RDF_TYPE, RDFS, SH
from kg.core.report import ValidationReport
from kg.core.sparql_text import declared_prefixes, prefixed_names, tokens
from kg.engines import triple_patterns
from kg.engines.oxigraph.shacl import Check, Unsupported, compile_shapes, run, store_select
from kg.engines.shacl_sparql_rules import joinable
from kg.engines.validation import (
    _SHAPES,
    _compiled_report,
    _describer,
    _shapes_store,
    _where,
    check_shapes,
    validate_compiled,
)

FORMAT = "kg-validation-state 1"
MAX_FOCUS = 10_000  # focus nodes of one shape named in a VALUES block; with more the shape runs whole
_VALUES_ROWS = 500  # added triples per query that looks for new SPARQL results
_log = logging.getLogger(__name__)

_TYPE = ox.NamedNode(RDF_TYPE)
_SUBCLASS = ox.NamedNode(RDFS + "subClassOf")
_QUIET = {"name", "description", "message", "severity", "order", "group", "defaultValue", "deactivated"}
_TARGETS = {"targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf"}
_ON_NODE = {
    "class", "datatype", "nodeKind", "pattern", "flags", "in", "hasValue", "minLength", "maxLength",
    "languageIn", "minInclusive", "maxInclusive", "minExclusive", "maxExclusive",
    "and", "or", "not", "xone", "node",
}  # fmt: skip
_ON_VALUES = _ON_NODE | {"minCount", "maxCount", "uniqueLang"}
_LOGICAL = ("and", "or", "xone")  # each an RDF list of shapes; sh:not and sh:node one shape

Row = tuple[int, str, str | None, str | None]  # check index, focus, path ("" = the check's), value


@dataclass
class ValidationState:
    """What a later :func:`revalidate` needs: the raw results of the compiled checks.

    ``results`` rows are (index of the check in the compiled shapes, focus node, path, value), terms in
    N-Triples; a path of ``""`` is the check's own (its sh:path, which may be a blank node of the
    shapes graph), None none. ``shapes_key`` is the SHA-256 of the shapes files (content and base IRI)
    and ``checks_key`` that of the compiled checks: a state is never used with other shapes or code.
    """

    shapes_key: str
    checks_key: str
    results: list[Row] = field(default_factory=list)

    def save(self, path: Path) -> None:
        """Write the state to ``path`` as JSON, in one step (a temporary file renamed)."""
        data = {"format": FORMAT, "shapes_key": self.shapes_key, "checks_key": self.checks_key}
        data["results"] = [list(row) for row in self.results]
        write_atomic(Path(path), json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())

    @classmethod
    def load(cls, path: Path) -> ValidationState:
        """The state saved in ``path``; InputError naming the file if it is not one."""
        try:
            data = json.loads(Path(path).read_bytes())
            if data.get("format") != FORMAT:
                raise ValueError(f"not a {FORMAT} file")
            rows = [_row(r) for r in data["results"]]
            _terms(text for row in rows for text in row[1:] if text)  # every term parses
            return cls(str(data["shapes_key"]), str(data["checks_key"]), rows)
        except OSError as err:
            raise InputError(f"{path}: cannot read the validation state: {err.strerror or err}") from None
        except (ValueError, TypeError, KeyError, AttributeError, SyntaxError) as err:
            raise InputError(f"{path}: not a kg validation state: {err}") from None


def _row(raw: object) -> Row:
    if not (isinstance(raw, list) and len(raw) == 4 and type(raw[0]) is int and isinstance(raw[1], str)):
        raise ValueError(f"bad result {raw!r}")
    if not all(x is None or isinstance(x, str) for x in raw[2:]) or raw[1] == "" or raw[3] == "":
        raise ValueError(f"bad result {raw!r}")
    return raw[0], raw[1], raw[2], raw[3]


def shapes_key(shapes: Sequence[str | Path] | None, base: str | None) -> str:
    """SHA-256 of the shapes files in order (each with the base IRI its relative IRIs resolve against)."""
    files = [Path(p) for p in shapes] if shapes else bundle.shapes_files()
    digest = hashlib.sha256(FORMAT.encode())
    for path in files:
        try:
            content = path.read_bytes()
        except OSError as err:
            raise InputError(f"{path}: cannot read: {err.strerror or err}") from None
        name = base_iri(path, base).encode()
        digest.update(len(name).to_bytes(8, "big") + name + len(content).to_bytes(8, "big") + content)
    return digest.hexdigest()


def checks_key(checks: Sequence[Check]) -> str:
    """SHA-256 of what the compiled checks are (their queries, shapes, messages, severities)."""

    def name(term: object) -> str:
        return term.value if isinstance(term, ox.NamedNode) else "_" if term is not None else ""

    parts = [
        [name(c.shape), name(c.path), c.severity.value, c.component.value, sorted(c.message.items()),
         c.query, c.focus, name(c.constraint), c.per_node]
        for c in checks
    ]  # fmt: skip
    return hashlib.sha256(json.dumps([FORMAT, parts]).encode()).hexdigest()


# --- full validation with a state -------------------------------------------------------------------


def validate_with_state(
    store: ox.Store,
    graphs: Sequence[ox.NamedNode],
    exact: Exact,
    shapes: Sequence[str | Path] | None,
    base: str | None,
    fallback: Callable[[], object],
) -> tuple[ValidationReport, ValidationState | None]:
    """:func:`kg.engines.validation.validate_compiled`, and the state for :func:`revalidate` (None
    when pyshacl validated). The report's raw results come in the state's order."""
    kept: list = []
    report = validate_compiled(
        store, graphs, exact, shapes, base, fallback, lambda *found: kept.extend(found)
    )
    if not kept:
        return report, None
    compiled, results, _ = kept
    index = {id(check): i for i, check in enumerate(compiled.checks)}
    rows = [_encode(index[id(r[0])], r) for r in results]
    if any(row is None for row in rows):
        return report, None  # an RDF-star triple term: not kept
    order = sorted(range(len(rows)), key=lambda k: _key(rows[k]))
    report._results = [results[k] for k in order]
    state = ValidationState(shapes_key(shapes, base), checks_key(compiled.checks), [rows[k] for k in order])
    return report, state


def _encode(index: int, result: tuple) -> Row | None:
    check, focus, path, value = result
    if any(isinstance(t, ox.Triple) for t in (focus, path, value)):
        return None
    encoded = None if path is None else "" if path == check.path else str(path)
    return index, str(focus), encoded, None if value is None else str(value)


def _key(row: Row) -> tuple:
    """The order of results: check, focus, path (none, the check's own, another), value (none first)."""
    index, focus, path, value = row
    return index, focus, path is not None, path or "", value is not None, value or ""


def _terms(texts: Iterable[str]) -> dict[str, object]:
    """N-Triples terms -> RDF terms (all parsed at once)."""
    distinct = sorted(set(texts))
    if not distinct:
        return {}
    if any("\n" in t or "\r" in t for t in distinct):
        raise ValueError("a term spans lines")
    document = "".join(f"<urn:x-kg:t> <urn:x-kg:t> {t} .\n" for t in distinct).encode()
    parsed = list(ox.parse(document, format=ox.RdfFormat.N_TRIPLES))
    if len(parsed) != len(distinct):
        raise ValueError("a term is not one N-Triples term")
    return {t: triple.object for t, triple in zip(distinct, parsed, strict=True)}


# --- revalidation ---------------------------------------------------------------------------------


def revalidate(
    store: ox.Store,
    graphs: Sequence[ox.NamedNode],
    exact: Exact,
    shapes: Sequence[str | Path] | None,
    base: str | None,
    fallback: Callable[[], object],
    state: ValidationState | None,
    added: Sequence[ox.Triple],
    removed: Sequence[ox.Triple],
) -> tuple[ValidationReport, ValidationState | None]:
    """The report (and state) :func:`validate_with_state` would give on ``store``, which already
    holds the changed data; ``added`` and ``removed`` are the asserted triples that changed in the
    union of ``graphs`` since ``state`` was made. Runs only what the change can affect, else in full."""

    def full(why: str) -> tuple[ValidationReport, ValidationState | None]:
        _log.debug("revalidation: full run: %s", why)
        return validate_with_state(store, graphs, exact, shapes, base, fallback)

    if state is None:
        return full("no state")
    if exact:
        return full("the literal table is not empty")
    if state.shapes_key != shapes_key(shapes, base):
        return full("the state is for other shapes")
    shapes_store, shapes_exact = _shapes_store(shapes, base)
    if shapes_exact:
        return full("the shapes have literals Oxigraph does not keep as written")
    check_shapes(shapes_store, _where(shapes))
    compiled = compile_shapes(shapes_store, _SHAPES)
    if compiled.declined or checks_key(compiled.checks) != state.checks_key:
        return full("the compiled checks differ from the state's")
    changed = [*added, *removed]
    if any(t.predicate == _SUBCLASS for t in changed):
        return full("an rdfs:subClassOf triple changed")
    view = _View(store, graphs, removed)
    modes, only = _plan(compiled, shapes_store, state, view, list(added), list(removed))
    if not view.present(
        state.results, [i for i, row in enumerate(state.results) if modes[row[0]] != "whole"]
    ):
        return full("a blank node of a kept result is no longer in the store")
    try:
        rows = _rerun(compiled, shapes_store, view, state, modes, only)
    except Unsupported as err:
        return full(str(err))
    rows.sort(key=_key)
    terms = _terms(text for row in rows for text in row[1:] if text)
    results = [
        (
            compiled.checks[i],
            terms[f],
            None if p is None else compiled.checks[i].path if p == "" else terms[p],
            None if v is None else terms[v],
        )
        for i, f, p, v in rows
    ]
    describe = _describer([(store, graphs), (shapes_store, [_SHAPES])])
    report = _compiled_report(results, describe)
    report.compiled, report.declined = compiled.compiled, {}
    return report, ValidationState(state.shapes_key, state.checks_key, rows)


def _rerun(
    compiled: object,
    shapes_store: ox.Store,
    view: _View,
    state: ValidationState,
    modes: list[str],
    only: dict[object, set],
) -> list[Row]:
    """The new results: kept, re-run for the focus nodes in ``only`` of their top-level shape, or
    re-run whole, per check as ``modes`` says."""
    values = {shape: " ".join(sorted(str(n) for n in nodes)) for shape, nodes in only.items()}
    restricted = compile_shapes(shapes_store, _SHAPES, values.get) if values else compiled
    if [(c.shape, c.component, c.per_node) for c in restricted.checks] != [
        (c.shape, c.component, c.per_node) for c in compiled.checks
    ]:
        raise Unsupported("the focus-limited checks differ from the full ones")
    todo, index = [], {}
    for i, mode in enumerate(modes):
        if mode == "keep":
            continue
        check = compiled.checks[i]
        if mode == "focus":
            check = _few(restricted.checks[i], values[compiled.owners[i]], view)
        todo.append(check)
        index[id(check)] = i
    _log.debug("revalidation: %d of %d checks run", len(todo), len(modes))
    found = [_encode(index[id(r[0])], r) for r in run(todo, view.select)] if todo else []
    if any(row is None for row in found):
        raise Unsupported("an RDF-star triple term in a result")
    replaced = {shape: {str(n) for n in nodes} for shape, nodes in only.items()}
    kept = [
        row
        for row in state.results
        if modes[row[0]] == "keep"
        or (modes[row[0]] == "focus" and row[1] not in replaced[compiled.owners[row[0]]])
    ]
    return kept + found


def _few(check: Check, values: str, view: _View) -> Check:
    """A check of the focus-limited compilation as it runs: a SPARQL-based constraint (one group,
    joinable) with ``VALUES ?this`` first in it (the rows of those focus nodes, as pre-binding $this
    to each would give, SHACL 5.3.1); instance patterns by class lists (:func:`_by_type`)."""
    query = check.query
    if check.constraint is not None:
        toks = tokens(query)
        start = next(t.start for t in toks if t.kind == "punct" and t.text == "{")
        query = f"{query[: start + 1]} VALUES ?this {{ {values} }} {query[start + 1 :]}"
    else:
        query = _by_type(query, view)
    focus = None if check.focus is None else _by_type(check.focus, view)
    return Check(
        check.shape, check.path, check.severity, check.component, check.message, query,
        focus, check.constraint, check.per_node,
    )  # fmt: skip


_INSTANCE = re.compile(rf"(\?\w+) <{re.escape(RDF_TYPE)}>/<{re.escape(RDFS)}subClassOf>\* (<[^>]+>) \.")


def _by_type(text: str, view: _View) -> str:
    """``text`` (a query of kg's compiler) with each instance pattern ``?x rdf:type/rdfs:subClassOf*
    C`` as ``?x rdf:type ?k`` and a FILTER of ``?k`` over C and its subclasses: the same nodes. The
    compiler's own rewriting (a VALUES list of the classes) makes Oxigraph read every instance when
    the focus nodes are a VALUES list too; this way it looks up the types of those nodes only."""
    count = itertools.count()

    def swap(match: re.Match) -> str:
        classes = view.subclasses(ox.NamedNode(match.group(2)[1:-1]))
        if not all(isinstance(c, ox.NamedNode) for c in classes):
            return match.group(0)
        k = f"?_kg_class{next(count)}"
        listed = ", ".join(sorted(str(c) for c in classes))
        return f"{match.group(1)} <{RDF_TYPE}> {k} . FILTER ({k} IN ({listed}))"

    return _INSTANCE.sub(swap, text)


# --- what a change can affect -----------------------------------------------------------------------


class _View:
    """The changed data as revalidation reads it: the store (the new data) and the removed triples."""

    def __init__(self, store: ox.Store, graphs: Sequence[ox.NamedNode], removed: Sequence[ox.Triple]):
        self.store, self.graphs = store, list(graphs)
        self.select = store_select(store, graphs)
        self.removed: dict[tuple[str, object], list[ox.Triple]] = {}  # by subject, object, predicate
        for t in removed:
            for key in (("s", t.subject), ("o", t.object), ("p", t.predicate)):
                self.removed.setdefault(key, []).append(t)
        self._subclasses: dict[object, set] = {}

    def _quads(self, s: object, p: object, o: object) -> list[ox.Triple]:
        """The triples matching the pattern in the new data or among the removed ones."""
        if isinstance(s, ox.Literal):
            return []
        found = [q.triple for g in self.graphs for q in self.store.quads_for_pattern(s, p, o, g)]
        key = ("s", s) if s is not None else ("o", o) if o is not None else ("p", p)
        return found + [
            t
            for t in self.removed.get(key, [])
            if (s is None or t.subject == s)
            and (p is None or t.predicate == p)
            and (o is None or t.object == o)
        ]

    def subjects(self, p: object, o: object) -> set:
        return {t.subject for t in self._quads(None, p, o)}

    def objects(self, s: object, p: object) -> set:
        return {t.object for t in self._quads(s, p, None)}

    def subclasses(self, cls: object) -> set:
        """``cls`` and its subclasses in the data (rdfs:subClassOf*, which did not change)."""
        if cls not in self._subclasses:
            if isinstance(cls, ox.NamedNode):
                _, rows = self.select(f"SELECT DISTINCT ?s WHERE {{ ?s <{RDFS}subClassOf>* {cls} }}")
                self._subclasses[cls] = {cls, *(row[0] for row in rows)}
            else:
                self._subclasses[cls] = {cls}  # a blank node cannot be named in a query: itself only
        return self._subclasses[cls]

    def could_be_focus(self, node: object, info: _Info) -> bool:
        """Whether ``node`` is a focus node of the shape before or after the change (SHACL 2.1.3)."""
        if node in info.nodes:
            return True
        if isinstance(node, ox.Literal):
            return bool(info.objects_of)
        if info.classes:
            classes = set().union(*(self.subclasses(c) for c in info.classes))
            if self.objects(node, _TYPE) & classes:
                return True
        return any(self._quads(node, p, None) for p in info.subjects_of) or any(
            self._quads(None, p, node) for p in info.objects_of
        )

    def present(self, rows: list[Row], indices: list[int]) -> bool:
        """Whether every blank node the rows at ``indices`` name is still in the data."""
        for k in indices:
            for text in rows[k][1:]:
                if text and text.startswith("_:"):
                    node = ox.BlankNode(text[2:])
                    if not any(
                        True
                        for g in self.graphs
                        for pattern in ((node, None, None, g), (None, None, node, g))
                        for _ in self.store.quads_for_pattern(*pattern)
                    ):
                        return False
        return True


@dataclass
class _Info:
    """What revalidation needs to know of a top-level shape (read from the shapes graph)."""

    classes: set = field(default_factory=set)  # target classes (and the shape, as implicit class)
    nodes: set = field(default_factory=set)
    subjects_of: set = field(default_factory=set)
    objects_of: set = field(default_factory=set)
    direct: set = field(default_factory=set)  # shapes whose checks have the shape's focus as ?this
    closed: bool = False  # sh:closed somewhere in it: its queries may read any predicate
    reads: dict = field(default_factory=dict)  # if value-local (module docstring): shape -> _Reads


@dataclass
class _Reads:
    """What the constraints of one shape of a value-local shape read of a focus node."""

    forward: set = field(default_factory=set)  # the predicate of its path (none on a node shape)
    inverse: set = field(default_factory=set)  # the predicate of its inverse path
    types: bool = False  # the values' rdf:type (sh:class)


class _NotLocal(Exception):
    pass


class _ShapesGraph:
    def __init__(self, store: ox.Store):
        self.store = store
        self.custom = {
            q.object
            for param in store.quads_for_pattern(None, ox.NamedNode(SH + "parameter"), None, _SHAPES)
            for q in store.quads_for_pattern(param.object, ox.NamedNode(SH + "path"), None, _SHAPES)
        }

    def objects(self, node: object, name: str) -> list:
        return [q.object for q in self.store.quads_for_pattern(node, ox.NamedNode(SH + name), None, _SHAPES)]

    def names(self, node: object) -> set[str]:
        """The SHACL parameters ``node`` has; _NotLocal if it has a custom component's parameter."""
        preds = {q.predicate for q in self.store.quads_for_pattern(node, None, None, _SHAPES)}
        if preds & self.custom:
            raise _NotLocal
        return {p.value[len(SH) :] for p in preds if p.value.startswith(SH)}

    def items(self, head: object) -> list:
        out, seen = [], set()
        while head != ox.NamedNode(RDF + "nil"):
            first = [q.object for q in self.store.quads_for_pattern(head, ox.NamedNode(RDF + "first"), None)]
            rest = [q.object for q in self.store.quads_for_pattern(head, ox.NamedNode(RDF + "rest"), None)]
            if len(first) != 1 or len(rest) != 1 or head in seen:
                raise _NotLocal
            seen.add(head)
            out.append(first[0])
            head = rest[0]
        return out

    def deactivated(self, node: object) -> bool:
        return any(isinstance(o, ox.Literal) and o.value == "true" for o in self.objects(node, "deactivated"))

    def members(self, node: object) -> list:
        found = [m for name in _LOGICAL for head in self.objects(node, name) for m in self.items(head)]
        return found + self.objects(node, "not") + self.objects(node, "node")

    def info(self, shape: object) -> _Info:
        info = _Info()
        info.classes = set(self.objects(shape, "targetClass")) | (
            {shape} if isinstance(shape, ox.NamedNode) else set()
        )
        info.nodes = set(self.objects(shape, "targetNode"))
        info.subjects_of = set(self.objects(shape, "targetSubjectsOf"))
        info.objects_of = set(self.objects(shape, "targetObjectsOf"))
        paths = self.objects(shape, "path")
        props = self.objects(shape, "property")
        info.direct = {shape} | (set() if paths else set(props))
        info.closed = self.reaches_closed(shape)
        try:
            self.local(shape, paths, props, info)
        except _NotLocal:
            info.reads = {}
        return info

    def reaches_closed(self, shape: object) -> bool:
        todo, seen = [shape], set()
        while todo:
            node = todo.pop()
            if node in seen:
                continue
            seen.add(node)
            if self.objects(node, "closed"):
                return True
            try:
                todo += self.members(node)
            except _NotLocal:
                return True
            todo += self.objects(node, "property") + self.objects(node, "qualifiedValueShape")
        return False

    def local(self, shape: object, paths: list, props: list, info: _Info) -> None:
        """Fill the paths of a value-local shape into ``info``; _NotLocal if it is not one."""
        top = _QUIET | _TARGETS | _ON_VALUES | {"property", "path", "sparql", "declare", "prefixes"}
        if not self.names(shape) <= top:
            raise _NotLocal
        if paths:
            if props:
                raise _NotLocal
            info.reads[shape] = self.path_reads(paths, self.reads_types(shape))
        else:
            # the focus node's own types: a changed rdf:type triple names the node anyway
            info.reads[shape] = _Reads(types=self.reads_types(shape))
            for prop in props:
                if self.deactivated(prop):
                    continue
                if not self.names(prop) <= _QUIET | _ON_VALUES | {"path", "sparql"}:
                    raise _NotLocal
                info.reads[prop] = self.path_reads(self.objects(prop, "path"), self.reads_types(prop))

    def path_reads(self, paths: list, types: bool) -> _Reads:
        """A predicate path or the inverse of one (SHACL 2.3.1.1, 2.3.1.3), else _NotLocal."""
        if len(paths) != 1:
            raise _NotLocal
        path = paths[0]
        if isinstance(path, ox.NamedNode):
            return _Reads(forward={path}, types=types)
        quads = list(self.store.quads_for_pattern(path, None, None, _SHAPES))
        if len(quads) != 1 or quads[0].predicate.value != SH + "inversePath":
            raise _NotLocal
        if not isinstance(quads[0].object, ox.NamedNode):
            raise _NotLocal
        return _Reads(inverse={quads[0].object}, types=types)

    def reads_types(self, shape: object, seen: frozenset = frozenset()) -> bool:
        """Whether the constraints of ``shape`` on a node read its rdf:type (sh:class, also in the
        shapes its not/and/or/xone/node name, which must be about the node alone)."""
        reads = "class" in self.names(shape)
        for member in self.members(shape):
            if member in seen or self.deactivated(member):
                continue
            if not self.names(member) <= _QUIET | _TARGETS | _ON_NODE | {"declare", "prefixes"}:
                raise _NotLocal
            reads = self.reads_types(member, seen | {shape}) or reads
        return reads


def _writable(node: object) -> bool:
    """Whether ``node`` can be written into a VALUES block (not a blank node; no ``?`` that the
    compiler's class rewriting could take for a variable)."""
    if isinstance(node, ox.NamedNode):
        return True
    return isinstance(node, ox.Literal) and "?" not in node.value


def _iris(text: str) -> set[str] | None:
    """The IRIs a query of kg's compiler names (None if it has a prefixed name or relative IRI)."""
    toks = tokens(text)
    if prefixed_names(toks) or declared_prefixes(toks, {}):
        return None
    found = set()
    for tok in toks:
        if tok.kind == "iri":
            if ":" not in tok.text:
                return None
            found.add(tok.text[1:-1])
        elif tok.kind == "word" and tok.text == "a":
            found.add(RDF_TYPE)
    return found


def _plan(
    compiled: object,
    shapes_store: ox.Store,
    state: ValidationState,
    view: _View,
    added: list[ox.Triple],
    removed: list[ox.Triple],
) -> tuple[list[str], dict[object, set]]:
    """Per check "keep", "focus" (run for the focus nodes in the second value, per top-level shape)
    or "whole"."""
    shapes = _ShapesGraph(shapes_store)
    modes = ["keep"] * len(compiled.checks)
    only: dict[object, set] = {}
    by_owner: dict[object, list[int]] = {}
    for i, owner in enumerate(compiled.owners):
        by_owner.setdefault(owner, []).append(i)
    old_foci: dict[int, set[str]] = {}
    for row in state.results:
        old_foci.setdefault(row[0], set()).add(row[1])
    changed = added + removed
    predicates = {t.predicate.value for t in changed}
    for shape, indices in by_owner.items():
        info = shapes.info(shape)
        local_nodes: dict[object, set] = {}
        need: set = set()
        for i in indices:
            check = compiled.checks[i]
            patterns = None
            if check.constraint is not None and check.shape in info.direct and check.per_node is None:
                patterns = triple_patterns.read(check.query) if joinable(check.query) else None
            if patterns is not None:
                nodes = _sparql_nodes(patterns, info, view, added, removed, old_foci.get(i, set()))
            elif check.constraint is None and check.focus is None and check.shape in info.reads:
                if check.shape not in local_nodes:
                    local_nodes[check.shape] = _local_nodes(info, info.reads[check.shape], view, changed)
                nodes = local_nodes[check.shape]
            else:
                iris = None if info.closed or check.focus is not None else _iris(check.query)
                nodes = None if iris is None or predicates & iris else set()
                if iris is None and not changed:
                    nodes = set()
            if nodes is None:
                modes[i] = "whole"
            elif nodes:
                modes[i] = "focus"
                need |= nodes
        if need:
            if len(need) > MAX_FOCUS or not all(_writable(n) for n in need):
                for i in indices:
                    if modes[i] == "focus":
                        modes[i] = "whole"
            else:
                only[shape] = need
    return modes, only


def _membership(info: _Info, changed: list[ox.Triple]) -> set:
    """The nodes a changed triple may make a focus node of the shape, or no longer one."""
    found = set()
    for t in changed:
        if t.predicate == _TYPE or t.predicate in info.subjects_of:
            found.add(t.subject)
        if t.predicate in info.objects_of:
            found.add(t.object)
    return found


def _local_nodes(info: _Info, reads: _Reads, view: _View, changed: list[ox.Triple]) -> set:
    """The focus nodes whose results for one shape of a value-local shape a changed triple can alter:
    those it makes or unmakes focus nodes, those whose values on the path it changes, and those with
    a value whose rdf:type it changes (where the values' types are read)."""
    found = _membership(info, changed)
    for t in changed:
        if t.predicate in reads.forward:
            found.add(t.subject)
        if t.predicate in reads.inverse:
            found.add(t.object)
        if t.predicate == _TYPE and reads.types:
            for p in reads.forward:
                found |= view.subjects(p, t.subject)
            for p in reads.inverse:
                found |= view.objects(t.subject, p)
    return {n for n in found if view.could_be_focus(n, info)}


def _sparql_nodes(
    patterns: triple_patterns.Patterns,
    info: _Info,
    view: _View,
    added: list[ox.Triple],
    removed: list[ox.Triple],
    old_foci: set[str],
) -> set | None:
    """The focus nodes whose rows of a one-group SPARQL constraint may differ after the change (module
    docstring), or None to run it whole."""
    preds = patterns.predicates()

    def reads(t: ox.Triple) -> bool:
        return preds is None or t.predicate.value in preds

    found = _membership(info, added + removed)
    if any(reads(t) for t in removed):
        found |= set(_terms(old_foci).values())  # a row may be lost only where there was one
    new = [t for t in added if reads(t)]
    if new:
        try:
            more = _new_solutions(patterns, new, view.select)
        except Unsupported:
            return None
        if more is None:
            return None
        found |= more
    return {n for n in found if view.could_be_focus(n, info)}


def _new_solutions(
    patterns: triple_patterns.Patterns, added: list[ox.Triple], select: Callable
) -> set | None:
    """``?this`` of every solution of the patterns that matches one of them to an added triple (the
    store holds them): the patterns with one of them bound to the added triples, in turn."""
    variants = triple_patterns.alternatives(patterns)
    if variants is None:
        return None
    Var = triple_patterns.Var
    found = set()
    for bgp in variants:
        if not any(isinstance(x, Var) and x.name == "this" for triple in bgp for x in (triple[0], triple[2])):
            return None
        body = " ".join(f"{s} {p} {o} ." for s, p, o in bgp)
        for s, p, o in bgp:
            rows = [t for t in added if isinstance(p, Var) or t.predicate == p.term]
            if not rows:
                continue
            names = list(dict.fromkeys(x.name for x in (s, p, o) if isinstance(x, Var)))
            table = []
            for t in rows:
                bound: dict[str, object] = {}
                for x, term in ((s, t.subject), (p, t.predicate), (o, t.object)):
                    if isinstance(x, Var) and bound.setdefault(x.name, term) != term:
                        break
                else:
                    cells = [str(bound[n]) if _writable(bound[n]) else "UNDEF" for n in names]
                    table.append(f"({' '.join(cells)})")
            for start in range(0, len(table), _VALUES_ROWS) if names else [0]:
                values = ""
                if names:
                    head = " ".join(f"?{n}" for n in names)
                    values = f"VALUES ({head}) {{ {' '.join(table[start : start + _VALUES_ROWS])} }} "
                query = f"{patterns.prologue}SELECT DISTINCT ?this WHERE {{ {values}{body} }}"
                columns, answer = select(query)
                at = columns.index("this")
                found |= {row[at] for row in answer if row[at] is not None}
    return found
