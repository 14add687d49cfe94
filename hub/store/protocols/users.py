"""Dashboard users, browser sessions and API tokens. The dashboard owns their meaning;
the store keeps rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from hub.timezones import DEFAULT_TIMEZONE

Role = Literal[
    "city_admin", "district_admin", "station_supervisor", "station_staff", "family", "vendor"
]
ROLES: tuple[Role, ...] = (
    "city_admin", "district_admin", "station_supervisor", "station_staff", "family", "vendor",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class UserRow:
    """A dashboard user. ``scope_id`` is the city, district, station or vendor the role
    applies to; a family member is linked to ``resident_ids`` instead."""

    id: str
    name: str
    role: Role
    password_hash: str
    created_at: float
    scope_id: str | None = None
    resident_ids: tuple[str, ...] = ()
    language: str = "zh-CN"
    timezone: str = DEFAULT_TIMEZONE
    disabled: bool = False
    prefs: dict[str, Any] = field(default_factory=dict)
    """Notification preferences and quiet hours of a family member, UI settings."""


@dataclass(frozen=True, slots=True)
class SessionRow:
    """A browser session; ``id_hash`` is the SHA-256 of the cookie value."""

    id_hash: str
    user_id: str
    csrf_token: str
    created_at: float
    expires_at: float


@dataclass(frozen=True, slots=True)
class ApiTokenRow:
    """A bearer token for API clients; ``token_hash`` is the SHA-256 of the token."""

    id: str
    user_id: str
    token_hash: str
    name: str
    created_at: float
    expires_at: float | None = None
    revoked_at: float | None = None


@runtime_checkable
class UserStore(Protocol):
    """Users with their resident links, sessions, API tokens."""

    def add_user(self, user: UserRow) -> None:
        """Raises Conflict when the id exists."""
        ...

    def update_user(self, user: UserRow) -> None:
        """Replace every field (resident links too); raises NotFound."""
        ...

    def get_user(self, user_id: str) -> UserRow:
        """Raises NotFound."""
        ...

    def list_users(
        self, *, role: str | None = None, scope_id: str | None = None,
        resident_id: str | None = None,
    ) -> list[UserRow]:  # fmt: skip
        """By id; ``resident_id``: users linked to that resident."""
        ...

    def add_session(self, session: SessionRow) -> None: ...
    def get_session(self, id_hash: str) -> SessionRow:
        """Raises NotFound (expired sessions are returned: the caller checks)."""
        ...

    def delete_sessions(
        self, *, id_hash: str | None = None, user_id: str | None = None,
        expired_before: float | None = None,
    ) -> int:  # fmt: skip
        """Delete the sessions matching every given filter (at least one); return how many."""
        ...

    def extend_session(self, id_hash: str, expires_at: float) -> None:
        """Move a session's expiry (its user is active); raises NotFound."""
        ...

    def add_api_token(self, token: ApiTokenRow) -> None: ...
    def get_api_token(self, token_hash: str) -> ApiTokenRow:
        """Raises NotFound."""
        ...

    def list_api_tokens(self, user_id: str) -> list[ApiTokenRow]: ...
    def revoke_api_token(self, token_id: str, at: float) -> None:
        """Raises NotFound."""
        ...
