from __future__ import annotations

import pytest

from services.kit.errors import Invalid
from services.kit.pagination import decode_cursor, encode_cursor


@pytest.mark.parametrize("position", [{"seq": 42}, {"product_id": "abc", "category": "mugs"}, {"s": "é/+="}])
def test_cursor_round_trip(position: dict[str, object]) -> None:
    cursor = encode_cursor(position)
    assert "=" not in cursor and "/" not in cursor and "+" not in cursor
    assert decode_cursor(cursor) == position


def test_no_cursor() -> None:
    assert decode_cursor(None) is None and decode_cursor("") is None


@pytest.mark.parametrize("cursor", ["!!", "bm90IGpzb24", encode_cursor([1, 2]).rstrip(), "a"])  # type: ignore[arg-type]
def test_a_foreign_cursor_is_invalid(cursor: str) -> None:
    with pytest.raises(Invalid):
        decode_cursor(cursor)
