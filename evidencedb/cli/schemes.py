"""Commands on scoring schemes: list, show and add versions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    pass
from evidencedb.cli.common import Format, FormatOpt, emit, open_session, scheme_app


@scheme_app.command("list")
def scheme_list(fmt: FormatOpt = Format.table) -> None:
    """Stored scoring schemes."""
    from evidencedb import queries

    with open_session() as session:
        rows = [{"scheme": s.name, "version": s.version, "hash": s.content_hash[:12], "description": s.description}
                for s in queries.list_schemes(session=session)]
    emit(rows, fmt, title="Scoring schemes")


@scheme_app.command("show")
def scheme_show(spec: Annotated[str | None, typer.Argument(help="NAME or NAME@VERSION.")] = None,
                fmt: FormatOpt = Format.table) -> None:
    """A scheme's coefficients, level cut-offs and content hash."""
    from evidencedb import queries

    with open_session() as session:
        row = queries.get_scheme(spec, session=session)
        scheme = queries.load_scheme(row, session=session)
    if fmt is Format.json:
        typer.echo(json.dumps({**scheme.canonical(), "content_hash": scheme.content_hash,
                               "description": scheme.description, "source": scheme.source}, indent=2))
        return
    typer.echo(f"{scheme.label}  sha256 {scheme.content_hash}")
    emit([{"design": d, "coefficient": c} for d, c in sorted(scheme.designs.items(), key=lambda kv: -kv[1])], fmt,
         title="Study-design coefficients")
    emit([{"level": lv.level, "min_score": lv.min_score, "meaning": lv.meaning} for lv in scheme.levels], fmt,
         title="Levels (half-open: min_score ≤ score < next)")


@scheme_app.command("add")
def scheme_add(path: Annotated[Path, typer.Argument(help="Scheme JSON file (see evidencedb/data).")]) -> None:
    """Store a new scheme version (an existing name@version is never rewritten)."""
    from evidencedb import curation
    from evidencedb.scoring import Scheme

    scheme = Scheme.from_file(path)
    with open_session(write=True) as session:
        row = curation.ensure_scheme(scheme, session=session)
    typer.echo(f"scheme {row.label} stored (sha256 {row.content_hash})")
