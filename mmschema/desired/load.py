"""Read schema.yaml (one file, or a directory of *.yaml and *.yml merged) into a DesiredState."""

from __future__ import annotations

import contextlib
import copy
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from mmschema.desired.build import Context, list_of, mapping_of
from mmschema.desired.cache import cached_state, keep_state
from mmschema.desired.checks import (
    BadName,
    Report,
    check_tables,
    name_problem,
    parse_table_name,
    shown,
)
from mmschema.desired.declared import (
    DeclaredEnum,
    DeclaredTable,
    DesiredState,
    InvalidFile,
    Settings,
    Source,
)
from mmschema.desired.schemaerrors import describe, format_schema, kind_of, schema_findings
from mmschema.desired.sqltext import SqlProblem, check_query
from mmschema.desired.yamlpos import YamlDocument, YamlError, load_yaml
from mmschema.kinds.base import KindObject
from mmschema.kinds.sequences import file_problems as sequence_file_problems
from mmschema.kinds.tables.model import parents_first
from mmschema.model import QualifiedName
from mmschema.pipeline.kinds import TABLES, build_objects, in_dropped_schemas, merged_objects

FILE_HEADER = "# file: "
YAML_SUFFIXES = (".yaml", ".yml")  # the files a schema directory stands for
MAX_FILE_BYTES = 64 * 1024 * 1024  # a schema of 20,000 tables is ~10 MB; /dev/zero is endless
_DURATION = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|min|h|d)?\s*")
_UNIT_MS = {"": 1, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}


@dataclass
class FilePart:
    """What one file declares, before the files are merged."""

    tables: list[DeclaredTable] = field(default_factory=list)
    settings: tuple[Settings, Source] | None = None
    extensions: list[str] = field(default_factory=list)
    assertions: list[tuple[str, str, Source]] = field(default_factory=list)
    enums: list[DeclaredEnum] = field(default_factory=list)
    objects: list[KindObject] = field(default_factory=list)


def json_schema() -> dict[str, object]:
    """The JSON Schema (draft 2020-12) of the file format, for `mmschema schema` and editors."""
    return copy.deepcopy(format_schema())


def load_desired(path: Path, cache_dir: Path | None = None) -> DesiredState:
    """Load and check a file, or every *.yaml/*.yml of a directory in name order; else InvalidFile.

    With a cache_dir, files already checked are taken from there by their digest.
    """
    files = read_files(path)
    if cache_dir is not None and (known := cached_state(cache_dir, files)) is not None:
        return known
    state = load_sources(files)
    state = replace(state, text=files[0][1] if not path.is_dir() else join_texts(files))
    if cache_dir is not None:
        keep_state(cache_dir, files, state)
    return state


def load_text(text: str, name: str = "schema.yaml") -> DesiredState:
    """Load a DesiredState.text back (as recorded in history): one file or joined files."""
    return replace(load_sources(split_texts(text, name)), text=text)


def read_files(path: Path) -> list[tuple[str, str]]:
    """(path as given, text) of the file, or of each *.yaml and *.yml in the directory
    sorted by name."""
    if path.is_dir():
        paths = sorted(
            (p for p in path.iterdir() if p.name.endswith(YAML_SUFFIXES)), key=lambda p: p.name
        )
        if not paths:
            raise InvalidFile([f"{path}: no *.yaml or *.yml files in this directory"])
    else:
        paths = [path]
    files: list[tuple[str, str]] = []
    errors: list[str] = []
    for file in paths:
        try:
            files.append((str(file), _decode(file, _read_regular(file))))
        except _Unreadable as problem:
            errors.append(f"{file}{problem}")
        except OSError as error:
            errors.append(f"{file}: cannot read: {error.strerror or error}")
    if errors:
        raise InvalidFile(errors)
    return files


class _Unreadable(Exception):
    """Why a file's bytes are not a schema: ': message' or ':line:column: message'."""


def _read_regular(file: Path) -> bytes:
    """The bytes of a regular file of at most MAX_FILE_BYTES; never blocks on a FIFO."""
    fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise _Unreadable(f": not a regular file ({_kind_of_file(mode)}); give a schema file")
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise _Unreadable(f": larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB, the limit")
    return data


def _kind_of_file(mode: int) -> str:
    kinds = {
        stat.S_ISFIFO: "a FIFO",
        stat.S_ISCHR: "a character device",
        stat.S_ISBLK: "a block device",
        stat.S_ISSOCK: "a socket",
        stat.S_ISDIR: "a directory",
    }
    return next((name for test, name in kinds.items() if test(mode)), "a special file")


