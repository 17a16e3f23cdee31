"""Jars from Maven Central, resolved with their dependencies by ``mvn``, cached once per version."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ecomctl.errors import PrerequisiteError
from ecomctl.local import system


@dataclass(frozen=True)
class Artifact:
    group: str
    artifact: str
    version: str
    type: str = "jar"

    def dependency_xml(self) -> str:
        kind = f"<type>{self.type}</type>" if self.type != "jar" else ""
        return (
            f"<dependency><groupId>{self.group}</groupId><artifactId>{self.artifact}</artifactId>"
            f"<version>{self.version}</version>{kind}</dependency>"
        )


def resolve(
    name: str,
    artifacts: Sequence[Artifact],
    cache_dir: Path,
    java_home: Path,
    progress: Callable[[str], None] = lambda _msg: None,
) -> Path:
    """A directory holding ``artifacts`` and their runtime dependencies (fetched only once)."""
    key = hashlib.sha256(repr(tuple(artifacts)).encode()).hexdigest()[:12]
    target = cache_dir / "jars" / f"{name}-{key}"
    if (target / ".complete").exists():
        return target
    (mvn,) = system.ensure_commands(
        ("mvn",), "maven", "apt-get install -y maven (macOS: brew install maven)", progress
    )
    progress(f"fetching {name} jars from Maven Central (once)")
    pom = (
        '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
        "<groupId>local.ecomctl</groupId><artifactId>fetch</artifactId><version>1</version>"
        f"<dependencies>{''.join(a.dependency_xml() for a in artifacts)}</dependencies></project>"
    )
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "pom.xml").write_text(pom)
        env = dict(os.environ, JAVA_HOME=str(java_home))
        proc = subprocess.run(
            [mvn, "-q", "-B", "dependency:copy-dependencies", f"-DoutputDirectory={partial}",
             "-DincludeScope=runtime"],
            cwd=tmp, env=env, capture_output=True, text=True, timeout=900,
        )
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise PrerequisiteError(
            f"could not fetch the {name} jars from Maven Central",
            hint="check that Maven Central is reachable (mvn -v; ~/.m2/settings.xml mirrors)",
            details=tail,
        )
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    (target / ".complete").write_text("\n".join(a.dependency_xml() for a in artifacts))
    return target
