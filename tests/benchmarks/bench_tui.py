"""TUI benchmark on a synthetic SQLite database (run on demand, not part of the test suite).

Builds N findings over N/10 studies and M biomarkers (default 100,000 and 2,000), then measures:

* first paint of the leaderboard as a whole process: the time from starting a fresh interpreter (which
  imports the CLI and the app, opens the database and runs the app headless) to the moment the first
  page of the leaderboard is in the table and rendered, against the time from starting
  ``python -c "import textual.app, sqlmodel"`` to the end of those imports (medians of alternating
  runs, so both see the same load; the time to process exit is printed too);
* filter latency: in one running app, the time from a keystroke in the filter box to the leaderboard
  table holding the new page (the query runs in SQL with LIMIT; the table never holds more than a page).

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
import evidencedb.cli  # the command's own imports
from tui.app import create_app

async def first_paint(pilot):
    table = pilot.app.screen.query_one("#marker-table")
    while table.row_count == 0:
        await pilot.pause(0.002)
    # Stamp once the next frame (the one holding the rows) has been drawn.
    pilot.app.call_after_refresh(lambda: print(time.time(), flush=True))
    await pilot.pause()
    pilot.app.exit(table.row_count)

app = create_app(sys.argv[1])
rows = app.run(headless=True, size=(120, 40), auto_pilot=first_paint)
sys.exit(0 if rows else 3)
"""
BASELINE = "import time, textual.app, sqlmodel; print(time.time(), flush=True)"


def _ready(args: list[str]) -> tuple[float, float]:
    start = time.time()
    done = subprocess.run(args, check=True, capture_output=True, text=True)
    return float(done.stdout.split()[-1]) - start, time.time() - start


def process_seconds(first: list[str], second: list[str], repeat: int) -> list[tuple[float, float]]:
    """Median seconds from starting each process to the moment it prints, and to its exit.

    The two commands alternate, so both see the same machine load.
    """
    runs: list[list[tuple[float, float]]] = [[], []]
    for _ in range(repeat):
        for i, args in enumerate((first, second)):
            runs[i].append(_ready(args))
    return [(statistics.median(r for r, _ in rs), statistics.median(w for _, w in rs)) for rs in runs]


async def filter_latencies(db: str, terms: list[str]) -> list[float]:
    """Seconds from each filter keystroke to the drawn frame that shows the page for it.

    The key is posted as the terminal driver posts it (``App.simulate_key``); the clock stops in a
    callback that runs once the frame after the table's update has been rendered.
    """
    from textual.widgets import Input

    from tui.app import create_app
    from tui.screens.markers import MarkersScreen

    app = create_app(db)
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
    (baseline, baseline_exit), (paint, paint_exit) = process_seconds(
        [sys.executable, "-c", BASELINE], [sys.executable, "-c", FIRST_PAINT, db], args.repeat)
    terms = ["marker-01", "marker-019", "00", "7", "marker-0000", "zz", "marker-1999"]
    latencies = asyncio.run(filter_latencies(db, terms))
    ms = sorted(x * 1000 for x in latencies)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    print(f"{'measure':48} {'result':>12}")
    print(f"{'import textual.app, sqlmodel (process)':48} {baseline * 1000:10.0f} ms")
    print(f"{'first paint of the leaderboard (process)':48} {paint * 1000:10.0f} ms")
    print(f"{'ratio (target ≤ 1.5)':48} {paint / baseline:12.2f}")
    print(f"{'(to process exit: baseline / app)':48} {baseline_exit * 1000:7.0f} / {paint_exit * 1000:.0f} ms")
    print(f"{'filter keystroke → table, median':48} {statistics.median(ms):10.1f} ms")
    print(f"{'filter keystroke → table, p95 (target ≤ 100)':48} {p95:10.1f} ms")
    print(f"{'filter keystroke → table, max':48} {ms[-1]:10.1f} ms   ({len(ms)} keystrokes)")
    print(json.dumps({"findings": args.findings, "markers": args.markers, "baseline_ms": round(baseline * 1000),
                      "first_paint_ms": round(paint * 1000), "first_paint_ratio": round(paint / baseline, 2),
                      "filter_median_ms": round(statistics.median(ms), 1), "filter_p95_ms": round(p95, 1),
                      "filter_max_ms": round(ms[-1], 1)}))


if __name__ == "__main__":
    main()
