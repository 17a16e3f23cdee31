"""The ecomctl command line: Typer only. Each command parses options and calls one function.

``main()`` is the single error boundary: an expected ``EcomctlError`` prints one line (and a
hint) on stderr and exits non-zero, without a traceback.
"""

from __future__ import annotations

import sys

import typer

from ecomctl.cli import cloud, demo, ops, scale, stack
from ecomctl.cli.render import err_console
from ecomctl.errors import EcomctlError

app = typer.Typer(
    name="ecomctl",
    help="Create, update, scale-test and tear down the ecomctl e-commerce platform.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
stack.register(app)
ops.register(app)
cloud.register(app)
demo.register(app)
scale.register(app)


def main() -> None:
    try:
        code = app(standalone_mode=False)  # a command's typer.Exit(n) comes back as n
    except EcomctlError as exc:
        err_console.print(f"[bold red]error:[/] {exc.message}", highlight=False, soft_wrap=True)
        if exc.details:
            err_console.print(exc.details, highlight=False, markup=False)
        if exc.hint:
            err_console.print(f"[yellow]hint:[/] {exc.hint}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("[bold red]interrupted[/]")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(1)
    except Exception as exc:  # click's (and typer's vendored click's) usage errors arrive here
        import click

        if isinstance(exc, click.ClickException | typer.TyperException) and hasattr(exc, "show"):
            exc.show()
            sys.exit(exc.exit_code)
        raise
    sys.exit(code if isinstance(code, int) else 0)
