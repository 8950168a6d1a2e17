"""Reading and writing sheet files: CSV, XLSX and JSON, and the empty extraction-sheet templates.

Why this module exists: a sheet reaches the importer as curators' tools wrote it — Excel's CSV in another
encoding or with semicolons, workbooks whose PMID cells are numbers, or a file that is not a table at
all. Reading turns all of it into rows of plain strings exactly as typed (no "NA" guessing, no "2021.0"),
or into one clear error naming the file and the place. pandas and openpyxl are imported only here and
only when a file is read or written.
"""

from __future__ import annotations

import codecs
import io
import operator
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evidencedb.errors import EvidenceDBError, ValidationError
from evidencedb.io import limits
from evidencedb.io.cells import GUARDED_IN_CSV, unguard
from evidencedb.io.sheet.columns import INPUT_COLUMNS, XLSX_SUFFIXES, Column, with_designs

#: The worksheet read from a workbook when it exists (templates and exports name it so); else the first one.
SHEET_NAME = "findings"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls and password-protected workbooks
_SCAN = 65_536


@dataclass(frozen=True)
class SheetTable:
    """A sheet's rows as strings.

    Attributes:
        source: the file name, with the worksheet for workbooks (``sheet.xlsx[findings]``).
        columns: lower-cased headers in sheet order.
        rows: one tuple per non-blank row, in the order of ``columns``; values as typed (the input models
            strip them).
        numbers: the sheet row number of each row (header row = 1, as a spreadsheet shows it).
        decimal_comma: numbers are written with a decimal comma (CSV separated by semicolons, as
            spreadsheet programs save it where the comma is the decimal mark).
    """

    source: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numbers: tuple[int, ...]
    decimal_comma: bool = False


