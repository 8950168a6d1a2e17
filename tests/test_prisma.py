"""PRISMA 2020 counts from imports and screening decisions, and the diagram's numbers read back."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from cli_run import run
from sqlalchemy.engine import Engine

from evidencedb import curation, papers, queries, seeds
from evidencedb.db import session_scope
from evidencedb.errors import ValidationError
from evidencedb.io.citations.importer import import_citations
from evidencedb.models import Screening
from evidencedb.prisma import PrismaCounts, diagram_boxes, draw_prisma, prisma_counts

DATA = Path(__file__).parent / "data" / "citations"
REVIEW = "car-t-search"

# PMID → (title/abstract decision, full-text decision or None, full-text exclusion reason)
SCREENING = {
    "30728140": ("include", "include", ""),
    "29880584": ("include", "exclude", "no biomarker analysis"),
    "34464155": ("include", "include", ""),
    "35019853": ("include", "exclude", "no biomarker analysis"),
    "33010231": ("include", "exclude", "not B-ALL"),
    "33230103": ("exclude", None, "review article"),
    "32231200": ("exclude", None, "not CAR-T"),
}


@pytest.fixture
def screened(engine: Engine) -> Engine:
    with session_scope(engine, write=True) as session:
        scheme = queries.get_scheme("ke-zhou-2025", session=session)
        review = curation.create_review(session=session, slug=REVIEW, title="CAR-T biomarker search", scheme=scheme)
        for name in ("pubmed_medline.nbib", "embase.ris"):
            import_citations(DATA / name, session=session, review_slug=REVIEW)
        ids = {p.pmid: p.paper_id for p in papers.list_papers(review, session=session)}
        assert review.id is not None
        for pmid, (first, second, reason) in SCREENING.items():
            session.add(Screening(review_id=review.id, paper_id=ids[pmid], stage="title_abstract", decision=first,
                                  reason=reason if first == "exclude" else ""))
            if second is not None:
                session.add(Screening(review_id=review.id, paper_id=ids[pmid], stage="full_text", decision=second,
                                      reason=reason))
    return engine


EXPECTED = PrismaCounts(review=REVIEW, identified={"Embase": 5, "PubMed": 4}, duplicates_removed=2, screened=7,
                        excluded_screening=2, full_text_assessed=5,
                        excluded_full_text={"no biomarker analysis": 2, "not B-ALL": 1}, included=2)


def test_counts_from_imports_and_screening(screened: Engine) -> None:
    with session_scope(screened) as session:
        counts = prisma_counts(queries.get_review(REVIEW, session=session), session=session)
    assert counts == EXPECTED
    assert counts.identified_total == 9
    # The flow adds up: identified - duplicates = records screened; screened - excluded = full texts.
    assert counts.identified_total - counts.duplicates_removed == counts.screened
    assert counts.screened - counts.excluded_screening == counts.full_text_assessed


def test_seed_reports_only_what_the_review_states(engine: Engine) -> None:
    with session_scope(engine, write=True) as session:
        seeds.load_seeds(session=session)
    with session_scope(engine, write=True) as session:
        seeds.load_seeds(session=session)  # idempotent: the reported count is stored once
    with session_scope(engine) as session:
        counts = prisma_counts(queries.get_review("ke-zhou-2025", session=session), session=session)
    assert counts == PrismaCounts(review="ke-zhou-2025", identified={"PubMed, Web of Science, Embase": 626},
                                  duplicates_removed=None, screened=None, excluded_screening=None,
                                  full_text_assessed=None, excluded_full_text=None, included=33)


def _svg_texts(path: Path) -> list[str]:
    root = ET.parse(path).getroot()
    return [" ".join("".join(t.itertext()).split()) for t in root.iter("{http://www.w3.org/2000/svg}text")]


def test_diagram_numbers_read_back(tmp_path: Path) -> None:
    svg = tmp_path / "flow.svg"
    boxes = draw_prisma(EXPECTED, svg)
    assert {b.role: b.n for b in boxes} == {
        "identified": 9, "duplicates": 2, "screened": 7, "excluded_screening": 2, "full_text": 5,
        "excluded_full_text": 3, "included": 2}
    texts = " ".join(_svg_texts(svg))  # each line of a box is its own <text> element
    for expected in ("Records identified from databases (n = 9)", "Embase (n = 5)", "PubMed (n = 4)",
                     "duplicate records (n = 2)", "Records screened (n = 7)", "Records excluded (n = 2)",
                     "Reports assessed for eligibility (n = 5)", "Reports excluded (n = 3)",
                     "no biomarker analysis (n = 2)", "not B-ALL (n = 1)", "Studies included in review (n = 2)",
                     "Identification", "Screening", "Included"):
        assert expected in texts, expected
    png = tmp_path / "flow.png"
    assert draw_prisma(EXPECTED, png) == boxes
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_unreported_counts_say_so() -> None:
    counts = PrismaCounts(review="r", identified={"PubMed": 626}, included=33)
    texts = {b.role: b.text for b in diagram_boxes(counts)}
    assert texts["screened"] == "Records screened\n(n = not reported)"
    assert "reasons not reported" in texts["excluded_full_text"]
    assert texts["included"].endswith("(n = 33)")


def test_diagram_needs_png_or_svg(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"flow\.pdf: a PRISMA diagram is written as \.png or \.svg"):
        draw_prisma(EXPECTED, tmp_path / "flow.pdf")


def test_cli_prisma(screened: Engine, engine_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    svg = tmp_path / "prisma.svg"
    code, out, err = run(capsys, "--db", engine_url, "prisma", "--format", "json", "--diagram", str(svg))
    assert code == 0, err
    data = json.loads(out)
    assert data["identified"] == {"Embase": 5, "PubMed": 4} and data["identified_total"] == 9
    assert (data["duplicates_removed"], data["screened"], data["included"]) == (2, 7, 2)
    assert "Studies included in review (n = 2)" in " ".join(_svg_texts(svg))
    code, out, _ = run(capsys, "--db", engine_url, "prisma", "--format", "csv")
    assert code == 0 and "excluded,full text: no biomarker analysis,2" in out.splitlines()
