"""``kg import FILE.csv``: initiatives from a spreadsheet into ``data/``, validated before writing.

One row per initiative; the columns are documented in ``templates/README.md``. A row whose identifier
(or name) matches an existing initiative updates it: a filled cell replaces that value, an empty cell
leaves it as it is, and ``-`` removes it. Every problem of every row is reported at once, with row
number, column, value and, for near misses, a suggestion. Only when all rows are valid and the data
with the new rows conforms to the SHACL shapes are the files written (all together, see kg.core.files),
in canonical Turtle, with a record of the import in ``data/imports.ttl``.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import re
import tempfile
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from kg.core import bundle
from kg.core.errors import InputError
from kg.core.files import locked, recover, regular_file, write_many
from kg.core.labels import Lookup
from kg.core.messages import say
from kg.core.namespaces import DEF, ID, PREFIXES, PROV, RDF, XSD
from kg.core.progress import current
from kg.core.spreadsheet import CONTROL, looks_like_formula
from kg.core.turtle import declared_prefixes, header_comment, serialize
from kg.graph import KnowledgeGraph

COLUMNS = (
    "identifier",
    "name",
    "alt_names",
    "municipality",
    "legal_form",
    "activities",
    "bottlenecks",
    "area_m2",
    "planned_duration_years",
    "founding_year",
    "source_url",
    "description_nl",
    "description_en",
    "municipality_cbs",
    "province",
    "province_cbs",
)
REQUIRED_FOR_NEW = ("name", "municipality", "source_url", "description_nl", "description_en")
REMOVE = "-"
MAX_BYTES = 100_000_000  # a spreadsheet of 100,000 initiatives is about 60 MB

P = {
    name: ox.NamedNode(PREFIXES[prefix] + local)
    for name, (prefix, local) in {
        "type": ("rdf", "type"),
        "identifier": ("dct", "identifier"),
        "label": ("skos", "prefLabel"),
        "alt": ("skos", "altLabel"),
        "description": ("dct", "description"),
        "title": ("dct", "title"),
        "municipality": ("mi", "municipality"),
        "orgType": ("rov", "orgType"),
        "activity": ("mi", "activity"),
        "bottleneck": ("mi", "bottleneck"),
        "area": ("mi", "area"),
        "duration": ("mi", "plannedDuration"),
        "founding": ("schema", "foundingDate"),
        "derived": ("prov", "wasDerivedFrom"),
        "document": ("mi", "sourceDocument"),
        "value": ("schema", "value"),
        "unitCode": ("schema", "unitCode"),
        "unitText": ("schema", "unitText"),
        "started": ("prov", "startedAtTime"),
        "used": ("prov", "used"),
        "influenced": ("prov", "wasInfluencedBy"),
        "notation": ("skos", "notation"),
        "inScheme": ("skos", "inScheme"),
        "rdfSubject": ("rdf", "subject"),
        "rdfPredicate": ("rdf", "predicate"),
        "rdfObject": ("rdf", "object"),
        "generated": ("prov", "wasGeneratedBy"),
        "cbs": ("mi", "cbsCode"),
        "province": ("tooi", "ligtInProvincie"),
    }.items()
}
C = {
    name: ox.NamedNode(iri)
    for name, iri in {
        "Initiative": DEF + "Initiative",
        "SourcePassage": DEF + "SourcePassage",
        "Import": DEF + "DataImport",
        "Quantity": "https://schema.org/QuantitativeValue",
        "Entity": PROV + "Entity",
        "Statement": RDF + "Statement",
        "Gemeente": PREFIXES["tooi"] + "Gemeente",
        "Provincie": PREFIXES["tooi"] + "Provincie",
    }.items()
}


@dataclass(frozen=True, order=True)
class RowError:
    """One problem in the spreadsheet: where it is and what to do about it (``message`` is in the
    language the import was asked for)."""

    row: int
    column: str
    value: str
    message: str

    def text(self, lang: str = "nl") -> str:
        """``row 2, column municipality: 'Dordrect': ...`` in Dutch or English."""
        return say(
            "row.where", lang, row=self.row, column=self.column, value=self.value, message=self.message
        )

    def __str__(self) -> str:
        return self.text("en")


class ImportRejected(InputError):
    """The file was read but some rows are invalid, or the result does not conform (exit 1)."""

    exit_code = 1

    def __init__(self, message: str, errors: list[RowError] | None = None, report: str = ""):
        super().__init__(message)
        self.errors = errors or []
        self.report = report


@dataclass
class ImportResult:
    """What an import changed (or would change, in a dry run)."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    files: dict[Path, bytes] = field(default_factory=dict)
    encoding: str = "utf-8"
    delimiter: str = ","
    changes: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)  # (column, old, new)
    municipalities: list[str] = field(default_factory=list)  # "name (GMnnnn, province)" added
    iris: list[str] = field(default_factory=list)  # the initiatives created or updated, as IRIs

    @property
    def changed(self) -> bool:
        return bool(self.files)

    def report(self, lang: str = "nl") -> str:
        """Per initiative, each field that changes with its old and new value (the kg diff view)."""
        lines = [f"{say('import.new', lang)}: {m}" for m in self.municipalities]
        none = say("import.none", lang)
        for ident, changes in self.changes.items():
            lines.append(
                f"{ident} ({say('import.new' if ident in self.created else 'import.updated', lang)})"
            )
            lines += [f"  {column}: {old or none} -> {new or none}" for column, old, new in changes]
        return "\n".join(lines) + ("\n" if lines else "")


