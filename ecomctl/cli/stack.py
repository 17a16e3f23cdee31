"""up / down / status / outputs / credentials / logs: one call on the stack's platform, then rendering.

``open_platform(stack)`` decides once whether the stack is this machine or a cloud stack; the
commands here never ask.
"""

from __future__ import annotations

from typing import Annotated

import typer

from ecomctl.cli.progress import TerminalOperator
from ecomctl.cli.render import console, err_console, print_json, status_table
from ecomctl.errors import StartupError
from ecomctl.platform import open_platform
from ecomctl.settings import LOCAL_STACK

StackOpt = Annotated[
    str, typer.Option("--stack", "-s", help="Stack name: 'local' (this machine) or a cloud environment.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]


def up(
    stack: StackOpt = LOCAL_STACK,
    yes: YesOpt = False,
    no_sample_data: Annotated[bool, typer.Option(
        "--no-sample-data", help="A new local stack: do not add the sample catalogue.")] = False,
) -> None:
    """Create or update a stack (default: the whole platform on this machine)."""
    platform = open_platform(stack)
    with TerminalOperator(yes=yes) as operator:
        state = platform.up(operator)
    if not state.healthy:
        raise StartupError(f"not healthy after up: {', '.join(state.not_ready)}",
                           hint=f"ecomctl status --stack {stack}; ecomctl logs <component>")
    console.print(status_table(state))
    added = platform.seed_sample_data(skip=no_sample_data)
    if added is not None:
        console.print(f"sample catalogue: {added} products added", highlight=False)
    console.print(f"\n[bold green]stack {stack!r} is up[/]", highlight=False)
    for line in platform.access():
        console.print(line, highlight=False, markup=False, soft_wrap=True)


def down(
    stack: StackOpt = LOCAL_STACK,
    purge: Annotated[bool, typer.Option(
        "--purge", help="Also delete the stack's data (databases, topics, objects, logs, credentials, state)."
    )] = False,
    yes: YesOpt = False,
    yes_destroy_production: Annotated[bool, typer.Option(
        "--yes-destroy-production", help="On a production stack, do not ask for its name to be typed."
    )] = False,
) -> None:
    """Tear a stack down in reverse order (locally: no process or port of ours is left)."""
    with TerminalOperator(yes=yes, yes_by_name=yes_destroy_production) as operator:
        open_platform(stack).down(purge, operator)
    what = "down and its data deleted" if purge else "down (data kept; --purge deletes it)"
    err_console.print(f"stack {stack!r} is {what}", highlight=False)


def status(stack: StackOpt = LOCAL_STACK, as_json: JsonOpt = False) -> None:
    """Every component with its state, address and health (exit 3 when one is not healthy)."""
    state = open_platform(stack).status()
    if as_json:
        print_json(state.as_dict())
    else:
        console.print(status_table(state))
        if state.backlog is not None:
            colour = "green" if state.backlog.idle else "yellow"
            console.print(f"[{colour}]follow-on work[/] {state.backlog.describe()}", highlight=False)
        for alert in state.alerts:
            console.print(f"[red]alert firing[/] {alert.name} ({alert.severity}): {alert.summary}", highlight=False)
    if not state.healthy:
        err_console.print(f"not healthy or not deployed: {', '.join(state.not_ready)} "
                          f"(`ecomctl up --stack {stack}` creates or repairs them)", highlight=False)
        raise typer.Exit(3)


def outputs(stack: StackOpt = LOCAL_STACK, as_json: JsonOpt = False) -> None:
    """The stack's outputs: URLs, endpoints, names (secrets masked)."""
    platform = open_platform(stack)
    found = platform.outputs()
    if as_json:
        print_json({"stack": stack, **found})
        return
    for line in platform.access():
        console.print(line, highlight=False, markup=False, soft_wrap=True)
    for key, value in found.items():
        console.print(f"{key:<40} {value}", highlight=False, soft_wrap=True)


def credentials(stack: StackOpt = LOCAL_STACK, as_json: JsonOpt = False) -> None:
    """The stack's admin login (generated at the first up, stored owner-only)."""
    found = open_platform(stack).credentials()
    if as_json:
        print_json({"admin_email": found.admin_email, "admin_password": found.admin_password})
    else:
        console.print(f"admin e-mail    {found.admin_email}\nadmin password  {found.admin_password}",
                      highlight=False)


def logs(
    component: Annotated[str, typer.Argument(help="A component name (see `ecomctl status`), or 'supervisord'.")],
    stack: StackOpt = LOCAL_STACK,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new lines.")] = False,
    lines: Annotated[int, typer.Option("--lines", "-n", help="How many last lines to show.")] = 50,
) -> None:
    """A component's log (secrets are masked; local stack only)."""
    platform = open_platform(stack)
    print(platform.log_tail(component, lines))
    if not follow:
        return
    try:
        for text in platform.follow_log(component):
            print(text, end="", flush=True)
    except KeyboardInterrupt:
        return


def register(app: typer.Typer) -> None:
    app.command()(up)
    app.command()(down)
    app.command()(status)
    app.command()(outputs)
    app.command()(credentials)
    app.command()(logs)
