"""Batch handling: records of one key in order, different keys concurrently (bounded); a whole
batch retried as one."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import ConsumerRecord

from services.kit.kafka import RETRY_DELAYS_S, handle_batch, whole_batch


def _record(key: bytes, value: bytes, offset: int) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(topic="t", partition=0, offset=offset, timestamp=0, timestamp_type=0, key=key,
                          value=value, checksum=None, serialized_key_size=1, serialized_value_size=1, headers=())


def test_same_key_in_order_other_keys_concurrently() -> None:
    records = [_record(b"a", b"1", 0), _record(b"b", b"1", 1), _record(b"a", b"2", 2), _record(b"c", b"1", 3),
               _record(b"a", b"3", 4)]
    seen: list[tuple[bytes, bytes]] = []
    running = 0
    peak = 0

    async def handle(record: ConsumerRecord[bytes, bytes]) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01 if record.key == b"a" else 0.03)
        seen.append((record.key or b"", record.value or b""))
        running -= 1

    asyncio.run(handle_batch(records, handle, concurrency=2))
    assert [v for k, v in seen if k == b"a"] == [b"1", b"2", b"3"]
    assert sorted(seen) == sorted((r.key, r.value) for r in records)
    assert peak == 2


def test_concurrency_one_is_sequential() -> None:
    records = [_record(bytes([65 + n]), b"x", n) for n in range(5)]
    order: list[int] = []

    async def handle(record: ConsumerRecord[bytes, bytes]) -> None:
        await asyncio.sleep(0.001 * (5 - record.offset))
        order.append(record.offset)

    asyncio.run(handle_batch(records, handle, concurrency=1))
    assert order == [0, 1, 2, 3, 4]


def test_a_whole_batch_is_retried_then_its_failure_raised() -> None:
    records = [_record(b"a", b"1", 0), _record(b"b", b"2", 1)]
    calls: list[list[int]] = []

    async def flaky(batch: list[ConsumerRecord[bytes, bytes]]) -> None:
        calls.append([r.offset for r in batch])
        if len(calls) < 3:
            raise RuntimeError("not now")

    asyncio.run(whole_batch(flaky)(records))
    assert calls == [[0, 1]] * 3  # the whole list each time

    async def broken(batch: list[ConsumerRecord[bytes, bytes]]) -> None:
        calls.append([r.offset for r in batch])
        raise RuntimeError("never")

    calls.clear()
    with pytest.raises(RuntimeError, match="never"):
        asyncio.run(whole_batch(broken)(records))
    assert len(calls) == len(RETRY_DELAYS_S) + 1  # then the consumer restarts, nothing committed
