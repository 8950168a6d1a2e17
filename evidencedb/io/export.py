"""Exports: the review's tables as plain rows, written to CSV, XLSX, JSON or Markdown.

Why this module exists: reviewers take the evidence elsewhere — a supplement, a spreadsheet, another
tool. Each table is built once as plain rows with a stable column order (``build_table``) and any
writer can take it (``write_rows``), so the four formats always hold the same values. Scores stay
exact: decimals are written as their decimal text ("6.0", never 6.000000000000001), in JSON as
the CLI writes them. Files appear whole or not at all (written beside the target, then renamed).
pandas, openpyxl and tabulate are imported only when a file is written.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlmodel import Session

from evidencedb import queries, reports
from evidencedb.errors import EvidenceDBError
from evidencedb.formatting import COMPARATOR_SYMBOLS, cell_text, exact_score, json_number, level_bands, share_text
from evidencedb.io.files import write_whole
from evidencedb.io.sheet.columns import COLUMNS
from evidencedb.models import Review, ScoringScheme

TABLES = ("studies", "findings", "grades", "markers", "summary")
FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".json": "json", ".md": "md"}

GRADE_COLUMNS = ("biomarker", "category", "score", "level", "class", "n_studies", "n_conflicting", "study",
                 "design", "role", "coefficient", "contribution", "outcomes", "n_findings", "scheme")
SUMMARY_COLUMNS = ("section", "item", "studies", "findings", "value")
MARKER_COLUMNS = ("biomarker", "category", "score", "level", "n_studies", "n_conflicting", "grade_class", "scheme")
STUDY_COLUMNS = ("study_id", "citation", "title", "doi", "pmid", "year", "design", "n_patients", "population",
                 "product", "target", "n_findings")


@dataclass(frozen=True)
class ExportTable:
    """One exportable table: its name, its columns in order, and its rows (plain values and Decimals)."""

    name: str
    review: str
    columns: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]


# --------------------------------------------------------------------------------------------------
# Tables


def build_table(name: str, review: Review, *, session: Session, scheme: ScoringScheme | None = None) -> ExportTable:
    """Build one of :data:`TABLES` for a review.

    Args:
        name: ``studies``, ``findings`` (the extraction sheet: it imports back), ``grades`` (one row per
            biomarker × study, see :func:`grade_rows`), ``markers`` or ``summary`` (Table 1).
        scheme: the scheme of the grades (default: the review's).

    Raises:
        EvidenceDBError: unknown table name.
    """
    builders: dict[str, Callable[[], tuple[Sequence[str], Iterable[dict[str, Any]]]]] = {
        "studies": lambda: (STUDY_COLUMNS, (asdict(s) for s in queries.list_studies(review, session=session))),
        "findings": lambda: _finding_table(review, session=session),
        "grades": lambda: (GRADE_COLUMNS, grade_rows(review, session=session, scheme=scheme)),
        "markers": lambda: (MARKER_COLUMNS, marker_rows(review, session=session, scheme=scheme)),
        "summary": lambda: (SUMMARY_COLUMNS, summary_rows(review, session=session, scheme=scheme)),
    }
    if name not in builders:
        raise EvidenceDBError(f"no table {name!r} to export (tables: {', '.join(TABLES)})")
    columns, rows = builders[name]()
    return ExportTable(name, review.slug, tuple(columns), tuple({c: r.get(c) for c in columns} for r in rows))


def _finding_table(review: Review, *, session: Session) -> tuple[Sequence[str], Iterable[dict[str, Any]]]:
    from evidencedb.io.sheet import rows as sheet

    return COLUMNS, list(sheet.finding_rows(review, session=session))


def marker_rows(review: Review, *, session: Session, scheme: ScoringScheme | None = None) -> list[dict[str, Any]]:
    """Graded biomarkers, strongest first (the ``markers`` listing)."""
    return [{**asdict(m), "score": exact_score(m.score)}
            for m in queries.list_markers(review, session=session, scheme=scheme)]


def grade_rows(review: Review, *, session: Session, scheme: ScoringScheme | None = None) -> list[dict[str, Any]]:
    """Every grade with its per-study contributions: one row per biomarker × study with findings on it.

    Biomarkers come strongest first. Within one, supporting studies (``role`` = ``supports``) come
    first, highest coefficient first; their ``contribution`` is the design's coefficient, so the
    contributions of a biomarker's rows add up exactly to its ``score``. Studies whose findings all
    show no association follow with ``role`` = ``conflicting`` and ``contribution`` 0: they are
    shown, and add nothing. ``outcomes`` lists the outcome categories a study supports.
    """
    scheme = scheme or queries.get_scheme(None, session=session, review=review)
    label = scheme.label
    by_marker: dict[str, list[reports.ContributionRow]] = {}
    for c in reports.grade_contributions(review, session=session, scheme=scheme):
        by_marker.setdefault(c.biomarker, []).append(c)
    rows = []
    for m in queries.list_markers(review, session=session, scheme=scheme):
        grade = {"biomarker": m.biomarker, "category": m.category, "score": exact_score(m.score), "level": m.level,
                 "class": m.grade_class, "n_studies": m.n_studies, "n_conflicting": m.n_conflicting, "scheme": label}
        for c in by_marker.get(m.biomarker, []):
            coefficient = exact_score(c.coefficient) if c.coefficient is not None else None
            rows.append({**grade, "study": c.study, "design": c.design,
                         "role": "supports" if c.supports else "conflicting", "coefficient": coefficient,
                         "contribution": coefficient if c.supports else Decimal("0.0"),
                         "outcomes": ", ".join(c.categories), "n_findings": c.n_findings})
    return rows




def summary_rows(review: Review, *, session: Session, scheme: ScoringScheme | None = None) -> list[dict[str, Any]]:
    """The review's Table 1 as rows of ``section, item, studies, findings, value``.

    Sections: review, patients, design, design group, population, target, product, outcome,
    threshold (one row per biomarker × outcome × unit, "biomarker · outcome [unit]": the comparators
    and the lowest to highest value),
    evidence level and class (``value`` = number of graded biomarkers). ``studies`` and ``findings``
    count what each row describes; ``value`` is text (a total, a share of the studies, or a range).
    """
    t = reports.review_table1(review, session=session, scheme=scheme)
    s = t.summary
    rows: list[dict[str, Any]] = [
        _row("review", review.title or review.slug, s.n_studies, t.n_findings, review.slug),
        _row("patients", "total N (studies reporting N)", t.n_patients_reported, None, str(s.n_patients)),
        _row("patients", "N not reported", s.n_studies_without_n, None, ""),
    ]
    if t.patients_min is not None:
        rows.append(_row("patients", "N per study (range)", t.n_patients_reported, None,
                         f"{t.patients_min}–{t.patients_max}"))

    def share(n: int) -> str:
        return share_text(n, s.n_studies)

    designs = sorted(s.designs.items(), key=lambda kv: (-kv[1], kv[0]))
    rows += [_row("design", d, n, None, share(n)) for d, n in designs]
    rows += [_row("design group", g, n, None, share(n)) for g, n in t.design_groups.items()]
    for section, split in (("population", t.populations), ("target", t.targets), ("product", t.products)):
        rows += [_row(section, k, n, None, share(n)) for k, n in split.items()]
    rows += [_row("outcome", f"{o.outcome} ({o.category})", o.n_studies, o.n_findings, "") for o in t.outcomes]
    for r in t.thresholds:
        comparators = "/".join(COMPARATOR_SYMBOLS.get(c, c) for c in r.comparators)
        span = cell_text(r.low) if r.low == r.high else f"{cell_text(r.low)} to {cell_text(r.high)}"
        unit = f" [{r.unit}]" if r.unit else ""
        rows.append(_row("threshold", f"{r.biomarker} · {r.outcome}{unit}", r.n_studies, r.n_findings,
                         f"{comparators} {span} {r.unit}".strip()))
    levels = queries.load_scheme(scheme or queries.get_scheme(None, session=session, review=review),
                                 session=session).levels
    rows += [_row("evidence level", f"{level} ({band})", None, None, str(s.levels.get(level, 0)))
             for level, band in level_bands(levels).items()]
    rows += [_row("class", c, None, None, str(n)) for c, n in sorted(s.classes.items(), key=lambda kv: (-kv[1], kv[0]))]
    return rows


def _row(section: str, item: str, studies: int | None, findings: int | None, value: str) -> dict[str, Any]:
    return {"section": section, "item": item, "studies": studies, "findings": findings, "value": value}


# --------------------------------------------------------------------------------------------------
# Writers


def format_of(path: Path, fmt: str | None = None) -> str:
    """The export format of a file: ``fmt`` if given, else from the extension.

    Raises:
        EvidenceDBError: the extension (or ``fmt``) is not one of .csv, .xlsx, .json, .md.
    """
    if fmt is not None and fmt.lower().lstrip(".") in FORMATS.values():
        return fmt.lower().lstrip(".")
    if fmt is None and path.suffix.lower() in FORMATS:
        return FORMATS[path.suffix.lower()]
    given = f"format {fmt!r}" if fmt is not None else f"extension {path.suffix or '(none)'}"
    raise EvidenceDBError(f"{path}: unknown export {given} (allowed: {', '.join(FORMATS)})")


def write_rows(rows: Iterable[Mapping[str, Any]], path: Path, columns: Sequence[str], fmt: str | None = None) -> Path:
    """Write rows to ``path`` in the format of its extension (or ``fmt``), columns in the given order.

    Decimals are written exactly: as decimal text in CSV, Markdown and XLSX (text cells, so a
    spreadsheet shows "6.0" and never a binary approximation); in JSON as numbers when they have at
    most three decimal places (as the CLI's JSON does) and as strings otherwise. The file is
    written beside the target under a temporary name and renamed, so it appears whole or not at all.

    Raises:
        EvidenceDBError: unknown format, missing directory, or the file cannot be written.
    """
    kind = format_of(path, fmt)
    if path.is_dir():
        raise EvidenceDBError(f"cannot write {path}: it is a directory")
    if not path.parent.is_dir():
        raise EvidenceDBError(f"cannot write {path}: no such directory {path.parent}")
    columns = list(columns)
    records = [{c: r.get(c) for c in columns} for r in rows]
    write_whole(path, lambda tmp: _WRITERS[kind](records, columns, tmp))
    return path


def write_table(table: ExportTable, path: Path, fmt: str | None = None) -> Path:
    """Write a built table (see :func:`write_rows`)."""
    return write_rows(table.rows, path, table.columns, fmt)


def _text_frame(records: list[dict[str, Any]], columns: list[str]) -> Any:
    import pandas as pd

    return pd.DataFrame([[cell_text(r[c]) for c in columns] for r in records], columns=columns, dtype=object)


def _write_csv(records: list[dict[str, Any]], columns: list[str], path: Path) -> None:
    """CSV, UTF-8: text that a spreadsheet would run as a formula is guarded (see :mod:`evidencedb.io.cells`)."""
    import csv

    from evidencedb.io.cells import guard

    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([guard(c) for c in columns])
        for r in records:
            writer.writerow([guard(v) if isinstance(v, str) else cell_text(v) for v in (r[c] for c in columns)])


def _write_json(records: list[dict[str, Any]], columns: list[str], path: Path) -> None:
    data = [{c: json_number(r[c]) for c in columns} for r in records]
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _write_markdown(records: list[dict[str, Any]], columns: list[str], path: Path) -> None:
    frame = _text_frame(records, columns)
    frame = frame.apply(lambda col: col.str.replace("|", r"\|", regex=False).str.replace("\n", " ", regex=False))
    path.write_text(frame.to_markdown(index=False, disable_numparse=True) + "\n", encoding="utf-8")


def _write_xlsx(records: list[dict[str, Any]], columns: list[str], path: Path) -> None:
    """XLSX: whole numbers as numbers; everything else, decimals included, as text cells (never formulas)."""
    from openpyxl import Workbook  # type: ignore[import-untyped]
    from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
    from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

    book = Workbook(write_only=True)
    sheet = book.create_sheet("export")
    sheet.freeze_panes = "A2"
    for index, column in enumerate(columns):
        longest = max([len(column), *(len(cell_text(r[column])) for r in records[:1_000])])
        sheet.column_dimensions[get_column_letter(index + 1)].width = min(max(longest + 2, 8), 60)

    def text(value: str) -> Any:
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"  # openpyxl would otherwise write text starting with "=" as a formula
        return cell

    def cell(value: Any) -> Any:
        if isinstance(value, int):  # and bool
            return value
        written = cell_text(value)
        return text(written) if written else None

    sheet.append([text(c) for c in columns])
    for r in records:
        sheet.append([cell(r[c]) for c in columns])
    book.save(path)


_WRITERS: dict[str, Callable[[list[dict[str, Any]], list[str], Path], None]] = {
    "csv": _write_csv, "json": _write_json, "md": _write_markdown, "xlsx": _write_xlsx,
}
