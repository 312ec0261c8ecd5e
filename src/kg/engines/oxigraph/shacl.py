"""SHACL Core and SHACL-SPARQL shapes compiled to SPARQL SELECT queries run on the Oxigraph store.

The fast validation path. Each (shape, constraint) pair becomes one query that returns only the
focus nodes (and value nodes) that break it, so validation is a few set-oriented joins instead of a
walk over every focus node in Python. The semantics follow W3C SHACL (2017):

- targets (section 2.1.3): ``sh:targetClass`` (instances of the class and its subclasses), implicit
  class targets (a shape that is also an ``rdfs:Class``), ``sh:targetNode``, ``sh:targetSubjectsOf``,
  ``sh:targetObjectsOf``; node shapes, property shapes and property shapes nested in either;
- property paths (2.3.1): predicates, sequence, alternative, inverse, zero-or-more, one-or-more and
  zero-or-one paths, as the SPARQL property paths they are defined by;
- Core constraint components (section 4): class, datatype (ill-typed literals fail, as in pyshacl),
  nodeKind, minCount/maxCount, the four range bounds, min/maxLength, pattern, languageIn, uniqueLang
  (one result per duplicated language tag), equals, disjoint, lessThan, lessThanOrEquals, not, and,
  or, xone, node, qualified value shapes, closed, hasValue, in. A shape used by another shape
  (``sh:node``, ``sh:or``, ...) becomes a SPARQL condition: ``NOT EXISTS`` of each of its violations;
- SPARQL-based constraints (section 5) and custom SPARQL-based constraint components (section 6:
  ``sh:validator``, ``sh:nodeValidator``, ``sh:propertyValidator``, their parameters pre-bound to the
  shape's values as RDF terms). A SELECT whose rows do not depend on where ``$this`` is bound runs once
  over all nodes (:func:`kg.engines.shacl_sparql_rules.joinable`); any other runs once per focus node
  (an ASK validator once per value node) with the pre-bound variables substituted as SHACL's appendix
  on pre-binding defines it (:func:`kg.engines.shacl_sparql_rules.prebind`).

The same shapes compile, for stores other than Oxigraph (``kg validate --endpoint``), to a portable
dialect (``portable_dialect``): SPARQL that Virtuoso 7.2 answers as Oxigraph does, or a refusal
naming the construct (:mod:`kg.engines.shacl_portable` says what differs and why).

Anything else raises :class:`Unsupported`: recursive shapes, ``$shapesGraph``, a component used inside
a condition, SPARQL that cannot be pre-bound as text, literals Oxigraph does not keep as written, ... kg then
validates with pyshacl, the reference implementation, and the report names the shapes that were
declined and why. The W3C SHACL test suite checks, entry by entry, that a compiled answer is the
expected one (tests/test_w3c_shacl.py).
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pyoxigraph as ox

from kg.core.namespaces import OWL, RDF, RDF_TYPE, RDFS, SH, XSD
from kg.core.sparql_text import tokens, unbalanced
from kg.engines import shacl_portable as portable
from kg.engines.shacl_sparql_rules import (
    ask_as_select,
    joinable,
    prebind,
    prebinder,
    selects_path_values,
    variables,
)

# Datatypes whose lexical form Oxigraph can check with a cast to the same type (ill-typed -> error).
_CASTABLE = {
    f"{XSD}{t}"
    for t in (
        "integer", "decimal", "double", "float", "boolean", "dateTime", "date", "time", "duration",
        "gYear", "gYearMonth", "gMonthDay", "gDay", "gMonth", "dayTimeDuration", "yearMonthDuration",
    )
}  # fmt: skip
# Datatypes Oxigraph keeps as written (no value space of its own): string-like and unknown types.
_NODE_KINDS = {
    "IRI": "isIRI({v})",
    "Literal": "isLiteral({v})",
    "BlankNode": "isBlank({v})",
    "BlankNodeOrIRI": "!isLiteral({v})",
    "BlankNodeOrLiteral": "!isIRI({v})",
    "IRIOrLiteral": "!isBlank({v})",
}
_BOUNDS = {"minInclusive": ">=", "maxInclusive": "<=", "minExclusive": ">", "maxExclusive": "<"}
_PATHS = {"zeroOrMorePath": "*", "oneOrMorePath": "+", "zeroOrOnePath": "?"}

# Shape parameters that carry no constraint of their own (or that the compiler reads with another).
_PASSIVE = {
    f"{SH}{n}"
    for n in (
        "name", "description", "message", "severity", "order", "group", "defaultValue", "property",
        "path", "targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf", "deactivated",
        "flags", "ignoredProperties", "qualifiedMinCount", "qualifiedMaxCount",
        "qualifiedValueShapesDisjoint", "sparql", "declare", "prefixes", "select", "ask",
    )
}  # fmt: skip
_MAX_PAIRWISE = 4  # counts checked inside a condition need n distinct variables: keep n small


# SPARQL text -> (variable names, rows): where the compiled checks run
Select = Callable[[str], tuple[list[str], list[tuple]]]


class Unsupported(Exception):
    """The shapes use a SHACL feature this compiler does not translate exactly."""


@dataclass(frozen=True)
class Check:
    """One compiled constraint: a SELECT of ``?this`` (plus ``?value``, ``?path`` where known)."""

    shape: ox.NamedNode | ox.BlankNode
    path: object | None  # the shape's sh:path term (a blank node for complex paths)
    severity: ox.NamedNode
    component: ox.NamedNode
    message: dict[str, str]
    query: str
    focus: str | None = None  # a SELECT of the focus nodes, when ``query`` is not limited to them
    constraint: object | None = None  # sh:sourceConstraint (SPARQL-based constraints)
    # "select": ``query`` runs once per focus node of ``focus`` with $this pre-bound; "ask": once per
    # (?this, ?value) row of ``focus`` with $this and $value pre-bound, a result where it is false
    per_node: str | None = None
    # the portable dialect compiles a shape once per target: the parts of one check share ``group``
    # and their results are merged as the one query with a UNION of the targets would give them
    group: tuple[int, int] | None = None


@dataclass
class Compiled:
    """The checks of the shapes that compiled, and the shapes declined with the reason."""

    checks: list[Check] = field(default_factory=list)
    compiled: list[str] = field(default_factory=list)
    declined: dict[str, str] = field(default_factory=dict)
    owners: list = field(default_factory=list)  # the top-level shape of each check


class _Shapes:
    """Read access to a shapes graph held in an Oxigraph store."""

    def __init__(self, store: ox.Store, graph: ox.NamedNode):
        self.store, self.graph = store, graph

    def objects(self, node: object, pred: str) -> list:
        return [q.object for q in self.store.quads_for_pattern(node, ox.NamedNode(pred), None, self.graph)]

    def subjects(self, pred: str, obj: object) -> list:
        return [q.subject for q in self.store.quads_for_pattern(None, ox.NamedNode(pred), obj, self.graph)]

    def one(self, node: object, pred: str) -> object | None:
        found = self.objects(node, pred)
        if len(found) > 1:
            raise Unsupported(f"{node} has more than one {pred}")
        return found[0] if found else None

    def predicates(self, node: object) -> set[str]:
        return {q.predicate.value for q in self.store.quads_for_pattern(node, None, None, self.graph)}

    def items(self, head: object) -> list:
        """The members of an RDF list."""
        out, seen = [], set()
        while head != ox.NamedNode(f"{RDF}nil"):
            first = self.one(head, f"{RDF}first")
            if first is None or head in seen:
                raise Unsupported(f"malformed RDF list at {head}")
            seen.add(head)
            out.append(first)
            head = self.one(head, f"{RDF}rest")
        return out


def _string(text: str) -> str:
    return (
        '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") + '"'
    )


def _true(term: object) -> bool:
    return isinstance(term, ox.Literal) and term.datatype.value == f"{XSD}boolean" and term.value == "true"


_SUBCLASS = f"<{RDFS}subClassOf>"
_INSTANCE = re.compile(rf"(\?\w+) <{re.escape(RDF)}type>/{re.escape(_SUBCLASS)}\* (<[^>]+>) \.")


def _instance(var: str, cls: object) -> str:
    """A pattern: ``var`` is a SHACL instance of ``cls`` (rdf:type/rdfs:subClassOf*)."""
    return f"{var} <{RDF_TYPE}>/{_SUBCLASS}* {cls} ."


def _with_classes(query: str, subclasses: dict[str, list[str]], portable_dialect: bool = False) -> str:
    """``query`` with each ``?x rdf:type/rdfs:subClassOf* C`` written as ``?x rdf:type ?k`` over a
    VALUES list of C and its subclasses in the data graph: the same instances, found by index lookups
    instead of a path walk per node (3x faster validation at 100,000 initiatives). Where a subclass
    is a blank node, the portable dialect writes the zero-length step as a UNION branch of its own
    (Virtuoso 7.2 misses it in the path)."""
    count = itertools.count()

    def swap(match: re.Match) -> str:
        classes = subclasses.get(match.group(2))
        if not classes and portable_dialect:
            x, cls = match.group(1), match.group(2)
            return f"{{ {x} <{RDF_TYPE}> {cls} . }} UNION {{ {x} <{RDF_TYPE}>/{_SUBCLASS}+ {cls} . }}"
        if not classes:
            return match.group(0)
        k = f"?_class{next(count)}"
        return f"VALUES {k} {{ {' '.join(classes)} }} {match.group(1)} <{RDF_TYPE}> {k} ."

    return _INSTANCE.sub(swap, query)


def _subclasses(queries: Iterable[str], select: Select) -> dict:
    """Each class named in an instance pattern of ``queries`` -> itself and its subclasses (IRIs),
    or nothing if a subclass is a blank node (the path pattern then stays)."""
    found = {}
    for cls in {m.group(2) for q in queries for m in _INSTANCE.finditer(q)}:
        _, rows = select(f"SELECT DISTINCT ?s WHERE {{ ?s {_SUBCLASS}* {cls} }}")
        subs = [row[0] for row in rows]
        if all(isinstance(t, ox.NamedNode) for t in subs):
            found[cls] = sorted({cls, *(str(t) for t in subs)})
    return found


@dataclass(frozen=True)
class _Violation:
    """A pattern that matches once per violation of one component, with the focus variable bound."""

    component: str
    pattern: str
    value: str | None  # the variable (or focus) reported as sh:value
    path: str | None = None  # a variable reported as sh:resultPath (sh:closed)
    grouped: str | None = None  # a top-level query of its own (aggregates), with ?this and ?value
    extra: tuple[str, ...] = ()  # more variables that make results distinct (one per pair)


class _Compiler:
    """Shapes to SPARQL patterns; one instance per shapes graph."""

    def __init__(self, shapes: _Shapes, portable: bool = False):
        self.shapes = shapes
        self.few = False  # the focus nodes are a short VALUES list: no MINUS, which reads all instances
        self.portable = portable  # write SPARQL that other stores answer as Oxigraph does (module doc)
        self.counter = itertools.count()
        self.stack: list[object] = []
        self.components: dict[object, list[tuple[str, str, bool]]] = {}
        for q in shapes.store.quads_for_pattern(None, ox.NamedNode(f"{SH}parameter"), None, shapes.graph):
            for p in shapes.objects(q.object, f"{SH}path"):
                name = re.split(r"[#/:]", p.value)[-1] if isinstance(p, ox.NamedNode) else ""
                optional = _true(shapes.one(q.object, f"{SH}optional"))
                self.components.setdefault(q.subject, []).append((name, p.value, optional))
        self.custom = {path for params in self.components.values() for _, path, _ in params}

    def var(self, name: str = "v") -> str:
        return f"?_{name}{next(self.counter)}"

    # --- paths, targets -----------------------------------------------------------------------

    def path(self, node: object) -> str:
        """A SHACL property path (section 2.3.1) as a SPARQL property path."""
        if isinstance(node, ox.NamedNode):
            return str(node)
        if not isinstance(node, ox.BlankNode):
            raise Unsupported(f"sh:path {node}")
        preds = self.shapes.predicates(node)
        if f"{RDF}first" in preds:
            if preds != {f"{RDF}first", f"{RDF}rest"}:
                raise Unsupported(f"malformed path {node}")
            members = self.shapes.items(node)
            if len(members) < 2:
                raise Unsupported("a sequence path with fewer than two members")
            return "(" + "/".join(self.path(m) for m in members) + ")"
        if len(preds) != 1:
            raise Unsupported(f"malformed path {node}")
        (pred,) = preds
        obj = self.shapes.one(node, pred)
        name = pred.removeprefix(SH)
        if name == "alternativePath":
            members = self.shapes.items(obj)
            if len(members) < 2:
                raise Unsupported("an alternative path with fewer than two members")
            return "(" + "|".join(self.path(m) for m in members) + ")"
        if name == "inversePath":
            return f"^({self.path(obj)})"
        if name in _PATHS:
            if self.portable:  # e.g. OPTIONAL { ?x (p)+ ?y } drops the rows without a match
                raise Unsupported(f"sh:{name} on a store (Virtuoso 7.2 answers transitive paths wrongly)")
            return f"({self.path(obj)}){_PATHS[name]}"
        raise Unsupported(f"path {pred}")

    def implicit_class(self, shape: object) -> bool:
        """Whether ``shape`` is a SHACL instance of rdfs:Class in the shapes graph (section 2.1.3.3)."""
        classes = {ox.NamedNode(f"{RDFS}Class")}
        frontier = list(classes)
        while frontier:
            for sub in self.shapes.subjects(f"{RDFS}subClassOf", frontier.pop()):
                if sub not in classes:
                    classes.add(sub)
                    frontier.append(sub)
        return any(t in classes for t in self.shapes.objects(shape, RDF_TYPE))

    def targets(self, shape: object, var: str) -> list[str]:
        """Patterns binding ``var`` to the shape's focus nodes (UNION-ed by the caller)."""
        found = [_instance(var, _const(c)) for c in self.shapes.objects(shape, f"{SH}targetClass")]
        if self.implicit_class(shape):
            if not isinstance(shape, ox.NamedNode):
                raise Unsupported("implicit class target on a blank node")
            found.append(_instance(var, shape))
        nodes = [_const(n) for n in self.shapes.objects(shape, f"{SH}targetNode")]
        if self.portable and nodes:  # one VALUES block: Virtuoso 7.2 mis-joins VALUES inside a UNION
            if any(n.startswith('"') for n in nodes):
                why = "Virtuoso 7.2 misreads literals in VALUES"
                raise Unsupported(f"a literal sh:targetNode on a store ({why})")
            found.append(f"VALUES {var} {{ {' '.join(nodes)} }}")
        else:
            found += [f"VALUES {var} {{ {n} }}" for n in nodes]
        found += [f"{var} {_const(p)} [] ." for p in self.shapes.objects(shape, f"{SH}targetSubjectsOf")]
        found += [f"[] {_const(p)} {var} ." for p in self.shapes.objects(shape, f"{SH}targetObjectsOf")]
        return found

    # --- shapes as conditions --------------------------------------------------------------------

    def deactivated(self, shape: object) -> bool:
        return _true(self.shapes.one(shape, f"{SH}deactivated"))

    def conforms(self, shape: object, focus: str) -> str:
        """A SPARQL expression: the node ``focus`` conforms to ``shape`` (section 3.3)."""
        if self.deactivated(shape):
            return "true"
        if shape in self.stack:
            raise Unsupported(f"recursive shape {shape}")
        self.stack.append(shape)
        try:
            parts = [self.absent(v.pattern) for v in self.violations(shape, focus, nested=True)]
        finally:
            self.stack.pop()
        return "(" + " && ".join(parts) + ")" if parts else "true"

    def same(self, var: str, term: object) -> str:
        """``sameTerm(var, term)`` for a constant ``term``."""
        constant = _const(term)
        return portable.same_term(var, term) if self.portable else f"sameTerm({var}, {constant})"

    def absent(self, pattern: str) -> str:
        """A SPARQL expression: ``pattern`` has no solution. In the portable dialect a pattern that
        is only a filter is not put in a NOT EXISTS (Virtuoso 7.2 answers that wrongly): ``NOT EXISTS
        { FILTER NOT EXISTS { P } }`` is ``EXISTS { P }``, and ``NOT EXISTS { FILTER (E) }`` is
        ``!(E)``, the conditions of that dialect never being an error (Virtuoso's COALESCE of a
        boolean is always false)."""
        if self.portable:
            inner = re.fullmatch(r"FILTER NOT EXISTS \{ (.*) \}", pattern.strip(), re.S)
            if inner and unbalanced(tokens(inner.group(1))) is None:
                return f"EXISTS {{ {inner.group(1)} }}"
            inner = re.fullmatch(r"FILTER \((.*)\)", pattern.strip(), re.S)
            if inner and unbalanced(tokens(inner.group(1))) is None:
                negated = inner.group(1).removeprefix("!")
                if negated != inner.group(1) and _primary(negated):
                    return negated  # not !(!X): Virtuoso 7.2 gets X && !(!(!Y)) wrong
                return f"!({inner.group(1)})"
        return f"NOT EXISTS {{ {pattern} }}"

    def violations(self, shape: object, focus: str, *, nested: bool) -> list[_Violation]:
        """Every violation pattern of ``shape`` for the node bound to ``focus``; with ``nested``,
        also those of its property shapes (as a condition needs them), and no aggregates."""
        found = self.own(shape, focus, nested=nested)
        if nested:
            path = self.shapes.one(shape, f"{SH}path")
            for prop in self.shapes.objects(shape, f"{SH}property"):
                if self.deactivated(prop):
                    continue
                if path is None:
                    found += self.violations(prop, focus, nested=True)
                else:
                    inner = self.var("f")
                    step = f"{focus} {self.path(path)} {inner} ."
                    found += [
                        _Violation(v.component, f"{step} {v.pattern}", v.value)
                        for v in self.violations(prop, inner, nested=True)
                    ]
        return found

    def own(self, shape: object, focus: str, *, nested: bool) -> list[_Violation]:
        """The violation patterns of the constraint components of ``shape`` itself (section 4)."""
        sh = self.shapes
        preds = sh.predicates(shape)
        custom = preds & self.custom
        if custom and nested:
            raise Unsupported(f"a custom constraint component (parameter {min(custom)}) in a condition")
        if nested and f"{SH}sparql" in preds:
            raise Unsupported("a SPARQL-based constraint in a shape used as a condition")
        path_term = sh.one(shape, f"{SH}path")
        if path_term is None:
            value, values = focus, ""
        else:
            value = self.var()
            values = f"{focus} {self.path(path_term)} {value} ."
        found: list[_Violation] = []

        def each(component: str, condition: str) -> None:
            """A violation per value node for which ``condition`` (SPARQL, over ``value``) fails."""
            found.append(_Violation(component, f"{values} FILTER (!({condition}))", value))

        for pred in sorted(p for p in preds - _PASSIVE if p.startswith(SH)):
            name = pred.removeprefix(SH)
            objs = sh.objects(shape, pred)
            if name in ("minCount", "maxCount", "uniqueLang", "lessThan", "lessThanOrEquals") and (
                path_term is None
            ):
                raise Unsupported(f"sh:{name} on a node shape")
            for obj in objs:
                if name == "class" and self.portable:
                    test = f"FILTER NOT EXISTS {{ {_instance(value, _const(obj))} }}"
                    found.append(_Violation("Class", f"{values} {test}", value))
                elif name == "class":
                    # MINUS at the top level: Oxigraph plans it as one anti-join (NOT EXISTS over a
                    # VALUES list of classes went quadratic once the inferred graph was in the store)
                    v, bind = value, values
                    if not nested and not values:
                        v = self.var()
                        bind = f"BIND ({focus} AS {v})"
                    test = "FILTER NOT EXISTS" if nested or self.few else "MINUS"
                    found.append(_Violation("Class", f"{bind} {test} {{ {_instance(v, _const(obj))} }}", v))
                elif name == "datatype":
                    each("Datatype", _datatype_ok(value, obj, self.portable))
                elif name == "nodeKind":
                    kind = obj.value.removeprefix(SH) if isinstance(obj, ox.NamedNode) else ""
                    if kind not in _NODE_KINDS:
                        raise Unsupported(f"sh:nodeKind {obj}")
                    each("NodeKind", _NODE_KINDS[kind].format(v=value))
                elif name in _BOUNDS:
                    if not isinstance(obj, ox.Literal):
                        raise Unsupported(f"sh:{name} {obj}")
                    if self.portable:
                        test = portable.bound_ok(value, _BOUNDS[name], obj)
                    else:
                        test = f"COALESCE({value} {_BOUNDS[name]} {obj}, false)"
                    each(name[0].upper() + name[1:], test)
                elif name in ("minLength", "maxLength"):
                    limit = _integer(obj)
                    op = ">=" if name == "minLength" else "<="
                    each(
                        name[0].upper() + name[1:], f"!isBlank({value}) && STRLEN(STR({value})) {op} {limit}"
                    )
                elif name == "pattern":
                    flags = sh.one(shape, f"{SH}flags")
                    if self.portable:
                        each("Pattern", portable.pattern_ok(value, obj.value, flags and flags.value))
                        continue
                    extra = f", {_string(flags.value)}" if flags is not None else ""
                    each("Pattern", f"!isBlank({value}) && REGEX(STR({value}), {_string(obj.value)}{extra})")
                elif name == "languageIn":
                    tags = " || ".join(
                        f"langMatches(lang({value}), {_string(t.value)})" for t in sh.items(obj)
                    )
                    each("LanguageIn", f"isLiteral({value}) && ({tags or 'false'})")
                elif name == "in":
                    members = " || ".join(self.same(value, t) for t in sh.items(obj))
                    each("In", members or "false")
                elif name == "hasValue":
                    c = _const(obj)
                    if path_term is None:
                        found.append(_Violation("HasValue", f"FILTER (!{self.same(focus, obj)})", None))
                    else:
                        p = self.path(path_term)
                        found.append(_Violation("HasValue", f"FILTER NOT EXISTS {{ {focus} {p} {c} }}", None))
                elif name == "node":
                    each("Node", self.conforms(obj, value))
                elif name == "not":
                    each("Not", f"!{self.conforms(obj, value)}")
                elif name in ("and", "or", "xone"):
                    members = [self.conforms(m, value) for m in sh.items(obj)]
                    if name == "and":
                        each("And", " && ".join(members) or "true")
                    elif name == "or":
                        each("Or", " || ".join(members) or "false")
                    elif self.portable:  # Virtuoso 7.2 has no IF(); the members never fail
                        one = [
                            "(" + " && ".join(m if i == j else f"!{m}" for j, m in enumerate(members)) + ")"
                            for i in range(len(members))
                        ]
                        each("Xone", " || ".join(one) or "false")
                    else:
                        count = " + ".join(f"IF({m}, 1, 0)" for m in members) or "0"
                        each("Xone", f"({count}) = 1")
                elif name == "closed":
                    if _true(obj):
                        found.append(self.closed(shape, value, values))
                    elif not (isinstance(obj, ox.Literal) and obj.datatype.value == f"{XSD}boolean"):
                        raise Unsupported(f"sh:closed {obj}")
                elif name in ("equals", "disjoint", "lessThan", "lessThanOrEquals"):
                    if self.portable and name.startswith("less"):
                        why = "mixed-type comparisons abort queries there"
                        raise Unsupported(f"sh:{name} on a store ({why})")
                    p = None if path_term is None else self.path(path_term)
                    found.extend(self.pair(name, obj, focus, value, p))
                elif name in ("minCount", "maxCount"):
                    found.append(self.count(name, _integer(obj), focus, self.path(path_term), nested))
                elif name == "uniqueLang":
                    if _true(obj):
                        found.append(self.unique_lang(focus, self.path(path_term), nested))
                    elif not (isinstance(obj, ox.Literal) and obj.datatype.value == f"{XSD}boolean"):
                        raise Unsupported(f"sh:uniqueLang {obj}")
                elif name == "qualifiedValueShape":
                    if nested or path_term is None:
                        raise Unsupported("a qualified value shape inside a condition or on a node shape")
                    found.extend(self.qualified(shape, obj, focus, self.path(path_term)))
                else:
                    raise Unsupported(f"sh:{name}")
        return found

    def closed(self, shape: object, value: str, values: str) -> _Violation:
        """sh:closed (section 4.8.1): a result per triple of the value node with another predicate."""
        allowed = {
            str(p)
            for prop in self.shapes.objects(shape, f"{SH}property")
            for p in self.shapes.objects(prop, f"{SH}path")
            if isinstance(p, ox.NamedNode)
        }
        ignored = self.shapes.one(shape, f"{SH}ignoredProperties")
        if ignored is not None:
            allowed |= {str(t) for t in self.shapes.items(ignored)}
        p, o = self.var("p"), self.var("o")
        keep = f"FILTER ({p} NOT IN ({', '.join(sorted(allowed))}))" if allowed else ""
        return _Violation("Closed", f"{values} {value} {p} {o} . {keep}", o, path=p)

    def pair(self, name: str, other: object, focus: str, value: str, path: str | None) -> list[_Violation]:
        """sh:equals, sh:disjoint, sh:lessThan, sh:lessThanOrEquals (section 4.5); ``value`` is the
        focus itself for a node shape, else a variable over the values of ``path``."""
        if not isinstance(other, ox.NamedNode):
            raise Unsupported(f"sh:{name} {other}")
        component = name[0].upper() + name[1:]
        values = "" if path is None else f"{focus} {path} {value} ."
        if name == "disjoint":
            return [_Violation(component, f"{values} {focus} {other} {value} .", value)]
        o = self.var("o")
        if name == "equals":
            if path is None:
                there = f"{focus} {other} {o} . FILTER (!sameTerm({o}, {focus}))"
            else:
                there = f"{focus} {other} {o} . FILTER NOT EXISTS {{ {focus} {path} {o} }}"
            here = f"{values} FILTER NOT EXISTS {{ {focus} {other} {value} }}"
            return [_Violation(component, here, value), _Violation(component, there, o)]
        op = "<" if name == "lessThan" else "<="
        return [
            _Violation(
                component,
                f"{values} {focus} {other} {o} . FILTER (!COALESCE({value} {op} {o}, false))",
                value,
                extra=(o,),
            )
        ]

    def count(self, name: str, limit: int, focus: str, path: str, nested: bool) -> _Violation:
        """sh:minCount, sh:maxCount (section 4.2): pairwise-distinct variables inside conditions."""
        component = name[0].upper() + name[1:]
        if name == "minCount" and limit <= 0:
            return _Violation(component, "FILTER (false)", None)
        if not nested:
            if name == "minCount" and limit == 1:
                return _Violation(component, f"FILTER NOT EXISTS {{ {focus} {path} [] }}", None)
            op = "<" if name == "minCount" else ">"
            opt = ("OPTIONAL { ?this %s ?value }" if name == "minCount" else "?this %s ?value .") % path
            grouped = (
                f"SELECT ?this WHERE {{ {{ SELECT DISTINCT ?this WHERE {{ {{FOCUS}} }} }} {opt} }} "
                f"GROUP BY ?this HAVING (COUNT(DISTINCT ?value) {op} {limit})"
            )
            return _Violation(component, "", None, grouped=grouped)
        n = limit if name == "minCount" else limit + 1
        if n > _MAX_PAIRWISE:
            raise Unsupported(f"sh:{name} {limit} inside a condition")
        names = [self.var("c") for _ in range(n)]
        distinct = " && ".join(f"!sameTerm({a}, {b})" for a, b in itertools.combinations(names, 2))
        triples = " ".join(f"{focus} {path} {v} ." for v in names)
        has = f"{triples} FILTER ({distinct or 'true'})"
        if name == "minCount":
            return _Violation(component, f"FILTER NOT EXISTS {{ {has} }}", None)
        return _Violation(component, has, None)

    def unique_lang(self, focus: str, path: str, nested: bool) -> _Violation:
        """sh:uniqueLang true (section 4.5.3): a result per language tag used more than once."""
        a, b, lang = self.var("a"), self.var("b"), self.var("lang")
        pattern = (
            f'{focus} {path} {a} . {focus} {path} {b} . FILTER (!sameTerm({a}, {b}) && lang({a}) != "" '
            f"&& LCASE(lang({a})) = LCASE(lang({b}))) BIND (LCASE(lang({a})) AS {lang})"
        )
        if nested:
            return _Violation("UniqueLang", pattern, None)
        grouped = f"SELECT DISTINCT ?this ?lang WHERE {{ {{FOCUS}} {pattern.replace(lang, '?lang')} }}"
        return _Violation("UniqueLang", "", None, grouped=grouped)

    def qualified(self, shape: object, qualified: object, focus: str, path: str) -> list[_Violation]:
        """sh:qualifiedValueShape with its counts (section 4.7.3), at the top level only."""
        sh = self.shapes
        v = "?value"
        condition = self.conforms(qualified, v)
        if _true(sh.one(shape, f"{SH}qualifiedValueShapesDisjoint")):
            siblings = {
                q
                for parent in sh.subjects(f"{SH}property", shape)
                for prop in sh.objects(parent, f"{SH}property")
                for q in sh.objects(prop, f"{SH}qualifiedValueShape")
                if q != qualified
            }
            for sibling in sorted(siblings, key=str):
                condition += f" && !{self.conforms(sibling, v)}"
        found = []
        for name, op in (("qualifiedMinCount", "<"), ("qualifiedMaxCount", ">")):
            limit = sh.one(shape, f"{SH}{name}")
            if limit is None:
                continue
            grouped = (
                f"SELECT ?this WHERE {{ {{ SELECT DISTINCT ?this WHERE {{ {{FOCUS}} }} }} "
                f"OPTIONAL {{ ?this {path} ?value FILTER ({condition}) }} }} "
                f"GROUP BY ?this HAVING (COUNT(DISTINCT ?value) {op} {_integer(limit)})"
            )
            found.append(_Violation("Qualified" + name[len("qualified") :], "", None, grouped=grouped))
        return found

    # --- SPARQL-based constraints ------------------------------------------------------------

    def sparql(
        self, shape: object, focus_query: str, severity: ox.NamedNode, messages: dict
    ) -> Iterator[Check]:
        """SHACL-SPARQL constraints (section 5): run once for all focus nodes where that gives the
        rows of pre-binding, else once per focus node."""
        sh = self.shapes
        for constraint in sh.objects(shape, f"{SH}sparql"):
            if _true(sh.one(constraint, f"{SH}deactivated")):
                continue
            select = sh.one(constraint, f"{SH}select")
            if select is None:
                raise Unsupported(f"SPARQL constraint of {shape} without sh:select")
            text, joined = self.prebound(shape, select.value, {})
            self.runs_alike(text)
            yield Check(
                shape,
                sh.one(shape, f"{SH}path"),
                _severity(sh, constraint, severity),
                ox.NamedNode(f"{SH}SPARQLConstraintComponent"),
                _messages(sh, constraint) or messages,
                prefixes(sh, constraint) + text,
                focus_query,
                constraint,
                None if joined else "select",
            )

    def runs_alike(self, text: str) -> None:
        """In the portable dialect, refuse SPARQL written for the store that Virtuoso 7.2 is known to
        answer otherwise: a group that starts with FILTER (``{ FILTER (...) } UNION { ... }``)."""
        if not self.portable:
            return
        for a, b in itertools.pairwise(tokens(text)):
            if a.text == "{" and b.text.upper() == "FILTER":
                raise Unsupported(
                    "a SPARQL group that starts with FILTER on a store (Virtuoso 7.2 answers it wrongly)"
                )

    def prebound(self, shape: object, text: str, bindings: dict[str, str]) -> tuple[str, bool]:
        """``text`` with $PATH, $currentShape and ``bindings`` substituted (SHACL 5.3.1, 6.2), and
        whether it may run once for all focus nodes."""
        found = variables(text)
        if "shapesGraph" in found:
            raise Unsupported("$shapesGraph in a SPARQL query")
        bindings = dict(bindings)
        if "currentShape" in found:
            if not isinstance(shape, ox.NamedNode):
                raise Unsupported("$currentShape of a blank node shape")
            bindings["currentShape"] = str(shape)
        if "PATH" in found:
            path = self.shapes.one(shape, f"{SH}path")
            if path is None:
                raise Unsupported("$PATH in a SPARQL query of a node shape")
            bindings["PATH"] = self.path(path)
        substituted = prebind(text, bindings) if bindings else text
        if substituted is None:
            raise Unsupported("a SPARQL query whose pre-bound variables cannot be substituted")
        return substituted, joinable(substituted)

    def custom_components(
        self, shape: object, focus: Callable[[str], str], severity: ox.NamedNode, messages: dict
    ) -> Iterator[Check]:
        """The custom constraint components (SHACL 6) that ``shape`` has a value for each mandatory
        parameter of, with the validator for its kind of shape (6.2.3): sh:nodeValidator or
        sh:propertyValidator (SELECT), else sh:validator (ASK, once per value node)."""
        sh = self.shapes
        preds = sh.predicates(shape)
        path = sh.one(shape, f"{SH}path")
        for component in sorted(self.components, key=str):
            params = self.components[component]
            if not preds & {p for _, p, _ in params}:
                continue
            mandatory = [p for _, p, optional in params if not optional]
            if not mandatory:
                raise Unsupported(f"constraint component {component} without a mandatory parameter")
            if not set(mandatory) <= preds:
                continue
            if not isinstance(component, ox.NamedNode):
                raise Unsupported(f"a blank node constraint component {component}")
            bindings, terms = {}, {}
            for name, param, _ in params:
                if not re.fullmatch(r"\w+", name) or param.startswith(SH):
                    raise Unsupported(f"parameter {param} of {component}")
                found = sh.objects(shape, param)
                if len(found) > 1:
                    raise Unsupported(f"more than one value of parameter {param}")
                if found:
                    bindings[name], terms[name] = _const(found[0]), found[0]
            kind = "nodeValidator" if path is None else "propertyValidator"
            validator, key = sh.one(component, f"{SH}{kind}"), "select"
            if validator is None:
                validator, key = sh.one(component, f"{SH}validator"), "ask"
            text = None if validator is None else sh.one(validator, f"{SH}{key}")
            if not isinstance(text, ox.Literal):
                raise Unsupported(f"constraint component {component} without a {key.upper()} validator")
            query, joined = self.prebound(shape, text.value, bindings)
            self.runs_alike(query)
            # Where pyshacl, the reference, reads a validator otherwise than SHACL 6.3, kg leaves it to
            # pyshacl: it pre-binds $value to each value node in SELECT validators too, and gives no
            # sh:value for an ASK validator on a property shape.
            if path is not None and key == "ask":
                raise Unsupported(f"an ASK validator of {component} on a property shape")
            if path is not None and not (joined and selects_path_values(text.value)):
                raise Unsupported(f"a property validator of {component} not of the form $this $PATH ?value")
            if path is None and key == "select" and "value" in variables(text.value):
                raise Unsupported(f"$value in the node validator of {component}")
            said = _messages(sh, validator) or _messages(sh, component) or messages
            said = {
                lang: re.sub(
                    r"\{[$?](\w+)\}",
                    lambda m, terms=terms: terms[m.group(1)].value if m.group(1) in terms else m.group(0),
                    message,
                )
                for lang, message in said.items()
            }
            if key == "ask":
                query = ask_as_select(query)
                if query is None:
                    raise Unsupported(f"the ASK validator of {component} has more than a pattern")
                values = "BIND (?this AS ?value)" if path is None else f"?this {self.path(path)} ?value ."
                focus_query = f"SELECT DISTINCT ?this ?value WHERE {{ {focus('?this')} {values} }}"
            else:
                focus_query = f"SELECT DISTINCT ?this WHERE {{ {focus('?this')} }}"
            yield Check(
                shape,
                path,
                _severity(sh, shape, severity),
                component,
                said,
                prefixes(sh, validator) + query,
                focus_query,
                None,
                None if key == "select" and joined else key,
            )

    # --- top level ---------------------------------------------------------------------------

    def checks(
        self,
        shape: object,
        focus: Callable[[str], str],
        severity: ox.NamedNode,
        messages: dict,
        outer: tuple[str, ...] = (),
    ) -> list[Check]:
        """The checks of ``shape`` for the focus nodes that ``focus(var)`` binds, and of its
        property shapes (whose focus nodes are this shape's value nodes)."""
        if self.deactivated(shape):
            return []
        sh = self.shapes
        severity = _severity(sh, shape, severity)
        messages = _messages(sh, shape) or messages
        path = sh.one(shape, f"{SH}path")
        result_path = path
        out = []
        for v in self.own(shape, "?this", nested=False):
            component = ox.NamedNode(f"{SH}{v.component}ConstraintComponent")
            if v.grouped is not None:
                keys = " ".join(outer)
                query = (
                    v.grouped.replace("{FOCUS}", focus("?this"))
                    .replace("?this WHERE", f"?this {keys} WHERE", 2)
                    .replace("GROUP BY ?this", f"GROUP BY ?this {keys}")
                )
            else:
                value = f"({v.value} AS ?value)" if v.value not in (None, "?value") else (v.value or "")
                path_var = f"({v.path} AS ?path)" if v.path else ""
                more = " ".join((*outer, *v.extra))
                head = " ".join(("SELECT DISTINCT ?this", value, path_var, more))
                query = f"{head} WHERE {{ {focus('?this')} {v.pattern} }}"
            out.append(Check(shape, result_path, severity, component, messages, query))
        focus_query = f"SELECT DISTINCT ?this WHERE {{ {focus('?this')} }}"
        out.extend(self.sparql(shape, focus_query, severity, messages))
        out.extend(self.custom_components(shape, focus, severity, messages))
        for prop in sh.objects(shape, f"{SH}property"):
            if path is None:
                inner = focus
            else:
                sparql_path = self.path(path)
                f = self.var("f")

                def inner(var: str, around: Callable = focus, p: str = sparql_path, f: str = f) -> str:
                    return f"{{ SELECT DISTINCT {f} {var} WHERE {{ {around(f)} {f} {p} {var} . }} }}"

            more = outer if path is None else (*outer, f)
            out.extend(self.checks(prop, inner, ox.NamedNode(f"{SH}Violation"), {}, more))
        return out


