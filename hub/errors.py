"""The project's one exception tree.

Every error the project raises on purpose is a :class:`CarehubError`; the classes of
``alerts``, ``dashboard`` and ``training`` that are drawn here derive from it in their own
modules. Third-party errors (paho, psycopg, sqlite3, amqtt) are converted into these where
they enter our code, so callers catch one family::

    CarehubError
    ├── ConfigError              settings missing, contradictory or placeholder secrets
    ├── StoreError               the store failed or refused an operation
    │   ├── StoreUnavailable     the store cannot be reached now (connection refused or
    │   │                        lost, timeout, lock or serialization failure): retry later
    │   ├── StoreRefused         the store rejects the data itself (a character the database
    │   │   │                    cannot keep, a number out of range): retrying cannot help
    │   │   └── Conflict         a registry entity already exists / violates a constraint
    │   │       ├── AlertExists  the finding that would open an alert already opened one
    │   │       └── AlertConflict
    │   │                        an alert or one of its outbox rows changed since it was
    │   │                        read (another process wrote it): decide again on them
    │   │                        as stored
    │   ├── Fenced               a cluster worker's commit carries a stale partition epoch:
    │   │                        another worker claimed the partition since (never retried)
    │   ├── MigrationError       schema migrations could not be applied
    │   └── NotFound             a registry entity does not exist
    ├── RegistryError            a registry operation is invalid (bad CSV row, binding loop)
    ├── BrokerError              the MQTT broker could not be reached or started
    │   └── PacketTooLargeError  a client's packet is over the embedded broker's limit
    │                            (hub.broker.embedded; its connection is closed)
    ├── UnknownTimezone          not an IANA time zone name; also a ValueError
    │                            (hub.timezones)
    ├── PeriodError              a KPI or export period that cannot be measured (a bad
    │                            date, the end before the start, too long); also a
    │                            ValueError (hub.kpi.period)
    ├── TransitionError          an alert cannot make that state change (alerts.state)
    ├── OrderTransitionError     a service order cannot make that status change
    │                            (hub.dispatch.lifecycle)
    ├── RuleError                a malformed silence or maintenance window (alerts.rules)
    ├── PolicyError              an invalid escalation policy (alerts.escalation)
    ├── NeedData                 the alert core asks for data it was not given: a request
    │                            to the engine, not a failure (alerts.plan)
    ├── DeliveryError            a notification could not be delivered (alerts.notify)
    ├── AuthError                a login, session or token is not valid (dashboard.auth)
    │   └── RateLimited          too many failed logins: wait ``retry_after_s``
    ├── Busy                     too many logins waiting for their password check: try
    │                            again shortly (dashboard.auth)
    ├── ApiError                 a request the API refuses, with its HTTP status and code
    │                            (dashboard.errors)
    └── DatasetError             a data directory holds no readable data set; also a
                                 ValueError (training.datasets)

A device message that breaks the device contract is not an exception: validation returns
a ``Refusal(code, detail)`` (:mod:`hub.ingest.validate`, codes in :mod:`hub.contract.codes`)
and the message becomes a dead letter. Over HTTP, any error of this tree that the dashboard
does not map to a 4xx answers 500 with a generic body (:mod:`dashboard.errors`); its text
goes to the log only.
"""

from __future__ import annotations

from collections.abc import Sequence


class CarehubError(Exception):
    """Base of every error the hub raises on purpose."""


class ConfigError(CarehubError):
    """Settings are missing, inconsistent, or unsafe for production."""


class StoreError(CarehubError):
    """The store failed or refused an operation."""


class StoreUnavailable(StoreError):  # noqa: N818 - named for what the store is, like NotFound
    """The store cannot be reached or did not answer in time; the same call may succeed later.

    Connection refused or lost, pool exhausted, lock or statement timeout, serialization
    failure or deadlock: the data is fine, so the caller retries with back-off.
    """


class StoreRefused(StoreError):  # noqa: N818
    """The store rejects the data itself, so the same call will fail again.

    A character the database cannot keep (PostgreSQL refuses NUL in ``text`` and ``jsonb``),
    a number out of range, a violated constraint. The message says what the driver said: it
    is for the log, never for a user or a device.
    """


class Fenced(StoreError):  # noqa: N818 - what the commit is, like NotFound
    """A cluster worker's commit names a partition epoch that is no longer current: another
    worker claimed the partition since. The commit is rolled back; the worker must stop
    working on the partition (``partition`` says which)."""

    def __init__(self, partition: int, epoch: int) -> None:
        super().__init__(f"partition {partition}: epoch {epoch} is no longer current")
        self.partition = partition
        self.epoch = epoch


class MigrationError(StoreError):
    """Schema migrations could not be applied."""


class NotFound(StoreError):  # noqa: N818 - reads better at call sites than NotFoundError
    """A registry entity does not exist."""


class Conflict(StoreRefused):
    """A registry entity already exists or a constraint was violated (the data is refused:
    the same call fails again)."""


class AlertExists(Conflict):
    """A new alert's trigger (the finding that opened it) already opened ``alert_id``: the
    same finding was taken in twice. Nothing of that step was written."""

    def __init__(self, trigger: str, alert_id: str) -> None:
        super().__init__(f"finding {trigger} already opened alert {alert_id}")
        self.trigger = trigger
        self.alert_id = alert_id


class AlertConflict(Conflict):
    """Alerts of a step, or outbox rows of theirs, changed in the store since they were read
    (``alert_ids``: those alerts and the alerts of those rows; ``notification_keys``: the
    rows): another process wrote them (a cluster worker, a dashboard node). Both are
    written compare-and-set on the version read, so nothing of that step was written; the
    engine reads the alerts and their outbox again and decides the step anew."""

    def __init__(self, alert_ids: Sequence[str], notification_keys: Sequence[str] = ()) -> None:
        rows = f" (outbox rows {', '.join(notification_keys)})" if notification_keys else ""
        super().__init__(f"alerts changed since they were read: {', '.join(alert_ids)}{rows}")
        self.alert_ids = tuple(alert_ids)
        self.notification_keys = tuple(notification_keys)


class RegistryError(CarehubError):
    """A registry operation is invalid (bad CSV row, unknown station, binding loop)."""


class BrokerError(CarehubError):
    """The MQTT broker could not be reached or started."""
