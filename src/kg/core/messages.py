"""The steward's messages in Dutch and English: one catalogue for kg import, kg validate's report,
kg diff, kg init and kg fmt.

Each entry is a key with its Dutch and English text (``str.format`` fields in braces); :func:`say`
picks the language (``--lang``; Dutch when a language is not known). Keys are grouped by verb.
Column names (``area_m2``), codes and IRIs are not translated: they are what the steward types.
"""

from __future__ import annotations

LANGS = ("nl", "en")

MESSAGES: dict[str, tuple[str, str]] = {
    # --- kg import: reading the file ---
    "import.unreadable": ("{path}: kan niet lezen: {reason}", "{path}: cannot read: {reason}"),
    "import.encoding": (
        "{path}: geen UTF-8- of Windows-1252-tekst",
        "{path}: not UTF-8 or Windows-1252 text",
    ),
    "import.nul": (
        "{path}: geen CSV-bestand (het bevat NUL-bytes)",
        "{path}: not a CSV file (it contains NUL bytes)",
    ),
    "import.bad_csv": ("{path}: geen geldige CSV: {reason}", "{path}: not valid CSV: {reason}"),
    "import.long_cell": (
        "{path}: een cel is langer dan {limit} tekens",
        "{path}: a cell is longer than {limit} characters",
    ),
    "import.empty": (
        "{path}: leeg bestand (verwacht een kopregel: {columns})",
        "{path}: empty file (expected a header row: {columns})",
    ),
    "import.unknown_column": (
        "{path}: onbekende kolom {names}; kolommen: {columns}",
        "{path}: unknown column {names}; columns: {columns}",
    ),
    "import.twice": (
        "{path}: een kolom staat twee keer in de kopregel",
        "{path}: a column appears twice in the header",
    ),
    "import.extra_cells": (
        "{path}: rij {row} heeft meer cellen dan de kopregel ({extra!r})",
        "{path}: row {row} has more cells than the header ({extra!r})",
    ),
    "import.no_rows": ("{path}: geen rijen onder de kopregel", "{path}: no rows under the header"),
    "import.no_data_dir": ("{path}: datamap bestaat niet", "{path}: no such data folder"),
    "import.needs_file": (
        "kg import heeft FILE.csv nodig (of --template)",
        "kg import needs FILE.csv (or --template)",
    ),
    "did_you_mean": (" (bedoelt u {choice}?)", " (did you mean {choice}?)"),
    # --- kg import: one problem in a row ---
    "row.where": (
        "rij {row}, kolom {column}: {value!r}: {message}",
        "row {row}, column {column}: {value!r}: {message}",
    ),
    "row.formula": (
        "begint met {first!r} zoals een spreadsheetformule; kg importeert geen formules "
        "(haal dat eerste teken weg)",
        "starts with {first!r} like a spreadsheet formula; kg imports no formulas "
        "(remove that first character)",
    ),
    "row.identifier": (
        "heeft een identificatie nodig van kleine letters, cijfers en streepjes (of een naam om er een "
        "van te maken)",
        "needs an identifier of lower-case letters, digits and hyphens (or a name to make one)",
    ),
    "row.same_as": ("hetzelfde initiatief als rij {row}", "the same initiative as row {row}"),
    "row.taken": (
        "noemt al iets anders dan een initiatief ({kind}, in {file}); kies een andere identificatie",
        "already names something that is not an initiative ({kind}, in {file}); choose another identifier",
    ),
    "row.control": (
        "bevat een stuurteken ({char}); haal het weg",
        "holds a control character ({char}); remove it",
    ),
    "row.unknown_code": ("onbekende code{hint}; bekend: {known}", "unknown code{hint}; known: {known}"),
    "row.ambiguous_code": (
        "past bij meer dan één code ({choices}); geef de code",
        "fits more than one code ({choices}); give the code",
    ),
    "row.required": ("verplicht bij een nieuw initiatief", "required for a new initiative"),
    "row.cannot_remove": ("kan niet worden verwijderd", "cannot be removed"),
    "row.unknown_municipality": (
        "geen bekende gemeente{hint}; geef haar naam of CBS-code, of voeg haar toe met de kolommen "
        "municipality_cbs en province",
        "not a known municipality{hint}; give its name or CBS code, or add it with the columns "
        "municipality_cbs and province",
    ),
    "row.one_legal_form": ("geef één rechtsvorm", "give one legal form"),
    "row.year": ("geen jaartal (vier cijfers)", "not a year (four digits)"),
    "row.years": ("geen heel aantal jaren", "not a whole number of years"),
    "row.area": (
        "geen duidelijk aantal vierkante meters (bijv. 1250, 1250,5 of 1.250,5)",
        "not a clear number of square metres (e.g. 1250, 1250,5 or 1.250,5)",
    ),
    "row.url": ("geen webadres (http:// of https://)", "not a web address (http:// or https://)"),
    "row.keep_source": (
        "kan niet worden verwijderd (elk initiatief houdt zijn bron)",
        "cannot be removed (every initiative keeps its source)",
    ),
    # --- kg import: a municipality added from the spreadsheet ---
    "row.cbs_pattern": (
        "geen CBS-gemeentecode: GM en vier cijfers (bijv. GM0855)",
        "not a CBS municipality code: GM and four digits (e.g. GM0855)",
    ),
    "row.cbs_other_name": (
        "die CBS-code heeft al gemeente {name}",
        "that CBS code already belongs to municipality {name}",
    ),
    "row.name_other_cbs": (
        "gemeente {name} heeft CBS-code {code}, niet {given}",
        "municipality {name} has CBS code {code}, not {given}",
    ),
    "row.needs_province": (
        "een nieuwe gemeente heeft een provincie nodig (kolom province)",
        "a new municipality needs a province (column province)",
    ),
    "row.unknown_province": (
        "geen bekende provincie{hint}; bekend: {known}; of geef ook province_cbs (PV en twee cijfers) "
        "om haar toe te voegen",
        "not a known province{hint}; known: {known}; or give province_cbs too (PV and two digits) to add it",
    ),
    "row.province_pattern": (
        "geen CBS-provinciecode: PV en twee cijfers (bijv. PV25)",
        "not a CBS province code: PV and two digits (e.g. PV25)",
    ),
    "row.province_other_name": (
        "die provinciecode heeft al provincie {name}",
        "that province code already belongs to province {name}",
    ),
    "row.other_province": (
        "gemeente {name} ligt in provincie {province}",
        "municipality {name} lies in province {province}",
    ),
    "row.municipality_differs": (
        "rij {row} voegt deze gemeente anders toe",
        "row {row} adds this municipality differently",
    ),
    # --- kg import: the verdict ---
    "import.rejected": (
        "{path}: {count} {problems} in de rijen; er is niets geschreven",
        "{path}: {count} {problems} in the rows; nothing was written",
    ),
    "import.problem": ("probleem", "problem"),
    "import.problems": ("problemen", "problems"),
    "import.not_conform": (
        "de rijen zijn leesbaar maar de data zou niet voldoen ({count} overtredingen); er is niets "
        "geschreven",
        "the rows are readable but the data would not conform ({count} violations); nothing was written",
    ),
    "import.no_changes": (
        "{path}: geen wijzigingen (de data zegt dit al)",
        "{path}: no changes (the data already says this)",
    ),
    "import.summary": (
        "{path} ({encoding}, gescheiden door '{delimiter}'): {created} nieuw, {updated} bijgewerkt; "
        "{verb} {count} bestanden: {shown}",
        "{path} ({encoding}, '{delimiter}'-separated): {created} new, {updated} updated; "
        "{verb} {count} files: {shown}",
    ),
    "import.would_write": ("zou schrijven", "would write"),
    "import.wrote": ("schreef", "wrote"),
    "import.more": ("en nog {count}", "and {count} more"),
    "import.new": ("nieuw", "new"),
    "import.updated": ("bijgewerkt", "updated"),
    "import.none": ("(geen)", "(none)"),
    "import.progress": ("{name} importeren", "importing {name}"),
    # --- kg validate ---
    "validate.progress": ("valideren met {engine}", "validating with {engine}"),
    "validate.conforms": ("voldoet", "conforms"),
    "validate.not_conform": ("voldoet niet", "does not conform"),
    "validate.summary": (
        "{verdict}: {violations} overtredingen, {warnings} waarschuwingen, {infos} meldingen",
        "{verdict}: {violations} violations, {warnings} warnings, {infos} infos",
    ),
    "validate.Violation": ("Overtreding", "Violation"),
    "validate.Warning": ("Waarschuwing", "Warning"),
    "validate.Info": ("Melding", "Info"),
    "validate.value": ("waarde", "value"),
    "validate.defined_at": ("gedefinieerd in", "defined in"),
    "validate.title": ("Validatierapport", "Validation report"),
    "validate.other": ("Overige", "Other"),
    "validate.col_severity": ("Ernst", "Severity"),
    "validate.col_subject": ("Onderwerp", "Subject"),
    "validate.col_property": ("Eigenschap", "Property"),
    "validate.col_value": ("Waarde", "Value"),
    "validate.col_message": ("Melding", "Message"),
    "validate.col_shape": ("Vorm", "Shape"),
    # --- kg diff ---
    "diff.summary": ("{removed} verwijderd, {added} toegevoegd", "{removed} removed, {added} added"),
    "diff.none": ("geen verschillen", "no differences"),
    "diff.removed_header": ("# verwijderd: {count} {triples}", "# removed: {count} {triples}"),
    "diff.added_header": ("# toegevoegd: {count} {triples}", "# added: {count} {triples}"),
    # --- kg init ---
    "init.started": (
        "project gestart in {path} (kg in die map gebruikt zijn bestanden; kg info toont ze)",
        "started a project in {path} (kg run there uses its files; kg info shows them)",
    ),
    "init.exists": (
        "{path}: bestaat en is geen lege map; kg init begint alleen nieuwe projecten",
        "{path}: exists and is not an empty folder; kg init starts new projects only",
    ),
    "init.failed": (
        "{path}: kan het project niet maken: {reason}",
        "{path}: cannot create the project: {reason}",
    ),
    # --- kg fmt ---
    "fmt.would": ("zou herschrijven: {path}", "would reformat {path}"),
    "fmt.did": ("herschreven: {path}", "reformatted {path}"),
    "fmt.would_drop": (
        "zou herschrijven: {path} (en de opmerking op regel {line} weglaten)",
        "would reformat {path} (and drop the comment on line {line})",
    ),
    "fmt.comment": (
        "{path}:{line}: kg fmt zou deze opmerking weglaten: {comment}; zet haar in het openingsblok van "
        "het bestand of geef --drop-comments",
        "{path}:{line}: kg fmt would drop this comment: {comment}; move it into the file's opening comment "
        "block or pass --drop-comments",
    ),
    "fmt.canonical": ("alle bestanden staan in canonieke vorm", "all files are in canonical form"),
    "fmt.turtle_only": (
        "{path}: kg fmt herschrijft alleen Turtle-bestanden (.ttl)",
        "{path}: kg fmt formats Turtle (.ttl) files only",
    ),
    "fmt.outside": (
        "{path}: wijst naar {target}, buiten de projectmap; kg fmt schrijft daar niet (noem het bestand "
        "als u het toch wilt herschrijven)",
        "{path}: points to {target}, outside the project folder; kg fmt does not write there (name the file "
        "to reformat it anyway)",
    ),
    "fmt.unreadable": ("{path}: kan niet lezen: {reason}", "{path}: cannot read: {reason}"),
    "fmt.invalid": ("{path}:{line}: ongeldige Turtle: {reason}", "{path}:{line}: invalid Turtle: {reason}"),
}


def say(key: str, lang: str = "nl", **fields: object) -> str:
    """The message ``key`` in ``lang`` (Dutch unless ``en``), its fields filled in."""
    nl, en = MESSAGES[key]
    return (en if lang == "en" else nl).format(**fields)
