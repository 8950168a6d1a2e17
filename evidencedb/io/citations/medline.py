"""Reading PubMed MEDLINE files (.nbib, .txt) into citation records."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from evidencedb.io.citations.records import (
    CitationFile,
    CitationFileError,
    decode_lines,
    file_hash,
    find_year,
    join_authors,
    make_record,
    read_bytes,
)

_MEDLINE_LINE = re.compile(r"^[A-Z][A-Z0-9]{1,3} {0,2}-( |$)")


def _medline_blocks(name: str, lines: list[str]) -> Iterator[tuple[int, list[str]]]:
    start: int | None = None
    block: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            if start is not None:
                yield start, block
            start, block = None, []
            continue
        if line.startswith("      "):
            if start is None:
                raise CitationFileError(name, f"line {number}", "a continuation line outside a record")
            block.append(line)
            continue
        if not _MEDLINE_LINE.match(line) or (len(line) > 4 and line[4] != "-"):
            raise CitationFileError(name, f"line {number}", "not a MEDLINE line (expected a tag such as "
                                    "'PMID- ' or 'TI  - ' in the first four columns)")
        if start is None:
            if not line.startswith("PMID-"):
                raise CitationFileError(name, f"line {number}", "a MEDLINE record must start with 'PMID- '")
            start = number
        block.append(line)
    if start is not None:
        yield start, block


def read_medline(path: Path) -> CitationFile:
    """Read PubMed's MEDLINE export (``.nbib`` from "Cite"/"Send to: Citation manager", or "Save: PubMed").

    Raises:
        CitationFileError: not UTF-8, a line that is not MEDLINE, a record without PMID or title.
    """
    from Bio import Medline

    raw = read_bytes(path)
    lines = decode_lines(path, raw)
    records = []
    for number, (start, block) in enumerate(_medline_blocks(path.name, lines), start=1):
        parsed = list(Medline.parse(line + "\n" for line in block))  # type: ignore[no-untyped-call]  # Biopython is untyped
        if len(parsed) != 1:
            raise CitationFileError(path.name, f"record {number} (line {start})", "cannot be read as one record")
        rec = parsed[0]
        pmid = str(rec.get("PMID", "")).strip()
        place = f"record {number} (PMID {pmid}, line {start})"
        ids = [*rec.get("AID", []), *([rec["LID"]] if rec.get("LID") else [])]
        doi = next((i.removesuffix("[doi]").strip() for i in ids if i.strip().endswith("[doi]")), None)
        records.append(make_record(
            path.name, place, title=rec.get("TI") or rec.get("BTI"), authors=join_authors(rec.get("AU", [])),
            journal=rec.get("TA") or rec.get("JT"), year=find_year(rec.get("DP"), rec.get("DEP")),
            doi=doi, pmid=pmid, abstract=rec.get("AB")))
    if not records:
        raise CitationFileError(path.name, "line 1", "no MEDLINE records (no 'PMID- ' line)")
    return CitationFile(path.name, "medline", tuple(records), file_hash(raw), "PubMed", ())
