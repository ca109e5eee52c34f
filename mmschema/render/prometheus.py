"""`drift --format prometheus`: the text exposition format (node_exporter textfile)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mmschema.drift import DriftReport


def label_value(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


UP_HELP = "1 if drift read the target to its end (0: it could not; the error is on stderr)"


def render_down(target_label: str) -> str:
    """The exposition of a drift that could not read its target: up 0, nothing else known."""
    target = f'{{target="{label_value(target_label)}"}}'
    return (
        f"# HELP mmschema_drift_up {UP_HELP}\n# TYPE mmschema_drift_up gauge\n"
        f"mmschema_drift_up{target} 0\n"
    )


def render_prometheus(report: DriftReport) -> str:
    target = f'{{target="{label_value(report.plan.target)}"}}'
    lines: list[str] = []

    def metric(name: str, kind: str, help_text: str, value: float | int) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        lines.append(f"{name}{target} {value}")

    metric("mmschema_drift_up", "gauge", UP_HELP, 1)

    metric(
        "mmschema_drift", "gauge", "1 if the database differs from the file", int(report.drifted)
    )
    metric("mmschema_drift_changes", "gauge", "changes a plan would make", len(report.plan.changes))
    metric(
        "mmschema_drift_unmanaged",
        "gauge",
        "unmanaged objects (in managed tables, and tables with --all)",
        len(report.plan.unmanaged) + len(report.unmanaged_tables),
    )
    applied = report.last_apply
    if applied is not None:
        metric(
            "mmschema_last_apply_run", "gauge", "id of the last apply run", applied.run
        )
        metric(
            "mmschema_last_apply_succeeded",
            "gauge",
            "1 if the last apply run succeeded",
            int(applied.outcome == "succeeded"),
        )
        metric(
            "mmschema_last_apply_checksum_matches",
            "gauge",
            "1 if the file is the one the last apply used",
            int(applied.checksum_matches),
        )
        if applied.finished_at is not None:
            metric(
                "mmschema_last_apply_timestamp_seconds",
                "gauge",
                "when the last apply run finished (Unix time)",
                round(applied.finished_at.timestamp(), 3),
            )
    return "\n".join(lines) + "\n"
