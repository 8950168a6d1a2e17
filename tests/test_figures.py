"""Figure 3: the data step equals the grades, and what is drawn (read back from the Axes) equals the data."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cli_run import run
from matplotlib.colors import to_hex
from sqlalchemy.engine import Engine

from evidencedb import figures, queries
from evidencedb.db import session_scope
from evidencedb.errors import EvidenceDBError

LEVEL_COUNTS = (("A+", 2), ("A", 0), ("B", 1), ("C", 13), ("D", 11))
CUTOFFS = (Decimal("1"), Decimal("2"), Decimal("4"), Decimal("6"))


def dec(value: float) -> Decimal:
    """A plotted float back as the decimal it was drawn from (shortest repr round-trips)."""
    return Decimal(repr(float(value)))


@pytest.fixture
def graded(seeded_engine: Engine) -> Iterator[tuple[Any, Any]]:
    with session_scope(seeded_engine) as session:
        yield queries.get_review("ke-zhou-2025", session=session), session


@pytest.fixture
def data(graded: tuple[Any, Any]) -> figures.Figure3Data:
    review, session = graded
    return figures.figure3_data(review, session=session)


def dec3(value: float) -> Decimal:
    """A drawn float to the scheme's precision (thousandths): stacked bars store a width as (left + width) - left."""
    return Decimal(repr(float(value))).quantize(Decimal("0.001"))


def panel(fig: Any, letter: str) -> Any:
    return next(ax for ax in fig.axes if ax.get_label() == letter)


def test_data_step_equals_the_grades(graded: tuple[Any, Any], data: figures.Figure3Data) -> None:
    review, session = graded
    grades = queries.list_markers(review, session=session)
    assert [(m.biomarker, m.score, m.level) for m in data.markers] == [(g.biomarker, g.score, g.level) for g in grades]
    assert (data.markers[0].biomarker, data.markers[0].score, data.markers[0].level) == ("tumour burden",
                                                                                         Decimal("11.3"), "A+")
    assert (data.markers[1].biomarker, data.markers[1].score, data.markers[1].level) == ("MRD", Decimal("6.0"), "A+")
    assert data.level_counts == LEVEL_COUNTS
    assert data.cutoffs == CUTOFFS
    assert len(data.top) == figures.TOP_N
    coefficients = [c for _, c in data.designs]
    assert coefficients == sorted(coefficients, reverse=True)
    for stack in data.top:
        assert sum(stack.by_design, Decimal(0)) == stack.score, stack.biomarker
        explained: dict[str, Decimal] = {}
        for c in queries.explain_marker(review, stack.biomarker, session=session).result.contributions:
            explained[c.design] = explained.get(c.design, Decimal(0)) + c.coefficient
        drawn = {d: v for (d, _), v in zip(data.designs, stack.by_design, strict=True) if v}
        assert drawn == explained, stack.biomarker


def test_panel_a_bars_are_the_ranked_scores(data: figures.Figure3Data) -> None:
    fig = figures.build_figure3(data)
    ax = panel(fig, "A")
    bars = ax.containers[0]
    assert [dec(p.get_width()) for p in bars] == [m.score for m in data.markers]
    assert [t.get_text() for t in ax.get_yticklabels()] == [m.biomarker for m in data.markers]
    colours = figures.level_colours(data)
    assert [to_hex(p.get_facecolor()) for p in bars] == [colours[m.level].lower() for m in data.markers]


def test_panel_b_bars_are_the_level_counts(data: figures.Figure3Data) -> None:
    ax = panel(figures.build_figure3(data), "B")
    assert [int(p.get_height()) for p in ax.containers[0]] == [n for _, n in LEVEL_COUNTS]
    assert [t.get_text().split("\n")[0] for t in ax.get_xticklabels()] == [lv for lv, _ in LEVEL_COUNTS]


