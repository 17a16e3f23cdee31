"""The Dataproc Flink submission, checked at the client boundary (a fake JobControllerClient)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from blueprint.topology import TOPOLOGY
from ecomctl.cloud.engine import StackOutputs, StageOutputs
from ecomctl.cloud.flink import KAFKA_PASSWORD_FILE, PYTHON_DRIVER, REQUIRED, submit_stream_job
from ecomctl.cloud.flink_entry import split
from ecomctl.errors import CloudError

GCP = {
    "dataproc_project": "shop-prod", "dataproc_region": "us-east4", "dataproc_cluster": "ecomctl-dev-flink",
    "flink_bucket": "ecomctl-dev-jobs", "flink_job_py": "gs://ecomctl-dev-jobs/flink/abc/job.py",
    "flink_job_archive": "gs://ecomctl-dev-jobs/flink/abc/stream.zip",
    "flink_connector_jar": "gs://ecomctl-dev-jobs/flink/lib/flink-sql-connector-kafka-3.0.0-1.17.jar",
    "kafka_bootstrap": "b-1.msk:9096,b-2.msk:9096", "kafka_security_protocol": "SASL_SSL",
    "kafka_sasl_mechanism": "SCRAM-SHA-512", "kafka_username": "dataproc-flink",
    "kafka_password": "p4ss-w0rd-never-in-the-job", "kafka_password_secret": "projects/shop-prod/secrets/kafka",
}


class FakeJobClient:
    """The three JobControllerClient calls the submission makes, with active jobs kept in memory."""

    def __init__(self, fail: bool = False) -> None:
        self.requests: list[dict[str, Any]] = []
        self.listed: list[dict[str, Any]] = []
        self.cancelled: list[str] = []
        self.active: list[Any] = []
        self.fail = fail

    def list_jobs(self, request: dict[str, Any]) -> list[Any]:
        self.listed.append(request)
        return list(self.active)

    def cancel_job(self, request: dict[str, Any]) -> Any:
        self.cancelled.append(request["job_id"])
        self.active = [j for j in self.active if j.reference.job_id != request["job_id"]]

    def submit_job(self, request: dict[str, Any]) -> Any:
        if self.fail:
            raise RuntimeError("403 Permission 'dataproc.jobs.create' denied\nmore")
        self.requests.append(request)
        job = request["job"]
        self.active.append(SimpleNamespace(reference=SimpleNamespace(job_id=job["reference"]["job_id"]),
                                           flink_job=SimpleNamespace(args=job["flink_job"]["args"])))
        return job


def outputs(**gcp: Any) -> StackOutputs:
    return StackOutputs((StageOutputs("aws", {"vpc_id": "v"}), StageOutputs("gcp", {**GCP, **gcp},
                                                                            frozenset({"kafka_password"}))))


def test_request_shape_is_a_pyflink_job_through_the_python_driver() -> None:
    client = FakeJobClient()
    uploads: list[tuple[str, str, bytes]] = []

    def upload(bucket: str, name: str, content: bytes) -> str:
        uploads.append((bucket, name, content))
        return f"gs://{bucket}/{name}"

    job_id = submit_stream_job(outputs(), client=client, upload=upload, now=lambda: 1764000000.0)

    assert job_id == "orders-analytics-1764000000"
    [request] = client.requests
    assert request["project_id"] == "shop-prod" and request["region"] == "us-east4"
    job = request["job"]
    assert job["placement"] == {"cluster_name": "ecomctl-dev-flink"}
    assert job["reference"] == {"job_id": job_id}
    flink = job["flink_job"]
    assert flink["main_class"] == PYTHON_DRIVER
    assert flink["jar_file_uris"] == [GCP["flink_connector_jar"]]
    [(bucket, name, content)] = uploads
    assert bucket == "ecomctl-dev-jobs" and name.endswith("/flink_entry.py") and b"def main" in content
    args = flink["args"]
    assert args[:4] == ["-py", f"gs://{bucket}/{name}", "-pyfs", GCP["flink_job_archive"]]
    env, rest = split(args[4:])
    job = TOPOLOGY.stream_jobs[0]
    assert env["SOURCE_TOPIC"] == job.source and env["SINK_TOPIC"] == job.sink
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == GCP["kafka_bootstrap"]
    assert env["KAFKA_SASL_USERNAME"] == "dataproc-flink" and env["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    # the password is on the nodes (the initialisation action's file), not in the submission
    assert env["KAFKA_SASL_PASSWORD_FILE"] == KAFKA_PASSWORD_FILE and "KAFKA_SASL_PASSWORD" not in env
    assert not any("secrets/kafka" in arg for arg in args)
    assert rest == ["--state-dir", "/tmp/ecomctl/flink"]
    assert GCP["kafka_password"] not in repr(request)
    # the dicts are valid messages of the real client library (unknown fields would raise)
    from google.cloud import dataproc_v1

    message = dataproc_v1.SubmitJobRequest(request)
    assert message.job.flink_job.main_class == PYTHON_DRIVER
    assert dataproc_v1.ListJobsRequest(client.listed[0]).job_state_matcher == \
        dataproc_v1.ListJobsRequest.JobStateMatcher.ACTIVE


def test_a_second_up_keeps_the_running_job_and_a_new_version_replaces_it() -> None:
    client = FakeJobClient()
    first = submit_stream_job(outputs(), client=client, upload=lambda b, n, c: "gs://b/e.py", now=lambda: 100.0)
    again = submit_stream_job(outputs(), client=client, upload=lambda b, n, c: "gs://b/e.py", now=lambda: 200.0)
    assert again == first and len(client.requests) == 1 and client.cancelled == []
    assert client.listed[0] == {"project_id": "shop-prod", "region": "us-east4", "cluster_name": "ecomctl-dev-flink",
                                "job_state_matcher": "ACTIVE", "filter": "labels.ecomctl-job = orders-analytics"}
    newer = submit_stream_job(outputs(flink_job_archive="gs://ecomctl-dev-jobs/flink/def/stream.zip"),
                              client=client, upload=lambda b, n, c: "gs://b/e.py", now=lambda: 300.0)
    assert newer == "orders-analytics-300" and client.cancelled == [first]
    assert [j.reference.job_id for j in client.active] == [newer]


def test_missing_outputs_are_named() -> None:
    with pytest.raises(CloudError, match="did not export dataproc_cluster, kafka_username"):
        submit_stream_job(outputs(dataproc_cluster="", kafka_username=""), client=FakeJobClient(),
                          upload=lambda b, n, c: "gs://x")


def test_a_refused_submission_is_one_line() -> None:
    with pytest.raises(CloudError) as caught:
        submit_stream_job(outputs(), client=FakeJobClient(fail=True), upload=lambda b, n, c: "gs://x/e.py")
    assert caught.value.message == "Dataproc refused the Flink job: 403 Permission 'dataproc.jobs.create' denied"


def test_every_required_output_is_exported_by_the_gcp_program() -> None:
    import inspect

    from programs import gcp

    source = inspect.getsource(gcp)
    assert all(f'"{key}"' in source for key in REQUIRED)


def test_the_job_names_the_file_the_nodes_write() -> None:
    from programs.gcp._dataproc import INIT_ACTION
    from programs.gcp._dataproc import KAFKA_PASSWORD_FILE as WRITTEN

    assert WRITTEN == KAFKA_PASSWORD_FILE
    directory, name = KAFKA_PASSWORD_FILE.rsplit("/", 1)
    script = INIT_ACTION.read_text()
    assert f'secret_dir="${{ECOMCTL_SECRET_DIR:-{directory}}}"' in script and f'"$secret_dir/{name}"' in script
