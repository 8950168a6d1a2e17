"""One record shape for every citation format, and the normalisation and byte handling readers share.

Why this module exists: a review's search results arrive as exports from PubMed, Embase, Web of
Science or a reference manager, each in its own format and each with its own ways of being broken.
Every reader here turns a file into the same frozen :class:`CitationRecord` rows, or stops with one
error naming the file and the place (line, record or entry). No reader drops a broken record
silently: the libraries used (rispy, bibtexparser, Biopython) are lenient, so each format's structure
is checked here before they are trusted. Writing the records is :mod:`evidencedb.io.citations.importer`.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evidencedb.errors import ImportValidationError, RowProblem, ValidationError
from evidencedb.io import limits
from evidencedb.schemas import normalise_doi, normalise_pmid

_KNOWN_DATABASES = {"pubmed": "PubMed", "medline": "PubMed", "nlm": "PubMed", "embase": "Embase",
                    "web of science": "Web of Science", "wos": "Web of Science", "scopus": "Scopus",
                    "cinahl": "CINAHL", "cochrane": "Cochrane Library"}
_YEAR = re.compile(r"\b(1[89]\d\d|2[01]\d\d)\b")


_MARKUP = re.compile(r"</?(?:i|b|u|em|strong|sup|sub|scp|mml:[a-z]+)(?:\s[^>]*)?>", re.IGNORECASE)
PMID_IN_TEXT = re.compile(r"\bPMID:?\s*(\d{1,9})\b", re.IGNORECASE)


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


def join_authors(names: Iterable[str]) -> str:
    return ", ".join(a for a in (author_name(n) for n in names) if a)


def find_year(*texts: str | None) -> int | None:
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


def clean_text(text: str | None) -> str:
    return " ".join(str(text).split()) if text else ""


def make_record(file: str, place: str, *, title: str | None, authors: str = "", journal: str | None = "",
            year: int | None = None, doi: str | None = None, pmid: str | None = None,
            abstract: str | None = None) -> CitationRecord:
    title_text = clean_text(_MARKUP.sub("", title or ""))
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
    return CitationRecord(title_text, authors, clean_text(journal), year, doi_value, pmid_value,
                          clean_text(abstract) or None, place)


# --------------------------------------------------------------------------------------------------
# Bytes and text


def read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise ValidationError(f"{path}: no such file")
    limits.check_file_size(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ValidationError(f"{path}: cannot read the file ({exc.strerror})") from None
    limits.check_lines(path, raw)
    if not raw.strip():
        raise CitationFileError(path.name, "line 1", "the file is empty (no citation records)")
    return raw


def line_of(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def decode_lines(path: Path, raw: bytes, encoding: str = "utf-8-sig") -> list[str]:
    """The file's lines (any newline convention), decoded strictly."""
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise CitationFileError(path.name, f"line {line_of(raw, nul)}",
                                "binary data (a NUL byte), not a text citation file")
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise CitationFileError(
            path.name, f"line {line_of(raw, exc.start)}",
            f"not valid {encoding.removesuffix('-sig').upper()} text (byte 0x{raw[exc.start]:02x}); "
            "export the file again as UTF-8") from None
    except LookupError:
        raise CitationFileError(path.name, "line 1", f"unknown text encoding {encoding!r}") from None
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def file_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()
