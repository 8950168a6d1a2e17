"""Figure 3 of Ke & Zhou 2025, redrawn from the database.

Why this module exists: the review's Figure 3 summarises its evidence grades; a living database
should redraw it from its own grades whenever they change, so the figure can never disagree with the
numbers. The data step (``figure3_data``) reads the grades into a frozen value with exact decimals;
the drawing step (``build_figure3`` / ``draw_figure3``) only plots that value, so tests can compare
what is drawn with what is graded. matplotlib is used through its ``Figure`` API (no display, no
pyplot state) and imported only inside the drawing functions.

Panels: (A) every graded biomarker ranked by score, coloured by level; (B) how many biomarkers reach
each level; (C) score against rank with the scheme's level cut-offs as horizontal lines; (D) for the
12 strongest biomarkers, how much each study design contributes to the score (stacked bars).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from sqlmodel import Session

from evidencedb import queries, reports
from evidencedb.errors import EvidenceDBError
from evidencedb.formatting import level_bands, score_text, share_text
from evidencedb.io.files import write_whole
from evidencedb.models import Review, ScoringScheme
from evidencedb.scoring import Level

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

TOP_N = 12
FILE_STEM = "figure3"
# Sequential colours, strongest level first (colour-blind safe, YlGnBu); more levels reuse the last.
LEVEL_COLOURS = ("#253494", "#2c7fb8", "#41b6c4", "#a1dab4", "#d9d9d9")
# Okabe–Ito categorical colours for study designs (highest coefficient first).
DESIGN_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999")


@dataclass(frozen=True)
class RankedMarker:
    """One graded biomarker in rank order (1 = strongest; ties broken by name)."""

    rank: int
    biomarker: str
    score: Decimal
    level: str
    grade_class: str
    n_studies: int


@dataclass(frozen=True)
class DesignStack:
    """Panel D: a biomarker's score split by study design (aligned with ``Figure3Data.designs``)."""

    biomarker: str
    score: Decimal
    by_design: tuple[Decimal, ...]


@dataclass(frozen=True)
class Figure3Data:
    """Everything Figure 3 plots, as exact values read from the grades.

    Attributes:
        markers: every graded biomarker, strongest first (panels A and C).
        levels: the scheme's levels, highest cut-off first.
        level_counts: ``(level, number of biomarkers)`` for every level, zeros included (panel B).
        cutoffs: the positive level cut-offs, ascending (the horizontal lines of panel C).
        designs: ``(design, coefficient)`` of the designs contributing to the top markers, highest first.
        top: the ``TOP_N`` strongest biomarkers split by design (panel D).
    """

    review: str
    scheme: str
    markers: tuple[RankedMarker, ...]
    levels: tuple[Level, ...]
    level_counts: tuple[tuple[str, int], ...]
    cutoffs: tuple[Decimal, ...]
    designs: tuple[tuple[str, Decimal], ...]
    top: tuple[DesignStack, ...]


def figure3_data(review: Review, *, session: Session, scheme: ScoringScheme | None = None,
                 top_n: int = TOP_N) -> Figure3Data:
    """Read Figure 3's data from the grades of a review.

    Raises:
        EvidenceDBError: the review has no grades under the scheme.
    """
    scheme = scheme or queries.get_scheme(None, session=session, review=review)
    pure = queries.load_scheme(scheme, session=session)
    grades = queries.list_markers(review, session=session, scheme=scheme)
    if not grades:
        raise EvidenceDBError(f"review {review.slug} has no grades under {pure.label}: nothing to plot")
    markers = tuple(RankedMarker(i, m.biomarker, m.score, m.level, m.grade_class, m.n_studies)
                    for i, m in enumerate(grades, start=1))
    counts = {lv.level: 0 for lv in pure.levels}
    for m in markers:
        counts[m.level] += 1
    top = markers[:top_n]
    sums: dict[str, dict[str, Decimal]] = {m.biomarker: {} for m in top}
    for c in reports.design_contributions(review, session=session, scheme=scheme):
        if c.biomarker in sums:
            sums[c.biomarker][c.design] = c.contribution
    present = {d for per in sums.values() for d in per}
    designs = tuple(sorted(((d, pure.designs[d]) for d in present), key=lambda dc: (-dc[1], dc[0])))
    stacks = tuple(DesignStack(m.biomarker, m.score, tuple(sums[m.biomarker].get(d, Decimal(0)) for d, _ in designs))
                   for m in top)
    cutoffs = tuple(sorted(lv.min_score for lv in pure.levels if lv.min_score > 0))
    return Figure3Data(review.slug, pure.label, markers, pure.levels, tuple(counts.items()), cutoffs, designs, stacks)