# --- reading the file ---------------------------------------------------------------------------


def read_rows(
    path: Path, max_bytes: int = MAX_BYTES, lang: str = "nl"
) -> tuple[list[tuple[int, dict[str, str]]], str, str]:
    """(rows as (spreadsheet row number, cells), encoding, delimiter); InputError if unreadable.

    Only regular files up to ``max_bytes`` are read (a FIFO would wait forever, /dev/zero never ends).
    """
    regular_file(path, max_bytes)
    try:
        raw = Path(path).read_bytes()
    except OSError as err:
        raise InputError(say("import.unreadable", lang, path=path, reason=err.strerror or err)) from None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InputError(say("import.encoding", lang, path=path))
    if "\x00" in text:
        raise InputError(say("import.nul", lang, path=path))
    # blank lines (or lines of separators only, as spreadsheets export empty rows) may lead
    first = next((line for line in text.splitlines() if line.strip(" \t,;")), "")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as err:
        if "field limit" in str(err):
            limit = csv.field_size_limit()
            raise InputError(say("import.long_cell", lang, path=path, limit=limit)) from None
        raise InputError(say("import.bad_csv", lang, path=path, reason=err)) from None
    start = next((i for i, record in enumerate(records) if any(cell.strip() for cell in record)), None)
    if start is None:
        raise InputError(say("import.empty", lang, path=path, columns=", ".join(COLUMNS)))
    header = [_column(h) for h in records[start]]
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        hints = [
            f"{h!r}"
            + (
                say("did_you_mean", lang, choice=m[0])
                if (m := difflib.get_close_matches(h, COLUMNS, 1))
                else ""
            )
            for h in unknown
        ]
        raise InputError(
            say("import.unknown_column", lang, path=path, names=", ".join(hints), columns=", ".join(COLUMNS))
        )
    if len(set(header)) != len(header):
        raise InputError(say("import.twice", lang, path=path))
    rows = []
    for number, record in enumerate(records[start + 1 :], start=start + 2):
        if not any(cell.strip() for cell in record):
            continue
        if len(record) > len(header):
            extra = ", ".join(c for c in record[len(header) :] if c.strip())
            if extra:
                raise InputError(say("import.extra_cells", lang, path=path, row=number, extra=extra))
        cells = {h: unicodedata.normalize("NFC", c).strip() for h, c in zip(header, record, strict=False)}
        rows.append((number, cells))
    return rows, "utf-8" if encoding == "utf-8-sig" else "windows-1252", delimiter


DUTCH_COLUMNS = {  # Dutch column names a steward may use instead of the template's
    "identificatie": "identifier",
    "naam": "name",
    "andere_namen": "alt_names",
    "gemeente": "municipality",
    "rechtsvorm": "legal_form",
    "activiteiten": "activities",
    "knelpunten": "bottlenecks",
    "knelpunttypen": "bottlenecks",
    "oppervlakte_m2": "area_m2",
    "oppervlakte": "area_m2",
    "beoogde_duur_jaren": "planned_duration_years",
    "looptijd_jaren": "planned_duration_years",
    "startjaar": "founding_year",
    "oprichtingsjaar": "founding_year",
    "bron": "source_url",
    "bron_url": "source_url",
    "beschrijving_nl": "description_nl",
    "beschrijving_en": "description_en",
    "gemeentecode": "municipality_cbs",
    "gemeente_cbs": "municipality_cbs",
    "cbs_code": "municipality_cbs",
    "provincie": "province",
    "provinciecode": "province_cbs",
    "provincie_cbs": "province_cbs",
}


def _column(header: str) -> str:
    """A header cell as a template column: case, spaces and hyphens do not matter; Dutch names map."""
    name = re.sub(r"[\s-]+", "_", unicodedata.normalize("NFC", header).strip().casefold())
    return DUTCH_COLUMNS.get(name, name)


def decimal(text: str) -> str | None:
    """A number as written in a Dutch or English spreadsheet, in xsd:decimal form; None if unclear.

    ``1250``, ``12,5`` and ``12.5``; with grouping, the last separator is the decimal one
    (``1.250,5`` and ``1,250.5`` are both 1250.5). ``1.250`` and ``1,250`` alone could be either a
    thousand and a quarter or one and a quarter: refused, so that nothing is read a thousand times off.
    """
    if re.fullmatch(r"[0-9]+", text):
        return text
    if re.fullmatch(r"[0-9]{1,3}([.,][0-9]{3})+", text):
        return None
    for group, point in ((".", ","), (",", ".")):
        match = re.fullmatch(rf"([0-9]{{1,3}}(?:\{group}[0-9]{{3}})+|[0-9]+)\{point}([0-9]+)", text)
        if match:
            return match[1].replace(group, "") + "." + match[2]
    return None