def _primary(text: str) -> bool:
    """Whether ``text`` is one bracketed expression or function call (``(...)``, ``f(...)``)."""
    toks = tokens(text)
    start = 1 if len(toks) > 1 and toks[0].kind == "word" else 0
    if len(toks) < start + 2 or toks[start].text != "(" or toks[-1].text != ")":
        return False
    depth = toks[start].depth
    return unbalanced(toks) is None and all(t.depth > depth for t in toks[start + 1 : -1])


def _const(term: object) -> str:
    """A term as a SPARQL constant (a blank node in a query would be a variable)."""
    if isinstance(term, ox.BlankNode) or not isinstance(term, ox.NamedNode | ox.Literal):
        raise Unsupported(f"a blank node as a constant: {term}")
    return str(term)


def _name(shape: object) -> str:
    """A shape's IRI, or ``_:label`` for a blank node."""
    return shape.value if isinstance(shape, ox.NamedNode) else str(shape)


def _integer(term: object) -> int:
    if not isinstance(term, ox.Literal) or not re.fullmatch(r"[+-]?\d+", term.value):
        raise Unsupported(f"not an integer: {term}")
    return int(term.value)


def _datatype_ok(value: str, datatype: object, portable_dialect: bool = False) -> str:
    if not isinstance(datatype, ox.NamedNode):
        raise Unsupported(f"sh:datatype {datatype}")
    if (
        datatype.value.startswith(XSD)
        and datatype.value not in _CASTABLE
        and datatype.value
        not in (
            f"{XSD}string",
            f"{XSD}anyURI",
        )
    ):
        raise Unsupported(f"sh:datatype {datatype}: Oxigraph keeps no literal of that type as written")
    if portable_dialect:
        return portable.datatype_ok(value, datatype.value, datatype.value in _CASTABLE)
    ok = f"isLiteral({value}) && datatype({value}) = {datatype}"
    if datatype.value in _CASTABLE:
        ok += f" && COALESCE(isLiteral({datatype}({value})), false)"
    return ok


