"""Reading BibTeX and BibLaTeX files into citation records."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from evidencedb.io.citations.records import (
    PMID_IN_TEXT,
    CitationFile,
    CitationFileError,
    decode_lines,
    file_hash,
    find_year,
    join_authors,
    make_record,
    read_bytes,
)

_BIB_ENCODING = re.compile(r"^%\s*Encoding:\s*(\S+)", re.IGNORECASE)


@contextmanager
def _quiet(*logger_names: str) -> Iterator[None]:
    """bibtexparser logs each failed block itself; failures are reported here instead, once."""
    loggers = [logging.getLogger(name) for name in logger_names]
    before = [logger.disabled for logger in loggers]
    for logger in loggers:
        logger.disabled = True
    try:
        yield
    finally:
        for logger, state in zip(loggers, before, strict=True):
            logger.disabled = state


def read_bibtex(path: Path) -> CitationFile:
    """Read a BibTeX or BibLaTeX file (Zotero, JabRef, Mendeley): braces, LaTeX accents, month macros.

    bibtexparser skips an entry it cannot parse and keeps going; here any failed block (a broken
    entry, a duplicate key, a repeated field) stops the import with the entry's line.

    Raises:
        CitationFileError: not valid text in its declared encoding, a broken entry, no entries, a bad DOI.
    """
    from bibtexparser.entrypoint import parse_string
    from bibtexparser.middlewares import LatexDecodingMiddleware

    raw = read_bytes(path)
    declared = _BIB_ENCODING.match(raw[:200].decode("ascii", "replace").lstrip("\ufeff"))
    encoding = declared.group(1) if declared and declared.group(1).lower() not in ("utf8", "utf-8") else "utf-8-sig"
    lines = decode_lines(path, raw, encoding)
    with _quiet("bibtexparser", "bibtexparser.splitter", "bibtexparser.middlewares"):
        try:
            library = parse_string("\n".join(lines), append_middleware=[LatexDecodingMiddleware()])
        except Exception as exc:  # the parser raises on states it cannot handle: report, never a traceback
            raise CitationFileError(path.name, "line 1", f"not readable as BibTeX ({type(exc).__name__})") from None
    if library.failed_blocks:
        block = min(library.failed_blocks, key=lambda b: b.start_line or 0)
        head = (block.raw or "").strip().splitlines()[0][:60] if (block.raw or "").strip() else "?"
        reason = getattr(block.error, "abort_reason", None) or str(block.error)
        why = " ".join(reason.split()) or "not valid BibTeX"
        raise CitationFileError(path.name, f"entry at line {(block.start_line or 0) + 1} ({head})",
                                f"{why} - the entry is broken (an unclosed brace or quote, or a missing comma?)")
    if not library.entries:
        raise CitationFileError(path.name, "line 1", "no BibTeX entries (no '@article{…}' or similar)")
    records = []
    for entry in library.entries:
        fields = {k.lower(): str(v) for k, v in entry.items() if isinstance(v, str | int)}
        place = f"entry {entry.key!r} (line {(entry.start_line or 0) + 1})"
        pmid = fields.get("pmid")
        if not pmid and fields.get("eprinttype", "").lower() == "pubmed":
            pmid = fields.get("eprint")
        if not pmid:
            match = PMID_IN_TEXT.search(" ".join(fields.get(k, "") for k in ("note", "annote", "extra")))
            pmid = match.group(1) if match else None
        authors = re.split(r"\s+and\s+", fields.get("author", "").strip()) if fields.get("author") else []
        records.append(make_record(
            path.name, place, title=fields.get("title"), authors=join_authors(authors),
            journal=fields.get("journal") or fields.get("journaltitle") or fields.get("booktitle"),
            year=find_year(fields.get("year"), fields.get("date")), doi=fields.get("doi"), pmid=pmid,
            abstract=fields.get("abstract")))
    return CitationFile(path.name, "bibtex", tuple(records), file_hash(raw), None, ())
