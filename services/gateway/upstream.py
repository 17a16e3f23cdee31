"""The gateway's client for its upstreams: the kit's HTTP/1.1 keep-alive client."""

from services.kit.upstream import (
    SWEEP_S,
    Answer,
    Upstream,
    UpstreamBroken,
    UpstreamTimeout,
    UpstreamUnavailable,
)

__all__ = ["SWEEP_S", "Answer", "Upstream", "UpstreamBroken", "UpstreamTimeout", "UpstreamUnavailable"]