def _cell(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ("" if value is None or value != value else str(value))


def _decode(path: Path, raw: bytes) -> str:
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Excel's "Unicode text"
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ValidationError(f"{path}: not a text file (a UTF-16 mark, then invalid UTF-16 at byte offset "
                                  f"{exc.start})") from None
        if not text.lstrip("\ufeff\r\n").split("\n", 1)[0].isascii():  # column names are ASCII
            raise ValidationError(f"{path}: not a text file (a UTF-16 mark, then no readable header line)")
        return text
    if raw.startswith(b"PK\x03\x04"):
        raise ValidationError(f"{path}: this is a zip archive (an XLSX workbook?), not CSV text; name it .xlsx")
    if raw.startswith(_OLE_MAGIC):
        raise ValidationError(f"{path}: this is a legacy .xls or encrypted workbook, not CSV text; "
                              "save it as .xlsx or CSV UTF-8")
    nul = raw.find(b"\x00", 0, _SCAN)
    if nul >= 0:
        raise ValidationError(f"{path}: not a text file (binary data: a NUL byte at byte offset {nul})")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        offset = exc.start
        line = raw.count(b"\n", 0, offset) + 1
        column = offset - (raw.rfind(b"\n", 0, offset) + 1) + 1
        raise ValidationError(f"{path}: not UTF-8 text: byte 0x{raw[offset]:02x} at byte offset {offset} "
                              f"(line {line}, column {column}); save the sheet as CSV UTF-8") from None


def _csv_grid(path: Path) -> tuple[str, list[tuple[str, ...]]]:
    import pandas as pd

    limits.check_file_size(path)
    raw = path.read_bytes()
    limits.check_lines(path, raw)
    if not raw or raw.isspace():  # (no stripped copy of a file of megabytes)
        raise ValidationError(f"{path}: the file is empty")
    text = _decode(path, raw)
    if not text or text.isspace():
        raise ValidationError(f"{path}: the file is empty")
    first = text[:_SCAN].lstrip("\r\n").split("\n", 1)[0]
    utf16 = raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    delimiter = max((",", ";", "\t"), key=first.count)
    limits.check_columns(path, first, delimiter)
    try:
        # UTF-8 goes to the parser as the bytes it was checked from (no round trip through str; its C
        # tokenizer reads UTF-8 itself and drops a byte-order mark).
        source = io.StringIO(text) if utf16 else io.BytesIO(raw)
        # dtype=object: the parser's own strings, as typed (no conversion into a string array and back).
        frame = pd.read_csv(source, header=None, sep=delimiter, dtype=object, keep_default_na=False, na_filter=False,
                            skip_blank_lines=False, skipinitialspace=True, encoding="utf-8")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise ValidationError(f"{path}: not a readable CSV table: {detail.removeprefix('Error tokenizing data. ')}"
                              ) from None
    # Cells are not stripped here (seconds on 100k rows): the input models strip every value they take,
    # and the importer strips what it uses itself.
    grid = list(zip(*(frame[c].tolist() for c in frame.columns), strict=True))
    if GUARDED_IN_CSV.search(text.encode("utf-8") if utf16 else raw):  # one scan; most files have no guarded cell
        grid = [tuple(unguard(c) if c.startswith("'") else c for c in row) for row in grid]
    return delimiter, grid


def _xlsx_grid(path: Path) -> tuple[str, list[tuple[str, ...]]]:
    import pandas as pd

    if path.stat().st_size == 0:
        raise ValidationError(f"{path}: the file is empty")
    with path.open("rb") as fh:
        head = fh.read(8)
    if head.startswith(_OLE_MAGIC):
        raise ValidationError(f"{path}: a legacy .xls or encrypted workbook; save it as .xlsx (unencrypted) or CSV")
    if not zipfile.is_zipfile(path):
        raise ValidationError(f"{path}: not an XLSX workbook (not a zip archive)")
    limits.check_workbook(path)
    try:
        with pd.ExcelFile(path, engine="openpyxl") as book:
            names = [str(n) for n in book.sheet_names]
            if not names:
                raise ValidationError(f"{path}: the workbook has no worksheet")
            name = SHEET_NAME if SHEET_NAME in names else names[0]
            frame = pd.read_excel(book, sheet_name=name, header=None, dtype=str, keep_default_na=False,
                                  na_filter=False)
    except ValidationError:
        raise
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, EOFError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValidationError(f"{path}: not a readable XLSX workbook ({reason})") from None
    return name, [tuple(unguard(_cell(v)) for v in row) for row in frame.to_numpy().tolist()]


def read_table(path: Path) -> SheetTable:
    """Read a CSV or XLSX sheet as strings, exactly as typed.

    CSV may be UTF-8 (with or without BOM) or UTF-16 with BOM, separated by commas, semicolons or tabs.
    A workbook's ``findings`` worksheet is read, else its first one; numbers typed in cells come back
    without ``.0``. Blank rows are skipped but keep their place in the row numbering; trailing columns
    without a header and without values are ignored.

    Raises:
        ValidationError: missing, empty, binary, wrongly encoded, malformed or header-less file; the
            message names the file and the place (byte offset, line, row or column).
    """
    if not path.is_file():
        raise ValidationError(f"{path}: no such file")
    delimiter = ","
    if path.suffix.lower() in XLSX_SUFFIXES:
        sheet, grid = _xlsx_grid(path)
        source = f"{path.name}[{sheet}]"
    elif path.suffix.lower() == ".xls":
        raise ValidationError(f"{path}: legacy .xls workbooks are not read; save it as .xlsx or CSV")
    else:
        delimiter, grid = _csv_grid(path)
        source = path.name
    start = next((i for i, row in enumerate(grid) if "".join(row).strip()), None)
    if start is None:
        raise ValidationError(f"{source}: the sheet is empty (no header row)")
    header = [h.strip().lower() for h in grid[start]]
    keep: list[int] = []
    seen: dict[str, int] = {}
    for index, name in enumerate(header):
        if not name:
            filled = next((r for r, row in enumerate(grid[start + 1:], start + 2)
                           if index < len(row) and row[index].strip()), None)
            if filled is not None:
                raise ValidationError(f"{source}: column {index + 1} has values (row {filled}) but no header")
            continue
        if name in seen:
            raise ValidationError(f"{source}: row {start + 1}: column {name!r} appears twice "
                                  f"(columns {seen[name] + 1} and {index + 1})")
        seen[name] = index
        keep.append(index)
    columns = tuple(header[i] for i in keep)
    pick = None if len(keep) == len(header) else operator.itemgetter(*keep)
    rows: list[tuple[str, ...]] = []
    numbers: list[int] = []
    for number, row in enumerate(grid[start + 1:], start + 2):
        if not row[0].strip() and not "".join(row).strip():  # blank (the first cell decides most rows)
            continue
        rows.append(row if pick is None else (pick(row) if len(keep) > 1 else (pick(row),)))
        numbers.append(number)
    return SheetTable(source, columns, tuple(rows), tuple(numbers), decimal_comma=delimiter == ";")


# --------------------------------------------------------------------------------------------------
# Writing


def write_template(path: Path, *, designs: Sequence[str] = ()) -> list[Path]:
    """Write an empty extraction sheet: every input column, its allowed values, and one example row.

    ``.csv`` writes the sheet plus ``<name>.columns.txt`` describing each column; ``.xlsx`` writes a
    workbook with drop-down lists on every column with allowed values and a ``columns`` worksheet
    describing each column.

    Args:
        path: ``.csv`` or ``.xlsx`` file to create.
        designs: the study designs offered for ``design`` (the bundled scheme's when empty).

    Returns:
        The files written.

    Raises:
        EvidenceDBError: another extension, or the file cannot be written.
    """
    if not designs:
        from evidencedb.scoring import default_scheme

        designs = sorted(default_scheme().designs)
    specs = [c for c in with_designs(designs) if c.name in INPUT_COLUMNS]
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            import csv

            with path.open("w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                writer.writerow([c.name for c in specs])
                writer.writerow([c.example for c in specs])
            notes = path.with_suffix(".columns.txt")
            notes.write_text(_notes(specs), encoding="utf-8")
            return [path, notes]
        if suffix in XLSX_SUFFIXES:
            _xlsx_template(path, specs)
            return [path]
    except OSError as exc:
        raise EvidenceDBError(f"cannot write {path}: {exc.strerror}") from None
    raise EvidenceDBError(f"{path.name}: templates are written as .csv or .xlsx")


def _notes(specs: Sequence[Column]) -> str:
    lines = ["Extraction sheet columns: one row per finding; study columns repeat on each of a study's rows.", ""]
    for c in specs:
        lines.append(f"{c.name}{' (required)' if c.required else ''}: {c.meaning}")
        if c.describe():
            lines.append(f"    {'allowed' if c.allowed else 'format'}: {c.describe()}")
    return "\n".join(lines) + "\n"


def _xlsx_template(path: Path, specs: Sequence[Column]) -> None:
    from openpyxl import Workbook  # type: ignore[import-untyped]
    from openpyxl.styles import Font  # type: ignore[import-untyped]
    from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]
    from openpyxl.worksheet.datavalidation import DataValidation  # type: ignore[import-untyped]

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET_NAME
    sheet.append([c.name for c in specs])
    sheet.append([c.example or None for c in specs])
    sheet.freeze_panes = "A2"
    lists = book.create_sheet("lists")
    lists.sheet_state = "hidden"
    list_column = 0
    for index, c in enumerate(specs, start=1):
        letter = get_column_letter(index)
        if c.required:
            sheet.cell(row=1, column=index).font = Font(bold=True)
        sheet.column_dimensions[letter].width = max(12, min(40, len(c.name) + 4))
        if not c.allowed:
            continue
        list_column += 1
        lists_letter = get_column_letter(list_column)
        lists.cell(row=1, column=list_column, value=c.name)
        for row, value in enumerate(c.allowed, start=2):
            lists.cell(row=row, column=list_column, value=value)
        strict = c.name != "design"  # a review's own scheme may list other designs
        rule = DataValidation(type="list", allow_blank=not c.required, showDropDown=False,
                              formula1=f"=lists!${lists_letter}$2:${lists_letter}${len(c.allowed) + 1}",
                              showErrorMessage=True, errorStyle="stop" if strict else "warning",
                              errorTitle=c.name, error=f"{c.name}: one of {c.describe()}"[:255],
                              promptTitle=c.name[:32], prompt=c.meaning[:255], showInputMessage=True)
        rule.add(f"{letter}2:{letter}1048576")
        sheet.add_data_validation(rule)
    described = book.create_sheet("columns", 1)
    described.append(["column", "required", "meaning", "allowed values / format", "example"])
    for cell in described[1]:
        cell.font = Font(bold=True)
    for c in specs:
        described.append([c.name, "yes" if c.required else "no", c.meaning, c.describe(), c.example])
    for letter, width in zip("ABCDE", (20, 10, 70, 70, 30), strict=True):
        described.column_dimensions[letter].width = width
    described.freeze_panes = "A2"
    book.save(path)