def _messages(shapes: _Shapes, node: object) -> dict[str, str]:
    return {
        (m.language or ""): m.value for m in shapes.objects(node, f"{SH}message") if isinstance(m, ox.Literal)
    }


def _severity(shapes: _Shapes, shape: object, default: ox.NamedNode) -> ox.NamedNode:
    found = shapes.one(shape, f"{SH}severity")
    if found is None:
        return default
    if not isinstance(found, ox.NamedNode):
        raise Unsupported(f"sh:severity {found}")
    return found


def prefixes(shapes: _Shapes, constraint: object) -> str:
    """PREFIX lines from the constraint's sh:prefixes, following owl:imports within the shapes graph
    (SHACL 5.2.2); an import or prefixes node that is not in the shapes graph is not fetched."""
    lines, seen = [], set()
    todo = list(shapes.objects(constraint, f"{SH}prefixes"))
    while todo:
        source = todo.pop()
        if source in seen:
            continue
        seen.add(source)
        for decl in shapes.objects(source, f"{SH}declare"):
            prefix, namespace = shapes.one(decl, f"{SH}prefix"), shapes.one(decl, f"{SH}namespace")
            if prefix is not None and namespace is not None:
                lines.append(f"PREFIX {prefix.value}: <{namespace.value}>")
        todo.extend(shapes.objects(source, f"{OWL}imports"))
    return "\n".join(sorted(set(lines))) + "\n"


