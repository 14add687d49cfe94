"""The pure core on its own: plain values in, plans out; it asks for what it lacks, and
changes nothing until a committed plan is handed back."""

from __future__ import annotations

import itertools

import pytest

from alerts.core import AlertCore
from alerts.escalation import default_policy
from alerts.plan import NeedData, NotificationDue, Plan, RewindableIds, World
from hub.errors import NotFound
from hub.store.base import Device, Resident, Station

from .conftest import ROLES, T0, finding

WORLD = World(
    devices={"w-1": Device("w-1", "wearable", resident_id="r-1")},
    residents={"r-1": Resident("r-1", "st-1", "王阿姨")},
    stations={"st-1": Station("st-1", "pd", "潍坊")},
    contacts={"r-1": ()},
    worn={"r-1": (Device("w-1", "wearable", resident_id="r-1"),)},
)


def core() -> AlertCore:
    numbers = itertools.count(1)
    return AlertCore(new_id=lambda prefix: f"{prefix}-{next(numbers)}",
                     default_policy=default_policy("*", ROLES))  # fmt: skip


def test_a_step_asks_for_what_it_lacks_and_decides_nothing_meanwhile() -> None:
    c = core()
    with pytest.raises(NeedData) as asked:
        c.finding(finding("fall"), World(), T0)
    assert asked.value.needs == {("device", "w-1"), ("resident", "r-1"), ("contacts", "r-1")}
    with pytest.raises(NeedData) as asked:
        c.finding(finding("fall"), World(devices=WORLD.devices, residents=WORLD.residents), T0)
    assert asked.value.needs == {("station", "st-1"), ("contacts", "r-1")}
    assert c.mem.open == {}


def test_nothing_changes_until_the_plan_is_applied() -> None:
    c = core()
    plan = c.finding(finding("fall"), WORLD, T0)
    [alert] = plan.alerts
    assert [e.row.channel for e in plan.effects if isinstance(e, NotificationDue)] == list(
        ROLES["station"]
    )
    assert [t.action for t in plan.timeline] == ["opened", "escalated"]
    assert c.mem.open == {} and c.mem.next_wakeup() is None
    c.apply(plan)
    assert c.mem.known(alert.id) == alert
    assert c.mem.next_wakeup() == T0  # the station's message is unsent


def test_acknowledge_cancels_from_memory_and_commands_the_wearable() -> None:
    c = core()
    c.apply(c.finding(finding("fall"), WORLD, T0))
    [alert] = c.mem.open.values()
    plan = c.acknowledge(alert.id, "nurse-li", T0 + 30, None, WORLD)
    assert [(n.state, n.alert_id) for n in plan.updates] == [("cancelled", alert.id)]
    [cmd] = [e for e in plan.effects if not isinstance(e, NotificationDue)]
    assert cmd.topic == "carehub/v1/devices/w-1/cmd"
    c.apply(plan)
    assert c.mem.pending_rows() == [] and c.mem.next_wakeup() is None
    assert c.mem.commands[cmd.command_id] == alert.id


def test_resolved_alerts_come_from_the_world() -> None:
    c = core()
    c.apply(c.finding(finding("vitals", "medium"), WORLD, T0))
    [alert] = c.mem.open.values()
    resolved = c.resolve(alert.id, "nurse-li", "false_alarm", T0 + 5, None, WORLD)
    c.apply(resolved)
    assert c.mem.open == {}
    with pytest.raises(NeedData) as asked:
        c.comment(alert.id, "nurse-li", "called her", T0 + 9, WORLD)
    assert asked.value.needs == {("alert", alert.id)}
    stored = World(alerts={alert.id: resolved.alerts[0]})
    note = c.comment(alert.id, "nurse-li", "called her", T0 + 9, stored)
    assert [(t.action, t.alert_id) for t in note.timeline] == [("comment", alert.id)]
    with pytest.raises(NotFound):
        c.comment("al-404", "nurse-li", "?", T0, World(alerts={"al-404": None}))


def test_rewound_ids_are_handed_out_again_in_order() -> None:
    numbers = itertools.count(1)
    ids = RewindableIds(lambda prefix: f"{prefix}-{next(numbers)}")
    ids.mark()
    assert (ids("al"), ids("cmd")) == ("al-1", "cmd-2")
    ids.rewind()
    ids.mark()
    assert (ids("cmd"), ids("al"), ids("al")) == ("cmd-2", "al-1", "al-3")


def test_an_empty_plan_writes_nothing() -> None:
    assert not Plan().writes
    assert Plan(handled=[7]).writes
