"""`mmschema fmt`: the file's SQL values rewritten in PostgreSQL's spelling."""

from __future__ import annotations

import argparse

from mmschema.command_base import ExitStatus, file_path, load_file
from mmschema.commands.common import cache_for, consoles, scratch_for
from mmschema.environment import Environment
from mmschema.model import Catalog


def fmt(args: argparse.Namespace, environment: Environment) -> ExitStatus:
    from mmschema.desired.load import read_files
    from mmschema.fmt import format_files
    from mmschema.normalize import normalize_file

    desired = load_file(args)
    _, err = consoles(environment)
    scratch = scratch_for(args, environment, err)
    normalized = normalize_file(desired, scratch, cache_for(environment), Catalog())
    changed = format_files(read_files(file_path(args)), normalized.catalog)
    for path, text, count in changed:
        shown = path.relative_to(environment.cwd) if path.is_relative_to(environment.cwd) else path
        values = f"{count} value{'s' if count != 1 else ''}"
        if args.check:
            err.print(f"{shown}: would rewrite {values} in PostgreSQL's spelling", markup=False)
        else:
            path.write_text(text)
            err.print(f"{shown}: rewrote {values} in PostgreSQL's spelling", markup=False)
    if not changed:
        err.print(f"{args.file or 'schema.yaml'}: already in PostgreSQL's spelling", markup=False)
    return ExitStatus.ERROR if changed and args.check else ExitStatus.OK
