"""The Dataproc initialisation action, run here with stand-ins for what a node has (the image's
``flink`` command, the metadata server, ``gcloud`` reading Secret Manager, the cluster's Python): it
refuses a Flink other than the one the job is built for, leaves PyFlink of exactly the image's
version importable, and writes the Kafka password where the job's clients read it, readable by the
TaskManagers' group only."""

from __future__ import annotations

import grp
import os
import stat
import subprocess
from pathlib import Path

from programs.gcp._dataproc import INIT_ACTION
from stream.kafka_secret import jaas_quoted, properties_value

SECRET = "projects/shop/secrets/ecomctl-dev-kafka-scram"
PASSWORD = "Gen3rated-pass_word.~x"


def _node(tmp: Path, image_flink: str, want: str, pyflink: str | None,
          password: str = PASSWORD) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "flink").write_text(f"#!/bin/sh\necho 'Version: {image_flink}, Commit ID: 1a2b3c4'\n")
    (bin_dir / "metadata").write_text(
        "#!/bin/sh\n"
        f"[ \"$1\" = attributes/flink-version ] && echo {want}\n"
        f"[ \"$1\" = attributes/kafka-password-secret ] && echo {SECRET}\nexit 0\n")
    # Secret Manager, as `gcloud secrets versions access` prints a version's payload (no newline added)
    (tmp / "payload").write_text(password)
    (bin_dir / "gcloud").write_text(
        f"#!/bin/sh\n[ \"$*\" = 'secrets versions access {SECRET}/versions/latest' ] || exit 9\n"
        f"cat {tmp / 'payload'}\n")
    site = tmp / "site"
    pip_log = tmp / "pip.log"
    # the node's Python: imports pyflink from `site`; `-m pip install` records the request and installs it
    (bin_dir / "python").write_text(
        "#!/bin/sh\n"
        f"if [ \"$1\" = -m ] && [ \"$2\" = pip ]; then echo \"$@\" >> {pip_log}; "
        f"v=${{5#apache-flink==}}; mkdir -p {site}/pyflink; echo \"__version__ = '$v'\" > {site}/pyflink/version.py; "
        f"touch {site}/pyflink/__init__.py; exit 0; fi\n"
        f"PYTHONPATH={site} exec python3 \"$@\"\n")
    if pyflink:
        (site / "pyflink").mkdir(parents=True)
        (site / "pyflink" / "__init__.py").touch()
        (site / "pyflink" / "version.py").write_text(f"__version__ = '{pyflink}'\n")
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "GET_METADATA": str(bin_dir / "metadata"),
           "DATAPROC_PYTHON": str(bin_dir / "python"), "ECOMCTL_SECRET_DIR": str(tmp / "etc"),
           "ECOMCTL_SECRET_GROUP": grp.getgrgid(os.getgid()).gr_name}
    return subprocess.run(["bash", str(INIT_ACTION)], env=env, capture_output=True, text=True, timeout=60)


def test_a_matching_image_gets_the_matching_pyflink(tmp_path: Path) -> None:
    done = _node(tmp_path, "1.17.2", "1.17", pyflink=None)
    assert done.returncode == 0, done.stderr
    assert "apache-flink==1.17.2" in (tmp_path / "pip.log").read_text()
    assert "Flink 1.17.2 with PyFlink 1.17.2" in done.stdout


def test_another_flink_on_the_image_fails_the_node(tmp_path: Path) -> None:
    done = _node(tmp_path, "1.18.1", "1.17", pyflink=None)
    assert done.returncode != 0 and "Flink 1.18.1" in done.stderr and not (tmp_path / "pip.log").exists()


def test_a_pyflink_of_another_version_fails_the_node(tmp_path: Path) -> None:
    done = _node(tmp_path, "1.17.2", "1.17", pyflink="2.2.0")
    assert done.returncode != 0 and "PyFlink 2.2.0 does not match Flink 1.17.2" in done.stderr


def test_the_kafka_password_is_written_for_the_job_and_the_taskmanagers_only(tmp_path: Path) -> None:
    done = _node(tmp_path, "1.17.2", "1.17", pyflink="1.17.2")
    assert done.returncode == 0, done.stderr
    written = tmp_path / "etc" / "kafka-client.properties"
    assert written.read_text() == f"password={PASSWORD}\n"  # the key stream.kafka_secret names
    assert properties_value(jaas_quoted(PASSWORD)) == PASSWORD  # what the launcher would write, too
    assert stat.S_IMODE(written.stat().st_mode) == 0o640 and written.stat().st_gid == os.getgid()
    assert stat.S_IMODE(written.parent.stat().st_mode) == 0o750
    assert [p.name for p in written.parent.iterdir()] == [written.name]
    assert PASSWORD not in done.stdout + done.stderr


def test_a_password_the_node_would_have_to_quote_fails_the_node(tmp_path: Path) -> None:
    done = _node(tmp_path, "1.17.2", "1.17", pyflink="1.17.2", password='pa"ss\\word')
    assert done.returncode != 0 and "characters the node does not quote" in done.stderr
    assert not (tmp_path / "etc" / "kafka-client.properties").exists()
    assert "pa\"ss" not in done.stderr
