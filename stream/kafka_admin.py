"""What the job asks of Kafka itself, before it is submitted (runs in the Flink venv).

* ``SourceTopicWait``: wait until the source topic exists. The local runtime starts the job at
  the same time as Kafka, so that the client JVM's start-up and the SQL planning (most of the
  job's start time) overlap Kafka's; only the submission waits. On a running cluster (Dataproc
  with MSK) the topic is already there and this returns at once.
* ``reset_consumer_group``: forget the job's committed source offsets, so that a job started
  without state reads the retained events from the start (see ``stream.job``: a changed job
  whose saved state no longer fits).

Both use the job's own Kafka client (the connector's shaded ``AdminClient``, through the PyFlink
gateway, on the main thread) with the source's connection settings (``stream.sql.kafka_options``:
bootstrap servers, security protocol, SASL), so whatever the job can reach, they can; except the
wait on a PLAINTEXT listener, which runs beside the planning (``SourceTopicWait``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from stream.kafka_metadata import topic_exists
from stream.settings import JobSettings
from stream.sql import kafka_options

_ADMIN_CLIENT = "org.apache.flink.kafka.shaded.org.apache.kafka.clients.admin.AdminClient"
_PROPERTY_PREFIX = "properties."
POLL_S = 0.5
TIMEOUT_S = 180.0  # Kafka's own start on a loaded machine; then the job exits and is restarted


class SourceTopicMissing(RuntimeError):
    """The source topic did not appear within the wait."""


def client_properties(settings: JobSettings) -> dict[str, str]:
    """Kafka client properties for reaching the source topic (the connector's ``properties.*``)."""
    options = kafka_options(settings, settings.source_topic)
    props = {k[len(_PROPERTY_PREFIX):]: v for k, v in options.items() if k.startswith(_PROPERTY_PREFIX)}
    props.update({"request.timeout.ms": "3000", "default.api.timeout.ms": "5000",
                  "reconnect.backoff.max.ms": "500"})
    return props


def wait_for_source_topic(settings: JobSettings, timeout_s: float, log: logging.Logger) -> float:
    """Block until the source topic exists; return the seconds waited. Raises ``SourceTopicMissing``.

    Through the connector's client, on the calling thread (the PyFlink gateway's thread)."""
    jvm, admin = _admin(settings)
    try:
        return _poll_until(lambda: settings.source_topic in _topic_names(admin, jvm), settings, timeout_s, log)
    finally:
        admin.close()


def _poll_until(exists: Callable[[], bool], settings: JobSettings, timeout_s: float,
                log: logging.Logger) -> float:
    """Ask ``exists()`` every ``POLL_S`` until it says yes; return the seconds it took."""
    start = time.monotonic()
    said = False
    while not exists():
        if time.monotonic() - start > timeout_s:
            raise SourceTopicMissing(
                f"topic {settings.source_topic!r} not found on {settings.bootstrap_servers} "
                f"within {timeout_s:.0f} s")
        if not said:
            log.info("waiting for topic %s on %s", settings.source_topic, settings.bootstrap_servers)
            said = True
        time.sleep(POLL_S)
    return time.monotonic() - start


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


def _topic_names(admin: Any, jvm: Any) -> set[str]:
    try:
        names = admin.listTopics().names().get(5, jvm.java.util.concurrent.TimeUnit.SECONDS)
    except Exception:  # broker not up yet, or not answering: keep waiting until the deadline
        return set()
    return {str(name) for name in names}


class SourceTopicWait:
    """``wait_for_source_topic``, overlapped with the job's planning where it can be.

    On a PLAINTEXT listener (the local stack) the wait runs in a background thread with a plain
    Metadata request (``stream.kafka_metadata``): it must not use the PyFlink gateway from a second
    thread (see there). With TLS or SASL (MSK) it runs in ``result()``, on the calling thread,
    through the connector's client; there the topic exists long before the job starts.
    """

    def __init__(self, settings: JobSettings, log: logging.Logger, timeout_s: float = TIMEOUT_S) -> None:
        self._settings = settings
        self._log = log
        self._timeout_s = timeout_s
        self._waited_s = 0.0
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        if settings.auth.security_protocol.upper() == "PLAINTEXT" and not settings.auth.sasl_mechanism:
            self._thread = threading.Thread(target=self._wait_plain, name="source-topic-wait", daemon=True)

    def start(self) -> SourceTopicWait:
        if self._thread is not None:
            self._thread.start()
        return self

    def _wait_plain(self) -> None:
        settings = self._settings

        def exists() -> bool:
            try:
                return topic_exists(settings.bootstrap_servers, settings.source_topic)
            except OSError:  # broker not up yet
                return False

        try:
            self._waited_s = _poll_until(exists, settings, self._timeout_s, self._log)
        except BaseException as exc:  # handed to the caller of result()
            self._error = exc

    def result(self) -> float:
        """Seconds waited; raises ``SourceTopicMissing`` when the topic did not appear in time."""
        if self._thread is None:
            return wait_for_source_topic(self._settings, self._timeout_s, self._log)
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._waited_s
