"""Compact JSON-LD 1.1 with kg's curated context (``publish/context.jsonld``).

Short keys for kg's properties, class names as types, values coerced by the context (IRIs, years,
decimals, language maps), and each initiative's own parts (area, goal, legal-form periods, and any
blank node used once) nested inside it. What the context does not name is written with prefixed keys
and full value objects, so nothing is lost: expanding the document gives back exactly the graph
(a test checks this with pyld, an independent JSON-LD processor).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from functools import cache

import pyoxigraph as ox

from kg.core import bundle
from kg.core.namespaces import RDF_TYPE, XSD
from kg.core.turtle import canonical_blank_nodes


@cache
def context() -> dict:
    """The curated ``@context`` (its contents, without the wrapper)."""
    with open(bundle.root() / "publish" / "context.jsonld", encoding="utf-8") as handle:
        return json.load(handle)["@context"]


class _Compactor:
    def __init__(self, ctx: dict):
        self.prefixes = {
            k: v
            for k, v in ctx.items()
            if isinstance(v, str) and v.endswith(("/", "#")) and not k.startswith("@")
        }
        self.classes: dict[str, str] = {}
        self.terms: dict[str, list[tuple[str, dict]]] = defaultdict(list)
        for term, definition in ctx.items():
            if term.startswith("@") or term in self.prefixes:
                continue
            if isinstance(definition, str):
                if definition.startswith("@"):
                    continue
                if term[0].isupper():  # the context names classes with capitals, properties without
                    self.classes[self.expand(definition)] = term
                else:
                    self.terms[self.expand(definition)].append((term, {}))
            else:
                self.terms[self.expand(definition["@id"])].append((term, definition))

    def expand(self, curie: str) -> str:
        prefix, sep, local = curie.partition(":")
        return self.prefixes[prefix] + local if sep and prefix in self.prefixes else curie

    def iri(self, iri: str) -> str:
        best = ""
        for prefix, ns in self.prefixes.items():
            local = iri[len(ns) :]
            if (
                iri.startswith(ns)
                and local
                and not local.startswith("//")
                and len(ns) > len(self.prefixes.get(best, ""))
            ):
                best = prefix
        return f"{best}:{iri[len(self.prefixes[best]) :]}" if best else iri

    def node_id(self, term: ox.NamedNode | ox.BlankNode) -> str:
        return self.iri(term.value) if isinstance(term, ox.NamedNode) else f"_:{term.value}"

    def term_for(self, predicate: str, want: str, value: str | None = None) -> str | None:
        """A context term for ``predicate`` whose coercion fits: want is id, lang, type or plain."""
        for term, definition in self.terms.get(predicate, []):
            coerce, container = definition.get("@type"), definition.get("@container")
            if want == "id" and coerce == "@id" and not container:
                return term
            if want == "lang" and container == "@language":
                return term
            if want == "type" and coerce and coerce != "@id" and self.expand(coerce) == value:
                return term
            if want == "plain" and not coerce and not container:
                return term
        return None

    def entries(self, predicate: str, obj: object) -> tuple[str, object, bool]:
        """(key, value, goes in a language map) for one triple's predicate and object."""
        if predicate == RDF_TYPE and isinstance(obj, ox.NamedNode):
            return "type", self.classes.get(obj.value) or self.iri(obj.value), False
        if isinstance(obj, (ox.NamedNode, ox.BlankNode)):
            term = self.term_for(predicate, "id")
            return (
                (term, self.node_id(obj), False)
                if term
                else (self.iri(predicate), {"@id": self.node_id(obj)}, False)
            )
        assert isinstance(obj, ox.Literal)
        if obj.language:
            term = self.term_for(predicate, "lang")
            if term:
                return term, (obj.language, obj.value), True
            return self.iri(predicate), {"@value": obj.value, "@language": obj.language}, False
        datatype = obj.datatype.value
        if datatype == XSD + "string":
            term = self.term_for(predicate, "plain")
            return term or self.iri(predicate), obj.value, False
        term = self.term_for(predicate, "type", datatype)
        if term:
            return term, obj.value, False
        key = self.term_for(predicate, "plain") or self.iri(predicate)
        if (
            datatype == XSD + "integer"
            and obj.value.lstrip("-").isdigit()
            and str(int(obj.value)) == obj.value
        ):
            return key, int(obj.value), False
        if datatype == XSD + "boolean" and obj.value in ("true", "false"):
            return key, obj.value == "true", False
        return key, {"@value": obj.value, "@type": self.iri(datatype)}, False


def document(triples: Iterable[ox.Triple]) -> dict:
    """The compact JSON-LD document (a dict) for ``triples``."""
    ctx = context()
    compactor = _Compactor(ctx)
    triples = sorted(canonical_blank_nodes(triples), key=str)
    by_subject: dict[object, list[ox.Triple]] = defaultdict(list)
    uses: dict[object, list[object]] = defaultdict(list)
    for t in triples:
        by_subject[t.subject].append(t)
        if isinstance(t.object, (ox.NamedNode, ox.BlankNode)):
            uses[t.object].append(t.subject)

    def owned(node: object) -> bool:
        """Nest a node under its only referrer: blank nodes, and IRIs that extend the referrer's."""
        if node not in by_subject or len(uses.get(node, ())) != 1:
            return False
        owner = uses[node][0]
        if owner == node:
            return False
        if isinstance(node, ox.BlankNode):
            return True
        return isinstance(owner, ox.NamedNode) and node.value.startswith(owner.value + "-")

    nested = {n for n in by_subject if owned(n)}
    # a cycle of owned nodes has no top: keep its members at the top level
    for node in list(nested):
        seen, cur = set(), node
        while cur in nested and cur not in seen:
            seen.add(cur)
            cur = uses[cur][0]
        if cur in seen:
            nested -= seen

    def build(subject: object) -> dict:
        node: dict[str, object] = {"id": compactor.node_id(subject)}
        values: dict[str, list] = defaultdict(list)
        maps: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for t in by_subject[subject]:
            key, value, is_map = compactor.entries(t.predicate.value, t.object)
            if is_map:
                maps[key][value[0]].append(value[1])
            elif isinstance(t.object, (ox.NamedNode, ox.BlankNode)) and t.object in nested:
                values[key].append(build(t.object))  # the node itself instead of a reference
            else:
                values[key].append(value)
        if isinstance(subject, ox.BlankNode) and subject in nested:
            node.pop("id")
        for key in sorted(set(values) | set(maps), key=lambda k: (k != "type", k)):
            if key in maps:
                node[key] = {
                    lang: v[0] if len(v) == 1 else sorted(v) for lang, v in sorted(maps[key].items())
                }
            else:
                items = values[key]
                node[key] = items[0] if len(items) == 1 else items
        return node

    graph = [build(s) for s in sorted(by_subject, key=lambda s: compactor.node_id(s)) if s not in nested]
    return {"@context": ctx, "@graph": graph}


def serialize(triples: Iterable[ox.Triple]) -> bytes:
    """Compact JSON-LD text (UTF-8, two-space indent, stable order)."""
    return (json.dumps(document(triples), ensure_ascii=False, indent=2) + "\n").encode("utf-8")