def top_level_shapes(store: ox.Store, graph: ox.NamedNode) -> list:
    """The shapes with targets (explicit or implicit), in a stable order."""
    shapes = _Shapes(store, graph)
    compiler = _Compiler(shapes)
    found = {
        q.subject
        for q in store.quads_for_pattern(None, None, None, graph)
        if q.predicate.value.startswith(f"{SH}target")
    }
    for kind in ("NodeShape", "PropertyShape"):
        found |= {
            s for s in shapes.subjects(RDF_TYPE, ox.NamedNode(f"{SH}{kind}")) if compiler.implicit_class(s)
        }
    return sorted(found, key=str)


def compile_shapes(
    store: ox.Store,
    graph: ox.NamedNode,
    only: Callable[[object], str | None] | None = None,
    portable_dialect: bool = False,
) -> Compiled:
    """Every constraint of the shapes in ``graph`` as a query, per top-level shape; a shape that
    cannot be compiled exactly is listed in ``declined`` with the reason.

    ``only(shape)``, if given, may return SPARQL terms (IRIs, literals): the checks of that top-level
    shape then look at those of its focus nodes only (a VALUES block before its targets).
    ``portable_dialect``: SPARQL that other stores answer as Oxigraph does
    (:mod:`kg.engines.shacl_portable`), each target of a shape in checks of its own (Virtuoso 7.2
    answers a UNION of targets wrongly)."""
    shapes = _Shapes(store, graph)
    out = Compiled()
    groups = itertools.count()
    for shape in top_level_shapes(store, graph):
        compiler = _Compiler(shapes, portable_dialect)
        nodes = None if only is None else only(shape)
        compiler.few = nodes is not None
        try:
            if f"{SH}target" in shapes.predicates(shape):
                raise Unsupported("sh:target (SHACL Advanced Features)")

            def focus(
                var: str, shape: object = shape, compiler: _Compiler = compiler, nodes: str | None = nodes
            ) -> str:
                targets = compiler.targets(shape, var)
                found = " UNION ".join(f"{{ {t} }}" for t in targets) if len(targets) > 1 else targets[0]
                return found if nodes is None else f"VALUES {var} {{ {nodes} }} {found}"

            if not portable_dialect:
                checks = compiler.checks(shape, focus, ox.NamedNode(f"{SH}Violation"), {})
            else:
                parts = [
                    compiler.checks(
                        shape,
                        lambda var, i=i, shape=shape, compiler=compiler, nodes=nodes: (
                            (f"VALUES {var} {{ {nodes} }} " if nodes is not None else "")
                            + compiler.targets(shape, var)[i]
                        ),
                        ox.NamedNode(f"{SH}Violation"),
                        {},
                    )
                    for i in range(len(compiler.targets(shape, "?this")))
                ]
                number = next(groups)
                checks = [
                    dataclasses.replace(check, group=(number, j))
                    for part in parts
                    for j, check in enumerate(part)
                ]
        except (Unsupported, portable.Unportable) as err:
            out.declined[_name(shape)] = str(err)
            continue
        out.compiled.append(_name(shape))
        out.checks.extend(checks)
        out.owners.extend([shape] * len(checks))
    return out


