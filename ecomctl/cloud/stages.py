"""The stages of a cloud stack, in ``up`` order (``down`` runs them reversed).

The real stages come from the installed programs (``ecomctl.cloud.programs``); tests pass their
own small stages with the same shape, so the engine can be exercised without the whole platform.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ecomctl.cloud.programs import StageLike as StageLike  # re-exported: the engine's stage type
from ecomctl.cloud.programs import load_programs
from ecomctl.errors import ConfigError

STAGES_VAR = "ECOMCTL_CLOUD_STAGES"
"""``module:attribute`` of another stage sequence (a test seam; unset in normal use)."""


ConfigFactory = Callable[[], Any]
"""Builds the stage's config inside a running Pulumi program (reads ``pulumi.Config``)."""


def platform_stages() -> Sequence[StageLike]:
    """The installed programs' stages, or the sequence ``$ECOMCTL_CLOUD_STAGES`` names."""
    override = os.environ.get(STAGES_VAR)
    if override:
        module, _, attr = override.partition(":")
        try:
            found: Sequence[StageLike] = getattr(importlib.import_module(module), attr or "STAGES")
        except (ImportError, AttributeError) as exc:
            raise ConfigError(f"{STAGES_VAR}={override!r} cannot be loaded: {exc}") from None
        return found
    return load_programs().stages


def pulumi_config() -> Any:
    return load_programs().pulumi_config()


def upstream_key(stage: str, output: str) -> str:
    """How a stage's output is keyed for the stages after it: ``"<stage>.<output>"``."""
    return f"{stage}.{output}"


def with_secrets(upstream: Mapping[str, Any], secret_keys: frozenset[str]) -> dict[str, Any]:
    """``upstream`` with every value that was a secret output wrapped in ``Output.secret`` again.

    Call inside a running program: a password exported by ``aws`` stays a secret in the state
    and outputs of ``gcp`` and ``k8s`` instead of becoming plain text there."""
    import pulumi

    def wrap(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: wrap(v) for k, v in value.items()}
        if isinstance(value, list):
            return [wrap(v) for v in value]
        return pulumi.Output.secret(value)

    return {k: (wrap(v) if k in secret_keys else v) for k, v in upstream.items()}
