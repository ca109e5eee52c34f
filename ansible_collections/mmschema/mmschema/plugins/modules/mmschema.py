"""Ansible module `mmschema`: plan, diff and apply a schema.yaml with the mmschema command."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from typing import Any

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
---
module: mmschema
short_description: Converge a PostgreSQL database to a declarative schema.yaml
description:
  - Runs the installed C(mmschema) command on the managed host (C(--format json)).
  - In check mode it plans and reports C(changed) when the plan is not empty; with
    C(--diff) the plan's SQL is shown. Otherwise it plans, then applies exactly that
    plan (a saved plan, so a database that changed in between is refused).
  - Hazards (rewrite, blocking, long_running, destructive) refuse the apply unless
    named in O(allow); the host then fails with mmschema's message.
  - DSNs are never shown; mmschema prints databases as host:port/dbname.
options:
  database:
    description: Target DSN. Default as mmschema's (DATABASE_URL, then the embedded server).
    type: str
  dev_database:
    description: Scratch server DSN used to normalize the file (default the embedded one).
    type: str
  file:
    description: The schema.yaml (default schema.yaml in O(chdir)).
    type: path
  plan:
    description: A saved plan (C(mmschema plan --out), or O(out)) to apply instead of the file.
    type: path
  out:
    description: Also save the plan made here as JSON, for a later task's O(plan).
    type: path
  action:
    description:
      - C(apply) converges (a plan in check mode), C(plan) only plans, C(drift) reports
        drift (C(changed) when the database differs from the file). Only C(apply) writes.
    type: str
    choices: [apply, plan, drift]
    default: apply
  allow:
    description: Hazard kinds the apply may carry out.
    type: list
    elements: str
    choices: [rewrite, blocking, long_running, destructive]
    default: []
  prune:
    description: Also drop objects the file does not name (needs destructive in O(allow)).
    type: bool
    default: false
  lock_timeout:
    description: Per-statement lock_timeout of the apply, e.g. C(3s).
    type: str
  chdir:
    description: The project directory the command runs in (its C(.mmschema/) cache).
    type: path
  executable:
    description: The mmschema command (default from PATH, then beside the interpreter).
    type: path
author:
  - mmschema developers
"""

EXAMPLES = r"""
- name: Converge every tenant database
  mmschema.mmschema.mmschema:
    database: "{{ tenant_dsn }}"
    file: /srv/app/schema.yaml
    allow: [rewrite]

- name: Review first (ansible-playbook --check --diff), saving the plan
  mmschema.mmschema.mmschema:
    database: "{{ tenant_dsn }}"
    file: /srv/app/schema.yaml
    action: plan
    out: "/srv/app/plans/{{ inventory_hostname }}.json"

- name: Apply exactly the reviewed plan
  mmschema.mmschema.mmschema:
    database: "{{ tenant_dsn }}"
    plan: "/srv/app/plans/{{ inventory_hostname }}.json"
"""

RETURN = r"""
target:
  description: The database, as host:port/dbname.
  returned: when planned
  type: str
fingerprint:
  description: The plan's fingerprint (identical plans have the same one).
  returned: when planned
  type: str
changes:
  description: The plan's changes (kind, object, sql, hazards).
  returned: when planned
  type: list
  elements: dict
hazards:
  description: Hazard kinds the plan holds.
  returned: when planned
  type: list
  elements: str
sql:
  description: The plan's statements, in the order apply runs them.
  returned: when planned
  type: list
  elements: str
applied:
  description: What apply did to each change (status, seconds, error).
  returned: when applied
  type: list
  elements: dict
drift:
  description: Whether the database differs from the file.
  returned: action drift
  type: bool
rc:
  description: mmschema's exit code (1 error, 3 refused; Ansible fails a task with rc).
  returned: failed
  type: int
"""

HAZARDS = ["rewrite", "blocking", "long_running", "destructive"]