def store_select(store: ox.Store, graphs: Sequence[ox.NamedNode]) -> Select:
    """A :data:`Select` on the union of ``graphs`` in an Oxigraph store."""

    def select(text: str) -> tuple[list[str], list[tuple]]:
        try:
            solutions = store.query(text, default_graph=list(graphs))
        except SyntaxError as err:  # a SPARQL-based constraint that Oxigraph cannot parse
            raise Unsupported(str(err)) from None
        return [v.value for v in solutions.variables], [tuple(sol) for sol in solutions]

    return select


def run(checks: Sequence[Check], select: Select, portable_dialect: bool = False) -> Iterator[tuple]:
    """(check, focus, path, value) for every result of ``checks``, each SELECT run by ``select``
    (the union of the data graphs in a local store, or a remote store's dataset).

    Checks run on a thread per core: Oxigraph evaluates queries without holding Python's GIL, so
    two cores validate in about half the time. Results come in the order of ``checks``. Checks
    compiled in the portable dialect get the ill-typed lexical forms of their datatypes filled in
    (:func:`kg.engines.shacl_portable.ill_typed`), and the parts of one check (one per target) give
    each result once.
    """
    from kg.core.progress import current

    bar = current()
    if bar is not None:
        bar.total, bar.done = len(checks), 0
    texts = [q for c in checks for q in (c.query, c.focus or "")]
    subclasses = _subclasses(texts, select)
    bad: dict[str, list[str]] = {}
    if portable_dialect:
        try:
            bad = portable.ill_typed({d for q in texts for d in portable.markers(q)}, select)
        except portable.Unportable as err:
            raise Unsupported(str(err)) from None

    def prepare(query: str) -> str:
        query = _with_classes(query, subclasses, portable_dialect)
        return portable.fill(query, bad) if portable_dialect else query

    focus_nodes: dict[str, set] = {}

    def focus(query: str) -> set:
        if query not in focus_nodes:
            names, rows = select(prepare(query))
            at = names.index("this")
            focus_nodes[query] = {row[at] for row in rows}
        return focus_nodes[query]

    def one(check: Check) -> list[tuple]:
        try:
            if check.per_node is not None:
                names, table = ["this"], per_node(check, select, prepare(check.focus))
            else:
                names, solutions = select(prepare(check.query))
                table = [dict(zip(names, sol, strict=True)) for sol in solutions]
        except Unsupported as err:
            raise Unsupported(f"{check.shape}: {err}") from None
        if "this" not in names:
            raise Unsupported(f"SPARQL constraint of {check.shape} does not select $this")
        keep = focus(check.focus) if check.focus is not None and check.per_node is None else None
        rows, seen = [], set()
        for row in table:
            if check.focus is not None and check.constraint is None:  # a custom component (6.3)
                row = {k: v for k, v in row.items() if k in ("this", "path", "value")}
            key = tuple(sorted((k, str(v)) for k, v in row.items() if v is not None))
            if row["this"] is None or (keep is not None and row["this"] not in keep) or key in seen:
                continue
            seen.add(key)
            value = row.get("value")
            if value is None and (check.constraint is not None or check.per_node == "select"):
                value = row["this"]  # SHACL 5.3.2: without ?value, the focus node
            rows.append((key, (check, row["this"], row.get("path") or check.path, value)))
        if bar is not None:
            bar.advance()
        return rows

    merged: set[tuple] = set()
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        for check, rows in zip(checks, pool.map(one, checks), strict=True):
            for key, result in rows:
                if check.group is not None:
                    if (check.group, key) in merged:
                        continue
                    merged.add((check.group, key))
                yield result


