"""Notification texts in Chinese (zh-CN) and English: resident, kind, priority, place, the
time in the station's zone, link; and the whole message of one outbox row (pure).

>>> from alerts.state import new_alert, spec_for
>>> a = new_alert("al-1", spec_for("fall"), subject="r-1", kind="fall", priority="high",
...               at=0.0, resident_id="r-1")
>>> title, body = render(a, "en", resident="Wang Fang", place="Weifang Rd 1",
...                      link="https://hub.example/alerts/al-1")
>>> title
'[HIGH] Fall – Wang Fang'
"""

from __future__ import annotations

from alerts.notify import OutMessage
from alerts.state import PRIVATE_FIELDS, Alert
from hub.store.base import NotificationRow, Resident, Station
from hub.timezones import DEFAULT_TIMEZONE, local_stamp

KIND_NAMES: dict[str, tuple[str, str]] = {
    "fall": ("跌倒", "Fall"),
    "sos": ("紧急呼叫", "SOS call"),
    "smoke": ("烟雾报警", "Smoke alarm"),
    "gas": ("燃气泄漏", "Gas leak"),
    "water": ("漏水", "Water leak"),
    "vitals": ("生命体征异常", "Abnormal vital signs"),
    "vitals_drift": ("生命体征变化", "Vital signs drifting"),
    "bp": ("血压异常", "Abnormal blood pressure"),
    "glucose": ("血糖异常", "Abnormal blood glucose"),
    "inactivity": ("长时间无活动", "No activity"),
    "not_up": ("早上未起床", "Not up this morning"),
    "night_exit": ("夜间外出", "Left home at night"),
    "long_bathroom": ("如厕时间过长", "Long time in the bathroom"),
    "out_of_bed": ("夜间离床未归", "Out of bed at night"),
    "room_temp": ("室温异常", "Room temperature"),
    "device_offline": ("设备离线", "Device offline"),
    "low_battery": ("电量低", "Low battery"),
    "not_worn": ("设备未佩戴", "Device not worn"),
    "clock_skew": ("设备时钟偏差", "Device clock skew"),
    "stuck_sensor": ("传感器异常", "Sensor stuck"),
    "channel_down": ("通知渠道故障", "Notification channel down"),
}
PRIORITY_NAMES = {
    "high": ("高", "HIGH"), "medium": ("中", "MEDIUM"), "low": ("低", "LOW"),
}  # fmt: skip
STATE_NAMES = {
    "open": ("未处理", "open"),
    "acknowledged": ("已接手", "acknowledged"),
    "resolved": ("已解决", "resolved"),
}


def _pick(pair: tuple[str, str], language: str) -> str:
    return pair[1] if language == "en" else pair[0]


def kind_name(kind: str, language: str) -> str:
    return _pick(KIND_NAMES.get(kind, (kind, kind.replace("_", " "))), language)


def render(
    alert: Alert, language: str, *, resident: str | None, place: str | None, link: str | None,
    repeat: int = 0, when: str | None = None,
) -> tuple[str, str]:  # fmt: skip
    """(title, body) of a notification about ``alert``; ``when`` is its opening time as the
    station reads it (:func:`hub.timezones.local_stamp`)."""
    en = language == "en"
    who = resident or alert.resident_id or alert.device_id or alert.subject
    kind = kind_name(alert.kind, language)
    prio = _pick(PRIORITY_NAMES[alert.priority], language)
    title = f"[{prio}] {kind} – {who}" if en else f"【{prio}】{kind} - {who}"
    reason = alert.reason.get("en" if en else "zh-CN") or alert.reason.get("en", "")
    lines = [
        f"{'Resident' if en else '老人'}: {who}",
        f"{'Alert' if en else '告警'}: {kind} ({prio})",
    ]
    if reason:
        lines.append(f"{'Why' if en else '原因'}: {reason}")
    if when:
        lines.append(f"{'When' if en else '时间'}: {when}")
    if place:
        lines.append(f"{'Where' if en else '地点'}: {place}")
    if alert.device_id:
        lines.append(f"{'Device' if en else '设备'}: {alert.device_id}")
    if alert.count > 1:
        lines.append(f"{'Seen' if en else '次数'}: {alert.count}")
    lines.append(f"{'Status' if en else '状态'}: {_pick(STATE_NAMES[alert.state], language)}")
    if repeat:
        lines.append(
            f"Reminder {repeat}: nobody has acknowledged yet"
            if en
            else f"第 {repeat} 次提醒：尚无人接手"
        )
    if link:
        lines.append(f"{'Open' if en else '查看'}: {link}")
    return title, "\n".join(lines)


def message(
    alert: Alert, row: NotificationRow, *, resident: Resident | None, station: Station | None,
    link: str | None, default_timezone: str = DEFAULT_TIMEZONE,
) -> OutMessage:  # fmt: skip
    """The text and webhook payload for one outbox row about ``alert``: in the row's
    language, with times in the station's zone (``default_timezone`` when it names none)."""
    place = (resident.address if resident else None) or (station.name if station else None)
    zone = (station.timezone if station else None) or default_timezone
    repeat = int(row.round[1:]) if row.round.startswith("r") else 0
    title, body = render(
        alert, row.language, resident=resident.name if resident else None, place=place,
        link=link, repeat=repeat, when=local_stamp(alert.opened_at, zone),
    )  # fmt: skip
    payload = {
        "idempotency_key": row.key, "round": row.round, "target": row.target,
        "title": title, "body": body, "language": row.language, "link": link,
        "alert": {k: v for k, v in alert.to_dict().items() if k not in PRIVATE_FIELDS},
    }  # fmt: skip
    return OutMessage(row.key, title, body, row.language, payload)
