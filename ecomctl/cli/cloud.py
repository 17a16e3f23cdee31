"""CLI for cloud stacks (any --stack other than ``local``): Typer and rendering only.

``ecomctl.cli.stack`` dispatches ``up/down/status/preview/outputs/credentials`` here for cloud
stacks; ``register`` adds the cloud-only commands: ``config`` (set/get/list/rm/keys),
``refresh``, ``cancel`` and ``render``. The work is in ``ecomctl.cloud``; nothing here imports
``pulumi`` at module level, so ``import ecomctl.cli`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from ecomctl.cli.render import console, err_console, print_json
from ecomctl.errors import CloudError, ConfigError

if TYPE_CHECKING:
    from ecomctl.cloud.engine import Engine, StackOutputs
    from ecomctl.cloud.preview import PreviewReport

DEFAULT_STACK = "dev"


class NotDeployedError(CloudError):
    """``status`` of a stack with stages that are not deployed (exit 3, like an unhealthy local stack)."""

    exit_code = 3

CloudStackOpt = Annotated[str, typer.Option("--stack", "-s", help="The cloud stack (environment).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]

#: Outputs shown at the end of ``up`` and by ``outputs``: (label, output name).
ADDRESSES = (("storefront", "storefront_url"), ("Grafana", "grafana_url"), ("Argo CD", "argocd_url"))


# -- helpers -------------------------------------------------------------------------------------
def _engine(stack: str, progress: Any = None) -> Engine:
    from ecomctl.cloud.engine import Engine
    from ecomctl.cloud.workspace import CloudSettings

    return Engine(CloudSettings.load(stack), on_event=None if progress is None else progress.sink)


def _progress(title: str) -> Any:
    from ecomctl.cloud.progress import EngineProgress

    return EngineProgress(err_console, title)


def _masked(outputs: StackOutputs) -> dict[str, Any]:
    secret = outputs.secret_keys()
    return {k: ("[secret]" if k in secret else v) for k, v in outputs.flat().items()}


def _print_addresses(stack: str, outputs: StackOutputs) -> None:
    for label, key in ADDRESSES:
        value = outputs.get(key)
        console.print(f"{label:<11} {value if value else '(not exported)'}", highlight=False)
    cluster, region = outputs.get("cluster_name") or "<cluster>", outputs.get("region") or "<region>"
    for line in (
        f"log in      storefront: admin e-mail and password from `ecomctl credentials --stack {stack}`",
        f"            kubectl:    aws eks update-kubeconfig --name {cluster} --region {region}",
        "            Grafana:    user admin, password: kubectl -n monitoring get secret "
        "kube-prometheus-stack-grafana -o jsonpath='{.data.admin-password}' | base64 -d",
        "            Argo CD:    user admin, password: kubectl -n argocd get secret "
        "argocd-initial-admin-secret -o jsonpath='{.data.password}' | base64 -d",
    ):
        console.print(line, highlight=False, markup=False, soft_wrap=True)


# -- the commands stack.py dispatches to ------------------------------------------------------------
def up(stack: str, yes: bool) -> None:
    from ecomctl.cloud.flink import submit_stream_job
    from ecomctl.cloud.prereqs import require_cloud_credentials
    from ecomctl.cloud.workspace import require_pulumi_cli

    require_pulumi_cli()
    require_cloud_credentials()
    if not yes:
        typer.confirm(
            f"Create or update cloud stack {stack!r} (AWS, then GCP, then Kubernetes, then the Flink job)? "
            "This creates billable resources (`ecomctl preview --offline` estimates the cost)",
            abort=True, err=True)
    progress = _progress(f"up {stack}")
    engine = _engine(stack, progress)
    outputs = progress.run(engine.up, stack, "up")
    if outputs.get("dataproc_cluster"):
        job = submit_stream_job(outputs)
        err_console.print(f"Flink job submitted to Dataproc: {job}", highlight=False)
    else:
        err_console.print("no Dataproc cluster among the outputs: stream job not submitted", highlight=False)
    console.print(f"[bold green]cloud stack {stack!r} is up[/]", highlight=False)
    _print_addresses(stack, outputs)


def down(stack: str, yes: bool, purge: bool) -> None:
    from ecomctl.cloud.workspace import require_pulumi_cli

    require_pulumi_cli()
    progress = _progress(f"down {stack}")
    engine = _engine(stack, progress)
    doomed = engine.resources()
    if doomed:
        table = Table(title=f"stack {stack!r}: {len(doomed)} resources to delete (in this order)",
                      title_justify="left")
        for col in ("stage", "type", "name"):
            table.add_column(col)
        for res in doomed:
            table.add_row(res.stage, res.type, res.name)
        err_console.print(table)
    else:
        err_console.print(f"stack {stack!r} has no resources", highlight=False)
    if doomed and not yes:
        typer.confirm(f"Delete these {len(doomed)} resources of stack {stack!r}?", abort=True, err=True)
    progress.run(lambda: engine.destroy(remove=purge), stack, "down")
    if purge:
        import shutil

        shutil.rmtree(engine.settings.stack_dir, ignore_errors=True)
    console.print(f"cloud stack {stack!r} is down" + (" and its state deleted" if purge else ""),
                  highlight=False)


def status(stack: str, as_json: bool) -> None:
    engine = _engine(stack)
    outputs = engine.outputs()
    present = {s.stage for s in outputs.stages if s.values}  # a destroyed stage's stack has no outputs
    components: list[dict[str, Any]] = []
    for stage in engine.stages:
        entry: dict[str, Any] = {"name": stage.name, "state": "deployed" if stage.name in present else "absent"}
        url = next((v for s in outputs.stages if s.stage == stage.name
                    for k, v in s.values.items() if k.endswith("_url") and isinstance(v, str)), None)
        if url:
            entry["url"] = url
        components.append(entry)
    gateway = outputs.get("storefront_url")
    result = {"stack": stack, "components": components, "endpoints": {"gateway": gateway or ""}}
    if as_json:
        print_json(result)
    else:
        for c in components:
            console.print(f"{c['name']:<6} {c['state']:<9} {c.get('url', '')}", highlight=False)
    absent = [c["name"] for c in components if c["state"] != "deployed"]
    if absent:
        raise NotDeployedError(f"stack {stack!r} is not fully deployed: {', '.join(absent)} absent",
                               hint=f"ecomctl up --stack {stack}")


def preview(stack: str, offline: bool, as_json: bool) -> None:
    if offline:
        from ecomctl.cloud.preview import offline_preview

        report = offline_preview(stack)
        if as_json:
            print_json(report.as_dict())
        else:
            _print_report(report)
        if report.violations:
            rules = sorted({v.rule for v in report.violations})
            raise CloudError(f"{len(report.violations)} policy violation(s): {', '.join(rules)}",
                             hint="fix the configuration (ecomctl config ...) or the program, then preview again")
        return
    progress = _progress(f"preview {stack}")
    engine = _engine(stack, progress)
    changes = progress.run(engine.preview, stack, "preview")
    if as_json:
        print_json({"stack": stack, "offline": False, "changes": changes})
        return
    for stage, summary in changes.items():
        if summary is None:
            text = "not previewed: the stages before it are not deployed yet (`preview --offline` shows it)"
        else:
            text = ", ".join(f"{k} {v}" for k, v in sorted(summary.items()) if v) or "no changes"
        console.print(f"{stage:<6} {text}", highlight=False)


def outputs(stack: str, as_json: bool) -> None:
    found = _engine(stack).outputs()
    if not found.stages:
        raise ConfigError(f"stack {stack!r} has no outputs yet", hint=f"ecomctl up --stack {stack}")
    masked = _masked(found)
    if as_json:
        print_json({"stack": stack, **masked})
        return
    _print_addresses(stack, found)
    for key, value in masked.items():
        console.print(f"{key:<40} {value}", highlight=False, soft_wrap=True)


def credentials(stack: str, as_json: bool) -> None:
    found = _engine(stack).outputs()
    email, password = found.get("admin_email"), found.get("admin_password")
    if not email or not password:
        raise ConfigError(f"stack {stack!r} has no admin login yet", hint=f"ecomctl up --stack {stack}")
    if as_json:
        print_json({"admin_email": email, "admin_password": password})
        return
    console.print(f"admin e-mail    {email}\nadmin password  {password}", highlight=False)


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
    _engine(stack).set_config(key, value, secret)
    shown = "[secret]" if secret else value
    err_console.print(f"{stack}: {key} = {shown}", highlight=False)


@config_app.command("get")
def config_get(key: Annotated[str, typer.Argument(help="The key.")], stack: CloudStackOpt = DEFAULT_STACK,
               as_json: JsonOpt = False) -> None:
    """One configuration value (secrets stay masked)."""
    from ecomctl.cloud.engine import qualify

    full = qualify(key)
    entry = next((e for e in _engine(stack).list_config() if e.key == full), None)
    if entry is None:
        raise ConfigError(f"{key!r} is not set on stack {stack!r}", hint="ecomctl config keys lists the defaults")
    value = "[secret]" if entry.secret else entry.value
    if as_json:
        print_json({"key": entry.key, "value": value, "secret": entry.secret})
    else:
        console.print(value, highlight=False)


@config_app.command("list")
def config_list(stack: CloudStackOpt = DEFAULT_STACK, as_json: JsonOpt = False) -> None:
    """Every value set on the stack (secrets masked)."""
    entries = _engine(stack).list_config()
    shown = {e.key: ("[secret]" if e.secret else e.value) for e in entries}
    if as_json:
        print_json({"stack": stack, "config": shown})
        return
    for key, value in shown.items():
        console.print(f"{key:<40} {value}", highlight=False)


@config_app.command("rm")
def config_rm(key: Annotated[str, typer.Argument(help="The key.")], stack: CloudStackOpt = DEFAULT_STACK) -> None:
    """Remove a value (the key goes back to its default)."""
    _engine(stack).remove_config(key)
    err_console.print(f"{stack}: {key} removed", highlight=False)


@config_app.command("keys")
def config_keys(as_json: JsonOpt = False) -> None:
    """Every documented key with its type, default and meaning (no stack needed)."""
    from programs.config import CONFIG_KEYS

    rows = [{"key": k.name, "type": k.type, "default": k.default, "secret": k.secret, "help": k.help}
            for k in CONFIG_KEYS]
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
    progress = _progress(f"refresh {stack}")
    engine = _engine(stack, progress)
    progress.run(engine.refresh, stack, "refresh")
    console.print(f"stack {stack!r} refreshed", highlight=False)


def cancel(stack: CloudStackOpt = DEFAULT_STACK) -> None:
    """Release a stack whose update was interrupted (only when no other update is running)."""
    released = _engine(stack).cancel()
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
    from blueprint.topology import TOPOLOGY
    from ecomctl.cloud.preview import stack_overrides
    from ecomctl.cloud.workspace import CloudSettings
    from programs.config import ProgramConfig
    from programs.manifests import ManifestValues, write_manifests

    if image_tag == "latest":
        raise ConfigError("refusing image tag 'latest'", hint="use a git sha or a release tag")
    if stack is not None:
        cfg = ProgramConfig.for_stack(stack, **stack_overrides(CloudSettings.load(stack)))
        aws_outputs = next((s.values for s in _engine(stack).outputs().stages if s.stage == "aws"), None)
        if not aws_outputs:
            raise ConfigError(f"stack {stack!r} has no aws outputs yet",
                              hint=f"ecomctl up --stack {stack}, or render without --stack")
        values = ManifestValues.from_stack(cfg, aws_outputs)
    else:
        cfg = ProgramConfig.for_stack(DEFAULT_STACK, image_tag=image_tag)
        values = ManifestValues(
            image_repositories={
                s.name: f"{registry.rstrip('/')}/{cfg.physical_name(s.name)}" for s in TOPOLOGY.services
            },
            image_tag=image_tag,
        )
    written = write_manifests(TOPOLOGY, out, values)
    console.print(f"wrote {len(written)} manifests to {out}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the cloud-only commands to ``app``."""
    app.add_typer(config_app, name="config")
    app.command()(refresh)
    app.command()(cancel)
    app.command()(render)
