"""HPA replicas and nodes read from the Kubernetes API during a run.

No cluster can run here, so the API is a fake Kubernetes API server (sanctioned for this): it
serves ``autoscaling/v2`` HPA lists and node lists from a script and refuses requests without
the bearer token, the way an API server does.
"""

from __future__ import annotations

import json
import stat
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ecomctl.scaletest.kube import KubeWatcher, from_kubeconfig, scaling

TOKEN = "k8s-test-token"
# orders scales 2 -> 5 and back to 3; products stays at 2; a third node joins while orders peaks.
ORDERS = [2, 2, 3, 5, 5, 5, 4, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3]


def hpa(name: str, current: int) -> dict[str, object]:
    return {"metadata": {"name": name, "namespace": "shop"},
            "spec": {"minReplicas": 2, "maxReplicas": 10},
            "status": {"currentReplicas": current, "desiredReplicas": current}}


class FakeApi(BaseHTTPRequestHandler):
    calls = 0

    def do_GET(self) -> None:
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.send_response(401)
            self.end_headers()
            return
        step = min(FakeApi.calls, len(ORDERS) - 1)
        if self.path == "/apis/autoscaling/v2/horizontalpodautoscalers":
            FakeApi.calls += 1
            body = {"kind": "HorizontalPodAutoscalerList", "items": [hpa("orders", ORDERS[step]), hpa("products", 2)]}
        elif self.path == "/api/v1/nodes":
            nodes = 3 if ORDERS[step] >= 5 else 2
            body = {"kind": "NodeList", "items": [
                {"metadata": {"name": f"n{i}"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
                for i in range(nodes)]}
        else:
            self.send_response(404)
            self.end_headers()
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture(name="fake_api")
def fx_fake_api() -> Iterator[str]:
    FakeApi.calls = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def kubeconfig(tmp_path: Path, server: str, user: dict[str, object]) -> Path:
    path = tmp_path / "config"
    path.write_text(json.dumps({  # JSON is YAML
        "apiVersion": "v1", "kind": "Config", "current-context": "shop",
        "clusters": [{"name": "eks", "cluster": {"server": server}}],
        "contexts": [{"name": "shop", "context": {"cluster": "eks", "user": "operator"}}],
        "users": [{"name": "operator", "user": user}],
    }))
    return path


def test_scale_out_and_back_in_is_read_from_the_api(fake_api: str, tmp_path: Path) -> None:
    with KubeWatcher(from_kubeconfig(kubeconfig(tmp_path, fake_api, {"token": TOKEN})), interval_s=0.05) as watch:
        deadline = time.monotonic() + 10
        while len(watch.series) < len(ORDERS) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert watch.errors == 0 and len(watch.series) >= len(ORDERS)
    assert [s["hpas"]["shop/orders"]["current"] for s in watch.series[: len(ORDERS)]] == ORDERS
    assert max(s["nodes"] for s in watch.series) == 3
    verdicts = scaling(watch.series)
    assert verdicts["shop/orders"] == {"start": 2, "peak": 5, "end": 3, "scaled_out": True, "scaled_in": True}
    assert verdicts["shop/products"]["scaled_out"] is False


def test_an_exec_credential_plugin_supplies_the_token(fake_api: str, tmp_path: Path) -> None:
    plugin = tmp_path / "get-token"
    plugin.write_text(
        "#!/bin/sh\necho '{\"kind\": \"ExecCredential\", \"status\": {\"token\": \"'$TOKEN_FOR_TEST'\"}}'\n")
    plugin.chmod(plugin.stat().st_mode | stat.S_IEXEC)
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": str(plugin),
                     "env": [{"name": "TOKEN_FOR_TEST", "value": TOKEN}]}}
    api = from_kubeconfig(kubeconfig(tmp_path, fake_api, user))
    assert api.sample()["hpas"]["shop/products"]["current"] == 2


def test_a_wrong_token_is_refused_not_read_as_empty(fake_api: str, tmp_path: Path) -> None:
    import httpx

    with pytest.raises(httpx.HTTPStatusError):
        from_kubeconfig(kubeconfig(tmp_path, fake_api, {"token": "wrong"})).sample()
