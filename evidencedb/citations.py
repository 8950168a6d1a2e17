"""Citation files (RIS, BibTeX, PubMed MEDLINE, PubMed XML) read into one record shape.

Why this module exists: a review's search results arrive as exports from PubMed, Embase, Web of
Science or a reference manager, each in its own format and each with its own ways of being broken.
Every reader here turns a file into the same frozen :class:`CitationRecord` rows, or stops with one
error naming the file and the place (line, record or entry). No reader drops a broken record
silently: the libraries used (rispy, bibtexparser, Biopython) are lenient, so each format's structure
is checked here before they are trusted. Writing the records is :mod:`evidencedb.citation_import`.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evidencedb.errors import ImportValidationError, RowProblem, ValidationError
from evidencedb.schemas import normalise_doi, normalise_pmid

FORMATS: tuple[str, ...] = ("ris", "bibtex", "medline", "pubmed-xml")
EXTENSIONS: dict[str, str] = {
    ".ris": "ris", ".bib": "bibtex", ".bibtex": "bibtex", ".nbib": "medline", ".txt": "medline",
    ".medline": "medline", ".xml": "pubmed-xml",
}
_KNOWN_DATABASES = {"pubmed": "PubMed", "medline": "PubMed", "nlm": "PubMed", "embase": "Embase",
                    "web of science": "Web of Science", "wos": "Web of Science", "scopus": "Scopus",
                    "cinahl": "CINAHL", "cochrane": "Cochrane Library"}
_YEAR = re.compile(r"\b(1[89]\d\d|2[01]\d\d)\b")
_DOI_IN_TEXT = re.compile(r"\b(10\.\d{4,9}/\S+)")
_MARKUP = re.compile(r"</?(?:i|b|u|em|strong|sup|sub|scp|mml:[a-z]+)(?:\s[^>]*)?>", re.IGNORECASE)
_PMID_IN_TEXT = re.compile(r"\bPMID:?\s*(\d{1,9})\b", re.IGNORECASE)


@dataclass(frozen=True)
class CitationRecord:
    """One citation as read from a file, normalised: DOI lower-cased, PMID digits, authors "Last AB, …"."""

    title: str
    authors: str = ""
    journal: str = ""
    year: int | None = None
    doi: str | None = None
    pmid: str | None = None
    abstract: str | None = None
    place: str = ""

    def paper_fields(self) -> dict[str, Any]:
        """The fields a :class:`~evidencedb.schemas.PaperIn` takes."""
        return {"title": self.title, "authors": self.authors, "journal": self.journal, "year": self.year,
                "doi": self.doi, "pmid": self.pmid}


@dataclass(frozen=True)
class CitationFile:
    """The records of one file, with what the file says about where they came from."""

    name: str
    format: str
    records: tuple[CitationRecord, ...]
    content_hash: str
    database: str | None = None
    warnings: tuple[str, ...] = ()


class CitationFileError(ImportValidationError):
    """A citation file cannot be read; the message names the file and the place. Nothing is written."""

    def __init__(self, source: str, place: str, reason: str) -> None:
        super().__init__(source, [RowProblem(0, place, reason)])
        self.place = place
        self.reason = reason
        self.args = (f"{source}: {place}: {reason}; nothing was written",)


# --------------------------------------------------------------------------------------------------
# Normalisation


def title_key(title: str) -> str:
    """A title reduced for matching: accents, case, punctuation and spacing removed."""
    text = unicodedata.normalize("NFKD", title)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


def _initials(given: str) -> str:
    parts = [p for p in re.split(r"[\s.\-]+", given) if p]
    return "".join(p[0].upper() for p in parts if p[0].isalpha())


def author_name(raw: str) -> str:
    """One author as "Last AB": from "Last, First M.", "Last F.", "First M Last" or MEDLINE's "Last FM"."""
    name = " ".join(raw.replace("{", "").replace("}", "").split()).strip().rstrip(",")
    if not name:
        return ""
    if "," in name:
        last, _, given = name.partition(",")
        initials = _initials(given)
        return f"{last.strip()} {initials}".strip()
    tokens = name.split()
    if len(tokens) >= 2 and re.fullmatch(r"(?:[A-Z]\.?){1,4}", tokens[-1]):
        return f"{' '.join(tokens[:-1])} {tokens[-1].replace('.', '')}"  # "Kadauke S." / "Kadauke S"
    if len(tokens) >= 2 and all(t[:1].isupper() for t in tokens) and len(tokens) <= 4:
        return f"{tokens[-1]} {_initials(' '.join(tokens[:-1]))}"  # "Stephan Kadauke"
    return name  # a group author ("CAR-T Consortium") as written


