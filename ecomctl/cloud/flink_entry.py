"""Entry point of the Flink job on Dataproc (stdlib only; uploaded next to the job by ``flink.py``).

Dataproc's Jobs API cannot set the driver's environment, and the job (``stream/job.py``) reads
its settings from the environment. This script takes them as arguments instead, then runs the
job's ``main``:

    -py gs://.../flink_entry.py -pyfs gs://.../stream.zip --env KEY=VALUE ... -- <job args>

No secret is among them: the Kafka password is in a file the cluster's initialisation action wrote
on every node, which ``KAFKA_SASL_PASSWORD_FILE`` names (see stream/kafka_secret.py).
"""

from __future__ import annotations

import os
import sys


def split(argv: list[str]) -> tuple[dict[str, str], list[str]]:
    env: dict[str, str] = {}
    rest: list[str] = []
    it = iter(argv)
    for arg in it:
        if arg == "--":
            rest.extend(it)
            break
        if arg == "--env":
            key, _, value = next(it).partition("=")
            env[key] = value
        else:
            rest.append(arg)
    return env, rest


def main(argv: list[str]) -> int:  # pragma: no cover - runs on Dataproc only
    env, rest = split(argv)
    os.environ.update(env)
    from stream.job import main as job_main

    return job_main(rest)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
