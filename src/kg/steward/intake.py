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
from kg.core.namespaces import DEF, ID, PREFIXES, PROV, RDF, XSD
from kg.core.progress import current
from kg.core.spreadsheet import looks_like_formula
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
    }.items()
}


@dataclass(frozen=True, order=True)
class RowError:
    """One problem in the spreadsheet: where it is and what to do about it."""

    row: int
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.value!r}: {self.message}"


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

    @property
    def changed(self) -> bool:
        return bool(self.files)

    def report(self) -> str:
        """Per initiative, each field that changes with its old and new value (the kg diff view)."""
        lines = []
        for ident, changes in self.changes.items():
            lines.append(f"{ident} ({'new' if ident in self.created else 'updated'})")
            lines += [f"  {column}: {old or '(none)'} -> {new or '(none)'}" for column, old, new in changes]
        return "\n".join(lines) + ("\n" if lines else "")


# --- reading the file ---------------------------------------------------------------------------


def read_rows(path: Path, max_bytes: int = MAX_BYTES) -> tuple[list[tuple[int, dict[str, str]]], str, str]:
    """(rows as (spreadsheet row number, cells), encoding, delimiter); InputError if unreadable.

    Only regular files up to ``max_bytes`` are read (a FIFO would wait forever, /dev/zero never ends).
    """
    regular_file(path, max_bytes)
    try:
        raw = Path(path).read_bytes()
    except OSError as err:
        raise InputError(f"{path}: cannot read: {err.strerror or err}") from None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InputError(f"{path}: not UTF-8 or Windows-1252 text")
    if "\x00" in text:
        raise InputError(f"{path}: not a CSV file (it contains NUL bytes)")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as err:
        raise InputError(f"{path}: not valid CSV: {err}") from None
    if not records or not any(cell.strip() for cell in records[0]):
        raise InputError(f"{path}: empty file (expected a header row: {', '.join(COLUMNS)})")
    header = [_column(h) for h in records[0]]
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        hints = [
            f"{h!r}" + (f" (did you mean {m[0]}?)" if (m := difflib.get_close_matches(h, COLUMNS, 1)) else "")
            for h in unknown
        ]
        raise InputError(f"{path}: unknown column {', '.join(hints)}; columns: {', '.join(COLUMNS)}")
    if len(set(header)) != len(header):
        raise InputError(f"{path}: a column appears twice in the header")
    rows = []
    for number, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue
        if len(record) > len(header):
            extra = ", ".join(c for c in record[len(header) :] if c.strip())
            if extra:
                raise InputError(f"{path}: row {number} has more cells than the header ({extra!r})")
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
    municipalities: dict[str, ox.NamedNode]
    municipality_names: list[str]
    codes: dict[str, dict[str, ox.NamedNode]]
    initiatives: dict[str, ox.NamedNode]
    notations: dict[str, list[str]] = field(default_factory=dict)
    names: dict[ox.NamedNode, str] = field(default_factory=dict)  # how a value is shown in a change

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
        codes: dict[str, dict[str, ox.NamedNode]] = {}
        notations: dict[str, list[str]] = {}
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
            # codes and labels (nl, en) alike, in any case: Stichting, fiscale regelgeving, Tax rules
            codes[kind] = {r["label"].casefold(): ox.NamedNode(r["c"]) for r in answer if r["label"]}
            codes[kind].update({r["code"].casefold(): ox.NamedNode(r["c"]) for r in answer})
            notations[kind] = sorted({r["code"] for r in answer})
            shown.update({ox.NamedNode(r["c"]): r["code"] for r in answer})
        initiatives = {}
        for row in graph.query(
            "SELECT ?i ?id ?name WHERE { ?i a mi:Initiative ; dct:identifier ?id ; skos:prefLabel ?name }",
            infer=False,
        ):
            initiatives[row["id"]] = ox.NamedNode(row["i"])
            initiatives.setdefault(slug(row["name"]), ox.NamedNode(row["i"]))
        return cls(municipalities, sorted(set(names)), codes, initiatives, notations, shown)


