"""The service image's Python environment (built from the Dockerfile's own requirement list) talks
to a MySQL-protocol server that admits TLS only, the way a service in EKS talks to RDS."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.programs.service_image import DOCKERFILE, REPO, TlsMariadb, image_venv, root_sql, tls_mariadb

CONNECT = """
import asyncio
from services.kit.mysql import MysqlSettings, close_pool, create_pool, fetch_one

async def main() -> None:
    pool = await create_pool(MysqlSettings.from_env(database="shop"), wait_s=2)
    try:
        row = await fetch_one(pool, "SHOW SESSION STATUS LIKE 'Ssl_version'")
        print(row[1] if row else "")
    finally:
        await close_pool(pool)

asyncio.run(main())
"""

RSA_EXCHANGE = """
from asyncmy import auth
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
salt = b"0123456789abcdefghij"
sent = auth.sha2_rsa_encrypt(b"s3cret", salt, pem)
plain = key.decrypt(sent, padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None))
print(bytes(a ^ salt[i % len(salt)] for i, a in enumerate(plain)).decode())
"""


@pytest.fixture(name="image_python", scope="module")
def fx_image_python() -> Path:
    return image_venv()


@pytest.fixture(name="tls_db", scope="module")
def fx_tls_db(tmp_path_factory: pytest.TempPathFactory) -> TlsMariadb:
    with tls_mariadb(tmp_path_factory.mktemp("tls-mariadb")) as db:
        root_sql(db, "CREATE DATABASE shop; CREATE USER 'shop_svc'@'%' IDENTIFIED BY 'pw-9f2c' REQUIRE SSL;"
                     "GRANT ALL PRIVILEGES ON shop.* TO 'shop_svc'@'%';")
        yield db


def _connect(python: Path, db: TlsMariadb, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO), "MYSQL_HOST": "127.0.0.1",
               "MYSQL_PORT": str(db.port), "MYSQL_USER": "shop_svc", "MYSQL_PASSWORD": "pw-9f2c", **env}
    return subprocess.run([str(python), "-c", CONNECT], env=environ, capture_output=True, text=True, timeout=120)


def test_a_service_connects_over_verified_tls_with_the_images_packages(image_python: Path, tls_db: TlsMariadb) -> None:
    done = _connect(image_python, tls_db, MYSQL_TLS="verify", MYSQL_TLS_CA=str(tls_db.ca))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().startswith("TLSv1."), done.stdout


def test_plain_tcp_is_refused_and_a_foreign_ca_fails_verification(image_python: Path, tls_db: TlsMariadb,
                                                                 tmp_path: Path) -> None:
    plain = _connect(image_python, tls_db, MYSQL_TLS="")
    assert plain.returncode != 0 and ("secure transport" in plain.stderr.lower() or "3159" in plain.stderr
                                      or "1045" in plain.stderr), plain.stderr[-2000:]
    foreign = tmp_path / "foreign.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(tmp_path / "k"),
                    "-out", str(foreign), "-days", "1", "-subj", "/CN=foreign"], check=True, capture_output=True)
    unverified = _connect(image_python, tls_db, MYSQL_TLS="verify", MYSQL_TLS_CA=str(foreign))
    assert unverified.returncode != 0 and "CERTIFICATE_VERIFY_FAILED" in unverified.stderr, unverified.stderr[-2000:]


def test_the_image_can_do_caching_sha2s_rsa_password_exchange(image_python: Path) -> None:
    """Without TLS, MySQL 8's caching_sha2_password sends the password RSA-encrypted: that needs
    ``cryptography`` in the image (asyncmy imports it lazily and fails at the first login)."""
    done = subprocess.run([str(image_python), "-c", RSA_EXCHANGE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip("\n") == "s3cret\x00"


def test_the_image_carries_the_ca_bundle_the_cloud_config_names() -> None:
    from programs.kubernetes import RDS_CA_PATH, mysql_tls_env

    dockerfile = DOCKERFILE.read_text()
    assert f" {RDS_CA_PATH}\n" in dockerfile and "--chmod=0444" in dockerfile  # readable by uid 10001
    assert mysql_tls_env() == {"MYSQL_TLS": "verify", "MYSQL_TLS_CA": RDS_CA_PATH}
