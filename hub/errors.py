"""The hub's exception tree.

Third-party errors (paho, psycopg, sqlite3, amqtt) are converted into these where they
enter our code, so callers catch one family::

    CarehubError
    ├── ConfigError              settings missing, contradictory or placeholder secrets
    ├── ContractError            a device message does not meet the device contract
    │                            (carries a machine-readable ``code``; see hub.contract.codes)
    ├── StoreError               the store failed or refused an operation
    │   ├── MigrationError       schema migrations could not be applied
    │   ├── NotFound             a registry entity does not exist
    │   └── Conflict             a registry entity already exists / violates a constraint
    ├── RegistryError            a registry operation is invalid (bad CSV row, binding loop)
    └── BrokerError              the MQTT broker could not be reached or started
"""

from __future__ import annotations


class CarehubError(Exception):
    """Base of every error the hub raises on purpose."""


class ConfigError(CarehubError):
    """Settings are missing, inconsistent, or unsafe for production."""


class ContractError(CarehubError):
    """A device message breaks the device contract.

    ``code`` is one of :class:`hub.contract.codes.ErrorCode`; ``detail`` says what exactly.
    """

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class StoreError(CarehubError):
    """The store failed or refused an operation."""


class MigrationError(StoreError):
    """Schema migrations could not be applied."""


class NotFound(StoreError):  # noqa: N818 - reads better at call sites than NotFoundError
    """A registry entity does not exist."""


class Conflict(StoreError):  # noqa: N818
    """A registry entity already exists or a constraint was violated."""


class RegistryError(CarehubError):
    """A registry operation is invalid (bad CSV row, unknown station, binding loop)."""


class BrokerError(CarehubError):
    """The MQTT broker could not be reached or started."""
