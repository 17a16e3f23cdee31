"""Submit the stream job to the Dataproc cluster the ``gcp`` stage made (Jobs API ``flink_job``).

``gcp.dataproc.Job`` has no Flink type, so this goes through google-cloud-dataproc's
``JobControllerClient.submit_job``: PyFlink runs through
``org.apache.flink.client.python.PythonDriver`` with ``-py`` (our entry script, which sets the
job's environment) and ``-pyfs`` (the ``stream`` package the ``gcp`` stage uploaded). The Kafka
password is not part of the submission: the cluster's initialisation action wrote it on every node
(``KAFKA_PASSWORD_FILE``), and the job names that file to its Kafka clients. The client and the
uploader are parameters: the tests pass fakes at exactly that boundary.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from blueprint.topology import TOPOLOGY, StreamJob
from ecomctl.cloud.engine import StackOutputs
from ecomctl.errors import CloudError

PYTHON_DRIVER = "org.apache.flink.client.python.PythonDriver"
ENTRY = Path(__file__).with_name("flink_entry.py")
REMOTE_STATE_DIR = "/tmp/ecomctl/flink"  # the driver's local status and restore points (see docs/cloud.md)
# written on every node by programs/gcp/dataproc_init.sh (programs.gcp._dataproc.KAFKA_PASSWORD_FILE)
KAFKA_PASSWORD_FILE = "/etc/ecomctl/kafka-client.properties"
REQUIRED = ("dataproc_project", "dataproc_region", "dataproc_cluster", "flink_bucket", "flink_job_archive",
            "flink_connector_jar", "kafka_bootstrap", "kafka_security_protocol", "kafka_sasl_mechanism",
            "kafka_username")

Uploader = Callable[[str, str, bytes], str]
"""(bucket, object name, content) -> gs:// URI."""


@dataclass(frozen=True)
class FlinkJobSpec:
    project: str
    region: str
    cluster: str
    bucket: str
    archive_uri: str
    connector_jar_uri: str
    env: Mapping[str, str]


def spec_from_outputs(outputs: StackOutputs, job: StreamJob | None = None) -> FlinkJobSpec:
    from blueprint.wiring import Endpoints, KafkaEndpoint, MysqlEndpoint, stream_job_env

    gcp = {s.stage: s.values for s in outputs.stages}.get("gcp", {})
    missing = [k for k in REQUIRED if not gcp.get(k)]
    if missing:
        raise CloudError(f"the gcp stage did not export {', '.join(missing)}: cannot submit the Flink job",
                         hint="run `ecomctl up` again after fixing the gcp program's outputs")
    stream_job = job or TOPOLOGY.stream_jobs[0]
    kafka = KafkaEndpoint(
        bootstrap_servers=str(gcp["kafka_bootstrap"]),
        security_protocol=str(gcp["kafka_security_protocol"]),
        sasl_mechanism=str(gcp["kafka_sasl_mechanism"]),
        sasl_username=str(gcp["kafka_username"]),
        sasl_password="",  # on the nodes already (KAFKA_PASSWORD_FILE), never passed in the job
    )
    endpoints = Endpoints(
        mysql=MysqlEndpoint("", 0, {}), kafka=kafka, aws_region="", service_urls={}, bind_host="",
        service_ports={}, jwt_secret="", admin_email="", admin_password="", queue_urls={}, sns_topic_arns={},
    )
    env = {k: str(v) for k, v in stream_job_env(stream_job, endpoints).items() if k != "KAFKA_SASL_PASSWORD"}
    env["KAFKA_SASL_PASSWORD_FILE"] = KAFKA_PASSWORD_FILE
    return FlinkJobSpec(
        project=str(gcp["dataproc_project"]),
        region=str(gcp["dataproc_region"]),
        cluster=str(gcp["dataproc_cluster"]),
        bucket=str(gcp["flink_bucket"]),
        archive_uri=str(gcp["flink_job_archive"]),
        connector_jar_uri=str(gcp["flink_connector_jar"]),
        env=env,
    )