class Mmschema:
    """The mmschema command run for one task, with the options it shares between calls."""

    def __init__(self, module: AnsibleModule) -> None:
        self.module = module
        self.params = module.params
        self.command = self.params["executable"] or self.find()
        self.cwd = self.params["chdir"] or os.getcwd()

    def find(self) -> str:
        found = shutil.which("mmschema") or shutil.which(
            "mmschema", path=os.path.dirname(sys.executable)
        )
        if not found:
            self.module.fail_json(msg="the mmschema command is not installed (or set executable)")
        return str(found)

    def common(self) -> list[str]:
        args: list[str] = []
        if self.params["database"]:
            args += ["-d", self.params["database"]]
        if self.params["dev_database"]:
            args += ["--dev-database", self.params["dev_database"]]
        return args

    def run(self, args: list[str]) -> tuple[int, Any, str]:
        """Run `mmschema ARGS`; its exit code, its JSON document (or None) and its stderr."""
        rc, out, err = self.module.run_command(
            [self.command, *args], cwd=self.cwd, environ_update={"NO_COLOR": "1"}
        )
        try:
            document = json.loads(out) if out.strip() else None
        except ValueError:
            document = None
        return rc, document, err

    def fail(self, rc: int, err: str, **extra: Any) -> None:
        lines = [line for line in err.splitlines() if line.strip()]
        said = [line for line in lines if line.startswith(("mmschema:", "refused:"))]
        message = "; ".join(said or lines[-3:]) or f"mmschema exited with {rc}"
        if rc == 3:
            message += " (here: the task's `allow` option)"
        self.module.fail_json(msg=message, rc=rc, stderr_lines=lines, **extra)

    def plan(self, out: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
        """Plan against the target (or read a saved plan): the plan and what to return."""
        saved = self.params["plan"]
        if saved:
            try:
                with open(os.path.join(self.cwd, saved)) as handle:
                    document = json.load(handle)
            except (OSError, ValueError) as error:
                self.module.fail_json(msg=f"{saved}: cannot read the saved plan ({error})", rc=1)
            return document, describe(document)
        args = ["plan", "--format", "json", *self.common(), *self.file_args()]
        if self.params["prune"]:
            args.append("--prune")
        if out:
            args += ["--out", out]
        rc, document, err = self.run(args)
        if rc != 0 or not isinstance(document, dict):
            self.fail(rc, err)
        return document, describe(document)

    def file_args(self) -> list[str]:
        return ["-f", self.params["file"]] if self.params["file"] else []

    def drift(self) -> None:
        args = ["drift", "--format", "json", *self.common(), *self.file_args()]
        rc, document, err = self.run(args)
        if rc not in (0, 2) or not isinstance(document, dict):
            self.fail(rc, err)
        result = describe(document)
        result["drift"] = bool(document.get("drift"))
        self.module.exit_json(changed=result["drift"], diff=self.diff(document), **result)

    def apply(self, saved: str) -> tuple[int, Any, str]:
        args = ["apply", saved, "--yes", "--format", "json", *self.common()]
        for kind in self.params["allow"]:
            args += ["--allow", kind]
        if self.params["prune"]:
            args.append("--prune")
        if self.params["lock_timeout"]:
            args += ["--lock-timeout", self.params["lock_timeout"]]
        return self.run(args)

    def diff(self, plan: dict[str, Any]) -> dict[str, str]:
        if not self.module._diff or not plan.get("changes"):
            return {}
        header = f"-- plan for {plan.get('target', 'the database')}"
        return {"prepared": "\n".join([header, *(f"{s};" for s in statements(plan))]) + "\n"}


def statements(plan: dict[str, Any]) -> list[str]:
    return [sql for change in plan.get("changes", []) for sql in change.get("sql", [])]


def describe(plan: dict[str, Any]) -> dict[str, Any]:
    """What the task returns about a plan (never its file or its DSN)."""
    changes = [
        {
            "kind": change.get("kind"),
            "object": change.get("object"),
            "sql": change.get("sql", []),
            "hazards": change.get("hazards", []),
        }
        for change in plan.get("changes", [])
    ]
    kinds = sorted({h["kind"] for change in changes for h in change["hazards"]})
    return {
        "target": plan.get("target"),
        "fingerprint": plan.get("fingerprint"),
        "changes": changes,
        "hazards": kinds,
        "sql": statements(plan),
    }


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "database": {"type": "str", "no_log": True},
            "dev_database": {"type": "str", "no_log": True},
            "file": {"type": "path"},
            "plan": {"type": "path"},
            "out": {"type": "path"},
            "action": {"type": "str", "choices": ["apply", "plan", "drift"], "default": "apply"},
            "allow": {"type": "list", "elements": "str", "choices": HAZARDS, "default": []},
            "prune": {"type": "bool", "default": False},
            "lock_timeout": {"type": "str"},
            "chdir": {"type": "path"},
            "executable": {"type": "path"},
        },
        mutually_exclusive=[("plan", "file"), ("plan", "out")],
        supports_check_mode=True,
    )
    tool = Mmschema(module)
    action = module.params["action"]
    if action == "drift":
        tool.drift()
    if action == "plan" or module.check_mode:
        plan, result = tool.plan(module.params["out"])
        changed = bool(plan.get("changes"))
        module.exit_json(changed=changed, diff=tool.diff(plan), **result)
    with tempfile.TemporaryDirectory(prefix="mmschema-ansible-") as scratch:
        saved = module.params["plan"] or module.params["out"] or os.path.join(scratch, "plan.json")
        plan, result = tool.plan(None if module.params["plan"] else saved)
        if not plan.get("changes"):
            module.exit_json(changed=False, **result)
        rc, report, err = tool.apply(saved)
    applied = report.get("changes", []) if isinstance(report, dict) else []
    if rc != 0:
        tool.fail(rc, err, applied=applied, **result)
    module.exit_json(changed=True, diff=tool.diff(plan), applied=applied, **result)


if __name__ == "__main__":
    main()
