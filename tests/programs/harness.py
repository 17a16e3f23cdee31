"""Run a program under Pulumi's mock runtime and record every resource and export.

The mocks fill in what a provider would compute (ids, ARNs, endpoints, VPN tunnel addresses) so
programs that derive values from them run as they would for real; that table, and ``plain``, are
``ecomctl.cloud.mockruntime``'s, shared with ``ecomctl preview --offline``. What is recorded here
is for the tests: each input path that arrived as a secret, the provider, every invoke call.
Inputs arrive camelCased.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi

from ecomctl.cloud.mockruntime import SECRET_SIG, invoke, mock_id, mock_state, plain


def secret_paths(value: Any, path: str = "") -> set[str]:
    """Dotted paths of every secret in ``value`` (``""`` when the whole value is secret)."""
    if isinstance(value, dict):
        if SECRET_SIG in value:
            return {path}
        return set().union(*(secret_paths(v, f"{path}.{k}".lstrip(".")) for k, v in value.items()))
    if isinstance(value, list):
        return set().union(*(secret_paths(v, f"{path}[{i}]") for i, v in enumerate(value)))
    return set()


@dataclass
class Rec:
    type: str
    name: str
    inputs: dict[str, Any]  # plain (see ``plain``)
    provider: str | None
    secrets: set[str]  # input paths that arrived as secrets
    protect: bool = False  # the resource option (recorded by a stack transformation)


@dataclass
class Run:
    resources: list[Rec]
    exports: dict[str, Any]
    secret_exports: set[str]
    calls: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)  # token, args, provider

    def of_type(self, token: str) -> list[Rec]:
        return [r for r in self.resources if r.type == token]

    def one(self, token: str, name_part: str = "") -> Rec:
        found = [r for r in self.of_type(token) if name_part in r.name]
        assert len(found) == 1, f"expected one {token} named *{name_part}*, got {[r.name for r in found]}"
        return found[0]

    def named(self, name: str) -> Rec:
        found = [r for r in self.resources if r.name == name]
        assert len(found) == 1, f"expected one resource named {name}, got {len(found)}"
        return found[0]


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[Rec] = []
        self.calls: list[tuple[str, dict[str, Any], str]] = []
        self.protected: set[str] = set()

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        raw = dict(args.inputs)
        self.resources.append(Rec(args.typ, args.name, plain(raw), args.provider, secret_paths(raw),
                                  f"{args.typ}::{args.name}" in self.protected))
        return mock_id(args.name), mock_state(args.typ, args.name, raw)

    def call(self, args: pulumi.runtime.MockCallArgs) -> Any:  # a bare dict: "no failures"
        self.calls.append((args.token, dict(args.args), args.provider))
        return invoke(args.token, args.args)


def run(program: Callable[[], None], project: str = "ecomctl-test", stack: str = "dev") -> Run:
    """Run ``program`` under mocks; return every registered resource and the resolved exports."""
    # Pulumi's runtime uses the thread's current loop; an earlier asyncio.run() in this process
    # (another test) leaves none, so give every run a fresh one, as the offline preview does.
    asyncio.set_event_loop(asyncio.new_event_loop())
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False)
    exported: dict[str, Any] = {}
    resolved: dict[str, Any] = {}
    secret: set[str] = set()
    original = pulumi.export

    def record(name: str, value: Any) -> None:
        exported[name] = value

    async def collect() -> None:
        for key, value in exported.items():
            out = pulumi.Output.from_input(value)
            resolved[key] = await out.future()
            if await out.is_secret():
                secret.add(key)

    def record_protect(args: pulumi.ResourceTransformationArgs) -> None:
        if args.opts is not None and args.opts.protect:
            mocks.protected.add(f"{args.type_}::{args.name}")

    @pulumi.runtime.test
    def body() -> Any:
        pulumi.runtime.register_stack_transformation(record_protect)
        program()
        return pulumi.Output.from_input(collect())

    pulumi.export = record  # type: ignore[assignment]
    try:
        body()
    finally:
        pulumi.export = original  # type: ignore[assignment]
    return Run(mocks.resources, resolved, secret, mocks.calls)
