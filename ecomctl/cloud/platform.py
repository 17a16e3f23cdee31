"""A cloud stack as one object with ``LocalPlatform``'s face: up, down, status, outputs, credentials.

``up`` checks everything the stages need (``prereqs.preflight``) and evaluates the programs
offline (resources, policies, hourly cost) before the first stage changes anything, shows that
list, asks, then runs the stages and submits the stream job. ``down`` lists what it deletes and
asks; on a production stack only the stack's name typed back (or ``--yes-destroy-production``)
lets it go on. The cloud-only operations (preview, refresh, cancel, config, render) are here too;
the CLI calls one of them per command and renders the result.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ecomctl.cloud import prereqs
from ecomctl.cloud.engine import ConfigEntry, DeployedResource, Engine, EventSink, StackOutputs, qualify
from ecomctl.cloud.preview import PreviewReport, offline_preview, stack_overrides
from ecomctl.cloud.programs import load_programs
from ecomctl.cloud.stages import StageLike, platform_stages
from ecomctl.cloud.workspace import CloudSettings, require_pulumi_cli
from ecomctl.errors import CancelledByOperator, CloudError, ConfigError
from ecomctl.platform import ComponentStatus, Credentials, Operator, StackStatus

#: The addresses shown after ``up`` and by ``outputs``: (label, output name).
ADDRESSES = (("storefront", "storefront_url"), ("Grafana", "grafana_url"), ("Argo CD", "argocd_url"))
NOT_AVAILABLE = "not available for a cloud stack"


class CloudPlatform:
    """One cloud stack (every stage's Pulumi stack), driven through ``Engine``."""

    def __init__(self, stack: str, environ: Mapping[str, str] | None = None) -> None:
        self.settings = CloudSettings.load(stack, environ)
        self._environ = environ
        self._outputs: StackOutputs | None = None

    @property
    def stack(self) -> str:
        return self.settings.stack

    @property
    def stages(self) -> tuple[StageLike, ...]:
        return tuple(platform_stages())

    def engine(self, sink: EventSink | None = None) -> Engine:
        return Engine(self.settings, on_event=sink)

    def config(self) -> Any:
        """The stack's program configuration (defaults, then its ``ecomctl:*`` values)."""
        return load_programs().config(self.stack, stack_overrides(self.settings))

    @property
    def production(self) -> bool:
        return bool(getattr(self.config(), "production", False))

    # -- up ------------------------------------------------------------------------------
    def preflight(self) -> PreviewReport:
        """Every tool, credential and reachability the stages need, then the offline evaluation.

        Raises ``PrerequisiteError`` for the first missing piece and ``CloudError`` for policy
        violations; nothing has changed in any cloud when it does."""
        needs = [need for stage in self.stages for need in getattr(stage, "needs", ())]
        prereqs.require(prereqs.preflight(needs, self.config(), self.stack, self._environ))
        report = offline_preview(self.stack, self.stages, self._environ)
        if report.violations:
            rules = sorted({v.rule for v in report.violations})
            raise CloudError(f"{len(report.violations)} policy violation(s): {', '.join(rules)}",
                             hint=f"ecomctl preview --offline --stack {self.stack} shows them")
        return report

    def up(self, reporter: Operator) -> StackStatus:
        report = self.preflight()
        if not reporter.confirm(
                f"Create or update cloud stack {self.stack!r} (about {report.cost.hourly_usd:.2f} USD/hour)?",
                plan_listing(report)):
            raise CancelledByOperator(f"up of stack {self.stack!r} not confirmed: nothing was changed")
        outputs: StackOutputs = reporter.run(f"up {self.stack}", lambda sink: self.engine(sink).up(),
                                             self.stack, "up")
        self._outputs = outputs
        if outputs.get("dataproc_cluster"):
            from ecomctl.cloud.flink import submit_stream_job

            reporter.step(f"Flink job submitted to Dataproc: {submit_stream_job(outputs)}")
        else:
            reporter.step("no Dataproc cluster among the outputs: stream job not submitted")
        return self._status(outputs)

    # -- down ----------------------------------------------------------------------------
    def seed_sample_data(self, skip: bool) -> int | None:
        """A cloud stack's catalogue is seeded by ``ecomctl demo --stack``, which knows its admin login."""
        return None

    def down(self, purge: bool, reporter: Operator) -> None:
        require_pulumi_cli()
        doomed = self.engine().resources()
        listing = [f"{r.stage:<5} {r.type} {r.name}" for r in doomed]
        title = (f"stack {self.stack!r}: {len(doomed)} resources to delete (in this order)" if doomed
                 else f"stack {self.stack!r} has no resources")
        if doomed and self.production:
            if not reporter.confirm_by_name(
                    f"{title}\nstack {self.stack!r} is a production stack: type its name to delete it",
                    self.stack, listing):
                raise CancelledByOperator(f"down of production stack {self.stack!r} not confirmed: nothing deleted",
                                          hint="type the stack name when asked, or pass --yes-destroy-production")
        elif doomed and not reporter.confirm(f"{title}\nDelete these {len(doomed)} resources?", listing):
            raise CancelledByOperator(f"down of stack {self.stack!r} not confirmed: nothing deleted")
        reporter.run(f"down {self.stack}", lambda sink: self.engine(sink).destroy(remove=purge), self.stack, "down")
        if purge:
            shutil.rmtree(self.settings.stack_dir, ignore_errors=True)

    # -- what exists ---------------------------------------------------------------------
    def status(self) -> StackStatus:
        return self._status(self._current())

    def _current(self) -> StackOutputs:
        if self._outputs is None:
            self._outputs = self.engine().outputs()
        return self._outputs

    def _status(self, outputs: StackOutputs) -> StackStatus:
        present = {s.stage for s in outputs.stages if s.values}  # a destroyed stage's stack has no outputs
        components = []
        for stage in self.stages:
            url = next((v for s in outputs.stages if s.stage == stage.name
                        for k, v in s.values.items() if k.endswith("_url") and isinstance(v, str)), None)
            components.append(ComponentStatus(
                name=stage.name, kind="stage", state="deployed" if stage.name in present else "absent",
                url=url, pid=None, uptime_s=0.0, detail=str(getattr(stage, "description", ""))))
        endpoints = {"gateway": str(outputs.get("storefront_url") or "")}
        return StackStatus(self.stack, tuple(components), endpoints, str(self.settings.stack_dir))

    def outputs(self) -> dict[str, Any]:
        found = self._current()
        if not found.stages:
            raise ConfigError(f"stack {self.stack!r} has no outputs yet", hint=f"ecomctl up --stack {self.stack}")
        secret = found.secret_keys()
        return {k: ("[secret]" if k in secret else v) for k, v in found.flat().items()}

    def credentials(self) -> Credentials:
        found = self._current()
        email, password = found.get("admin_email"), found.get("admin_password")
        if not email or not password:
            raise ConfigError(f"stack {self.stack!r} has no admin login yet", hint=f"ecomctl up --stack {self.stack}")
        return Credentials(str(email), str(password))

    def access(self) -> list[str]:
        found = self._current()
        lines = [f"{label:<11} {found.get(key) or '(not exported)'}" for label, key in ADDRESSES]
        cluster, region = found.get("cluster_name") or "<cluster>", found.get("region") or "<region>"
        return [
            *lines,
            f"log in      storefront: admin e-mail and password from `ecomctl credentials --stack {self.stack}`",
            f"            kubectl:    aws eks update-kubeconfig --name {cluster} --region {region}",
            "            Grafana:    user admin, password: kubectl -n monitoring get secret "
            "kube-prometheus-stack-grafana -o jsonpath='{.data.admin-password}' | base64 -d",
            "            Argo CD:    user admin, password: kubectl -n argocd get secret "
            "argocd-initial-admin-secret -o jsonpath='{.data.password}' | base64 -d",
        ]

    def log_tail(self, name: str, lines: int) -> str:
        raise ConfigError(f"logs are {NOT_AVAILABLE}", hint=self._kubectl_logs_hint(name))

    def follow_log(self, name: str) -> Iterator[str]:
        raise ConfigError(f"logs are {NOT_AVAILABLE}", hint=self._kubectl_logs_hint(name))

    def _kubectl_logs_hint(self, name: str) -> str:
        return (f"on the cluster: kubectl logs -l app.kubernetes.io/name={name} --all-containers "
                f"(kubeconfig: ecomctl outputs --stack {self.stack} shows the command)")

    # -- cloud-only operations -----------------------------------------------------------
    def preview(self, reporter: Operator) -> dict[str, dict[str, int] | None]:
        """Per stage, the changes ``up`` would make (``None``: an earlier stage is not deployed)."""
        changes: dict[str, dict[str, int] | None] = reporter.run(
            f"preview {self.stack}", lambda sink: self.engine(sink).preview(), self.stack, "preview")
        return changes

    def refresh(self, reporter: Operator) -> None:
        reporter.run(f"refresh {self.stack}", lambda sink: self.engine(sink).refresh(), self.stack, "refresh")

    def cancel(self) -> list[str]:
        """The stages whose lock was released."""
        return list(self.engine().cancel())

    def resources(self) -> list[DeployedResource]:
        return list(self.engine().resources())

    def set_config(self, key: str, value: str, secret: bool) -> None:
        self.engine().set_config(key, value, secret)

    def config_entries(self) -> list[ConfigEntry]:
        return list(self.engine().list_config())

    def config_entry(self, key: str) -> ConfigEntry:
        full = qualify(key)
        entry = next((e for e in self.config_entries() if e.key == full), None)
        if entry is None:
            raise ConfigError(f"{key!r} is not set on stack {self.stack!r}",
                              hint="ecomctl config keys lists the defaults")
        return entry

    def remove_config(self, key: str) -> None:
        self.engine().remove_config(key)

    def aws_outputs(self) -> Mapping[str, Any]:
        found = next((s.values for s in self._current().stages if s.stage == "aws"), None)
        if not found:
            raise ConfigError(f"stack {self.stack!r} has no aws outputs yet",
                              hint=f"ecomctl up --stack {self.stack}, or render without --stack")
        return found


def plan_listing(report: PreviewReport) -> list[str]:
    """What ``up`` will create or keep, with its cost: counts per stage, then each priced resource."""
    per_stage = Counter(r.stage for r in report.resources)
    cost = report.cost
    lines = [
        f"{len(report.resources)} resources ({', '.join(f'{s} {n}' for s, n in per_stage.items())}); "
        f"about {cost.hourly_usd:.2f} USD/hour, {cost.daily_usd:.2f} USD/day ({cost.regions}, list prices "
        f"taken {cost.taken})",
    ]
    lines += [f"  {line.hourly_usd:8.4f} USD/h  {line.resource}: {line.what}" for line in cost.lines]
    unpriced = Counter(r.type for r in report.resources) - Counter(
        line.resource.split(" ", 1)[0] for line in cost.lines)
    if unpriced:
        lines.append(f"  no hourly price: {sum(unpriced.values())} resources of {len(unpriced)} types")
    lines += [f"  unpriced: {item}" for item in cost.unpriced]
    if cost.not_included:
        lines.append(f"  not included: {cost.not_included}")
    return lines


def render_manifests(out: Path, stack: str | None, image_tag: str, registry: str,
                     default_stack: str = "dev") -> list[Path]:
    """The Kubernetes manifests for Argo CD: from a deployed stack's outputs, or named under ``registry``."""
    if image_tag == "latest":
        raise ConfigError("refusing image tag 'latest'", hint="use a git sha or a release tag")
    programs = load_programs()
    if stack is not None:
        platform = CloudPlatform(stack)
        return programs.write_manifests(platform.config(), out, platform.aws_outputs(), registry)
    cfg = programs.config(default_stack, {"image_tag": image_tag})
    return programs.write_manifests(cfg, out, None, registry)
