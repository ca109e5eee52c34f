"""Type-change classification checked against what PostgreSQL does (relfilenode changes or not)."""

from __future__ import annotations

import itertools

import psycopg
from psycopg import sql

from mmschema import changes as ch
from mmschema.kinds.tables import column_changes as cc
from mmschema.kinds.tables.typecast import Cast, classify_type_changes
from mmschema.model import QualifiedName

TYPES = [
    "smallint",
    "integer",
    "bigint",
    "numeric",
    "numeric(10,2)",
    "numeric(12,2)",
    "numeric(12,4)",
    "real",
    "double precision",
    "text",
    "character varying(10)",
    "character varying(20)",
    "character varying",
    "timestamp without time zone",
    "timestamp with time zone",
    "timestamp(3) without time zone",
    "boolean",
    "date",
]


def test_every_change_between_common_types_is_classified_as_postgresql_behaves(db: str) -> None:
    pairs = [(a, b) for a, b in itertools.permutations(TYPES, 2)]
    planned: list[ch.Change] = [
        cc.AlterColumnType(QualifiedName("public", f"t{i}"), "c", old, new)
        for i, (old, new) in enumerate(pairs)
    ]
    mistakes = []
    with psycopg.connect(db, autocommit=True) as conn:
        classified = classify_type_changes(conn, planned)
        for i, change in enumerate(classified):
            assert isinstance(change, cc.AlterColumnType) and change.cast is not None
            table = sql.Identifier(f"t{i}")
            conn.execute(sql.SQL("CREATE TABLE {} (c {})").format(table, sql.SQL(change.old_type)))
            conn.execute(sql.SQL("INSERT INTO {} VALUES (NULL)").format(table))
            before = conn.execute("SELECT pg_relation_filenode(%s)", (f"t{i}",)).fetchone()
            alter = sql.SQL("ALTER TABLE {} ALTER COLUMN c TYPE {}").format(
                table, sql.SQL(change.new_type)
            )
            if change.using:
                alter = sql.SQL("{} USING {}").format(alter, sql.SQL(change.using))
            try:
                conn.execute(alter)
            except psycopg.errors.CannotCoerce:
                # Without any cast, not even USING helps: the change is rightly "no cast".
                if change.cast != Cast.NO_CAST.value:
                    mistakes.append(
                        f"{change.old_type} -> {change.new_type}: failed, said {change.cast}"
                    )
                continue
            after = conn.execute("SELECT pg_relation_filenode(%s)", (f"t{i}",)).fetchone()
            rewritten = before != after
            expected_rewrite = change.cast != Cast.BINARY.value
            if rewritten != expected_rewrite:
                mistakes.append(
                    f"{change.old_type} -> {change.new_type}: said {change.cast}, "
                    f"rewritten={rewritten}"
                )
    assert mistakes == [], "\n".join(mistakes)
