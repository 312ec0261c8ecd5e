"""OWL class expressions and axioms in words and in a Manchester-like syntax, for the documentation.

Reads the ontology's triples as they are (blank nodes included) and renders what the OWL 2 Mapping to
RDF Graphs (W3C Recommendation, second edition 2012-12-11, section 3.2.4) encodes: restrictions
(hasValue, someValuesFrom, allValuesFrom, cardinalities, qualified or not), intersectionOf, unionOf,
complementOf and oneOf. The Manchester-like form follows the OWL 2 Manchester Syntax (W3C Working Group
Note 2012-12-11, section 2.4): ``p value v``, ``p some C``, ``p only C``, ``p min n C``, ``A and B``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import pyoxigraph as ox

from kg.core.namespaces import OWL, RDF, RDFS

Term = ox.NamedNode | ox.BlankNode | ox.Literal

WORDS = {
    "nl": {
        "value": "{p} heeft de waarde {v}",
        "some": "{p} heeft ten minste één waarde van het type {c}",
        "only": "{p} heeft alleen waarden van het type {c}",
        "min": "{p} heeft ten minste {n} waarde(n){q}",
        "max": "{p} heeft ten hoogste {n} waarde(n){q}",
        "exactly": "{p} heeft precies {n} waarde(n){q}",
        "of": " van het type {c}",
        "and": " en ",
        "or": " of ",
        "not": "niet ({c})",
        "one of": "een van {items}",
        "thing": "iets",
        "sub": "Elk {c} is {e}.",
        "super": "Alles waarvoor geldt: {e}, is een {c}.",
        "equivalent": "Een {c} is precies iets waarvoor geldt: {e}.",
        "disjoint": "Niets is zowel een {c} als een {e}.",
    },
    "en": {
        "value": "{p} has the value {v}",
        "some": "{p} has at least one value of type {c}",
        "only": "{p} has only values of type {c}",
        "min": "{p} has at least {n} value(s){q}",
        "max": "{p} has at most {n} value(s){q}",
        "exactly": "{p} has exactly {n} value(s){q}",
        "of": " of type {c}",
        "and": " and ",
        "or": " or ",
        "not": "not ({c})",
        "one of": "one of {items}",
        "thing": "anything",
        "sub": "Every {c} is {e}.",
        "super": "Everything for which {e} is a {c}.",
        "equivalent": "A {c} is exactly something for which {e}.",
        "disjoint": "Nothing is both a {c} and a {e}.",
    },
}
_CARD = {
    "minCardinality": "min",
    "maxCardinality": "max",
    "cardinality": "exactly",
    "minQualifiedCardinality": "min",
    "maxQualifiedCardinality": "max",
    "qualifiedCardinality": "exactly",
}


@dataclass(frozen=True)
class Axiom:
    """One axiom about a named class: ``kind`` is sub (necessary), super (sufficient), equivalent or
    disjoint; ``words`` and ``manchester`` describe the other side (HTML-free text)."""

    kind: str
    words: str
    manchester: str


class Axioms:
    """The class axioms of a set of triples whose other side is an expression (a blank node)."""

    def __init__(
        self,
        triples: list[ox.Triple],
        name: Callable[[str], str],
        lang: str = "nl",
        label: Callable[[str], str] | None = None,
    ):
        self.about: dict[Term, dict[str, list[Term]]] = defaultdict(lambda: defaultdict(list))
        for t in triples:
            self.about[t.subject][t.predicate.value].append(t.object)
        self.name, self.lang, self.w = name, lang, WORDS[lang]
        self.label = label or name  # for the words: a label in the page's language
        self.triples = triples

    def _list(self, node: Term) -> list[Term]:
        items: list[Term] = []
        while isinstance(node, ox.BlankNode) and len(items) < 1000:
            facts = self.about.get(node, {})
            items += facts.get(RDF + "first", [])
            node = (facts.get(RDF + "rest") or [ox.NamedNode(RDF + "nil")])[0]
        return items

    def _term(self, term: Term) -> tuple[str, str]:
        if isinstance(term, ox.NamedNode):
            return self.label(term.value), self.name(term.value)
        if isinstance(term, ox.Literal):
            return term.value, f'"{term.value}"'
        return self.expression(term)

    def expression(self, node: Term, depth: int = 0) -> tuple[str, str]:
        """(words, Manchester-like syntax) for a class expression."""
        if not isinstance(node, ox.BlankNode) or depth > 20:
            return self._term(node) if not isinstance(node, ox.BlankNode) else ("…", "…")
        facts, w = self.about.get(node, {}), self.w
        if OWL + "onProperty" in facts:
            p_words, p = self._term(facts[OWL + "onProperty"][0])
            if OWL + "hasValue" in facts:
                v_words, v = self._term(facts[OWL + "hasValue"][0])
                return w["value"].format(p=p_words, v=v_words), f"{p} value {v}"
            for key, word in (("someValuesFrom", "some"), ("allValuesFrom", "only")):
                if OWL + key in facts:
                    c_words, c = self.expression(facts[OWL + key][0], depth + 1)
                    return w[word].format(p=p_words, c=c_words), f"{p} {word} {_wrap(c)}"
            for key, word in _CARD.items():
                if OWL + key in facts:
                    n = facts[OWL + key][0].value
                    on = facts.get(OWL + "onClass") or facts.get(OWL + "onDataRange")
                    c_words, c = self.expression(on[0], depth + 1) if on else ("", "")
                    q = w["of"].format(c=c_words) if on else ""
                    return w[word].format(p=p_words, n=n, q=q), f"{p} {word} {n}" + (
                        f" {_wrap(c)}" if c else ""
                    )
        for key, word in (("intersectionOf", "and"), ("unionOf", "or")):
            if OWL + key in facts:
                parts = [self.expression(x, depth + 1) for x in self._list(facts[OWL + key][0])]
                return (
                    w[word].join(p[0] for p in parts),
                    f" {word} ".join(_wrap(p[1]) for p in parts),
                )
        if OWL + "complementOf" in facts:
            c_words, c = self.expression(facts[OWL + "complementOf"][0], depth + 1)
            return w["not"].format(c=c_words), f"not {_wrap(c)}"
        if OWL + "oneOf" in facts:
            items = [self._term(x) for x in self._list(facts[OWL + "oneOf"][0])]
            return w["one of"].format(items=", ".join(i[0] for i in items)), "{" + ", ".join(
                i[1] for i in items
            ) + "}"
        return w["thing"], "Thing"

    def of(self, cls: str, label: str) -> list[Axiom]:
        """The axioms that relate the named class ``cls`` to an expression, sorted by kind and text."""
        node = ox.NamedNode(cls)
        found = []
        for t in self.triples:
            predicate = t.predicate.value
            if t.subject == node and isinstance(t.object, ox.BlankNode):
                kinds = {
                    RDFS + "subClassOf": "sub",
                    OWL + "equivalentClass": "equivalent",
                    OWL + "disjointWith": "disjoint",
                }
                kind = kinds.get(predicate)
            elif t.object == node and isinstance(t.subject, ox.BlankNode):
                kinds = {RDFS + "subClassOf": "super", OWL + "equivalentClass": "equivalent"}
                kind = kinds.get(predicate)
            else:
                continue
            if kind is None:
                continue
            other = t.object if t.subject == node else t.subject
            words, manchester = self.expression(other)
            sentence = self.w[kind].format(c=label, e=words)
            found.append(
                Axiom(kind, sentence[0].upper() + sentence[1:], _manchester(kind, self.name(cls), manchester))
            )
        return sorted(found, key=lambda a: (a.kind, a.manchester))


def _wrap(text: str) -> str:
    return f"({text})" if " " in text and not text.startswith(("(", "{")) else text


def _manchester(kind: str, cls: str, expression: str) -> str:
    return {
        "sub": f"Class: {cls} SubClassOf: {expression}",
        "super": f"{expression} SubClassOf: {cls}",
        "equivalent": f"Class: {cls} EquivalentTo: {expression}",
        "disjoint": f"Class: {cls} DisjointWith: {expression}",
    }[kind]
