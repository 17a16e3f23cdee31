"""``/metrics`` is not public on a cloud stack, however the path is spelled.

The public ALB answers ``/metrics`` itself (404) by a path rule, but a rule sees the path as sent:
``//metrics`` or ``/%6detrics`` pass it and reach the gateway, whose router normalizes them. So
the services serve ``/metrics`` to a direct scrape only (Prometheus scrapes each pod at its
address) and refuse a request that came through a proxy: the ALB appends ``X-Forwarded-For`` to
every request. Proof: the rendered Ingress evaluated for each spelling, then each spelling sent to
the real gateway with and without that header.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from blueprint.topology import TOPOLOGY
from ecomctl.local.platform import LocalPlatform
from programs import manifests as m

SPELLINGS = ["/metrics", "/metrics/", "//metrics", "///metrics", "/%6detrics", "/%2Fmetrics", "/metrics%2F",
             "/metrics?format=text", "/./metrics", "/api/../metrics"]
VALUES = m.ManifestValues(image_repositories={s.name: f"registry.example/{s.name}" for s in TOPOLOGY.services},
                          image_tag="3f2a9c1")
EXPOSITION = b"# HELP http_requests_total"


def public_ingress() -> dict[str, Any]:
    (ingress,) = [o for o in m.platform_objects(TOPOLOGY, VALUES) if o["kind"] == "Ingress"]
    return ingress


def alb_target(ingress: dict[str, Any], raw_path: str) -> str:
    """Where the ALB sends ``raw_path``: the first rule whose ``Prefix`` path matches the path as sent
    (Kubernetes ``Prefix``: whole segments; the ALB compares the raw path, case-sensitive)."""
    path = raw_path.split("?", 1)[0]
    for rule in ingress["spec"]["rules"]:
        for entry in rule["http"]["paths"]:
            prefix = entry["path"].rstrip("/")
            if entry["pathType"] == "Prefix" and (path == prefix or path.startswith(prefix + "/") or prefix == ""):
                backend = entry["backend"]["service"]
                return "alb" if backend["port"] == {"name": "use-annotation"} else str(backend["name"])
    return "none"


def test_the_alb_keeps_x_forwarded_for_on_every_request() -> None:
    annotations = public_ingress()["metadata"]["annotations"]
    attributes = annotations.get("alb.ingress.kubernetes.io/load-balancer-attributes", "")
    assert "xff_header_processing.mode=remove" not in attributes and "xff_header_processing.mode=preserve" \
        not in attributes  # the default, append: the client's address is always added
    blocked = json.loads(annotations["alb.ingress.kubernetes.io/actions.not-public"])
    assert blocked["fixedResponseConfig"]["statusCode"] == "404"


@pytest.mark.platform
def test_no_spelling_of_metrics_is_served_through_the_load_balancer(platform: LocalPlatform) -> None:
    ingress = public_ingress()
    through_alb = [p for p in SPELLINGS if alb_target(ingress, p) == TOPOLOGY.gateway]
    assert "//metrics" in through_alb and alb_target(ingress, "/metrics") == "alb"  # the rule alone is not enough

    def get(path: str, headers: dict[str, str]) -> httpx.Response:
        url = httpx.URL(platform.gateway_url).copy_with(raw_path=path.encode())
        return httpx.get(url, headers=headers, timeout=15)

    served_directly = [p for p in through_alb if EXPOSITION in get(p, {}).content]
    assert "//metrics" in served_directly  # the gateway normalizes the path: what the rule let through
    proxied = {p: get(p, {"X-Forwarded-For": "203.0.113.7"}) for p in through_alb}
    assert {p: answer.status_code for p, answer in proxied.items() if EXPOSITION in answer.content} == {}
    assert all(answer.status_code == 404 for p, answer in proxied.items() if p in served_directly)


@pytest.mark.platform
def test_prometheus_still_scrapes_every_service_directly(platform: LocalPlatform) -> None:
    for name in (s.name for s in TOPOLOGY.services):
        url = f"http://127.0.0.1:{platform.service_env(name)['PORT']}/metrics"
        assert EXPOSITION in httpx.get(url, timeout=15).content, name
        assert httpx.get(url, headers={"Forwarded": "for=203.0.113.7"}, timeout=15).status_code == 404, name
