"""Scenario files: YAML describing a station's residents, their devices and scripted incidents.

A scenario is validated by pydantic; an error names the file, the line and the field, e.g.
``incident-mix.yaml:14: incidents.2.kind: Input should be 'fall', 'sos', ...``. Durations
are written ``90s``, ``15m``, ``2h``, ``1d6h`` or as plain seconds. See ``docs/simulator.md``
for the format and ``device_sim/scenarios/`` for examples.

>>> parse_duration("1d2h30m"), parse_duration(45)
(95400.0, 45.0)
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from hub.errors import ConfigError

SCENARIO_DIR = Path(__file__).parent / "scenarios"

_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)d)?(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?"
                       r"(?:(\d+(?:\.\d+)?)s)?$")  # fmt: skip
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_duration(value: object) -> float:
    """Seconds from ``90``, ``"90s"``, ``"15m"``, ``"2h"``, ``"1d6h"``."""
    if isinstance(value, bool):
        raise ValueError("a duration is seconds or a string like 90s, 15m, 2h, 1d")  # noqa: TRY004
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    if isinstance(value, str):
        m = _DURATION.match(value.strip())
        if m and any(m.groups()):
            d, h, mi, s = (float(g) if g else 0.0 for g in m.groups())
            return d * 86_400 + h * 3_600 + mi * 60 + s
    raise ValueError(f"not a duration: {value!r} (use e.g. 90s, 15m, 2h, 1d6h)")


def parse_hhmm(value: str) -> float:
    """Seconds after local midnight of ``"HH:MM"``."""
    m = _HHMM.match(value.strip())
    if not m:
        raise ValueError(f"not a time of day: {value!r} (use HH:MM, e.g. 07:30)")
    return int(m.group(1)) * 3600.0 + int(m.group(2)) * 60.0


Duration = Annotated[float, BeforeValidator(parse_duration)]
IncidentKind = Literal[
    "fall", "sos", "hypoxia", "tachycardia", "fever", "not_up", "night_exit", "long_bathroom",
    "smoke", "gas", "water", "gateway_outage", "low_battery", "clock_drift", "malformed",
    "duplicate", "wrong_schema", "away",
]  # fmt: skip
INCIDENT_KINDS: tuple[str, ...] = IncidentKind.__args__  # type: ignore[attr-defined]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WearableSpec(_Strict):
    """The wrist wearable: vitals every ``interval_s``, acceleration bursts at ``acc_hz``."""

    interval_s: float = Field(60.0, ge=5, le=3600)
    acc_hz: Literal[25, 50] = 50
    on_device_fall_detection: bool = Field(
        True, description="Also send a vendor `fall` event when the wearable sees the impact."
    )
    adl_bursts_per_day: float = Field(
        1.0, ge=0, le=48, description="Non-fall candidate bursts (sitting down hard...) a day."
    )
    charge_minutes: float = Field(20.0, ge=0, le=120, description="Daily charging, off the wrist.")
    drain_pct_per_h: float = Field(2.5, ge=0, le=50)


Room = Literal["bedroom", "living", "kitchen", "bathroom", "hall"]


class ContactSpec(_Strict):
    """A contact sensor on a door, a cupboard or an appliance: it opens (and closes a few
    seconds later) with probability ``p`` each time the resident enters or leaves ``room``,
    and with probability ``use_p`` in each minute the resident is up and about in it."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,20}$", description="Device id suffix.")
    room: Room
    door: str | None = Field(
        None, min_length=1, description="The `door` name it sends; none: an unnamed contact."
    )
    p: float = Field(1.0, ge=0, le=1)
    use_p: float = Field(0.0, ge=0, le=1)


class GatewaySpec(_Strict):
    """The home gateway and its sensors."""

    interval_s: float = Field(300.0, ge=10, le=3600)
    rooms: tuple[str, ...] = ("bedroom", "living", "kitchen", "bathroom", "hall")
    motion_retrigger_p: float = Field(
        0.18, ge=0, le=1,
        description="Chance a minute that a room's PIR fires again while someone is there; "
        "0: once as they come in.",
    )  # fmt: skip
    front_door: bool = Field(True, description="A contact on the front door (`door: front`).")
    bed: bool = True
    toilet: bool = Field(True, description="A toilet presence sensor.")
    contacts: tuple[ContactSpec, ...] = ()
    hazards: tuple[Literal["smoke", "gas", "water"], ...] = ("smoke", "gas", "water")
    heartbeat_s: float = Field(3600.0, ge=60, le=86_400, description="Sub-device heartbeats.")


