"""How large an input file may be, checked before any parser sees it.

Why this module exists: pandas, openpyxl and the citation parsers load a whole file, so a hostile or
broken file (a million columns, a gigabyte-long line, a workbook that unpacks to gigabytes) would
exhaust memory minutes later. These checks read only sizes, the first line and the zip directory,
and refuse in one line naming the file, the measure and the limit. The limits are far above what a
real review produces (the 100,000-finding benchmark sheet is 29 MB with 55 columns).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from evidencedb.errors import ValidationError

#: A CSV or citation file's size.
MAX_FILE_BYTES = 512 * 1024 * 1024
#: One physical line of a CSV or citation file.
MAX_LINE_BYTES = 4 * 1024 * 1024
#: Columns of a sheet's header row (the extraction sheet has about 55).
MAX_COLUMNS = 500
#: What a workbook's parts unpack to, in all, and how many times their packed size that may be.
MAX_XLSX_UNPACKED_BYTES = 1024 * 1024 * 1024
MAX_XLSX_RATIO = 200


def _mib(n: int) -> str:
    return f"{n / 1024 / 1024:,.0f} MiB"


def check_file_size(path: Path) -> None:
    """Refuse a file larger than :data:`MAX_FILE_BYTES`."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ValidationError(f"{path}: the file is {_mib(size)}, more than the {_mib(MAX_FILE_BYTES)} an import "
                              "reads; split it")


def check_lines(path: Path, raw: bytes) -> None:
    """Refuse a file with a line longer than :data:`MAX_LINE_BYTES` (found without splitting the file)."""
    if len(raw) <= MAX_LINE_BYTES:  # no line can be longer than the file
        return
    start, number = 0, 1
    while True:
        end = raw.find(b"\n", start)
        stop = len(raw) if end < 0 else end
        if stop - start > MAX_LINE_BYTES:
            raise ValidationError(f"{path}: line {number} is {_mib(stop - start)} long, more than the "
                                  f"{_mib(MAX_LINE_BYTES)} a line may hold; is this a text file of records?")
        if end < 0:
            return
        start, number = end + 1, number + 1


def check_columns(path: Path, header: str, delimiter: str) -> None:
    """Refuse a sheet whose header row has more than :data:`MAX_COLUMNS` columns."""
    n = header.count(delimiter) + 1
    if n > MAX_COLUMNS:
        raise ValidationError(f"{path}: the header row has {n:,} columns, more than the {MAX_COLUMNS} a sheet "
                              "may have")


def check_workbook(path: Path) -> None:
    """Refuse a workbook whose parts unpack to more than the limits (a zip bomb), from the zip directory alone."""
    try:
        with zipfile.ZipFile(path) as book:
            parts = book.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ValidationError(f"{path}: not a readable XLSX workbook ({exc})") from None
    unpacked = sum(p.file_size for p in parts)
    packed = max(1, sum(p.compress_size for p in parts))
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise ValidationError(f"{path}: the workbook unpacks to {_mib(unpacked)}, more than the "
                              f"{_mib(MAX_XLSX_UNPACKED_BYTES)} an import reads")
    if unpacked > 10 * 1024 * 1024 and unpacked / packed > MAX_XLSX_RATIO:
        raise ValidationError(f"{path}: the workbook unpacks to {unpacked / packed:,.0f} times its size "
                              f"({_mib(unpacked)}); a real sheet packs less than {MAX_XLSX_RATIO}:1")
