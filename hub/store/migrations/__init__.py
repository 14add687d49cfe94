"""Versioned schema migrations shared by both store back-ends.

Each back-end has a *set* of SQL files in a folder of this package: ``sqlite/``,
``postgres/`` and ``timescale/`` (applied on top of ``postgres/`` only when the TimescaleDB
extension is available). A file is named ``NNNN_description.sql``; its version is ``NNNN``
for a back-end's main set and ``SET/NNNN`` for an add-on set (``timescale/0001``), so both
can share one ``schema_migrations(version, applied_at)`` table.

The runner here is pure: it loads files, splits them into statements and says what is
pending. Each store applies one file per transaction and records its version in the same
transaction, so a failed file leaves nothing behind.

>>> [m.version for m in load("postgres")][:1]
['0001']
>>> split_sql("CREATE TABLE a (x text DEFAULT ';'); -- done\\nSELECT 1;")
["CREATE TABLE a (x text DEFAULT ';')", 'SELECT 1']
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

from hub.errors import MigrationError

MAIN_SETS = frozenset({"sqlite", "postgres"})
"""Sets whose versions are recorded without a prefix."""

_FILE = re.compile(r"^(?P<num>\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    """One SQL file: ``version`` is what ``schema_migrations`` records."""

    version: str
    name: str
    sql: str

    def statements(self, dialect: str = "postgres") -> list[str]:
        return split_sql(self.sql, dialect=dialect)


def load(set_name: str) -> list[Migration]:
    """The migrations of one set, in version order. Raises MigrationError on a badly named
    file or a repeated number, so a typo cannot silently skip a migration."""
    folder = resources.files(__name__).joinpath(set_name)
    if not folder.is_dir():
        raise MigrationError(f"no migration set {set_name!r}")
    found: dict[str, Migration] = {}
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _FILE.match(entry.name)
        if match is None:
            raise MigrationError(
                f"migration file name {set_name}/{entry.name} is not NNNN_name.sql"
            )
        num = match["num"]
        version = num if set_name in MAIN_SETS else f"{set_name}/{num}"
        if version in found:
            raise MigrationError(f"two migrations numbered {version}: {entry.name}")
        found[version] = Migration(version, f"{set_name}/{entry.name}", entry.read_text("utf-8"))
    return [found[v] for v in sorted(found)]


def pending(available: Iterable[Migration], applied: Iterable[str]) -> list[Migration]:
    """The migrations not yet applied, keeping the order of ``available``."""
    done = set(applied)
    return [m for m in available if m.version not in done]


# --- splitting --------------------------------------------------------------------------

_DOLLAR = re.compile(r"\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$")


def split_sql(sql: str, *, dialect: str = "postgres") -> list[str]:
    """Split a script into statements at top-level semicolons.

    Quotes (``'...'``, ``"..."``), comments (``--``, ``/* */``) and PostgreSQL dollar quotes
    (``$$...$$``, ``$fn$...$fn$``) are respected. Comments before a statement are left out;
    pieces holding only comments are dropped.
    For SQLite, pieces are joined until :func:`sqlite3.complete_statement` agrees, so
    ``CREATE TRIGGER ... BEGIN ...; END`` stays whole.
    """
    pieces: list[tuple[str, bool]] = []  # (text, has code besides comments)
    start, i, n, code = 0, 0, len(sql), False  # start: first code character of the piece
    while i < n:
        ch = sql[i]
        if ch == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end + 1
            continue
        if ch == "/" and sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            if end < 0:
                raise MigrationError("unterminated /* comment")
            i = end + 2
            continue
        if not code and not ch.isspace():
            start, code = i, True
        if ch in "'\"":
            end = sql.find(ch, i + 1)
            # a doubled quote ('it''s') is just two adjacent quoted runs: loop handles it
            if end < 0:
                raise MigrationError(f"unterminated {ch} quote")
            i = end + 1
            continue
        if ch == "$" and (m := _DOLLAR.match(sql, i)) is not None:
            end = sql.find(m.group(), m.end())
            if end < 0:
                raise MigrationError(f"unterminated {m.group()} quote")
            i = end + len(m.group())
            continue
        if ch == ";":
            pieces.append((sql[start:i], code))
            start, code = i + 1, False
        i += 1
    pieces.append((sql[start:], code))
    if dialect == "sqlite":
        pieces = _join_sqlite(pieces)
    return [text.strip() for text, has_code in pieces if has_code]


def _join_sqlite(pieces: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    out: list[tuple[str, bool]] = []
    buf, code = "", False
    for text, has_code in pieces:
        buf = f"{buf};{text}" if buf else text
        code = code or has_code
        if not code or sqlite3.complete_statement(buf + ";"):
            out.append((buf, code))
            buf, code = "", False
    if code:
        raise MigrationError("incomplete SQLite statement at end of script")
    return out
