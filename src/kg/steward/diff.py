"""``kg diff OLD NEW``: what changed between two graphs, grouped by initiative.

OLD and NEW are each an RDF file, a folder of RDF files, or ``REV:PATH`` for a file or folder in a
git revision (``HEAD~1:data``). Formatting, triple order and blank-node labels do not count: blank
nodes are matched by rdflib's canonical labelling (rdflib.compare).
"""

from __future__ import annotations

import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from kg.core.errors import InputError
from kg.core.loading import FORMATS, base_iri, rdf_format
from kg.core.messages import say
from kg.core.namespaces import DEF, PROV, RDF_TYPE, SKOS, XSD, shorten
from kg.core.turtle import canonical_blank_nodes, serialize

DIFF_FORMATS = ("text", "turtle")  # Diff.text(), Diff.turtle()


def _parse(data: bytes, name: str, base: str) -> list[ox.Triple]:
    fmt = rdf_format(Path(name))
    try:
        return [q.triple for q in ox.parse(data, format=fmt, base_iri=base)]
    except SyntaxError as err:
        raise InputError(f"{name}:{err.lineno}: invalid {fmt.name}: {str(err).split(' (', 1)[0]}") from None


def _git(*args: str) -> bytes:
    try:
        done = subprocess.run(["git", *args], capture_output=True, check=False)
    except OSError as err:
        raise InputError(f"cannot run git: {err}") from None
    if done.returncode:
        raise InputError(f"git {' '.join(args)}: {done.stderr.decode().strip().splitlines()[-1]}")
    return done.stdout


def read(operand: str, base: str | None = None) -> list[ox.Triple]:
    """The triples of a file, a folder, or ``REV:PATH`` in git. Relative IRIs resolve against ``base``,
    or each file's own IRI (for ``REV:PATH``, the IRI the file has in the working tree, so that an old
    and a new version of one file read alike)."""
    path = Path(operand)
    if path.is_file():
        return _parse(path.read_bytes(), str(path), base_iri(path, base))
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in FORMATS)
        return [t for p in files for t in _parse(p.read_bytes(), str(p), base_iri(p, base))]
    rev, sep, inner = operand.partition(":")
    if not sep or not rev:
        raise InputError(f"{operand}: no such file or folder (a git revision is written REV:PATH)")
    names = _git("ls-tree", "-r", "--name-only", rev, "--", inner or ".").decode().splitlines()
    names = [n for n in names if Path(n).suffix.lower() in FORMATS]
    if not names:
        raise InputError(f"{operand}: no RDF files at that path in revision {rev}")
    return [
        t for n in names for t in _parse(_git("show", f"{rev}:./{n}"), f"{rev}:{n}", base_iri(Path(n), base))
    ]


@dataclass
class Diff:
    """Triples only in the old graph (removed) and only in the new one (added), with labels."""

    removed: list[ox.Triple]
    added: list[ox.Triple]
    labels: dict[str, str] = field(default_factory=dict)
    owners: dict[object, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.removed or self.added)

    def text(self, lang: str = "nl") -> str:
        """Changes grouped by initiative (or by subject for other things), one triple a line."""
        groups: dict[str, list[str]] = defaultdict(list)
        for sign, triples in (("-", self.removed), ("+", self.added)):
            for t in triples:
                owner = self.owners.get(t.subject, _name(t.subject))
                subject = "" if _name(t.subject) == owner else f"{_show(t.subject)} "
                groups[owner].append(f"  {sign} {subject}{_show(t.predicate)} {_show(t.object)}")
        lines = []
        for owner in sorted(groups):
            label = self.labels.get(owner)
            lines.append(f"{shorten(owner)}" + (f"  ({label})" if label else ""))
            lines.extend(sorted(groups[owner], key=lambda line: (line[4:], line[2])))
        summary = say("diff.summary", lang, removed=len(self.removed), added=len(self.added))
        lines.append(summary if self else say("diff.none", lang))
        return "\n".join(lines) + "\n"

    def turtle(self, lang: str = "nl") -> str:
        """The removed and the added triples, each as a canonical Turtle block under a comment."""

        def header(key: str, triples: list) -> str:
            return say(key, lang, count=len(triples), triples="triple" if len(triples) == 1 else "triples")

        return (
            serialize(self.removed, header=header("diff.removed_header", self.removed))
            + "\n"
            + serialize(self.added, header=header("diff.added_header", self.added))
        )


def _name(term: object) -> str:
    return term.value if isinstance(term, ox.NamedNode) else str(term)


def _show(term: object) -> str:
    if isinstance(term, ox.NamedNode):
        return shorten(term.value)
    if isinstance(term, ox.Literal):
        text = str(ox.Literal(term.value))  # the lexical form, quoted and escaped as in N-Triples
        if term.language:
            text += f"@{term.language}"
        elif term.datatype.value != XSD + "string":
            text += f"^^{shorten(term.datatype.value)}"  # xsd:decimal, not the whole IRI
        return text if len(text) <= 90 else text[:89] + "…"
    return "[]"


def diff(old: list[ox.Triple], new: list[ox.Triple]) -> Diff:
    """Compare two graphs; group each change under the initiative it belongs to."""
    a, b = set(canonical_blank_nodes(old)), set(canonical_blank_nodes(new))
    both = a | b
    result = Diff(sorted(a - b, key=str), sorted(b - a, key=str))
    initiatives = {
        t.subject
        for t in both
        if t.predicate.value == RDF_TYPE and t.object == ox.NamedNode(DEF + "Initiative")
    }
    passages = defaultdict(set)
    for t in both:
        if t.predicate.value == SKOS + "prefLabel":
            result.labels.setdefault(_name(t.subject), t.object.value)
        if t.predicate.value == PROV + "wasDerivedFrom" and t.subject in initiatives:
            passages[t.object].add(_name(t.subject))
    parents = {t.object: t.subject for t in both if isinstance(t.object, ox.BlankNode)}
    for t in both:
        node = t.subject
        while isinstance(node, ox.BlankNode) and node in parents:
            node = parents[node]
        if node in initiatives:
            result.owners[t.subject] = _name(node)
            continue
        derived = [
            t2.object for t2 in both if t2.subject == node and t2.predicate.value == PROV + "wasDerivedFrom"
        ]
        owners = {o for p in derived for o in passages.get(p, ())}
        result.owners[t.subject] = min(owners) if owners else _name(node)
    return result
