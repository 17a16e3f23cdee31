"""``GET /schema``: the OpenAPI document of the public API, merged from the services' own documents.

Each service describes its routes with its own typed models; the gateway adds its own routes
(uploads) and documents error bodies as problem details. Fetched lazily and cached once every
upstream answered.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Mapping
from typing import Any

import msgspec

from services.kit.upstream import Upstream, UpstreamBroken, UpstreamTimeout, UpstreamUnavailable

log = logging.getLogger("services.gateway.schema")

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["title", "status", "detail"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "request_id": {"type": "string"},
    },
    "additionalProperties": True,
}


def _problem_responses(operation: dict[str, Any]) -> None:
    for code, response in operation.get("responses", {}).items():
        if code.startswith(("4", "5")):
            response["content"] = {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            }


def merge(own: Mapping[str, Any], upstream_docs: Mapping[str, Mapping[str, Any]],
          prefixes: Mapping[str, tuple[str, ...]]) -> dict[str, Any]:
    """One document: the gateway's own paths plus every upstream path under its public prefixes."""
    doc = copy.deepcopy(dict(own))
    doc["info"] = {"title": "ecomctl public API", "version": own.get("info", {}).get("version", "1.0.0")}
    paths: dict[str, Any] = dict(doc.get("paths", {}))
    components = doc.setdefault("components", {})
    schemas: dict[str, Any] = components.setdefault("schemas", {})
    for name, upstream in upstream_docs.items():
        for path, item in upstream.get("paths", {}).items():
            if path.startswith(prefixes.get(name, ())):
                paths[path] = copy.deepcopy(item)
        for schema_name, schema in upstream.get("components", {}).get("schemas", {}).items():
            if schema_name in schemas and schemas[schema_name] != schema:
                log.warning("schema %s differs between services; keeping the first", schema_name)
                continue
            schemas[schema_name] = copy.deepcopy(schema)
    schemas["Problem"] = PROBLEM_SCHEMA
    for item in paths.values():
        for operation in item.values():
            if isinstance(operation, dict) and "responses" in operation:
                _problem_responses(operation)
    doc["paths"] = dict(sorted(paths.items()))
    return doc


class SchemaSource:
    def __init__(self, upstreams: Mapping[str, Upstream], prefixes: Mapping[str, tuple[str, ...]]) -> None:
        self.upstreams = upstreams
        self.prefixes = prefixes
        self._cached: dict[str, Any] | None = None

    async def document(self, own: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        """(merged document, complete?) — incomplete when a service did not answer."""
        if self._cached is not None:
            return self._cached, True

        async def fetch(name: str, upstream: Upstream) -> tuple[str, dict[str, Any] | None]:
            try:
                answer = await upstream.request("GET", "/schema/openapi.json", [], b"", timeout_s=3.0)
                if answer.status != 200:
                    raise ValueError(f"status {answer.status}")
                document = msgspec.json.decode(answer.body)
                if not isinstance(document, dict):
                    raise ValueError("not a JSON object")
                return name, document
            except (UpstreamUnavailable, UpstreamTimeout, UpstreamBroken, msgspec.DecodeError, ValueError) as exc:
                log.warning("no OpenAPI document from %s (%s)", name, type(exc).__name__)
                return name, None

        results = await asyncio.gather(*(fetch(n, u) for n, u in self.upstreams.items()))
        docs = {name: doc for name, doc in results if doc is not None}
        merged = merge(own, docs, self.prefixes)
        complete = len(docs) == len(self.upstreams)
        if complete:
            self._cached = merged
        return merged, complete
