"""A stand-in for the ``pulumi`` executable: enough of the CLI for the Automation API.

It is the only test double of the cloud layer. The Automation API runs it exactly as it would
run ``pulumi``; for ``up`` and ``preview`` it connects back to the inline program's language
server (``--client``), serves a resource monitor and an engine over gRPC, and runs the real
program: resources get registered, stack outputs exported, engine events written to the
``--event-log`` file. State lives under the ``file://`` backend in ``.fake-pulumi/``; config in
the workspace's ``Pulumi.<stack>.yaml`` (secrets encrypted with the passphrase, never plain).

Knobs (environment):
  FAKE_PULUMI_LOG        append one JSON line per invocation: {"argv", "project", "stack", ...}
  FAKE_PULUMI_FAIL       "<project>": ``up`` of that project fails with a resource error
  FAKE_PULUMI_DELAY      seconds ``up`` sleeps while holding the stack lock (Ctrl-C tests)
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import sys
import threading
import time
from concurrent import futures
from pathlib import Path
from typing import Any

import yaml

VERSION = "3.200.0"  # >= 3.181 (inline refresh/destroy); <= 3.205 (file-based event log)
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
SECRET_KEY = "4dabf18193072939515e22adb298388d"
VALUE_FLAGS = {
    "--stack", "--color", "--exec-kind", "--event-log", "--secrets-provider", "--page-size",
    "--page", "--client", "--parallel", "--message", "--file",
}


class Fail(Exception):
    def __init__(self, message: str, code: int = 255) -> None:
        super().__init__(message)
        self.code = code


# -- arguments and state -----------------------------------------------------------------------
def parse(argv: list[str]) -> tuple[list[str], dict[str, Any], list[str]]:
    """(command words, flags, extra positional words after the command)."""
    words: list[str] = []
    flags: dict[str, Any] = {}
    rest: list[str] = []
    pairs: list[tuple[str, str]] = []
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok == "--":
            rest.extend(argv[i + 1:])
            break
        if tok in ("--plaintext", "--secret") and words[:2] == ["config", "set-all"]:
            pairs.append((tok, argv[i + 1]))
            i += 2
            continue
        if tok.startswith("--"):
            if "=" in tok:
                key, value = tok.split("=", 1)
                flags[key] = value
            elif tok in VALUE_FLAGS:
                flags[tok] = argv[i + 1]
                i += 1
            else:
                flags[tok] = True
        elif len(words) < 2 and not rest and tok in COMMAND_WORDS:
            words.append(tok)
        else:
            rest.append(tok)
        i += 1
    flags["pairs"] = pairs
    return words, flags, rest


COMMAND_WORDS = {
    "version", "stack", "select", "init", "rm", "ls", "output", "history", "export", "config",
    "set-all", "set", "get", "up", "preview", "destroy", "refresh", "cancel", "whoami", "tag",
}


def backend_root() -> Path:
    url = os.environ.get("PULUMI_BACKEND_URL", "")
    if not url.startswith("file://"):
        raise Fail(f"error: the fake pulumi supports only file:// backends, got {url!r}")
    return Path(url[len("file://"):]) / ".fake-pulumi"


def project() -> str:
    settings = yaml.safe_load(Path("Pulumi.yaml").read_text(encoding="utf-8"))
    return str(settings["name"])


def state_path(stack: str) -> Path:
    return backend_root() / project() / f"{stack}.json"


def lock_path(stack: str) -> Path:
    return backend_root() / project() / f"{stack}.lock"


def load_state(stack: str) -> dict[str, Any]:
    path = state_path(stack)
    if not path.exists():
        raise Fail(f"error: no stack named '{stack}' found")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def save_state(stack: str, state: dict[str, Any]) -> None:
    path = state_path(stack)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state, indent=1), encoding="utf-8")


# -- config: Pulumi.<stack>.yaml, secrets encrypted with the passphrase -----------------------
def passphrase() -> str:
    value = os.environ.get("PULUMI_CONFIG_PASSPHRASE")
    if not value:
        raise Fail(
            "error: passphrase must be set with PULUMI_CONFIG_PASSPHRASE or "
            "PULUMI_CONFIG_PASSPHRASE_FILE environment variables"
        )
    return value


def _keystream(n: int) -> bytes:
    out = b""
    seed = passphrase().encode()
    while len(out) < n:
        seed = hashlib.sha256(seed).digest()
        out += seed
    return out[:n]


def encrypt(plain: str) -> str:
    data = plain.encode()
    mixed = bytes(a ^ b for a, b in zip(data, _keystream(len(data)), strict=True))
    return "v1:" + base64.b64encode(mixed).decode()


def decrypt(cipher: str) -> str:
    data = base64.b64decode(cipher[3:])
    return bytes(a ^ b for a, b in zip(data, _keystream(len(data)), strict=True)).decode()


def config_file(stack: str) -> Path:
    return Path(f"Pulumi.{stack}.yaml")


def read_config(stack: str) -> dict[str, Any]:
    path = config_file(stack)
    if not path.exists():
        return {}
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return dict(doc.get("config") or {})


def write_config(stack: str, config: dict[str, Any]) -> None:
    doc: dict[str, Any] = {"encryptionsalt": "v1:fake:salt", "config": config}
    config_file(stack).write_text(yaml.safe_dump(doc, sort_keys=True), encoding="utf-8")


def plain_config(stack: str) -> dict[str, tuple[str, bool]]:
    out: dict[str, tuple[str, bool]] = {}
    for key, value in read_config(stack).items():
        if isinstance(value, dict) and "secure" in value:
            out[key] = (decrypt(value["secure"]), True)
        else:
            out[key] = (str(value), False)
    return out


# -- events -------------------------------------------------------------------------------------
class EventLog:
    def __init__(self, path: str | None) -> None:
        self.path = path
        self.seq = 0

    def emit(self, **event: Any) -> None:
        if not self.path:
            return
        self.seq += 1
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"sequence": self.seq, "timestamp": int(time.time()), **event}) + "\n")


# -- the engine side of a program run ---------------------------------------------------------
def unwrap(value: Any) -> tuple[Any, bool]:
    """A protobuf-JSON property value without secret wrappers; whether any was secret."""
    if isinstance(value, dict):
        if value.get(SECRET_KEY) == SECRET_SIG:
            inner, _ = unwrap(value.get("value"))
            return inner, True
        secret = False
        out = {}
        for k, v in value.items():
            out[k], s = unwrap(v)
            secret = secret or s
        return out, secret
    if isinstance(value, list):
        items = [unwrap(v) for v in value]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False


def run_program(client: str, stack: str, dry_run: bool, events: EventLog) -> dict[str, Any]:
    """Run the inline program behind ``client``; its resources, outputs and error diagnostics."""
    import grpc
    from google.protobuf import empty_pb2, json_format, struct_pb2
    from pulumi.runtime.proto import (
        engine_pb2,
        engine_pb2_grpc,
        language_pb2,
        language_pb2_grpc,
        resource_pb2,
        resource_pb2_grpc,
    )

    proj = project()
    result: dict[str, Any] = {"resources": [], "outputs": {}, "errors": []}
    root: dict[str, str] = {}
    lock = threading.Lock()

    def urn_of(parent: str, type_: str, name: str) -> str:
        if parent:
            parent_type = parent.split("::")[2].split("$")[-1]
            if parent_type != "pulumi:pulumi:Stack":
                type_ = f"{parent_type}${type_}"
        return f"urn:pulumi:{stack}::{proj}::{type_}::{name}"

    class Monitor(resource_pb2_grpc.ResourceMonitorServicer):  # type: ignore[misc]
        def SupportsFeature(self, request: Any, context: Any) -> Any:
            return resource_pb2.SupportsFeatureResponse(hasSupport=request.id == "secrets")

        def RegisterResource(self, request: Any, context: Any) -> Any:
            urn = urn_of(request.parent, request.type, request.name)
            if request.type == "pulumi:pulumi:Stack":
                root["urn"] = urn
                return resource_pb2.RegisterResourceResponse(urn=urn)
            meta = {"op": "create", "urn": urn, "type": request.type, "provider": ""}
            events.emit(resourcePreEvent={"metadata": meta, "planning": dry_run})
            with lock:
                result["resources"].append({"urn": urn, "type": request.type, "custom": request.custom})
            events.emit(resOutputsEvent={"metadata": meta, "planning": dry_run})
            ident = "" if dry_run or not request.custom else f"{request.name}-id"
            return resource_pb2.RegisterResourceResponse(urn=urn, id=ident, object=request.object)

        def RegisterResourceOutputs(self, request: Any, context: Any) -> Any:
            if request.urn == root.get("urn"):
                raw = json_format.MessageToDict(request.outputs)
                for key, value in raw.items():
                    plain, secret = unwrap(value)
                    result["outputs"][key] = {"value": plain, "secret": secret}
            return empty_pb2.Empty()

        def Invoke(self, request: Any, context: Any) -> Any:
            return resource_pb2.ResourceInvokeResponse(**{"return": struct_pb2.Struct()})

    class Engine(engine_pb2_grpc.EngineServicer):  # type: ignore[misc]
        def Log(self, request: Any, context: Any) -> Any:
            severity = engine_pb2.LogSeverity.Name(request.severity).lower()
            events.emit(diagnosticEvent={"message": request.message, "color": "never", "severity": severity,
                                         "urn": request.urn})
            if severity == "error":
                result["errors"].append(request.message)
            return empty_pb2.Empty()

        def GetRootResource(self, request: Any, context: Any) -> Any:
            return engine_pb2.GetRootResourceResponse(urn=root.get("urn", ""))

        def SetRootResource(self, request: Any, context: Any) -> Any:
            root["urn"] = request.urn
            return engine_pb2.SetRootResourceResponse()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    resource_pb2_grpc.add_ResourceMonitorServicer_to_server(Monitor(), server)
    engine_pb2_grpc.add_EngineServicer_to_server(Engine(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        config = {k: v for k, (v, _) in plain_config(stack).items()}
        secret_keys = [k for k, (_, s) in plain_config(stack).items() if s]
        with grpc.insecure_channel(client) as channel:
            runtime = language_pb2_grpc.LanguageRuntimeStub(channel)
            response = runtime.Run(language_pb2.RunRequest(
                project=proj, stack=stack, pwd=os.getcwd(), program=".", args=[f"127.0.0.1:{port}"],
                config=config, configSecretKeys=secret_keys, dryRun=dry_run, parallel=4,
                monitor_address=f"127.0.0.1:{port}", organization="organization",
            ))
        if response.error:
            result["errors"].append(response.error)
    finally:
        server.stop(0)
    return result


# -- commands -----------------------------------------------------------------------------------
def cmd_update(kind: str, stack: str, flags: dict[str, Any]) -> None:
    state = load_state(stack)
    events = EventLog(flags.get("--event-log"))
    events.emit(preludeEvent={"config": {k: v for k, (v, s) in plain_config(stack).items() if not s}})
    dry_run = kind == "preview"
    lock = lock_path(stack)
    if not dry_run:
        if lock.exists():
            raise Fail(
                f"error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) "
                f"to end or delete the lock file with `pulumi cancel`.\n  {lock}: created by pid "
                f"{lock.read_text(encoding='utf-8').strip()}"
            )
        lock.write_text(str(os.getpid()), encoding="utf-8")

    def interrupted(signum: int, frame: Any) -> None:
        events.emit(cancelEvent={})
        lock.unlink(missing_ok=True)
        sys.stderr.write("error: update canceled\n")
        os._exit(255)

    signal.signal(signal.SIGINT, interrupted)
    try:
        delay = float(os.environ.get("FAKE_PULUMI_DELAY", "0") or 0)
        if delay and not dry_run:
            events.emit(stdoutEvent={"message": "waiting (FAKE_PULUMI_DELAY)", "color": "never"})
            time.sleep(delay)
        if kind == "destroy":
            changes = {"delete": len(state.get("resources", []))}
            for res in state.get("resources", []):
                meta = {"op": "delete", "urn": res["urn"], "type": res["type"], "provider": ""}
                events.emit(resourcePreEvent={"metadata": meta})
                events.emit(resOutputsEvent={"metadata": meta})
            state.update(resources=[], outputs={})
        elif kind == "refresh":
            changes = {"same": len(state.get("resources", []))}
        else:
            run = run_program(flags["--client"], stack, dry_run, events)
            if os.environ.get("FAKE_PULUMI_FAIL") == project() and not dry_run:
                run["errors"].append("creating resource: AccessDenied: not authorized: ec2:CreateVpc")
            if run["errors"]:
                for msg in run["errors"]:
                    sys.stderr.write(f"error: {msg.splitlines()[0] if msg else msg}\n")
                events.emit(summaryEvent={"maybeCorrupt": False, "durationSeconds": 1, "resourceChanges": {},
                                          "policyPacks": {}})
                events.emit(cancelEvent={})
                raise Fail("error: update failed")
            old = {r["urn"] for r in state.get("resources", [])}
            new = {r["urn"] for r in run["resources"]}
            changes = {"create": len(new - old), "same": len(new & old), "delete": len(old - new)}
            if dry_run:
                print(json.dumps({"changeSummary": changes}))
            else:
                state.update(resources=run["resources"], outputs=run["outputs"])
        if not dry_run:
            state.setdefault("history", []).append({
                "kind": kind, "startTime": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                "endTime": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                "message": "", "environment": {}, "config": {}, "result": "succeeded",
                "resourceChanges": changes,
            })
            save_state(stack, state)
        events.emit(summaryEvent={"maybeCorrupt": False, "durationSeconds": 1, "resourceChanges": changes,
                                  "policyPacks": {}})
        events.emit(cancelEvent={})
        print(f"Resources: {changes}")
    finally:
        if not dry_run and lock.read_text(encoding="utf-8").strip() == str(os.getpid()):
            lock.unlink()


def cmd_stack(words: list[str], flags: dict[str, Any], rest: list[str]) -> None:
    sub = words[1] if len(words) > 1 else ""
    stack = flags.get("--stack") or (rest[0] if rest else "")
    if sub == "select":
        load_state(stack)
    elif sub == "init":
        if state_path(stack).exists():
            raise Fail(f"error: stack '{stack}' already exists")
        if flags.get("--secrets-provider", "passphrase") == "passphrase":
            passphrase()
        save_state(stack, {"resources": [], "outputs": {}, "history": []})
    elif sub == "rm":
        state = load_state(rest[0] if rest else stack)
        if state.get("resources") and "--force" not in flags:
            raise Fail("error: stack still has resources; use --force")
        state_path(rest[0] if rest else stack).unlink()
        config_file(rest[0] if rest else stack).unlink(missing_ok=True)
    elif sub == "output":
        outputs = load_state(stack).get("outputs", {})
        show = "--show-secrets" in flags
        shown = {k: (v["value"] if show or not v["secret"] else "[secret]") for k, v in outputs.items()}
        print(json.dumps(shown))
    elif sub == "history":
        history = list(reversed(load_state(stack).get("history", [])))
        print(json.dumps(history[: int(flags.get("--page-size", len(history)) or len(history))]))
    elif sub == "export":
        state = load_state(stack)
        print(json.dumps({"version": 3, "deployment": {"resources": state.get("resources", [])}}))
    else:
        raise Fail(f"error: fake pulumi: unsupported stack command {words} {rest}")


def cmd_config(words: list[str], flags: dict[str, Any], rest: list[str]) -> None:
    stack = flags["--stack"]
    load_state(stack)
    sub = words[1] if len(words) > 1 else rest[0] if rest and rest[0] in ("get", "rm") else ""
    config = read_config(stack)
    if sub == "set-all":
        for flag, pair in flags["pairs"]:
            key, value = pair.split("=", 1)
            config[key] = {"secure": encrypt(value)} if flag == "--secret" else value
        write_config(stack, config)
    elif sub == "set":
        key, value = rest[0], rest[1]
        config[key] = {"secure": encrypt(value)} if "--secret" in flags else value
        write_config(stack, config)
    elif sub == "get":
        key = rest[-1]
        values = plain_config(stack)
        if key not in values:
            raise Fail(f"error: configuration key '{key}' not found for stack '{stack}'")
        print(json.dumps({"value": values[key][0], "secret": values[key][1]}))
    elif sub == "rm":
        config.pop(rest[-1], None)
        write_config(stack, config)
    elif sub == "" and "--json" in flags:
        show = "--show-secrets" in flags
        listed = {k: {"value": v if show or not s else "[secret]", "secret": s}
                  for k, (v, s) in plain_config(stack).items()}
        print(json.dumps(listed))
    else:
        raise Fail(f"error: fake pulumi: unsupported config command {words} {rest}")


def main(argv: list[str]) -> int:
    words, flags, rest = parse(argv)
    log = os.environ.get("FAKE_PULUMI_LOG")
    if log:
        entry = {"argv": argv, "cwd": os.getcwd(),
                 "passphrase_set": bool(os.environ.get("PULUMI_CONFIG_PASSPHRASE"))}
        if Path("Pulumi.yaml").exists():
            entry["project"] = project()
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")
    try:
        cmd = words[0] if words else ""
        if cmd == "version":
            print(f"v{VERSION}")
        elif cmd == "whoami":
            print("fake-user")
        elif cmd == "stack":
            cmd_stack(words, flags, rest)
        elif cmd == "config":
            cmd_config(words, flags, rest)
        elif cmd in ("up", "preview", "destroy", "refresh"):
            cmd_update(cmd, flags["--stack"], flags)
        elif cmd == "cancel":
            lock = lock_path(flags.get("--stack") or rest[0])
            if not lock.exists():
                raise Fail("error: no update is in progress")
            lock.unlink()
            print("The currently running update has been canceled!")
        else:
            raise Fail(f"error: fake pulumi: unsupported command {argv}")
    except Fail as exc:
        sys.stderr.write(f"{exc}\n")
        return exc.code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
