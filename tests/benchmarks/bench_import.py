"""Extraction-sheet import benchmark (run on demand, not part of the test suite).

Generates a sheet of N finding rows (N/10 studies with 10 findings each, N/50 biomarkers, every design
of the ke-zhou-2025 scheme, DOIs, PMIDs, thresholds with convertible units) as CSV, then measures on
fresh SQLite files:

* ``import_sheet``: read, validate every row, plan, write everything in one transaction, regrade once
  (pandas and the pint unit registry are loaded before timing; their one-time load is reported apart),
  timed ``--import-runs`` times into fresh databases: the median counts, and every run is printed (the
  first one also pays for growing the process's memory, which the naive path, run after it, does not);
* the naive path: the same rows (read with the csv module and validated with the same input models),
  each written as ORM objects (paper, study and biomarker when first seen, each with the audit row the
  import also writes, then the finding) and committed one row at a time, with one regrade at the end,
  so that both paths leave the same rows in the database (checked after a full run). It runs on the
  first ``--naive-rows`` rows (all of them by default); its rows/s are extrapolated linearly to N and
  the report says so.

Prints a table, then one JSON line: ``import_s`` (the median), ``import_runs_s``, ``import_rows_per_s``,
``naive_rows_per_s``, ``naive_rows_timed``, ``naive_extrapolated_s``, ``speedup`` (naive time per row /
median import time per row), ``speedup_first_run``, ``api_rows_per_s`` and ``speedup_vs_api`` for the
library's own one-row writes (``curation.add_*``, each commit leaving fresh grades, as the TUI writes),
timed on the first ``--api-rows`` rows.

Usage: python tests/benchmarks/bench_import.py [--rows 100000] [--naive-rows 100000] [--dir PATH]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from evidencedb import curation, migrate, queries, units
from evidencedb.db import make_engine, session_scope
from evidencedb.io.sheet import importer as sheet
from evidencedb.models import AuditLog, Biomarker, Finding, Paper, Screening, Study
from evidencedb.resources import data_file
from evidencedb.schemas import BiomarkerIn, FindingIn, PaperIn, StudyIn
from evidencedb.scoring import Scheme

OUTCOMES = [("CR", "efficacy"), ("EFS", "efficacy"), ("OS", "efficacy"), ("CRS", "toxicity"),
            ("severe ICANS", "toxicity")]
UNITS = ["ng/mL", "pg/mL", "%", "×10^9/L", "U/L", "mg/L"]
CATEGORIES = ["cytokines", "biochemical", "T-cell phenotype", "tumour burden", "CAR-T product attributes"]


def generate(path: Path, n_rows: int, seed: int = 11) -> None:
    """Write a valid extraction sheet of ``n_rows`` findings (setup, not measured)."""
    rnd = random.Random(seed)
    designs = sorted(Scheme.from_file(data_file("ke-zhou-2025.json")).designs)
    n_studies = max(1, n_rows // 10)
    n_markers = max(1, n_rows // 50)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(sheet.INPUT_COLUMNS))
        writer.writeheader()
        for i in range(n_rows):
            s = i // 10 % n_studies
            m = rnd.randrange(n_markers)
            outcome, category = OUTCOMES[i % len(OUTCOMES)]
            writer.writerow({
                "study_id": f"study-{s:06d}", "citation": f"Author{s} et al. J Bench {2000 + s % 25}",
                "year": str(2000 + s % 25), "doi": f"10.5555/bench.{s}", "pmid": str(10_000_000 + s),
                "design": designs[s % len(designs)], "n_patients": str(20 + s % 200), "population": "adult",
                "biomarker": f"marker-{m:05d}", "biomarker_category": CATEGORIES[m % len(CATEGORIES)],
                "measure": f"measure {i % 10}", "timepoint": "pre-infusion", "comparator": ">=",
                "value": f"{rnd.randint(1, 5000) / 10}", "unit": UNITS[m % len(UNITS)], "outcome": outcome,
                "outcome_category": category, "direction": "worse",
                "association": "supports" if rnd.random() < 0.8 else "no association",
                "quote": f"Finding {i} of study {s}.", "location": "Table 2", "status": "draft",
            })


def fresh(path: Path) -> sa.Engine:
    """A migrated, empty SQLite database holding the bundled scheme and one review."""
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    with session_scope(engine, write=True) as session:
        row = curation.ensure_scheme(Scheme.from_file(data_file("ke-zhou-2025.json")), session=session)
        curation.create_review(session=session, slug="bench", title="Benchmark", scheme=row)
    return engine


def naive(engine: sa.Engine, sheet_path: Path, limit: int) -> int:
    """One ORM object at a time, one commit per row; one regrade at the end. Returns rows written."""
    with sheet_path.open(newline="", encoding="utf-8") as fh:
        rows = [r for _i, r in zip(range(limit), csv.DictReader(fh), strict=False)]
    with session_scope(engine) as session:
        review = queries.get_review("bench", session=session)
    assert review.id is not None
    studies: dict[str, int] = {}
    markers: dict[str, int] = {}
    for rec in rows:
        with session_scope(engine, write=True) as session:
            label = rec["study_id"]
            if label not in studies:
                paper_in = PaperIn(title=rec["citation"], year=rec["year"], doi=rec["doi"], pmid=rec["pmid"])
                study_in = StudyIn(label=label, design=rec["design"], n_patients=rec["n_patients"],
                                   population=rec["population"])
                paper = Paper(**paper_in.model_dump())
                session.add(paper)
                session.flush()
                assert paper.id is not None
                study = Study(review_id=review.id, paper_id=paper.id, **study_in.model_dump())
                session.add(study)
                session.add(Screening(review_id=review.id, paper_id=paper.id, stage="full_text", decision="include"))
                session.add(AuditLog(actor="bench", action="insert", table_name="paper", row_key=str(paper.id),
                                     new=curation.audit_json(paper_in.model_dump())))
                session.add(AuditLog(actor="bench", action="insert", table_name="study", row_key=label,
                                     new=curation.audit_json(study_in.model_dump())))
                session.flush()
                assert study.id is not None
                studies[label] = study.id
            name = rec["biomarker"]
            if name not in markers:
                marker_in = BiomarkerIn(name=name, category=rec["biomarker_category"])
                marker = Biomarker(name=marker_in.name, category=marker_in.category)
                session.add(marker)
                session.add(AuditLog(actor="bench", action="insert", table_name="biomarker", row_key=name,
                                     new=curation.audit_json({"name": marker.name, "category": marker.category})))
                session.flush()
                assert marker.id is not None
                markers[name] = marker.id
            data = {k: v for k, v in rec.items() if v and k in sheet.FINDING_COLUMNS and k != "biomarker_category"}
            data["threshold_value"] = data.pop("value", None)
            finding = FindingIn.model_validate(data)
            session.add(Finding(study_id=studies[label], biomarker_id=markers[name],
                                **finding.model_dump(exclude={"biomarker"})))
    with session_scope(engine, write=True) as session:
        curation.refresh_review(queries.get_review("bench", session=session), session=session)
    return len(rows)


def one_at_a_time(engine: sa.Engine, sheet_path: Path, limit: int) -> int:
    """The library's own single-row writes, one commit per row: every commit leaves fresh grades.

    ``curation.add_paper``/``add_study``/``add_biomarker`` when first seen, then ``add_finding``, which
    validates, writes its audit row and refreshes the grades the finding touches, as the TUI does.
    """
    with sheet_path.open(newline="", encoding="utf-8") as fh:
        rows = [r for _i, r in zip(range(limit), csv.DictReader(fh), strict=False)]
    studies: set[str] = set()
    for rec in rows:
        with session_scope(engine, write=True) as session:
            review = queries.get_review("bench", session=session)
            label = rec["study_id"]
            if label not in studies:
                paper = curation.add_paper(PaperIn(title=rec["citation"], year=rec["year"], doi=rec["doi"],
                                                   pmid=rec["pmid"]), session=session, actor="bench")
                curation.add_study(review, paper, StudyIn(label=label, design=rec["design"],
                                                          n_patients=rec["n_patients"],
                                                          population=rec["population"]),
                                   session=session, actor="bench")
                studies.add(label)
            study = queries.find_study(review.id or 0, label, session=session)
            assert study is not None
            if queries.find_biomarker(rec["biomarker"], session=session) is None:
                curation.add_biomarker(BiomarkerIn(name=rec["biomarker"], category=rec["biomarker_category"]),
                                       session=session, actor="bench")
            data = {k: v for k, v in rec.items() if v and k in sheet.FINDING_COLUMNS and k != "biomarker_category"}
            data["threshold_value"] = data.pop("value", None)
            curation.add_finding(study, FindingIn.model_validate(data), session=session, actor="bench")
    return len(rows)


TABLES = ("finding", "study", "paper", "biomarker", "screening", "audit_log", "grade")


def counts(engine: sa.Engine) -> dict[str, int]:
    """Rows stored per table."""
    with engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def grades(engine: sa.Engine) -> dict[str, tuple[str, str]]:
    """Biomarker → (score, level) of every grade stored."""
    with engine.connect() as conn:
        return {name: (str(score), level) for name, score, level in conn.execute(sa.text(
            "SELECT b.name, g.score, g.level FROM grade g JOIN biomarker b ON b.id = g.biomarker_id"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--naive-rows", type=int, default=None, help="time the naive path on this prefix")
    parser.add_argument("--api-rows", type=int, default=5_000,
                        help="time the library's one-at-a-time writes on this prefix")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the sheet and databases")
    parser.add_argument("--import-runs", type=int, default=3,
                        help="time the import this many times, each into a fresh database (the median counts)")
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="bench-import-"))
    folder.mkdir(parents=True, exist_ok=True)
    sheet_path = folder / f"sheet-{args.rows}.csv"
    if not sheet_path.exists():
        generate(sheet_path, args.rows)
    for name in (*(f"import-{run}.db" for run in range(args.import_runs)), "naive.db", "api.db"):
        for suffix in ("", "-wal", "-shm"):
            (folder / (name + suffix)).unlink(missing_ok=True)

    start = time.perf_counter()  # one-time library loading, paid by the first import of a process
    import pandas  # noqa: F401

    units.classify("ng/mL")
    load_s = time.perf_counter() - start

    runs: list[float] = []
    for run in range(args.import_runs):  # each into a fresh database
        engine = fresh(folder / f"import-{run}.db")
        start = time.perf_counter()
        with session_scope(engine, write=True) as session:
            report = sheet.import_sheet(sheet_path, session=session, review_slug="bench", actor="bench")
        runs.append(time.perf_counter() - start)
        stored, import_grades = counts(engine), grades(engine)
        engine.dispose()
        assert report.findings_added == args.rows and stored["finding"] == args.rows, (report, stored)
    import_s = statistics.median(runs)

    naive_rows = min(args.naive_rows or args.rows, args.rows)
    engine = fresh(folder / "naive.db")
    start = time.perf_counter()
    written = naive(engine, sheet_path, naive_rows)
    naive_s = time.perf_counter() - start
    naive_stored, naive_grades = counts(engine), grades(engine)
    engine.dispose()
    if written == args.rows:  # the same database either way (the import adds one summary audit row)
        assert {**naive_stored, "audit_log": naive_stored["audit_log"] + 1} == stored, (naive_stored, stored)
        assert naive_grades == import_grades

    api_rows = min(args.api_rows, args.rows)
    engine = fresh(folder / "api.db")
    start = time.perf_counter()
    api_written = one_at_a_time(engine, sheet_path, api_rows)
    api_s = time.perf_counter() - start
    engine.dispose()
    api_rate = api_written / api_s
    api_full_s = args.rows / api_rate

    import_rate = args.rows / import_s
    naive_rate = written / naive_s
    naive_full_s = args.rows / naive_rate
    print(f"sheet: {args.rows:,} rows, {report.studies_added:,} studies, {len(report.biomarkers_added):,} biomarkers "
          f"({sheet_path.stat().st_size / 1e6:.1f} MB CSV)")
    print(f"loading pandas and the pint registry (once per process) {load_s:.2f} s, not included below")
    print(f"import_sheet (one transaction), median of {len(runs)} {import_s:9.2f} s  {import_rate:10,.0f} rows/s  "
          f"(runs: {', '.join(f'{r:.2f}' for r in runs)} s; the first also grows the process's memory)")
    print(f"naive: ORM + commit per row ({written:,} rows) {naive_s:9.2f} s  {naive_rate:10,.0f} rows/s")
    if written < args.rows:
        print(f"naive extrapolated linearly to {args.rows:,} rows: {naive_full_s:.1f} s (not measured)")
    print(f"speed-up over bare ORM rows {naive_full_s / import_s:.1f}x (first import run alone: "
          f"{naive_full_s / runs[0]:.1f}x); rows stored by the import: {stored}"
          + ("; the naive path stored the same rows and grades" if written == args.rows else ""))
    print(f"curation API + commit per row ({api_written:,} rows) {api_s:9.2f} s  {api_rate:10,.0f} rows/s "
          f"(extrapolated to {args.rows:,} rows: {api_full_s:.1f} s)")
    print(f"speed-up over the curation API one row at a time {api_full_s / import_s:.1f}x")
    print(json.dumps({
        "rows": args.rows, "library_load_s": round(load_s, 3), "import_s": round(import_s, 3),
        "import_runs_s": [round(r, 3) for r in runs],
        "import_rows_per_s": round(import_rate),
        "naive_rows_timed": written, "naive_s": round(naive_s, 3), "naive_rows_per_s": round(naive_rate),
        "naive_extrapolated_s": round(naive_full_s, 1) if written < args.rows else None,
        "speedup": round(naive_full_s / import_s, 1), "speedup_first_run": round(naive_full_s / runs[0], 1),
        "api_rows_timed": api_written, "api_rows_per_s": round(api_rate),
        "speedup_vs_api": round(api_full_s / import_s, 1),
    }))


if __name__ == "__main__":
    main()