def test_panel_c_points_and_cutoff_lines(data: figures.Figure3Data) -> None:
    ax = panel(figures.build_figure3(data), "C")
    offsets = ax.collections[0].get_offsets()
    assert [(int(x), dec(y)) for x, y in offsets] == [(m.rank, m.score) for m in data.markers]
    lines = {line.get_gid(): dec(line.get_ydata()[0]) for line in ax.lines
             if (line.get_gid() or "").startswith("cutoff:")}
    assert lines == {"cutoff:C": Decimal(1), "cutoff:B": Decimal(2), "cutoff:A": Decimal(4), "cutoff:A+": Decimal(6)}


def test_panel_d_stacks_are_the_design_contributions(graded: tuple[Any, Any], data: figures.Figure3Data) -> None:
    review, session = graded
    ax = panel(figures.build_figure3(data), "D")
    containers = {c.get_label(): c for c in ax.containers}
    assert list(containers) == [d for d, _ in data.designs]
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert names == [m.biomarker for m in data.markers[:figures.TOP_N]]
    for row, name in enumerate(names):
        segments = {design: dec3(c.patches[row].get_width()) for design, c in containers.items()}
        total = sum(segments.values(), Decimal(0))
        explained: dict[str, Decimal] = {}
        result = queries.explain_marker(review, name, session=session).result
        for c in result.contributions:
            explained[c.design] = explained.get(c.design, Decimal(0)) + c.coefficient
        assert {d: v for d, v in segments.items() if v} == explained, name
        assert total == result.score, name
        lefts = [dec(c.patches[row].get_x()) for c in containers.values()]
        widths = list(segments.values())
        assert lefts == [sum(widths[:i], Decimal(0)) for i in range(len(widths))], "segments are stacked"


def test_legend_colours_match_the_bars(data: figures.Figure3Data) -> None:
    fig = figures.build_figure3(data)
    legend = fig.legends[0]
    labels = [t.get_text().split()[0] for t in legend.get_texts()]
    assert labels == [lv.level for lv in data.levels]
    colours = figures.level_colours(data)
    assert [to_hex(h.get_facecolor()) for h in legend.legend_handles] == [colours[lv].lower() for lv in labels]


def test_files_are_written_and_valid(data: figures.Figure3Data, tmp_path: Path) -> None:
    paths = figures.draw_figure3(data, tmp_path / "figs")
    assert [p.name for p in paths] == ["figure3.png", "figure3.svg"]
    png, svg = paths
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg") and svg.stat().st_size > 10_000
    assert "tumour burden" in svg.read_text(encoding="utf-8")
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == ["figure3.png", "figure3.svg"]


def test_a_review_without_grades_has_nothing_to_plot(engine: Engine) -> None:
    from evidencedb import curation

    with session_scope(engine, write=True) as session:
        scheme = queries.get_scheme("ke-zhou-2025", session=session)
        review = curation.create_review(session=session, slug="empty", title="Empty", scheme=scheme)
        with pytest.raises(EvidenceDBError, match="no grades"):
            figures.figure3_data(review, session=session)


def test_cli_export_figures(seeded_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = seeded_db
    out_dir = tmp_path / "out"
    code, out, err = run(capsys, "--db", db, "export", "figures", str(out_dir), "--scheme", "ke-zhou-2025")
    assert code == 0, err
    names = ["figure3.png", "figure3.svg", "prisma.png", "prisma.svg"]
    assert out.splitlines() == [str(out_dir / name) for name in names]
    assert all((out_dir / name).stat().st_size > 5_000 for name in names)
    assert "(n = 626)" in (out_dir / "prisma.svg").read_text(encoding="utf-8")
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    code, _, err = run(capsys, "--db", db, "export", "figures", str(blocker))
    assert code == 1 and err.startswith("error: ") and err.count("\n") == 1 and "a-file" in err


def test_matplotlib_is_imported_only_when_drawing() -> None:
    code = ("import sys, evidencedb.cli.main, evidencedb.figures, evidencedb.io.export; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'matplotlib', 'pandas', 'openpyxl', 'tabulate'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"
