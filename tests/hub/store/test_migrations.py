"""The migration runner: loading, splitting and what is pending."""

from __future__ import annotations

import pytest

from hub.errors import MigrationError
from hub.store import migrations
from hub.store.migrations import Migration, pending, split_sql


def test_every_set_loads_in_version_order() -> None:
    for name in ("sqlite", "postgres", "timescale"):
        found = migrations.load(name)
        assert found, name
        versions = [m.version for m in found]
        assert versions == sorted(versions) and len(set(versions)) == len(versions)
        assert all(m.statements() for m in found)
    assert migrations.load("timescale")[0].version == "timescale/0001"
    # both back-ends move in step: a feature adds the same number to each
    assert [m.version for m in migrations.load("sqlite")] == [
        m.version for m in migrations.load("postgres")
    ]


def test_unknown_set_is_an_error() -> None:
    with pytest.raises(MigrationError):
        migrations.load("oracle")


def test_pending_keeps_order_and_skips_applied() -> None:
    avail = [Migration(v, f"{v}.sql", "SELECT 1") for v in ("0001", "0002", "timescale/0001")]
    assert [m.version for m in pending(avail, ["0001"])] == ["0002", "timescale/0001"]
    assert pending(avail, ["0001", "0002", "timescale/0001", "0099"]) == []


def test_split_respects_quotes_comments_and_dollar_quotes() -> None:
    script = """
    -- leading comment; with a semicolon
    CREATE TABLE a (x text DEFAULT 'a;b', "odd;name" int);  /* block; comment */
    CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $body$ SELECT 'x;y' $body$;
    SELECT 'it''s; fine', $$;$$ ;
    -- only a comment;
    """
    assert split_sql(script) == [
        "CREATE TABLE a (x text DEFAULT 'a;b', \"odd;name\" int)",
        "CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $body$ SELECT 'x;y' $body$",
        "SELECT 'it''s; fine', $$;$$",
    ]


def test_split_keeps_sqlite_triggers_whole() -> None:
    script = (
        "CREATE TABLE t (x);\n"
        "CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET x = 1; DELETE FROM t; END;\n"
        "SELECT 1;"
    )
    parts = split_sql(script, dialect="sqlite")
    assert len(parts) == 3
    assert parts[1].startswith("CREATE TRIGGER") and parts[1].endswith("END")


@pytest.mark.parametrize("bad", ["SELECT 'open", "SELECT $$ open", "SELECT 1 /* open"])
def test_split_refuses_unterminated_text(bad: str) -> None:
    with pytest.raises(MigrationError):
        split_sql(bad)
