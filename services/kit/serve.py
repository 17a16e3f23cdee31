"""Run a service's ``create_app`` factory with granian (one worker, ASGI, graceful on SIGTERM)."""

from __future__ import annotations

from granian import Granian
from granian.constants import Interfaces

from services.kit.settings import env_int, env_str


def serve(target: str) -> None:
    """``target`` is ``"services.<pkg>.app:create_app"``; binds ``$HOST:$PORT``."""
    Granian(
        target,
        address=env_str("HOST", "127.0.0.1"),
        port=env_int("PORT", 8000),
        interface=Interfaces.ASGI,
        workers=1,
        factory=True,
        backlog=2048,
        log_access=False,
        workers_kill_timeout=15,
    ).serve()
