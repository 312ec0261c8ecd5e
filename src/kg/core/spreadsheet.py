"""Cells that spreadsheets will not run: the OWASP rule for CSV files (CSV injection, CWE-1236).

A spreadsheet program treats a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some
programs, a tab or carriage return) as a formula, and a formula can open links or run commands. Every
CSV kg writes passes its cells through :func:`safe_cell`, which puts a single quote before such a
cell (the quote shows the cell is text; OWASP, "CSV Injection"). Plain numbers (``-5``, ``+3.5``,
``1e-3``) are left as they are: they are not formulas, and a quote would turn them into text.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

from kg.core.xmlchars import NOT_IN_XML

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_DECIMAL = re.compile(r"[+-]?\d+\.\d+")
BOM = "\ufeff"
DIALECTS = ("rfc4180", "excel-nl")


# C0 controls but tab, LF and CR; DEL; C1 controls; the XML non-characters. None belongs in a cell of
# text: they move a terminal's cursor or colour its text, and XML 1.0 (section 2.2), so .xlsx, cannot hold
# the C0 ones.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet could take ``text`` for a formula (it starts so and is no plain number)."""
    return text.startswith(FORMULA_START) and not _NUMBER.fullmatch(text)


def safe_cell(text: str) -> str:
    """``text`` with a leading single quote if a spreadsheet could take it for a formula."""
    return "'" + text if looks_like_formula(text) else text


def neutralise(data: str) -> str:
    """A CSV document (RFC 4180) with every cell passed through :func:`safe_cell`.

    Unchanged, byte for byte, when no cell needs it.
    """
    rows = list(csv.reader(io.StringIO(data, newline="")))
    if not any(looks_like_formula(cell) for row in rows for cell in row):
        return data
    return write_rows(rows)


def write_rows(rows: Iterable[Sequence[object]], delimiter: str = ",", bom: bool = False) -> str:
    """CSV text with CRLF line ends (RFC 4180), every cell made safe; a UTF-8 BOM first if asked."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell("" if cell is None else str(cell)) for cell in row])
    return (BOM if bom else "") + out.getvalue()


def excel_nl(data: str) -> str:
    """A CSV document rewritten for Excel with Dutch settings: semicolons, decimal commas, a UTF-8 BOM.

    Dutch Excel splits cells at ``;`` (its list separator) and reads ``12,5`` as a number; without a
    BOM it reads UTF-8 as Windows-1252. Cells stay safe (:func:`safe_cell`).
    """
    rows = list(csv.reader(io.StringIO(data, newline="")))
    converted = [
        [cell.replace(".", ",") if _DECIMAL.fullmatch(cell) else cell for cell in row] for row in rows
    ]
    return write_rows(converted, delimiter=";", bom=True)


# Characters XML 1.0 cannot hold (section 2.2), so no .xlsx cell can (kg.core.xmlchars)
_NOT_IN_XML = NOT_IN_XML
FIXED_TIME = (2000, 1, 1, 0, 0, 0)  # every part of an .xlsx gets this time: the same rows, the same bytes


def xlsx(rows: Iterable[Sequence[object]], sheet: str = "kg") -> bytes:
    """An Excel workbook (Office Open XML, ECMA-376) of one sheet with ``rows``; the first row in bold.

    ``int``, ``float`` and ``Decimal`` cells are numbers; everything else is text, passed through
    :func:`safe_cell` exactly as in CSV (a text cell is never stored as a formula). The file is the same
    byte for byte for the same rows (fixed document dates and zip times), so releases stay reproducible.
    A text with a character XML cannot hold raises ValueError naming the cell.
    """
    import zipfile
    from datetime import datetime
    from decimal import Decimal

    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.writer.excel import ExcelWriter

    book = Workbook()
    book.properties.creator = "kg"
    book.properties.created = book.properties.modified = datetime(*FIXED_TIME)
    ws = book.active
    ws.title = sheet
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            cell = ws.cell(row=r, column=c)
            if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
                text = safe_cell("" if value is None else str(value))
                if _NOT_IN_XML.search(text):
                    raise ValueError(f"row {r}, column {c}: a control character that .xlsx cannot hold")
                cell.value = text
                cell.data_type = "s"  # text, never a formula
            else:
                cell.value = value
            if r == 1:
                cell.font = Font(bold=True)
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(book, archive).write_data()
    fixed = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(fixed, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            out.writestr(zipfile.ZipInfo(info.filename, FIXED_TIME), src.read(info), zipfile.ZIP_DEFLATED)
    return fixed.getvalue()
