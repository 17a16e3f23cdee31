"""demo: the presenter's live, narrated run of simulated shoppers against a stack."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ecomctl.cli.render import console, print_json
from ecomctl.settings import LOCAL_STACK

if TYPE_CHECKING:
    from ecomctl.demo.run import Target


def demo(
    stack: Annotated[str | None, typer.Option(
        "--stack", "-s", help="Stack to run against: 'local' (default) or a cloud environment.")] = None,
    url: Annotated[str | None, typer.Option("--url", help="A gateway URL instead of a stack.")] = None,
    duration: Annotated[float | None, typer.Option(
        "--duration", min=1, help="Seconds to run (default: until Ctrl-C).")] = None,
    rate: Annotated[float, typer.Option(
        "--rate", min=0.05, max=50, help="Shopper journeys started per second.")] = 1.0,
    no_traffic: Annotated[bool, typer.Option(
        "--no-traffic", help="No simulated shoppers: only watch the windows and health.")] = False,
    as_json: Annotated[bool, typer.Option(
        "--json", help="No live view; print the summary as one JSON object.")] = False,
) -> None:
    """Simulated shoppers through the public API, a live dashboard with narration, then a summary."""
    import asyncio

    from ecomctl.demo.dashboard import live_view, summary_table
    from ecomctl.demo.run import DemoOptions, run_demo
    from ecomctl.demo.stats import DemoStats

    if stack and url:
        raise typer.BadParameter("use either --stack or --url, not both")
    target = _target(stack, url)
    stats = DemoStats(target.gateway_url, duration, rate)
    view = None
    if not as_json:
        console.print(f"[bold]storefront[/]: {target.gateway_url}/   (analytics: {target.gateway_url}/#/analytics)",
                      highlight=False, soft_wrap=True)
        if console.is_terminal:
            view = live_view(console)
        else:
            stats.on_narrate = lambda line: console.print(line, highlight=False, markup=False, soft_wrap=True)
    asyncio.run(run_demo(target, DemoOptions(duration, rate, not no_traffic), stats, view))
    summary = stats.summary()
    if as_json:
        print_json(summary)
    else:
        console.print(summary_table(summary))


def _target(stack: str | None, url: str | None) -> Target:
    from ecomctl.demo import target

    if url:
        return target.url_target(url)
    if stack and stack != LOCAL_STACK:
        return target.cloud_target(stack)
    from ecomctl.cli.stack import up
    from ecomctl.local.platform import LocalPlatform

    platform = LocalPlatform()
    if not platform.status().healthy:
        up(LOCAL_STACK)
    return target.local_target(platform)


def register(app: typer.Typer) -> None:
    app.command()(demo)
