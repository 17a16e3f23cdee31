"""HPA replicas and node count over a run, read from the Kubernetes API (cloud stacks).

:class:`KubeApi` reads ``autoscaling/v2`` HorizontalPodAutoscalers (every namespace) and nodes
with a bearer token, the way ``kubectl`` does from a kubeconfig (:func:`from_kubeconfig`: a
static token or an ``exec`` credential plugin such as ``aws eks get-token``).
:class:`KubeWatcher` samples it every few seconds in a thread while the load runs, and
:func:`scaling` says whether each HPA scaled out and back in.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from ecomctl.errors import ScaleTestError


class KubeApi:
    def __init__(self, server: str, token: str | None = None, verify: str | bool = True) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = httpx.Client(base_url=server.rstrip("/"), headers=headers, verify=verify, timeout=10)

    def close(self) -> None:
        self._client.close()

    def sample(self) -> dict[str, Any]:
        """``{"hpas": {"ns/name": {"current", "desired", "min", "max"}}, "nodes": n}`` now."""
        hpas = self._client.get("/apis/autoscaling/v2/horizontalpodautoscalers")
        nodes = self._client.get("/api/v1/nodes")
        hpas.raise_for_status()
        nodes.raise_for_status()
        found = {}
        for item in hpas.json().get("items", []):
            meta, spec, status = item["metadata"], item.get("spec", {}), item.get("status", {})
            found[f"{meta.get('namespace', 'default')}/{meta['name']}"] = {
                "current": int(status.get("currentReplicas", 0)), "desired": int(status.get("desiredReplicas", 0)),
                "min": int(spec.get("minReplicas", 1)), "max": int(spec.get("maxReplicas", 0)),
            }
        ready = [n for n in nodes.json().get("items", [])
                 if any(c.get("type") == "Ready" and c.get("status") == "True"
                        for c in n.get("status", {}).get("conditions", []))]
        return {"hpas": found, "nodes": len(ready)}


def from_kubeconfig(path: Path | None = None, context: str | None = None) -> KubeApi:
    """A client for a kubeconfig's current (or named) context."""
    import yaml

    config_path = path or Path(os.environ.get("KUBECONFIG", "~/.kube/config")).expanduser()
    try:
        config = yaml.safe_load(config_path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ScaleTestError(f"cannot read kubeconfig {config_path}: {exc}",
                             hint="aws eks update-kubeconfig --name <cluster> --region <region>") from None
    name = context or config.get("current-context")
    ctx = next((c["context"] for c in config.get("contexts", []) if c["name"] == name), None)
    if ctx is None:
        raise ScaleTestError(f"kubeconfig {config_path} has no context {name!r}")
    cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == ctx["cluster"])
    user: Mapping[str, Any] = next((u["user"] for u in config.get("users", []) if u["name"] == ctx.get("user")), {})
    verify: str | bool = True
    if cluster.get("certificate-authority-data"):
        ca = tempfile.NamedTemporaryFile(delete=False, suffix=".crt")  # noqa: SIM115 (lives with the client)
        ca.write(base64.b64decode(cluster["certificate-authority-data"]))
        ca.close()
        verify = ca.name
    elif cluster.get("certificate-authority"):
        verify = cluster["certificate-authority"]
    return KubeApi(cluster["server"], _token(user), verify)


def _token(user: Mapping[str, Any]) -> str | None:
    if user.get("token"):
        return str(user["token"])
    plugin = user.get("exec")
    if not plugin:
        return None
    env = {**os.environ, **{e["name"]: e["value"] for e in plugin.get("env") or []}}
    try:
        out = subprocess.run([plugin["command"], *plugin.get("args", [])], capture_output=True, text=True,
                             env=env, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        raise ScaleTestError(f"the kubeconfig's credential plugin {plugin['command']!r} failed: {exc}") from None
    return str(json.loads(out.stdout)["status"]["token"])


class KubeWatcher:
    """Samples a :class:`KubeApi` every ``interval_s`` in a thread: ``series`` of ``{"t", "hpas", "nodes"}``."""

    def __init__(self, api: KubeApi, interval_s: float = 5.0) -> None:
        self.api, self.interval_s = api, interval_s
        self.series: list[dict[str, Any]] = []
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="kube-watcher", daemon=True)
        self._started = 0.0

    def __enter__(self) -> KubeWatcher:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval_s + 15)
        self.api.close()

    def _loop(self) -> None:
        while True:
            try:
                self.series.append({"t": round(time.monotonic() - self._started, 2), **self.api.sample()})
            except httpx.HTTPError:
                self.errors += 1
            if self._stop.wait(self.interval_s):
                return


def scaling(series: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per HPA: its replicas at the start, peak and end; whether it scaled out, and back in after."""
    out: dict[str, dict[str, Any]] = {}
    names = sorted({name for sample in series for name in sample["hpas"]})
    for name in names:
        replicas = [s["hpas"][name]["current"] for s in series if name in s["hpas"]]
        start, peak, end = replicas[0], max(replicas), replicas[-1]
        out[name] = {"start": start, "peak": peak, "end": end, "scaled_out": peak > start,
                     "scaled_in": peak > start and end < peak}
    return out
