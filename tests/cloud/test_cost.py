"""The cost estimate applies ``prices.toml`` exactly, and says what it could not price."""

from __future__ import annotations

import pytest

from ecomctl.cloud.cost import estimate, load_prices
from ecomctl.cloud.offline import Resource


def res(type_: str, name: str, **inputs: object) -> Resource:
    return Resource("test", type_, name, inputs)


TABLE = {
    "meta": {"taken": "2026-11-24", "source": "test", "hours_per_month": 730, "regions": "r"},
    "item": [
        {"type": "aws:eks/cluster:Cluster", "what": "control plane", "hourly_usd": 0.10},
        {"type": "aws:eks/nodeGroup:NodeGroup", "what": "nodes", "key": "instanceTypes.0",
         "count": "scalingConfig.desiredSize", "prices": {"t3.large": 0.0832}},
        {"type": "aws:rds/instance:Instance", "what": "db", "key": "instanceClass", "double_if": "multiAz",
         "prices": {"db.t4g.medium": 0.065}},
        {"type": "aws:rds/instance:Instance", "what": "storage", "monthly_per_unit": 0.115,
         "units": "allocatedStorage", "double_if": "multiAz"},
        {"type": "gcp:dataproc/cluster:Cluster", "what": "fee", "key": "clusterConfig.workerConfig.machineType",
         "count": "clusterConfig.workerConfig.numInstances", "count_extra": 1, "prices": {"n2-standard-4": 0.04}},
    ],
}


def test_estimate_multiplies_sizes_counts_and_multi_az() -> None:
    resources = [
        res("aws:eks/cluster:Cluster", "eks"),
        res("aws:eks/nodeGroup:NodeGroup", "nodes", instanceTypes=["t3.large"], scalingConfig={"desiredSize": 3}),
        res("aws:rds/instance:Instance", "db", instanceClass="db.t4g.medium", allocatedStorage=73, multiAz=True),
        res("gcp:dataproc/cluster:Cluster", "flink",
            clusterConfig={"workerConfig": {"machineType": "n2-standard-4", "numInstances": 2}}),
        res("aws:s3/bucket:Bucket", "free"),
    ]
    est = estimate(resources, TABLE)
    expected = 0.10 + 3 * 0.0832 + 2 * 0.065 + 2 * 0.115 * 73 / 730 + 3 * 0.04
    assert est.hourly_usd == pytest.approx(expected, abs=1e-4)
    assert est.daily_usd == pytest.approx(round(expected * 24, 2), abs=0.011)
    assert est.unpriced == ()
    assert len(est.lines) == 5


def test_match_limits_an_item_to_resources_with_those_inputs() -> None:
    table = {"meta": TABLE["meta"], "item": [{"type": "kubernetes:core/v1:Service", "what": "nlb", "hourly_usd": 0.0225,
                                              "match": {"spec.type": "LoadBalancer"}}]}
    lb = res("kubernetes:core/v1:Service", "public", spec={"type": "LoadBalancer"})
    internal = res("kubernetes:core/v1:Service", "orders", spec={"type": "ClusterIP"})
    assert estimate([lb, internal], table).hourly_usd == 0.0225


def test_a_size_without_a_price_is_reported_not_free() -> None:
    est = estimate([res("aws:rds/instance:Instance", "db", instanceClass="db.x99.huge", allocatedStorage=0)], TABLE)
    assert est.unpriced == ("aws:rds/instance:Instance db: db (instanceClass=db.x99.huge)",)
    assert est.as_dict()["unpriced"] == list(est.unpriced)


def test_the_repo_price_table_says_where_and_when_and_covers_the_defaults() -> None:
    from programs.config import ProgramConfig

    table = load_prices()
    assert table["meta"]["taken"] and "aws.amazon.com" in table["meta"]["source"]
    assert all(item.get("source", "").startswith("https://") for item in table["item"])
    defaults = ProgramConfig.for_stack("dev")
    priced = {k for item in table["item"] for k in item.get("prices", {})}
    for size in (defaults.rds_instance_class, defaults.msk_instance_type, defaults.dataproc_machine_type,
                 *defaults.node_instance_types):
        assert size in priced, f"default size {size} has no price"
