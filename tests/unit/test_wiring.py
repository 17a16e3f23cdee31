from __future__ import annotations

from blueprint.topology import TOPOLOGY
from blueprint.wiring import mysql_user, service_env, stream_job_env, worker_env
from ecomctl.local.context import LocalContext
from ecomctl.secrets import StackSecrets
from ecomctl.settings import Settings


def _ctx() -> LocalContext:
    return LocalContext(Settings.load({"HOME": "/h", "ECOMCTL_PORT_OFFSET": "7"}), StackSecrets.generate())


def test_each_service_gets_exactly_what_it_uses() -> None:
    ctx = _ctx()
    orders = service_env(TOPOLOGY.service("orders"), ctx.endpoints)
    assert orders["PORT"] == str(8003 + 7) and orders["HOST"] == "127.0.0.1"
    assert orders["MYSQL_USER"] == mysql_user("orders") and orders["MYSQL_DATABASE"] == "orders"
    assert orders["MYSQL_PASSWORD"] == ctx.secrets.mysql_passwords["orders"]
    assert orders["TOPIC_ORDERS_EVENTS"] == "orders-events"
    assert orders["TABLE_PRODUCTS"] == "ecomctl-local-products"
    assert orders["AWS_ENDPOINT_URL_DYNAMODB"] == ctx.dynamodb_url
    assert "KAFKA_CONSUMER_GROUP" not in orders  # a producer only

    products = service_env(TOPOLOGY.service("products"), ctx.endpoints)
    assert not any(k.startswith(("MYSQL_", "KAFKA_")) for k in products)

    notifications = service_env(TOPOLOGY.service("notifications"), ctx.endpoints)
    assert notifications["KAFKA_CONSUMER_GROUP"] == "notifications-consumer"
    assert notifications["SNS_TOPIC_ORDER_NOTIFICATIONS_ARN"].endswith(":ecomctl-local-order-notifications")

    gateway = service_env(TOPOLOGY.service("api-gateway"), ctx.endpoints)
    assert gateway["UPSTREAM_USERS_URL"] == f"http://127.0.0.1:{8001 + 7}"
    assert gateway["BUCKET_DATA"] == "ecomctl-local-data"
    assert "ADMIN_PASSWORD" not in gateway and "MYSQL_PASSWORD" not in gateway

    users = service_env(TOPOLOGY.service("users"), ctx.endpoints)
    assert users["ADMIN_PASSWORD"] == ctx.secrets.admin_password


def test_worker_and_stream_job_env() -> None:
    ctx = _ctx()
    fp = worker_env(TOPOLOGY.workers[0], ctx.endpoints)
    assert fp["QUEUE_FILE_UPLOADS_URL"].endswith("/123456789012/ecomctl-local-file-uploads")
    job = stream_job_env(TOPOLOGY.stream_jobs[0], ctx.endpoints)
    assert job["SOURCE_TOPIC"] == "orders-events" and job["SINK_TOPIC"] == "analytics-results"
    assert job["KAFKA_BOOTSTRAP_SERVERS"] == ctx.kafka_bootstrap
    assert job["WINDOW_SECONDS"] == "60"
