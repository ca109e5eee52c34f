"""Validation against format.json, with each error in words and at the key or value it concerns."""

from __future__ import annotations

import datetime
import difflib
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mmschema.desired.fastcheck import Check, compile_schema
from mmschema.desired.yamlpos import JsonPath

if TYPE_CHECKING:  # jsonschema loads when a file is checked, not for a cached one
    from jsonschema import Draft202012Validator, ValidationError

FORMAT_FILE = Path(__file__).with_name("format.json")
_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "array": "a list",
    "object": "a mapping",
    "null": "null",
}
_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}
_NAMED = {
    "columns": "column",
    "indexes": "index",
    "unique": "unique constraint",
    "foreign_keys": "foreign key",
    "checks": "check",
}


@dataclass(frozen=True)
class Finding:
    """One error: where (at the key naming the value, or at the value) and what."""

    path: JsonPath
    message: str
    at_key: bool = False
    suggests: str | None = None  # an unknown key's likely meaning
    missing: str | None = None  # the required key a 'missing' error is about


@cache
def format_schema() -> dict[str, Any]:
    """The JSON Schema of the file format, read once."""
    schema: dict[str, Any] = json.loads(FORMAT_FILE.read_text(encoding="utf-8"))
    return schema


@cache
def _validator() -> Draft202012Validator:
    """A validator of the schema with its local $refs inlined (a third faster on big files)."""
    from jsonschema import Draft202012Validator

    schema = format_schema()
    return Draft202012Validator(_inline_refs(schema, schema["$defs"]))


def _inline_refs(node: Any, definitions: dict[str, Any]) -> Any:
    """The schema with each {"$ref": "#/$defs/x", ...} replaced by x merged with its siblings."""
    if isinstance(node, list):
        return [_inline_refs(item, definitions) for item in node]
    if not isinstance(node, dict):
        return node
    result = {k: _inline_refs(v, definitions) for k, v in node.items() if k != "$defs"}
    reference = result.pop("$ref", None)
    if isinstance(reference, str):
        target = definitions[reference.removeprefix("#/$defs/")]
        result = {**_inline_refs(target, definitions), **result}
    return result


@cache
def _quick_check() -> Check:
    schema = format_schema()
    return compile_schema(_inline_refs(schema, schema["$defs"]))


def schema_findings(value: object) -> list[Finding]:
    """Every way the value breaks the format, typos first suggested, then missing keys."""
    if _quick_check()(value):
        return []  # certainly valid: jsonschema would find nothing, slowly
    findings: list[Finding] = []
    for error in _validator().iter_errors(value):
        if not _other_case_of_enum(error):
            findings.extend(_findings(error))
    # A key the mapping should not have is likely the one it lacks, misspelled or not:
    # the unknown key's line lists the expected ones.
    unknown = {f.path[:-1] for f in findings if f.at_key and not f.missing}
    kept = [f for f in findings if not f.missing or not f.path or f.path not in unknown]
    return _missing_together(kept)


def _missing_together(findings: list[Finding]) -> list[Finding]:
    """The required keys one mapping lacks, in one finding: one fault, one line."""
    missing: dict[JsonPath, list[str]] = {}
    for finding in findings:
        if finding.missing and finding.path:
            keys = missing.setdefault(finding.path, [])
            if finding.missing not in keys:
                keys.append(finding.missing)
    together: list[Finding] = []
    for finding in findings:
        keys = missing.get(finding.path, []) if finding.missing else []
        if len(keys) < 2:
            together.append(finding)
        elif finding.missing == keys[0]:
            quoted = [f"'{key}'" for key in keys]
            named = f"{', '.join(quoted[:-1])} and {quoted[-1]}"
            message = f"{describe(finding.path)} is missing required keys {named}"
            together.append(Finding(finding.path, message, at_key=True, missing=finding.missing))
    return together


def _other_case_of_enum(error: ValidationError) -> bool:
    """An enum marked x-case-insensitive given in other letters (`GIN`): not an error."""
    schema, allowed = error.schema, error.validator_value
    return (
        error.validator == "enum"
        and isinstance(schema, dict)
        and bool(schema.get("x-case-insensitive"))
        and isinstance(error.instance, str)
        and isinstance(allowed, list)
        and error.instance.lower() in allowed
    )


def describe(path: JsonPath) -> str:
    """The object at a path in words: "column 'id'", "'lock_timeout' of 'settings'"."""
    if not path:
        return "the file"
    if len(path) == 2 and path[0] in ("tables", "assertions"):
        return f"{'table' if path[0] == 'tables' else 'assertion'} '{path[1]}'"
    if len(path) == 4 and path[0] == "tables" and str(path[2]) in _NAMED:
        return f"{_NAMED[str(path[2])]} '{path[3]}'"
    parent, last = path[:-1], path[-1]
    if isinstance(last, int):
        return f"item {last + 1} of {describe(parent)}"
    return f"'{last}' of {describe(parent)}" if parent else f"'{last}'"


def kind_of(value: object) -> str:
    """A value in words, for 'must be X, not Y'."""
    if value is None:
        return "empty (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}" if len(value) <= 40 else "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, datetime.date):
        return "a date (quote it to make it a string)"
    return type(value).__name__


def either(items: list[str]) -> str:
    """'a', 'a or b', 'a, b or c'."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def _findings(error: ValidationError) -> list[Finding]:
    path: JsonPath = tuple(error.absolute_path)
    what = describe(path)
    check = str(error.validator)
    if check == "additionalProperties":
        return _unknown_keys(path, error)
    if check == "required":
        return _missing(path, error)
    if check in ("oneOf", "anyOf") and isinstance(error.validator_value, list):
        forms = [form if isinstance(form, dict) else {} for form in error.validator_value]
        return _alternatives(path, what, error, forms)
    return [Finding(path, _message(what, check, error))]


def _alternatives(
    path: JsonPath, what: str, error: ValidationError, branches: list[dict[str, Any]]
) -> list[Finding]:
    """A value that fits none of its forms: the errors inside the one form of its type
    (`identity: {generated: x}`), else what it may be (`always, by_default or a mapping`)."""
    value: object = error.instance
    fitting = [i for i, branch in enumerate(branches) if _takes(branch, value)]
    if len(fitting) == 1:
        inner = [
            e
            for e in error.context or []
            if e.relative_schema_path and e.relative_schema_path[0] == fitting[0]
        ]
        if inner and not any(e.validator == "enum" and not e.relative_path for e in inner):
            return [f for e in inner for f in _findings(e)]
    choices: list[str] = []
    for branch in branches:
        if isinstance(branch.get("enum"), list):
            choices.extend(_plain(v) for v in branch["enum"])
        elif isinstance(kind := branch.get("type"), str):
            choices.append(_TYPE_NAMES.get(kind, kind))
    words = f"{what} must be {either(choices)}, not {kind_of(value)}" if choices else None
    return [Finding(path, (words or f"{what}: {error.message}") + _suggestion(value, branches))]


def _takes(branch: dict[str, Any], value: object) -> bool:
    """Whether a form of a oneOf is meant for values of this one's type."""
    if isinstance(branch.get("enum"), list):
        return any(type(v) is type(value) for v in branch["enum"])
    kind = branch.get("type")
    types = _PYTHON_TYPES.get(kind) if isinstance(kind, str) else None
    if types is None:
        return True
    if isinstance(value, bool):
        return bool in types
    return isinstance(value, types)


def _suggestion(value: object, branches: list[dict[str, Any]]) -> str:
    """'; did you mean 'always'?' for a misspelt choice of an enum among the forms."""
    if not isinstance(value, str):
        return ""
    choices = [str(v) for b in branches for v in b.get("enum") or [] if isinstance(v, str)]
    close = difflib.get_close_matches(value, choices, n=1)
    if not close:
        close = difflib.get_close_matches(value.lower(), [c.lower() for c in choices], n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def _message(what: str, check: str, error: ValidationError) -> str:
    value: object = error.instance
    expected: Any = error.validator_value
    if check == "type":
        names = [expected] if isinstance(expected, str) else list(expected)
        if names == ["boolean"]:
            return f"{what} must be true or false, not {kind_of(value)}"
        return (
            f"{what} must be {either([_TYPE_NAMES.get(n, n) for n in names])}, not {kind_of(value)}"
        )
    if check == "enum":
        suggestion = _suggestion(value, [error.schema]) if isinstance(error.schema, dict) else ""
        allowed = either([_plain(v) for v in expected])
        return f"{what} must be {allowed}, not {kind_of(value)}{suggestion}"
    if check == "const" and what == "'version'" and type(value) is int:
        return f"unsupported file format version {_plain(value)}: this mmschema reads version: 1"
    if check == "const":
        return f"{what} must be {_plain(expected)}, not {kind_of(value)}"
    if check in ("minItems", "minLength"):
        return f"{what} must not be empty"
    if check == "minimum":
        return f"{what} must be at least {expected}, not {_plain(value)}"
    if check == "pattern":
        return f"{what} must be a duration such as 500ms, 3s, 30min or 1h, not {kind_of(value)}"
    if check == "uniqueItems":
        return f"{what} lists the same item twice"
    return f"{what}: {error.message}"


def _plain(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


INHERITANCE_REFUSED = (
    "table inheritance (inherits) is not supported: declare the parent's columns on the "
    "table itself, or use partition_of for a partitioned table"
)
# The tail of a value YAML cut at its comma: `{type: numeric(12,2)}` gives a key `2)`.
SPLIT_BY_A_COMMA = re.compile(r"[^()]*\)[^()]*")


def _unknown_keys(path: JsonPath, error: ValidationError) -> list[Finding]:
    instance = error.instance if isinstance(error.instance, dict) else {}
    schema = error.schema if isinstance(error.schema, dict) else {}
    known = list(schema.get("properties", {}))
    patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
    where = f"in {describe(path)}" if path else "at the top of the file"
    findings: list[Finding] = []
    for key in instance:
        if key in known or any(p.search(str(key)) for p in patterns):
            continue
        expected = ", ".join(known) + (", or x-..." if patterns else "")
        message = f"unknown key '{key}' {where} (expected one of: {expected})"
        close = difflib.get_close_matches(str(key), known, n=1)
        if key == "inherits" and len(path) == 2 and path[0] == "tables":
            message = f"{describe(path)}: {INHERITANCE_REFUSED}"
            close = []
        elif close:
            message += f"; did you mean '{close[0]}'?"
        elif SPLIT_BY_A_COMMA.fullmatch(str(key)):
            message += (
                "; a comma inside { } starts a new key: quote a value that holds one,"
                ' e.g. {type: "numeric(12,2)"}'
            )
        suggests = close[0] if close else None
        findings.append(Finding((*path, key), message, at_key=True, suggests=suggests))
    return findings


def _missing(path: JsonPath, error: ValidationError) -> list[Finding]:
    instance = error.instance if isinstance(error.instance, dict) else {}
    required = error.validator_value if isinstance(error.validator_value, list) else []
    findings: list[Finding] = []
    for key in required:
        if key in instance:
            continue
        if not path and key == "version":
            message = "the file has no 'version' (write version: 1 at the top)"
        else:
            message = f"{describe(path)} is missing required key '{key}'"
        findings.append(Finding(path, message, at_key=True, missing=str(key)))
    return findings