# --------------------------------------------------------------------------------------------------
# Drawing


def level_colours(data: Figure3Data) -> dict[str, str]:
    """The colour of each level (the same in panels A, B and C and in the legend)."""
    return {lv.level: LEVEL_COLOURS[min(i, len(LEVEL_COLOURS) - 1)] for i, lv in enumerate(data.levels)}


def build_figure3(data: Figure3Data) -> Figure:
    """Draw Figure 3 (panels A–D in one figure) without a display.

    Each panel's Axes carries its letter as its label (``ax.get_label() == "A"``); panel C's cut-off
    lines carry the gid ``cutoff:<level>``; panel D has one bar container per design, labelled with
    the design's name.
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    colours = level_colours(data)
    fig = Figure(figsize=(15, 12.5), layout="constrained")
    grid = fig.add_gridspec(3, 2, width_ratios=(1, 1.2), height_ratios=(0.85, 1, 1.25))
    ax_a = fig.add_subplot(grid[:, 0], label="A")
    ax_b = fig.add_subplot(grid[0, 1], label="B")
    ax_c = fig.add_subplot(grid[1, 1], label="C")
    ax_d = fig.add_subplot(grid[2, 1], label="D")
    _panel_a(ax_a, data, colours)
    _panel_b(ax_b, data, colours)
    _panel_c(ax_c, data, colours)
    _panel_d(ax_d, data)
    bands = level_bands(data.levels)
    handles = [Patch(facecolor=colours[lv.level], edgecolor="#333333", linewidth=0.6,
                     label=f"{lv.level}  {bands[lv.level]}" + (f"  {lv.meaning}" if lv.meaning else ""))
               for lv in data.levels]
    fig.legend(handles=handles, loc="outside upper center", ncols=len(handles), frameon=False, fontsize=10,
               title=f"Evidence level ({data.scheme})", title_fontsize=10)
    return fig


def draw_figure3(data: Figure3Data, directory: Path) -> list[Path]:
    """Write Figure 3 as ``figure3.png`` (200 dpi) and ``figure3.svg`` into ``directory``.

    The directory is created if missing; each file is written under a temporary name and renamed.

    Raises:
        EvidenceDBError: the directory cannot be created or a file cannot be written.
    """
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EvidenceDBError(f"cannot write figures to {directory}: {exc.strerror or exc}") from None
    fig = build_figure3(data)
    paths = []
    for suffix, options in ((".png", {"dpi": 200, "metadata": {"Software": None}}),
                            (".svg", {"metadata": {"Date": None}})):
        path = directory / f"{FILE_STEM}{suffix}"
        write_whole(path, partial(fig.savefig, format=suffix[1:], facecolor="white", **options))
        paths.append(path)
    return paths


def _style(ax: Axes, letter: str, title: str) -> None:
    ax.set_title(title, fontsize=11.5, loc="left", pad=8)
    ax.text(-0.02, 1.0, letter, transform=ax.transAxes, fontsize=17, fontweight="bold", ha="right", va="bottom")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=9.5)


def _panel_a(ax: Axes, data: Figure3Data, colours: dict[str, str]) -> None:
    names = [m.biomarker for m in data.markers]
    scores = [float(m.score) for m in data.markers]
    y = list(range(len(names)))
    bars = ax.barh(y, scores, color=[colours[m.level] for m in data.markers], edgecolor="#333333", linewidth=0.5,
                   height=0.72)
    ax.bar_label(bars, labels=[f"{score_text(m.score)}  ({m.n_studies})" for m in data.markers], padding=3,
                 fontsize=8.5)
    ax.set_yticks(y, names, fontsize=9)
    ax.invert_yaxis()
    ax.set_ylim(len(names) - 0.4, -0.6)
    ax.set_xlim(0, max(scores) * 1.16)
    ax.set_xlabel("Weighted evidence score (in parentheses: number of supporting studies)", fontsize=10)
    ax.grid(axis="x", color="#e6e6e6", linewidth=0.6)
    ax.set_axisbelow(True)
    _style(ax, "A", "Biomarkers ranked by weighted evidence score")


def _panel_b(ax: Axes, data: Figure3Data, colours: dict[str, str]) -> None:
    from matplotlib.ticker import MaxNLocator

    bands = level_bands(data.levels)
    levels = [lv for lv, _ in data.level_counts]
    counts = [n for _, n in data.level_counts]
    total = sum(counts)
    bars = ax.bar(range(len(levels)), counts, color=[colours[lv] for lv in levels], edgecolor="#333333",
                  linewidth=0.6, width=0.66)
    ax.bar_label(bars, labels=[f"{n}\n({share_text(n, total)})" for n in counts], padding=3, fontsize=9)
    ax.set_xticks(range(len(levels)), [f"{lv}\n{bands[lv]}" for lv in levels], fontsize=9.5)
    ax.set_ylim(0, max(counts) * 1.3 + 0.5)
    ax.set_ylabel("Biomarkers", fontsize=10)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="y", color="#e6e6e6", linewidth=0.6)
    ax.set_axisbelow(True)
    _style(ax, "B", f"Distribution across evidence levels (n = {total} graded biomarkers)")


def _panel_c(ax: Axes, data: Figure3Data, colours: dict[str, str]) -> None:
    from matplotlib.ticker import MaxNLocator

    xs = [m.rank for m in data.markers]
    ys = [float(m.score) for m in data.markers]
    ax.scatter(xs, ys, c=[colours[m.level] for m in data.markers], s=46, edgecolors="#333333", linewidths=0.6,
               zorder=3)
    by_cut = {lv.min_score: lv.level for lv in data.levels}
    top = max(max(ys), float(max(data.cutoffs, default=Decimal(1)))) * 1.1
    upper = top
    for lv in data.levels:  # light bands in the level colours behind the points
        ax.axhspan(float(lv.min_score), upper, color=colours[lv.level], alpha=0.13, linewidth=0, zorder=0)
        upper = float(lv.min_score)
    for cut in data.cutoffs:
        level = by_cut[cut]
        ax.axhline(float(cut), color="#555555", linestyle="--", linewidth=0.9, zorder=1, gid=f"cutoff:{level}")
        ax.text(len(xs) + 0.6, float(cut), f"{level} ≥ {score_text(cut)}", va="bottom", ha="right", fontsize=8.5,
                color="#333333")
    for m in data.markers[:2]:
        ax.annotate(m.biomarker, (m.rank, float(m.score)), xytext=(8, 0), textcoords="offset points",
                    va="center", fontsize=9)
    ax.set_xlim(0, len(xs) + 1)
    ax.set_ylim(0, top)
    ax.set_xlabel("Biomarker index (rank by score)", fontsize=10)
    ax.set_ylabel("Weighted evidence score", fontsize=10)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    _style(ax, "C", "Evidence score against biomarker index, with level cut-offs")


def _panel_d(ax: Axes, data: Figure3Data) -> None:
    from matplotlib.patches import Patch

    names = [s.biomarker for s in data.top]
    y = list(range(len(names)))
    left = [Decimal(0)] * len(names)
    handles = []
    for i, (design, coefficient) in enumerate(data.designs):
        widths = [s.by_design[i] for s in data.top]
        colour = DESIGN_COLOURS[i % len(DESIGN_COLOURS)]
        ax.barh(y, [float(w) for w in widths], left=[float(v) for v in left], color=colour, edgecolor="white",
                linewidth=0.8, height=0.7, label=design)
        left = [a + b for a, b in zip(left, widths, strict=True)]
        handles.append(Patch(facecolor=colour, label=f"{design} (×{score_text(coefficient)})"))
    for yi, s in zip(y, data.top, strict=True):
        ax.text(float(s.score), yi, f" {score_text(s.score)}", va="center", fontsize=8.5)
    ax.set_yticks(y, names, fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, float(max((s.score for s in data.top), default=Decimal(1))) * 1.1)
    ax.set_xlabel("Contribution to the evidence score", fontsize=10)
    ax.grid(axis="x", color="#e6e6e6", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.legend(handles=handles, title="Study design (coefficient)", fontsize=8.5, title_fontsize=9, loc="lower right",
              frameon=False)
    _style(ax, "D", f"Study-design contributions, {len(names)} strongest biomarkers")
