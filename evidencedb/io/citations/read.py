"""Choosing the reader for a citation file, and reading it."""

from __future__ import annotations

from pathlib import Path

from evidencedb.errors import ValidationError
from evidencedb.io.citations.bibtex import read_bibtex
from evidencedb.io.citations.medline import read_medline
from evidencedb.io.citations.pubmed_xml import read_pubmed_xml
from evidencedb.io.citations.records import CitationFile
from evidencedb.io.citations.ris import read_ris

FORMATS: tuple[str, ...] = ("ris", "bibtex", "medline", "pubmed-xml")
EXTENSIONS: dict[str, str] = {
    ".ris": "ris", ".bib": "bibtex", ".bibtex": "bibtex", ".nbib": "medline", ".txt": "medline",
    ".medline": "medline", ".xml": "pubmed-xml",
}


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
