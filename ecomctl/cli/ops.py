"""logs / doctor."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.table import Table

from ecomctl.cli.render import console, print_json


def logs(
    component: Annotated[str, typer.Argument(help="A component name (see `ecomctl status`), or 'supervisord'.")],
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new lines.")] = False,
    lines: Annotated[int, typer.Option("--lines", "-n", help="How many last lines to show.")] = 50,
) -> None:
    """A component's log (local stack; secrets are masked)."""
    from ecomctl.local.platform import LocalPlatform

    platform = LocalPlatform()
    path = platform.log_path(component)
    print(platform.log_tail(component, lines))
    if not follow:
        return
    secret_values = platform.context.secrets.values() if platform.created else []
    from ecomctl.secrets import redact

    position = path.stat().st_size if path.exists() else 0
    try:
        while True:
            size = path.stat().st_size if path.exists() else 0
            if size < position:  # rotated
                position = 0
            if size > position:
                with path.open("rb") as fh:
                    fh.seek(position)
                    chunk = fh.read()
                position += len(chunk)
                print(redact(chunk.decode(errors="replace"), secret_values), end="", flush=True)
            time.sleep(0.3)
    except KeyboardInterrupt:
        return


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
    app.command()(logs)
    app.command()(doctor)
