"""Commands on reviews: list them, create one with its protocol, edit it, show it, delete it.

Why this module exists: a reviewer starts by creating their own review (question, criteria, search,
exclusion reasons, scheme); nothing else creates one. Switching a review's scheme regrades it in the
same transaction and prints what moved.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

import typer

from evidencedb.cli.common import Format, FormatOpt, app, command_group, emit, open_session

review_app = command_group("A review: create it with its protocol, edit, show or delete it.")
app.add_typer(review_app, name="review")

SlugArg = Annotated[str, typer.Argument(metavar="SLUG", help="The review's slug, e.g. lbcl-2026.")]
TitleOpt = Annotated[str | None, typer.Option("--title", metavar="TEXT", help="The review's title.")]
DiseaseOpt = Annotated[str | None, typer.Option("--disease", metavar="TEXT",
                                                help="Disease scope; new studies default to it (e.g. LBCL).")]
QuestionOpt = Annotated[str | None, typer.Option("--question", metavar="TEXT", help="The review question.")]
PopulationOpt = Annotated[str | None, typer.Option("--population", metavar="TEXT", help="PICO: population.")]
InterventionOpt = Annotated[str | None, typer.Option("--intervention", metavar="TEXT", help="PICO: intervention.")]
ComparatorOpt = Annotated[str | None, typer.Option("--comparator", metavar="TEXT", help="PICO: comparator.")]
OutcomesOpt = Annotated[str | None, typer.Option("--outcomes", metavar="TEXT", help="PICO: outcomes.")]
InclusionOpt = Annotated[str | None, typer.Option("--inclusion", metavar="TEXT", help="Inclusion criteria.")]
ExclusionOpt = Annotated[str | None, typer.Option("--exclusion", metavar="TEXT", help="Exclusion criteria.")]
DatabasesOpt = Annotated[str | None, typer.Option("--databases", metavar="TEXT",
                                                  help="Databases searched, e.g. 'PubMed; Embase; Web of Science'.")]
SearchDateOpt = Annotated[str | None, typer.Option("--search-date", metavar="YYYY-MM-DD",
                                                   help="When the search ran.")]
ReasonOpt = Annotated[list[str] | None, typer.Option(
    "--reason", metavar="TEXT", help="An exclusion reason screening offers (repeat the option for each).")]
ReviewSchemeOpt = Annotated[str | None, typer.Option(
    "--scheme", metavar="NAME[@VERSION]", help="The scheme the review grades with (new: the bundled one).")]

#: Option name → review field, in the order `review show` lists them.
FIELDS = {"title": "title", "disease": "disease_scope", "question": "question", "population": "population",
          "intervention": "intervention", "comparator": "comparator", "outcomes": "outcomes",
          "inclusion": "inclusion_criteria", "exclusion": "exclusion_criteria", "databases": "databases",
          "search_date": "search_date", "reasons": "exclusion_reasons", "citation": "citation", "doi": "doi"}


def _given(**options: Any) -> dict[str, Any]:
    """The review fields the command line sets (an option left out changes nothing)."""
    values = {FIELDS[name]: value for name, value in options.items() if value is not None}
    if "search_date" in values:
        try:
            values["search_date"] = date.fromisoformat(values["search_date"])
        except ValueError:
            from evidencedb.errors import ValidationError

            raise ValidationError(f"search date {values['search_date']!r} is not a date (YYYY-MM-DD)") from None
    return values


@app.command()
def reviews(fmt: FormatOpt = Format.table) -> None:
    """List the reviews in the database."""
    from evidencedb import queries

    with open_session() as session:
        rows = [{"review": r.slug, "title": r.title, "disease": r.disease_scope, "doi": r.doi}
                for r in queries.list_reviews(session=session)]
    if not rows and fmt is Format.table:
        typer.echo("no review yet: create one with `evidencedb review new SLUG --title TEXT`")
        return
    emit(rows, fmt, title="Reviews")


@review_app.command("new")
def review_new(slug: SlugArg, title: TitleOpt = None, disease: DiseaseOpt = None, question: QuestionOpt = None,
               population: PopulationOpt = None, intervention: InterventionOpt = None,
               comparator: ComparatorOpt = None, outcomes: OutcomesOpt = None, inclusion: InclusionOpt = None,
               exclusion: ExclusionOpt = None, databases: DatabasesOpt = None, search_date: SearchDateOpt = None,
               reason: ReasonOpt = None, scheme: ReviewSchemeOpt = None,
               curator: Annotated[str, typer.Option(metavar="NAME", help="Who creates it (audit log).")] = "") -> None:
    """Create a review with its protocol."""
    from evidencedb import curation, queries
    from evidencedb.schemas import ReviewIn
    from evidencedb.scoring import default_scheme

    fields = _given(title=title, disease=disease, question=question, population=population,
                    intervention=intervention, comparator=comparator, outcomes=outcomes, inclusion=inclusion,
                    exclusion=exclusion, databases=databases, search_date=search_date, reasons=reason)
    data = curation.validate(ReviewIn, {"slug": slug, **fields})
    with open_session(write=True) as session:
        row = (queries.get_scheme(scheme, session=session) if scheme
               else curation.ensure_scheme(default_scheme(), session=session))
        review = curation.new_review(data, scheme=row, session=session, actor=curator)
        label = row.label
    typer.echo(f"review {review.slug} created, graded with {label}; next: `evidencedb import FILE -r {review.slug}`")


@review_app.command("edit")
def review_edit(slug: SlugArg, title: TitleOpt = None, disease: DiseaseOpt = None, question: QuestionOpt = None,
                population: PopulationOpt = None, intervention: InterventionOpt = None,
                comparator: ComparatorOpt = None, outcomes: OutcomesOpt = None, inclusion: InclusionOpt = None,
                exclusion: ExclusionOpt = None, databases: DatabasesOpt = None, search_date: SearchDateOpt = None,
                reason: ReasonOpt = None, scheme: ReviewSchemeOpt = None,
                curator: Annotated[str, typer.Option(metavar="NAME", help="Who edits it (audit log).")] = "",
                fmt: FormatOpt = Format.table) -> None:
    """Change a review's protocol or its scheme (regraded at once).

    Only the options given change. --reason replaces the list of exclusion reasons.
    """
    from evidencedb import curation, queries

    fields = _given(title=title, disease=disease, question=question, population=population,
                    intervention=intervention, comparator=comparator, outcomes=outcomes, inclusion=inclusion,
                    exclusion=exclusion, databases=databases, search_date=search_date, reasons=reason)
    with open_session(write=True) as session:
        review = queries.get_review(slug, session=session)
        row = queries.get_scheme(scheme, session=session) if scheme else None
        edit = curation.update_review(review, fields, session=session, actor=curator, scheme=row)
    if fmt is not Format.table:
        emit([{"field": f, "old": _text(old), "new": _text(new)} for f, old, new in edit.fields], fmt)
        return
    if not edit.fields:
        typer.echo(f"review {slug}: nothing changed")
        return
    for field, old, new in edit.fields:
        typer.echo(f"{field}: {_text(old) or '(empty)'} → {_text(new) or '(empty)'}")
    if scheme:
        typer.echo(f"grades moved: {len(edit.grades)}" if edit.grades else "grades moved: none")
        for change in edit.grades:
            typer.echo(f"  {change}")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)


@review_app.command("show")
def review_show(slug: SlugArg, fmt: FormatOpt = Format.table) -> None:
    """A review's protocol, scheme and counts."""
    from evidencedb import queries

    with open_session() as session:
        review = queries.get_review(slug, session=session)
        scheme = queries.get_scheme(None, session=session, review=review)
        counts = queries.review_counts(review, session=session)
        data: dict[str, Any] = {"review": review.slug, **{name: getattr(review, field) for name, field in
                                                          FIELDS.items()},
                                "scheme": scheme.label, **counts}
    if fmt is Format.json:
        typer.echo(json.dumps(data, default=str, ensure_ascii=False, indent=2))
        return
    emit([{"field": k, "value": _text(v)} for k, v in data.items()], fmt, title=f"Review {slug}")


@review_app.command("delete")
def review_delete(slug: SlugArg,
                  force: Annotated[bool, typer.Option("--force", help="Also remove its studies, findings and "
                                                                      "screening records.")] = False,
                  curator: Annotated[str, typer.Option(metavar="NAME", help="Who removes it (audit log).")] = ""
                  ) -> None:
    """Remove a review (papers and biomarkers stay).

    A review with studies is removed only with --force, which takes its screening records, studies,
    findings and grades with it in one transaction and writes each to the audit log.
    """
    from evidencedb import curation, queries

    with open_session(write=True) as session:
        review = queries.get_review(slug, session=session)
        gone = curation.delete_review(review, session=session, force=force, actor=curator)
    typer.echo(f"review {gone.slug} removed with {gone.studies} studies, {gone.findings} findings and "
               f"{gone.screenings} screening records; {gone.papers_unlinked} papers unlinked (papers stay)")
