"""Reading RIS files (Embase, Web of Science, Scopus, reference managers) into citation records."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from evidencedb.io.citations.records import (
    PMID_IN_TEXT,
    CitationFile,
    CitationFileError,
    CitationRecord,
    database_name,
    decode_lines,
    file_hash,
    find_year,
    join_authors,
    make_record,
    read_bytes,
)

_RIS_LINE = re.compile(r"^([A-Z][A-Z0-9]) {1,2}-(?: (.*))?\s*$")
#: Standard RIS tags that rispy does not map, and tags databases add; their content is not needed.
_RIS_QUIET = {"U1", "U2", "U3", "U4", "U5", "L3", "M2", "Y3", "RT", "J9", "JI", "CP", "CR", "PP", "UT", "C9"}
_RIS_HEADER = re.compile(r"^[A-Za-z][\w ]{0,40}:")


class UnknownTag(NamedTuple):
    """A tag that neither rispy nor :data:`_RIS_QUIET` knows, and the line it is on (reported, then ignored)."""

    line: int
    tag: str


def _ris_blocks(name: str, lines: list[str]) -> Iterator[tuple[int, list[str], list[UnknownTag]]]:
    """Split RIS lines into records, checking structure.

    Yields:
        Per record: its first line's number, its lines with canonical tags, its unknown tags in line order.
    """
    import rispy  # type: ignore[import-untyped]  # rispy ships no type hints

    known = set(rispy.TAG_KEY_MAPPING) | _RIS_QUIET
    start: int | None = None
    block: list[str] = []
    unknown: list[UnknownTag] = []
    count = 0
    for number, line in enumerate(lines, start=1):
        match = _RIS_LINE.match(line)
        if match is None:
            if start is not None:
                block.append(line)  # a continuation line (a wrapped abstract)
            elif line.strip() and not (count == 0 and _RIS_HEADER.match(line)):
                raise CitationFileError(name, f"line {number}", "text outside a record (a RIS record starts with "
                                        "'TY  - ' and ends with 'ER  - ')")
            continue
        tag, value = match.group(1), (match.group(2) or "").strip()
        if tag == "TY":
            if start is not None:
                raise CitationFileError(name, f"line {number}", f"record {count} (from line {start}) has no "
                                        "'ER  - ' line before the next 'TY  - '")
            count += 1
            start, block, unknown = number, [], []
        elif start is None:
            raise CitationFileError(name, f"line {number}", f"{tag} line outside a record (no 'TY  - ' before it)")
        if tag == "ER":
            block.append("ER  - ")
            yield start, block, unknown
            start = None
            continue
        if tag not in known:
            unknown.append(UnknownTag(number, tag))
        block.append(f"{tag}  - {value}")
    if start is not None:
        raise CitationFileError(name, f"line {len(lines)}", f"record {count} (from line {start}) has no "
                                "'ER  - ' line: the file ends inside it (truncated?)")
    if count == 0:
        raise CitationFileError(name, "line 1", "no RIS records (no 'TY  - ' line)")


def _first(entry: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = entry.get(key)
        if isinstance(value, list):
            value = next((v for v in value if str(v).strip()), None)
        if value is not None and str(value).strip():
            return str(value).strip()
    return None


def _ris_pmid(entry: dict[str, Any], database: str | None) -> str | None:
    accession = _first(entry, "accession_number")
    if accession and accession.isdigit() and database == "PubMed":
        return accession
    custom5 = _first(entry, "custom5")  # Embase exports the MEDLINE PMID in C5
    if custom5 and custom5.isdigit() and database == "Embase":
        return custom5
    for key in ("notes", "note", "accession_number", "custom1", "custom2"):
        text = entry.get(key)
        match = PMID_IN_TEXT.search(" ".join(text) if isinstance(text, list) else str(text or ""))
        if match:
            return match.group(1)
    return None


def _ris_doi(entry: dict[str, Any]) -> str | None:
    doi = _first(entry, "doi")
    if doi:
        return doi
    for key in ("urls", "file_attachments2"):
        values = entry.get(key) or []
        for url in values if isinstance(values, list) else [values]:
            if "doi.org/10." in str(url):
                return str(url)
    return None


def _ris_database(entry: dict[str, Any]) -> str | None:
    accession = _first(entry, "accession_number") or ""
    if accession.upper().startswith("WOS:"):
        return "Web of Science"
    return database_name(_first(entry, "name_of_database", "database_provider"))


def read_ris(path: Path) -> CitationFile:
    """Read a RIS export (PubMed, Embase, Web of Science, Scopus, a reference manager).

    Tag variants are normalised (``TI``/``T1`` title, ``AU``/``A1`` authors, ``PY``/``Y1``/``DA`` year,
    ``T2``/``JO``/``JF``/``JA``/``J2`` journal; ``TY - `` with one space). Unknown tags are reported as
    warnings; their content is ignored.

    Raises:
        CitationFileError: not UTF-8, no records, a record without ``ER``, text outside records, a bad DOI.
    """
    import rispy

    raw = read_bytes(path)
    lines = decode_lines(path, raw)
    records: list[CitationRecord] = []
    warnings: list[str] = []
    databases: list[str] = []
    for number, (start, block, unknown) in enumerate(_ris_blocks(path.name, lines), start=1):
        place = f"record {number} (line {start})"
        entries = rispy.loads("\n".join(block), skip_unknown_tags=True)
        if len(entries) != 1:
            raise CitationFileError(path.name, place, "cannot be read as one RIS record")
        entry = entries[0]
        warnings += [f"line {u.line}: unknown RIS tag {u.tag!r} ignored" for u in unknown]
        database = _ris_database(entry)
        if database:
            databases.append(database)
        authors = [*(entry.get("authors") or []), *(entry.get("first_authors") or [])]
        records.append(make_record(
            path.name, place, title=_first(entry, "title", "primary_title", "short_title"),
            authors=join_authors(authors),
            journal=_first(entry, "secondary_title", "journal_name", "alternate_title3", "alternate_title2",
                           "alternate_title1"),
            year=find_year(_first(entry, "year"), _first(entry, "publication_year"), _first(entry, "date")),
            doi=_ris_doi(entry), pmid=_ris_pmid(entry, database),
            abstract=_first(entry, "abstract", "notes_abstract")))
    database = max(set(databases), key=databases.count) if databases else None
    return CitationFile(path.name, "ris", tuple(records), file_hash(raw), database, tuple(warnings))
