"""Spreadsheets (.xlsx through openpyxl, .csv through the standard csv module) and table rows.

Each sheet is a section named by the sheet. A row is written on one line with its column names
("Name: Ada; Role: Engineer"), so a passage cut from a sheet still says what each value is; rows are
the only lines of a sheet's text, so chunks are cut between rows, never inside one (unless a single
row is longer than a chunk).
"""

import csv
import datetime
import io
from collections.abc import Iterable, Sequence

from django.conf import settings

from documents.extract.archives import check_container
from documents.extract.base import ExtractedDocument, ExtractionError, Section, normalise

# Tried in order: UTF-8 (with or without a byte-order mark), then Windows-1252, which spreadsheet
# programs on Windows export; Latin-1 comes last.
_CSV_ENCODINGS = ("utf-8-sig", "cp1252")
_CSV_DELIMITERS = ",;\t|"
_SNIFF_CHARS = 64 * 1024


def cell_text(value: object) -> str:
    """A cell's value as one line of text: dates without a midnight time, whole floats without ".0"."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        value = value.date()
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def looks_like_header(cells: Sequence[object]) -> bool:
    """A first row of distinct words (no numbers, dates or blanks in most of it) names the columns."""
    filled = [cell for cell in cells if cell not in (None, "")]
    if not filled or len(filled) * 2 < len(cells) or len(set(map(str, filled))) < len(filled):
        return False
    return all(isinstance(cell, str) and not _is_number(cell) for cell in filled)


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
    except ValueError:
        return False
    return True


def table_text(rows: Sequence[Sequence[object]], *, header: bool) -> str:
    """The rows (cell values) one per line; with ``header``, the first row names the columns of the rest."""
    lines = [[cell_text(value) for value in row] for row in rows]
    if not header:
        return "\n".join("; ".join(cell for cell in cells if cell) for cells in lines if any(cells))
    columns, body = lines[0], [cells for cells in lines[1:] if any(cells)]
    if not body:  # a lone header row is all the table holds
        return "; ".join(cell for cell in columns if cell)
    return "\n".join(_named_cells(columns, cells) for cells in body)


def _named_cells(columns: list[str], cells: list[str]) -> str:
    """``Name: Ada; Role: Engineer``: each filled cell after its column's name (or number, if unnamed)."""
    names = [columns[n] if n < len(columns) and columns[n] else f"Column {n + 1}" for n in range(len(cells))]
    return "; ".join(f"{name}: {cell}" for name, cell in zip(names, cells, strict=True) if cell)


class _CellBudget:
    """Counts cells across a whole file and refuses it once it holds more than SPREADSHEET_MAX_CELLS."""

    def __init__(self):
        self.left = settings.SPREADSHEET_MAX_CELLS

    def take(self, rows: Iterable[Sequence[object]]) -> Iterable[Sequence[object]]:
        for row in rows:
            self.left -= len(row)
            if self.left < 0:
                raise ExtractionError(
                    f"more than {settings.SPREADSHEET_MAX_CELLS} cells (SPREADSHEET_MAX_CELLS); split the spreadsheet"
                )
            yield row


def extract_xlsx(data: bytes, fallback_title: str) -> ExtractedDocument:
    from openpyxl import load_workbook

    check_container(data, ".xlsx")
    budget = _CellBudget()
    try:
        # Read-only mode streams rows instead of building every cell; data_only gives formulas' last values.
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            title = normalise(workbook.properties.title or "") or fallback_title
            sections = [_sheet_section(title, sheet, budget) for sheet in workbook.worksheets]
        finally:
            workbook.close()
    except ExtractionError:
        raise
    except Exception as exc:  # openpyxl fails on a damaged file with KeyError, ValueError, XML errors...
        raise ExtractionError(f"not a readable .xlsx file ({type(exc).__name__}: {exc})") from None
    return ExtractedDocument(title=title, sections=[section for section in sections if section.text])


def _sheet_section(title: str, sheet, budget: _CellBudget) -> Section:
    # A sheet states its size, and read-only mode pads every row to it: a forged "A1:XFD1048576"
    # would yield billions of empty cells. Forgetting the stated size makes it read the cells there are.
    sheet.reset_dimensions()
    rows = [row for row in budget.take(sheet.iter_rows(values_only=True)) if any(v not in (None, "") for v in row)]
    text = table_text(rows, header=bool(rows) and looks_like_header(rows[0]))
    return Section(headings=[title, sheet.title], text=normalise(text))


def extract_csv(data: bytes, fallback_title: str) -> ExtractedDocument:
    text = _decode_csv(data)
    sample = text[:_SNIFF_CHARS]
    sniffer = csv.Sniffer()
    try:
        dialect = sniffer.sniff(sample, delimiters=_CSV_DELIMITERS)
    except csv.Error:  # one column, or too irregular to tell: read it as plain comma-separated
        dialect = csv.excel
    try:
        rows = list(_CellBudget().take(csv.reader(io.StringIO(text, newline=""), dialect)))
    except csv.Error as exc:
        raise ExtractionError(f"not a readable CSV file ({exc})") from None
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    header = bool(rows) and (looks_like_header(rows[0]) or _sniffed_header(sniffer, sample))
    body = normalise(table_text(rows, header=header))
    sections = [Section(headings=[fallback_title], text=body)] if body else []
    return ExtractedDocument(title=fallback_title, sections=sections)


def _sniffed_header(sniffer: csv.Sniffer, sample: str) -> bool:
    """The csv module's guess (a first row whose types differ from the columns below it)."""
    try:
        return sniffer.has_header(sample)
    except csv.Error:
        return False


def _decode_csv(data: bytes) -> str:
    if b"\x00" in data:
        raise ExtractionError("binary file (contains NUL bytes), not CSV text")
    for encoding in _CSV_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")  # any byte is a Latin-1 character: the last resort never fails
