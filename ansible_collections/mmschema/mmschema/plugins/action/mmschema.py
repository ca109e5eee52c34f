"""Action plugin of `mmschema`: with `connection: local`, the task runs in Ansible's process.

The module's work is mmschema's own; for a host that is the controller itself, packaging
the module and starting a Python (that starts another) per host costs more than the work.
When the controller's Python has the mmschema package, it is imported once, when Ansible
loads this plugin (before its workers fork), and each host's task runs it in its worker.
Anything else (another connection, become, a task environment, `executable`, or no
mmschema here) runs the module on the host as usual.
"""

from __future__ import annotations

from typing import Any

from ansible.plugins.action import ActionBase

from ansible_collections.mmschema.mmschema.plugins.module_utils.mmschema_task import (
    ARGUMENT_SPEC,
    MUTUALLY_EXCLUSIVE,
    Task,
    importable,
    run_in_process,
)

MODULE = "mmschema.mmschema.mmschema"
LOCAL = {"local", "ansible.builtin.local", "ansible.legacy.local"}
# Loaded here, in the controller before the workers fork: they inherit the imports.
HERE = importable()
if HERE:
    import mmschema.commands  # noqa: F401  (what plan, drift and apply import on first use)


class ActionModule(ActionBase):  # type: ignore[misc]
    """The mmschema task, in this process for a local host, else the module on the host."""

    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result: dict[str, Any] = super().run(tmp, task_vars)
        if not self.runs_here():
            result.update(
                self._execute_module(
                    module_name=MODULE, module_args=self._task.args, task_vars=task_vars
                )
            )
            return result
        _, params = self.validate_argument_spec(
            argument_spec=ARGUMENT_SPEC, mutually_exclusive=MUTUALLY_EXCLUSIVE
        )
        check_mode, diff_mode = bool(self._task.check_mode), bool(self._task.diff)
        result.update(Task(params, check_mode, diff_mode, run_in_process).result())
        return result

    def runs_here(self) -> bool:
        connection = getattr(self._connection, "_load_name", None) or self._connection.transport
        return (
            HERE
            and connection in LOCAL
            and not self._play_context.become
            and not any(self._task.environment or ())  # a play gives [{}] when none is set
            and not self._task.args.get("executable")
            and not self._task.async_val
        )