def _term(node: object) -> str:
    """A focus or value node as a SPARQL constant; a blank node cannot be one (it would be a variable)."""
    if not isinstance(node, ox.NamedNode | ox.Literal):
        raise Unsupported(f"pre-binding a blank node {node} in a SPARQL query")
    return str(node)


def per_node(check: Check, select: Select, focus: str) -> list[dict]:
    """The rows of a check that runs once per focus node (``per_node`` "select") or value node ("ask":
    its query is an ASK written as a SELECT of one row where true), its variables pre-bound by
    substitution (SHACL 5.3.1 and 6.2.3)."""
    rows = []
    bind = prebinder(check.query, ("this", "value") if check.per_node == "ask" else ("this",))
    if bind is None:
        raise Unsupported(f"a SPARQL query of {check.shape} whose pre-bound variables cannot be substituted")
    names, found = select(focus)
    for node in found:
        row = dict(zip(names, node, strict=True))
        this, value = row["this"], row.get("value")
        bindings = {"this": _term(this)}
        if check.per_node == "ask":
            bindings["value"] = _term(value)
        text = bind(bindings)
        columns, answer = select(text)
        if check.per_node == "ask":
            if not answer:
                rows.append({"this": this, "value": value})
            continue
        for sol in answer:
            cells = dict(zip(columns, sol, strict=True))
            rows.append({**{n: cells[n] for n in ("value", "path") if n in cells}, "this": this})
    return rows
