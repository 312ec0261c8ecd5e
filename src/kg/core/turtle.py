"""Canonical Turtle: one file style for ontology/ and data/, so that diffs show only real changes.

- The file's opening comment block is kept; other comments are not (section headings are regenerated):
  :func:`dropped_comments` finds them, so that kg fmt can refuse to lose a steward's note.
- Prefixes: kg's own names (``kg.core.namespaces.PREFIXES``) plus the file's other declarations, only those
  used, sorted by name.
- Subjects in sections (ontology, classes, object properties, datatype properties, other properties,
  concept schemes, concepts, other things), sorted by IRI within a section; ``a`` first, then
  predicates sorted by IRI; objects sorted.
- A blank node used once as an object is written inline (``[ ... ]``, or ``( ... )`` for a list);
  blank subjects used nowhere else are written as ``[ ... ] p o .``; any other blank node gets a label.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

import pyoxigraph as ox

from kg.core.namespaces import OWL, PREFIXES, RDF, RDFS, SKOS, XSD

TYPE = RDF + "type"
SECTIONS = (
    (OWL + "Ontology", "Ontology"),
    (OWL + "Class", "Classes"),
    (OWL + "ObjectProperty", "Object properties"),
    (OWL + "DatatypeProperty", "Datatype properties"),
    (OWL + "AnnotationProperty", "Annotation properties"),
    (SKOS + "ConceptScheme", "Concept schemes"),
    (SKOS + "Concept", "Concepts"),
)
WIDTH = 100
_LOCAL = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_-])?")
_EOL = re.compile(r"\r\n|\r|\n")
# what may hold a '#' that is no comment (Turtle 1.1, sections 6.2 and 6.5): long strings (a quote
# inside one is followed by a non-quote), short strings, IRIREFs, escapes (ECHAR, PN_LOCAL_ESC); and
# comments
_TOKEN = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*(?:"""|\Z)'
    r"|'''(?:[^'\\]|\\.|'(?!''))*(?:'''|\Z)"
    r'|"(?:[^"\\\r\n]|\\.)*"?'
    r"|'(?:[^'\\\r\n]|\\.)*'?"
    r"|<[^>]*>?"
    r"|\\."
    r"|#[^\r\n]*",
    re.DOTALL,
)
_PREFIX_DECL = re.compile(r"@prefix\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>", re.IGNORECASE)

Term = ox.NamedNode | ox.BlankNode | ox.Literal


def header_comment(text: str) -> str:
    """The comment lines (and blank lines between them) that open a Turtle file."""
    lines = []
    for line in text.splitlines():
        if line.startswith("#") or (not line.strip() and lines):
            lines.append(line.rstrip())
        else:
            break
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def comments(text: str) -> list[tuple[int, int, str]]:
    """Every comment of a Turtle text as (start offset, line number, text without line end).

    Turtle 1.1, section 6.2: a comment is ``#`` up to the end of the line, outside an IRIREF and
    outside a string (short or long, in either quote); in a prefixed name ``\\#`` is an escaped
    character of the local name (PN_LOCAL_ESC, section 6.4), not a comment. Lines end at LF, CR or
    CR LF (EOL). Meant for text that parses: an unterminated IRI or string runs to the end of the text.
    """
    found = []
    line, counted = 1, 0
    for token in _TOKEN.finditer(text):
        if token.group().startswith("#"):
            line += len(_EOL.findall(text, counted, token.start()))  # a '#' never splits a CR LF
            counted = token.start()
            found.append((token.start(), line, token.group()))
    return found


def _header_end(text: str) -> int:
    """The offset where the opening comment block (as :func:`header_comment` reads it) ends."""
    offset = end = 0
    started = False
    for line in text.splitlines(keepends=True):
        if line.startswith("#"):
            started = True
            end = offset + len(line.rstrip("\r\n"))
        elif not (started and not line.strip()):
            break
        offset += len(line)
    return end


