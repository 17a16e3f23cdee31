"""Crash points for the fault tests: ``ECOMCTL_CRASH_AT=<point>`` kills the process there (SIGKILL).

Unset (always, outside the fault tests), ``crash_point`` does nothing. The points sit between the
steps of the multi-step writes whose recovery the services guarantee (docs/reliability.md):

- ``orders.reserved``: stock taken and held in DynamoDB; the order not stored yet
- ``orders.stored``: the order committed; its holds not removed yet
- ``orders.cancelled``: the cancellation committed; no unit returned yet
- ``orders.restocked``: the units returned; MySQL does not know it yet
- ``notifications.claimed``: the event claimed and logged; nothing published yet
- ``notifications.published``: published to SNS; not marked sent yet
"""

from __future__ import annotations

import os
import signal

CRASH_AT = "ECOMCTL_CRASH_AT"


def crash_point(name: str) -> None:
    if os.environ.get(CRASH_AT) == name:
        os.kill(os.getpid(), signal.SIGKILL)
