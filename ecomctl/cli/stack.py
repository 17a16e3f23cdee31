"""up / down / status / outputs / credentials / preview: the local stack here, cloud stacks in ``cloud``."""

from __future__ import annotations

from typing import Annotated

import typer

from ecomctl.cli import cloud
from ecomctl.cli.progress import LiveReporter
from ecomctl.cli.render import console, err_console, print_json, status_table
from ecomctl.errors import StartupError
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
    if stack != LOCAL_STACK:
        cloud.up(stack, yes)
        return
    from ecomctl.local.platform import LocalPlatform

    platform = LocalPlatform()
    with LiveReporter() as reporter:
        state = platform.up(reporter)
    if not state.healthy:
        bad = [c.name for c in state.components if c.state != "healthy"]
        raise StartupError(f"not healthy after up: {', '.join(bad)}", hint="ecomctl status; ecomctl logs <component>")
    console.print(status_table(state))
    from ecomctl.demo.seed import seed_new_stack

    seeded = seed_new_stack(platform.layout.root, platform.gateway_url, platform.admin_email,
                            platform.admin_password, skip=no_sample_data)
    if seeded is not None:
        console.print(f"sample catalogue: {seeded.created} products added", highlight=False)
    console.print(
        f"\n[bold green]local platform is up[/]: storefront {state.endpoints['gateway']}/  "
        "(admin login: [bold]ecomctl credentials[/]; stop: [bold]ecomctl down[/])",
        highlight=False,
    )


def down(
    stack: StackOpt = LOCAL_STACK,
    purge: Annotated[bool, typer.Option(
        "--purge", help="Also delete the stack's data (databases, topics, objects, logs, credentials)."
    )] = False,
    yes: YesOpt = False,
) -> None:
    """Tear a stack down in reverse order (locally: no process or port of ours is left)."""
    if stack != LOCAL_STACK:
        cloud.down(stack, yes, purge)
        return
    from ecomctl.local.platform import LocalPlatform

    platform = LocalPlatform()
    with LiveReporter() as reporter:
        platform.down(purge=purge, reporter=reporter)
    what = "stopped and its data deleted" if purge else "stopped (data kept; --purge deletes it)"
    err_console.print(f"local platform {what}", highlight=False)


def status(stack: StackOpt = LOCAL_STACK, as_json: JsonOpt = False) -> None:
    """Every component with its state, address and health."""
    if stack != LOCAL_STACK:
        cloud.status(stack, as_json)
        return
    from ecomctl.local.platform import LocalPlatform

    state = LocalPlatform().status()
    if as_json:
        print_json(state.as_dict())
    else:
        console.print(status_table(state))
        for alert in state.alerts:
            console.print(f"[red]alert firing[/] {alert.name} ({alert.severity}): {alert.summary}", highlight=False)
        if not state.healthy:
            err_console.print("not every component is healthy: ecomctl logs <component>", highlight=False)
    if not state.healthy:
        raise typer.Exit(3)


def outputs(stack: StackOpt = LOCAL_STACK, as_json: JsonOpt = False) -> None:
    """The stack's outputs: URLs, endpoints, names."""
    if stack != LOCAL_STACK:
        cloud.outputs(stack, as_json)
        return
    from ecomctl.local.platform import LocalPlatform

    state = LocalPlatform().status()
    if as_json:
        print_json({"stack": state.stack, **state.endpoints})
        return
    for key, value in state.endpoints.items():
        console.print(f"{key:<16} {value}", highlight=False)


def credentials(stack: StackOpt = LOCAL_STACK, as_json: JsonOpt = False) -> None:
    """The stack's admin login (generated at the first up, stored owner-only)."""
    if stack != LOCAL_STACK:
        cloud.credentials(stack, as_json)
        return
    from ecomctl import secrets
    from ecomctl.errors import ConfigError
    from ecomctl.local.platform import LocalPlatform

    platform = LocalPlatform()
    found = secrets.load(platform.layout.secrets_file)
    if found is None:
        raise ConfigError("the local stack has no credentials yet", hint="run: ecomctl up")
    if as_json:
        print_json({"admin_email": found.admin_email, "admin_password": found.admin_password})
    else:
        console.print(f"admin e-mail    {found.admin_email}\nadmin password  {found.admin_password}", highlight=False)


def preview(
    stack: Annotated[str | None, typer.Option("--stack", "-s", help="Cloud stack to preview (default: dev).")] = None,
    offline: Annotated[bool, typer.Option(
        "--offline", help="No cloud account or Pulumi CLI: evaluate the programs with Pulumi's mock runtime."
    )] = False,
    as_json: JsonOpt = False,
) -> None:
    """What `up` would change on a cloud stack; --offline for CI (resources, policy findings, cost)."""
    if stack == LOCAL_STACK:
        from ecomctl.errors import ConfigError

        raise ConfigError("preview is for cloud stacks", hint="ecomctl preview --offline (or --stack dev)")
    cloud.preview(stack or "dev", offline, as_json)


def register(app: typer.Typer) -> None:
    app.command()(up)
    app.command()(down)
    app.command()(status)
    app.command()(outputs)
    app.command()(credentials)
    app.command()(preview)