def _authors(names: Iterable[str]) -> str:
    return ", ".join(a for a in (author_name(n) for n in names) if a)


def _year(*texts: str | None) -> int | None:
    for text in texts:
        if text:
            match = _YEAR.search(str(text))
            if match:
                return int(match.group(1))
    return None


def database_name(raw: str | None) -> str | None:
    """A database's usual name ("MEDLINE" → "PubMed", "EMBASE" → "Embase"); unknown names as given."""
    if not raw or not raw.strip():
        return None
    return _KNOWN_DATABASES.get(raw.strip().lower(), raw.strip())


def _clean(text: str | None) -> str:
    return " ".join(str(text).split()) if text else ""


def _record(file: str, place: str, *, title: str | None, authors: str = "", journal: str | None = "",
            year: int | None = None, doi: str | None = None, pmid: str | None = None,
            abstract: str | None = None) -> CitationRecord:
    title_text = _clean(_MARKUP.sub("", title or ""))
    if not title_text:
        raise CitationFileError(file, place, "the record has no title")
    try:
        doi_value = normalise_doi(doi)
    except ValueError as exc:
        raise CitationFileError(file, place, f"DOI: {exc}") from None
    try:
        pmid_value = normalise_pmid(pmid)
    except ValueError as exc:
        raise CitationFileError(file, place, f"PMID: {exc}") from None
    return CitationRecord(title_text, authors, _clean(journal), year, doi_value, pmid_value,
                          _clean(abstract) or None, place)


