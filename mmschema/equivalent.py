"""Defaults that PostgreSQL prints differently but evaluates alike: not a change.

The list, from PostgreSQL's documentation of the current date/time functions: `now()`,
`CURRENT_TIMESTAMP` and `transaction_timestamp()` are the same value (the transaction's
start, timestamptz); `LOCALTIMESTAMP` is that value as timestamp without time zone, which
is what the others store in a `timestamp` column (the default is cast on assignment).
Only a whole default is matched, so `now() + '1 day'` and `CURRENT_TIMESTAMP + '1 day'`
still differ (written the same way, they are compared as PostgreSQL prints them)."""

from __future__ import annotations

TRANSACTION_START = frozenset({"now()", "CURRENT_TIMESTAMP", "transaction_timestamp()"})
LOCAL_TRANSACTION_START = frozenset(
    {
        "LOCALTIMESTAMP",
        "(now())::timestamp without time zone",
        "(CURRENT_TIMESTAMP)::timestamp without time zone",
    }
)


def same_default(live: str | None, wanted: str | None, column_type: str = "") -> bool:
    """Whether two printed defaults of a column of this type store the same value."""
    if live == wanted:
        return True
    if live is None or wanted is None:
        return False
    groups = [TRANSACTION_START, LOCAL_TRANSACTION_START]
    if column_type == "timestamp without time zone":
        groups = [TRANSACTION_START | LOCAL_TRANSACTION_START]
    return any(live in group and wanted in group for group in groups)
