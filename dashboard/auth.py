"""Authentication: argon2 passwords, cookie sessions with a CSRF token, bearer tokens, and a
login rate limit. Pure of FastAPI except for :func:`client_address`; the dependencies that
use it are in :mod:`dashboard.deps`.

- **Passwords** are hashed with argon2id (``argon2-cffi``'s defaults, RFC 9106's second
  recommended option) and rehashed on login when those parameters change.
- **Sessions**: the browser holds a random cookie (HttpOnly, SameSite=Lax, Secure under
  TLS); the store keeps only its HMAC under the session secret, so a database dump opens
  no session. Each session has a CSRF token, sent to the page in a readable cookie and
  required back in the ``X-CSRF-Token`` header of every state-changing request (the
  OWASP "synchronizer token" kept server side, delivered like a double-submit cookie).
- **Bearer tokens** for API clients (``Authorization: Bearer <token>``), stored as SHA-256
  (they are 256-bit random, so a slow hash adds nothing), revocable, optionally expiring.
- **Login rate limit**: ``attempts`` failures per user name and client address within
  ``window_s`` lock that pair out until the oldest failure leaves the window (OWASP
  Authentication Cheat Sheet: throttle per account, without locking the account for all).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hub.errors import CarehubError, NotFound
from hub.store.base import ApiTokenRow, SessionRow, Store, UserRow

SESSION_COOKIE = "carehub_session"
CSRF_COOKIE = "carehub_csrf"
CSRF_HEADER = "X-CSRF-Token"
TOKEN_PREFIX = "chk_"  # noqa: S105 - a visible prefix, not a secret

_hasher = PasswordHasher()
# verifying against a dummy hash keeps the time of "no such user" like a wrong password
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AuthError(CarehubError):
    """Not authenticated (bad credentials, expired session, revoked token)."""


class RateLimited(AuthError):  # noqa: N818 - a state, not a failure of the caller's code
    """Too many failed logins; ``retry_after_s`` says when to try again."""

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"too many failed logins; retry in {retry_after_s:.0f} s")
        self.retry_after_s = retry_after_s


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise AuthError("a password has at least 8 characters")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class LoginLimiter:
    """Failed logins per key in a sliding window (thread-safe, injected clock).

    >>> t = [0.0]
    >>> lim = LoginLimiter(2, 60.0, clock=lambda: t[0])
    >>> lim.failed("li|1.2.3.4"); lim.failed("li|1.2.3.4")
    >>> lim.retry_after("li|1.2.3.4")
    60.0
    >>> t[0] = 61.0; lim.retry_after("li|1.2.3.4")
    0.0
    """

    def __init__(self, attempts: int, window_s: float, *, clock: Callable[[], float]) -> None:
        self.attempts = attempts
        self.window_s = window_s
        self.clock = clock
        self._fails: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._fails.setdefault(key, deque())
        while q and q[0] <= now - self.window_s:
            q.popleft()
        if not q:
            del self._fails[key]  # keeps memory bounded by keys that failed recently
        return q

    def retry_after(self, key: str) -> float:
        """Seconds until ``key`` may try again (0 when it may now)."""
        now = self.clock()
        with self._lock:
            q = self._recent(key, now)
            if len(q) < self.attempts:
                return 0.0
            return q[0] + self.window_s - now

    def failed(self, key: str) -> None:
        now = self.clock()
        with self._lock:
            self._recent(key, now)
            self._fails.setdefault(key, deque()).append(now)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._fails.pop(key, None)


@dataclass(frozen=True, slots=True)
class NewSession:
    """What a login returns: the cookie value and CSRF token exist only here."""

    user: UserRow
    cookie: str
    csrf_token: str
    expires_at: float


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, and how (``session`` needs CSRF on writes, ``token`` does not)."""

    user: UserRow
    via: str
    session: SessionRow | None = None


