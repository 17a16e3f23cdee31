"""Entry point of the Flink job on Dataproc (stdlib only; uploaded next to the job by ``flink.py``).

Dataproc's Jobs API cannot set the driver's environment, and the job (``stream/job.py``) reads
its settings from the environment. This script takes them as arguments instead, fetches the
Kafka password from Secret Manager with the node's own service account (so no secret appears in
the job's description), then runs the job's ``main``:

    -py gs://.../flink_entry.py -pyfs gs://.../stream.zip
        --env KEY=VALUE ... --secret-env KAFKA_SASL_PASSWORD=projects/p/secrets/s -- <job args>
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request

METADATA_TOKEN = (
    "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token"
)


def split(argv: list[str]) -> tuple[dict[str, str], dict[str, str], list[str]]:
    env: dict[str, str] = {}
    secrets: dict[str, str] = {}
    rest: list[str] = []
    it = iter(argv)
    for arg in it:
        if arg == "--":
            rest.extend(it)
            break
        if arg in ("--env", "--secret-env"):
            key, _, value = next(it).partition("=")
            (env if arg == "--env" else secrets)[key] = value
        else:
            rest.append(arg)
    return env, secrets, rest


def access_secret(name: str) -> str:  # pragma: no cover - runs on Dataproc only
    request = urllib.request.Request(METADATA_TOKEN, headers={"Metadata-Flavor": "Google"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        token = json.load(resp)["access_token"]
    version = name if "/versions/" in name else f"{name}/versions/latest"
    request = urllib.request.Request(
        f"https://secretmanager.googleapis.com/v1/{version}:access",
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        import base64

        return base64.b64decode(json.load(resp)["payload"]["data"]).decode()


def main(argv: list[str]) -> int:  # pragma: no cover - runs on Dataproc only
    env, secrets, rest = split(argv)
    os.environ.update(env)
    for key, name in secrets.items():
        os.environ[key] = access_secret(name)
    from stream.job import main as job_main

    return job_main(rest)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
