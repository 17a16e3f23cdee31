"""Class-data sharing (AppCDS) archives for the local stack's JVMs, one per (Java, class path, component).

A static archive holds the parsed and verified classes a JVM loaded on an earlier start, so the next
start maps them instead of reading, parsing and verifying them from the jars again (measured in
docs/benchmarks.md, "Class-data sharing archives"). For each JVM the stack starts:

* ``archive_for(...)`` names the archive ``<cache>/cds/<component>-<fingerprint>.jsa`` (the
  fingerprint covers the Java runtime and every class-path jar's path, size and mtime, so a new JDK
  or a changed jar set names a new archive) and the stack-private class list the JVM records.
* ``ClassDataArchive.jvm_flags()`` is the same on every start, so the component's command never
  changes when its archive appears (a changed command would make ``up`` restart it): use the archive
  if it is there (``-Xshare:auto``: a missing, stale, mismatched or corrupt archive is ignored and the
  JVM starts without it), and record the classes loaded (``-XX:DumpLoadedClassList``, a few hundred
  KB of text written as classes load; no measurable cost).
* ``build_missing(archives)`` is called by ``up`` once everything is healthy: for each archive that
  is missing and has a recorded class list, a detached ``nice -n 19`` process (this module's
  ``main``) runs ``java -Xshare:dump`` from a snapshot of the class list, checks that the result maps
  (``-Xshare:on``) and renames it into place. Temp file + rename: a JVM never sees a half-written
  archive; a lock per archive keeps two stacks sharing the cache from building it twice at once.

JDK 17 static archives hold classes of the boot, platform and application class loaders only (the
class list does not record other loaders' classes before JDK 18, JDK-8265602): for the Flink client
that leaves out the planner (Flink's component class loader) and the Kafka connector (user-code
class loader); a dynamic archive would cover those but must be dumped by the running JVM (measured:
no more CPU saved than the static one, see docs/architecture.md).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

FORMAT = "1"  # part of the fingerprint: bump when the way archives are built changes
STATIC_MAGIC = (0xF00BABA2).to_bytes(4, "little")  # a JDK 17 static archive's first bytes
DUMP_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class ClassDataArchive:
    component: str
    java_home: Path
    classpath: tuple[Path, ...]  # the JVM's application class path, in order (jars only)
    archive: Path  # <cache>/cds/<component>-<fingerprint>.jsa, shared by every stack
    class_list: Path  # what this stack's JVM recorded on its last start (stack-private)

    def jvm_flags(self) -> tuple[str, ...]:
        """Use the archive when it maps, else start as without it; record the classes loaded."""
        return (f"-XX:SharedArchiveFile={self.archive}", "-Xshare:auto",
                f"-XX:DumpLoadedClassList={self.class_list}")

    @property
    def failed_marker(self) -> Path:
        return self.archive.with_suffix(".failed")

    @property
    def classpath_arg(self) -> str:
        return os.pathsep.join(str(p) for p in self.classpath)

    def as_json(self) -> str:
        return json.dumps({
            "component": self.component, "java_home": str(self.java_home),
            "classpath": [str(p) for p in self.classpath], "archive": str(self.archive),
            "class_list": str(self.class_list),
        })

    @classmethod
    def from_json(cls, text: str) -> ClassDataArchive:
        data = json.loads(text)
        return cls(
            component=data["component"], java_home=Path(data["java_home"]),
            classpath=tuple(Path(p) for p in data["classpath"]), archive=Path(data["archive"]),
            class_list=Path(data["class_list"]),
        )


def jars(directory: Path) -> tuple[Path, ...]:
    """The jars of a directory in a fixed (sorted) order: what ``dir/*`` on a class path would add."""
    return tuple(sorted(p for p in directory.iterdir() if p.suffix == ".jar" and p.is_file()))


def fingerprint(java_home: Path, classpath: Sequence[Path]) -> str:
    """Changes with the Java runtime and with any class-path jar's path, size or mtime."""
    digest = hashlib.sha256(FORMAT.encode())
    release = java_home / "release"
    digest.update(release.read_bytes() if release.is_file() else str(java_home).encode())
    for path in (java_home / "lib" / "modules", java_home / "lib" / "server" / "libjvm.so", *classpath):
        try:
            st = path.stat()
            digest.update(f"\0{path.resolve()}\0{st.st_size}\0{st.st_mtime_ns}".encode())
        except OSError:
            digest.update(f"\0{path}\0missing".encode())
    return digest.hexdigest()[:16]


def archive_for(component: str, java_home: Path, classpath: Sequence[Path], cache_dir: Path,
                run_dir: Path) -> ClassDataArchive:
    """The archive of ``component`` for this runtime and class path; creates the directories."""
    cds = cache_dir / "cds"
    cds.mkdir(parents=True, exist_ok=True)
    records = run_dir / "cds"
    records.mkdir(parents=True, exist_ok=True)
    return ClassDataArchive(
        component=component, java_home=java_home, classpath=tuple(classpath),
        archive=cds / f"{component}-{fingerprint(java_home, classpath)}.jsa",
        class_list=records / f"{component}.classlist",
    )


def build_missing(archives: Sequence[ClassDataArchive],
                  env: Mapping[str, str] | None = None) -> list[ClassDataArchive]:
    """Start a detached, lowest-priority build of each missing archive whose class list was recorded.

    ``env`` is added to the builder's environment: the runtime passes its stack marker, so ``down``
    stops a build still running (it then leaves nothing behind, see ``main``) like any process of
    the stack. Returns those it started a build for. Never raises: an archive that cannot be built
    only means the JVM keeps starting without one.
    """
    started: list[ClassDataArchive] = []
    for item in archives:
        if usable(item.archive) or item.failed_marker.exists() or not _has_records(item.class_list):
            continue
        try:
            with item.archive.with_suffix(".log").open("ab") as log:
                subprocess.Popen(
                    ["nice", "-n", "19", sys.executable, "-m", "ecomctl.local.class_data", item.as_json()],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True, close_fds=True, env={**os.environ, **(env or {})},
                )
            started.append(item)
        except OSError:
            continue
    return started


def usable(archive: Path) -> bool:
    """The archive is there and starts like a static archive (else it is rebuilt; the JVM itself
    checks everything else and ignores an archive it cannot use)."""
    try:
        with archive.open("rb") as handle:
            return handle.read(4) == STATIC_MAGIC
    except OSError:
        return False


def _has_records(class_list: Path) -> bool:
    try:
        return class_list.stat().st_size > 0
    except OSError:
        return False


def build(item: ClassDataArchive) -> bool:
    """Build the archive now (blocking) unless it exists or another process is building it.

    True when the archive is usable afterwards. The class list is snapshotted first (the JVM that
    records it may still be running and appending: only complete lines are used). A failed build
    leaves ``<archive>.failed`` (with the reason): it is not retried for this fingerprint.
    """
    if usable(item.archive):
        return True
    with _exclusive(item.archive.with_suffix(".lock")) as mine:
        if not mine or usable(item.archive):
            return usable(item.archive)
        directory = item.archive.parent
        with tempfile.TemporaryDirectory(dir=directory, prefix=f".{item.component}-") as tmp:
            snapshot = Path(tmp) / "classlist"
            data = item.class_list.read_bytes()
            snapshot.write_bytes(data[: data.rfind(b"\n") + 1])
            partial = Path(tmp) / "archive.jsa"
            java = str(item.java_home / "bin" / "java")
            dump = subprocess.run(
                [java, "-Xshare:dump", f"-XX:SharedClassListFile={snapshot}",
                 f"-XX:SharedArchiveFile={partial}", "-Xlog:cds=error", "-cp", item.classpath_arg],
                stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=DUMP_TIMEOUT_S,
                check=False,
            )
            if dump.returncode < 0:  # the dump was killed (``down``): not the archive's fault
                return False
            if dump.returncode != 0 or not partial.is_file():
                return _failed(item, f"-Xshare:dump exited {dump.returncode}:\n"
                               f"{(dump.stdout + dump.stderr)[-2000:]}")
            if not maps(item.java_home, partial, item.classpath):
                return _failed(item, "the new archive does not map with this class path")
            os.replace(partial, item.archive)
    print(f"{item.component}: built {item.archive} ({item.archive.stat().st_size >> 20} MiB)", flush=True)
    return True


def _failed(item: ClassDataArchive, reason: str) -> bool:
    print(f"{item.component}: no archive: {reason}", flush=True)
    item.failed_marker.write_text(reason + "\n")
    return False


def maps(java_home: Path, archive: Path, classpath: Sequence[Path]) -> bool:
    """Whether a JVM with this class path maps ``archive`` (``-Xshare:on`` fails when it cannot)."""
    check = subprocess.run(
        [str(java_home / "bin" / "java"), "-Xshare:on", f"-XX:SharedArchiveFile={archive}",
         "-cp", os.pathsep.join(str(p) for p in classpath), "-version"],
        stdin=subprocess.DEVNULL, capture_output=True, timeout=60, check=False,
    )
    return check.returncode == 0


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[bool]:
    """A non-blocking exclusive lock: yields False when another process holds it."""
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m ecomctl.local.class_data '<archive json>'``: what ``build_missing`` detaches."""
    args = sys.argv[1:] if argv is None else list(argv)
    # SIGTERM (``down``) unwinds: the dump's JVM is killed, the temp directory removed, the lock
    # released; no archive appears, and the next ``up`` starts the build again.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    if len(args) != 1:
        print("usage: python -m ecomctl.local.class_data '<archive json>'", file=sys.stderr)
        return 2
    return 0 if build(ClassDataArchive.from_json(args[0])) else 1


if __name__ == "__main__":
    sys.exit(main())
