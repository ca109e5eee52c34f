"""Which lock each statement form takes, and whether it may run inside a transaction."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntEnum


class LockLevel(IntEnum):
    """PostgreSQL's table-level lock modes, weakest first (docs: "Explicit Locking")."""

    NONE = 0
    ACCESS_SHARE = 1
    ROW_SHARE = 2
    ROW_EXCLUSIVE = 3
    SHARE_UPDATE_EXCLUSIVE = 4
    SHARE = 5
    SHARE_ROW_EXCLUSIVE = 6
    EXCLUSIVE = 7
    ACCESS_EXCLUSIVE = 8

    @property
    def sql_name(self) -> str:
        return self.name.replace("_", " ")


class Form(Enum):
    """A statement form mmschema writes."""

    CREATE_EXTENSION = "CREATE EXTENSION"
    CREATE_SCHEMA = "CREATE SCHEMA"
    SCHEMA_OWNER = "ALTER SCHEMA OWNER TO"
    COMMENT_SCHEMA = "COMMENT ON SCHEMA"
    DROP_SCHEMA = "DROP SCHEMA CASCADE"
    CREATE_ENUM = "CREATE TYPE AS ENUM"
    ADD_ENUM_VALUE = "ALTER TYPE ADD VALUE"
    RENAME_ENUM_VALUE = "ALTER TYPE RENAME VALUE"
    DROP_TYPE = "DROP TYPE"
    CREATE_DOMAIN = "CREATE DOMAIN"
    ALTER_DOMAIN = "ALTER DOMAIN"
    DOMAIN_NOT_NULL = "ALTER DOMAIN SET NOT NULL"
    VALIDATE_DOMAIN_CONSTRAINT = "ALTER DOMAIN VALIDATE CONSTRAINT"
    CREATE_TYPE = "CREATE TYPE"
    ALTER_TYPE_ATTRIBUTES = "ALTER TYPE ADD/DROP/ALTER ATTRIBUTE"
    CREATE_TABLE = "CREATE TABLE"
    DROP_TABLE = "DROP TABLE"
    RENAME_TABLE = "ALTER TABLE RENAME"
    ATTACH_PARTITION = "ALTER TABLE ATTACH PARTITION"
    DETACH_PARTITION = "ALTER TABLE DETACH PARTITION"
    ADD_COLUMN = "ALTER TABLE ADD COLUMN"
    DROP_COLUMN = "ALTER TABLE DROP COLUMN"
    RENAME_COLUMN = "ALTER TABLE RENAME COLUMN"
    RENAME_CONSTRAINT = "ALTER TABLE RENAME CONSTRAINT"
    ALTER_TYPE = "ALTER TABLE ALTER COLUMN TYPE"
    SET_DEFAULT = "ALTER TABLE ALTER COLUMN SET/DROP DEFAULT"
    SET_NOT_NULL = "ALTER TABLE ALTER COLUMN SET NOT NULL"
    DROP_NOT_NULL = "ALTER TABLE ALTER COLUMN DROP NOT NULL"
    IDENTITY = "ALTER TABLE ALTER COLUMN ADD/SET/DROP IDENTITY"
    ADD_PRIMARY_KEY = "ALTER TABLE ADD PRIMARY KEY"
    ADD_PRIMARY_KEY_USING_INDEX = "ALTER TABLE ADD PRIMARY KEY USING INDEX"
    DROP_CONSTRAINT = "ALTER TABLE DROP CONSTRAINT"
    ADD_UNIQUE = "ALTER TABLE ADD UNIQUE"
    ADD_UNIQUE_USING_INDEX = "ALTER TABLE ADD UNIQUE USING INDEX"
    ADD_FOREIGN_KEY = "ALTER TABLE ADD FOREIGN KEY"
    ADD_CHECK = "ALTER TABLE ADD CHECK"
    ADD_EXCLUSION = "ALTER TABLE ADD EXCLUDE"
    VALIDATE_CONSTRAINT = "ALTER TABLE VALIDATE CONSTRAINT"
    CREATE_INDEX = "CREATE INDEX"
    CREATE_INDEX_CONCURRENTLY = "CREATE INDEX CONCURRENTLY"
    CREATE_INDEX_IN_TYPE_CHANGE = "CREATE INDEX (in the transaction of a type change)"
    CREATE_SEQUENCE = "CREATE SEQUENCE"
    SET_SEQUENCE = "SELECT setval"
    ALTER_SEQUENCE = "ALTER SEQUENCE"
    DROP_SEQUENCE = "DROP SEQUENCE"
    DROP_INDEX = "DROP INDEX"
    DROP_INDEX_CONCURRENTLY = "DROP INDEX CONCURRENTLY"
    RENAME_INDEX = "ALTER INDEX RENAME"
    ATTACH_INDEX = "ALTER INDEX ATTACH PARTITION"
    DROP_VIEW = "DROP VIEW"
    DROP_RULE = "DROP RULE"
    CREATE_RULE = "CREATE RULE"
    SET_LOGGED = "ALTER TABLE SET LOGGED/UNLOGGED"
    ROW_SECURITY = "ALTER TABLE ENABLE/DISABLE/FORCE ROW LEVEL SECURITY"
    REPLICA_IDENTITY = "ALTER TABLE REPLICA IDENTITY"
    CREATE_VIEW = "CREATE VIEW"
    REPLACE_VIEW = "CREATE OR REPLACE VIEW"
    VIEW_PRIVILEGES = "ALTER VIEW OWNER TO / GRANT ON a view"
    ROUTINE_PRIVILEGES = "ALTER FUNCTION OWNER TO / REVOKE / GRANT ON a function"
    DROP_POLICY = "DROP POLICY"
    CREATE_POLICY = "CREATE POLICY"
    ALTER_POLICY = "ALTER POLICY"
    COMMENT = "COMMENT ON"
    COMMENT_OBJECT = "COMMENT ON a type, routine or schema"
    GRANT = "GRANT / REVOKE"
    RELATION_OWNER = "ALTER TABLE/VIEW/SEQUENCE OWNER TO"
    TYPE_OWNER = "ALTER DOMAIN/TYPE OWNER TO"
    BACKFILL = "UPDATE (backfill)"
    COPY_ROWS = "INSERT ... SELECT (copy in batches)"
    STORAGE_PARAMETERS = "ALTER TABLE SET/RESET (storage parameters)"
    ANALYZE = "ANALYZE"
    LOCK_TABLE = "LOCK TABLE"
    CREATE_FUNCTION = "CREATE FUNCTION"
    CREATE_SQL_FUNCTION = "CREATE FUNCTION (LANGUAGE sql)"
    DROP_FUNCTION = "DROP FUNCTION"
    CREATE_TRIGGER = "CREATE TRIGGER"
    DROP_TRIGGER = "DROP TRIGGER"
    REPLACE_TRIGGER = "CREATE OR REPLACE TRIGGER"
    ENABLE_TRIGGER = "ALTER TABLE ENABLE/DISABLE TRIGGER"
    RENAME_TRIGGER = "ALTER TRIGGER RENAME"
    CREATE_MATVIEW = "CREATE MATERIALIZED VIEW"
    DROP_MATVIEW = "DROP MATERIALIZED VIEW"
    RENAME_MATVIEW = "ALTER MATERIALIZED VIEW RENAME"
    MATVIEW_OPTIONS = "ALTER MATERIALIZED VIEW SET/RESET"


