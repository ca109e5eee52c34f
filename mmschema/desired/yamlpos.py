"""Load YAML into plain Python values, recording the line and column of every value and key."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

JsonPath = tuple[str | int, ...]
Position = tuple[int, int]  # 1-based line and column

MERGE_TAG = "tag:yaml.org,2002:merge"
MAP_TAG = "tag:yaml.org,2002:map"
SEQ_TAG = "tag:yaml.org,2002:seq"
STR_TAG = "tag:yaml.org,2002:str"
BOOL_TAG = "tag:yaml.org,2002:bool"
NULL_TAG = "tag:yaml.org,2002:null"
MAX_VALUES = 500_000  # values built again through aliases: guards against "billion laughs"
MAX_DEPTH = 64  # the format nests 6 deep; PyYAML recurses per level and would overflow
_OPENING = (yaml.BlockMappingStartToken, yaml.BlockSequenceStartToken,
            yaml.FlowMappingStartToken, yaml.FlowSequenceStartToken)
_CLOSING = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)


class YamlError(Exception):
    """A YAML syntax error, as 'name:line:column: message'."""

    def __init__(self, name: str, position: Position, message: str) -> None:
        super().__init__(f"{name}:{position[0]}:{position[1]}: {message}")
        self.position = position
        self.message = message


@dataclass(frozen=True)
class Duplicate:
    """A key written twice in one mapping (PyYAML would keep the last silently)."""

    mapping: JsonPath
    key: str
    first: Position
    again: Position


@dataclass
class YamlDocument:
    """Plain values (dict, list, str, int, float, bool, None) and where each was written."""

    value: object
    positions: dict[JsonPath, Position] = field(default_factory=dict)
    key_positions: dict[JsonPath, Position] = field(default_factory=dict)
    scalar_text: dict[JsonPath, str] = field(default_factory=dict)
    duplicates: list[Duplicate] = field(default_factory=list)
    problems: list[tuple[Position, str]] = field(default_factory=list)


def load_yaml(text: str, name: str) -> YamlDocument | None:
    """Parse one YAML document; None when it is empty. Raises YamlError on bad syntax."""
    document = _load(text, name)
    if document is not None and ("\\u" in text or "\\U" in text):
        _refuse_surrogates(document, document.value, (), name)
    return document


def _refuse_surrogates(document: YamlDocument, value: object, path: JsonPath, name: str) -> None:
    """A double-quoted "\\ud800" escape makes a lone surrogate: no character, with no UTF-8
    to send to a server or print."""
    if isinstance(value, str) and not _encodable(value):
        position = document.positions.get(path, (1, 1))
        message = "a \\u escape makes a lone surrogate, which is no character"
        raise YamlError(name, position, message)
    if isinstance(value, list):
        for i, item in enumerate(value):
            _refuse_surrogates(document, item, (*path, i), name)
    if isinstance(value, dict):
        for key, item in value.items():
            if not _encodable(key):
                position = document.key_positions.get((*path, key), (1, 1))
                message = "a \\u escape in this key makes a lone surrogate, which is no character"
                raise YamlError(name, position, message)
            _refuse_surrogates(document, item, (*path, key), name)


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _load(text: str, name: str) -> YamlDocument | None:
    streamed = _stream(text, name)
    if streamed is not _UNUSUAL:
        return streamed  # type: ignore[return-value]
    try:
        root = _compose(text, name)
    except RecursionError:
        raise _too_deep(text, name) from None
    if root is None:
        return None
    # Without an anchor (&name) there is no alias, so nothing is built twice.
    anchors = "&" in text
    if anchors:
        _check_expanded_size(root, name)
    builder = _Builder(name, count_repeats=anchors)
    value = builder.build(root, ())
    builder.document.value = value
    return builder.document


class _Tags:
    """Implicit tags already resolved: a big file repeats the same few scalars (types,
    true, false, names), and PyYAML resolves each by regular expressions, in Python."""

    def __init__(self) -> None:
        self.known: dict[tuple[object, object, object], str] = {}


def _fast_loader() -> type | None:
    """libyaml's safe loader with its tag resolution memoized (the same answers)."""
    base = getattr(yaml, "CSafeLoader", None)
    if base is None:
        return None

    class Loader(base):  # type: ignore[misc,valid-type]
        tags = _Tags()

        def resolve(self, kind: object, value: object, implicit: object) -> str:
            key = (kind, value, implicit)
            known = self.tags.known.get(key)
            if known is None:
                known = super().resolve(kind, value, implicit)
                self.tags.known[key] = known
            return known

    return Loader


