"""KRaft cluster ids as the local Kafka is formatted with them."""

from __future__ import annotations

import base64

from ecomctl.local.kafka import new_cluster_id


def test_a_cluster_id_is_16_bytes_and_never_looks_like_an_option() -> None:
    """The storage tool reads an id starting with "-" as an option and refuses to format; base64url
    starts one id in 64 that way, so 10,000 draws of the old way would all but surely show one."""
    ids = [new_cluster_id() for _ in range(10_000)]
    assert not [i for i in ids if i.startswith("-")]
    assert {len(base64.urlsafe_b64decode(i + "==")) for i in ids} == {16}
    assert len(set(ids)) == len(ids)
