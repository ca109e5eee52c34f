"""Frozen dataclasses to plain JSON values and back, guided by their type hints."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")


def to_plain(value: Any) -> Any:
    """JSON-ready values: dataclasses become dicts, tuples and frozensets lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [to_plain(v) for v in value]
    if isinstance(value, frozenset | set):
        return sorted(to_plain(v) for v in value)
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    return value


def from_plain(kind: type[T], data: Any) -> T:
    """The inverse of to_plain for a dataclass type (or any type hint it uses)."""
    return typing.cast(T, decoder(typing.cast(Any, kind))(data))


def _same(value: Any) -> Any:
    return value


@cache
def decoder(hint: Any) -> Callable[[Any], Any]:
    """A function decoding plain data of this type hint, built once per hint."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        options = [a for a in args if a is not type(None)]
        if len(options) != 1:
            return _same
        inner = decoder(options[0])
        return _same if inner is _same else lambda d: None if d is None else inner(d)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass_decoder(hint)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = decoder(args[0])
        return tuple if item is _same else lambda d: tuple(map(item, d))
    if origin is tuple:
        items = [decoder(a) for a in args]
        return lambda d: tuple(f(v) for f, v in zip(items, d, strict=True))
    if origin in (frozenset, set, list):
        item = decoder(args[0])
        return lambda d: origin(map(item, d))
    if origin is dict:
        value = decoder(args[1])
        return dict if value is _same else lambda d: {k: value(v) for k, v in d.items()}
    return _same


def _dataclass_decoder(kind: type) -> Callable[[Any], Any]:
    hints = typing.get_type_hints(kind)
    fields = [(f.name, decoder(hints[f.name])) for f in dataclasses.fields(kind) if f.init]
    plain = [name for name, f in fields if f is _same]
    decoded = [(name, f) for name, f in fields if f is not _same]

    def decode(data: Any) -> Any:
        values = {name: data[name] for name in plain if name in data}
        values.update((name, f(data[name])) for name, f in decoded if name in data)
        return kind(**values)

    return decode
