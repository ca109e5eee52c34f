"""What a diff yields: the changes, in plan order once the pipeline has arranged them, and
what the file does not manage."""

from __future__ import annotations

from dataclasses import dataclass, field

from mmschema import changes as ch


@dataclass
class DiffResult:
    changes: list[ch.Change] = field(default_factory=list)
    unmanaged: list[str] = field(default_factory=list)  # "column public.t.x", "index ..."
    pruned: bool = False  # planned with --prune: what is still unmanaged, it leaves
