"""PRISMA 2020 flow counts of a review, and the flow diagram.

Why this module exists: a systematic review reports how records moved from identification to
inclusion (PRISMA 2020, Page et al. BMJ 2021;372:n71). Those numbers must come from what is stored,
never be typed in twice: records identified and duplicates removed come from the import batches,
the screening numbers from the screening decisions, all by SQL aggregates. A count that the stored
records cannot give is ``None`` ("not reported"), never a guessed 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, col

from evidencedb.errors import ValidationError
from evidencedb.io.files import write_whole
from evidencedb.models import ImportBatch, Review, Screening

NO_REASON = "no reason recorded"


@dataclass(frozen=True)
class PrismaCounts:
    """The numbers of a PRISMA 2020 flow diagram (databases and registers).

    Full-text counts are known when title/abstract screening is recorded or any full-text exclusion
    is; a review that records only its included studies (as a published review's seed does) reports
    them as ``None`` rather than claiming nothing was excluded.
    """

    review: str
    identified: dict[str, int] = field(default_factory=dict)
    duplicates_removed: int | None = None
    screened: int | None = None
    excluded_screening: int | None = None
    full_text_assessed: int | None = None
    excluded_full_text: dict[str, int] | None = None
    included: int | None = None

    @property
    def identified_total(self) -> int | None:
        """All records identified, over every source (``None`` if no source is recorded)."""
        return sum(self.identified.values()) if self.identified else None


def prisma_counts(review: Review, *, session: Session) -> PrismaCounts:
    """Count a review's PRISMA 2020 flow from its import batches and screening decisions."""
    assert review.id is not None
    identified = {
        source: int(n) for source, n in session.execute(
            sa.select(col(ImportBatch.source), sa.func.sum(col(ImportBatch.records_identified)))
            .where(col(ImportBatch.review_id) == review.id)
            .group_by(col(ImportBatch.source)).order_by(col(ImportBatch.source))
        ).all()
    }
    duplicates = session.execute(
        sa.select(sa.func.sum(col(ImportBatch.duplicates_removed))).where(col(ImportBatch.review_id) == review.id)
    ).scalar_one()
    decided = {
        (stage, decision): int(n) for stage, decision, n in session.execute(
            sa.select(col(Screening.stage), col(Screening.decision),
                      sa.func.count(sa.distinct(col(Screening.paper_id))))
            .where(col(Screening.review_id) == review.id)
            .group_by(col(Screening.stage), col(Screening.decision))
        ).all()
    }
    reasons = {
        (reason or "").strip() or NO_REASON: int(n) for reason, n in session.execute(
            sa.select(col(Screening.reason), sa.func.count())
            .where(col(Screening.review_id) == review.id, col(Screening.stage) == "full_text",
                   col(Screening.decision) == "exclude")
            .group_by(col(Screening.reason)).order_by(sa.func.count().desc(), col(Screening.reason))
        ).all()
    }
    screened_in = decided.get(("title_abstract", "include"), 0)
    screened_out = decided.get(("title_abstract", "exclude"), 0)
    full_in = decided.get(("full_text", "include"), 0)
    full_out = decided.get(("full_text", "exclude"), 0)
    screening_recorded = bool(screened_in or screened_out)
    full_text_known = screening_recorded or full_out > 0
    return PrismaCounts(
        review=review.slug,
        identified=identified,
        duplicates_removed=int(duplicates) if duplicates is not None else None,
        screened=screened_in + screened_out if screening_recorded else None,
        excluded_screening=screened_out if screening_recorded else None,
        full_text_assessed=full_in + full_out if full_text_known else None,
        excluded_full_text=reasons if full_text_known else None,
        included=full_in if (full_in or full_text_known) else None,
    )


def count_rows(counts: PrismaCounts) -> list[dict[str, object]]:
    """The counts as rows (step, detail, n) for tables, CSV and JSON listings."""
    rows: list[dict[str, object]] = [{"step": "identified", "detail": s, "n": n} for s, n in counts.identified.items()]
    rows.append({"step": "identified", "detail": "total", "n": counts.identified_total})
    rows.append({"step": "duplicates removed", "detail": "", "n": counts.duplicates_removed})
    rows.append({"step": "screened", "detail": "title/abstract", "n": counts.screened})
    rows.append({"step": "excluded", "detail": "title/abstract", "n": counts.excluded_screening})
    rows.append({"step": "full text assessed", "detail": "", "n": counts.full_text_assessed})
    if counts.excluded_full_text is None:
        rows.append({"step": "excluded", "detail": "full text", "n": None})
    else:
        rows += [{"step": "excluded", "detail": f"full text: {reason}", "n": n}
                 for reason, n in counts.excluded_full_text.items()]
    rows.append({"step": "included", "detail": "studies", "n": counts.included})
    return rows


# --------------------------------------------------------------------------------------------------
# The diagram


@dataclass(frozen=True)
class DrawnBox:
    """One box of a drawn diagram: its role, its text and the number it shows (``None``: not reported)."""

    role: str
    text: str
    n: int | None


def _n(value: int | None) -> str:
    return "not reported" if value is None else f"{value:,}"


def diagram_boxes(counts: PrismaCounts) -> tuple[DrawnBox, ...]:
    """The texts of a PRISMA 2020 diagram for these counts, in drawing order."""
    sources = "".join(f"\n  {s} (n = {_n(n)})" for s, n in counts.identified.items())
    if counts.excluded_full_text is None:
        reasons = "\n  reasons not reported"
        excluded_full = None
    else:
        reasons = "".join(f"\n  {r} (n = {_n(n)})" for r, n in counts.excluded_full_text.items())
        excluded_full = sum(counts.excluded_full_text.values())
    return (
        DrawnBox("identified", f"Records identified from databases\n(n = {_n(counts.identified_total)})"
                 + (f":{sources}" if sources else ""),
                 counts.identified_total),
        DrawnBox("duplicates", f"Records removed before screening:\n  duplicate records (n = "
                 f"{_n(counts.duplicates_removed)})", counts.duplicates_removed),
        DrawnBox("screened", f"Records screened\n(n = {_n(counts.screened)})", counts.screened),
        DrawnBox("excluded_screening", f"Records excluded\n(n = {_n(counts.excluded_screening)})",
                 counts.excluded_screening),
        DrawnBox("full_text", f"Reports assessed for eligibility\n(n = {_n(counts.full_text_assessed)})",
                 counts.full_text_assessed),
        DrawnBox("excluded_full_text", f"Reports excluded (n = {_n(excluded_full)}):{reasons}", excluded_full),
        DrawnBox("included", f"Studies included in review\n(n = {_n(counts.included)})", counts.included),
    )


def draw_prisma(counts: PrismaCounts, path: Path, *also: Path) -> tuple[DrawnBox, ...]:
    """Write a PRISMA 2020-style flow diagram to ``path`` and to ``also`` (each ``.png`` or ``.svg``).

    The figure is drawn once and saved to every path; each file appears whole or not at all.

    Uses matplotlib's object API (no pyplot state, no display). SVG keeps its text as text, so the
    numbers can be read back from the file.

    Returns:
        The boxes drawn, with their texts and numbers.

    Raises:
        ValidationError: the extension is neither ``.png`` nor ``.svg``.
    """
    paths = [Path(p) for p in (path, *also)]
    for target in paths:
        if target.suffix.lower() not in (".png", ".svg"):
            raise ValidationError(f"{target.name}: a PRISMA diagram is written as .png or .svg")
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch

    boxes = diagram_boxes(counts)
    # (x, y) centre of each box, in a 10 × 12 coordinate space; the left column is the flow.
    spots = {"identified": (3.6, 10.4), "duplicates": (8.0, 10.4), "screened": (3.6, 7.6),
             "excluded_screening": (8.0, 7.6), "full_text": (3.6, 4.8), "excluded_full_text": (8.0, 4.8),
             "included": (3.6, 1.6)}
    widths = {"identified": 4.2, "duplicates": 3.4, "excluded_full_text": 3.4, "excluded_screening": 3.4}
    phases = (("Identification", 9.2, 11.8), ("Screening", 3.4, 9.0), ("Included", 0.4, 3.0))
    with matplotlib.rc_context({"svg.fonttype": "none", "font.family": "DejaVu Sans"}):
        fig = Figure(figsize=(10, 12))
        FigureCanvasAgg(fig)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, 10)
        ax.set_ylim(0, 12)
        ax.axis("off")
        fig.text(0.5, 0.985, f"PRISMA 2020 flow diagram — {counts.review}", ha="center", va="top",
                 fontsize=13, weight="bold")
        for label, low, high in phases:
            ax.add_patch(FancyBboxPatch((0.15, low), 0.55, high - low, boxstyle="round,pad=0.02",
                                        facecolor="#cfe2f3", edgecolor="#3d6a99"))
            ax.text(0.425, (low + high) / 2, label, rotation=90, ha="center", va="center", fontsize=11,
                    weight="bold")
        for box in boxes:
            x, y = spots[box.role]
            width = widths.get(box.role, 3.6)
            lines = box.text.count("\n") + 1
            height = max(1.3, 0.3 * lines + 0.4)
            ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0.05",
                                        facecolor="white", edgecolor="black", linewidth=1.2))
            ax.text(x, y, box.text, ha="center", va="center", fontsize=9.5, wrap=True)
        arrow = {"arrowstyle": "-|>", "color": "black", "linewidth": 1.2}
        for top, bottom in (("identified", "screened"), ("screened", "full_text"), ("full_text", "included")):
            (x, y1), (_, y2) = spots[top], spots[bottom]
            ax.annotate("", xy=(x, y2 + 0.7), xytext=(x, y1 - 0.75), arrowprops=arrow)
        for left, right in (("identified", "duplicates"), ("screened", "excluded_screening"),
                            ("full_text", "excluded_full_text")):
            (x1, y), (x2, _) = spots[left], spots[right]
            ax.annotate("", xy=(x2 - widths.get(right, 3.6) / 2 - 0.05, y),
                        xytext=(x1 + widths.get(left, 3.6) / 2 + 0.05, y), arrowprops=arrow)
        for target in paths:
            write_whole(target, partial(fig.savefig, format=target.suffix.lower()[1:]))
    return boxes
