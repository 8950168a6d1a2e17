"""TUI benchmark on a synthetic SQLite database (run on demand, not part of the test suite).

Builds N findings over N/10 studies and M biomarkers (default 100,000 and 2,000), then measures:

* first paint of the leaderboard as a whole process: the time from starting a fresh interpreter that runs
  the command ``evidencedb --db URL tui`` (its app headless, without a terminal) to the end of the first
  frame in which the leaderboard table drew rows of grades (the end of the compositor refresh that
  rendered them and handed them to the driver), against the time from starting
  ``python -c "import textual.app, sqlmodel"`` to the end of those imports (medians of alternating
  runs, so both see the same load). The time until the review and level pickers and the footer, which
  are mounted one frame after the data, have been drawn too is printed beside it;
* filter latency: in one running app, the time from a keystroke in the filter box to the end of the
  frame drawn after the leaderboard table took the new page (the query runs in SQL with LIMIT; the
  table never holds more than a page).

Prints a table, then one JSON line with ``first_paint_ratio`` and ``filter_p95_ms``.

Usage: python tests/benchmarks/bench_tui.py [--findings 100000] [--markers 2000] [--db PATH] [--repeat 7]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_grading import build

FIRST_PAINT = """
import sys, time
from evidencedb.cli.main import main  # the command itself: `evidencedb --db URL tui`
from textual.app import App
from textual.screen import Screen
from tui.widgets.page_table import PageTable

drawn, stamps = [], []
render_line, compositor_refresh, app_run = PageTable.render_line, Screen._compositor_refresh, App.run

def counting_render_line(self, y):
    if 1 <= y <= self.row_count:  # a row of grades, not the header or a blank line
        drawn.append(y)
    return render_line(self, y)

def stamping_refresh(self):  # a frame: lay out, render the changed lines, hand them to the driver
    compositor_refresh(self)
    if drawn and not stamps:
        stamps.append(time.time())

async def settle(pilot):
    while not stamps or not pilot.app.screen.query("#level-select"):
        await pilot.pause(0.002)
    await pilot.pause()
    pilot.app.call_after_refresh(lambda: stamps.append(time.time()))
    while len(stamps) < 2:
        await pilot.pause(0.002)
    pilot.app.exit()

def headless_run(self, **_kwargs):  # the command's app, without a terminal, driven by `settle`
    return app_run(self, headless=True, size=(120, 40), auto_pilot=settle)

PageTable.render_line, Screen._compositor_refresh, App.run = counting_render_line, stamping_refresh, headless_run
try:
    main(["--db", sys.argv[1], "tui"])
except SystemExit as exit:
    if exit.code:
        raise
print(*stamps, flush=True)
"""
BASELINE = "import time, textual.app, sqlmodel; print(time.time(), flush=True)"


def _stamps(args: list[str]) -> list[float]:
    """Seconds from starting a process to each time stamp it prints."""
    start = time.time()
    done = subprocess.run(args, check=True, capture_output=True, text=True)
    return [float(x) - start for x in done.stdout.split()]


def process_seconds(first: list[str], second: list[str], repeat: int) -> list[list[float]]:
    """Median seconds from starting each process to each of its time stamps.

    The two commands alternate, so both see the same machine load.
    """
    runs: list[list[list[float]]] = [[], []]
    for _ in range(repeat):
        for i, args in enumerate((first, second)):
            runs[i].append(_stamps(args))
    return [[statistics.median(column) for column in zip(*rs, strict=True)] for rs in runs]


async def filter_latencies(db: str, terms: list[str]) -> list[float]:
    """Seconds from each filter keystroke to the drawn frame that shows the page for it.

    The key is posted as the terminal driver posts it (``App.simulate_key``); the clock stops in a
    callback that runs once the frame after the table's update has been rendered.
    """
    from textual.widgets import Input

    from tui.app import create_app
    from tui.screens.markers import MarkersScreen

    app = create_app(db, owns_process=True)  # as `evidencedb tui` runs it
    latencies: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MarkersScreen)
        search = screen.query_one("#marker-search", Input)
        for term in terms:
            search.value = ""
            await pilot.pause()
            search.focus()
            await pilot.pause()
            for ch in term:
                shown = screen.page
                drawn = asyncio.Event()
                start = time.perf_counter()
                app.simulate_key(ch)
                while screen.page is shown:
                    await asyncio.sleep(0.0002)
                app.call_after_refresh(drawn.set)
                await drawn.wait()
                latencies.append(time.perf_counter() - start)
                await pilot.pause()
        assert search.value == terms[-1]
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--findings", type=int, default=100_000)
    parser.add_argument("--markers", type=int, default=2_000)
    parser.add_argument("--db", type=Path, help="database file to build (default: a temporary file)")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    path = args.db or Path(tempfile.mkdtemp()) / "bench-tui.db"
    if not path.exists():
        t = time.perf_counter()
        build(path, args.findings, n_markers=args.markers)
        print(f"built {path} ({args.findings:,} findings, {args.markers:,} biomarkers) in "
              f"{time.perf_counter() - t:.1f} s")
    db = f"sqlite:///{path}"
    [baseline], [paint, settled] = process_seconds(
        [sys.executable, "-c", BASELINE], [sys.executable, "-c", FIRST_PAINT, db], args.repeat)
    terms = ["marker-01", "marker-019", "00", "7", "marker-0000", "zz", "marker-1999"]
    latencies = asyncio.run(filter_latencies(db, terms))
    ms = sorted(x * 1000 for x in latencies)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    print(f"{'measure':48} {'result':>12}")
    print(f"{'import textual.app, sqlmodel (process)':48} {baseline * 1000:10.0f} ms")
    print(f"{'first paint of the leaderboard (process)':48} {paint * 1000:10.0f} ms")
    print(f"{'ratio (target ≤ 1.5)':48} {paint / baseline:12.2f}")
    print(f"{'pickers and footer drawn too (process)':48} {settled * 1000:10.0f} ms")
    print(f"{'filter keystroke → table, median':48} {statistics.median(ms):10.1f} ms")
    print(f"{'filter keystroke → table, p95 (target ≤ 100)':48} {p95:10.1f} ms")
    print(f"{'filter keystroke → table, max':48} {ms[-1]:10.1f} ms   ({len(ms)} keystrokes)")
    print(json.dumps({"findings": args.findings, "markers": args.markers, "baseline_ms": round(baseline * 1000),
                      "first_paint_ms": round(paint * 1000), "first_paint_ratio": round(paint / baseline, 2),
                      "settled_ms": round(settled * 1000),
                      "filter_median_ms": round(statistics.median(ms), 1), "filter_p95_ms": round(p95, 1),
                      "filter_max_ms": round(ms[-1], 1)}))


if __name__ == "__main__":
    main()
