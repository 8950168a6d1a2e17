"""Reading PubMed XML files (efetch, "Save: XML") into citation records."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from evidencedb.io.citations.records import (
    CitationFile,
    CitationFileError,
    CitationRecord,
    clean_text,
    decode_lines,
    file_hash,
    find_year,
    make_record,
    read_bytes,
)


def _element_text(element: Any) -> str:
    return clean_text("".join(element.itertext())) if element is not None else ""


def _xml_record(name: str, number: int, line: int, article: Any) -> CitationRecord:
    pmid = (article.findtext(".//MedlineCitation/PMID") or article.findtext(".//BookDocument/PMID") or "").strip()
    place = f"article {number} (PMID {pmid or '?'}, line {line})"
    title = (_element_text(article.find(".//Article/ArticleTitle"))
             or _element_text(article.find(".//BookDocument/ArticleTitle"))
             or _element_text(article.find(".//Book/BookTitle"))
             or _element_text(article.find(".//Article/VernacularTitle")))
    authors = []
    for author in article.iterfind(".//AuthorList/Author"):
        collective = _element_text(author.find("CollectiveName"))
        last = _element_text(author.find("LastName"))
        authors.append(collective or f"{last} {author.findtext('Initials') or ''}".strip())
    journal = article.findtext(".//Journal/ISOAbbreviation") or article.findtext(".//MedlineJournalInfo/MedlineTA") \
        or article.findtext(".//Journal/Title")
    year = find_year(article.findtext(".//JournalIssue/PubDate/Year"),
                 article.findtext(".//JournalIssue/PubDate/MedlineDate"),
                 article.findtext(".//Book/PubDate/Year"), article.findtext(".//ArticleDate/Year"))
    doi = next((_element_text(e) for e in article.iterfind(".//PubmedData/ArticleIdList/ArticleId")
                if e.get("IdType") == "doi"), None)
    doi = doi or next((_element_text(e) for e in article.iterfind(".//ELocationID") if e.get("EIdType") == "doi"), None)
    parts = []
    for piece in article.iterfind(".//Abstract/AbstractText"):
        label = piece.get("Label")
        parts.append(f"{label}: {_element_text(piece)}" if label else _element_text(piece))
    return make_record(name, place, title=title, authors=", ".join(a for a in authors if a), journal=journal, year=year,
                   doi=doi, pmid=pmid, abstract=" ".join(parts))


def read_pubmed_xml(path: Path) -> CitationFile:
    """Read PubMed XML (``<PubmedArticleSet>`` from efetch or "Save: XML"), streaming article by article.

    Raises:
        CitationFileError: not well-formed (with line and column), truncated, not PubMed XML, a bad DOI.
    """
    import xml.etree.ElementTree as ET

    raw = read_bytes(path)
    declared = re.match(rb"^\s*<\?xml[^>]*encoding=[\"']([A-Za-z0-9._-]+)", raw[:200])
    if declared is None or declared.group(1).lower() in (b"utf-8", b"utf8"):
        decode_lines(path, raw)  # a byte that is not UTF-8 gets a clearer message than expat's "invalid token"
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
    return CitationFile(path.name, "pubmed-xml", tuple(records), file_hash(raw), "PubMed", ())
