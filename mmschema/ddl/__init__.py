"""Turns each change into its SQL statements, composed with psycopg.sql.

`statements(change)` dispatches on the change's type; each object kind registers its own
(the table family's in mmschema/kinds/tables/, imported by the kind registry
mmschema/pipeline/kinds.py), and enums and the dependents rebuilt around a change here.
"""

from mmschema.ddl import types, views
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
from mmschema.locks import Form

__all__ = [
    "Form",
    "Statement",
    "alter_table",
    "comment",
    "create_empty_table",
    "create_schema",
    "create_user_type",
    "dotted",
    "make_statement",
    "qualified",
    "render",
    "statements",
    "statements_for_extension",
    "transaction_groups",
    "types",
    "views",
]