def slug(name: str) -> str:
    """A lower-case identifier from a name: ``Dorpscoöperatie X-Y`` -> ``dorpscooperatie-x-y``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


# --- what the graph knows -----------------------------------------------------------------------


@dataclass
class _Known:
    municipalities: dict[str, ox.NamedNode]  # folded name or CBS code -> municipality
    municipality_names: list[str]
    codes: dict[str, Lookup]  # column -> its concepts by code or label (kg.core.labels)
    initiatives: dict[str, ox.NamedNode]
    names: dict[ox.NamedNode, str] = field(default_factory=dict)  # how a value is shown in a change
    cbs: dict[ox.NamedNode, str] = field(default_factory=dict)  # municipality -> CBS code
    provinces: dict[str, ox.NamedNode] = field(default_factory=dict)  # folded name or PVnn -> province
    added: dict[ox.NamedNode, tuple[int, tuple[str, str]]] = field(default_factory=dict)  # by this import
    province_of: dict[ox.NamedNode, ox.NamedNode] = field(default_factory=dict)
    identifiers: dict[ox.NamedNode, str] = field(default_factory=dict)  # initiative -> its dct:identifier

    @classmethod
    def of(cls, graph: KnowledgeGraph) -> _Known:
        municipalities, names = {}, []
        for row in graph.query(
            """SELECT ?m ?v WHERE { ?m a tooi:Gemeente ;
                skos:prefLabel|skos:altLabel|mi:cbsCode ?v }""",
            infer=False,
        ):
            municipalities[row["v"].casefold()] = ox.NamedNode(row["m"])
            names.append(row["v"])
        shown = {
            ox.NamedNode(r["m"]): r["v"]
            for r in graph.query("SELECT ?m ?v WHERE { ?m a tooi:Gemeente ; skos:prefLabel ?v }", infer=False)
        }
        cbs = {
            ox.NamedNode(r["m"]): r["v"]
            for r in graph.query("SELECT ?m ?v WHERE { ?m a tooi:Gemeente ; mi:cbsCode ?v }", infer=False)
        }
        province_of = {
            ox.NamedNode(r["m"]): ox.NamedNode(r["p"])
            for r in graph.query(
                "SELECT ?m ?p WHERE { ?m a tooi:Gemeente ; tooi:ligtInProvincie ?p }", infer=False
            )
        }
        provinces = {}
        for r in graph.query("SELECT ?p ?v WHERE { ?p a tooi:Provincie ; skos:prefLabel ?v }", infer=False):
            node = ox.NamedNode(r["p"])
            provinces[r["v"].casefold()] = node
            provinces[r["p"].rsplit("/", 1)[-1].casefold()] = node  # pv28, as in its TOOI IRI
            shown[node] = r["v"]
        codes: dict[str, Lookup] = {}
        for kind, scheme in (
            ("legal_form", "rechtsvormen"),
            ("activities", "activiteiten"),
            ("bottlenecks", "knelpunttypen"),
        ):
            answer = list(
                graph.query(
                    f"""SELECT ?c ?code ?label WHERE {{ ?c skos:inScheme bk:{scheme} ; skos:notation ?code
                    OPTIONAL {{ ?c skos:prefLabel|skos:altLabel ?label }} }}""",
                    infer=False,
                )
            )
            # codes and labels (nl, en) alike, in any case: Stichting, fiscale regelgeving, tax
            labels: dict[str, tuple[str, list[str]]] = {}
            for r in answer:
                labels.setdefault(r["c"], (r["code"], []))[1].extend([r["label"]] if r["label"] else [])
            codes[kind] = Lookup.of((c, code, found) for c, (code, found) in labels.items())
            shown.update({ox.NamedNode(r["c"]): r["code"] for r in answer})
        initiatives, identifiers = {}, {}
        for row in graph.query(
            "SELECT ?i ?id ?name WHERE { ?i a mi:Initiative ; dct:identifier ?id ; skos:prefLabel ?name }",
            infer=False,
        ):
            initiatives[row["id"]] = ox.NamedNode(row["i"])
            identifiers.setdefault(ox.NamedNode(row["i"]), row["id"])
            initiatives.setdefault(slug(row["name"]), ox.NamedNode(row["i"]))
        known = cls(municipalities, sorted(set(names)), codes, initiatives, shown, cbs, provinces)
        known.province_of, known.identifiers = province_of, identifiers
        return known


def _suggest(value: str, choices: list[str], lang: str = "nl") -> str:
    close = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
    if not close:
        lowered = {c.casefold(): c for c in choices}
        close = [lowered[m] for m in difflib.get_close_matches(value.casefold(), list(lowered), 1, 0.6)]
    return say("did_you_mean", lang, choice=close[0]) if close else ""


# --- rows to triples ----------------------------------------------------------------------------


class _Row:
    """Checks the cells of one row and turns them into triples about one initiative."""

    def __init__(
        self, number: int, cells: dict[str, str], known: _Known, errors: list[RowError], lang: str = "nl"
    ):
        self.number, self.cells, self.known, self.errors, self.lang = number, cells, known, errors, lang
        self.municipality_refused = False

    def error(self, column: str, key: str, **fields: object) -> None:
        """Record the problem ``key`` (kg.core.messages) of a cell."""
        message = say(key, self.lang, **fields)
        self.errors.append(RowError(self.number, column, self.cells.get(column, ""), message))

    def cell(self, column: str) -> str:
        return self.cells.get(column, "")

    def codes(self, column: str) -> list[ox.NamedNode]:
        """The concepts a cell names by code or label (any case), after its operator if it has one."""
        lookup = self.known.codes[column]
        _, rest = operator(self.cell(column))
        out = []
        for code in filter(None, (c.strip() for c in re.split(r"[;,|]", rest))):
            found = lookup.find(code)
            if isinstance(found, str):
                out.append(ox.NamedNode(found))
                continue
            known = lookup.known()
            if found:
                message = say("row.ambiguous_code", self.lang, choices=", ".join(found))
            else:
                hint = _suggest(code, known, self.lang)
                message = say("row.unknown_code", self.lang, hint=hint, known=", ".join(known))
            self.errors.append(RowError(self.number, column, code, message))
        return out

    def checked(self, column: str, pattern: str, key: str) -> str | None:
        value = self.cell(column)
        if value in ("", REMOVE):
            return value
        if not re.fullmatch(pattern, value):
            self.error(column, key)
            return None
        return value


OPERATORS = {  # the word before a colon in a multi-valued cell, in English and Dutch
    "add": "add",
    "toevoegen": "add",
    "remove": "remove",
    "verwijderen": "remove",
    "replace": "replace",
    "vervangen": "replace",
}


def operator(cell: str) -> tuple[str, str]:
    """(add, remove or replace; the values) of a multi-valued cell: ``add: fiscaliteit``.

    A cell without an operator replaces, as a cell of a spreadsheet does.
    """
    word, colon, rest = cell.partition(":")
    if colon and word.strip().casefold() in OPERATORS:
        return OPERATORS[word.strip().casefold()], rest.strip()
    return "replace", cell


def _set_many(
    triples: set[ox.Triple], subject: object, predicate: ox.NamedNode, values: list, cell: str
) -> None:
    """Apply a multi-valued cell: ``add:``, ``remove:``, ``replace:`` (or no operator); empty keeps,
    ``-`` removes every value."""
    if cell == "":
        return
    op, _ = operator(cell)
    if op == "add":
        triples.update(ox.Triple(subject, predicate, v) for v in values)
    elif op == "remove":
        triples.difference_update(ox.Triple(subject, predicate, v) for v in values)
    else:
        _set(triples, subject, predicate, values, cell)


def _literal(value: str, datatype: str | None = None, lang: str | None = None) -> ox.Literal:
    if lang:
        return ox.Literal(value, language=lang)
    return ox.Literal(value, datatype=ox.NamedNode(XSD + datatype)) if datatype else ox.Literal(value)


def _set(triples: set[ox.Triple], subject: object, predicate: ox.NamedNode, values: list, cell: str) -> None:
    """Apply one cell: filled replaces, empty keeps, ``-`` removes."""
    if cell == "":
        return
    for t in [t for t in triples if t.subject == subject and t.predicate == predicate]:
        triples.discard(t)
    if cell != REMOVE:
        triples.update(ox.Triple(subject, predicate, v) for v in values)


def _apply(row: _Row, iri: ox.NamedNode, ident: str, triples: set[ox.Triple], new: bool) -> None:
    """Update ``triples`` (everything in the initiative's file) with the row's cells.

    Provenance links are written only for what the row makes: the initiative derives from a passage
    the row adds (its ``source_url``), and an area node the row creates derives from that passage
    alone. Nothing that was there before gains or loses a ``prov:wasDerivedFrom``: an old passage says
    nothing about a value the row adds, and a new passage says nothing about what was there before
    (PROV-O, section 3.1: a derivation is a claim about where an entity came from). What the import
    adds is attributed to it in ``data/imports.ttl`` (see ``_record``).
    """
    c = row.cell
    area_node = ox.NamedNode(f"{iri.value}-oppervlakte")
    area_before = any(t.subject == area_node for t in triples)
    sources_before = {t.object for t in triples if t.subject == iri and t.predicate == P["derived"]}
    if new:
        for column in REQUIRED_FOR_NEW:
            if c(column) in ("", REMOVE):
                row.error(column, "row.required")
        triples.update(
            {ox.Triple(iri, P["type"], C["Initiative"]), ox.Triple(iri, P["identifier"], ox.Literal(ident))}
        )
    elif c("name") == REMOVE or c("municipality") == REMOVE:
        row.error("name" if c("name") == REMOVE else "municipality", "row.cannot_remove")
    _set(triples, iri, P["label"], [ox.Literal(c("name"))], c("name"))
    alts = [ox.Literal(a.strip()) for a in operator(c("alt_names"))[1].split(";") if a.strip()]
    _set_many(triples, iri, P["alt"], alts, c("alt_names"))
    for lang in ("nl", "en"):
        cell = c(f"description_{lang}")
        if cell and cell != REMOVE:
            triples -= {
                t
                for t in triples
                if t.subject == iri and t.predicate == P["description"] and t.object.language == lang
            }
            triples.add(ox.Triple(iri, P["description"], _literal(cell, lang=lang)))
        elif cell == REMOVE:
            row.error(f"description_{lang}", "row.cannot_remove")
    if c("municipality") and c("municipality") != REMOVE:
        found = row.known.municipalities.get(c("municipality").casefold())
        if found is None and not row.municipality_refused:
            hint = _suggest(c("municipality"), row.known.municipality_names, row.lang)
            row.error("municipality", "row.unknown_municipality", hint=hint)
        elif found is not None:
            _set(triples, iri, P["municipality"], [found], c("municipality"))
    forms = row.codes("legal_form") if c("legal_form") != REMOVE else []
    if len(forms) > 1:
        row.error("legal_form", "row.one_legal_form")
    _set(triples, iri, P["orgType"], forms[:1], c("legal_form"))
    _set_many(
        triples,
        iri,
        P["activity"],
        row.codes("activities") if c("activities") != REMOVE else [],
        c("activities"),
    )
    _set_many(
        triples,
        iri,
        P["bottleneck"],
        row.codes("bottlenecks") if c("bottlenecks") != REMOVE else [],
        c("bottlenecks"),
    )
    year = row.checked("founding_year", r"1[89][0-9]{2}|20[0-9]{2}", "row.year")
    if year is not None:
        _set(triples, iri, P["founding"], [_literal(year, "gYear")], year)
    years = row.checked("planned_duration_years", r"[1-9][0-9]{0,2}", "row.years")
    if years is not None:
        _set(triples, iri, P["duration"], [_literal(f"P{years}Y", "duration")], years)
    area = c("area_m2")
    if area not in ("", REMOVE) and decimal(area) is None:
        row.error("area_m2", "row.area")
        area = None
    if area is not None and area != "":
        node = area_node
        described = [t for t in triples if t.subject == node]
        triples.difference_update(described)
        _set(triples, iri, P["area"], [node], area)
        if area != REMOVE:
            # a new value of an existing area keeps the node's own derivation: the value statement
            # is the import's (recorded as such), the node and its unit are not new
            triples.update(t for t in described if t.predicate == P["derived"])
            triples.update(
                {
                    ox.Triple(node, P["type"], C["Quantity"]),
                    ox.Triple(node, P["value"], _literal(decimal(area) or "", "decimal")),
                    ox.Triple(node, P["unitCode"], ox.Literal("MTK")),
                    ox.Triple(node, P["unitText"], ox.Literal("m²")),
                }
            )
    url = row.checked("source_url", r"https?://[^\s<>\"{}|\\^`]+", "row.url")
    if url and url != REMOVE:
        documents = {t.object.value for t in triples if t.predicate == P["document"]}
        if url not in documents:
            count = sum(1 for t in triples if t.predicate == P["type"] and t.object == C["SourcePassage"])
            passage = ox.NamedNode(f"{ID}bron/{ident}" + (f"-{count + 1}" if count else ""))
            triples.update(
                {
                    ox.Triple(passage, P["type"], C["SourcePassage"]),
                    ox.Triple(passage, P["document"], ox.NamedNode(url)),
                    ox.Triple(passage, P["title"], ox.Literal(f"Bron over {ident}", language="nl")),
                    ox.Triple(iri, P["derived"], passage),
                }
            )
    elif url == REMOVE:
        row.error("source_url", "row.keep_source")
    # an area the row creates derives from the passage the row adds, never from an older one
    if not area_before and any(t.subject == area_node for t in triples):
        added = {t.object for t in triples if t.subject == iri and t.predicate == P["derived"]}
        triples.update(ox.Triple(area_node, P["derived"], s) for s in added - sources_before)


# --- a municipality from the spreadsheet ---------------------------------------------------------

CBS_MUNICIPALITY = re.compile(r"GM[0-9]{4}")  # CBS "Gemeenten alfabetisch": GM and four digits
CBS_PROVINCE = re.compile(r"PV[0-9]{2}")  # CBS province codes: PV and two digits


def _reference_file(data_dir: Path, owners: dict[ox.NamedNode, Path], known: _Known) -> Path:
    """The file that describes the municipalities (where a new one is written)."""
    for municipality in sorted(known.cbs, key=str):
        if municipality in owners:
            return owners[municipality]
    return data_dir / "referentie" / "gemeenten.ttl"


def _municipality(row: _Row, triples: set[ox.Triple]) -> str | None:
    """Check the row's municipality against its CBS code and province; add it to ``triples`` if new.

    Only what the steward typed is written: the name (``municipality``), the CBS code
    (``municipality_cbs``, ``GMnnnn``) and the province (``province``: a known province by name or
    ``PVnn``; or a new one with ``province_cbs``). The TOOI IRI follows from the CBS code
    (``https://identifier.overheid.nl/tooi/id/gemeente/gmNNNN``, TOOI register of municipalities), as
    for every municipality already in the data. Returns "name (code, province)" if one was added.
    """
    known, c = row.known, row.cell
    name, code = c("municipality"), c("municipality_cbs").upper()
    if code and not CBS_MUNICIPALITY.fullmatch(code):
        row.error("municipality_cbs", "row.cbs_pattern")
        return None
    if name in ("", REMOVE):
        row.error("municipality", "row.required")
        return None
    by_name = known.municipalities.get(name.casefold())
    by_code = known.municipalities.get(code.casefold()) if code else None
    if by_name is not None or by_code is not None:
        if by_code is not None and by_code != by_name:
            row.error("municipality_cbs", "row.cbs_other_name", name=known.names.get(by_code, by_code.value))
        elif code and by_name is not None and known.cbs.get(by_name, code) != code:
            name_of = known.names.get(by_name, name)
            row.error(
                "municipality_cbs", "row.name_other_cbs", name=name_of, code=known.cbs[by_name], given=code
            )
        elif by_name in known.added and known.added[by_name][1] != (c("province").casefold(), code):
            row.error("municipality", "row.municipality_differs", row=known.added[by_name][0])
        elif c("province") or c("province_cbs"):
            typed = known.provinces.get(c("province").casefold()) or known.provinces.get(
                c("province_cbs").casefold()
            )
            actual = known.province_of.get(by_name or by_code)
            if typed != actual:
                shown = known.names.get(actual, getattr(actual, "value", "?"))
                row.error(
                    "province", "row.other_province", name=known.names.get(by_name or by_code), province=shown
                )
        return None
    if not code:
        row.error("municipality_cbs", "row.required")
        return None
    province = _province(row, triples)
    if province is None:
        return None
    node = ox.NamedNode(PREFIXES["gm"] + code.lower())
    triples.update(
        {
            ox.Triple(node, P["type"], C["Gemeente"]),
            ox.Triple(node, P["label"], ox.Literal(name, language="nl")),
            ox.Triple(node, P["cbs"], ox.Literal(code)),
            ox.Triple(node, P["province"], province),
        }
    )
    known.municipalities[name.casefold()] = known.municipalities[code.casefold()] = node
    known.municipality_names.append(name)
    known.names[node], known.cbs[node], known.province_of[node] = name, code, province
    known.added[node] = (row.number, (c("province").casefold(), code))
    return f"{name} ({code}, {known.names.get(province, province.value)})"


def _province(row: _Row, triples: set[ox.Triple]) -> ox.NamedNode | None:
    """The province a new municipality lies in: a known one, or one the row adds (name and PVnn)."""
    known, c = row.known, row.cell
    name, code = c("province"), c("province_cbs").upper()
    if code and not CBS_PROVINCE.fullmatch(code):
        row.error("province_cbs", "row.province_pattern")
        return None
    found = known.provinces.get(name.casefold()) if name else None
    by_code = known.provinces.get(code.casefold()) if code else None
    if found is not None or by_code is not None:
        if by_code is not None and (found != by_code if name else False):
            row.error("province_cbs", "row.province_other_name", name=known.names.get(by_code, by_code.value))
            return None
        return found or by_code
    if not name:
        row.error("province", "row.needs_province")
        return None
    if not code:
        shown = sorted({known.names[p] for p in known.provinces.values() if p in known.names})
        hint = _suggest(name, shown, row.lang)
        row.error("province", "row.unknown_province", hint=hint, known=", ".join(shown))
        return None
    node = ox.NamedNode(PREFIXES["pv"] + code.lower())
    triples.update(
        {
            ox.Triple(node, P["type"], C["Provincie"]),
            ox.Triple(node, P["label"], ox.Literal(name, language="nl")),
        }
    )
    known.provinces[name.casefold()] = known.provinces[code.casefold()] = node
    known.names[node] = name
    return node


# --- the import ---------------------------------------------------------------------------------


def _owners(data_dir: Path) -> dict[ox.NamedNode, Path]:
    """Which data file describes each typed subject."""
    owners = {}
    for path in sorted(data_dir.rglob("*.ttl")):
        for quad in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
            if quad.predicate == P["type"] and isinstance(quad.subject, ox.NamedNode):
                owners.setdefault(quad.subject, path)
    return owners


def import_csv(
    path: Path,
    data_dir: Path | None = None,
    *,
    dry_run: bool = False,
    max_bytes: int = MAX_BYTES,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    lang: str = "nl",
) -> ImportResult:
    """Import a spreadsheet into ``data_dir`` (default: the project's ``data/``); messages in ``lang``.

    The data folder is locked for the whole import, so that two imports never interleave.
    """
    data_dir = Path(data_dir) if data_dir else bundle.project_dir() / "data"
    if not data_dir.is_dir():
        raise InputError(say("import.no_data_dir", lang, path=data_dir))
    with locked(data_dir):
        recover(data_dir)
        return _import(path, data_dir, dry_run, max_bytes, now, lang)


def _import(
    path: Path, data_dir: Path, dry_run: bool, max_bytes: int, now: Callable[[], datetime], lang: str
) -> ImportResult:
    rows, encoding, delimiter = read_rows(path, max_bytes, lang)
    if not rows:
        raise InputError(say("import.no_rows", lang, path=path))
    graph = KnowledgeGraph.load(sorted(data_dir.rglob("*.ttl")))
    known = _Known.of(graph)
    owners = _owners(data_dir)
    subjects = {t.subject for g in graph.graphs() for t in graph.triples(g)}
    errors: list[RowError] = []
    result = ImportResult(encoding=encoding, delimiter=delimiter)
    files: dict[Path, set[ox.Triple]] = {}
    originals: dict[Path, str] = {}
    before: dict[Path, set[ox.Triple]] = {}
    seen: dict[ox.NamedNode, int] = {}  # initiative -> the row that names it
    bar = current()  # the caller's progress bar, if it shows one (kg.core.progress)
    if bar is not None:
        bar.total = len(rows)
    for number, cells in rows:
        if bar is not None:
            bar.advance()
        row = _Row(number, cells, known, errors, lang)
        formulas = [column for column, cell in cells.items() if looks_like_formula(cell) and cell != REMOVE]
        for column in formulas:
            row.error(column, "row.formula", first=cells[column][0])
        controls = [column for column, cell in cells.items() if CONTROL.search(cell)]
        for column in controls:
            row.error(column, "row.control", char=repr(CONTROL.search(cells[column])[0]))
        if formulas or controls:
            continue
        ident = cells.get("identifier") or slug(cells.get("name", ""))
        named_by = "identifier" if cells.get("identifier") else "name"
        if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", ident or ""):
            row.error(named_by, "row.identifier")
            continue
        existing = known.initiatives.get(ident)
        iri = existing or ox.NamedNode(f"{ID}initiatief/{ident}")
        if iri in seen:  # by identifier in one row, by name in another: still one initiative
            row.error(named_by, "row.same_as", row=seen[iri])
            continue
        if existing is None and iri in subjects:  # a new initiative must not merge into another thing
            row.error(named_by, "row.taken", kind=_kind(graph, iri), file=owners.get(iri, data_dir))
            continue
        ident = known.identifiers.get(iri, ident)  # an initiative found by its name keeps its identifier
        if any(cells.get(c) for c in ("municipality_cbs", "province", "province_cbs")):
            reference = _reference_file(data_dir, owners, known)
            if reference not in files:
                text = reference.read_text(encoding="utf-8") if reference.exists() else ""
                originals[reference] = text
                files[reference] = {q.triple for q in ox.parse(text.encode(), format=ox.RdfFormat.TURTLE)}
                before[reference] = set(files[reference])
            count = len(errors)
            added = _municipality(row, files[reference])
            row.municipality_refused = len(errors) > count  # one message for the cell, not two
            if added:
                result.municipalities.append(added)
        seen[iri] = number
        target = owners.get(iri) or data_dir / "initiatieven" / f"{ident}.ttl"
        if target not in files:
            text = target.read_text(encoding="utf-8") if target.exists() else ""
            originals[target] = text
            files[target] = {q.triple for q in ox.parse(text.encode(), format=ox.RdfFormat.TURTLE)}
            before[target] = set(files[target])
        old = _fields(files[target], iri, known)
        _apply(row, iri, ident, files[target], new=existing is None)
        (result.updated if existing else result.created).append(ident)
        result.iris.append(iri.value)
        new = _fields(files[target], iri, known)
        changes = [(column, old[column], new[column]) for column in new if old[column] != new[column]]
        if changes:
            result.changes[ident] = changes
    if errors:
        problems = say("import.problem" if len(errors) == 1 else "import.problems", lang)
        raise ImportRejected(
            say("import.rejected", lang, path=path, count=len(errors), problems=problems), sorted(errors)
        )
    for target, triples in files.items():
        text = originals[target]
        head = header_comment(text) or f"# Initiative imported from {Path(path).name} by kg import."
        new_text = serialize(triples, header=head, prefixes=declared_prefixes(text))
        if new_text != text:
            result.files[target] = new_text.encode("utf-8")
    if not result.files:
        return result
    added = set().union(*(files[target] - before[target] for target in files))
    new = {t.subject for t in added if t.subject not in subjects}
    result.files[data_dir / "imports.ttl"] = _record(
        data_dir / "imports.ttl", path, now(), added, new, result
    )
    _validate(data_dir, result.files, lang)
    if not dry_run:
        write_many(data_dir, result.files)
    return result


def _kind(graph: KnowledgeGraph, iri: ox.NamedNode) -> str:
    """What ``iri`` is in the data, as its classes' local names (``LegalFormPeriod``)."""
    answer = graph.query(f"SELECT DISTINCT ?t WHERE {{ {iri} a ?t }} ORDER BY ?t", infer=False)
    return ", ".join(re.split(r"[/#]", r["t"])[-1] for r in answer) or "?"


def _fields(triples: set[ox.Triple], iri: ox.NamedNode, known: _Known) -> dict[str, str]:
    """The initiative's value in each column of the template, as a steward reads it (codes, names)."""
    values: dict[ox.NamedNode, list[str]] = {}
    area = ox.NamedNode(f"{iri.value}-oppervlakte")
    passages = set()
    for t in triples:
        if t.subject == iri:
            shown = known.names.get(t.object, t.object.value) if isinstance(t.object, ox.NamedNode) else None
            if isinstance(t.object, ox.Literal) and t.object.language:
                values.setdefault(ox.NamedNode(f"{t.predicate.value}@{t.object.language}"), []).append(
                    t.object.value
                )
                continue
            values.setdefault(t.predicate, []).append(shown or t.object.value)
            if t.predicate == P["derived"]:
                passages.add(t.object)
        elif t.subject == area and t.predicate == P["value"]:
            values.setdefault(P["area"], []).append(t.object.value)
    documents = [t.object.value for t in triples if t.subject in passages and t.predicate == P["document"]]

    def text(key: ox.NamedNode, width: int = 60) -> str:
        joined = "; ".join(sorted(values.get(key, [])))
        return joined if len(joined) <= width else joined[: width - 1] + "…"

    description = P["description"].value
    return {
        "name": text(P["label"]),
        "alt_names": text(P["alt"]),
        "municipality": text(P["municipality"]),
        "legal_form": text(P["orgType"]),
        "activities": text(P["activity"], 200),
        "bottlenecks": text(P["bottleneck"], 200),
        "area_m2": text(P["area"]),
        "planned_duration_years": text(P["duration"]).removeprefix("P").removesuffix("Y"),
        "founding_year": text(P["founding"]),
        "source_url": "; ".join(sorted(documents)),
        "description_nl": text(ox.NamedNode(f"{description}@nl")),
        "description_en": text(ox.NamedNode(f"{description}@en")),
    }


def _record(
    target: Path, source: Path, when: datetime, added: set[ox.Triple], new: set, result: ImportResult
) -> bytes:
    """imports.ttl with one more prov record: when, from which file (and its SHA-256), what changed.

    What the import wrote has the import as its origin, never the source passage of the initiative it
    is about (the query ``provenance`` shows both kinds): a thing the import created (in ``new``)
    ``prov:wasGeneratedBy`` the import (PROV-O), and each statement it added about an existing thing is
    recorded as an ``rdf:Statement`` (RDF 1.1 Semantics, section D.1, reification) generated by it.
    """
    text = target.read_text(encoding="utf-8") if target.exists() else ""
    triples = {q.triple for q in ox.parse(text.encode(), format=ox.RdfFormat.TURTLE)}
    stamp = when.strftime("%Y%m%dT%H%M%SZ")
    activity, count = ox.NamedNode(f"{ID}import/{stamp}"), 1
    recorded = {t.subject for t in triples}
    while activity in recorded:  # another import in the same second: a record of its own
        count += 1
        activity = ox.NamedNode(f"{ID}import/{stamp}-{count}")
    used = ox.NamedNode(f"{activity.value}/bestand")
    digest = hashlib.sha256(Path(source).read_bytes()).hexdigest()
    triples.update(
        {
            ox.Triple(activity, P["type"], C["Import"]),
            ox.Triple(activity, P["started"], _literal(when.strftime("%Y-%m-%dT%H:%M:%SZ"), "dateTime")),
            ox.Triple(activity, P["used"], used),
            ox.Triple(used, P["type"], C["Entity"]),
            ox.Triple(used, P["title"], ox.Literal(Path(source).name)),
            ox.Triple(used, P["identifier"], ox.Literal(f"sha256:{digest}")),
        }
    )
    for iri in result.iris:
        triples.add(ox.Triple(ox.NamedNode(iri), P["influenced"], activity))
    triples.update(ox.Triple(subject, P["generated"], activity) for subject in new)
    for statement in added:
        if statement.predicate in (P["derived"], P["influenced"]) or statement.subject in new:
            continue  # provenance links themselves, and statements about what the import created
        key = hashlib.sha256(f"{statement} .".encode()).hexdigest()[:20]
        record = ox.NamedNode(f"{activity.value}/uitspraak/{key}")
        triples.update(
            {
                ox.Triple(record, P["type"], C["Statement"]),
                ox.Triple(record, P["rdfSubject"], statement.subject),
                ox.Triple(record, P["rdfPredicate"], statement.predicate),
                ox.Triple(record, P["rdfObject"], statement.object),
                ox.Triple(record, P["generated"], activity),
            }
        )
    header = header_comment(text) or "# Record of every kg import: when, from which file, what it changed."
    return serialize(triples, header=header).encode("utf-8")


def _validate(data_dir: Path, changed: dict[Path, bytes], lang: str = "nl") -> None:
    """SHACL-validate the data folder as it would be after the change; ImportRejected if not."""
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for path in sorted(data_dir.rglob("*.ttl")):
            if path not in changed:
                files.append(path)
        for index, (path, data) in enumerate(changed.items()):
            staged = Path(tmp) / f"{index}-{path.name}"
            staged.write_bytes(data)
            files.append(staged)
        report = KnowledgeGraph.load(files).validate()
    if not report.conforms:
        raise ImportRejected(
            say("import.not_conform", lang, count=report.count("Violation")), report=report.text(lang)
        )
