"""Validate Kubernetes object dicts offline against the JSON schema of the target version.

Built-in kinds: kubernetes-validate's strict schema (unknown fields are errors). CRD kinds the
programs emit (ServiceMonitor, PrometheusRule, Argo CD Application) have no schema there: their metadata is
validated against the version's ObjectMeta, and their spec's required fields are checked here.
"""

from __future__ import annotations

import importlib.resources
import json
from functools import cache
from typing import Any

import jsonschema
import kubernetes_validate
import referencing

CRD_REQUIRED: dict[tuple[str, str], tuple[str, ...]] = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): ("selector", "endpoints"),
    ("monitoring.coreos.com/v1", "PrometheusRule"): ("groups",),
    ("argoproj.io/v1alpha1", "Application"): ("source", "destination", "project"),
}


def schema_version(kubernetes_version: str) -> str:
    """The newest schema kubernetes-validate ships that is not newer than the cluster."""
    wanted = tuple(int(p) for p in kubernetes_version.split(".")[:2])
    shipped = [v for v in kubernetes_validate.utils.all_versions()
               if tuple(int(p) for p in v.split(".")[:2]) <= wanted]
    assert shipped, f"kubernetes-validate ships no schema for {kubernetes_version}"
    return shipped[-1]


@cache
def _object_meta_validator(version: str) -> jsonschema.Validator:
    path = importlib.resources.files("kubernetes_validate").joinpath(
        f"kubernetes-json-schema/v{version}-local-strict/_definitions.json")
    defs = json.loads(path.read_text())
    registry = referencing.Registry().with_resource(defs["$id"], referencing.Resource.from_contents(defs))
    schema = {"$ref": f"{defs['$id']}#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
    return jsonschema.Draft202012Validator(schema, registry=registry)


def validate(obj: dict[str, Any], kubernetes_version: str) -> None:
    """Raise if ``obj`` is not a valid object of ``kubernetes_version``."""
    version = schema_version(kubernetes_version)
    required = CRD_REQUIRED.get((obj["apiVersion"], obj["kind"]))
    if required is None:
        kubernetes_validate.validate(obj, version, strict=True)
        return
    _object_meta_validator(version).validate(obj["metadata"])
    missing = [k for k in required if k not in obj.get("spec", {})]
    assert not missing, f"{obj['kind']} {obj['metadata']['name']}: spec lacks {missing}"
    unknown = set(obj) - {"apiVersion", "kind", "metadata", "spec"}
    assert not unknown, f"{obj['kind']}: unexpected top-level fields {unknown}"
