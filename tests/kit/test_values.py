from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from services.kit.events import EventItem, OrderEvent, decode, encode, money, rfc3339
from services.kit.mysql import MysqlSettings, statements
from services.kit.settings import env_bool, env_int, env_list, env_str


@pytest.mark.parametrize(("value", "text"), [
    (Decimal("19.9"), "19.90"), ("0.005", "0.01"), ("0.004", "0.00"), (Decimal("1234567.891"), "1234567.89"),
    ("3", "3.00"),
])
def test_money(value: Decimal | str, text: str) -> None:
    assert money(value) == text


def test_rfc3339_is_utc_with_z() -> None:
    moment = datetime(2026, 11, 24, 6, 1, 2, 345678, tzinfo=timezone(timedelta(hours=2)))
    assert rfc3339(moment) == "2026-11-24T04:01:02.345678Z"
    assert rfc3339(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00.000000Z"


def test_event_round_trip_tolerates_extra_fields() -> None:
    event = OrderEvent(event_id="e", type="order.created", occurred_at="2026-01-01T00:00:00Z", order_id="o",
                       user_id="u", items=[EventItem("p", 2, "1.50")], total="3.00", currency="USD")
    assert decode(encode(event)) == event
    assert decode(encode(event)[:-1] + b',"extra":1}') == event


def test_env_readers() -> None:
    env = {"A": "7", "B": "yes", "C": " x, ,y ", "D": ""}
    assert env_int("A", 1, env) == 7 and env_int("Z", 1, env) == 1
    assert env_bool("B", False, env) is True and env_bool("D", True, env) is True
    assert env_list("C", env) == ("x", "y") and env_list("Z", env) == ()
    assert env_str("D", "dflt", env) == "dflt"
    with pytest.raises(ValueError, match="A must be a boolean"):
        env_bool("A", False, env)
    with pytest.raises(ValueError, match="B must be an integer"):
        env_int("B", 0, env)


def test_mysql_settings_repr_hides_the_password() -> None:
    settings = MysqlSettings(host="h", port=1, user="u", password="hunter2", database="d")
    assert "hunter2" not in repr(settings)


def test_migration_statements() -> None:
    sql = "-- comment\nCREATE TABLE a (x INT);\n\nINSERT INTO a VALUES (1);\n-- trailing\n"
    assert statements(sql) == ["CREATE TABLE a (x INT)", "INSERT INTO a VALUES (1)"]