class _Unusual(Exception):
    """Something _stream leaves to the node tree (_compose and _Builder)."""


_UNUSUAL = object()


def _stream(text: str, name: str) -> YamlDocument | object | None:
    """The document built straight from libyaml's events, as _Builder builds it from the
    node tree, but without holding the tree (a 20,000-table file's nodes and their marks
    take a gigabyte); _UNUSUAL when the text has what only the tree path handles: anchors,
    aliases, tags, merge keys, duplicate or non-name keys, deep nesting, several documents,
    a syntax error (worded there)."""
    fast = _fast_loader()
    if fast is None or "&" in text:
        return _UNUSUAL
    loader = fast(text)
    try:
        return _StreamBuilder(name, loader).document_or_none()
    except (_Unusual, yaml.YAMLError):
        return _UNUSUAL
    finally:
        loader.dispose()


class _StreamBuilder:
    """Plain values and their positions from a stream of parser events (see _stream)."""

    def __init__(self, name: str, loader: Any) -> None:
        self.loader = loader
        self.scalars = _Builder(name, count_repeats=False)  # for non-text scalars
        self.document = self.scalars.document

    def document_or_none(self) -> YamlDocument | None:
        # One pass over ~100 events per table: the common cases (a scalar, a key) come
        # first and touch as few attributes and calls as they can.
        loader = self.loader
        positions = self.document.positions
        key_positions = self.document.key_positions
        scalar_text = self.document.scalar_text
        resolve = loader.resolve
        check_event, get_event = loader.check_event, loader.get_event
        tags: dict[tuple[str, Any], str] = {}
        scalar_event, mapping_start = yaml.ScalarEvent, yaml.MappingStartEvent
        # Open collections: [value, path, pending key of a mapping or None]; a list's
        # next index is its length. `top` is the innermost (None at the document level).
        stack: list[list[Any]] = []
        top: list[Any] | None = None
        root: object = None
        documents = 0
        while check_event():
            event = get_event()
            kind = type(event)
            if kind is scalar_event or kind is mapping_start or kind is yaml.SequenceStartEvent:
                if event.anchor is not None or event.tag not in (None, "!"):
                    raise _Unusual
                mark = event.start_mark
                position = (mark.line + 1, mark.column + 1)
                child: JsonPath
                if top is None:
                    child = ()
                else:
                    container, path, key = top
                    if type(container) is dict:
                        if key is None:  # this event is a key
                            if kind is not scalar_event:
                                raise _Unusual
                            key = event.value
                            # Only '<<' resolves to a merge (its first character decides).
                            merge = key[:1] == "<" and (
                                resolve(ScalarNode, key, event.implicit) == MERGE_TAG
                            )
                            if merge or key in container:
                                raise _Unusual
                            top[2] = key
                            key_positions[(*path, key)] = position
                            continue
                        top[2] = None
                        child = (*path, key)
                    else:
                        child = (*path, len(container))
                    if len(child) > MAX_DEPTH:
                        raise _Unusual
                positions[child] = position
                value: object
                if kind is scalar_event:
                    text = event.value
                    scalar_text[child] = text
                    implicit = event.implicit
                    tag = tags.get((text, implicit))
                    if tag is None:
                        tag = tags[(text, implicit)] = resolve(ScalarNode, text, implicit)
                    if tag == STR_TAG:
                        value = text
                    elif tag == BOOL_TAG:  # as SafeConstructor reads it, without its calls
                        value = SafeConstructor.bool_values[text.lower()]
                    elif tag == NULL_TAG:
                        value = None
                    else:
                        node = ScalarNode(tag, text, mark, event.end_mark, event.style)
                        value = self.scalars._scalar(node, child)
                else:
                    value = {} if kind is mapping_start else []
                if top is None:
                    root = value
                elif type(top[0]) is dict:
                    top[0][child[-1]] = value
                else:
                    top[0].append(value)
                if kind is not scalar_event:
                    top = [value, child, None]
                    stack.append(top)
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                stack.pop()
                top = stack[-1] if stack else None
            elif kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise _Unusual
            elif kind is yaml.AliasEvent:
                raise _Unusual
        if documents == 0:
            return None
        self.document.value = root
        return self.document


