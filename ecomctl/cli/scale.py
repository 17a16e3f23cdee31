"""scale-test: a Locust profile of the shopper mix against a stack, a verdict and a report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.live import Live
from rich.table import Table

from ecomctl.cli.render import console, err_console, print_json

if TYPE_CHECKING:
    from ecomctl.scaletest.run import RunResult


def _progress_table(tick: dict[str, Any], result: RunResult) -> Table:
    profile = result.profile
    every = tick["groups"].get("all", {})
    table = Table(title=f"scale-test {profile.name}", title_justify="left", show_header=True, expand=False)
    for column in ("elapsed", "step", "users", "req/s", "p95 ms", "errors/s", "orders"):
        table.add_column(column, justify="right")
    step = f"{tick['stage'] + 1}/{len(profile.stages)}"
    table.add_row(f"{tick['t']:.0f}/{profile.duration_s:.0f} s", step, str(tick["users"]),
                  f"{every.get('requests', 0)}", f"{every.get('p95_ms', 0):.0f}", f"{every.get('failures', 0)}",
                  str(sum(t["groups"].get("orders.create", {}).get("requests", 0) for t in result.ticks)))
    return table


def _verdict(result: RunResult, report: Path | None) -> None:
    table = Table(title="verdict", title_justify="left")
    for column in ("check", "result", "figure"):
        table.add_column(column)
    for check in result.checks:
        table.add_row(check.name, "[green]pass[/]" if check.passed else "[bold red]FAIL[/]", check.detail)
    console.print(table)
    groups = Table(title="endpoint groups", title_justify="left")
    for column in ("group", "requests", "failures", "req/s", "p50 ms", "p95 ms", "p99 ms"):
        groups.add_column(column, justify="right")
    for name, s in sorted(result.groups.items()):
        groups.add_row(name, str(s["requests"]), str(s["failures"]), str(s.get("rps", "")), str(s["p50_ms"]),
                       str(s["p95_ms"]), str(s["p99_ms"]))
    console.print(groups)
    knee = result.knee()
    if knee:
        console.print(f"knee: [bold]{knee['users']} users[/], {knee['requests_per_s']} req/s, "
                      f"{knee['orders_per_s']} orders/s", highlight=False)
    verdict = "[bold green]PASS[/]" if result.passed else "[bold red]FAIL[/]"
    console.print(f"{verdict}{' (interrupted)' if result.interrupted else ''}"
                  f"{f'  report: {report}/report.html' if report else ''}", highlight=False)


def scale_test(
    stack: Annotated[str | None, typer.Option("--stack", "-s", help="The stack (default: local).")] = None,
    url: Annotated[str | None, typer.Option("--url", help="A gateway URL instead of a stack.")] = None,
    profile: Annotated[str, typer.Option(
        "--profile", "-p", help="smoke, ramp, stress, spike, soak, capacity, or a profile JSON file.")] = "smoke",
    users: Annotated[int | None, typer.Option("--users", "-u", help="Scale the profile's peak to N users.")] = None,
    duration: Annotated[float | None, typer.Option(
        "--duration", "-d", help="Stretch the profile to S seconds.")] = None,
    threshold: Annotated[list[str] | None, typer.Option(
        "--threshold", "-t", help="[GROUP.]p50|p95|p99=<n>ms or [GROUP.]errors=<n>% (repeatable; replaces the "
        "profile's).")] = None,
    kubeconfig: Annotated[Path | None, typer.Option(
        "--kubeconfig", help="Watch the cluster's HPAs and nodes during the run (a cloud stack's kubeconfig).")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Write report.json and report.html here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as one JSON object.")] = False,
    show_profile: Annotated[bool, typer.Option(
        "--show-profile", help="Print the profile as JSON (to copy and change) and exit.")] = False,
) -> None:
    """Load-test a stack with simulated shoppers; exit 0 pass, 1 a threshold broken, 2 could not run."""
    from ecomctl.scaletest import profiles
    from ecomctl.scaletest import report as reports
    from ecomctl.scaletest.run import resolve_target, run
    from ecomctl.scaletest.thresholds import parse_all

    chosen = profiles.load(profile).scaled(users, duration)
    if show_profile:
        print(json.dumps(chosen.to_dict(), indent=2))
        return
    limits = parse_all(threshold or chosen.thresholds)
    target = resolve_target(stack, url)
    if kubeconfig is not None:
        from dataclasses import replace

        from ecomctl.scaletest.kube import from_kubeconfig

        target = replace(target, kube=from_kubeconfig(kubeconfig))
    quiet = as_json or not err_console.is_terminal

    def say(message: str) -> None:
        err_console.print(f"[dim]{message}[/]", highlight=False)

    live = Live(console=err_console, refresh_per_second=2, transient=True) if not quiet else None

    def on_tick(tick: dict[str, Any], result: RunResult) -> None:
        if live is not None:
            live.update(_progress_table(tick, result))
        elif not as_json and int(tick["t"]) % 10 == 0:
            every = tick["groups"].get("all", {})
            say(f"{tick['t']:.0f} s: {tick['users']} users, {every.get('requests', 0)} req/s, "
                f"p95 {every.get('p95_ms', 0):.0f} ms, {every.get('failures', 0)} errors/s")

    if live is not None:
        with live:
            result = run(chosen, limits, target, progress=say, on_tick=on_tick, workdir=report)
    else:
        result = run(chosen, limits, target, progress=say, on_tick=on_tick, workdir=report)
    if report:
        reports.write(result, report)
    if as_json:
        print_json(result.as_dict())
    else:
        _verdict(result, report)
    if not result.passed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("scale-test")(scale_test)