@dataclass(frozen=True)
class FormTraits:
    lock: LockLevel
    transactional: bool = True
    alone: bool = False  # commits in a transaction of its own (its lock is held long)


# From the PostgreSQL documentation (ALTER TABLE, CREATE INDEX, DROP INDEX, ALTER INDEX,
# COMMENT), identical for versions 14 to 18 for every form listed here.
FORM_TRAITS: dict[Form, FormTraits] = {
    Form.CREATE_EXTENSION: FormTraits(LockLevel.NONE),
    Form.CREATE_SCHEMA: FormTraits(LockLevel.NONE),
    Form.SCHEMA_OWNER: FormTraits(LockLevel.NONE),
    Form.COMMENT_SCHEMA: FormTraits(LockLevel.NONE),
    # CASCADE drops every table the schema holds: each under ACCESS EXCLUSIVE.
    Form.DROP_SCHEMA: FormTraits(LockLevel.ACCESS_EXCLUSIVE),
    # Types are not tables: CREATE/ALTER/DROP TYPE lock the type's catalog entry only.
    # ADD VALUE runs in a transaction (PostgreSQL 12 and later), but the new label cannot
    # be used before that transaction commits, so it commits alone.
    Form.CREATE_ENUM: FormTraits(LockLevel.NONE),
    Form.ADD_ENUM_VALUE: FormTraits(LockLevel.NONE, alone=True),
    Form.RENAME_ENUM_VALUE: FormTraits(LockLevel.NONE),
    Form.DROP_TYPE: FormTraits(LockLevel.NONE),
    Form.CREATE_DOMAIN: FormTraits(LockLevel.NONE),
    Form.CREATE_TYPE: FormTraits(LockLevel.NONE),
    # A check added NOT VALID, a default, DROP NOT NULL: the domain's catalog entries only.
    Form.ALTER_DOMAIN: FormTraits(LockLevel.NONE),
    # SET NOT NULL and VALIDATE CONSTRAINT read every column of the domain, each table under
    # SHARE (PostgreSQL's validateDomain*): writes wait; the validation commits alone.
    Form.DOMAIN_NOT_NULL: FormTraits(LockLevel.SHARE),
    Form.VALIDATE_DOMAIN_CONSTRAINT: FormTraits(LockLevel.SHARE, alone=True),
    # Catalog work on the composite type; stored values keep their bytes (a dropped
    # attribute reads as gone, an added one as NULL).
    Form.ALTER_TYPE_ATTRIBUTES: FormTraits(LockLevel.NONE),
    Form.CREATE_TABLE: FormTraits(LockLevel.ACCESS_EXCLUSIVE),  # on the new table only
    Form.DROP_TABLE: FormTraits(LockLevel.ACCESS_EXCLUSIVE),
    Form.RENAME_TABLE: FormTraits(LockLevel.ACCESS_EXCLUSIVE),
    # SHARE UPDATE EXCLUSIVE on the parent, ACCESS EXCLUSIVE on the partition while its
    # rows are checked against the bound: committed alone so that lock goes at once.
    Form.ATTACH_PARTITION: FormTraits(LockLevel.ACCESS_EXCLUSIVE, alone=True),
    Form.DETACH_PARTITION: FormTraits(LockLevel.ACCESS_EXCLUSIVE),  # on parent and partition
    Form.ADD_COLUMN: FormTraits(LockLevel.ACCESS_EXCLUSIVE),
    Form.DROP_COLUMN: FormTraits(LockLevel.ACCESS_EXCLUSIVE),
    Form.RENAME_COLUMN: FormTraits(LockLevel.ACCESS_EXCLUSIVE),
    Form.RENAME_CONSTRAINT: FormTraits(LockLevel.ACCESS_EXCLUSIVE),
    Form.ALTER_TYPE: FormTraits(LockLevel.ACCESS_EXCLUSIVE),
    Form.SET_DEFAULT: FormTraits(LockLevel.ACCESS_EXCLUSIVE),
    Form.SET_NOT_NULL: FormTraits(LockLevel.ACCESS_EXCLUSIVE),
    Form.DROP_NOT_NULL: FormTraits(LockLevel.ACCESS_EXCLUSIVE),
    Form.IDENTITY: FormTraits(LockLevel.ACCESS_EXCLUSIVE),
    Form.ADD_PRIMARY_KEY: FormTraits(LockLevel.ACCESS_EXCLUSIVE),
    Form.ADD_PRIMARY_KEY_USING_INDEX: FormTraits(LockLevel.ACCESS_EXCLUSIVE),
    Form.DROP_CONSTRAINT: FormTraits(LockLevel.ACCESS_EXCLUSIVE),
    Form.ADD_UNIQUE: FormTraits(LockLevel.ACCESS_EXCLUSIVE),
    Form.ADD_UNIQUE_USING_INDEX: FormTraits(LockLevel.ACCESS_EXCLUSIVE),
    # Both tables of a foreign key take SHARE ROW EXCLUSIVE (docs: ALTER TABLE).
    Form.ADD_FOREIGN_KEY: FormTraits(LockLevel.SHARE_ROW_EXCLUSIVE),
    Form.ADD_CHECK: FormTraits(LockLevel.ACCESS_EXCLUSIVE),
    Form.ADD_EXCLUSION: FormTraits(LockLevel.ACCESS_EXCLUSIVE),  # its index is built under it
    Form.VALIDATE_CONSTRAINT: FormTraits(LockLevel.SHARE_UPDATE_EXCLUSIVE, alone=True),
    Form.CREATE_INDEX: FormTraits(LockLevel.SHARE),
    Form.CREATE_INDEX_CONCURRENTLY: FormTraits(LockLevel.SHARE_UPDATE_EXCLUSIVE, False),
    # SHARE itself, but it runs under the ACCESS EXCLUSIVE lock the type change's ALTER
    # TABLE holds until its transaction ends: reads and writes wait for the build.
    Form.CREATE_INDEX_IN_TYPE_CHANGE: FormTraits(LockLevel.ACCESS_EXCLUSIVE),
    Form.CREATE_SEQUENCE: FormTraits(LockLevel.ACCESS_SHARE),  # OWNED BY reads the table
    Form.SET_SEQUENCE: FormTraits(LockLevel.ACCESS_SHARE),
    Form.ALTER_SEQUENCE: FormTraits(LockLevel.ACCESS_SHARE),  # locks the sequence only
    Form.DROP_SEQUENCE: FormTraits(LockLevel.ACCESS_SHARE),
    Form.DROP_INDEX: FormTraits(LockLevel.ACCESS_EXCLUSIVE),
    Form.DROP_INDEX_CONCURRENTLY: FormTraits(LockLevel.SHARE_UPDATE_EXCLUSIVE, False),
    Form.RENAME_INDEX: FormTraits(LockLevel.SHARE_UPDATE_EXCLUSIVE),
    # Catalog work only: the partition's index is already built.
    Form.ATTACH_INDEX: FormTraits(LockLevel.SHARE_UPDATE_EXCLUSIVE),
    Form.DROP_VIEW: FormTraits(LockLevel.ACCESS_EXCLUSIVE),  # on the view
    # On the rule's table (and ACCESS SHARE on those its actions read).
    Form.DROP_RULE: FormTraits(LockLevel.ACCESS_EXCLUSIVE),
    Form.CREATE_RULE: FormTraits(LockLevel.ACCESS_EXCLUSIVE),
    Form.SET_LOGGED: FormTraits(LockLevel.ACCESS_EXCLUSIVE),  # and the table is rewritten
    Form.ROW_SECURITY: FormTraits(LockLevel.ACCESS_EXCLUSIVE),
    Form.REPLICA_IDENTITY: FormTraits(LockLevel.ACCESS_EXCLUSIVE),
    # CREATE VIEW (and its comment, owner, grants) reads the tables under ACCESS SHARE.
    Form.CREATE_VIEW: FormTraits(LockLevel.ACCESS_SHARE),
    Form.REPLACE_VIEW: FormTraits(LockLevel.ACCESS_EXCLUSIVE),  # on the view
    Form.VIEW_PRIVILEGES: FormTraits(LockLevel.ACCESS_SHARE),  # on a view just made again
    Form.ROUTINE_PRIVILEGES: FormTraits(LockLevel.NONE),  # a function is no table
    Form.DROP_POLICY: FormTraits(LockLevel.ACCESS_EXCLUSIVE),
    Form.CREATE_POLICY: FormTraits(LockLevel.ACCESS_EXCLUSIVE),
    Form.ALTER_POLICY: FormTraits(LockLevel.ACCESS_EXCLUSIVE),
    Form.COMMENT: FormTraits(LockLevel.SHARE_UPDATE_EXCLUSIVE),
    Form.COMMENT_OBJECT: FormTraits(LockLevel.NONE),  # no table: the object's entry only
    # GRANT and REVOKE update the ACL in the catalog without a table lock; a change of
    # owner is an ALTER TABLE (ACCESS EXCLUSIVE on the relation).
    Form.GRANT: FormTraits(LockLevel.NONE),
    Form.RELATION_OWNER: FormTraits(LockLevel.ACCESS_EXCLUSIVE),
    Form.TYPE_OWNER: FormTraits(LockLevel.NONE),  # a type is no table
    Form.BACKFILL: FormTraits(LockLevel.ROW_EXCLUSIVE),
    # ROW EXCLUSIVE on the copy; the rows read are locked FOR KEY SHARE (ROW SHARE on the
    # table), so that a row deleted meanwhile is not copied after its trigger ran.
    Form.COPY_ROWS: FormTraits(LockLevel.ROW_EXCLUSIVE, alone=True),
    Form.ANALYZE: FormTraits(LockLevel.SHARE_UPDATE_EXCLUSIVE, alone=True),
    # autovacuum_* and fillfactor (docs: ALTER TABLE SET); others take ACCESS EXCLUSIVE
    Form.STORAGE_PARAMETERS: FormTraits(LockLevel.SHARE_UPDATE_EXCLUSIVE),
    # Online type changes: the swap transaction starts with LOCK TABLE; the sync trigger's
    # function is no table; CREATE TRIGGER takes SHARE ROW EXCLUSIVE, DROP TRIGGER ACCESS
    # EXCLUSIVE.
    Form.LOCK_TABLE: FormTraits(LockLevel.ACCESS_EXCLUSIVE),
    Form.CREATE_FUNCTION: FormTraits(LockLevel.NONE),
    # A SQL body is analyzed as the function is made: ACCESS SHARE on the tables it reads.
    Form.CREATE_SQL_FUNCTION: FormTraits(LockLevel.ACCESS_SHARE),
    Form.DROP_FUNCTION: FormTraits(LockLevel.NONE),
    Form.CREATE_TRIGGER: FormTraits(LockLevel.SHARE_ROW_EXCLUSIVE),
    Form.DROP_TRIGGER: FormTraits(LockLevel.ACCESS_EXCLUSIVE),
    # CREATE OR REPLACE TRIGGER and ENABLE/DISABLE TRIGGER lock the table as CREATE TRIGGER
    # does; renaming a trigger takes ACCESS EXCLUSIVE (PostgreSQL's renametrig).
    Form.REPLACE_TRIGGER: FormTraits(LockLevel.SHARE_ROW_EXCLUSIVE),
    Form.ENABLE_TRIGGER: FormTraits(LockLevel.SHARE_ROW_EXCLUSIVE),
    Form.RENAME_TRIGGER: FormTraits(LockLevel.ACCESS_EXCLUSIVE),
    # CREATE MATERIALIZED VIEW reads its tables under ACCESS SHARE (the new relation and
    # its indexes are nobody else's yet); drop and rename lock the materialized view.
    Form.CREATE_MATVIEW: FormTraits(LockLevel.ACCESS_SHARE),
    Form.DROP_MATVIEW: FormTraits(LockLevel.ACCESS_EXCLUSIVE),
    Form.RENAME_MATVIEW: FormTraits(LockLevel.ACCESS_EXCLUSIVE),
    # The storage parameters a materialized view takes (fillfactor, autovacuum_*, toast.*,
    # parallel_workers) are all set under SHARE UPDATE EXCLUSIVE.
    Form.MATVIEW_OPTIONS: FormTraits(LockLevel.SHARE_UPDATE_EXCLUSIVE),
}


def traits(form: Form) -> FormTraits:
    return FORM_TRAITS[form]
