"""SHACL validation results, as kg reports them: findings, and the report as text, JSON or W3C Turtle.

Both engines (``kg.engines``) return a :class:`ValidationReport`; the report graph follows W3C SHACL,
section 3.6 (validation report).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field

import pyoxigraph as ox

from kg.core.convert import to_ox_triple
from kg.core.namespaces import PREFIXES, RDF_TYPE, SH, XSD, shorten

REPORT_FORMATS = ("text", "turtle", "json")  # ValidationReport.text(), .turtle(), .json()


@dataclass(frozen=True, order=True)
class Finding:
    """One SHACL validation result."""

    severity: str
    focus: str
    path: str | None
    shape: str
    value: str | None
    message: dict[str, str]

    def text(self, lang: str = "nl") -> str:
        """One line: severity, focus node, path, message, shape."""
        message = self.message.get(lang) or self.message.get("") or next(iter(self.message.values()), "")
        path = f" {shorten(self.path)}" if self.path else ""
        return f"{self.severity}: {shorten(self.focus)}{path}: {message} [{shorten(self.shape)}]"


def severity_name(iri: str) -> str:
    """``Violation``, ``Warning`` or ``Info`` for SHACL's severities; any other IRI in full."""
    return iri.removeprefix(SH) if iri.startswith(SH) else iri


def policy_conforms(findings: list[Finding]) -> bool:
    """kg's verdict (and exit status): no result other than a sh:Warning or sh:Info.

    The W3C report's ``sh:conforms`` is stricter, as SHACL 3.6.1 says: false with any result.
    A custom severity counts as failing."""
    return all(f.severity in ("Warning", "Info") for f in findings)


@dataclass
class ValidationReport:
    """Whether the data conforms (no result other than warnings and infos), and every result.

    ``compiled`` and ``declined`` say which shapes the compiled engine translated itself and which
    it handed to pyshacl, with the reason (both empty on the rdflib engine)."""

    conforms: bool
    findings: list[Finding]
    graph: object = None  # the rdflib report graph (pyshacl), or None
    engine: str = "rdflib"
    _results: list = field(default_factory=list, repr=False)  # (check, focus, path, value) terms
    describe: object = field(default=None, repr=False)  # blank node -> its triples (compiled path)
    compiled: list[str] = field(default_factory=list)
    declined: dict[str, str] = field(default_factory=dict)

    def count(self, severity: str) -> int:
        """How many results have ``severity`` (Violation, Warning or Info)."""
        return sum(1 for f in self.findings if f.severity == severity)

    def text(self, lang: str = "nl") -> str:
        """A readable report, one result a line, with a closing summary."""
        lines = [f.text(lang) for f in self.findings]
        verdict = "conforms" if self.conforms else "does not conform"
        lines.append(
            f"{verdict}: {self.count('Violation')} violations, "
            f"{self.count('Warning')} warnings, {self.count('Info')} infos"
        )
        return "\n".join(lines) + "\n"

    def triples(self) -> list[ox.Triple]:
        """The W3C SHACL validation report graph (pyshacl's, or built from the compiled results)."""
        if self.graph is not None:
            return [to_ox_triple(t) for t in self.graph]
        return report_triples(self._results, self.describe)

    def turtle(self) -> str:
        """The W3C SHACL validation report graph in Turtle."""
        if self.graph is not None:
            return self.graph.serialize(format="turtle")
        prefixes = {"sh": SH, **PREFIXES}
        return ox.serialize(self.triples(), format=ox.RdfFormat.TURTLE, prefixes=prefixes).decode()

    def json(self) -> str:
        """The report as JSON: conforms and a list of results."""
        return (
            json.dumps(
                {"conforms": self.conforms, "results": [asdict(f) for f in self.findings]},
                ensure_ascii=False,
                indent=2,
            )
            + "\n"
        )


def substitute(messages: dict[str, str], focus: object, value: object) -> dict[str, str]:
    """Fill ``{$this}`` and ``{?value}`` in messages (SHACL-SPARQL 5.3.2)."""
    if not any("{" in m for m in messages.values()):
        return messages
    subs = {"this": focus, "value": value}
    return {
        k: re.sub(
            r"\{[$?](this|value)\}",
            lambda m: "" if subs[m.group(1)] is None else subs[m.group(1)].value,
            m_text,
        )
        for k, m_text in messages.items()
    }


def report_triples(results: list, describe: object = None) -> list[ox.Triple]:
    """A W3C SHACL validation report (section 3.6) for compiled-query results, as triples: conforms
    only without any result (3.6.1); blank nodes that results name come with their triples."""
    sh = lambda name: ox.NamedNode(SH + name)  # noqa: E731
    rdf_type = ox.NamedNode(RDF_TYPE)
    boolean = ox.NamedNode(XSD + "boolean")
    report = ox.BlankNode()
    triples = [
        ox.Triple(report, rdf_type, sh("ValidationReport")),
        ox.Triple(report, sh("conforms"), ox.Literal(str(not results).lower(), datatype=boolean)),
    ]
    blank = []
    for check, focus, path, value in results:
        node = ox.BlankNode()
        triples += [
            ox.Triple(report, sh("result"), node),
            ox.Triple(node, rdf_type, sh("ValidationResult")),
            ox.Triple(node, sh("focusNode"), focus),
            ox.Triple(node, sh("sourceShape"), check.shape),
            ox.Triple(node, sh("resultSeverity"), check.severity),
            ox.Triple(node, sh("sourceConstraintComponent"), check.component),
        ]
        if check.constraint is not None:
            triples.append(ox.Triple(node, sh("sourceConstraint"), check.constraint))
        blank += [
            t for t in (focus, value, path, check.shape, check.constraint) if isinstance(t, ox.BlankNode)
        ]
        if path is not None:
            triples.append(ox.Triple(node, sh("resultPath"), path))
        if value is not None:
            triples.append(ox.Triple(node, sh("value"), value))
        for lang, text in substitute(check.message, focus, value).items():
            message = ox.Literal(text, language=lang) if lang else ox.Literal(text)
            triples.append(ox.Triple(node, sh("resultMessage"), message))
    if describe is not None:
        extra = {t for node in set(blank) for t in describe(node)}
        triples += sorted(extra, key=str)
    return triples
