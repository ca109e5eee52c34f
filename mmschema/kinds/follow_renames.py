"""Policies and triggers on a table the plan renames move with it: compared, not made again."""

from __future__ import annotations

from collections.abc import Sequence

from mmschema import changes as ch
from mmschema.kinds.base import Unmanaged
from mmschema.kinds.policies import policies_following_renamed_tables
from mmschema.kinds.tables import changes as tc
from mmschema.kinds.triggers import triggers_following_renamed_tables


def following_renamed_tables(
    changes: Sequence[ch.Change], objects: list[ch.Change], unmanaged: Sequence[Unmanaged]
) -> tuple[list[ch.Change], tuple[Unmanaged, ...]]:
    """The kinds' changes and unmanaged objects once the objects hanging on renamed tables
    (live under the old name) are matched with their declared selves under the new one."""
    renamed = {c.new: c.old for c in changes if isinstance(c, tc.RenameTable)}
    if not renamed:
        return objects, tuple(unmanaged)
    objects, still = policies_following_renamed_tables(renamed, objects, unmanaged)
    return triggers_following_renamed_tables(renamed, objects, still)
