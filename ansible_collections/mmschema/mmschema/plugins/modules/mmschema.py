"""Ansible module `mmschema`: plan, diff and apply a schema.yaml with the mmschema command."""

from __future__ import annotations

import os
import shutil
import sys
from typing import TYPE_CHECKING

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mmschema.mmschema.plugins.module_utils.mmschema_task import (
    ARGUMENT_SPEC,
    MUTUALLY_EXCLUSIVE,
    Task,
    importable,
    run_in_process,
)

if TYPE_CHECKING:
    from ansible_collections.mmschema.mmschema.plugins.module_utils.mmschema_task import Runner

DOCUMENTATION = r"""
---
module: mmschema
short_description: Converge a PostgreSQL database to a declarative schema.yaml
description:
  - Runs mmschema on the managed host (C(--format json)), inside the module's own Python
    when that Python has the C(mmschema) package, else the installed C(mmschema) command.
  - With the local connection (and no C(become), C(environment) or O(executable)), the
    collection's action plugin runs mmschema inside Ansible's own process when the
    controller's Python has the C(mmschema) package; no module is packaged and no Python
    started per host.
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
    description:
      - The mmschema command (default from PATH, then beside the interpreter), run as a
        second process. Without it, a Python that has the C(mmschema) package runs it itself.
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


def command_runner(module: AnsibleModule) -> Runner:
    """The mmschema command as a second process (PATH, beside this Python, or executable)."""
    command = module.params["executable"] or (
        shutil.which("mmschema") or shutil.which("mmschema", path=os.path.dirname(sys.executable))
    )
    if not command:
        module.fail_json(msg="the mmschema command is not installed (or set executable)")

    def run(args: list[str], cwd: str) -> tuple[int, str, str]:
        done = module.run_command([command, *args], cwd=cwd, environ_update={"NO_COLOR": "1"})
        return int(done[0]), str(done[1]), str(done[2])

    return run


def main() -> None:
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        mutually_exclusive=MUTUALLY_EXCLUSIVE,
        supports_check_mode=True,
    )
    # This Python has mmschema: run it here rather than start a second interpreter.
    in_process = not module.params["executable"] and importable()
    runner = run_in_process if in_process else command_runner(module)
    result = Task(module.params, module.check_mode, module._diff, runner).result()
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
