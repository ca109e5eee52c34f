"""The backfill progress bar counts the rows `backfill_where` selects and ends full."""

from __future__ import annotations

import psycopg
import pytest

from mmschema.backfill import BackfillJob, run_backfill
from mmschema.model import QualifiedName
from tests.conftest import run_sql


@pytest.mark.one_major
def test_the_total_honours_backfill_where_and_the_bar_ends_full(db: str) -> None:
    run_sql(
        db,
        "CREATE TABLE s (id integer PRIMARY KEY, symbol text, pairs jsonb);"
        "INSERT INTO s SELECT g, CASE WHEN g % 3 = 0 THEN NULL ELSE 'BTC' END, NULL"
        " FROM generate_series(1, 3000) g;"
        "ANALYZE s;",
    )
    job = BackfillJob.single(
        QualifiedName("public", "s"), "pairs", "jsonb_build_array(symbol)", "symbol IS NOT NULL"
    )
    seen: list[tuple[int, int | None]] = []
    with psycopg.connect(db, autocommit=True) as conn:
        result = run_backfill(conn, job, 1000, 2, progress=lambda d, t: seen.append((d, t)))
    assert result.complete and result.rows == 2000
    first_total = seen[0][1]
    assert first_total is not None and 1800 <= first_total <= 2200, seen  # not the 3000 rows
    assert seen[-1] == (2000, 2000), seen
