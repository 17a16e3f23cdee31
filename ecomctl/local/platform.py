"""The local stack as one object: ``up``, ``down``, ``status``, logs — used by the CLI and tests."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

from filelock import FileLock, Timeout

from blueprint.topology import TOPOLOGY, Service, Worker
from blueprint.wiring import service_env, stream_job_env, worker_env
from ecomctl import secrets as stack_secrets
from ecomctl.errors import ConfigError, LockedError, PortInUseError, StartupError
from ecomctl.local import apps, awsapi, chaos, dynamodb, flink, kafka, mariadb, probes, prometheus
from ecomctl.local.context import LocalContext
from ecomctl.local.layout import Layout
from ecomctl.local.spec import ComponentSpec, ProbeResult
from ecomctl.local.supervisor import ProcessInfo, Supervisor, kill_strays, stray_processes
from ecomctl.platform import Alert, Backlog, ComponentStatus, Credentials, Reporter, StackStatus
from ecomctl.settings import LOCAL_STACK, Settings

STORES = (mariadb, kafka, dynamodb, awsapi)
# Started with the stores (it needs none of them); nothing uses it, so `down` stops it first.
INFRA = (*STORES, prometheus)


class QuietReporter:
    def step(self, message: str) -> None:
        pass

    def component(self, name: str, state: str, detail: str) -> None:
        pass


def component_names() -> list[str]:
    """Every component of the local stack, in start order."""
    return [m.NAME for m in INFRA] + [s.name for s in TOPOLOGY.services] + [
        w.name for w in TOPOLOGY.workers] + [j.name for j in TOPOLOGY.stream_jobs]


def component_users() -> dict[str, set[str]]:
    """For each component, the components that use it while they run (``down`` stops them first)."""
    users: dict[str, set[str]] = {name: set() for name in component_names()}
    parts: list[Service | Worker] = [*TOPOLOGY.services, *TOPOLOGY.workers]
    for part in parts:
        for store in apps.stores_used(part):
            users[store].add(part.name)
    for job in TOPOLOGY.stream_jobs:
        for store in flink.USES:
            users[store].add(job.name)
    return users


class LocalPlatform:
    """The whole platform on this machine (one per state directory)."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.load()
        self.layout = Layout(self.settings.stack_dir(LOCAL_STACK))
        self.supervisor = Supervisor(self.layout)

    # -- what exists ----------------------------------------------------------------------
    @cached_property
    def context(self) -> LocalContext:
        secrets = stack_secrets.load_or_create(self.layout.secrets_file)
        return LocalContext(self.settings, secrets)

    @property
    def created(self) -> bool:
        return self.layout.secrets_file.exists()

    def specs(self) -> list[ComponentSpec]:
        ctx = self.context
        specs = [m.spec(ctx) for m in INFRA]
        specs += [apps.service_spec(ctx, s) for s in ctx.topology.services]
        specs += [apps.worker_spec(ctx, w) for w in ctx.topology.workers]
        specs += [flink.spec(ctx, j) for j in ctx.topology.stream_jobs]
        return specs

    # -- up ----------------------------------------------------------------------------------
    def up(self, reporter: Reporter | None = None) -> StackStatus:
        """Create or update the local stack and wait until every component is healthy."""
        report = reporter or QuietReporter()
        self.layout.ensure()
        with self._lock(report):
            ctx = self.context
            report.step("checking prerequisites")
            for store in INFRA:
                store.prepare(ctx, report.step)
            flink.prepare(ctx, report.step)
            specs = self.specs()
            if not self.supervisor.running():
                killed = kill_strays(self.layout)
                if killed:
                    report.step(f"stopped {killed} leftover process(es) of an earlier run")
            self._check_ports(specs)
            changed = self.supervisor.ensure_running(specs)
            chaos.active(self.layout, self.supervisor)  # restores what a dead `ecomctl chaos` left
            if changed:
                report.step(f"supervisor configured ({len(changed)} component(s) new or changed)")
            self._start_all(specs, report)
        return self.status()

    @contextmanager
    def _lock(self, report: Reporter) -> Iterator[None]:
        """One ``up``/``down`` at a time per stack; a second one waits for the first."""
        lock = FileLock(str(self.layout.lock_file))
        try:
            lock.acquire(timeout=0.2)
        except Timeout:
            report.step("another ecomctl is changing the local stack; waiting for it")
            try:
                lock.acquire(timeout=self.settings.ready_timeout_s + 120)
            except Timeout:
                raise LockedError(
                    "the local stack is locked by another ecomctl command",
                    hint="wait for it to finish (ecomctl status shows progress)",
                ) from None
        try:
            yield
        finally:
            lock.release()

    def _check_ports(self, specs: Sequence[ComponentSpec]) -> None:
        ours = {p.name for p in self.supervisor.processes() if p.state in ("RUNNING", "STARTING")}
        for spec in specs:
            if spec.name in ours:
                continue
            for port in spec.ports:
                if probes.port_in_use(port):
                    holder = _port_holder(port)
                    env_key = f"ECOMCTL_PORT_{spec.name.upper().replace('-', '_')}"
                    raise PortInUseError(
                        f"port {port} for {spec.name} is already in use{holder}",
                        hint=f"stop that process, or choose other ports: {env_key}=<port> "
                        "or ECOMCTL_PORT_OFFSET=<n> (shifts every port)",
                    )

    def _start_all(
        self, specs: Sequence[ComponentSpec], report: Reporter, already_ready: frozenset[str] = frozenset()
    ) -> None:
        """Start each component as soon as what it requires is healthy; wait for all of them.

        A store is provisioned (databases, topics, tables) right after it turns healthy and
        before anything that requires it starts.
        """
        pending = {s.name: s for s in specs}
        ready: set[str] = set(already_ready)
        started: set[str] = set()
        deadline = time.monotonic() + self.settings.ready_timeout_s
        last: dict[str, str] = {}
        with ThreadPoolExecutor(max_workers=max(1, len(specs))) as pool:
            while pending:
                infos = {p.name: p for p in self.supervisor.processes()}
                for spec in pending.values():
                    if spec.name in started or not set(spec.requires) <= ready:
                        continue
                    info = infos.get(spec.name)
                    if info is None or info.state not in ("RUNNING", "STARTING", "BACKOFF"):
                        report.component(spec.name, "starting", "")
                        self.supervisor.start(spec.name)
                    started.add(spec.name)
                watched = [s for s in pending.values() if s.name in started]
                for spec, (state, detail) in zip(
                    watched, pool.map(_check, watched, [infos.get(s.name) for s in watched]), strict=True
                ):
                    if state == "stopped":  # asked to start a moment ago
                        state = "starting"
                    if state == "healthy":
                        if spec.provision is not None:
                            spec.provision()
                        report.component(spec.name, "healthy", detail)
                        ready.add(spec.name)
                        del pending[spec.name]
                    elif state == "failed":
                        raise self._startup_error(spec, detail)
                    elif last.get(spec.name) != detail:
                        report.component(spec.name, state, detail)
                    last[spec.name] = detail
                if pending and time.monotonic() > deadline:
                    spec = pending[sorted(pending)[0]]
                    raise self._startup_error(
                        spec, f"not healthy after {self.settings.ready_timeout_s:.0f} s "
                        f"({last.get(spec.name, 'waiting for ' + ', '.join(spec.requires))})")
                if pending:
                    time.sleep(0.1)

    def _startup_error(self, spec: ComponentSpec, detail: str) -> StartupError:
        return StartupError(
            f"{spec.name} did not start: {detail}",
            hint=f"full log: {self.layout.log_file(spec.name)} (ecomctl logs {spec.name})",
            details=f"last lines of the {spec.name} log:\n" + self._tail(self.layout.log_file(spec.name), 20),
        )

    # -- down --------------------------------------------------------------------------------
    def down(self, purge: bool = False, reporter: Reporter | None = None) -> None:
        """Stop everything, each component after those that use it; ``purge`` also deletes the data."""
        report = reporter or QuietReporter()
        if not self.layout.root.exists():
            return
        with self._lock(report):
            if self.supervisor.running():
                report.step("stopping components, each once nothing that uses it runs")
                self.supervisor.stop_in_order(component_names(), component_users(),
                                              on_change=lambda name, state: report.component(name, state, ""))
                self.supervisor.shutdown()
            killed = kill_strays(self.layout)
            if killed:
                report.step(f"stopped {killed} leftover process(es)")
            self.layout.supervisor_socket.unlink(missing_ok=True)
            self.layout.socket(mariadb.NAME).unlink(missing_ok=True)
        if purge:
            report.step(f"deleting {self.layout.root}")
            shutil.rmtree(self.layout.root, ignore_errors=True)

    # -- status, logs -------------------------------------------------------------------------
    def status(self) -> StackStatus:
        if not self.created:
            comps = tuple(
                ComponentStatus(n, "", "absent", None, None, 0.0, "never started")
                for n in component_names()
            )
            return StackStatus(LOCAL_STACK, comps, {}, str(self.layout.root))
        specs = self.specs()
        faults = chaos.active(self.layout, self.supervisor)  # first: restores what a dead `ecomctl chaos` left
        infos = {p.name: p for p in self.supervisor.processes()}
        with ThreadPoolExecutor(max_workers=len(specs)) as pool:
            checked = list(pool.map(_check, specs, [infos.get(s.name) for s in specs]))
        checked = [("chaos", faults[s.name].describe()) if s.name in faults else c
                   for s, c in zip(specs, checked, strict=True)]
        comps = tuple(
            ComponentStatus(
                name=s.name, kind=s.kind, state=state, url=s.url,
                pid=(infos[s.name].pid or None) if s.name in infos else None,
                uptime_s=infos[s.name].uptime_s if s.name in infos else 0.0, detail=detail,
            )
            for s, (state, detail) in zip(specs, checked, strict=True)
        )
        endpoints = {"gateway": self.gateway_url}
        endpoints.update({s.name: s.url for s in specs if s.url and s.kind == "service"})
        endpoints.update({"kafka": self.kafka_bootstrap, "aws": self.context.aws_url,
                          "dynamodb": self.context.dynamodb_url,
                          "mysql": f"{self.mysql_host}:{self.mysql_port}",
                          "prometheus": self.prometheus_url})
        return StackStatus(LOCAL_STACK, comps, endpoints, str(self.layout.root), self.firing_alerts(),
                           self.backlog())

    def seed_sample_data(self, skip: bool) -> int | None:
        from ecomctl.demo.seed import seed_new_stack

        seeded = seed_new_stack(self.layout.root, self.gateway_url, self.admin_email, self.admin_password, skip=skip)
        return None if seeded is None else seeded.created

    def backlog(self) -> Backlog | None:
        """The follow-on work not done yet, from the stack's Prometheus (None when it does not answer)."""
        try:
            return prometheus.backlog(self.prometheus_url)
        except (OSError, ValueError, KeyError):
            return None

    def firing_alerts(self) -> tuple[Alert, ...]:
        try:
            return tuple(prometheus.firing_alerts(self.prometheus_url))
        except (OSError, ValueError, KeyError):  # Prometheus stopped or starting: its row says so
            return ()

    @property
    def stack(self) -> str:
        return LOCAL_STACK

    def outputs(self) -> dict[str, str]:
        return dict(self.status().endpoints)

    def credentials(self) -> Credentials:
        found = stack_secrets.load(self.layout.secrets_file)
        if found is None:
            raise ConfigError("the local stack has no credentials yet", hint="run: ecomctl up")
        return Credentials(found.admin_email, found.admin_password)

    def access(self) -> list[str]:
        return [f"storefront  {self.gateway_url}/",
                "log in      admin e-mail and password from `ecomctl credentials`; stop: `ecomctl down`"]

    def log_path(self, name: str) -> Path:
        if name not in component_names() and name != "supervisord":
            raise ConfigError(
                f"no component named {name!r}",
                hint="one of: " + ", ".join([*component_names(), "supervisord"]),
            )
        return self.layout.supervisor_log if name == "supervisord" else self.layout.log_file(name)

    def log_tail(self, name: str, lines: int = 20) -> str:
        """The last ``lines`` of a component's log, secrets masked."""
        return self._tail(self.log_path(name), lines)

    def follow_log(self, name: str) -> Iterator[str]:
        """New text of a component's log as it is written (secrets masked); a rotated log starts over."""
        path = self.log_path(name)
        secret_values = self.context.secrets.values() if self.created else []
        position = path.stat().st_size if path.exists() else 0
        while True:
            size = path.stat().st_size if path.exists() else 0
            if size < position:  # rotated
                position = 0
            if size > position:
                with path.open("rb") as fh:
                    fh.seek(position)
                    chunk = fh.read()
                position += len(chunk)
                yield stack_secrets.redact(chunk.decode(errors="replace"), secret_values)
            time.sleep(0.3)

    def _tail(self, path: Path, lines: int) -> str:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            return "(no log yet)"
        secret_values = self.context.secrets.values() if self.created else []
        return stack_secrets.redact("\n".join(text.splitlines()[-lines:]), secret_values)

    # -- control of single components (fault tests, operators) ---------------------------------
    def stop_component(self, name: str) -> None:
        self.supervisor.stop_many([self._known(name)])

    def start_component(self, name: str, wait: bool = True) -> None:
        spec = next(s for s in self.specs() if s.name == self._known(name))
        self.supervisor.start(name)
        if wait:
            others = frozenset(component_names()) - {name}
            self._start_all([spec], QuietReporter(), already_ready=others)

    def _known(self, name: str) -> str:
        if name not in component_names():
            raise ConfigError(f"no component named {name!r}")
        return name

    def process(self, name: str) -> ProcessInfo | None:
        return self.supervisor.process(name)

    def strays(self) -> list[int]:
        return stray_processes(self.layout)

    # -- endpoints for clients and tests -------------------------------------------------------
    @property
    def state_dir(self) -> Path:
        return self.layout.root

    @property
    def gateway_url(self) -> str:
        return self.context.url(TOPOLOGY.gateway)

    def service_url(self, name: str) -> str:
        return self.context.url(TOPOLOGY.service(name).name)

    def service_env(self, name: str) -> dict[str, str]:
        env = service_env(TOPOLOGY.service(name), self.context.endpoints)
        return {k: str(v) for k, v in env.items()}

    def worker_env(self, name: str) -> dict[str, str]:
        worker = next(w for w in TOPOLOGY.workers if w.name == name)
        return {k: str(v) for k, v in worker_env(worker, self.context.endpoints).items()}

    def stream_env(self, job_name: str) -> dict[str, str]:
        job = next(j for j in TOPOLOGY.stream_jobs if j.name == job_name)
        return {k: str(v) for k, v in stream_job_env(job, self.context.endpoints).items()}

    @property
    def kafka_bootstrap(self) -> str:
        return self.context.kafka_bootstrap

    @property
    def prometheus_url(self) -> str:
        return self.context.url(prometheus.NAME)

    @property
    def mysql_host(self) -> str:
        return "127.0.0.1"

    @property
    def mysql_port(self) -> int:
        return self.context.port(mariadb.NAME)

    @property
    def mysql_root_password(self) -> str:
        return self.context.secrets.mysql_root_password

    @property
    def aws_env(self) -> dict[str, str]:
        return self.context.aws_env

    @property
    def admin_email(self) -> str:
        return self.context.secrets.admin_email

    @property
    def admin_password(self) -> str:
        return self.context.secrets.admin_password


def _check(spec: ComponentSpec, info: ProcessInfo | None) -> tuple[str, str]:
    """(state, detail) of one component from its process state and its probe."""
    if info is None:
        return "stopped", "not running"
    if info.state == "FATAL":
        return "failed", "exited repeatedly (supervisor gave up)"
    if info.state in ("STARTING", "BACKOFF"):
        return "starting", info.state.lower()
    if info.state != "RUNNING":
        return "stopped", info.state.lower()
    result: ProbeResult = spec.probe()
    if result.ok:
        return "healthy", result.detail
    return ("starting" if info.uptime_s < 15 else "unhealthy"), result.detail


def _port_holder(port: int) -> str:
    import psutil

    try:
        for conn in psutil.net_connections(kind="inet"):
            if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN and conn.pid:
                proc = psutil.Process(conn.pid)
                return f" by {proc.name()} (pid {conn.pid})"
    except (psutil.Error, OSError):
        pass
    return ""

