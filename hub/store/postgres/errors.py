"""psycopg's errors as the hub's: "unavailable" (retry later) apart from "refused" (the data).

The ingest pipeline retries a batch with back-off while the store is unavailable, but splits
a refused batch to keep its good rows (:mod:`hub.runtime.poison`); telling the two apart is
this module's one job.

>>> type(convert(psycopg.errors.UntranslatableCharacter("NUL"), "write batch")).__name__
'StoreRefused'
>>> type(convert(psycopg.errors.SerializationFailure("retry"), "write batch")).__name__
'StoreUnavailable'
"""

from __future__ import annotations

import orjson
import psycopg
import psycopg.errors
from psycopg_pool import PoolClosed, PoolTimeout

from hub.errors import Conflict, StoreError, StoreRefused, StoreUnavailable

DRIVER_ERRORS = (psycopg.Error, PoolClosed, PoolTimeout, orjson.JSONEncodeError)
"""What :func:`convert` takes: everything psycopg, its pool or our JSON dumper raise."""


def convert(exc: BaseException, what: str) -> StoreError:
    """The hub error for a driver error raised while doing ``what``.

    - refused: the data itself (SQLSTATE class 22 "data exception": NUL in text, a
      ``\\u0000`` escape in jsonb, invalid byte sequences, numbers out of range; psycopg's
      own check for NUL; integrity violations; a value orjson cannot write as JSON, such as
      an integer beyond 64 bits);
    - unavailable: connection refused or lost, pool closed or exhausted, timeouts and
      cancellations, serialization failures, deadlocks, a full disk (psycopg's
      ``OperationalError`` family);
    - anything else (a programming error, a missing table): a plain :class:`StoreError`,
      which callers treat like "unavailable" and retry, so nothing is dropped on a bug.
    """
    if isinstance(exc, psycopg.errors.IntegrityError):
        return Conflict(f"{what}: {exc.diag.message_primary or exc}")
    if isinstance(exc, psycopg.DataError | orjson.JSONEncodeError):
        return StoreRefused(f"{what}: {_first_line(exc)}")
    if isinstance(exc, PoolClosed | PoolTimeout):
        return StoreUnavailable(f"{what}: store not open or exhausted ({exc})")
    if isinstance(exc, psycopg.OperationalError):
        return StoreUnavailable(f"{what}: {_first_line(exc)}")
    return StoreError(f"{what}: {_first_line(exc)}")


def _first_line(exc: BaseException) -> str:
    """The driver's message without the DETAIL/CONTEXT lines, which can quote the data."""
    return str(exc).partition("\n")[0] or type(exc).__name__
