"""SHACL validation results, as kg reports them: findings, and the report as text, JSON or W3C Turtle.

Both engines (``kg.engines``) return a :class:`ValidationReport`; the report graph follows W3C SHACL,
section 3.6 (validation report).
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import asdict, dataclass, field

import pyoxigraph as ox

from kg.core.convert import to_ox_triple
from kg.core.messages import say
from kg.core.namespaces import PREFIXES, RDF_TYPE, SH, XSD, shorten

REPORT_FORMATS = ("text", "html", "turtle", "json")  # ValidationReport.text(), .html(), .turtle(), .json()


@dataclass(frozen=True, order=True)
class Finding:
    """One SHACL validation result; ``file`` and ``line`` say where its focus node is defined and
    ``initiative`` which initiative it belongs to (filled in after validation, kg.core.sources)."""

    severity: str
    focus: str
    path: str | None
    shape: str
    value: str | None
    message: dict[str, str]
    file: str | None = None
    line: int | None = None
    initiative: str | None = None

    def text(self, lang: str = "nl") -> str:
        """One line: severity, focus node, path, message, the offending value, shape, file:line."""
        path = f" {shorten(self.path)}" if self.path else ""
        value = (
            f" ({say('validate.value', lang)}: {show_value(self.value)})" if self.value is not None else ""
        )
        return (
            f"{_severity(self.severity, lang)}: {shorten(self.focus)}{path}: {self.message_in(lang)}{value} "
            f"[{shorten(self.shape)}]{self.where()}"
        )

    def message_in(self, lang: str = "nl") -> str:
        """The message in ``lang``, else the untagged one, else any."""
        return self.message.get(lang) or self.message.get("") or next(iter(self.message.values()), "")

    def where(self) -> str:
        """`` — file:line`` where the focus node is defined, or nothing if unknown."""
        if self.file is None:
            return ""
        return f" — {self.file}" + (f":{self.line}" if self.line else "")


def show_value(value: str) -> str:
    """A value as a steward reads it: an IRI shortened (``gm:gm0344``), a literal in quotes."""
    if re.match(r"[a-z][a-z0-9+.-]*:\S*$", value, re.I) and not re.fullmatch(r"[0-9:.+-]+", value):
        return shorten(value)
    return json.dumps(value, ensure_ascii=False)


def _severity(name: str, lang: str) -> str:
    return say(f"validate.{name}", lang) if name in ("Violation", "Warning", "Info") else name


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
    labels: dict[str, str] = field(default_factory=dict)  # initiative -> its name
    places: dict[str, str] = field(default_factory=dict)  # initiative or focus -> "file:line"

    def count(self, severity: str) -> int:
        """How many results have ``severity`` (Violation, Warning or Info)."""
        return sum(1 for f in self.findings if f.severity == severity)

    def groups(self) -> list[tuple[str | None, list[Finding]]]:
        """The findings grouped by initiative (or by focus node when they belong to none), sorted."""
        by: dict[str, list[Finding]] = {}
        for f in self.findings:
            by.setdefault(f.initiative or f.focus, []).append(f)
        return sorted(by.items(), key=lambda item: (item[0] not in self.labels, item[0]))

    def heading(self, key: str, lang: str = "nl") -> str:
        """A group's heading: the initiative (or focus node), its name, and where it is defined."""
        label = self.labels.get(key)
        where = self.places.get(key)
        return (
            shorten(key)
            + (f"  {label}" if label else "")
            + (f"  ({say('validate.defined_at', lang)} {where})" if where else "")
        )

    def summary(self, lang: str = "nl") -> str:
        """``conforms: 0 violations, 0 warnings, 0 infos`` in Dutch or English."""
        return say(
            "validate.summary",
            lang,
            verdict=say("validate.conforms" if self.conforms else "validate.not_conform", lang),
            violations=self.count("Violation"),
            warnings=self.count("Warning"),
            infos=self.count("Info"),
        )

    def text(self, lang: str = "nl") -> str:
        """A readable report grouped by initiative: each result with its offending value and the file
        and line where its subject is defined; a closing summary."""
        lines = []
        for key, findings in self.groups():
            lines.append(self.heading(key, lang))
            for f in findings:
                text = f.text(lang)
                if f.focus == key and f.where() and self.places.get(key) == f.where().removeprefix(" — "):
                    text = text.removesuffix(f.where())  # the heading says where already
                lines.append("  " + text)
        lines.append(self.summary(lang))
        return "\n".join(lines) + "\n"

    def _repr_html_(self) -> str:
        """How a notebook shows a report: the summary and the tables of :meth:`html` (in Dutch, kg's
        default language), without the page around them."""
        return f'<div class="kg-report">{report_body(self, "nl")}</div>'

    def triples(self) -> list[ox.Triple]:
        """The W3C SHACL validation report graph (pyshacl's, or built from the compiled results)."""
        if self.graph is not None:
            return [to_ox_triple(t) for t in self.graph]
        return report_triples(self._results, self.describe)

    def html(self, lang: str = "nl") -> str:
        """A readable HTML page of the report (everything escaped; no script, no external resource)."""
        return report_html(self, lang)

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


def report_body(report: ValidationReport, lang: str = "nl") -> str:
    """The summary, then a section per initiative with a table row per result (escaped): the body of
    :func:`report_html`, and what a notebook shows."""
    e = html.escape
    columns = ("severity", "subject", "property", "value", "message", "shape")
    head = "".join(f"<th>{e(say('validate.col_' + c, lang))}</th>" for c in columns)
    sections = []
    for key, findings in report.groups():
        rows = []
        for f in findings:
            cells = (
                _severity(f.severity, lang),
                shorten(f.focus) + f.where().replace(" — ", "\n"),
                shorten(f.path) if f.path else "",
                show_value(f.value) if f.value is not None else "",
                f.message_in(lang),
                shorten(f.shape),
            )
            css = (
                f' class="{e(f.severity.lower())}"' if f.severity in ("Violation", "Warning", "Info") else ""
            )
            rows.append(f"<tr{css}>" + "".join(f"<td>{e(c)}</td>" for c in cells) + "</tr>")
        sections.append(
            f"<section><h2>{e(report.heading(key, lang))}</h2>\n<table><thead><tr>{head}</tr></thead>"
            f"<tbody>\n" + "\n".join(rows) + "\n</tbody></table></section>"
        )
    return f"<p>{e(report.summary(lang))}</p>\n" + "\n".join(sections)


def report_html(report: ValidationReport, lang: str = "nl") -> str:
    """The report as one HTML page (:func:`report_body` in a page with a title and a style).

    Every text from the data or the shapes is escaped (HTML 5.2, section 8.1.4); the page has no script
    and a Content-Security-Policy that forbids any (the page may be opened from a release or mailed)."""
    e = html.escape
    title = say("validate.title", lang)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{e(lang)}"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>{e(title)}</title><style>"
        "body{font-family:sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse;width:100%}"
        "td,th{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top;"
        "white-space:pre-wrap}"
        "tr.violation td:first-child{color:#b00020;font-weight:bold}tr.warning td:first-child{color:#8a5a00}"
        "</style></head><body>\n"
        f"<h1>{e(title)}</h1>\n{report_body(report, lang)}\n</body></html>\n"
    )
