"""Authentication: argon2 passwords, cookie sessions with a CSRF token, bearer tokens, and
login throttling. Pure of FastAPI; the dependencies that use it are in :mod:`dashboard.deps`.

- **Passwords** are hashed with argon2id (``argon2-cffi``'s defaults, RFC 9106's second
  recommended option) and rehashed on login when those parameters change. Hashing runs in
  a :class:`HashPool` of its own (a small executor and a bound on waiting logins), never in
  the thread pool the rest of the dashboard shares: at about 0.1–0.2 s of CPU each, 96
  logins at once in the shared pool would hold every console request behind them for
  12–17 s on two cores (``bench/login.py``).
- **Sessions**: the browser holds a random cookie (HttpOnly, SameSite=Lax, Secure under
  TLS and always in production); the store keeps only its HMAC under the session secret,
  so a database dump opens no session. Each session has a CSRF token, sent to the page in
  a readable cookie and required back in the ``X-CSRF-Token`` header of every
  state-changing request (the OWASP "synchronizer token" kept server side, delivered like
  a double-submit cookie). Every request and, every few seconds, every open WebSocket
  checks its session or token against the store again (:meth:`Authenticator.recheck`).
- **Bearer tokens** for API clients (``Authorization: Bearer <token>``), stored as SHA-256
  (they are 256-bit random, so a slow hash adds nothing), revocable, optionally expiring.
- **Login throttling** (:class:`LoginLimiter`), failures in a sliding window, counted
  before the password is checked so parallel attempts cannot slip past: per account and
  source address (``attempts``), per account from anywhere (``account_attempts``: a
  distributed guess at one password), and per source over all accounts
  (``source_attempts``: one password sprayed over many accounts). A correct password
  clears its own account-and-source count only (OWASP Authentication Cheat Sheet).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import secrets
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TypeVar

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


class Busy(CarehubError):  # noqa: N818 - a state
    """Too many logins are waiting for a password check already; try again shortly."""

    retry_after_s = 2.0


T = TypeVar("T")


class HashPool:
    """Password hashing with a bounded concurrency of its own: ``workers`` threads, and at
    most ``waiting`` calls queued behind them (more raise :class:`Busy` at once, so a flood
    costs memory for ``waiting`` logins, not for all of them)."""

    def __init__(self, workers: int = 1, waiting: int = 128) -> None:
        self.workers = workers
        self.waiting = waiting
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="carehub-argon2")
        self._pending = 0

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        if self._pending >= self.workers + self.waiting:
            raise Busy("too many logins at once; try again in a moment")
        self._pending += 1  # on the event loop's thread only: no lock needed
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        finally:
            self._pending -= 1

    async def verify(self, password_hash: str, password: str) -> bool:
        return await self.run(verify_password, password_hash, password)

    async def hash(self, password: str) -> str:
        return await self.run(hash_password, password)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


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

    A login attempt counts against three keys at once (:meth:`begin`): the account from
    that source, the account from anywhere and the source over every account; ``None``
    limits are not applied.

    >>> spray = LoginLimiter(5, 60.0, clock=lambda: t[0], source_attempts=3)
    >>> for user in ("a", "b", "c"):
    ...     spray.fail(spray.begin(user, "6.6.6.6"))
    >>> spray.begin("d", "6.6.6.6")
    Traceback (most recent call last):
    ...
    dashboard.auth.RateLimited: too many failed logins; retry in 60 s
    """

    def __init__(
        self, attempts: int, window_s: float, *, clock: Callable[[], float],
        account_attempts: int | None = None, source_attempts: int | None = None,
    ) -> None:  # fmt: skip
        self.attempts = attempts
        self.account_attempts = account_attempts
        self.source_attempts = source_attempts
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

    def _wait(self, key: str, limit: int, now: float) -> float:
        q = self._recent(key, now)
        if len(q) < limit:
            return 0.0
        return q[len(q) - limit] + self.window_s - now

    def retry_after(self, key: str) -> float:
        """Seconds until ``key`` may try again (0 when it may now)."""
        now = self.clock()
        with self._lock:
            return self._wait(key, self.attempts, now)

    def failed(self, key: str) -> None:
        now = self.clock()
        with self._lock:
            self._recent(key, now)
            self._fails.setdefault(key, deque()).append(now)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._fails.pop(key, None)

    def _limits(self, user_id: str, address: str) -> list[tuple[str, int]]:
        user = user_id.lower()
        limits = [(f"{user}|{address}", self.attempts)]
        if self.account_attempts is not None:
            limits.append((f"{user}|*", self.account_attempts))
        if self.source_attempts is not None:
            limits.append((f"*|{address}", self.source_attempts))
        return limits

    def begin(self, user_id: str, address: str) -> Attempt:
        """Count an attempt as failed before the password is checked (so attempts made in
        parallel all count), or raise :class:`RateLimited` when a limit is reached."""
        now = self.clock()
        limits = self._limits(user_id, address)
        with self._lock:
            wait = max(self._wait(key, limit, now) for key, limit in limits)
            if wait > 0:
                raise RateLimited(wait)
            for key, _ in limits:
                self._fails.setdefault(key, deque()).append(now)
        return Attempt(tuple(key for key, _ in limits), now)

    def fail(self, attempt: Attempt) -> None:
        """The password was wrong: the attempt stays counted."""

    def success(self, attempt: Attempt) -> None:
        """The password was right: the account-and-source count starts again; the others
        forget only this attempt (a valid account must not reset a spraying source)."""
        pair, *others = attempt.keys
        with self._lock:
            self._fails.pop(pair, None)
            for key in others:
                q = self._fails.get(key)
                if q is not None:
                    _remove(q, attempt.at)
                    if not q:
                        del self._fails[key]


