"""Saved plans (`plan --out`): the plan's JSON with the file it was made from, read back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mmschema.desired.declared import DesiredState
from mmschema.history import checksum
from mmschema.plan import Plan, plan_to_json


class NotASavedPlan(Exception):
    """The file cannot be a saved plan: one line, exit 1."""


def saved_document(plan: Plan, desired: DesiredState, file_name: str) -> dict[str, Any]:
    """The JSON plan with the schema text it was made from, so apply needs nothing else."""
    document = plan_to_json(plan)
    document["file"] = {"path": file_name, "sha256": checksum(desired.text), "text": desired.text}
    return document


def read_saved_plan(path: Path, name: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise NotASavedPlan(f"{name}: not a saved plan ({error})") from None
    if not isinstance(data, dict) or "fingerprint" not in data:
        raise NotASavedPlan(f"{name}: not a saved plan (no fingerprint)")
    file = data.get("file")
    if file is not None and not (
        isinstance(file, dict)
        and isinstance(file.get("text"), str)
        and file.get("sha256") == checksum(file["text"])
    ):
        raise NotASavedPlan(f"{name}: the schema text it carries does not match its sha256")
    return data


def saved_file(data: dict[str, Any], name: str) -> DesiredState | None:
    """The schema the plan was made from, or None for a plan saved without it."""
    file = data.get("file")
    if file is None:
        return None
    from mmschema.desired.load import load_text

    return load_text(str(file["text"]), str(file.get("path") or f"{name} (its schema)"))


def other_target(data: dict[str, Any], label: str) -> str | None:
    """Why the plan may not run on `label` (host:port/dbname), or None if it was made for it."""
    made_for = str(data.get("target", ""))
    if made_for == label:
        return None
    return f"this plan was made for {made_for}, not {label}"
