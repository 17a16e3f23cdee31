"""The cloud-only commands: preview, config (set/get/list/rm/keys), refresh, cancel, render.

Typer and rendering only: each command makes one call on ``ecomctl.cloud.platform`` (the shared
commands ``up``, ``down``, ``status``... are in ``ecomctl.cli.stack``). Nothing here imports
``pulumi`` at module level, so ``import ecomctl.cli`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from ecomctl.cli.progress import TerminalOperator
from ecomctl.cli.render import console, err_console, print_json
from ecomctl.errors import CloudError

if TYPE_CHECKING:
    from ecomctl.cloud.platform import CloudPlatform
    from ecomctl.cloud.preview import PreviewReport

DEFAULT_STACK = "dev"

CloudStackOpt = Annotated[str, typer.Option("--stack", "-s", help="The cloud stack (environment).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]


def _cloud(stack: str) -> CloudPlatform:
    from ecomctl.cloud.platform import CloudPlatform

    return CloudPlatform(stack)


def preview(
    stack: Annotated[str, typer.Option("--stack", "-s", help="Cloud stack to preview.")] = DEFAULT_STACK,
    offline: Annotated[bool, typer.Option(
        "--offline", help="No cloud account or Pulumi CLI: evaluate the programs with Pulumi's mock runtime."
    )] = False,
    as_json: JsonOpt = False,
) -> None:
    """What `up` would change on a cloud stack; --offline for CI (resources, policy findings, cost)."""
    platform = _cloud(stack)
    if offline:
        from ecomctl.cloud.preview import offline_preview

        report = offline_preview(platform.stack)
        if as_json:
            print_json(report.as_dict())
        else:
            _print_report(report)
        if report.violations:
            rules = sorted({v.rule for v in report.violations})
            raise CloudError(f"{len(report.violations)} policy violation(s): {', '.join(rules)}",
                             hint="fix the configuration (ecomctl config ...) or the program, then preview again")
        return
    changes = platform.preview(TerminalOperator())
    if as_json:
        print_json({"stack": stack, "offline": False, "changes": changes})
        return
    for stage, summary in changes.items():
        if summary is None:
            text = "not previewed: the stages before it are not deployed yet (`preview --offline` shows it)"
        else:
            text = ", ".join(f"{k} {v}" for k, v in sorted(summary.items()) if v) or "no changes"
        console.print(f"{stage:<6} {text}", highlight=False)


def _print_report(report: PreviewReport) -> None:
    from ecomctl.cloud.preview import key_settings

    table = Table(title=f"offline preview of stack {report.stack!r}: {len(report.resources)} resources",
                  title_justify="left")
    for col in ("stage", "type", "name", "key settings"):
        table.add_column(col, overflow="fold")
    for r in report.resources:
        settings = ", ".join(f"{k}={v}" for k, v in key_settings(r).items())
        table.add_row(r.stage, r.type, r.name, settings)
    console.print(table)
    if report.violations:
        console.print(f"[bold red]{len(report.violations)} policy violation(s)[/]")
        for v in report.violations:
            console.print(f"  [red]{v.rule}[/] {v.resource}: {v.message}", highlight=False)
    else:
        console.print("[green]policies: no violations[/]")
    cost = report.cost
    console.print(
        f"cost estimate: [bold]{cost.hourly_usd:.2f} USD/hour[/], {cost.daily_usd:.2f} USD/day, "
        f"~{cost.monthly_usd:.0f} USD/month ({cost.regions}; list prices taken {cost.taken}, "
        f"ecomctl/cloud/prices.toml)", highlight=False)
    if cost.not_included:
        console.print(f"  not included: {cost.not_included}", highlight=False)
    for item in cost.unpriced:
        console.print(f"  [yellow]unpriced[/] {item}", highlight=False)


# -- cloud-only commands ---------------------------------------------------------------------------
config_app = typer.Typer(help="A cloud stack's configuration (stored encrypted where --secret).",
                         no_args_is_help=True)


@config_app.command("set")
def config_set(
    key: Annotated[str, typer.Argument(help="A key from `ecomctl config keys`, or provider:key.")],
    value: Annotated[str, typer.Argument(help="The value (lists: comma-separated).")],
    stack: CloudStackOpt = DEFAULT_STACK,
    secret: Annotated[bool, typer.Option("--secret", help="Encrypt it; it never appears in plain text.")] = False,
) -> None:
    """Set one configuration value on the stack."""
    _cloud(stack).set_config(key, value, secret)
    shown = "[secret]" if secret else value
    err_console.print(f"{stack}: {key} = {shown}", highlight=False)


@config_app.command("get")
def config_get(key: Annotated[str, typer.Argument(help="The key.")], stack: CloudStackOpt = DEFAULT_STACK,
               as_json: JsonOpt = False) -> None:
    """One configuration value (secrets stay masked)."""
    entry = _cloud(stack).config_entry(key)
    value = "[secret]" if entry.secret else entry.value
    if as_json:
        print_json({"key": entry.key, "value": value, "secret": entry.secret})
    else:
        console.print(value, highlight=False)


@config_app.command("list")
def config_list(stack: CloudStackOpt = DEFAULT_STACK, as_json: JsonOpt = False) -> None:
    """Every value set on the stack (secrets masked)."""
    entries = _cloud(stack).config_entries()
    shown = {e.key: ("[secret]" if e.secret else e.value) for e in entries}
    if as_json:
        print_json({"stack": stack, "config": shown})
        return
    for key, value in shown.items():
        console.print(f"{key:<40} {value}", highlight=False)


@config_app.command("rm")
def config_rm(key: Annotated[str, typer.Argument(help="The key.")], stack: CloudStackOpt = DEFAULT_STACK) -> None:
    """Remove a value (the key goes back to its default)."""
    _cloud(stack).remove_config(key)
    err_console.print(f"{stack}: {key} removed", highlight=False)


@config_app.command("keys")
def config_keys(as_json: JsonOpt = False) -> None:
    """Every documented key with its type, default and meaning (no stack needed)."""
    from ecomctl.cloud.programs import load_programs

    rows = [{"key": k.name, "type": k.type, "default": k.default, "secret": k.secret, "help": k.help}
            for k in load_programs().config_keys]
    if as_json:
        print_json({"keys": rows})
        return
    table = Table(title="ecomctl config keys (namespace ecomctl:)", title_justify="left")
    for col in ("key", "type", "default", "meaning"):
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(row["key"], row["type"], str(row["default"]), row["help"])
    console.print(table)


def refresh(stack: CloudStackOpt = DEFAULT_STACK) -> None:
    """Reconcile the stack's recorded state with what exists in the clouds."""
    _cloud(stack).refresh(TerminalOperator())
    console.print(f"stack {stack!r} refreshed", highlight=False)


