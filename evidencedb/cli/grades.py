"""Commands that read and recompute grades: markers, marker, studies, grade."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer

from evidencedb.cli.common import Format, FormatOpt, GradeClass, ReviewOpt, SchemeOpt, app, emit, open_session
from evidencedb.formatting import json_number


@app.command()
def markers(
    review: ReviewOpt = None,
    min_level: Annotated[str | None, typer.Option("--min-level", metavar="LEVEL",
                                                  help="Only this level or stronger (e.g. A or b).")] = None,
    grade_class: Annotated[GradeClass | None, typer.Option("--class", metavar="dual|efficacy|toxicity",
                                                           help="Only biomarkers of this class.")] = None,
    scheme: SchemeOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Graded biomarkers, strongest first."""
    from evidencedb import queries

    with open_session() as session:
        r = queries.get_review(review, session=session)
        s = queries.get_scheme(scheme, session=session, review=r)
        rows = queries.list_markers(r, session=session, scheme=s, min_level=min_level,
                                    grade_class=grade_class.value if grade_class else None)
        if not rows and scheme and not queries.count_markers(r, session=session, scheme=s):
            from evidencedb.errors import NotFoundError

            n_findings = queries.review_counts(r, session=session)["findings"]
            if n_findings:
                raise NotFoundError(f"review {r.slug} has no grades under {s.label} yet: "
                                    f"`evidencedb grade -r {r.slug} --scheme {s.label}` computes them")
    emit([{"biomarker": m.biomarker, "category": m.category, "score": m.score, "level": m.level,
           "n_studies": m.n_studies, "n_conflicting": m.n_conflicting, "class": m.grade_class} for m in rows],
         fmt, title=f"{r.slug} · {s.label}")


@app.command()
def marker(name: Annotated[str, typer.Argument(metavar="NAME",
                                               help="Biomarker name or synonym.")], review: ReviewOpt = None,
           scheme: SchemeOpt = None, fmt: FormatOpt = Format.table) -> None:
    """Explain one grade: its studies, thresholds and quotes.

    Lists the contributing studies with design and coefficient, the conflicting studies, and every
    finding with its threshold, outcome, result and quote.
    """
    from evidencedb import queries

    with open_session() as session:
        r = queries.get_review(review, session=session)
        s = queries.get_scheme(scheme, session=session, review=r)
        ex = queries.explain_marker(r, name, session=session, scheme=s)
    res = ex.result
    if fmt is not Format.table:
        data = {
            "biomarker": ex.biomarker.name, "category": ex.biomarker.category, "synonyms": list(ex.synonyms),
            "review": ex.review, "scheme": ex.scheme, "scheme_hash": ex.scheme_hash, "score": res.score,
            "level": res.level, "class": res.grade_class, "n_studies": res.n_studies,
            "contributions": [{"study": c.study, "design": c.design, "coefficient": c.coefficient,
                               "categories": list(c.categories)} for c in res.contributions],
            "conflicting": list(res.conflicting),
            "findings": [asdict(f) for f in ex.findings],
        }
        if fmt is Format.json:
            typer.echo(json.dumps(data, default=json_number, ensure_ascii=False, indent=2))
        else:
            emit([{k: v for k, v in asdict(f).items()} for f in ex.findings], fmt)
        return
    from rich.console import Console

    from evidencedb.formatting import score_text

    console = Console()
    console.print(f"[bold]{ex.biomarker.name}[/bold] ({ex.biomarker.category}) — {ex.review}, {ex.scheme}")
    if ex.synonyms:
        console.print(f"synonyms: {', '.join(ex.synonyms)}")
    console.print(f"score [bold]{score_text(res.score)}[/bold] → level [bold]{res.level}[/bold], "
                  f"class {res.grade_class}, "
                  f"{res.n_studies} supporting studies, {len(res.conflicting)} conflicting")
    emit([{"study": c.study, "design": c.design, "coefficient": c.coefficient, "outcomes": ", ".join(c.categories)}
          for c in res.contributions], Format.table, title="Contributing studies")
    if res.conflicting:
        console.print("conflicting (no association, add nothing): " + ", ".join(res.conflicting))
    emit([{"study": f.study, "measure": f.measure, "threshold": f.threshold,
           "outcome": f.outcome, "category": f.outcome_category, "association": f.association,
           "result": f.group_results or f.effect or "", "p": f.p_value, "quote": f.quote} for f in ex.findings],
         Format.table, title="Findings and thresholds")


@app.command()
def studies(review: ReviewOpt = None, fmt: FormatOpt = Format.table) -> None:
    """Included studies of a review."""
    from evidencedb import queries

    with open_session() as session:
        r = queries.get_review(review, session=session)
        rows = queries.list_studies(r, session=session)
    emit([{"study_id": s.study_id, "citation": s.citation, "doi": s.doi, "pmid": s.pmid, "year": s.year,
           "design": s.design, "n_patients": s.n_patients, "population": s.population, "target": s.target,
           "n_findings": s.n_findings} for s in rows], fmt, title=f"Studies of {r.slug}")


@app.command()
def grade(review: ReviewOpt = None, scheme: SchemeOpt = None,
          rebuild: Annotated[bool, typer.Option(
              "--rebuild", help="Also recompute the evidence tallies from findings.")] = False,
          fmt: FormatOpt = Format.table) -> None:
    """Recompute the grades of a review and print what changed."""
    from evidencedb import curation, grading, queries

    with open_session(write=True) as session:
        r = queries.get_review(review, session=session)
        s = queries.get_scheme(scheme, session=session, review=r)
        assert r.id is not None
        with curation.track_grades(r, session=session, scheme=s) as tracker:
            if rebuild:
                grading.rebuild(session, r.id)
            grading.regrade(session, r.id, s)
    changes = tracker.changes
    if fmt is Format.table and not changes:
        typer.echo(f"{tracker.n_after} grades of {r.slug} under {s.label}: nothing changed")
        return
    emit([{"biomarker": c.biomarker, "old_score": c.old_score, "old_level": c.old_level, "new_score": c.new_score,
           "new_level": c.new_level} for c in changes], fmt, title=f"Grades changed ({s.label})")
