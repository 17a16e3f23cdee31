"""doctor."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from ecomctl.cli.render import console, print_json


def doctor(as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False) -> None:
    """Check every prerequisite (Java, MariaDB, jars, Pulumi CLI, cloud credentials) and say how to fix it."""
    from ecomctl.doctor import run_checks
    from ecomctl.settings import Settings

    checks = run_checks(Settings.load())
    local_ok = all(c.ok for c in checks if c.scope == "local")
    if as_json:
        print_json({"ok": local_ok, "checks": [c.as_dict() for c in checks]})
    else:
        table = Table(title="ecomctl doctor", title_justify="left")
        for col in ("scope", "check", "", "detail", "how to fix"):
            table.add_column(col, overflow="fold")
        for c in checks:
            mark = "[green]ok[/]" if c.ok else ("[red]missing[/]" if c.scope == "local" else "[yellow]missing[/]")
            table.add_row(c.scope, c.name, mark, c.detail, c.fix)
        console.print(table)
        console.print("local stack: " + ("[green]ready to run `ecomctl up`[/]" if local_ok
                                         else "[red]fix the missing local prerequisites above[/]"))
    if not local_ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(doctor)
