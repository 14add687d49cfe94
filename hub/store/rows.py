"""Rows to records: the one mapping both back-ends use.

Both back-ends select the columns listed here, in this order, and their drivers hand back
the same values but for two kinds: times (SQLite keeps REAL epoch seconds, psycopg returns
aware datetimes) and JSON (SQLite keeps TEXT, psycopg returns it decoded). A :class:`Rows`
is built with a decoder for each, once per back-end, and turns a row into its record.

>>> rows = Rows(ts=float, opt_ts=lambda v: v, json=lambda v: v)
>>> rows.station(("st-1", "d-1", "Pudong 1", "day_care", None, None, None, None)).kind
'day_care'
>>> rows.event(("w-1", 7, 10, 11, "sos", {"pressed": 1})).ts
10.0
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from hub.store.protocols.alerts import AlertRow, NotificationRow, SilenceRow, TimelineRow
from hub.store.protocols.findings import FindingRow
from hub.store.protocols.ingest import (
    VITAL_FIELDS,
    CommandReplyRow,
    DeadLetter,
    DeviceState,
    EventRow,
    StatusChange,
    TelemetryRow,
)
from hub.store.protocols.registry import (
    City,
    Contact,
    Device,
    District,
    Resident,
    Station,
    Unprovisioned,
)
from hub.store.protocols.telemetry import VITALS_SERIES_FIELDS, VitalsBucket
from hub.store.protocols.users import ApiTokenRow, SessionRow, UserRow

Row = Sequence[Any]

# --- the columns each mapping reads, in order ------------------------------------------

STATION_SELECT = "SELECT id, district_id, name, kind, address, lat, lon, timezone FROM stations"
RESIDENT_SELECT = (
    "SELECT id, station_id, name, address, lat, lon, birth_year, status, clinical FROM residents"
)
CONTACT_SELECT = "SELECT id, resident_id, name, relation, phone, channels, prefs FROM contacts"
DEVICE_COLS = (
    "id", "kind", "vendor", "model", "firmware", "capabilities", "resident_id", "gateway_id",
    "interval_s", "enabled", "created_at", "worn_at",
)  # fmt: skip
DEVICE_SELECT = f"SELECT {', '.join(DEVICE_COLS)} FROM devices"
UNPROVISIONED_SELECT = (
    "SELECT device_id, first_seen, last_seen, count, last_topic, gateway_id FROM unprovisioned"
)
STATE_SELECT = (
    "SELECT d.id, s.online, s.changed_at, s.last_seen_at, s.last_seq, s.boot, s.clock_offset_s,"
    " COALESCE(s.telemetry_gaps, 0) FROM devices d LEFT JOIN device_state s ON s.device_id = d.id"
)
TELEMETRY_COLS = ("device_id", "seq", "ts", "received_at", *VITAL_FIELDS, "quality", "acc", "ext")
TELEMETRY_SELECT = f"SELECT {', '.join(TELEMETRY_COLS)} FROM telemetry"
EVENT_SELECT = "SELECT device_id, seq, ts, received_at, type, data FROM events"
DEAD_LETTER_SELECT = (
    "SELECT received_at, topic, payload, code, detail, device_id, id, payload_size,"
    " payload_sha256 FROM dead_letters"
)
STATUS_SELECT = "SELECT device_id, online, at, source, info FROM status_log"
REPLY_SELECT = "SELECT device_id, command_id, ts, received_at, status, detail FROM command_replies"
FINDING_SELECT = (
    "SELECT resident_id, device_id, kind, priority, at, detected_at, evidence, reason, id"
    " FROM findings"
)
ALERT_COLUMNS = (
    "id, open_key, kind, state, priority, category, resident_id, device_id, station_id,"
    " opened_at, updated_at, next_deadline, data, trigger_key"
)
"""The columns an alert is written with (both back-ends' INSERT and UPDATE); its ``version``
is the store's (:mod:`hub.store.shared_alerts`)."""
ALERT_SELECT = (
    "SELECT id, open_key, kind, state, priority, category, opened_at, updated_at,"
    " resident_id, device_id, station_id, next_deadline, data, trigger_key, version FROM alerts"
)
TIMELINE_SELECT = "SELECT alert_id, at, actor, action, detail, resident_id, id FROM alert_timeline"
NOTIFICATION_SELECT = (
    "SELECT key, alert_id, round, target, channel, due_at, created_at, contact_id,"
    " language, state, attempts, last_error, updated_at, sent_at, version"
    " FROM alert_notifications"
)
SILENCE_SELECT = (
    "SELECT id, start_at, end_at, author, reason, created_at, resident_id, device_id,"
    " kind, station_id, technical_only, cancelled_at, cancelled_by FROM alert_silences"
)
USER_SELECT = (
    "SELECT id, name, role, password_hash, created_at, scope_id, language, timezone, disabled,"
    " prefs FROM users"
)
USER_LINKS_SELECT = "SELECT user_id, resident_id FROM user_residents ORDER BY user_id, resident_id"
SESSION_SELECT = "SELECT id_hash, user_id, csrf_token, created_at, expires_at FROM user_sessions"
TOKEN_SELECT = (
    "SELECT id, user_id, token_hash, name, created_at, expires_at, revoked_at FROM api_tokens"  # noqa: S105
)

_N_VITALS = len(VITAL_FIELDS)


def resident_links(pairs: Iterable[Row]) -> dict[str, list[str]]:
    """``(user_id, resident_id)`` rows as user → linked residents, in row order."""
    links: dict[str, list[str]] = {}
    for uid, rid in pairs:
        links.setdefault(uid, []).append(rid)
    return links


@dataclass(frozen=True, slots=True)
class Rows:
    """Rows to records for one back-end, given how its driver returns times and JSON."""

    ts: Callable[[Any], float]
    """A time column that is never NULL."""
    opt_ts: Callable[[Any], float | None]
    """A time column that may be NULL."""
    json: Callable[[Any], Any]
    """A JSON column (None stays None)."""

    # registry

    def city(self, r: Row) -> City:
        return City(*r)

    def district(self, r: Row) -> District:
        return District(*r)

    def station(self, r: Row) -> Station:
        return Station(*r)

    def resident(self, r: Row) -> Resident:
        return Resident(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], self.json(r[8]))

    def contact(self, r: Row) -> Contact:
        return Contact(r[0], r[1], r[2], r[3], r[4], tuple(self.json(r[5])), self.json(r[6]))

    def device(self, r: Row) -> Device:
        return Device(
            id=r[0], kind=r[1], vendor=r[2], model=r[3], firmware=r[4],
            capabilities=tuple(self.json(r[5])), resident_id=r[6], gateway_id=r[7],
            interval_s=r[8], enabled=bool(r[9]), created_at=self.ts(r[10]), worn_at=r[11],
        )  # fmt: skip

    def unprovisioned(self, r: Row) -> Unprovisioned:
        return Unprovisioned(r[0], self.ts(r[1]), self.ts(r[2]), *r[3:])

    # ingest and telemetry

    def device_state(self, r: Row) -> DeviceState:
        online = None if r[1] is None else bool(r[1])
        return DeviceState(
            r[0], online, self.opt_ts(r[2]), self.opt_ts(r[3]), r[4], r[5], r[6], int(r[7])
        )

    def telemetry(self, r: Row) -> TelemetryRow:
        vitals = r[4 : 4 + _N_VITALS]
        quality, acc, ext = r[4 + _N_VITALS :]
        return TelemetryRow(
            device_id=r[0], seq=r[1], ts=self.ts(r[2]), received_at=self.ts(r[3]),
            values={f: v for f, v in zip(VITAL_FIELDS, vitals, strict=True) if v is not None},
            quality=self.json(quality), acc=self.json(acc), ext=self.json(ext),
        )  # fmt: skip

    def event(self, r: Row) -> EventRow:
        return EventRow(r[0], r[1], self.ts(r[2]), self.ts(r[3]), r[4], self.json(r[5]))

    def dead_letter(self, r: Row) -> DeadLetter:
        return DeadLetter(self.ts(r[0]), r[1], bytes(r[2]), *r[3:])

    def status(self, r: Row) -> StatusChange:
        return StatusChange(r[0], bool(r[1]), self.ts(r[2]), r[3], self.json(r[4]))

    def reply(self, r: Row) -> CommandReplyRow:
        return CommandReplyRow(r[0], r[1], self.ts(r[2]), self.ts(r[3]), r[4], r[5])

    def finding(self, r: Row) -> FindingRow:
        return FindingRow(
            r[0], r[1], r[2], r[3], self.ts(r[4]), self.ts(r[5]), self.json(r[6]),
            self.json(r[7]), r[8],
        )  # fmt: skip

    # alerts

    def alert(self, r: Row) -> AlertRow:
        data: dict[str, Any] = self.json(r[12])
        # a resolved alert keeps no open key: its key is rebuilt from the subject and kind
        key = r[1] or f"{data.get('subject', '')}|{r[2]}"
        return AlertRow(
            r[0], key, r[2], r[3], r[4], r[5], self.ts(r[6]), self.ts(r[7]), r[8], r[9],
            r[10], self.opt_ts(r[11]), data, r[13], r[14],
        )  # fmt: skip

    def timeline(self, r: Row) -> TimelineRow:
        return TimelineRow(r[0], self.ts(r[1]), r[2], r[3], self.json(r[4]), r[5], r[6])

    def notification(self, r: Row) -> NotificationRow:
        return NotificationRow(
            r[0], r[1], r[2], r[3], r[4], self.ts(r[5]), self.ts(r[6]), r[7], r[8], r[9],
            r[10], r[11], self.opt_ts(r[12]), self.opt_ts(r[13]), r[14],
        )  # fmt: skip

    def silence(self, r: Row) -> SilenceRow:
        return SilenceRow(
            r[0], self.ts(r[1]), self.ts(r[2]), r[3], r[4], self.ts(r[5]), r[6], r[7], r[8],
            r[9], bool(r[10]), self.opt_ts(r[11]), r[12],
        )  # fmt: skip

    # users

    def user(self, r: Row, links: dict[str, list[str]]) -> UserRow:
        """A user row with its resident links (see :func:`resident_links`)."""
        return UserRow(
            r[0], r[1], r[2], r[3], self.ts(r[4]), r[5], tuple(links.get(r[0], ())), r[6], r[7],
            bool(r[8]), self.json(r[9]),
        )  # fmt: skip

    def session(self, r: Row) -> SessionRow:
        return SessionRow(r[0], r[1], r[2], self.ts(r[3]), self.ts(r[4]))

    def api_token(self, r: Row) -> ApiTokenRow:
        return ApiTokenRow(
            r[0], r[1], r[2], r[3], self.ts(r[4]), self.opt_ts(r[5]), self.opt_ts(r[6])
        )

    # dashboard

    def vitals_bucket(self, r: Row) -> VitalsBucket:
        """(device_id, start, n, then mean, min, max of each series field) → VitalsBucket."""
        values: dict[str, tuple[float, float, float]] = {}
        for i, name in enumerate(VITALS_SERIES_FIELDS):
            mean, lo, hi = r[3 + 3 * i : 6 + 3 * i]
            if mean is not None:
                values[name] = (float(mean), float(lo), float(hi))
        return VitalsBucket(r[0], float(r[1]), int(r[2]), values)