def dropped_comments(text: str) -> list[tuple[int, str]]:
    """(line, comment) of each comment that canonical Turtle (:func:`format_text`) does not keep.

    Kept are the opening comment block and kg's own section headings (they are written anew)."""
    end = _header_end(text)
    ours = {_heading(title) for _, title in SECTIONS} | {
        _heading("Other resources"),
        _heading("Anonymous resources"),
    }
    return [
        (line, comment)
        for start, line, comment in comments(text)
        if not (start + len(comment) <= end or comment.rstrip() in ours)
    ]


def declared_prefixes(text: str) -> dict[str, str]:
    """``@prefix`` declarations of a Turtle text."""
    return {(p or ""): ns for p, ns in _PREFIX_DECL.findall(text)}


class _Writer:
    def __init__(self, triples: list[ox.Triple], prefixes: dict[str, str]):
        self.by_subject: dict[Term, list[ox.Triple]] = defaultdict(list)
        self.object_uses: dict[ox.BlankNode, int] = defaultdict(int)
        for t in triples:
            self.by_subject[t.subject].append(t)
            if isinstance(t.object, ox.BlankNode):
                self.object_uses[t.object] += 1
        self.prefixes = prefixes
        self.used: set[str] = set()
        self.labels: dict[ox.BlankNode, str] = {}
        self.written: set[ox.BlankNode] = set()

    # --- terms -----------------------------------------------------------------------------
    def iri(self, iri: str) -> str:
        best = None
        for prefix, ns in self.prefixes.items():
            if iri.startswith(ns) and (best is None or len(ns) > len(self.prefixes[best])):
                local = iri[len(ns) :]
                if local == "" or _LOCAL.fullmatch(local):
                    best = prefix
        if best is None:
            return f"<{iri}>"
        self.used.add(best)
        return f"{best}:{iri[len(self.prefixes[best]) :]}"

    def literal(self, lit: ox.Literal) -> str:
        value, dt = lit.value, lit.datatype.value
        if dt == XSD + "integer" and re.fullmatch(r"[+-]?[0-9]+", value):
            return value
        if dt == XSD + "decimal" and re.fullmatch(r"[+-]?[0-9]*\.[0-9]+", value):
            return value
        if dt == XSD + "boolean" and value in ("true", "false"):
            return value
        if "\n" in value:
            body = '"""' + value.replace("\\", "\\\\").replace('"""', '\\"\\"\\"') + '"""'
            if body.endswith('""""'):
                body = body[:-4] + '\\""""'
        else:
            body = '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r") + '"'
        if lit.language:
            return f"{body}@{lit.language}"
        if dt in (XSD + "string", RDF + "langString"):
            return body
        return f"{body}^^{self.iri(dt)}"

    def term(self, term: Term, depth: int) -> str:
        if isinstance(term, ox.NamedNode):
            return "a" if term.value == TYPE and depth < 0 else self.iri(term.value)
        if isinstance(term, ox.Literal):
            return self.literal(term)
        if self.object_uses[term] == 1 and term not in self.labels:
            items = self.as_list(term)
            if items is not None:
                self.written.update(self.list_nodes(term))
                return "( " + " ".join(self.term(i, depth + 1) for i in items) + " )" if items else "()"
            self.written.add(term)
            return self.inline(term, depth + 1)
        return self.label(term)

    def list_nodes(self, node: ox.BlankNode) -> list[ox.BlankNode]:
        """The blank nodes that make up the list starting at ``node``."""
        nodes = [node]
        while True:
            rest = next(t.object for t in self.by_subject[nodes[-1]] if t.predicate.value == RDF + "rest")
            if not isinstance(rest, ox.BlankNode):
                return nodes
            nodes.append(rest)

    def label(self, node: ox.BlankNode) -> str:
        if node not in self.labels:
            self.labels[node] = f"_:b{len(self.labels)}"
        return self.labels[node]

    def as_list(self, node: ox.BlankNode) -> list[Term] | None:
        """The members of a well-formed RDF list starting at ``node``, else None."""
        items, seen = [], set()
        while True:
            if node in seen:
                return None
            seen.add(node)
            triples = self.by_subject.get(node, [])
            firsts = [t.object for t in triples if t.predicate.value == RDF + "first"]
            rests = [t.object for t in triples if t.predicate.value == RDF + "rest"]
            if len(triples) != 2 or len(firsts) != 1 or len(rests) != 1:
                return None
            items.append(firsts[0])
            rest = rests[0]
            if isinstance(rest, ox.NamedNode) and rest.value == RDF + "nil":
                return items
            if not isinstance(rest, ox.BlankNode) or self.object_uses[rest] != 1:
                return None
            node = rest

    # --- statements --------------------------------------------------------------------------
    def predicate_objects(self, triples: list[ox.Triple], depth: int) -> list[tuple[str, list[str]]]:
        grouped: dict[str, list[Term]] = defaultdict(list)
        for t in triples:
            grouped[t.predicate.value].append(t.object)
        order = sorted(grouped, key=lambda p: (p != TYPE, p))
        out = []
        for p in order:
            # one entry per object: two different blank nodes may both be written "[]"
            objects = sorted((self.term(o, depth) for o in grouped[p]), key=_object_key)
            out.append(("a" if p == TYPE else self.iri(p), objects))
        return out

    def inline(self, node: ox.BlankNode, depth: int) -> str:
        return self.inline_triples(self.by_subject.get(node, []), depth)

    def inline_triples(self, triples: list[ox.Triple], depth: int) -> str:
        pairs = self.predicate_objects(triples, depth)
        if not pairs:
            return "[]"
        flat = " ; ".join(f"{p} {' , '.join(objs)}" for p, objs in pairs)
        if len(flat) <= 90 and "\n" not in flat:
            return f"[ {flat} ]"
        pad = "    " * (depth + 1)
        body = f" ;\n{pad}".join(f"{p} {' , '.join(objs)}" for p, objs in pairs)
        return f"[\n{pad}{body}\n{'    ' * depth}]"

    def block(self, subject: str, triples: list[ox.Triple]) -> str:
        lines = []
        for p, objects in self.predicate_objects(triples, 1):
            one = f"    {p} {' , '.join(objects)}"
            if len(one) <= WIDTH or len(objects) == 1:
                lines.append(one)
            else:
                lines.append(f"    {p} " + " ,\n        ".join(objects))
        return f"{subject}\n" + " ;\n".join(lines) + " ."


