from __future__ import annotations

import dataclasses

import pytest

from blueprint.topology import TOPOLOGY, Service, Topology, env_suffix


def test_the_topology_is_consistent() -> None:
    assert TOPOLOGY.validate() == []


def test_validate_finds_broken_references_and_duplicates() -> None:
    broken = dataclasses.replace(
        TOPOLOGY,
        services=(
            *TOPOLOGY.services,
            Service(name="ghost", package="services.ghost", port=8001, replicas=1, min_replicas=2,
                    max_replicas=1, cpu_target=150, tables=("nope",), consumes=("missing-topic",),
                    database="orders"),
            TOPOLOGY.services[0],
        ),
    )
    problems = broken.validate()
    assert "duplicate service name 'api-gateway'" in problems
    assert "duplicate service port 8001" in problems
    assert "ghost refers to unknown table 'nope'" in problems
    assert "ghost refers to unknown topic 'missing-topic'" in problems
    assert "ghost uses database 'orders' owned by 'orders'" in problems
    assert "ghost: need 1 <= min_replicas <= replicas <= max_replicas" in problems
    assert "ghost: cpu_target must be a percentage" in problems


def test_lookups_by_name() -> None:
    assert TOPOLOGY.service("orders").database == "orders"
    assert TOPOLOGY.table("products").indexes[0].hash_key == "category"
    with pytest.raises(KeyError, match="no topic named 'x'"):
        TOPOLOGY.topic("x")


def test_key_attributes_cover_indexes_once() -> None:
    assert TOPOLOGY.table("products").key_attributes == ("product_id", "category")
    assert TOPOLOGY.table("notifications").key_attributes == ("user_id", "notification_id")


def test_every_gateway_route_points_at_a_service_and_the_gateway_reaches_it() -> None:
    gateway = TOPOLOGY.service(TOPOLOGY.gateway)
    assert {r.service for r in TOPOLOGY.routes} <= set(gateway.upstreams)


def test_env_suffix() -> None:
    assert env_suffix("orders-events") == "ORDERS_EVENTS"
    assert isinstance(TOPOLOGY, Topology)
