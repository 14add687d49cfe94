"""Storage: the :class:`~hub.store.base.Store` protocol and its two back-ends.

:func:`open_store` turns a database URL into an opened, migrated store::

    sqlite:///var/carehub.db         relative path (var/carehub.db)
    sqlite:////srv/carehub/hub.db    absolute path
    sqlite://:memory:                in memory (tests)
    postgresql://user@host/db        PostgreSQL, TimescaleDB when available
"""

from __future__ import annotations

from hub.errors import ConfigError
from hub.store.base import Store

__all__ = ["Store", "open_store", "sqlite_path"]


def sqlite_path(url: str) -> str:
    """The file path in a ``sqlite://`` URL.

    >>> sqlite_path("sqlite:///data/hub.db"), sqlite_path("sqlite:////srv/hub.db")
    ('data/hub.db', '/srv/hub.db')
    >>> sqlite_path("sqlite://:memory:")
    ':memory:'
    """
    rest = url.removeprefix("sqlite://")
    if rest in (":memory:", "/:memory:"):
        return ":memory:"
    if not rest.startswith("/") or rest == "/":
        raise ConfigError(f"bad SQLite URL {url!r}: use sqlite:///relative.db or sqlite:////abs.db")
    return rest[1:]


def open_store(url: str, *, connect_timeout_s: float = 10.0) -> Store:
    """Open the store named by ``url`` and apply pending migrations; a database server is
    waited for ``connect_timeout_s`` at most.

    Raises :class:`~hub.errors.ConfigError` for an unknown scheme and
    :class:`~hub.errors.StoreError` when the database cannot be opened or migrated.
    """
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    store: Store
    if scheme == "sqlite":
        from hub.store.sqlite import SqliteStore

        store = SqliteStore(sqlite_path(url))
    elif scheme in ("postgresql", "postgres"):
        from hub.store.postgres import PostgresStore

        pg = PostgresStore(url)
        pg.open(timeout=connect_timeout_s)
        store = pg
    else:
        raise ConfigError(
            f"unknown store URL scheme {scheme or url!r}: expected sqlite:// or postgresql://"
        )
    try:
        store.migrate()
    except BaseException:
        store.close()
        raise
    return store