def _compose(text: str, name: str) -> Node | None:
    """The node tree, by libyaml when present; errors always in pure PyYAML's words."""
    fast = _fast_loader()
    if fast is not None:
        try:
            return yaml.compose(text, Loader=fast)
        except yaml.YAMLError:
            pass  # parse again below, for the same message with or without libyaml
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        raise _syntax_error(error, name) from None
    except yaml.YAMLError as error:
        raise YamlError(name, (1, 1), str(error)) from None


def _too_deep(text: str, name: str) -> YamlError:
    """Where the text nests deeper than MAX_DEPTH, found by the (iterative) scanner."""
    depth = 0
    position = (1, 1)
    try:
        for token in yaml.scan(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
            if isinstance(token, _OPENING):
                depth += 1
                if depth > MAX_DEPTH:
                    position = (token.start_mark.line + 1, token.start_mark.column + 1)
                    break
            elif isinstance(token, _CLOSING):
                depth -= 1
    except yaml.MarkedYAMLError as error:  # libyaml's own limit, met while reading ahead
        mark = error.problem_mark
        if mark is not None and position == (1, 1):
            position = (mark.line + 1, mark.column + 1)
    except yaml.YAMLError:
        pass
    return YamlError(name, position, f"nested more than {MAX_DEPTH} levels deep")


def _check_expanded_size(root: Node, name: str) -> None:
    """Refuse an alias bomb before expanding it: its size is counted per distinct node, and
    only what aliases add beyond the distinct nodes counts (a 20,000-table file is no bomb)."""
    sizes: dict[int, int] = {}
    distinct = 0

    def size(node: Node, depth: int) -> int:
        nonlocal distinct
        known = sizes.get(id(node))
        if known is not None:
            return known
        sizes[id(node)] = 1  # an alias cycle counts once; the builder reports it
        total = 1
        distinct += 1 + (len(node.value) if isinstance(node, MappingNode) else 0)
        if depth <= MAX_DEPTH and isinstance(node, SequenceNode):
            total += sum(size(child, depth + 1) for child in node.value)
        elif depth <= MAX_DEPTH and isinstance(node, MappingNode):
            total += sum(size(v, depth + 1) + 1 for _, v in node.value)
        sizes[id(node)] = total
        return total

    children = (
        [v for _, v in root.value] if isinstance(root, MappingNode)
        else list(root.value) if isinstance(root, SequenceNode) else []
    )
    total = 0
    for child in children:
        total += size(child, 1)
        if total - distinct > MAX_VALUES:
            raise YamlError(name, position_of(child), "too many values (aliases expanded?)")


def position_of(node: Node) -> Position:
    """The 1-based line and column where a node starts."""
    return node.start_mark.line + 1, node.start_mark.column + 1


def _syntax_error(error: yaml.MarkedYAMLError, name: str) -> YamlError:
    mark = error.problem_mark or error.context_mark
    position = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    message = error.problem or error.context or "invalid YAML"
    if error.problem and error.context:
        context_mark = error.context_mark
        where = f" at line {context_mark.line + 1}" if context_mark is not None else ""
        message = f"{error.problem} ({error.context}{where})"
    return YamlError(name, position, message)


class _Builder:
    """Builds plain values from a composed node tree, filling a YamlDocument as it goes."""

    def __init__(self, name: str, count_repeats: bool = True) -> None:
        self.name = name
        self.count_repeats = count_repeats
        self.document = YamlDocument(value=None)
        self.constructor = SafeConstructor()
        self.active: set[int] = set()
        self.count = 0

    def build(self, node: Node, path: JsonPath) -> object:
        # An alias bomb builds the same nodes again and again: count those builds only, so a
        # big file of distinct values (20,000 tables) is no bomb. Marked on the node itself.
        if not self.count_repeats:
            pass
        elif getattr(node, "_mmschema_built", False):
            self.count += 1
            if self.count > MAX_VALUES:
                message = "too many values (aliases expanded?)"
                raise YamlError(self.name, position_of(node), message)
        else:
            node._mmschema_built = True  # type: ignore[attr-defined]
        self.document.positions[path] = position_of(node)
        if len(path) > MAX_DEPTH:
            message = f"nested more than {MAX_DEPTH} levels deep"
            raise YamlError(self.name, position_of(node), message)
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        if id(node) in self.active:
            self._problem(node, "an alias refers to the collection that contains it")
            return None
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                self._check_tag(node, SEQ_TAG)
                return [self.build(child, (*path, i)) for i, child in enumerate(node.value)]
            if isinstance(node, MappingNode):
                self._check_tag(node, MAP_TAG)
                return self._mapping(node, path)
        finally:
            self.active.discard(id(node))
        self._problem(node, "unsupported YAML node")
        return None

    def _scalar(self, node: ScalarNode, path: JsonPath) -> object:
        self.document.scalar_text[path] = node.value
        if node.tag == STR_TAG:
            return node.value  # what SafeConstructor makes of it, without its bookkeeping
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as error:
            self._problem(node, error.problem or "cannot read this value")
            return None
        except ValueError:  # a date-like plain scalar that is no date: 2021-13-45
            self._problem(node, f"'{node.value}' reads as a date but is none; quote it")
            return None

    def _mapping(self, node: MappingNode, path: JsonPath) -> dict[str, object]:
        result: dict[str, object] = {}
        written: dict[str, Position] = {}
        for key_node, value_node, explicit in self._pairs(node, frozenset()):
            key = self._key(key_node)
            if key is None:
                continue
            if key in written:
                if explicit:
                    dup = Duplicate(path, key, written[key], position_of(key_node))
                    self.document.duplicates.append(dup)
                continue
            written[key] = position_of(key_node)
            self.document.key_positions[(*path, key)] = position_of(key_node)
            result[key] = self.build(value_node, (*path, key))
        return result

    def _pairs(self, node: MappingNode, outer: frozenset[int]) -> Iterator[tuple[Node, Node, bool]]:
        """The mapping's own entries, then those merged in with '<<' (which never override)."""
        outer = outer | {id(node)}
        merged: list[MappingNode] = []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                merged.extend(self._merge_sources(value_node))
            else:
                yield key_node, value_node, True
        for source in merged:
            if id(source) in outer:
                self._problem(source, "a '<<' merge refers to the mapping that contains it")
                continue
            for key_node, value_node, _ in self._pairs(source, outer):
                self.count += 1  # merges of merges can repeat keys exponentially
                if self.count > MAX_VALUES:
                    message = "too many values (aliases expanded?)"
                    raise YamlError(self.name, position_of(source), message)
                yield key_node, value_node, False

    def _merge_sources(self, node: Node) -> list[MappingNode]:
        if isinstance(node, MappingNode):
            return [node]
        if isinstance(node, SequenceNode) and all(isinstance(n, MappingNode) for n in node.value):
            return [n for n in node.value if isinstance(n, MappingNode)]
        self._problem(node, "a '<<' merge needs a mapping or a list of mappings")
        return []

    def _key(self, node: Node) -> str | None:
        """Keys are names: taken as written (`on`, `1`, `null` stay text), never converted."""
        if isinstance(node, ScalarNode):
            return str(node.value)
        self._problem(node, "a mapping key must be a name, not a list or a mapping")
        return None

    def _check_tag(self, node: Node, expected: str) -> None:
        if node.tag != expected:
            self._problem(node, f"unsupported YAML tag {node.tag}")

    def _problem(self, node: Node, message: str) -> None:
        self.document.problems.append((position_of(node), message))
