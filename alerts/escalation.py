"""Escalation policies as validated data, and when the next notification is due (pure).

A policy belongs to a station (``station_id: "*"`` is the default for stations without
their own). Per priority it lists **steps**: after ``after_s`` seconds unacknowledged, tell
these **targets**. A target is ``family`` (the resident's contacts, with their own
preferences) or a role whose channels the policy lists under ``roles``. After the last step,
the notification is repeated every ``repeat_every_s`` to everyone reached so far, at most
``max_repeats`` times, until someone acknowledges. Acknowledging stops escalation.

The default policy: high priority → the station at once, its supervisor
after 60 s, family and the district after 3 min, repeated every 2 min; medium → the station
at once, supervisor and family after 10 min; low → the station only.

>>> p = default_policy()
>>> plan = p.for_priority("high")
>>> [s.after_s for s in plan.steps]
[0.0, 60.0, 180.0]
>>> [f.targets for f in due_firings(plan, base=0.0, steps_fired=1, repeats_fired=0, now=61.0)]
[('supervisor',)]
>>> next_deadline(plan, base=0.0, steps_fired=2, repeats_fired=0)
180.0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from alerts.state import Priority
from hub.errors import CarehubError

FAMILY = "family"
DEFAULT_STATION = "*"


class PolicyError(CarehubError):
    """An escalation policy does not validate."""


class Step(BaseModel):
    """Tell ``notify`` once the alert has been unacknowledged for ``after_s`` seconds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    after_s: float = Field(ge=0, le=7 * 86_400)
    notify: tuple[str, ...] = Field(min_length=1)


class PriorityPlan(BaseModel):
    """The steps for one priority, in order, and how the last ones repeat."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    steps: tuple[Step, ...] = ()
    repeat_every_s: float | None = Field(None, ge=30)
    max_repeats: int = Field(10, ge=0, le=1_000)

    @model_validator(mode="after")
    def _ordered(self) -> PriorityPlan:
        times = [s.after_s for s in self.steps]
        if times != sorted(times) or len(set(times)) != len(times):
            raise ValueError("steps must have strictly increasing after_s")
        return self

    def reached(self, steps_fired: int) -> tuple[str, ...]:
        """Every target of the first ``steps_fired`` steps, each once, in order."""
        out: list[str] = []
        for step in self.steps[:steps_fired]:
            out.extend(t for t in step.notify if t not in out)
        return tuple(out)


class EscalationPolicy(BaseModel):
    """One station's policy: role channels and a plan per priority."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    station_id: str = Field(DEFAULT_STATION, min_length=1)
    roles: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Role name → channel URLs (apprise URLs or signed webhooks)."""
    high: PriorityPlan = PriorityPlan()
    medium: PriorityPlan = PriorityPlan()
    low: PriorityPlan = PriorityPlan()

    @model_validator(mode="after")
    def _targets_known(self) -> EscalationPolicy:
        if FAMILY in self.roles:
            raise ValueError("'family' is the resident's contacts, not a role")
        for name, plan in (("high", self.high), ("medium", self.medium), ("low", self.low)):
            for step in plan.steps:
                unknown = [t for t in step.notify if t != FAMILY and t not in self.roles]
                if unknown:
                    raise ValueError(f"{name} step at {step.after_s:g} s names unknown {unknown}")
        return self

    def for_priority(self, priority: Priority) -> PriorityPlan:
        plan: PriorityPlan = getattr(self, priority)
        return plan


def parse_policy(data: dict[str, Any]) -> EscalationPolicy:
    """Validate a policy from plain data (YAML, JSON, the store); raises PolicyError."""
    try:
        return EscalationPolicy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(f"bad escalation policy: {exc}") from exc


def default_policy(
    station_id: str = DEFAULT_STATION, roles: dict[str, tuple[str, ...]] | None = None
) -> EscalationPolicy:
    """The default policy: see the module docstring."""
    return EscalationPolicy(
        station_id=station_id,
        roles=roles or {"station": (), "supervisor": (), "district": ()},
        high=PriorityPlan(
            steps=(
                Step(after_s=0, notify=("station",)),
                Step(after_s=60, notify=("supervisor",)),
                Step(after_s=180, notify=(FAMILY, "district")),
            ),
            repeat_every_s=120,
        ),
        medium=PriorityPlan(
            steps=(
                Step(after_s=0, notify=("station",)),
                Step(after_s=600, notify=("supervisor", FAMILY)),
            ),
            repeat_every_s=600,
            max_repeats=3,
        ),
        low=PriorityPlan(steps=(Step(after_s=0, notify=("station",)),)),
    )


@dataclass(frozen=True, slots=True)
class Firing:
    """A notification round that is due: a step (``repeat`` 0) or a repeat (1, 2...)."""

    step: int
    """Index of the step, or of the last step for a repeat."""
    repeat: int
    due_at: float
    targets: tuple[str, ...]

    @property
    def tag(self) -> str:
        """Stable name of the round, part of each notification's idempotency key."""
        return f"s{self.step}" if self.repeat == 0 else f"r{self.repeat}"


def next_deadline(
    plan: PriorityPlan, *, base: float, steps_fired: int, repeats_fired: int
) -> float | None:
    """When the next round is due, or None when the plan is exhausted."""
    if steps_fired < len(plan.steps):
        return base + plan.steps[steps_fired].after_s
    if not plan.steps or plan.repeat_every_s is None or repeats_fired >= plan.max_repeats:
        return None
    return base + plan.steps[-1].after_s + plan.repeat_every_s * (repeats_fired + 1)


def due_firings(
    plan: PriorityPlan, *, base: float, steps_fired: int, repeats_fired: int, now: float
) -> list[Firing]:
    """The rounds due by ``now``. Every overdue step fires (each reaches other people);
    overdue repeats collapse into one, so a hub back from a long outage does not flood."""
    out: list[Firing] = []
    while steps_fired < len(plan.steps) and base + plan.steps[steps_fired].after_s <= now:
        step = plan.steps[steps_fired]
        out.append(Firing(steps_fired, 0, base + step.after_s, step.notify))
        steps_fired += 1
    due = next_deadline(plan, base=base, steps_fired=steps_fired, repeats_fired=repeats_fired)
    if steps_fired == len(plan.steps) and due is not None and due <= now:
        assert plan.repeat_every_s is not None
        passed = int((now - base - plan.steps[-1].after_s) // plan.repeat_every_s)
        repeat = min(passed, plan.max_repeats)
        out.append(Firing(len(plan.steps) - 1, repeat, due, plan.reached(len(plan.steps))))
    return out


def fired_counts(firings: list[Firing], steps_fired: int, repeats_fired: int) -> tuple[int, int]:
    """(steps_fired, repeats_fired) after ``firings``."""
    for f in firings:
        if f.repeat:
            repeats_fired = f.repeat
        else:
            steps_fired = f.step + 1
    return steps_fired, repeats_fired
