"""The Flink configuration of the job, as plain key/values (stdlib only, unit-tested).

Keys are the Flink 1.x names, which Flink 2.x still accepts as fallback keys (checked against
2.2.1's ``CheckpointingOptions``/``StateRecoveryOptions``), so the same map runs on Dataproc's
Flink 1.x and the local 2.x.
"""

from __future__ import annotations

from pathlib import Path

from stream.checkpoints import StateLayout
from stream.settings import JobSettings


def flink_config(settings: JobSettings, layout: StateLayout, restore_from: Path | None) -> dict[str, str]:
    config = {
        "pipeline.name": settings.job_name,
        "parallelism.default": str(settings.parallelism),
        "table.local-time-zone": "UTC",
        "pipeline.object-reuse": "true",  # SQL operators never hold on to input rows
        "table.exec.source.idle-timeout": f"{settings.idle_timeout_s} s",
        # exactly-once state; results are deterministic, sinks are upserted by key downstream
        "execution.checkpointing.interval": f"{settings.checkpoint_interval_s} s",
        "execution.checkpointing.mode": "EXACTLY_ONCE",
        "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
        "state.checkpoints.num-retained": "2",
        "state.backend.type": "hashmap",
        "state.checkpoints.dir": layout.checkpoints.resolve().as_uri(),
        "state.savepoints.dir": layout.savepoints.resolve().as_uri(),
        # a few in-job restarts for transient faults; then the process exits non-zero and the
        # supervisor restarts it from the latest retained checkpoint
        "restart-strategy.type": "fixed-delay",
        "restart-strategy.fixed-delay.attempts": "3",
        "restart-strategy.fixed-delay.delay": "5 s",
    }
    if restore_from is not None:
        config["execution.savepoint.path"] = restore_from.resolve().as_uri()
    return config
