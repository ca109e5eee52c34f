"""What the command line and every command share: exit statuses, usage errors, the file
and the target a command works on. Light to import: `mmschema --version` loads only this."""

from __future__ import annotations

import argparse
import json
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mmschema.environment import Environment

if TYPE_CHECKING:
    from rich.console import Console

    from mmschema.connect import Target
    from mmschema.desired.declared import DesiredState
    from mmschema.model import QualifiedName


class ExitStatus(IntEnum):
    OK = 0
    ERROR = 1
    CHANGES = 2  # plan --detailed-exitcode with changes; drift found
    REFUSED = 3  # hazard not allowed / --fail-on hit / stale plan / declined


class UsageError(Exception):
    """Bad command-line input: one line, exit 1."""


def parse_kinds(text: str) -> set[str]:
    from mmschema.hazards import HAZARD_KINDS

    kinds = {k.strip() for k in text.split(",") if k.strip()}
    unknown = kinds - set(HAZARD_KINDS)
    if unknown:
        import difflib

        close = [m for k in sorted(unknown) for m in difflib.get_close_matches(k, HAZARD_KINDS, 1)]
        suggestion = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise UsageError(
            f"unknown hazard kind {', '.join(sorted(unknown))} "
            f"(expected: {', '.join(HAZARD_KINDS)}){suggestion}"
        )
    return kinds


def print_json(data: Any, environment: Environment) -> None:
    environment.stdout.write(json.dumps(data, indent=2) + "\n")


def file_name(args: argparse.Namespace) -> str:
    """The schema file -f names, else schema.yaml."""
    return str(getattr(args, "file", None) or "schema.yaml")


def in_workdir(args: argparse.Namespace, name: str) -> Path:
    """A path the user gave, relative to the Environment's directory (tests inject one)."""
    path = Path(name)
    workdir = getattr(args, "workdir", None)
    if not path.is_absolute() and workdir is not None and workdir.resolve() != Path.cwd().resolve():
        path = workdir / path
    return path


def file_path(args: argparse.Namespace) -> Path:
    """The schema file or directory the command works on (it must exist)."""
    name = file_name(args)
    path = in_workdir(args, name)
    if not path.exists():
        if path.is_symlink():  # a link to nowhere, or to itself
            raise UsageError(f"{name}: a symbolic link to a file that does not exist (or a loop)")
        raise UsageError(f"{name}: no such file or directory")
    return path


def project_dir(args: argparse.Namespace) -> Path:
    """The project a command works for: the directory of its schema file (-f, else
    schema.yaml in the working directory), or the directory -f names."""
    path = in_workdir(args, file_name(args))
    if not path.is_absolute():
        path = (getattr(args, "workdir", None) or Path.cwd()) / path
    return path if path.is_dir() else path.parent


def load_file(args: argparse.Namespace) -> DesiredState:
    """The checked file; an inventory loads it once and hands it to every target's run."""
    loaded: DesiredState | None = getattr(args, "loaded_file", None)
    if loaded is not None:
        return loaded
    from mmschema.desired.load import load_desired

    path = file_path(args)
    cache = getattr(args, "cache_dir", None)
    return load_desired(path, cache / "files" if cache else None)


def kept_table_names(args: argparse.Namespace) -> list[QualifiedName] | None:
    """The table names a plan of this exact file read before (kept beside the cached file),
    so that the read can start before the file is unpickled; None when not known."""
    cache = getattr(args, "cache_dir", None)
    if cache is None or getattr(args, "loaded_file", None) is not None:
        return None
    from mmschema.desired.cache import cached_names
    from mmschema.desired.load import read_files

    return cached_names(cache / "files", read_files(file_path(args)))


def keep_table_names(args: argparse.Namespace, names: list[QualifiedName]) -> None:
    cache = getattr(args, "cache_dir", None)
    if cache is None or getattr(args, "loaded_file", None) is not None:
        return
    from mmschema.desired.cache import keep_names
    from mmschema.desired.load import read_files

    keep_names(cache / "files", read_files(file_path(args)), names)


def target_for(args: argparse.Namespace, environment: Environment, err: Console) -> Target:
    from mmschema.connect import resolve_target
    from mmschema.embedded import embedded_dsn

    target = resolve_target(
        args.database,
        environment,
        lambda: embedded_dsn(
            lambda line: err.print(line, markup=False), environment.env, project_dir(args)
        ),
    )
    if target.chosen_by:  # the embedded server says so itself; -d alone needs no word
        err.print(f"mmschema: target {target.label}, chosen by {target.chosen_by}", markup=False)
    return target
