"""The kinds of hazard a change may carry and what each means (light: --help reads it)."""

from __future__ import annotations

HAZARD_KINDS = ("destructive", "rewrite", "blocking", "may_fail", "long_running")
HAZARD_MEANINGS = {
    "destructive": "data can be lost (a dropped table or column, a lossy type change)",
    "rewrite": "the table is rewritten under an ACCESS EXCLUSIVE lock",
    "blocking": "writes wait for the statement's whole run",
    "may_fail": "a pre-flight found rows the change would fail on; never allowed",
    "long_running": "the table is large enough for the change to take long",
}