def _decode(file: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        before = data[: error.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        byte = data[error.start]
        raise _Unreadable(f":{line}:{column}: not UTF-8 text (byte 0x{byte:02x})") from None


def join_texts(files: Sequence[tuple[str, str]]) -> str:
    """The files of a directory as one text, each after a '# file: NAME' line."""
    texts = [f"{FILE_HEADER}{Path(name).name}\n{text}" for name, text in files]
    return "".join(t if t.endswith("\n") else t + "\n" for t in texts)


def split_texts(text: str, name: str = "schema.yaml") -> list[tuple[str, str]]:
    """Undo join_texts; a text without a header line is one file of the given name."""
    if not text.startswith(FILE_HEADER):
        return [(name, text)]
    files: list[tuple[str, list[str]]] = []
    for line in text.splitlines(keepends=True):
        if line.startswith(FILE_HEADER):
            files.append((line[len(FILE_HEADER) :].strip(), []))
        else:
            files[-1][1].append(line)
    return [(file_name, "".join(lines)) for file_name, lines in files]


def load_sources(files: Sequence[tuple[str, str]]) -> DesiredState:
    """Check and merge (name, text) files; InvalidFile with every error, sorted, if any."""
    report = Report()
    parts = [part for name, text in files if (part := _load_file(name, text, report))]
    state = _merge(parts, report)
    in_dropped_schemas(state, report)
    for source, message in sequence_file_problems(state):
        report.add(source, message)
    if report:
        raise InvalidFile(report.errors())
    return state


def _load_file(name: str, text: str, report: Report) -> FilePart | None:
    report.file(name)
    try:
        document = load_yaml(text, name)
    except YamlError as error:
        report.add(Source(name, *error.position), error.message)
        return None
    if document is None:
        report.add(Source(name, 1, 1), "the file is empty; it needs at least 'version: 1'")
        return None
    context = Context(name, document, report)
    _report_yaml_problems(context, document)
    data = document.value
    if not isinstance(data, dict):
        message = f"the file must be a mapping with 'version: 1' at the top, not {kind_of(data)}"
        report.add(context.at(()), message)
        return None
    findings = schema_findings(data)
    version = data.get("version", 1)
    other_version = type(version) is not int or version != 1
    for finding in findings:
        if other_version and finding.path != ("version",):
            continue  # a file of another format: its other keys mean nothing here
        source = context.key(finding.path) if finding.at_key else context.at(finding.path)
        report.add(source, finding.message)
        context.faulty.append(finding.path)
        if finding.path[:1] == ("tables",) and len(finding.path) >= 2:
            with contextlib.suppress(BadName):
                report.faulty_tables.add(parse_table_name(str(finding.path[1])))
    return None if other_version else _build_file(context, data)


def _report_yaml_problems(context: Context, document: YamlDocument) -> None:
    for duplicate in document.duplicates:
        context.report.add(
            Source(context.path, *duplicate.again),
            f"duplicate key '{duplicate.key}' in {describe(duplicate.mapping)} "
            f"(first at line {duplicate.first[0]})",
        )
    for position, message in document.problems:
        context.report.add(Source(context.path, *position), message)


def _build_file(context: Context, data: dict[str, object]) -> FilePart:
    part = FilePart()
    for key, spec in mapping_of(data.get("tables")).items():
        if isinstance(spec, dict):
            part.tables.append(TABLES.build(context, key, spec))
    for key, spec in mapping_of(data.get("enums")).items():
        if isinstance(spec, dict):
            part.enums.append(_enum(context, key, spec))
    part.objects = build_objects(context, data)
    settings = data.get("settings")
    if isinstance(settings, dict):
        part.settings = (_settings(context, settings), context.key(("settings",)))
    part.extensions = [e.strip() for e in list_of(data.get("extensions")) if isinstance(e, str)]
    for i, extension in enumerate(list_of(data.get("extensions"))):
        if isinstance(extension, str):  # a name, quoted as one; but one PostgreSQL keeps
            context.check_name(("extensions", i), "extension name", extension.strip())
    for name, query in mapping_of(data.get("assertions")).items():
        if isinstance(query, str):
            source = context.key(("assertions", name))
            part.assertions.append((name, _assertion(context, name, query), source))
    return part


def _enum(context: Context, key: str, spec: dict[str, object]) -> DeclaredEnum:
    path = ("enums", key)
    name = context.table_name(path, key, "public", "enum")
    labels: list[str] = []
    for i, label in enumerate(list_of(spec.get("labels"))):
        if not isinstance(label, str):
            continue  # the JSON Schema check reports it
        if label in labels:
            first = context.at((*path, "labels", labels.index(label)))
            message = f"enum {shown(name)} lists label '{label}' twice (first at {first})"
            context.error((*path, "labels", i), message)
            continue
        problem = name_problem(label)
        if problem is not None:
            context.error((*path, "labels", i), f"enum label '{label}' {problem}")
        labels.append(label)
    state = spec.get("state")
    return DeclaredEnum(
        name=name,
        source=context.key(path),
        labels=tuple(labels),
        state=state if isinstance(state, str) else "present",
        renamed_labels=_renamed_labels(context, path, labels, spec),
    )


def _renamed_labels(
    context: Context, path: tuple[str, ...], labels: list[str], spec: dict[str, object]
) -> tuple[tuple[str, str], ...]:
    """`renamed_labels: {new: old}`: each new label one the file lists, each old one not."""
    renamed: list[tuple[str, str]] = []
    for label, old in mapping_of(spec.get("renamed_labels")).items():
        if not isinstance(old, str):
            continue  # the JSON Schema check reports it
        where = (*path, "renamed_labels", label)
        if label not in labels:
            context.key_error(where, f"renamed label '{label}' is not one of the enum's labels")
        elif old in labels:
            context.error(where, f"label '{label}' renamed from '{old}', which is still listed")
        elif old in (earlier for _, earlier in renamed):
            context.error(where, f"two labels renamed from '{old}'")
        elif (problem := name_problem(old)) is not None:
            context.error(where, f"enum label '{old}' {problem}")
        else:
            renamed.append((label, old))
    return tuple(renamed)


def _assertion(context: Context, name: str, query: str) -> str:
    try:
        return check_query(query)
    except SqlProblem as problem:
        context.error(("assertions", name), f"assertion '{name}' {problem}")
        return query


def duration_ms(value: object) -> int | None:
    """A duration ('3s', '500ms', '30min', '1h', '1d', or an integer of ms) in milliseconds."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    match = _DURATION.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return None
    return round(float(match[1]) * _UNIT_MS[match[2] or ""])


def _settings(context: Context, spec: dict[str, object]) -> Settings:
    default = Settings()
    lock = duration_ms(spec.get("lock_timeout"))
    statement = duration_ms(spec.get("statement_timeout"))
    lock = default.lock_timeout_ms if lock is None else lock
    statement = default.statement_timeout_ms if statement is None else statement
    if 0 < statement <= lock:
        where = "lock_timeout" if "lock_timeout" in spec else "statement_timeout"
        context.error(
            ("settings", where),
            f"lock_timeout ({lock}ms) must be shorter than statement_timeout ({statement}ms)",
        )
    retries = spec.get("retries")
    allow = [a for a in list_of(spec.get("allow")) if isinstance(a, str)]
    for i, kind in enumerate(list_of(spec.get("allow"))):
        if kind == "destructive":
            context.error(
                ("settings", "allow", i),
                "destructive changes cannot be allowed in the file; "
                "give --allow destructive to apply",
            )
    return Settings(
        lock_timeout_ms=lock,
        statement_timeout_ms=statement,
        retries=_count(retries, default.retries),
        allow=frozenset(allow),
        online_type_change_rows=_count(
            spec.get("online_type_change_rows"), default.online_type_change_rows
        ),
        online_type_change_method=str(
            spec.get("online_type_change_method", default.online_type_change_method)
        ),
        backfill_connections=max(
            1, _count(spec.get("backfill_connections"), default.backfill_connections)
        ),
    )


def _count(value: object, default: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return default
    return int(value) if float(value).is_integer() else default


def _merge(parts: list[FilePart], report: Report) -> DesiredState:
    """One state from the files: tables once each, settings from one file, extensions united."""
    tables = parents_first([table for part in parts for table in part.tables])
    check_tables(tables, report)
    settings: tuple[Settings, Source] | None = None
    assertions: dict[str, str] = {}
    assertion_sources: dict[str, Source] = {}
    for part in parts:
        if part.settings is not None and settings is not None:
            message = f"settings are already given at {settings[1]}; give them in one file only"
            report.add(part.settings[1], message)
        settings = settings or part.settings
        for name, query, source in part.assertions:
            if name in assertions:
                message = f"assertion '{name}' is already declared at {assertion_sources[name]}"
                report.add(source, message)
                continue
            assertions[name] = query
            assertion_sources[name] = source
    extensions = dict.fromkeys(e for part in parts for e in part.extensions)
    enums: dict[QualifiedName, DeclaredEnum] = {}
    for enum in (e for part in parts for e in part.enums):
        if enum.name in enums:
            message = (
                f"enum {shown(enum.name)} is declared twice (first at {enums[enum.name].source})"
            )
            report.add(enum.source, message)
            continue
        enums[enum.name] = enum
    return DesiredState(
        objects=merged_objects([o for part in parts for o in part.objects], report),
        enums=tuple(enums.values()),
        tables=tuple(tables),
        settings=settings[0] if settings else Settings(),
        extensions=tuple(extensions),
        assertions=assertions,
    )
