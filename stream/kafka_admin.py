"""What the job asks of Kafka itself (runs in the Flink venv).

``wait_for_source`` waits until the job's source topic exists (Kafka reachable and provisioned), so
the job's own start overlaps Kafka's. ``reset_consumer_group`` forgets the job's committed source
offsets, so that a job started without state reads the retained events from the start (see
``stream.job``: a changed job whose saved state no longer fits). Both use the job's own Kafka client
(the connector's shaded ``AdminClient``, through the PyFlink gateway) with the source's connection
settings (``stream.sql.kafka_options``: bootstrap servers, security protocol, SASL), so whatever the
job can reach, they can.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from stream.settings import JobSettings
from stream.sql import kafka_options

_ADMIN_CLIENT = "org.apache.flink.kafka.shaded.org.apache.kafka.clients.admin.AdminClient"
_PROPERTY_PREFIX = "properties."


def client_properties(settings: JobSettings) -> dict[str, str]:
    """Kafka client properties for reaching the source topic (the connector's ``properties.*``)."""
    options = kafka_options(settings, settings.source_topic)
    props = {k[len(_PROPERTY_PREFIX):]: v for k, v in options.items() if k.startswith(_PROPERTY_PREFIX)}
    props.update({"request.timeout.ms": "3000", "default.api.timeout.ms": "5000",
                  "reconnect.backoff.max.ms": "500"})
    return props


def wait_for_source(settings: JobSettings, stopping: Callable[[], bool], timeout_s: float,
                    poll_s: float = 0.2) -> bool:
    """Wait until the source topic exists: True once it does, False when ``stopping()`` or after ``timeout_s``."""
    jvm, admin = _admin(settings)
    names = jvm.java.util.Collections.singletonList(settings.source_topic)
    seconds = jvm.java.util.concurrent.TimeUnit.SECONDS
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            try:
                admin.describeTopics(names).allTopicNames().get(3, seconds)
                return True
            except Exception:  # not reachable yet, or the topic is not provisioned yet
                if stopping() or time.monotonic() > deadline:
                    return False
                time.sleep(poll_s)
    finally:
        admin.close()


def reset_consumer_group(settings: JobSettings) -> bool:
    """Delete the job's consumer group (its committed offsets). False if it did not exist."""
    jvm, admin = _admin(settings)
    try:
        groups = jvm.java.util.Collections.singletonList(settings.consumer_group)
        admin.deleteConsumerGroups(groups).all().get(30, jvm.java.util.concurrent.TimeUnit.SECONDS)
        return True
    except Exception as exc:
        if "GroupIdNotFound" in str(exc):
            return False
        raise
    finally:
        admin.close()


def _admin(settings: JobSettings) -> tuple[Any, Any]:
    """The JVM view and a new AdminClient (the connector jar's shaded one); the caller closes it."""
    from pyflink.java_gateway import get_gateway

    jvm = get_gateway().jvm
    props = jvm.java.util.Properties()
    for key, value in client_properties(settings).items():
        props.setProperty(key, value)
    admin_class = jvm
    for part in _ADMIN_CLIENT.split("."):
        admin_class = getattr(admin_class, part)
    return jvm, admin_class.create(props)
