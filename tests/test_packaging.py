"""Packaging and import hygiene: the wheel carries migrations and seeds; the core never imports the UI."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_contains_migrations_and_seeds(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0 and "hatchling" in proc.stderr:
        proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path),
                               str(ROOT)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    wheel = next(tmp_path.glob("evidencedb-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "evidencedb/_bundled/migrations/env.py" in names
    assert any(n.startswith("evidencedb/_bundled/migrations/versions/0001") for n in names)
    assert "evidencedb/_bundled/seeds/ke-zhou-2025/review.yaml" in names
    assert sum(n.startswith("evidencedb/_bundled/seeds/ke-zhou-2025/studies/") for n in names) == 33
    assert "evidencedb/data/ke-zhou-2025.json" in names
    assert {"tui/app.py", "tui/app.tcss", "tui/screens/curate.py", "tui/modals/finding.py"} <= names


LAZY = """
import sys
from evidencedb.cli.main import main
try:
    main(['--db', sys.argv[1], 'markers', '--format', 'json'])
except SystemExit:
    pass
heavy = sorted({m.split('.')[0] for m in sys.modules} & {'alembic', 'pandas', 'yaml', 'textual', 'rispy',
                                                       'bibtexparser', 'Bio', 'matplotlib',
                                                       'openpyxl', 'pint', 'tabulate'})
print('HEAVY:' + ','.join(heavy))
"""


def test_layering_contracts_hold() -> None:
    """import-linter checks the contracts in pyproject.toml: the core never imports the TUI or Textual,
    each layer imports only those below it, command groups and citation readers are independent."""
    root = Path(__file__).resolve().parents[1]
    lint = "from importlinter.cli import lint_imports_command; lint_imports_command()"
    out = subprocess.run([sys.executable, "-c", lint, "--no-cache"], capture_output=True, text=True,
                         timeout=120, cwd=root)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout and "6 kept" in out.stdout


def test_markers_imports_no_heavy_library(tmp_path: Path) -> None:
    from evidencedb.cli.main import main

    db = str(tmp_path / "x.db")
    with pytest.raises(SystemExit) as info:
        main(["--db", db, "init"])
    assert info.value.code in (0, None)
    out = subprocess.run([sys.executable, "-c", LAZY, db], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip().splitlines()[-1] == "HEAVY:"