class DevicesSpec(_Strict):
    wearable: WearableSpec | None = WearableSpec()
    pendant: bool = True
    gateway: GatewaySpec | None = GatewaySpec()
    bp_monitor: bool = True
    glucose_meter: bool = False


class RoutineSpec(_Strict):
    """Habits beyond each resident's drawn profile (:mod:`device_sim.model`)."""

    late_return_p: float = Field(
        0.0, ge=0, le=1, description="Share of evenings out from 18:30-20:00, home after 22:00."
    )


class ResidentsSpec(_Strict):
    count: int = Field(3, ge=1, le=10_000)
    id_prefix: str = Field("sim-r", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,40}$")
    first_index: int = Field(1, ge=0)


class StationSpec(_Strict):
    id: str = "sim-station"
    name: str = "模拟养老服务站"
    district_id: str = "sim-district"
    city_id: str = "sim-city"


class IncidentSpec(_Strict):
    """One scripted incident: ``at`` after the start, or on ``day`` at local ``time``."""

    kind: IncidentKind
    resident: int | str = Field(0, description="Index in the station (0-based) or resident id.")
    at: Duration | None = None
    day: int | None = Field(None, ge=0)
    time: str | None = None
    duration: Duration | None = Field(None, description="How long the condition lasts.")
    gets_up: bool = Field(False, description="fall: the resident gets up again after ~20 s.")
    offset: Duration = Field(900.0, description="clock_drift: how far the clock is ahead.")

    @model_validator(mode="after")
    def _when(self) -> IncidentSpec:
        if (self.at is None) == (self.day is None or self.time is None):
            raise ValueError("give either `at` (after the start) or both `day` and `time`")
        if self.time is not None:
            parse_hhmm(self.time)
        return self


class RepeatSpec(_Strict):
    """Incidents at a steady pace (the demo: one every minute or so), kinds drawn at random."""

    every: Duration = Field(gt=0)
    start: Duration = 30.0
    kinds: tuple[IncidentKind, ...] = Field(min_length=1)
    until: Duration | None = None


class Scenario(_Strict):
    """A whole scenario file."""

    name: str
    description: str = ""
    seed: int = 1
    days: Duration = Field(86_400.0, gt=0, description="How long the run lasts.")
    start: str | None = Field(None, description="Local time of day the run starts (HH:MM).")
    utc_offset_h: float = Field(8.0, ge=-12, le=14)
    speed: float = Field(1.0, gt=0, le=100_000)
    station: StationSpec = StationSpec()
    residents: ResidentsSpec = ResidentsSpec()
    devices: DevicesSpec = DevicesSpec()
    routine: RoutineSpec = RoutineSpec()
    incidents: tuple[IncidentSpec, ...] = ()
    repeat: RepeatSpec | None = None

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        if self.start is not None:
            parse_hhmm(self.start)
        for inc in self.incidents:
            if isinstance(inc.resident, int) and inc.resident >= self.residents.count:
                raise ValueError(f"incident resident {inc.resident} >= residents.count")
        gw = self.devices.gateway
        ids = [c.id for c in gw.contacts] if gw is not None else []
        if len(set(ids)) != len(ids):
            raise ValueError("gateway contacts need distinct ids")
        return self

    @property
    def duration_s(self) -> float:
        return self.days

    def resident_ids(self) -> list[str]:
        r = self.residents
        return [f"{r.id_prefix}-{i:04d}" for i in range(r.first_index, r.first_index + r.count)]


def load_scenario(path: str | Path, **overrides: Any) -> Scenario:
    """Read and validate a scenario; a bare name (``normal-week``) is looked up in the
    library. ``overrides`` replace top-level keys (``residents={"count": 3}``, ``days=...``).

    Raises :class:`~hub.errors.ConfigError` naming file, line and field on any problem.
    """
    p = Path(path)
    if not p.exists() and not p.suffix and (SCENARIO_DIR / f"{p.name}.yaml").exists():
        p = SCENARIO_DIR / f"{p.name}.yaml"
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read scenario {p}: {exc.strerror or exc}") from None
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{p.name}:{mark.line + 1}" if mark is not None else p.name
        raise ConfigError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{p.name}: a scenario is a mapping of keys (name, residents, ...)")
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            line = _line_of(node, loc)
            where = f"{p.name}:{line}" if line else p.name
            field = ".".join(str(x) for x in loc) or "(top)"
            lines.append(f"{where}: {field}: {err['msg']}")
        raise ConfigError("invalid scenario:\n  " + "\n  ".join(lines)) from None


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the YAML node at ``loc`` (the deepest one that exists)."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            nxt = node.value[part] if part < len(node.value) else None
        else:
            nxt = None
        if nxt is None:
            break
        node, line = nxt, nxt.start_mark.line + 1
    return line