def _remove(q: deque[float], at: float) -> None:
    with contextlib.suppress(ValueError):  # already out of the window
        q.remove(at)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One counted login attempt: its limiter keys and when it was counted."""

    keys: tuple[str, ...]
    at: float


@dataclass(frozen=True, slots=True)
class NewSession:
    """What a login returns: the cookie value and CSRF token exist only here."""

    user: UserRow
    cookie: str
    csrf_token: str
    expires_at: float


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, and how (``session`` needs CSRF on writes, ``token`` does not).
    ``key`` names the session or token without its secret, for :meth:`Authenticator.recheck`."""

    user: UserRow
    via: str
    session: SessionRow | None = None
    key: str = ""


class Authenticator:
    """Logins, sessions and tokens over a :class:`~hub.store.base.Store`. :meth:`login` is
    a coroutine (hashing runs in ``hashing``, store calls in worker threads); the other
    methods are synchronous: call them from a worker thread."""

    def __init__(
        self, store: Store, *, secret: bytes, session_s: float, limiter: LoginLimiter,
        clock: Callable[[], float], hashing: HashPool | None = None,
    ) -> None:  # fmt: skip
        self.store = store
        self.secret = secret
        self.session_s = session_s
        self.limiter = limiter
        self.clock = clock
        self.hashing = hashing or HashPool()

    def session_hash(self, cookie: str) -> str:
        return hmac.new(self.secret, cookie.encode(), hashlib.sha256).hexdigest()

    async def login(self, user_id: str, password: str, address: str) -> NewSession:
        """Check the password and open a session; raises RateLimited, Busy or AuthError."""
        attempt = self.limiter.begin(user_id, address)
        user = await asyncio.to_thread(self._user_or_none, user_id)
        try:
            ok = await self.hashing.verify(user.password_hash if user else _DUMMY_HASH, password)
        except Busy:
            self.limiter.success(attempt)  # not checked: does not count against anyone
            raise
        if user is None or not ok or user.disabled:
            self.limiter.fail(attempt)
            raise AuthError("wrong user name or password")
        self.limiter.success(attempt)
        if _hasher.check_needs_rehash(user.password_hash):
            user = replace(user, password_hash=await self.hashing.hash(password))
            await asyncio.to_thread(self.store.update_user, user)
        return await asyncio.to_thread(self._open_session, user)

    def _user_or_none(self, user_id: str) -> UserRow | None:
        try:
            return self.store.get_user(user_id)
        except NotFound:
            return None

    def _open_session(self, user: UserRow) -> NewSession:
        now = self.clock()
        cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        expires = now + self.session_s
        self.store.add_session(SessionRow(self.session_hash(cookie), user.id, csrf, now, expires))
        return NewSession(user, cookie, csrf, expires)

    def from_cookie(self, cookie: str) -> Principal:
        return self._from_session(self.session_hash(cookie))

    def _from_session(self, id_hash: str) -> Principal:
        now = self.clock()
        try:
            session = self.store.get_session(id_hash)
        except NotFound:
            raise AuthError("not logged in") from None
        if session.expires_at <= now:
            self.store.delete_sessions(id_hash=session.id_hash)
            raise AuthError("session expired; log in again")
        return Principal(self._active(session.user_id), "session", session, f"session:{id_hash}")

    def from_token(self, token: str) -> Principal:
        return self._from_token(token_hash(token))

    def _from_token(self, hashed: str) -> Principal:
        try:
            row = self.store.get_api_token(hashed)
        except NotFound:
            raise AuthError("unknown API token") from None
        if row.revoked_at is not None or (
            row.expires_at is not None and row.expires_at <= self.clock()
        ):
            raise AuthError("API token revoked or expired")
        return Principal(self._active(row.user_id), "token", key=f"token:{hashed}")

    def recheck(self, key: str) -> Principal:
        """The principal of an earlier :attr:`Principal.key`, checked again against the
        store now (logged out, expired, revoked, disabled: AuthError)."""
        via, _, hashed = key.partition(":")
        if via == "session":
            return self._from_session(hashed)
        if via == "token":
            return self._from_token(hashed)
        raise AuthError("not logged in")

    def recheck_all(self, keys: Iterable[str]) -> dict[str, Principal | AuthError]:
        """:meth:`recheck` for many keys at once (one worker-thread hop for them all)."""
        out: dict[str, Principal | AuthError] = {}
        for key in keys:
            try:
                out[key] = self.recheck(key)
            except AuthError as exc:
                out[key] = exc
        return out

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