def _heading(title: str) -> str:
    return f"# --- {title} ".ljust(WIDTH, "-")


def _object_key(text: str) -> tuple:
    kind = 0 if not text.startswith(('"', "[", "(", "_:")) else 2 if text.startswith('"') else 1
    return (kind, text)


def _section(triples: list[ox.Triple]) -> int:
    types = {
        t.object.value for t in triples if t.predicate.value == TYPE and isinstance(t.object, ox.NamedNode)
    }
    for index, (cls, _) in enumerate(SECTIONS):
        if cls in types:
            return index
    if types & {RDF + "Property", OWL + "TransitiveProperty", OWL + "SymmetricProperty"}:
        return 4
    return len(SECTIONS)


def canonical_blank_nodes(triples: Iterable[ox.Triple]) -> list[ox.Triple]:
    """The triples with blank nodes relabelled canonically: isomorphic graphs get the same labels.

    Uses rdflib's canonical labelling (rdflib.compare); graphs without blank nodes pass unchanged.
    Literals are handed over as written: rdflib's parsers would put ``"007"^^xsd:integer`` in its
    canonical form, another RDF term (RDF 1.1 Concepts, section 3.3).
    """
    triples = list(set(triples))
    if not any(isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode) for t in triples):
        return triples
    import rdflib
    from rdflib.compare import to_canonical_graph

    def term(node: Term) -> rdflib.term.Node:
        if isinstance(node, ox.NamedNode):
            return rdflib.URIRef(node.value)
        if isinstance(node, ox.BlankNode):
            return rdflib.BNode(node.value)
        if node.language:
            return rdflib.Literal(node.value, lang=node.language, normalize=False)
        if node.datatype.value == XSD + "string":
            return rdflib.Literal(node.value, normalize=False)
        return rdflib.Literal(node.value, datatype=rdflib.URIRef(node.datatype.value), normalize=False)

    graph = rdflib.Graph()
    for t in triples:
        graph.add((term(t.subject), term(t.predicate), term(t.object)))
    text = to_canonical_graph(graph).serialize(format="nt")
    return [q.triple for q in ox.parse(text.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)]


