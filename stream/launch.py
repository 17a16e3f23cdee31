"""Foreground wrapper around ``flink run``: what the supervisor starts (``stream.setup.job_command``).

supervisord stops a program by signalling its whole process group. Given directly to ``bin/flink``,
that SIGTERM reaches the client JVM and the job's Python process at once: the JVM starts shutting
down the local cluster while the job is still trying to take a savepoint. So this wrapper (stdlib
only, run by the Flink venv's Python) starts ``flink run`` in its own process group and, on
SIGTERM/SIGINT, signals only the job's Python process (its pid is in ``status.json``), which stops
the job with a savepoint and exits; the JVM then exits by itself. After ``STOP_GRACE_S`` the whole
group is killed. The child gets PR_SET_PDEATHSIG, so a SIGKILLed wrapper leaves no JVM behind.

The Kafka password (``KAFKA_SASL_PASSWORD``, when the supervisor gives one) never reaches the job:
the wrapper writes it to an owner-only file in the job's state directory, starts ``flink run``
with ``KAFKA_SASL_PASSWORD_FILE`` instead, and deletes the file when the job exits (see
``stream.kafka_secret``).

Exit code: the ``flink run`` client's (non-zero when the job failed), 0 after a requested stop.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root: `stream` is stdlib-only

from stream.kafka_secret import child_env

STOP_GRACE_S = 25.0  # below the runtime's stop wait (30 s), so a savepoint can finish
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _job_pid(status_file: Path, group: int) -> int | None:
    try:
        pid = json.loads(status_file.read_text())["pid"]
        return pid if isinstance(pid, int) and os.getpgid(pid) == group else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stream/launch.py")
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the flink run command")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    status_file = args.state_dir / "flink" / "status.json"
    env, secret = child_env(os.environ, args.state_dir)
    try:
        return _supervise(command, env, status_file)
    finally:
        if secret is not None:
            secret.unlink(missing_ok=True)


def _supervise(command: list[str], env: dict[str, str], status_file: Path) -> int:
    child = subprocess.Popen(command, env=env, start_new_session=True, preexec_fn=_die_with_parent)
    stop: dict[str, float] = {}

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if "deadline" in stop:
            return
        stop["deadline"] = time.monotonic() + STOP_GRACE_S
        pid = _job_pid(status_file, child.pid)
        with contextlib.suppress(ProcessLookupError):
            if pid is not None:
                os.kill(pid, signal.SIGTERM)  # the job takes a savepoint and exits
            else:
                os.killpg(child.pid, signal.SIGTERM)  # not submitted yet: just stop

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while child.poll() is None:
        if "deadline" in stop and time.monotonic() > stop["deadline"]:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):  # nothing of the group may outlive the wrapper
        os.killpg(child.pid, signal.SIGKILL)
    code = child.returncode
    if "deadline" in stop and code in (0, -signal.SIGTERM, 128 + signal.SIGTERM):
        return 0
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())
