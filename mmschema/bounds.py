"""A partition bound as a row predicate over its parent's key, so that the rows of a DEFAULT
partition that a new bound would cover can be counted before CREATE or ATTACH fails."""

from __future__ import annotations

from pglast import parse_sql
from pglast.ast import ColumnRef, CreateStmt, Node, String
from pglast.stream import RawStream
from psycopg import sql

PLACEHOLDER = "CREATE TABLE mmschema_bound "


def _special(node: Node) -> str | None:
    """"minvalue" or "maxvalue" for MINVALUE / MAXVALUE, else None."""
    if isinstance(node, ColumnRef) and node.fields and len(node.fields) == 1:
        field = node.fields[0]
        if isinstance(field, String) and field.sval in ("minvalue", "maxvalue"):
            return str(field.sval)
    return None


def _datum(node: Node) -> str | None:
    """A bound value's SQL, or None for MINVALUE / MAXVALUE."""
    return None if _special(node) else str(RawStream()(node))


def key_expressions(partition_by: str) -> tuple[str, list[str]]:
    """("list" | "range" | "hash", each key's SQL) of pg_get_partkeydef() text."""
    statement = parse_sql(f"{PLACEHOLDER}(x int) PARTITION BY {partition_by}")[0].stmt
    assert isinstance(statement, CreateStmt) and statement.partspec is not None
    keys: list[str] = []
    for param in statement.partspec.partParams or ():
        if param.name:
            text = sql.Identifier(param.name).as_string(None)
        else:
            text = f"({RawStream()(param.expr)})"
        if param.collation:
            names = sql.Identifier(*(p.sval for p in param.collation)).as_string(None)
            text = f"{text} COLLATE {names}"
        keys.append(text)
    strategy = str(statement.partspec.strategy).lower()
    return {"l": "list", "r": "range", "h": "hash"}.get(strategy, strategy), keys


def _row(items: list[str]) -> str:
    return f"ROW({', '.join(items)})"


def _range_side(keys: list[str], datums: list[Node], lower: bool) -> str:
    """One side of a range bound, cut at its first MINVALUE or MAXVALUE."""
    values: list[str] = []
    special = None
    for node in datums:
        text = _datum(node)
        if text is None:
            special = _special(node)
            break
        values.append(text)
    prefix = keys[: len(values)]
    if lower:
        operator = ">" if special == "maxvalue" else ">="
    else:
        operator = "<=" if special == "maxvalue" else "<"
    if not values:
        return "true" if operator in (">=", "<=") else "false"
    return f"{_row(prefix)} {operator} {_row(values)}"


def bound_predicate(partition_by: str, bound: str) -> str | None:
    """The SQL condition a row meets to fall within `bound` (as PostgreSQL prints it), or
    None for DEFAULT, hash bounds and what cannot be read."""
    if bound.strip().upper() == "DEFAULT":
        return None
    try:
        strategy, keys = key_expressions(partition_by)
        statement = parse_sql(f"{PLACEHOLDER}PARTITION OF mmschema_parent {bound}")[0].stmt
    except Exception:  # pglast.parser.ParseError: nothing to predict
        return None
    assert isinstance(statement, CreateStmt)
    spec = statement.partbound
    if spec is None or spec.is_default:
        return None
    if strategy == "list" and len(keys) == 1:
        values = [_datum(d) for d in spec.listdatums or ()]
        present = [v for v in values if v is not None and v.upper() != "NULL"]
        terms = [f"{keys[0]} IN ({', '.join(present)})"] if present else []
        if len(present) < len(values):
            terms.append(f"{keys[0]} IS NULL")
        return " OR ".join(terms) or "false"
    if strategy == "range":
        not_null = " AND ".join(f"{k} IS NOT NULL" for k in keys)
        lower = _range_side(keys, list(spec.lowerdatums or ()), lower=True)
        upper = _range_side(keys, list(spec.upperdatums or ()), lower=False)
        return f"{not_null} AND {lower} AND {upper}"
    return None