def serialize(
    triples: Iterable[ox.Triple], *, header: str = "", prefixes: dict[str, str] | None = None
) -> str:
    """Canonical Turtle text of ``triples``; ``header`` (comment lines) is written first."""
    triples = sorted(canonical_blank_nodes(triples), key=str)
    names = {**(prefixes or {}), **PREFIXES}
    writer = _Writer(triples, dict(sorted(names.items(), key=lambda kv: -len(kv[1]))))
    named = sorted(
        (s for s in writer.by_subject if not isinstance(s, ox.BlankNode)),
        key=lambda s: (_section(writer.by_subject[s]), str(s)),
    )
    blocks: list[str] = []
    current = -1
    for subject in named:
        section = _section(writer.by_subject[subject])
        if section != current and (section < len(SECTIONS) or current != -1):
            title = SECTIONS[section][1] if section < len(SECTIONS) else "Other resources"
            blocks.append(_heading(title))
        current = section
        blocks.append(writer.block(writer.iri(subject.value), writer.by_subject[subject]))
    # blank subjects that are no one's object, e.g. OWL restrictions: [ ... ] p o .
    free = [s for s in writer.by_subject if isinstance(s, ox.BlankNode) and writer.object_uses[s] == 0]
    free_blocks = []
    for node in free:
        writer.written.add(node)
        triples = writer.by_subject[node]
        outer = [t for t in triples if _points_out(t)]
        head = writer.inline_triples([t for t in triples if not _points_out(t)], 0)
        rest = writer.predicate_objects(outer, 1)
        body = "".join(f"\n    {p} {' , '.join(o)}" for p, o in rest)
        free_blocks.append(f"{head}{body} .")
    if free_blocks:
        blocks.append(_heading("Anonymous resources"))
        blocks.extend(sorted(free_blocks))
    # blank nodes that could not be inlined (shared, or in a cycle no named node reaches): labelled
    done = 0
    blank_subjects = sorted((s for s in writer.by_subject if isinstance(s, ox.BlankNode)), key=str)
    while True:
        if done == len(writer.labels):
            left = [s for s in blank_subjects if s not in writer.written and s not in writer.labels]
            if not left:
                break
            writer.label(left[0])
        node = list(writer.labels)[done]
        writer.written.add(node)
        if writer.by_subject.get(node):  # a label with no triples of its own needs no block
            blocks.append(writer.block(writer.labels[node], writer.by_subject[node]))
        done += 1
    width = max((len(p) for p in writer.used), default=0)
    prefix_lines = [f"@prefix {(p + ':').ljust(width + 1)} <{names[p]}> ." for p in sorted(writer.used)]
    parts = [header] if header else []
    parts.append("\n".join(prefix_lines))
    parts.extend(blocks)
    return "\n\n".join(part for part in parts if part) + "\n"


def _points_out(t: ox.Triple) -> bool:
    """Whether a triple of a free blank subject says how it relates to named things (kept outside)."""
    return t.predicate.value in (RDFS + "subClassOf", OWL + "equivalentClass")


def format_text(text: str, base: str | None = None) -> str:
    """Reformat a Turtle text canonically, keeping its opening comments and extra prefixes; relative
    IRIs resolve against ``base``.

    Raises SyntaxError (from Oxigraph, with the line) when the text is not valid Turtle.
    """
    triples = [q.triple for q in ox.parse(text.encode("utf-8"), format=ox.RdfFormat.TURTLE, base_iri=base)]
    return serialize(triples, header=header_comment(text), prefixes=declared_prefixes(text))