class Authenticator:
    """Logins, sessions and tokens over a :class:`~hub.store.base.Store` (synchronous:
    call from a worker thread)."""

    def __init__(
        self, store: Store, *, secret: bytes, session_s: float, limiter: LoginLimiter,
        clock: Callable[[], float],
    ) -> None:  # fmt: skip
        self.store = store
        self.secret = secret
        self.session_s = session_s
        self.limiter = limiter
        self.clock = clock

    def session_hash(self, cookie: str) -> str:
        return hmac.new(self.secret, cookie.encode(), hashlib.sha256).hexdigest()

    def login(self, user_id: str, password: str, address: str) -> NewSession:
        """Check the password and open a session; raises RateLimited or AuthError."""
        key = f"{user_id.lower()}|{address}"
        wait = self.limiter.retry_after(key)
        if wait > 0:
            raise RateLimited(wait)
        try:
            user: UserRow | None = self.store.get_user(user_id)
        except NotFound:
            user = None
        ok = verify_password(user.password_hash if user else _DUMMY_HASH, password)
        if user is None or not ok or user.disabled:
            self.limiter.failed(key)
            raise AuthError("wrong user name or password")
        self.limiter.succeeded(key)
        if _hasher.check_needs_rehash(user.password_hash):
            user = _replace_hash(user, _hasher.hash(password))
            self.store.update_user(user)
        now = self.clock()
        cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        expires = now + self.session_s
        self.store.add_session(SessionRow(self.session_hash(cookie), user.id, csrf, now, expires))
        return NewSession(user, cookie, csrf, expires)

    def from_cookie(self, cookie: str) -> Principal:
        now = self.clock()
        try:
            session = self.store.get_session(self.session_hash(cookie))
        except NotFound:
            raise AuthError("not logged in") from None
        if session.expires_at <= now:
            self.store.delete_sessions(id_hash=session.id_hash)
            raise AuthError("session expired; log in again")
        return Principal(self._active(session.user_id), "session", session)

    def from_token(self, token: str) -> Principal:
        try:
            row = self.store.get_api_token(token_hash(token))
        except NotFound:
            raise AuthError("unknown API token") from None
        if row.revoked_at is not None or (
            row.expires_at is not None and row.expires_at <= self.clock()
        ):
            raise AuthError("API token revoked or expired")
        return Principal(self._active(row.user_id), "token")

    def _active(self, user_id: str) -> UserRow:
        try:
            user = self.store.get_user(user_id)
        except NotFound:
            raise AuthError("user no longer exists") from None
        if user.disabled:
            raise AuthError("user disabled")
        return user

    def extend(self, cookie: str, max_s: float) -> float:
        """Slide the session of ``cookie`` (its user is active): it now ends ``session_s``
        from now, but never later than ``max_s`` after the login. Returns the new end;
        raises AuthError when the session is gone or over."""
        principal = self.from_cookie(cookie)
        assert principal.session is not None
        now = self.clock()
        expires = min(now + self.session_s, principal.session.created_at + max_s)
        if expires > principal.session.expires_at:
            try:
                self.store.extend_session(principal.session.id_hash, expires)
            except NotFound:
                raise AuthError("not logged in") from None
            return expires
        return principal.session.expires_at

    def logout(self, cookie: str) -> None:
        self.store.delete_sessions(id_hash=self.session_hash(cookie))

    def new_token(
        self, user_id: str, name: str, expires_at: float | None = None
    ) -> tuple[ApiTokenRow, str]:
        """Create a bearer token; the token text is returned once and never stored."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = ApiTokenRow(f"tok-{uuid.uuid4().hex[:12]}", user_id, token_hash(token), name,
                          self.clock(), expires_at)  # fmt: skip
        self.store.add_api_token(row)
        return row, token


def csrf_ok(session: SessionRow | None, header: str | None) -> bool:
    """True when the request carries its session's CSRF token (constant-time compare)."""
    if session is None or not header:
        return False
    return hmac.compare_digest(session.csrf_token.encode(), header.encode())


def _replace_hash(user: UserRow, new_hash: str) -> UserRow:
    from dataclasses import replace

    return replace(user, password_hash=new_hash)
