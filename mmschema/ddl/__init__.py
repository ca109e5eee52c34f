"""Turns each change into its SQL statements, composed with psycopg.sql.

`statements(change)` dispatches on the change's type; the registrations live in one
module per object kind, imported here so that every kind is known.
"""

from mmschema.ddl import constraints, indexes, online, tables, types, views
from mmschema.ddl.base import (
    Statement,
    alter_table,
    comment,
    create_empty_table,
    create_schema,
    create_user_type,
    dotted,
    make_statement,
    qualified,
    render,
    statements,
    statements_for_extension,
    transaction_groups,
)
from mmschema.ddl.constraints import (
    check_definition,
    deferrable_clause,
    exclusion_definition,
    foreign_key_definition,
    unique_definition,
    unique_index,
)
from mmschema.ddl.indexes import (
    access_method,
    concurrently_built_index,
    create_index,
    drop_index,
    drop_index_concurrently,
    index_key,
    rename_index,
    temporary_index_name,
)
from mmschema.ddl.online import job_statement
from mmschema.ddl.tables import (
    backfill,
    column_definition,
    create_table,
    drop_table,
    not_null_check_name,
)
from mmschema.locks import Form

__all__ = [
    "Form",
    "Statement",
    "access_method",
    "alter_table",
    "backfill",
    "check_definition",
    "column_definition",
    "comment",
    "concurrently_built_index",
    "constraints",
    "create_empty_table",
    "create_index",
    "create_schema",
    "create_table",
    "create_user_type",
    "deferrable_clause",
    "dotted",
    "drop_index",
    "drop_index_concurrently",
    "drop_table",
    "exclusion_definition",
    "foreign_key_definition",
    "index_key",
    "indexes",
    "job_statement",
    "make_statement",
    "not_null_check_name",
    "online",
    "qualified",
    "rename_index",
    "render",
    "statements",
    "statements_for_extension",
    "tables",
    "temporary_index_name",
    "transaction_groups",
    "types",
    "unique_definition",
    "unique_index",
    "views",
]
