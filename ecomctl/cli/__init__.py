"""The ecomctl command line: Typer only. Each command parses options and calls one function.

``main()`` is the single error boundary: an expected ``EcomctlError`` prints one line (and a
hint) on stderr and exits non-zero; a usage error (unknown command, missing argument or value)
prints one line on stderr and exits 2. Neither shows a traceback.
"""

from __future__ import annotations

import itertools
import sys

import typer
from typer._click.exceptions import NoArgsIsHelpError, UsageError  # Typer parses with its own bundled click

from ecomctl.cli import chaos, cloud, demo, ops, scale, stack
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
chaos.register(app)


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
    except NoArgsIsHelpError as exc:  # `ecomctl`, `ecomctl config`: Typer has printed the help
        sys.exit(exc.exit_code)
    except UsageError as exc:
        sys.exit(_usage_error(exc))
    except typer.TyperException as exc:  # any other error click reports (a file it cannot open)
        err_console.print(f"[bold red]error:[/] {exc.format_message()}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)


def _usage_error(exc: UsageError) -> int:
    """One line on stderr: what is wrong and where the command's help is; returns the exit code (2)."""
    if exc.ctx is not None:
        command = exc.ctx.command_path
    else:  # an option without its value fails before the command is known: take it from argv
        command = " ".join(["ecomctl", *itertools.takewhile(lambda a: not a.startswith("-"), sys.argv[1:])])
    where = f"; see `{command} --help`"
    message = " ".join(exc.format_message().split()).rstrip(".")
    err_console.print(f"[bold red]error:[/] {message}{where}", highlight=False, soft_wrap=True)
    return exc.exit_code
