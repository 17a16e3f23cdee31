"""``python -m tests.services.fuzz_from ADDRESS run ...``: the schemathesis CLI with every
connection made from the loopback source address ``ADDRESS``.

The users service throttles logins per client address for 5 minutes, and schemathesis sends many
bad logins: from an address of its own they throttle only that address, not 127.0.0.1, from which
the other tests, the demo and the browser log in. Schemathesis has no source-address option; its
HTTP goes through urllib3, whose connections are opened by ``urllib3.util.connection``.
"""

from __future__ import annotations

import sys
from typing import Any

import urllib3.util.connection as connection


def main() -> None:
    source = sys.argv.pop(1)
    opened = connection.create_connection

    def from_source(*args: Any, **kwargs: Any) -> Any:
        if len(args) < 3 and kwargs.get("source_address") is None:
            kwargs["source_address"] = (source, 0)
        return opened(*args, **kwargs)

    connection.create_connection = from_source
    from schemathesis.cli import schemathesis

    sys.argv[0] = "schemathesis"
    sys.exit(schemathesis())


if __name__ == "__main__":
    main()
