"""Fixtures for the stream job: its environment, and Kafka from the session platform.

``STREAM_TEST_KAFKA=host:port`` points the job tests at an already running broker instead of the
session platform (quick iteration on the job alone); CI uses the platform.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stream import setup
from stream.setup import FlinkRuntime


@pytest.fixture(name="flink_cache", scope="session")
def fx_flink_cache(request: pytest.FixtureRequest) -> Path:
    override = os.environ.get("STREAM_TEST_CACHE")
    if override:
        return Path(override)
    if os.environ.get("STREAM_TEST_KAFKA"):
        return Path.home() / ".cache" / "ecomctl"
    platform = request.getfixturevalue("platform")
    cache: Path = platform.settings.cache_dir
    return cache


@pytest.fixture(name="flink_runtime", scope="session")
def fx_flink_runtime(flink_cache: Path) -> FlinkRuntime:
    return setup.ensure_environment(flink_cache, lambda _m: None)


@pytest.fixture(name="kafka_bootstrap", scope="session")
def fx_kafka_bootstrap(request: pytest.FixtureRequest) -> str:
    override = os.environ.get("STREAM_TEST_KAFKA")
    if override:
        return override
    bootstrap: str = request.getfixturevalue("platform").kafka_bootstrap
    return bootstrap