# --------------------------------------------------------------------------------------------------
# Bytes and text


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise ValidationError(f"{path}: no such file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ValidationError(f"{path}: cannot read the file ({exc.strerror})") from None
    if not raw.strip():
        raise CitationFileError(path.name, "line 1", "the file is empty (no citation records)")
    return raw


def _line_of(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def _decode(path: Path, raw: bytes, encoding: str = "utf-8-sig") -> list[str]:
    """The file's lines (any newline convention), decoded strictly."""
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise CitationFileError(path.name, f"line {_line_of(raw, nul)}",
                                "binary data (a NUL byte), not a text citation file")
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise CitationFileError(
            path.name, f"line {_line_of(raw, exc.start)}",
            f"not valid {encoding.removesuffix('-sig').upper()} text (byte 0x{raw[exc.start]:02x}); "
            "export the file again as UTF-8") from None
    except LookupError:
        raise CitationFileError(path.name, "line 1", f"unknown text encoding {encoding!r}") from None
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


# --------------------------------------------------------------------------------------------------
# RIS

_RIS_LINE = re.compile(r"^([A-Z][A-Z0-9]) {1,2}-(?: (.*))?\s*$")
#: Standard RIS tags that rispy does not map, and tags databases add; their content is not needed.
_RIS_QUIET = {"U1", "U2", "U3", "U4", "U5", "L3", "M2", "Y3", "RT", "J9", "JI", "CP", "CR", "PP", "UT", "C9"}
_RIS_HEADER = re.compile(r"^[A-Za-z][\w ]{0,40}:")


def _ris_blocks(name: str, lines: list[str]) -> Iterator[tuple[int, list[str], set[str]]]:
    """Split RIS lines into records (start line, lines with canonical tags, tags used), checking structure."""
    import rispy  # type: ignore[import-untyped]  # rispy ships no type hints

    known = set(rispy.TAG_KEY_MAPPING) | _RIS_QUIET
    start: int | None = None
    block: list[str] = []
    tags: set[str] = set()
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
            start, block, tags = number, [], set()
        elif start is None:
            raise CitationFileError(name, f"line {number}", f"{tag} line outside a record (no 'TY  - ' before it)")
        if tag == "ER":
            block.append("ER  - ")
            yield start, block, tags
            start = None
            continue
        if tag not in known:
            tags.add(f"{tag}@{number}")
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
        match = _PMID_IN_TEXT.search(" ".join(text) if isinstance(text, list) else str(text or ""))
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

    raw = _read_bytes(path)
    lines = _decode(path, raw)
    records: list[CitationRecord] = []
    warnings: list[str] = []
    databases: list[str] = []
    for number, (start, block, unknown) in enumerate(_ris_blocks(path.name, lines), start=1):
        place = f"record {number} (line {start})"
        entries = rispy.loads("\n".join(block), skip_unknown_tags=True)
        if len(entries) != 1:
            raise CitationFileError(path.name, place, "cannot be read as one RIS record")
        entry = entries[0]
        for item in sorted(unknown, key=lambda t: int(t.partition("@")[2])):
            tag, _, line = item.partition("@")
            warnings.append(f"line {line}: unknown RIS tag {tag!r} ignored")
        database = _ris_database(entry)
        if database:
            databases.append(database)
        authors = [*(entry.get("authors") or []), *(entry.get("first_authors") or [])]
        records.append(_record(
            path.name, place, title=_first(entry, "title", "primary_title", "short_title"), authors=_authors(authors),
            journal=_first(entry, "secondary_title", "journal_name", "alternate_title3", "alternate_title2",
                           "alternate_title1"),
            year=_year(_first(entry, "year"), _first(entry, "publication_year"), _first(entry, "date")),
            doi=_ris_doi(entry), pmid=_ris_pmid(entry, database),
            abstract=_first(entry, "abstract", "notes_abstract")))
    database = max(set(databases), key=databases.count) if databases else None
    return CitationFile(path.name, "ris", tuple(records), _hash(raw), database, tuple(warnings))


# --------------------------------------------------------------------------------------------------
# BibTeX

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

    raw = _read_bytes(path)
    declared = _BIB_ENCODING.match(raw[:200].decode("ascii", "replace").lstrip("\ufeff"))
    encoding = declared.group(1) if declared and declared.group(1).lower() not in ("utf8", "utf-8") else "utf-8-sig"
    lines = _decode(path, raw, encoding)
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
            match = _PMID_IN_TEXT.search(" ".join(fields.get(k, "") for k in ("note", "annote", "extra")))
            pmid = match.group(1) if match else None
        authors = re.split(r"\s+and\s+", fields.get("author", "").strip()) if fields.get("author") else []
        records.append(_record(
            path.name, place, title=fields.get("title"), authors=_authors(authors),
            journal=fields.get("journal") or fields.get("journaltitle") or fields.get("booktitle"),
            year=_year(fields.get("year"), fields.get("date")), doi=fields.get("doi"), pmid=pmid,
            abstract=fields.get("abstract")))
    return CitationFile(path.name, "bibtex", tuple(records), _hash(raw), None, ())


# --------------------------------------------------------------------------------------------------
# PubMed MEDLINE (.nbib / .txt)

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

    raw = _read_bytes(path)
    lines = _decode(path, raw)
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
        records.append(_record(
            path.name, place, title=rec.get("TI") or rec.get("BTI"), authors=_authors(rec.get("AU", [])),
            journal=rec.get("TA") or rec.get("JT"), year=_year(rec.get("DP"), rec.get("DEP")),
            doi=doi, pmid=pmid, abstract=rec.get("AB")))
    if not records:
        raise CitationFileError(path.name, "line 1", "no MEDLINE records (no 'PMID- ' line)")
    return CitationFile(path.name, "medline", tuple(records), _hash(raw), "PubMed", ())


# --------------------------------------------------------------------------------------------------
# PubMed XML (efetch / "Save: XML")


def _text(element: Any) -> str:
    return _clean("".join(element.itertext())) if element is not None else ""


def _xml_record(name: str, number: int, line: int, article: Any) -> CitationRecord:
    pmid = (article.findtext(".//MedlineCitation/PMID") or article.findtext(".//BookDocument/PMID") or "").strip()
    place = f"article {number} (PMID {pmid or '?'}, line {line})"
    title = _text(article.find(".//Article/ArticleTitle")) or _text(article.find(".//BookDocument/ArticleTitle")) \
        or _text(article.find(".//Book/BookTitle")) or _text(article.find(".//Article/VernacularTitle"))
    authors = []
    for author in article.iterfind(".//AuthorList/Author"):
        collective = _text(author.find("CollectiveName"))
        last = _text(author.find("LastName"))
        authors.append(collective or f"{last} {author.findtext('Initials') or ''}".strip())
    journal = article.findtext(".//Journal/ISOAbbreviation") or article.findtext(".//MedlineJournalInfo/MedlineTA") \
        or article.findtext(".//Journal/Title")
    year = _year(article.findtext(".//JournalIssue/PubDate/Year"),
                 article.findtext(".//JournalIssue/PubDate/MedlineDate"),
                 article.findtext(".//Book/PubDate/Year"), article.findtext(".//ArticleDate/Year"))
    doi = next((_text(e) for e in article.iterfind(".//PubmedData/ArticleIdList/ArticleId")
                if e.get("IdType") == "doi"), None)
    doi = doi or next((_text(e) for e in article.iterfind(".//ELocationID") if e.get("EIdType") == "doi"), None)
    parts = []
    for piece in article.iterfind(".//Abstract/AbstractText"):
        label = piece.get("Label")
        parts.append(f"{label}: {_text(piece)}" if label else _text(piece))
    return _record(name, place, title=title, authors=", ".join(a for a in authors if a), journal=journal, year=year,
                   doi=doi, pmid=pmid, abstract=" ".join(parts))


def read_pubmed_xml(path: Path) -> CitationFile:
    """Read PubMed XML (``<PubmedArticleSet>`` from efetch or "Save: XML"), streaming article by article.

    Raises:
        CitationFileError: not well-formed (with line and column), truncated, not PubMed XML, a bad DOI.
    """
    import xml.etree.ElementTree as ET

    raw = _read_bytes(path)
    declared = re.match(rb"^\s*<\?xml[^>]*encoding=[\"']([A-Za-z0-9._-]+)", raw[:200])
    if declared is None or declared.group(1).lower() in (b"utf-8", b"utf8"):
        _decode(path, raw)  # a byte that is not UTF-8 gets a clearer message than expat's "invalid token"
    parser: Any = ET.XMLPullParser(events=("start", "end"))
    records: list[CitationRecord] = []
    root: str | None = None
    start_line = 0
    depth = 0
    line_no = 0
    try:
        for line_no, chunk in enumerate(raw.splitlines(keepends=True), start=1):
            parser.feed(chunk)
            for event, element in parser.read_events():
                tag = element.tag if isinstance(element.tag, str) else ""
                if event == "start":
                    depth += 1
                    if depth == 1:
                        root = tag
                        if tag != "PubmedArticleSet":
                            raise CitationFileError(path.name, f"line {line_no}",
                                                    f"root element <{tag}> is not <PubmedArticleSet> (not PubMed XML)")
                    elif depth == 2 and tag in ("PubmedArticle", "PubmedBookArticle"):
                        start_line = line_no
                    continue
                depth -= 1
                if depth == 1 and tag in ("PubmedArticle", "PubmedBookArticle"):
                    records.append(_xml_record(path.name, len(records) + 1, start_line, element))
                    element.clear()
        parser.close()
    except ET.ParseError as exc:
        line, column = getattr(exc, "position", (line_no, 0))
        why = str(exc).split(":")[0]
        if why.startswith("no element found") or why.startswith("unclosed token"):
            why = "the XML ends before its closing tags (truncated file?)"
        raise CitationFileError(path.name, f"line {line}, column {column}", f"not well-formed XML: {why}") from None
    if root is None:
        raise CitationFileError(path.name, "line 1", "no XML element")
    if not records:
        raise CitationFileError(path.name, "line 1", "no <PubmedArticle> in the file")
    return CitationFile(path.name, "pubmed-xml", tuple(records), _hash(raw), "PubMed", ())


# --------------------------------------------------------------------------------------------------
# Dispatch

_READERS = {"ris": read_ris, "bibtex": read_bibtex, "medline": read_medline, "pubmed-xml": read_pubmed_xml}


def detect_format(path: Path, fmt: str | None = None) -> str:
    """The citation format to read ``path`` with: ``fmt`` if given, else from the extension.

    Raises:
        ValidationError: unknown format or extension.
    """
    if fmt is not None:
        if fmt not in _READERS:
            raise ValidationError(f"unknown citation format {fmt!r} (formats: {', '.join(FORMATS)})")
        return fmt
    found = EXTENSIONS.get(path.suffix.lower())
    if found is None:
        raise ValidationError(f"{path.name}: cannot tell the format from the extension {path.suffix!r}; "
                              f"pass --format ({', '.join(FORMATS)})")
    return found


def read_citations(path: Path, fmt: str | None = None) -> CitationFile:
    """Read a citation file in the format given or implied by its extension.

    ``.ris`` → RIS, ``.bib`` → BibTeX, ``.nbib``/``.txt`` → PubMed MEDLINE, ``.xml`` → PubMed XML.

    Raises:
        CitationFileError: the file is malformed (message names the file and the place).
        ValidationError: unknown format, or no such file.
    """
    path = Path(path)
    return _READERS[detect_format(path, fmt)](path)