def cancel(stack: CloudStackOpt = DEFAULT_STACK) -> None:
    """Release a stack whose update was interrupted (only when no other update is running)."""
    released = _cloud(stack).cancel()
    if released:
        console.print(f"released the lock of {', '.join(released)} on stack {stack!r}", highlight=False)
    else:
        console.print(f"stack {stack!r} was not locked", highlight=False)


def render(
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for the manifests (Argo CD's path).")] =
    Path("deploy/k8s"),
    stack: Annotated[str | None, typer.Option(
        "--stack", "-s", help="A deployed stack: take image repositories, tag and roles from its outputs."
    )] = None,
    image_tag: Annotated[str, typer.Option("--image-tag", help="Tag of every service image.")] = "dev",
    registry: Annotated[str, typer.Option("--registry", help="Image registry prefix (ECR URL).")] =
    "ecomctl",
) -> None:
    """Write the Kubernetes manifests (one JSON file per object) for GitOps with Argo CD.

    With --stack, the values come from the deployed stack's outputs, exactly as its k8s stage
    applies them; without, repositories are named as the AWS program names them, under --registry.
    """
    from ecomctl.cloud.platform import render_manifests

    written = render_manifests(out, stack, image_tag, registry, DEFAULT_STACK)
    console.print(f"wrote {len(written)} manifests to {out}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the cloud-only commands to ``app``."""
    app.command()(preview)
    app.add_typer(config_app, name="config")
    app.command()(refresh)
    app.command()(cancel)
    app.command()(render)