def _suggest(value: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
    if not close:
        lowered = {c.casefold(): c for c in choices}
        close = [lowered[m] for m in difflib.get_close_matches(value.casefold(), list(lowered), 1, 0.6)]
    return f" (did you mean {close[0]}?)" if close else ""


# --- rows to triples ----------------------------------------------------------------------------


class _Row:
    """Checks the cells of one row and turns them into triples about one initiative."""

    def __init__(self, number: int, cells: dict[str, str], known: _Known, errors: list[RowError]):
        self.number, self.cells, self.known, self.errors = number, cells, known, errors

    def error(self, column: str, message: str) -> None:
        self.errors.append(RowError(self.number, column, self.cells.get(column, ""), message))

    def cell(self, column: str) -> str:
        return self.cells.get(column, "")

    def codes(self, column: str) -> list[ox.NamedNode]:
        """The concepts a cell names by code or label (any case), after its operator if it has one."""
        table = self.known.codes[column]
        _, rest = operator(self.cell(column))
        out = []
        for code in filter(None, (c.strip() for c in re.split(r"[;,|]", rest))):
            if code.casefold() in table:
                out.append(table[code.casefold()])
            else:
                known = self.known.notations[column]
                message = f"unknown code{_suggest(code, known)}; known: {', '.join(known)}"
                self.errors.append(RowError(self.number, column, code, message))
        return out

    def checked(self, column: str, pattern: str, message: str) -> str | None:
        value = self.cell(column)
        if value in ("", REMOVE):
            return value
        if not re.fullmatch(pattern, value):
            self.error(column, message)
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
    """Update ``triples`` (everything in the initiative's file) with the row's cells."""
    c = row.cell
    if new:
        for column in REQUIRED_FOR_NEW:
            if c(column) in ("", REMOVE):
                row.error(column, "required for a new initiative")
        triples.update(
            {ox.Triple(iri, P["type"], C["Initiative"]), ox.Triple(iri, P["identifier"], ox.Literal(ident))}
        )
    elif c("name") == REMOVE or c("municipality") == REMOVE:
        row.error("name" if c("name") == REMOVE else "municipality", "cannot be removed")
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
            row.error(f"description_{lang}", "cannot be removed")
    if c("municipality") and c("municipality") != REMOVE:
        found = row.known.municipalities.get(c("municipality").casefold())
        if found is None:
            row.error(
                "municipality",
                "not a known municipality"
                + _suggest(c("municipality"), row.known.municipality_names)
                + "; give its name or CBS code, or add it to data/referentie/gemeenten.ttl first",
            )
        else:
            _set(triples, iri, P["municipality"], [found], c("municipality"))
    forms = row.codes("legal_form") if c("legal_form") != REMOVE else []
    if len(forms) > 1:
        row.error("legal_form", "give one legal form")
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
    year = row.checked("founding_year", r"1[89][0-9]{2}|20[0-9]{2}", "not a year (four digits)")
    if year is not None:
        _set(triples, iri, P["founding"], [_literal(year, "gYear")], year)
    years = row.checked("planned_duration_years", r"[1-9][0-9]{0,2}", "not a whole number of years")
    if years is not None:
        _set(triples, iri, P["duration"], [_literal(f"P{years}Y", "duration")], years)
    area = c("area_m2")
    if area not in ("", REMOVE) and decimal(area) is None:
        row.error("area_m2", "not a clear number of square metres (e.g. 1250, 1250,5 or 1.250,5)")
        area = None
    if area is not None and area != "":
        node = ox.NamedNode(f"{iri.value}-oppervlakte")
        for t in [t for t in triples if t.subject == node]:
            triples.discard(t)
        _set(triples, iri, P["area"], [node], area)
        if area != REMOVE:
            triples.update(
                {
                    ox.Triple(node, P["type"], C["Quantity"]),
                    ox.Triple(node, P["value"], _literal(decimal(area) or "", "decimal")),
                    ox.Triple(node, P["unitCode"], ox.Literal("MTK")),
                    ox.Triple(node, P["unitText"], ox.Literal("m²")),
                }
            )
    url = row.checked("source_url", r"https?://[^\s<>\"{}|\\^`]+", "not a web address (http:// or https://)")
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
        row.error("source_url", "cannot be removed (every initiative keeps its source)")
    # everything described with the initiative derives from its sources too
    sources = {t.object for t in triples if t.subject == iri and t.predicate == P["derived"]}
    area_node = ox.NamedNode(f"{iri.value}-oppervlakte")
    if any(t.subject == area_node for t in triples):
        triples.update(ox.Triple(area_node, P["derived"], s) for s in sources)


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
) -> ImportResult:
    """Import a spreadsheet into ``data_dir`` (default: the project's ``data/``).

    The data folder is locked for the whole import, so that two imports never interleave.
    """
    data_dir = Path(data_dir) if data_dir else bundle.project_dir() / "data"
    if not data_dir.is_dir():
        raise InputError(f"{data_dir}: no such data folder")
    with locked(data_dir):
        recover(data_dir)
        return _import(path, data_dir, dry_run, max_bytes, now)


