"""Commands on scoring schemes: list, show, add and derive versions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

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
def scheme_show(spec: Annotated[str | None, typer.Argument(metavar="NAME[@VERSION]",
                                                           help="The scheme (default: the bundled one).")] = None,
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
    typer.echo(scheme.label)
    typer.echo(f"sha256 {scheme.content_hash}")
    emit([{"design": d, "coefficient": c} for d, c in sorted(scheme.designs.items(), key=lambda kv: -kv[1])], fmt,
         title="Study-design coefficients")
    emit([{"level": lv.level, "min_score": lv.min_score, "meaning": lv.meaning} for lv in scheme.levels], fmt,
         title="Levels (half-open: min_score ≤ score < next)")


@scheme_app.command("add")
def scheme_add(path: Annotated[Path, typer.Argument(metavar="FILE",
                                                    help="Scheme JSON file, in the form that "
                                                         "`scheme show --format json` prints.")]) -> None:
    """Store a new scheme version from a JSON file.

    A stored NAME@VERSION is never rewritten: a changed scheme needs a new version.
    """
    from evidencedb import curation
    from evidencedb.scoring import Scheme

    scheme = Scheme.from_file(path)
    with open_session(write=True) as session:
        row = curation.ensure_scheme(scheme, session=session)
    typer.echo(f"scheme {row.label} stored (sha256 {row.content_hash})")


@scheme_app.command("new")
def scheme_new(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The new scheme's name (the base's: a new version).")],
    base: Annotated[str, typer.Option("--from", metavar="NAME[@VERSION]", help="The scheme to start from.")]
    = "ke-zhou-2025",
    design: Annotated[list[str] | None, typer.Option(
        "--design", metavar="'DESIGN=COEFFICIENT'",
        help="A design to add or re-weight, e.g. 'randomized controlled trial=1.0' (repeat for each).")] = None,
    version: Annotated[str | None, typer.Option(metavar="VERSION",
                                                help="Its version (default: the next whole number).")] = None,
    description: Annotated[str, typer.Option(metavar="TEXT",
                                             help="Why the coefficients were chosen (stored with it).")] = "",
) -> None:
    """Store an extended scheme version: another's designs plus new ones."""
    from decimal import Decimal, InvalidOperation

    from evidencedb import curation, queries
    from evidencedb.errors import ValidationError

    added: dict[str, Decimal] = {}
    for item in design or []:
        label, sep, value = item.rpartition("=")
        try:
            added[label.strip()] = Decimal(value.strip())
        except InvalidOperation:
            sep = ""
        if not sep or not label.strip():
            raise ValidationError(f"--design {item!r}: write DESIGN=COEFFICIENT, e.g. 'randomized controlled "
                                  "trial=1.0'")
    if not added:
        raise ValidationError("name at least one --design 'DESIGN=COEFFICIENT' to add or re-weight")
    with open_session(write=True) as session:
        start = queries.load_scheme(queries.get_scheme(base, session=session), session=session)
        if version is None:
            taken = [s.version for s in queries.list_schemes(session=session) if s.name == name]
            version = str(max((int(v) for v in taken if v.isdigit()), default=0) + 1)
        scheme = start.derive(name, version, added, description=description)
        row = curation.ensure_scheme(scheme, session=session)
    typer.echo(f"scheme {row.label} stored (sha256 {row.content_hash}); grade a review with it: "
               f"`evidencedb review edit SLUG --scheme {row.label}`")
