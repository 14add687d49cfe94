"""Working hours in the station's time zone (overnight spans, daylight saving, bad input)
and the order status machine."""

from __future__ import annotations

import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from hub.dispatch.hours import check_hours, shifts_between
from hub.dispatch.lifecycle import TRANSITIONS, OrderTransitionError, check_transition


def at(text: str, zone: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).timestamp()


def test_shifts_are_read_in_the_station_zone_and_merged() -> None:
    hours = check_hours({"0": [["08:00", "12:00"], ["12:00", "17:00"]], "1": [["22:00", "06:00"]]})
    zone = "Asia/Shanghai"
    monday = at("2026-01-05T00:00", zone)
    got = shifts_between(hours, zone, monday, monday + 3 * 86_400)
    assert got == [
        (at("2026-01-05T08:00", zone), at("2026-01-05T17:00", zone)),
        (at("2026-01-06T22:00", zone), at("2026-01-07T06:00", zone)),
    ]


def test_shifts_follow_daylight_saving() -> None:
    hours = check_hours({"6": [["08:00", "10:00"]]})  # Sundays
    zone = "Europe/Paris"
    before = shifts_between(hours, zone, at("2026-03-22T00:00", zone), at("2026-03-23T00:00", zone))
    after = shifts_between(hours, zone, at("2026-03-29T00:00", zone), at("2026-03-30T00:00", zone))
    assert before == [(at("2026-03-22T08:00", zone), at("2026-03-22T10:00", zone))]
    assert after == [(at("2026-03-29T08:00", zone), at("2026-03-29T10:00", zone))]
    assert after[0][0] - before[0][0] == 7 * 86_400 - 3_600  # the clocks went forward


@pytest.mark.parametrize(
    "bad",
    [
        {"7": []},
        {"0": [["8:00", "12:00"]]},
        {"0": [["08:00"]]},
        {"0": [["09:00", "09:00"]]},
        {"0": [["24:30", "25:00"]]},
    ],
)
def test_bad_hours_are_refused(bad: dict[str, list[list[str]]]) -> None:
    with pytest.raises(ValueError, match=r"weekday|span"):
        check_hours(bad)


def test_order_lifecycle() -> None:
    path = ["open", "assigned", "accepted", "arrived", "done"]
    for a, b in itertools.pairwise(path):
        check_transition(a, b)
    for illegal in [
        ("open", "accepted"),
        ("open", "done"),
        ("assigned", "arrived"),
        ("arrived", "cancelled"),
        ("done", "cancelled"),
        ("cancelled", "open"),
    ]:
        with pytest.raises(OrderTransitionError):
            check_transition(*illegal)
    assert set(TRANSITIONS) == {"open", "assigned", "accepted", "arrived", "done", "cancelled"}