def _import(
    path: Path, data_dir: Path, dry_run: bool, max_bytes: int, now: Callable[[], datetime]
) -> ImportResult:
    rows, encoding, delimiter = read_rows(path, max_bytes)
    if not rows:
        raise InputError(f"{path}: no rows under the header")
    graph = KnowledgeGraph.load(sorted(data_dir.rglob("*.ttl")))
    known = _Known.of(graph)
    owners = _owners(data_dir)
    errors: list[RowError] = []
    result = ImportResult(encoding=encoding, delimiter=delimiter)
    files: dict[Path, set[ox.Triple]] = {}
    originals: dict[Path, str] = {}
    before: dict[Path, set[ox.Triple]] = {}
    seen: dict[str, int] = {}
    bar = current()  # the caller's progress bar, if it shows one (kg.core.progress)
    if bar is not None:
        bar.total = len(rows)
    for number, cells in rows:
        if bar is not None:
            bar.advance()
        row = _Row(number, cells, known, errors)
        formulas = [column for column, cell in cells.items() if looks_like_formula(cell) and cell != REMOVE]
        for column in formulas:
            row.error(
                column,
                f"starts with {cells[column][0]!r} like a spreadsheet formula; kg imports no "
                "formulas (remove that first character)",
            )
        if formulas:
            continue
        ident = cells.get("identifier") or slug(cells.get("name", ""))
        if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", ident or ""):
            row.error(
                "identifier" if cells.get("identifier") else "name",
                "needs an identifier of lower-case letters, digits and hyphens (or a name to make one)",
            )
            continue
        if ident in seen:
            row.error("identifier", f"the same initiative as row {seen[ident]}")
            continue
        seen[ident] = number
        existing = known.initiatives.get(ident)
        iri = existing or ox.NamedNode(f"{ID}initiatief/{ident}")
        target = owners.get(iri) or data_dir / "initiatieven" / f"{ident}.ttl"
        if target not in files:
            text = target.read_text(encoding="utf-8") if target.exists() else ""
            originals[target] = text
            files[target] = {q.triple for q in ox.parse(text.encode(), format=ox.RdfFormat.TURTLE)}
            before[target] = set(files[target])
        old = _fields(files[target], iri, known)
        _apply(row, iri, ident, files[target], new=existing is None)
        (result.updated if existing else result.created).append(ident)
        new = _fields(files[target], iri, known)
        changes = [(column, old[column], new[column]) for column in new if old[column] != new[column]]
        if changes:
            result.changes[ident] = changes
    if errors:
        raise ImportRejected(
            f"{path}: {len(errors)} problem{'s' * (len(errors) != 1)} in the rows; nothing was written",
            sorted(errors),
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
    known = {t.subject for g in graph.graphs() for t in graph.triples(g)}
    new = {t.subject for t in added if t.subject not in known}
    result.files[data_dir / "imports.ttl"] = _record(
        data_dir / "imports.ttl", path, now(), added, new, result
    )
    _validate(data_dir, result.files)
    if not dry_run:
        write_many(data_dir, result.files)
    return result


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
    activity = ox.NamedNode(f"{ID}import/{stamp}")
    used = ox.NamedNode(f"{ID}import/{stamp}/bestand")
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
    for ident in result.created + result.updated:
        triples.add(ox.Triple(ox.NamedNode(f"{ID}initiatief/{ident}"), P["influenced"], activity))
    triples.update(ox.Triple(subject, P["generated"], activity) for subject in new)
    for statement in added:
        if statement.predicate in (P["derived"], P["influenced"]) or statement.subject in new:
            continue  # provenance links themselves, and statements about what the import created
        key = hashlib.sha256(f"{statement} .".encode()).hexdigest()[:20]
        record = ox.NamedNode(f"{ID}import/{stamp}/uitspraak/{key}")
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


def _validate(data_dir: Path, changed: dict[Path, bytes]) -> None:
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
            f"the rows are readable but the data would not conform "
            f"({report.count('Violation')} violations); nothing was written",
            report=report.text("en"),
        )
