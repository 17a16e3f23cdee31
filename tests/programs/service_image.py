"""The service image's Python environment, built here from the Dockerfile's own requirement list
(``programs/docker/service-requirements.txt`` with ``constraints/main.txt``), and a MariaDB that
only accepts TLS: what a service in EKS meets at RDS (``require_secure_transport=1``)."""

from __future__ import annotations

import hashlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "programs" / "docker" / "service.Dockerfile"
REQUIREMENTS = DOCKERFILE.with_name("service-requirements.txt")
CONSTRAINTS = REPO / "constraints" / "main.txt"


def requirements() -> list[str]:
    """The packages the Dockerfile installs (it installs exactly this file, checked here)."""
    dockerfile = DOCKERFILE.read_text()
    assert re.search(r"pip install [^\n]*-c main\.txt -r service-requirements\.txt", dockerfile), \
        "the Dockerfile no longer installs service-requirements.txt"
    assert "programs/docker/service-requirements.txt" in dockerfile
    lines = (line.split("#", 1)[0].strip() for line in REQUIREMENTS.read_text().splitlines())
    return [line for line in lines if line]


def image_venv() -> Path:
    """A virtualenv with the image's packages (cached by the list's and the pins' content)."""
    key = hashlib.sha256(REQUIREMENTS.read_bytes() + CONSTRAINTS.read_bytes()).hexdigest()[:12]
    venv = Path(f"/tmp/ecomctl-service-image-venv-{key}")
    python = venv / "bin" / "python"
    if (venv / ".complete").exists():
        return python
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=600)
    # the test environment's pip installs into it (no second pip to bootstrap)
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                    "--disable-pip-version-check", "-c", str(CONSTRAINTS), "-r", str(REQUIREMENTS)],
                   check=True, timeout=1200)
    (venv / ".complete").touch()
    return python


@dataclass(frozen=True)
class TlsMariadb:
    port: int
    ca: Path  # the CA that signed the server's certificate
    socket: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _certificates(directory: Path) -> Path:
    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True, timeout=60)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=ecomctl test CA")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
            "-subj", "/CN=127.0.0.1")
    (directory / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf")
    return directory / "ca.pem"


@contextmanager
def tls_mariadb(directory: Path) -> Iterator[TlsMariadb]:
    """A private mariadbd on 127.0.0.1 that refuses any connection without TLS."""
    server, install = shutil.which("mariadbd") or "/usr/sbin/mariadbd", shutil.which("mariadb-install-db")
    assert install, "mariadb-install-db is missing (apt-get install mariadb-server)"
    user = pwd.getpwuid(os.geteuid()).pw_name
    data, certs = directory / "data", directory / "certs"
    certs.mkdir(parents=True)
    ca = _certificates(certs)
    subprocess.run([install, "--no-defaults", f"--datadir={data}", f"--user={user}", "--skip-test-db",
                    "--auth-root-authentication-method=socket"], check=True, capture_output=True, timeout=300)
    port, sock = _free_port(), directory / "mariadb.sock"
    proc = subprocess.Popen(
        [server, "--no-defaults", f"--datadir={data}", f"--socket={sock}", f"--port={port}",
         "--bind-address=127.0.0.1", f"--user={user}", "--skip-log-bin", "--skip-name-resolve",
         "--innodb-buffer-pool-size=16M", f"--ssl-ca={ca}", f"--ssl-cert={certs / 'server.pem'}",
         f"--ssl-key={certs / 'server.key'}", "--require-secure-transport=ON", f"--log-error={directory / 'err.log'}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not sock.exists():
            assert proc.poll() is None, (directory / "err.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "mariadbd did not start within 60 s"
            time.sleep(0.2)
        yield TlsMariadb(port, ca, sock)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def root_sql(db: TlsMariadb, sql: str) -> str:
    """Run ``sql`` as root over the socket (the server's admin path), return the client's output."""
    done = subprocess.run(["mariadb", "--no-defaults", f"--socket={db.socket}", "-uroot", "--batch",
                           "--skip-column-names"], input=sql, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout
