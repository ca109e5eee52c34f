"""A quick yes to "does this value fit the format's JSON Schema?", compiled from the schema.

jsonschema explains every error well but walks a 20,000-table file slowly. Most files are
valid: this predicate answers "valid" only when it is certain (the keywords the format uses,
with JSON Schema's meaning); any "no", and any keyword it does not know, sends the file to
jsonschema for the errors in words.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

Check = Callable[[object], bool]

# Keywords that say nothing about validity.
ANNOTATIONS = frozenset(
    {
        "$schema",
        "$id",
        "$comment",
        "title",
        "description",
        "examples",
        "default",
        "deprecated",
        "readOnly",
        "writeOnly",
        "x-case-insensitive",
    }
)


def _never(_: object) -> bool:
    return False


def _always(_: object) -> bool:
    return True


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


TYPES: dict[str, Check] = {
    "string": lambda v: isinstance(v, str),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: is_number(v) and not (isinstance(v, float) and math.isnan(v)),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool))
    or (isinstance(v, float) and v.is_integer()),
}


def scalar_equal(value: object, expected: object) -> bool:
    """JSON equality of scalars (true is not 1); False for anything else (unsure)."""
    if isinstance(value, bool) or isinstance(expected, bool):
        return isinstance(value, bool) and isinstance(expected, bool) and value == expected
    if isinstance(value, str) and isinstance(expected, str):
        return value == expected
    if is_number(value) and is_number(expected):
        return value == expected
    return value is None and expected is None


def compile_schema(schema: Any) -> Check:
    """The predicate of one (inlined, $ref-free) schema."""
    if schema is True:
        return _always
    if not isinstance(schema, dict):
        return _never
    checks: list[Check] = []
    for keyword, argument in schema.items():
        if keyword in ANNOTATIONS or keyword in ("then", "else", "additionalProperties"):
            continue
        made = _keyword(keyword, argument, schema)
        if made is None:
            return _never  # unknown: jsonschema decides
        checks.append(made)
    if "additionalProperties" in schema:
        checks.append(_properties_rest(schema))
    if len(checks) == 1:
        return checks[0]
    return lambda value: all(check(value) for check in checks)


def _keyword(keyword: str, argument: Any, schema: dict[str, Any]) -> Check | None:
    maker = KEYWORDS.get(keyword)
    return None if maker is None else maker(argument, schema)


def _type(argument: Any, _: dict[str, Any]) -> Check | None:
    names = argument if isinstance(argument, list) else [argument]
    if not all(name in TYPES for name in names):
        return None
    tests = [TYPES[name] for name in names]
    return tests[0] if len(tests) == 1 else lambda v: any(test(v) for test in tests)


def _enum(argument: Any, _: dict[str, Any]) -> Check:
    return lambda v: any(scalar_equal(v, allowed) for allowed in argument)


def _const(argument: Any, _: dict[str, Any]) -> Check:
    return lambda v: scalar_equal(v, argument)


def _min_length(argument: Any, _: dict[str, Any]) -> Check:
    return lambda v: not isinstance(v, str) or len(v) >= argument


def _minimum(argument: Any, _: dict[str, Any]) -> Check:
    return lambda v: not is_number(v) or v >= argument


def _maximum(argument: Any, _: dict[str, Any]) -> Check:
    return lambda v: not is_number(v) or v <= argument


def _exclusive_minimum(argument: Any, _: dict[str, Any]) -> Check:
    return lambda v: not is_number(v) or v > argument


def _min_items(argument: Any, _: dict[str, Any]) -> Check:
    return lambda v: not isinstance(v, list) or len(v) >= argument


def _min_properties(argument: Any, _: dict[str, Any]) -> Check:
    return lambda v: not isinstance(v, dict) or len(v) >= argument


def _pattern(argument: Any, _: dict[str, Any]) -> Check:
    pattern = re.compile(argument)
    return lambda v: not isinstance(v, str) or pattern.search(v) is not None


def _unique_items(argument: Any, _: dict[str, Any]) -> Check:
    if not argument:
        return _always

    def unique(value: object) -> bool:
        if not isinstance(value, list):
            return True
        # Only strings are certain to compare as JSON does: anything else is left to jsonschema.
        return all(isinstance(v, str) for v in value) and len(set(value)) == len(value)

    return unique


def _items(argument: Any, _: dict[str, Any]) -> Check:
    item = compile_schema(argument)
    return lambda v: not isinstance(v, list) or all(item(x) for x in v)


def _required(argument: Any, _: dict[str, Any]) -> Check:
    return lambda v: not isinstance(v, dict) or all(key in v for key in argument)


def _properties(argument: Any, _: dict[str, Any]) -> Check:
    compiled = {name: compile_schema(sub) for name, sub in argument.items()}

    def properties(value: object) -> bool:
        if not isinstance(value, dict):
            return True
        for key, item in value.items():
            check = compiled.get(key)
            if check is not None and not check(item):
                return False
        return True

    return properties


def _pattern_properties(argument: Any, _: dict[str, Any]) -> Check:
    compiled = [(re.compile(p), compile_schema(sub)) for p, sub in argument.items()]

    def pattern_properties(value: object) -> bool:
        if not isinstance(value, dict):
            return True
        return all(
            check(item)
            for key, item in value.items()
            for pattern, check in compiled
            if pattern.search(key)
        )

    return pattern_properties


def _properties_rest(schema: dict[str, Any]) -> Check:
    """additionalProperties: the keys neither `properties` nor `patternProperties` cover."""
    rest = compile_schema(schema["additionalProperties"])
    named = set(schema.get("properties", {}))
    patterns = [re.compile(p) for p in schema.get("patternProperties", {})]

    def additional(value: object) -> bool:
        if not isinstance(value, dict):
            return True
        for key, item in value.items():
            if key in named or any(p.search(key) for p in patterns):
                continue
            if not rest(item):
                return False
        return True

    return additional


def _if(argument: Any, schema: dict[str, Any]) -> Check | None:
    if not exact(argument):
        return None  # an unsure "no" would pick the wrong branch
    condition = compile_schema(argument)
    then = compile_schema(schema.get("then", True))
    otherwise = compile_schema(schema.get("else", True))
    return lambda v: then(v) if condition(v) else otherwise(v)


def _one_of(argument: Any, _: dict[str, Any]) -> Check:
    options = [(compile_schema(sub), sub) for sub in argument]

    # Exactly one passes, and every other one certainly fails (an unsure "no" could hide
    # a second match).
    def one_of(value: object) -> bool:
        passing = [sub for option, sub in options if option(value)]
        return len(passing) == 1 and all(
            sub is passing[0] or fails_by_kind(sub, value) for _, sub in options
        )

    return one_of


def fails_by_kind(schema: Any, value: object) -> bool:
    """Whether the schema certainly refuses the value: its type, or a scalar not enumerated."""
    if not isinstance(schema, dict):
        return schema is False
    names = schema.get("type")
    if isinstance(names, str) and names in TYPES and not TYPES[names](value):
        return True
    required = schema.get("required")
    if isinstance(value, dict) and isinstance(required, list) and any(
        key not in value for key in required
    ):
        return True
    allowed = schema.get("enum")
    if isinstance(allowed, list) and all(not isinstance(a, dict | list) for a in allowed):
        return not any(scalar_equal(value, a) for a in allowed)  # no list or mapping is
    return False


def _any_of(argument: Any, _: dict[str, Any]) -> Check:
    options = [compile_schema(sub) for sub in argument]
    return lambda v: any(option(v) for option in options)


def _all_of(argument: Any, _: dict[str, Any]) -> Check:
    options = [compile_schema(sub) for sub in argument]
    return lambda v: all(option(v) for option in options)


def _not(argument: Any, _: dict[str, Any]) -> Check | None:
    if not exact(argument):
        return None  # "not" would turn an unsure "no" into a wrong "yes"
    inner = compile_schema(argument)
    return lambda v: not inner(v)


EXACT = frozenset(
    {"type", "enum", "const", "required", "properties", "minLength", "minItems", "anyOf", "allOf"}
)


def exact(schema: Any) -> bool:
    """Whether the predicate of this schema is never unsure: made of keywords decided exactly
    (const and enum of scalars, which no list or mapping equals)."""
    if not isinstance(schema, dict) or not set(schema) - ANNOTATIONS <= EXACT:
        return False
    names = schema.get("type", [])
    if not all(name in TYPES for name in (names if isinstance(names, list) else [names])):
        return False
    for keyword in ("enum", "const"):
        values = schema.get(keyword, []) if keyword == "enum" else [schema.get(keyword)]
        if any(isinstance(v, dict | list) for v in values):
            return False
    subschemas = [*schema.get("properties", {}).values(), *schema.get("anyOf", [])]
    return all(exact(sub) for sub in [*subschemas, *schema.get("allOf", [])])


KEYWORDS: dict[str, Callable[[Any, dict[str, Any]], Check | None]] = {
    "type": _type,
    "enum": _enum,
    "const": _const,
    "minLength": _min_length,
    "minimum": _minimum,
    "maximum": _maximum,
    "exclusiveMinimum": _exclusive_minimum,
    "minItems": _min_items,
    "minProperties": _min_properties,
    "pattern": _pattern,
    "uniqueItems": _unique_items,
    "items": _items,
    "required": _required,
    "properties": _properties,
    "patternProperties": _pattern_properties,
    "if": _if,
    "oneOf": _one_of,
    "anyOf": _any_of,
    "allOf": _all_of,
    "not": _not,
}
