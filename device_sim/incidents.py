"""Scripted incidents: when they happen, to whom, and the ground truth they leave behind.

An :class:`Incident` is a scenario entry resolved to simulated time. Its effects on the
resident and devices are applied in :mod:`device_sim.home`; here it becomes a
:class:`TruthRecord`: the alert kind the hub should raise (``alert``, ``None`` for messages
the hub must refuse without alarming, e.g. malformed payloads, and for what must raise no
alarm at all, a weekend ``away``), other kinds that the same
incident legitimately raises (``also``), when it started and ended, and the ``deadline``
by which an alert still counts as detecting it (detectors need persistence windows, silence
thresholds, a long lie needs a minute on the floor).

The truth file is JSON Lines: a ``run`` record, then one ``incident`` record per incident.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from device_sim.scenario import Scenario, parse_hhmm

DEFAULT_DURATION_S: dict[str, float] = {
    "fall": 20 * 60.0, "sos": 0.0, "hypoxia": 40 * 60.0, "tachycardia": 30 * 60.0,
    "fever": 3 * 3600.0, "not_up": 3 * 3600.0, "night_exit": 3600.0,
    "long_bathroom": 75 * 60.0, "smoke": 10 * 60.0, "gas": 10 * 60.0, "water": 10 * 60.0,
    "gateway_outage": 3600.0, "low_battery": 2 * 3600.0, "clock_drift": 2 * 3600.0,
    "malformed": 0.0, "duplicate": 0.0, "wrong_schema": 0.0, "away": 32 * 3600.0,
}  # fmt: skip
ALERT_OF: dict[str, str | None] = {
    "fall": "fall", "sos": "sos", "hypoxia": "vitals", "tachycardia": "vitals",
    "fever": "vitals", "not_up": "not_up", "night_exit": "night_exit",
    "long_bathroom": "long_bathroom", "smoke": "smoke", "gas": "gas", "water": "water",
    "gateway_outage": "device_offline", "low_battery": "low_battery",
    "clock_drift": "clock_skew", "malformed": None, "duplicate": None, "wrong_schema": None,
    "away": None,
}  # fmt: skip
ALSO: dict[str, tuple[str, ...]] = {
    "hypoxia": ("vitals_drift",), "tachycardia": ("vitals_drift",), "fever": ("vitals_drift",),
    "night_exit": ("inactivity",), "fall": ("inactivity", "long_bathroom"),
}  # fmt: skip
GRACE_S: dict[str, float] = {
    "fall": 120.0, "sos": 60.0, "smoke": 60.0, "gas": 60.0, "water": 60.0,
    "hypoxia": 900.0, "tachycardia": 900.0, "fever": 1800.0,
    "gateway_outage": 1800.0, "low_battery": 3600.0, "clock_drift": 900.0,
}  # fmt: skip
"""Seconds after the end of an incident in which an alert still counts as detecting it."""


@dataclass(frozen=True, slots=True)
class Incident:
    """One incident in simulated time."""

    id: str
    kind: str
    resident_id: str
    start: float
    duration: float
    gets_up: bool = False
    offset: float = 900.0

    @property
    def end(self) -> float:
        return self.start + self.duration


@dataclass(frozen=True, slots=True)
class TruthRecord:
    """What really happened, for scoring (times in simulated epoch seconds)."""

    id: str
    incident: str
    resident_id: str
    start: float
    end: float
    deadline: float
    alert: str | None
    also: tuple[str, ...] = ()
    device_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        data = asdict(self)
        data["also"] = list(self.also)
        return json.dumps({"record": "incident", **data}, ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class RunInfo:
    """The ``run`` record: which residents and which stretch of simulated time."""

    scenario: str
    seed: int
    epoch: float
    end: float
    speed: float
    residents: tuple[str, ...]

    @property
    def resident_days(self) -> float:
        return len(self.residents) * (self.end - self.epoch) / 86_400.0

    def to_json(self) -> str:
        data = asdict(self)
        data["residents"] = list(self.residents)
        return json.dumps({"record": "run", **data}, ensure_ascii=False)


def truth_for(inc: Incident, device_id: str | None = None, **detail: Any) -> TruthRecord:
    end = inc.end
    if inc.kind == "fall" and inc.gets_up:
        end = inc.start + 60.0
    return TruthRecord(
        inc.id, inc.kind, inc.resident_id, inc.start, end,
        end + GRACE_S.get(inc.kind, 600.0), ALERT_OF[inc.kind], ALSO.get(inc.kind, ()),
        device_id, dict(detail),
    )  # fmt: skip


def resolve(sc: Scenario, epoch: float, day0: float) -> list[Incident]:
    """Scripted and repeating incidents of ``sc`` in simulated time, in time order.

    ``day0`` is local midnight of the first day (``day: 0``); ``at`` counts from ``epoch``.
    """
    ids = sc.resident_ids()
    out: list[tuple[float, str, str, IncidentArgs]] = []
    for spec in sc.incidents:
        if spec.at is not None:
            start = epoch + spec.at
        else:
            assert spec.day is not None
            assert spec.time is not None
            start = day0 + spec.day * 86_400.0 + parse_hhmm(spec.time)
        rid = ids[spec.resident] if isinstance(spec.resident, int) else spec.resident
        if rid not in ids:
            raise ValueError(f"incident names unknown resident {rid!r}")
        dur = spec.duration if spec.duration is not None else DEFAULT_DURATION_S[spec.kind]
        out.append((start, spec.kind, rid, IncidentArgs(dur, spec.gets_up, spec.offset)))
    if sc.repeat is not None:
        rng = np.random.default_rng([sc.seed, 7_777])
        t = epoch + sc.repeat.start
        stop = epoch + (sc.repeat.until if sc.repeat.until is not None else sc.days)
        while t < stop:
            kind = sc.repeat.kinds[int(rng.integers(len(sc.repeat.kinds)))]
            rid = ids[int(rng.integers(len(ids)))]
            dur = min(DEFAULT_DURATION_S[kind], 15 * 60.0)
            out.append((t, kind, rid, IncidentArgs(dur, bool(rng.random() < 0.5), 900.0)))
            t += sc.repeat.every
    out.sort(key=lambda x: (x[0], x[2], x[1]))
    return [
        Incident(f"inc-{i:04d}", kind, rid, start, a.duration, a.gets_up, a.offset)
        for i, (start, kind, rid, a) in enumerate(out, 1)
    ]


@dataclass(frozen=True, slots=True)
class IncidentArgs:
    duration: float
    gets_up: bool
    offset: float


def write_truth(path: Path, run: RunInfo, records: Iterable[TruthRecord]) -> None:
    lines = [run.to_json(), *(r.to_json() for r in sorted(records, key=lambda r: r.start))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


SENT_SUFFIX = ".sent.json"
"""Beside a truth file: what the run's MQTT clients really sent (``sim run`` writes it)."""


def write_sent(truth: Path, counts: Mapping[str, int]) -> None:
    truth.with_name(truth.name + SENT_SUFFIX).write_text(json.dumps(dict(counts)) + "\n")


def read_sent(truth: Path) -> dict[str, int] | None:
    """The counts :func:`write_sent` left beside ``truth``, or None (an older run)."""
    path = truth.with_name(truth.name + SENT_SUFFIX)
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    return {str(k): int(v) for k, v in data.items()}


def read_truth(path: Path) -> tuple[RunInfo, list[TruthRecord]]:
    """Read a truth file; ``ValueError`` naming the line when it is not one."""
    run: RunInfo | None = None
    records: list[TruthRecord] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            kind = data.pop("record")
            if kind == "run":
                data["residents"] = tuple(data["residents"])
                run = RunInfo(**data)
            elif kind == "incident":
                data["also"] = tuple(data.get("also", ()))
                records.append(TruthRecord(**data))
            else:
                raise ValueError(f"unknown record {kind!r}")
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path.name}:{n}: not a truth record: {exc}") from None
    if run is None:
        raise ValueError(f"{path.name}: no run record")
    return run, records
