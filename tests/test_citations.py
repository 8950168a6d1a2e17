"""Citation files: every reader, duplicates reported and never stored twice, malformed files refused whole."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from cli_run import run
from sqlalchemy.engine import Engine
from sqlmodel import col

from evidencedb import curation, papers, queries
from evidencedb.db import session_scope
from evidencedb.errors import ImportValidationError
from evidencedb.io.citations.importer import import_citations
from evidencedb.io.citations.read import read_citations
from evidencedb.models import AuditLog, ImportBatch, Paper, ReviewPaper

DATA = Path(__file__).parent / "data" / "citations"
REVIEW = "car-t-search"

# file, format, number of records, (title start, first author, year, doi, pmid) of the first record
READ_CASES = [
    pytest.param("pubmed_medline.nbib", "medline", 4,
                 ("Factors associated with durable EFS", "Hay KA", 2019, "10.1182/blood-2018-11-883710", "30728140"),
                 id="pubmed-medline"),
    pytest.param("embase.ris", "ris", 5,
                 ("Clinical and biological correlates", "Santomasso BD", 2018, "10.1158/2159-8290.cd-17-1319",
                  "29880584"), id="embase-ris"),
    pytest.param("zotero.bib", "bibtex", 5,
                 ("Epigenetic Profiling and Response", "Garcia-Prieto CA", 2022, "10.1093/jnci/djab194", "34581788"),
                 id="zotero-bibtex"),
    pytest.param("pubmed_efetch.xml", "pubmed-xml", 3,
                 ("Influence of patient characteristics", "An F", 2020, "10.1038/s41467-020-19774-x", "33230103"),
                 id="pubmed-xml"),
]


@pytest.mark.parametrize(("name", "fmt", "n", "first"), READ_CASES)
def test_readers(name: str, fmt: str, n: int, first: tuple[str, str, int, str, str]) -> None:
    cf = read_citations(DATA / name)
    assert cf.format == fmt and len(cf.records) == n
    record = cf.records[0]
    assert record.title.startswith(first[0])
    assert record.authors.split(", ")[0] == first[1]
    assert (record.year, record.doi, record.pmid) == first[2:]


def test_normalisation_details() -> None:
    bib = read_citations(DATA / "zotero.bib").records
    assert "González-Navarro EA" in bib[0].authors  # LaTeX accent decoded, initials from given names
    assert bib[1].doi == "10.1016/j.ymthe.2020.09.027"  # DOI lower-cased
    assert bib[1].pmid == "33010231"  # from Zotero's "PMID: …" note
    assert bib[4].journal == "Blood" and bib[4].doi is None
    ris = read_citations(DATA / "embase.ris")
    assert ris.database == "Embase"
    assert ris.records[1].doi is None and ris.records[1].pmid == "35019853"  # Embase's C5
    assert "<sup>" not in ris.records[2].title and ris.records[2].authors.startswith("Ortíz-Maldonado V")
    assert ris.records[2].abstract is not None and "relapsed or refractory" in ris.records[2].abstract
    xml = read_citations(DATA / "pubmed_efetch.xml").records
    assert xml[1].abstract is not None and xml[1].abstract.startswith("BACKGROUND: ")
    assert xml[2].authors.endswith("CAR-T Study Group")


def test_format_from_option_overrides_extension(tmp_path: Path) -> None:
    copy = tmp_path / "export.dat"
    shutil.copy(DATA / "embase.ris", copy)
    assert len(read_citations(copy, "ris").records) == 5
    with pytest.raises(ImportValidationError, match=r"export\.dat: line 1"):
        read_citations(copy, "medline")


def test_unknown_ris_tag_is_reported_not_silent() -> None:
    cf = read_citations(DATA / "unknown_tag.ris")
    assert len(cf.records) == 5
    assert cf.warnings == ("line 59: unknown RIS tag 'ZZ' ignored",)


# --------------------------------------------------------------------------------------------------
# Importing


@pytest.fixture
def review_engine(engine: Engine) -> Engine:
    with session_scope(engine, write=True) as session:
        scheme = queries.get_scheme("ke-zhou-2025", session=session)
        curation.create_review(session=session, slug=REVIEW, title="CAR-T biomarker search", scheme=scheme)
    return engine


def _import(engine: Engine, name: str | Path, **kw: object) -> object:
    path = name if isinstance(name, Path) else DATA / name
    with session_scope(engine, write=True) as session:
        return import_citations(path, session=session, review_slug=REVIEW, **kw)  # type: ignore[arg-type]


def _counts(engine: Engine) -> tuple[int, ...]:
    with session_scope(engine) as session:
        return tuple(session.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                     for t in (Paper, ImportBatch, ReviewPaper, AuditLog))


def test_duplicates_reported_and_stored_once(review_engine: Engine) -> None:
    medline = _import(review_engine, "pubmed_medline.nbib")
    assert (medline.added, medline.duplicates_removed, medline.source) == (4, 0, "PubMed")  # type: ignore[attr-defined]
    embase = _import(review_engine, "embase.ris")
    assert (embase.added, embase.records_read, embase.source) == (3, 5, "Embase")  # type: ignore[attr-defined]
    assert [(d.place, d.key, d.kind) for d in embase.duplicates] == [  # type: ignore[attr-defined]
        ("record 1 (line 1)", "doi", "review"), ("record 2 (line 35)", "pmid", "review")]
    zotero = _import(review_engine, "zotero.bib", source="Zotero library")
    found = {d.place.split(" (")[0]: (d.key, d.kind) for d in zotero.duplicates}  # type: ignore[attr-defined]
    assert found == {
        "entry 'ortiz-maldonado_cart19-be-01_2021'": ("doi", "review"),  # upper-case DOI in the file
        "entry 'kadauke_risk-adapted_2021-1'": ("doi", "file"),
        "entry 'hay_factors_2019'": ("title+year", "review"),  # no DOI/PMID: same title and year
    }
    assert zotero.added == 2 and zotero.duplicates_by_key == {"doi": 2, "title+year": 1}  # type: ignore[attr-defined]
    with session_scope(review_engine) as session:
        review = queries.get_review(REVIEW, session=session)
        stored = papers.list_papers(review, session=session)
        batches = papers.list_import_batches(review, session=session)
    assert len(stored) == 4 + 3 + 2 == _counts(review_engine)[0]
    assert len({p.doi for p in stored if p.doi}) == len([p for p in stored if p.doi])
    assert [(b.source, b.records_identified, b.duplicates_removed) for b in batches] == [
        ("PubMed", 4, 0), ("Embase", 5, 2), ("Zotero library", 5, 3)]
    hay = next(p for p in stored if p.pmid == "30728140")
    assert hay.sources == "PubMed" and hay.authors.startswith("Hay KA")
    with session_scope(review_engine) as session:  # every added paper has its audit row, with its id
        audited = session.execute(sa.select(col(AuditLog.row_key), col(AuditLog.new))
                                  .where(col(AuditLog.table_name) == "paper")).all()
    assert sorted(int(k) for k, _ in audited) == sorted(p.paper_id for p in stored)
    assert all(json.loads(new)["id"] == int(k) for k, new in audited)


def test_reimport_and_dry_run_add_nothing(review_engine: Engine) -> None:
    dry = _import(review_engine, "pubmed_medline.nbib", dry_run=True)
    assert dry.added == 4 and dry.dry_run  # type: ignore[attr-defined]
    assert _counts(review_engine)[:3] == (0, 0, 0)
    _import(review_engine, "pubmed_medline.nbib")
    before = _counts(review_engine)
    again = _import(review_engine, "pubmed_medline.nbib")
    assert again.added == 0 and again.already_imported  # type: ignore[attr-defined]
    assert _counts(review_engine) == before


def test_paper_of_another_review_is_linked_not_duplicated(review_engine: Engine) -> None:
    _import(review_engine, "pubmed_medline.nbib")
    with session_scope(review_engine, write=True) as session:
        scheme = queries.get_scheme("ke-zhou-2025", session=session)
        curation.create_review(session=session, slug="second", title="Second review", scheme=scheme)
        report = import_citations(DATA / "embase.ris", session=session, review_slug="second")
    assert (report.added, report.linked, report.duplicates_removed) == (3, 2, 0)
    with session_scope(review_engine) as session:
        second = queries.get_review("second", session=session)
        assert len(papers.list_papers(second, session=session)) == 5
    assert _counts(review_engine)[0] == 7


BROKEN = [
    pytest.param("broken_entry.bib", "entry at line 18 (@article{ortiz-maldonado_cart19-be-01_2021", id="bibtex-entry"),
    pytest.param("missing_er.ris", "line 60: record 2 (from line 35) has no 'ER  - '", id="ris-missing-er"),
    pytest.param("truncated.xml", "line 118, column 12", id="truncated-xml"),
    pytest.param("empty.nbib", "line 1: the file is empty", id="empty"),
    pytest.param("latin1.ris", "line 64: not valid UTF-8", id="latin1-ris"),
    pytest.param("latin1_declared_utf8.xml", "line 27: not valid UTF-8", id="latin1-xml"),
]


@pytest.mark.parametrize(("name", "place"), BROKEN)
def test_malformed_files_write_nothing(review_engine: Engine, name: str, place: str) -> None:
    _import(review_engine, "pubmed_efetch.xml")
    before = _counts(review_engine)
    with pytest.raises(ImportValidationError) as info:
        _import(review_engine, name)
    message = str(info.value)
    assert message.startswith(f"{name}: ") and place in message and message.endswith("nothing was written")
    assert "\n" not in message
    assert _counts(review_engine) == before


@pytest.mark.parametrize("suffix", [".ris", ".bib", ".nbib", ".xml"])
def test_megabytes_of_random_bytes(review_engine: Engine, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"noise{suffix}"
    path.write_bytes(os.urandom(2 * 1024 * 1024))
    before = _counts(review_engine)
    with pytest.raises(ImportValidationError, match=rf"^noise\{suffix}: line \d+"):
        _import(review_engine, path)
    assert _counts(review_engine) == before


# --------------------------------------------------------------------------------------------------
# Command line


def test_cli_import_papers_and_errors(review_engine: Engine, engine_url: str,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--db", engine_url, "import", str(DATA / "embase.ris"), "--dry-run")
    assert code == 0 and "would add 5 papers" in out, err
    code, out, _ = run(capsys, "--db", engine_url, "import", str(DATA / "pubmed_medline.nbib"))
    assert code == 0 and "added 4 papers; 0 duplicates removed" in out
    code, out, _ = run(capsys, "--db", engine_url, "import", str(DATA / "embase.ris"), "-r", REVIEW)
    assert code == 0 and "added 3 papers; 2 duplicates removed (by doi 1, pmid 1)" in out
    assert "duplicate: record 2 (line 35): same pmid (35019853)" in out
    code, out, err = run(capsys, "--db", engine_url, "import", str(DATA / "unknown_tag.ris"))
    assert code == 0 and "warning: unknown_tag.ris: line 59: unknown RIS tag 'ZZ' ignored" in err
    rows = json.loads(run(capsys, "--db", engine_url, "papers", "--format", "json")[1])
    assert len(rows) == 7 and {"doi", "pmid", "title", "year"} <= rows[0].keys()
    assert {r["pmid"] for r in rows} >= {"30728140", "33010231"}
    code, out, err = run(capsys, "--db", engine_url, "import", str(DATA / "missing_er.ris"))
    assert code == 1 and out == ""
    assert err.startswith("error: missing_er.ris: line 60:") and err.count("\n") == 1
    assert len(json.loads(run(capsys, "--db", engine_url, "papers", "--format", "json")[1])) == 7
