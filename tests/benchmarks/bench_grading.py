"""Grading benchmark on a synthetic SQLite database (run on demand, not part of the test suite).

Builds N findings over N/10 studies and N/500 biomarkers, every design of the ke-zhou-2025 scheme,
then measures in the same file:

* the floor: ``SELECT biomarker_id, count(*) FROM finding GROUP BY biomarker_id``;
* a full regrade of the review (one aggregate over the materialised tally) and, for reference, a full
  rebuild of the derived tables from the findings and the naive join of findings to studies;
* one curation write (add a finding) with its grade refresh, committed;
* the ``markers`` query; and ``evidencedb markers`` as a whole process against
  ``python -c "import sqlmodel, typer, rich.table"`` (medians of alternating runs).

Prints a table, then one JSON line with ``regrade_ratio_to_floor``, ``write_ms``, ``markers_query_ms``.

Usage: python tests/benchmarks/bench_grading.py --findings 1000000 [--db PATH] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from evidencedb import curation, grading, migrate, queries
from evidencedb.db import make_engine, session_scope
from evidencedb.models import Finding
from evidencedb.resources import data_file
from evidencedb.schemas import FindingIn
from evidencedb.scoring import Scheme

CATEGORIES = ["efficacy", "toxicity"]


def build(path: Path, n_findings: int, seed: int = 7, n_markers: int | None = None) -> None:
    """Create the synthetic database with set-based inserts (this is setup, not measured).

    Args:
        n_markers: biomarkers to spread the findings over (default: one per 500 findings).
    """
    rnd = random.Random(seed)
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    scheme = Scheme.from_file(data_file("ke-zhou-2025.json"))
    designs = sorted(scheme.designs)
    n_studies = max(1, n_findings // 10)
    n_markers = n_markers or max(1, n_findings // 500)
    now = datetime.now(UTC).isoformat(sep=" ")
    with session_scope(engine, write=True) as session:
        row = curation.ensure_scheme(scheme, session=session)
        review = curation.create_review(session=session, slug="bench", title="Benchmark", scheme=row)
        conn = session.connection()
        conn.execute(sa.text("INSERT INTO biomarker (name, category, description) VALUES (:n, 'biochemical', '')"),
                     [{"n": f"marker-{i:05d}"} for i in range(n_markers)])
        conn.execute(sa.text(
            "INSERT INTO paper (title, authors, journal, year, retracted, created_at) "
            "VALUES (:t, '', 'J', 2020, 0, :now)"), [{"t": f"paper {i}", "now": now} for i in range(n_studies)])
        paper_ids = [r[0] for r in conn.execute(sa.text("SELECT id FROM paper ORDER BY id"))]
        conn.execute(sa.text(
            "INSERT INTO study (review_id, paper_id, label, design, n_patients, n_patients_note, disease, "
            "shares_patients_with, verification_source, notes, created_at, updated_at) "
            "VALUES (:r, :p, :l, :d, 50, '', 'B-ALL', '', '', '', :now, :now)"),
            [{"r": review.id, "p": p, "l": f"s{i}", "d": designs[i % len(designs)], "now": now}
             for i, p in enumerate(paper_ids)])
        study_ids = [r[0] for r in conn.execute(sa.text("SELECT id FROM study ORDER BY id"))]
        marker_ids = [r[0] for r in conn.execute(sa.text("SELECT id FROM biomarker ORDER BY id"))]
        batch = []
        for i in range(n_findings):
            batch.append({
                "s": study_ids[i // 10 % len(study_ids)], "b": rnd.choice(marker_ids),
                "o": rnd.choice(["CR", "EFS", "OS", "CRS"]), "c": rnd.choice(CATEGORIES),
                "a": "supports" if rnd.random() < 0.8 else "no association", "now": now,
            })
            if len(batch) == 50_000:
                _insert_findings(conn, batch)
                batch = []
        if batch:
            _insert_findings(conn, batch)
        curation.refresh_review(review, session=session)
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()


def _insert_findings(conn: sa.Connection, batch: list[dict[str, object]]) -> None:
    conn.execute(sa.text(
        "INSERT INTO finding (study_id, biomarker_id, outcome, outcome_category, association, quote, location, "
        "citation_refs, status, curator, created_at, updated_at) "
        "VALUES (:s, :b, :o, :c, :a, '', '', '', 'draft', 'bench', :now, :now)"), batch)


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time in milliseconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def alternating(fns: list[Callable[[], object]], repeat: int) -> list[float]:
    """Median wall time in milliseconds of each function, run in turn (so that all see the same load)."""
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, times in zip(fns, samples, strict=True):
            start = time.perf_counter()
            fn()
            times.append((time.perf_counter() - start) * 1000)
    return [statistics.median(times) for times in samples]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--findings", type=int, default=100_000)
    parser.add_argument("--db", type=Path, default=None, help="reuse or create this SQLite file")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    path = args.db or Path(tempfile.mkdtemp()) / f"bench-{args.findings}.db"
    if not path.exists():
        t0 = time.perf_counter()
        build(path, args.findings)
        print(f"built {path} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    engine = make_engine(f"sqlite:///{path}")
    with session_scope(engine) as session:
        review = queries.get_review("bench", session=session)
        scheme = queries.get_scheme(None, session=session, review=review)
        rid = review.id
        assert rid is not None

    def floor() -> object:
        with engine.connect() as conn:
            return conn.exec_driver_sql("SELECT biomarker_id, count(*) FROM finding GROUP BY biomarker_id").all()

    def naive_join() -> object:
        with engine.connect() as conn:
            return conn.exec_driver_sql(
                "SELECT f.biomarker_id, s.design, count(DISTINCT f.study_id) FROM finding f "
                "JOIN study s ON s.id = f.study_id WHERE f.association = 'supports' "
                "GROUP BY f.biomarker_id, s.design").all()

    def regrade() -> None:
        with session_scope(engine, write=True) as session:
            grading.regrade(session, rid, scheme)

    def rebuild() -> None:
        with session_scope(engine, write=True) as session:
            grading.rebuild(session, rid)
            grading.regrade(session, rid, scheme)

    added: list[int] = []

    def write() -> None:
        with session_scope(engine, write=True) as session:
            study = queries.find_study(rid, f"s{len(added) * 7919 % max(1, args.findings // 10)}", session=session)
            assert study is not None
            f = curation.add_finding(study, FindingIn(biomarker="marker-00001", outcome="CR",
                                                      outcome_category="efficacy", association="supports"),
                                     session=session, actor="bench")
            assert f.id is not None
            added.append(f.id)

    def markers_query() -> object:
        with session_scope(engine) as session:
            return queries.list_markers(review, session=session, scheme=scheme)

    floor_ms = timed(floor, args.repeat)
    regrade_ms = timed(regrade, args.repeat)
    join_ms = timed(naive_join, max(1, args.repeat // 2))
    rebuild_ms = timed(rebuild, 1)
    write_ms = timed(write, max(args.repeat, 20))
    query_ms = timed(markers_query, args.repeat)
    with session_scope(engine, write=True) as session:  # leave the file as it was
        for fid in added:
            f = session.get(Finding, fid)
            if f is not None:
                curation.delete_finding(f, session=session, actor="bench")
    engine.dispose()

    env = {**os.environ, "EVIDENCEDB_URL": f"sqlite:///{path}"}
    exe = [sys.executable, "-m", "evidencedb.cli"]
    cli_ms, base_ms = alternating([
        lambda: subprocess.run([*exe, "markers", "--format", "json"], env=env, check=True, stdout=subprocess.DEVNULL),
        lambda: subprocess.run([sys.executable, "-c", "import sqlmodel, typer, rich.table"], check=True),
    ], args.repeat)

    rows = [
        ("floor: GROUP BY biomarker_id over findings", floor_ms),
        ("full regrade of the review (tally aggregate)", regrade_ms),
        ("reference: naive join findings→studies", join_ms),
        ("reference: rebuild support+tally+grades from findings", rebuild_ms),
        ("one curation write + grade refresh + commit", write_ms),
        ("markers query", query_ms),
        ("`evidencedb markers` process", cli_ms),
        ("`python -c import sqlmodel, typer, rich.table`", base_ms),
    ]
    print(f"findings={args.findings:,} studies={args.findings // 10:,} biomarkers={args.findings // 500:,}")
    for name, ms in rows:
        print(f"{name:<58} {ms:10.2f} ms")
    print(json.dumps({
        "findings": args.findings,
        "regrade_ratio_to_floor": round(regrade_ms / floor_ms, 3),
        "naive_join_ratio_to_floor": round(join_ms / floor_ms, 3),
        "write_ms": round(write_ms, 3),
        "markers_query_ms": round(query_ms, 3),
        "cli_ratio_to_imports": round(cli_ms / base_ms, 3),
        "floor_ms": round(floor_ms, 3),
        "regrade_ms": round(regrade_ms, 3),
        "rebuild_ms": round(rebuild_ms, 3),
    }))


if __name__ == "__main__":
    main()