def job_request(spec: FlinkJobSpec, entry_uri: str, job_id: str) -> dict[str, Any]:
    """The ``SubmitJobRequest`` (as the dict google-cloud-dataproc accepts)."""
    args = ["-py", entry_uri, "-pyfs", spec.archive_uri]
    for key, value in sorted(spec.env.items()):
        args += ["--env", f"{key}={value}"]
    args += ["--", "--state-dir", REMOTE_STATE_DIR]
    return {
        "project_id": spec.project,
        "region": spec.region,
        "job": {
            "reference": {"job_id": job_id},
            "placement": {"cluster_name": spec.cluster},
            "labels": {"ecomctl-job": spec.env.get("JOB_NAME", "stream")},
            "flink_job": {
                "main_class": PYTHON_DRIVER,
                "args": args,
                "jar_file_uris": [spec.connector_jar_uri],
                "properties": {"parallelism.default": spec.env.get("PARALLELISM", "1")},
            },
        },
    }


def submit_stream_job(outputs: StackOutputs, client: Any = None, upload: Uploader | None = None,
                      now: Callable[[], float] = time.time) -> str:
    """Make sure the current job version runs: keep a running job of the same version, replace an
    older one (cancel, then submit), or submit the first. Return the running job's id."""
    spec = spec_from_outputs(outputs)
    controller = client or _job_client(spec.region)
    job_name = spec.env.get("JOB_NAME", "stream")
    try:
        active = list(controller.list_jobs(request={
            "project_id": spec.project, "region": spec.region, "cluster_name": spec.cluster,
            "job_state_matcher": "ACTIVE", "filter": f"labels.ecomctl-job = {job_name}",
        }))
        for job in active:
            if spec.archive_uri in list(job.flink_job.args):
                return str(job.reference.job_id)  # this version already runs: nothing to do
        for job in active:
            controller.cancel_job(request={"project_id": spec.project, "region": spec.region,
                                           "job_id": job.reference.job_id})
        content = ENTRY.read_bytes()
        uploader = upload or _gcs_upload
        entry_uri = uploader(spec.bucket, f"flink/entry/{_digest(content)}/flink_entry.py", content)
        job_id = f"{job_name}-{int(now())}"
        controller.submit_job(request=job_request(spec, entry_uri, job_id))
    except CloudError:
        raise
    except Exception as exc:  # the client raises google.api_core exceptions
        raise CloudError(f"Dataproc refused the Flink job: {str(exc).splitlines()[0]}",
                         hint="check the cluster in the console; `ecomctl up` submits it again") from None
    return job_id


def _digest(content: bytes) -> str:
    import hashlib

    return hashlib.sha256(content).hexdigest()[:16]


def _job_client(region: str) -> Any:  # pragma: no cover - needs Google Cloud
    from google.cloud import dataproc_v1

    return dataproc_v1.JobControllerClient(
        client_options={"api_endpoint": f"{region}-dataproc.googleapis.com:443"})


def _gcs_upload(bucket: str, name: str, content: bytes) -> str:  # pragma: no cover - needs Google Cloud
    import urllib.parse

    import google.auth
    from google.auth.transport.requests import AuthorizedSession

    credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/devstorage.read_write"])
    session = AuthorizedSession(credentials)  # type: ignore[no-untyped-call]
    url = (f"https://storage.googleapis.com/upload/storage/v1/b/{urllib.parse.quote(bucket, safe='')}/o"
           f"?uploadType=media&name={urllib.parse.quote(name, safe='')}")
    response = session.post(url, data=content, headers={"Content-Type": "text/x-python"}, timeout=60)
    if response.status_code >= 300:
        raise CloudError(f"uploading the Flink entry script to gs://{bucket} failed: HTTP {response.status_code}")
    return f"gs://{bucket}/{name}"
