"""The password file the launcher writes for the Kafka client's config provider.

That the real (shaded) Kafka client reads it back and logs in with it is checked against a SCRAM
broker in test_sasl_scram.py; these pin what the launcher does with the file and the environment.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from stream.kafka_secret import PASSWORD_FILE_ENV, child_env, jaas_quoted, properties_value, secret_file


def test_the_password_leaves_the_environment_for_an_owner_only_file(tmp_path: Path) -> None:
    env, path = child_env({"KAFKA_SASL_PASSWORD": "s3cret", "KEEP": "1"}, tmp_path)
    assert path == secret_file(tmp_path).resolve()
    assert env == {"KEEP": "1", PASSWORD_FILE_ENV: str(path)}
    assert path.read_text() == "password=s3cret\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert path.is_relative_to(tmp_path / "flink")  # the job's private state directory


def test_a_rewrite_replaces_the_file_and_no_password_writes_none(tmp_path: Path) -> None:
    _env, path = child_env({"KAFKA_SASL_PASSWORD": "old"}, tmp_path)
    _env, again = child_env({"KAFKA_SASL_PASSWORD": "new"}, tmp_path)
    assert again == path and path is not None and path.read_text() == "password=new\n"
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no partial file left behind
    env, none = child_env({"KAFKA_SASL_PASSWORD": "", "A": "b"}, tmp_path / "other")
    assert none is None and env == {"A": "b"} and not (tmp_path / "other").exists()


def test_quoting_for_jaas_then_for_a_properties_file() -> None:
    assert jaas_quoted('a"b\\c') == 'a\\"b\\\\c'
    assert properties_value(" lead\ttab\\é€😀") == "\\ lead\\ttab\\\\\\u00e9\\u20ac\\ud83d\\ude00"
    with pytest.raises(ValueError, match="line break"):
        jaas_quoted("two\nlines")


def test_the_launcher_never_passes_the_password_on(tmp_path: Path) -> None:
    """stream/launch.py runs its command with the file, and deletes the file when it exits."""
    import subprocess
    import sys

    from stream.setup import LAUNCH_SCRIPT

    seen = tmp_path / "seen"
    probe = (f"import json, os, pathlib; p = os.environ['{PASSWORD_FILE_ENV}']; "
             f"pathlib.Path('{seen}').write_text(json.dumps([k for k in os.environ if k.startswith('KAFKA_')]) "
             "+ '|' + pathlib.Path(p).read_text())")
    env = {**os.environ, "KAFKA_SASL_PASSWORD": "s3cret"}
    done = subprocess.run([sys.executable, str(LAUNCH_SCRIPT), "--state-dir", str(tmp_path), "--",
                           sys.executable, "-c", probe], env=env, timeout=60, check=False)
    assert done.returncode == 0
    names, content = seen.read_text().split("|")
    assert "KAFKA_SASL_PASSWORD" not in json.loads(names) and PASSWORD_FILE_ENV in json.loads(names)
    assert content == "password=s3cret\n"
    assert not secret_file(tmp_path).exists()
