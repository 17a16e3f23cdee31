"""The platform, described once.

Everything that needs to know *what exists* reads this module: the local runtime
(``ecomctl.local``), the Pulumi programs (``programs/``), the Kubernetes manifests, the
services' wiring (``blueprint.wiring``) and the tests. It says what exists, never how it runs:
ports are logical (the local runtime binds them on 127.0.0.1, Kubernetes turns them into
Service ports), names are logical (``physical_name`` adds a stack prefix where a cloud needs
globally unique names).

Stdlib only, no I/O: the Flink virtualenv, the CLI and the programs import it cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, TypeVar


class _Named(Protocol):
    @property
    def name(self) -> str: ...


_T = TypeVar("_T", bound=_Named)


@dataclass(frozen=True)
class Topic:
    """A Kafka topic."""

    name: str
    partitions: int
    retention_hours: int = 168
    key: str = ""
    description: str = ""


@dataclass(frozen=True)
class Index:
    """A DynamoDB global secondary index (projection ALL)."""

    name: str
    hash_key: str
    range_key: str | None = None


@dataclass(frozen=True)
class Table:
    """A DynamoDB table. Every key attribute is a string (``S``); billing is on demand."""

    name: str
    hash_key: str
    range_key: str | None = None
    indexes: tuple[Index, ...] = ()
    ttl_attribute: str | None = None
    description: str = ""

    @property
    def key_attributes(self) -> tuple[str, ...]:
        """Every attribute that appears in a key of the table or of one of its indexes."""
        names: list[str] = []
        for attr in (self.hash_key, self.range_key, *(
            a for ix in self.indexes for a in (ix.hash_key, ix.range_key)
        )):
            if attr and attr not in names:
                names.append(attr)
        return tuple(names)


@dataclass(frozen=True)
class Bucket:
    """An S3 bucket (private). ``notify_queue`` receives object-created events for ``notify_prefix``."""

    name: str
    prefixes: tuple[str, ...] = ()
    notify_queue: str | None = None
    notify_prefix: str = ""
    max_upload_bytes: int = 10 * 1024 * 1024
    upload_types: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class Queue:
    """An SQS queue. ``subscribes_to`` names an SNS topic whose messages it receives."""

    name: str
    visibility_timeout_s: int = 60
    retention_s: int = 4 * 24 * 3600
    subscribes_to: str | None = None
    description: str = ""


@dataclass(frozen=True)
class NotificationTopic:
    """An SNS topic."""

    name: str
    description: str = ""


@dataclass(frozen=True)
class Database:
    """A MySQL schema owned by exactly one service (its own user and password)."""

    name: str
    owner: str


@dataclass(frozen=True)
class Route:
    """A public path prefix the api-gateway forwards to a service."""

    prefix: str
    service: str


@dataclass(frozen=True)
class Service:
    """An HTTP microservice (one Litestar app). Every service serves /health, /ready, /metrics."""

    name: str
    package: str
    port: int
    replicas: int
    min_replicas: int
    max_replicas: int
    cpu_target: int
    cpu_request_m: int = 100
    cpu_limit_m: int = 500
    memory_request_mi: int = 128
    memory_limit_mi: int = 256
    database: str | None = None
    tables: tuple[str, ...] = ()
    produces: tuple[str, ...] = ()
    consumes: tuple[str, ...] = ()
    buckets: tuple[str, ...] = ()
    queues: tuple[str, ...] = ()
    notification_topics: tuple[str, ...] = ()
    upstreams: tuple[str, ...] = ()
    public: bool = False
    description: str = ""

    @property
    def consumer_group(self) -> str:
        """The Kafka consumer group of this service (one per service)."""
        return f"{self.name}-consumer"


@dataclass(frozen=True)
class Worker:
    """A background process without an HTTP API (the file processor)."""

    name: str
    package: str
    tables: tuple[str, ...] = ()
    buckets: tuple[str, ...] = ()
    queues: tuple[str, ...] = ()
    metrics_port: int | None = None  # where a local run serves /metrics (none where it runs as a Lambda)
    description: str = ""


@dataclass(frozen=True)
class StreamJob:
    """The PyFlink job: tumbling event-time windows from ``source`` to ``sink``."""

    name: str
    source: str
    sink: str
    window_seconds: int
    watermark_delay_s: int
    idle_timeout_s: int
    parallelism: int
    checkpoint_interval_s: int
    consumer_group: str
    description: str = ""


@dataclass(frozen=True)
class Topology:
    """The whole platform."""

    name: str
    services: tuple[Service, ...]
    workers: tuple[Worker, ...]
    stream_jobs: tuple[StreamJob, ...]
    topics: tuple[Topic, ...]
    tables: tuple[Table, ...]
    buckets: tuple[Bucket, ...]
    queues: tuple[Queue, ...]
    notification_topics: tuple[NotificationTopic, ...]
    databases: tuple[Database, ...]
    routes: tuple[Route, ...]
    gateway: str = field(default="api-gateway")

    def service(self, name: str) -> Service:
        return _by_name(self.services, name, "service")

    def topic(self, name: str) -> Topic:
        return _by_name(self.topics, name, "topic")

    def table(self, name: str) -> Table:
        return _by_name(self.tables, name, "table")

    def bucket(self, name: str) -> Bucket:
        return _by_name(self.buckets, name, "bucket")

    def queue(self, name: str) -> Queue:
        return _by_name(self.queues, name, "queue")

    def notification_topic(self, name: str) -> NotificationTopic:
        return _by_name(self.notification_topics, name, "notification topic")

    def database(self, name: str) -> Database:
        return _by_name(self.databases, name, "database")

    def validate(self) -> list[str]:
        """Every problem with the description (an empty list when it is consistent)."""
        problems: list[str] = []
        groups: dict[str, tuple[_Named, ...]] = {
            "service": self.services,
            "worker": self.workers,
            "stream job": self.stream_jobs,
            "topic": self.topics,
            "table": self.tables,
            "bucket": self.buckets,
            "queue": self.queues,
            "notification topic": self.notification_topics,
            "database": self.databases,
        }
        for kind, items in groups.items():
            names = [i.name for i in items]
            for dup in sorted({n for n in names if names.count(n) > 1}):
                problems.append(f"duplicate {kind} name {dup!r}")
        ports = [s.port for s in self.services]
        for port in sorted({p for p in ports if ports.count(p) > 1}):
            problems.append(f"duplicate service port {port}")
        topics = {t.name for t in self.topics}
        tables = {t.name for t in self.tables}
        buckets = {b.name for b in self.buckets}
        queues = {q.name for q in self.queues}
        sns = {n.name for n in self.notification_topics}
        services = {s.name for s in self.services}
        databases = {d.name: d for d in self.databases}

        def check(owner: str, kind: str, refs: tuple[str, ...], known: set[str]) -> None:
            for ref in refs:
                if ref not in known:
                    problems.append(f"{owner} refers to unknown {kind} {ref!r}")

        for s in self.services:
            check(s.name, "table", s.tables, tables)
            check(s.name, "topic", s.produces + s.consumes, topics)
            check(s.name, "bucket", s.buckets, buckets)
            check(s.name, "queue", s.queues, queues)
            check(s.name, "notification topic", s.notification_topics, sns)
            check(s.name, "service", s.upstreams, services)
            if s.database is not None:
                db = databases.get(s.database)
                if db is None:
                    problems.append(f"{s.name} refers to unknown database {s.database!r}")
                elif db.owner != s.name:
                    problems.append(f"{s.name} uses database {s.database!r} owned by {db.owner!r}")
            if not 1 <= s.min_replicas <= s.replicas <= s.max_replicas:
                problems.append(f"{s.name}: need 1 <= min_replicas <= replicas <= max_replicas")
            if not 1 <= s.cpu_target <= 100:
                problems.append(f"{s.name}: cpu_target must be a percentage")
        for w in self.workers:
            check(w.name, "table", w.tables, tables)
            check(w.name, "bucket", w.buckets, buckets)
            check(w.name, "queue", w.queues, queues)
        for j in self.stream_jobs:
            check(j.name, "topic", (j.source, j.sink), topics)
        for b in self.buckets:
            if b.notify_queue is not None:
                check(f"bucket {b.name}", "queue", (b.notify_queue,), queues)
        for q in self.queues:
            if q.subscribes_to is not None:
                check(f"queue {q.name}", "notification topic", (q.subscribes_to,), sns)
        for r in self.routes:
            check(f"route {r.prefix}", "service", (r.service,), services)
        for d in self.databases:
            check(f"database {d.name}", "service", (d.owner,), services)
        if self.gateway not in services:
            problems.append(f"gateway {self.gateway!r} is not a service")
        return problems


def _by_name(items: tuple[_T, ...], name: str, kind: str) -> _T:
    for item in items:
        if item.name == name:
            return item
    raise KeyError(f"no {kind} named {name!r}")


def env_suffix(name: str) -> str:
    """``orders-events`` -> ``ORDERS_EVENTS``: how a logical name appears in an env var."""
    return name.upper().replace("-", "_").replace(".", "_")


TOPOLOGY = Topology(
    name="ecomctl",
    services=(
        Service(
            name="api-gateway", package="services.gateway", port=8000,
            replicas=2, min_replicas=2, max_replicas=10, cpu_target=60,
            cpu_request_m=200, cpu_limit_m=1000,
            upstreams=("users", "products", "orders", "notifications", "analytics"),
            tables=("revoked-tokens",), buckets=("data",), public=True,
            description="the only public entry: auth, routing, /schema, storefront, presigned uploads",
        ),
        Service(
            name="users", package="services.users", port=8001,
            replicas=2, min_replicas=2, max_replicas=6, cpu_target=70,
            database="users", tables=("revoked-tokens",),
            description="registration, login (argon2), logout, profiles, admin listing",
        ),
        Service(
            name="products", package="services.products", port=8002,
            replicas=2, min_replicas=2, max_replicas=8, cpu_target=70,
            tables=("products", "revoked-tokens"),
            description="the catalogue with stock, in DynamoDB",
        ),
        Service(
            name="orders", package="services.orders", port=8003,
            replicas=2, min_replicas=2, max_replicas=8, cpu_target=70,
            database="orders", tables=("products", "revoked-tokens"), produces=("orders-events",),
            description="server-priced orders, atomic stock reservation, transactional outbox",
        ),
        Service(
            name="notifications", package="services.notifications", port=8004,
            replicas=1, min_replicas=1, max_replicas=4, cpu_target=75,
            tables=("notifications", "processed-events", "revoked-tokens"), consumes=("orders-events",),
            notification_topics=("order-notifications",),
            description="one notification per order event, via SNS; per-user log",
        ),
        Service(
            name="analytics", package="services.analytics", port=8005,
            replicas=1, min_replicas=1, max_replicas=4, cpu_target=75,
            tables=("analytics", "revoked-tokens"), consumes=("analytics-results",),
            description="stores the stream job's windows and serves the analytics API",
        ),
    ),
    workers=(
        Worker(
            name="file-processor", package="services.file_processor",
            buckets=("data",), queues=("file-uploads",), metrics_port=8090,
            description="the S3 Lambda handler: uploads/... -> processed/...",
        ),
    ),
    stream_jobs=(
        StreamJob(
            name="orders-analytics", source="orders-events", sink="analytics-results",
            window_seconds=60, watermark_delay_s=5, idle_timeout_s=10, parallelism=1,
            checkpoint_interval_s=10, consumer_group="orders-analytics-flink",
            description="1-minute tumbling event-time windows over order events",
        ),
    ),
    topics=(
        Topic("orders-events", partitions=3, key="order id",
              description="order.created / order.cancelled, from the orders outbox"),
        Topic("analytics-results", partitions=1, key="window key",
              description="the stream job's 1-minute window results"),
    ),
    tables=(
        Table("products", hash_key="product_id",
              indexes=(Index("by-category", hash_key="category", range_key="product_id"),),
              description="the catalogue; stock is kept on the item"),
        Table("notifications", hash_key="user_id", range_key="notification_id",
              description="per-user notification log"),
        Table("processed-events", hash_key="event_key", ttl_attribute="expires_at",
              description="consumer idempotency guard: consumer + event_id"),
        Table("analytics", hash_key="pk", range_key="sk",
              description="window results: pk=WINDOW sk=<start>; pk=PRODUCT#<start> sk=<product>"),
        Table("revoked-tokens", hash_key="jti", ttl_attribute="expires_at",
              description="logged-out tokens until they expire; every service reads it"),
    ),
    buckets=(
        Bucket("data", prefixes=("uploads/", "processed/"), notify_queue="file-uploads",
               notify_prefix="uploads/",
               upload_types=("text/plain", "text/csv", "application/json"),
               description="private data bucket: user uploads and their processed form"),
    ),
    queues=(
        Queue("file-uploads", visibility_timeout_s=60,
              description="S3 object-created events for uploads/ (local stand-in for the Lambda trigger)"),
        Queue("notification-deliveries", subscribes_to="order-notifications", retention_s=15 * 60,
              description="an SQS subscriber of the notification topic (what was sent)"),
    ),
    notification_topics=(
        NotificationTopic("order-notifications", description="order confirmations and cancellations"),
    ),
    databases=(
        Database("users", owner="users"),
        Database("orders", owner="orders"),
    ),
    routes=(
        Route("/api/users", "users"),
        Route("/api/auth", "users"),
        Route("/api/products", "products"),
        Route("/api/orders", "orders"),
        Route("/api/notifications", "notifications"),
        Route("/api/analytics", "analytics"),
    ),
)
