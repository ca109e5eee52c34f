"""The mmschema task shared by the module (on the host) and its action plugin (in Ansible's own
process for `connection: local`): options, running mmschema, mapping its result onto Ansible's."""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
import traceback
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    # mmschema ARGS in the directory CWD: its exit code, stdout and stderr.
    Runner = Callable[[list[str], str], tuple[int, str, str]]

HAZARDS = ["rewrite", "blocking", "long_running", "destructive"]
ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
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
}
MUTUALLY_EXCLUSIVE = [("plan", "file"), ("plan", "out")]


def importable() -> bool:
    """Whether this Python has mmschema itself (then no second process is needed)."""
    try:
        import mmschema.cli  # noqa: F401
    except ImportError:
        return False
    return True


def run_in_process(args: list[str], cwd: str) -> tuple[int, str, str]:
    """mmschema's own entry point in this process, as the command would run in `cwd`."""
    from pathlib import Path

    from mmschema.cli import main
    from mmschema.environment import Environment

    stdout, stderr = io.StringIO(), io.StringIO()
    environment = Environment(
        stdout=stdout,
        stderr=stderr,
        stdin=io.StringIO(""),
        env={**os.environ, "NO_COLOR": "1"},
        cwd=Path(cwd),
        interactive=False,
    )
    before = os.getcwd()
    try:
        os.chdir(cwd)
        # Nothing may reach the real stdout: it carries the module's result.
        with contextlib.redirect_stdout(stderr), contextlib.redirect_stderr(stderr):
            code = main(args, environment)
    except Exception:  # what the command would have printed as its traceback
        code = 1
        stderr.write(traceback.format_exc())
    finally:
        os.chdir(before)
    return code, stdout.getvalue(), stderr.getvalue()


class TaskFailed(Exception):
    """The task fails with this message and these extra return values."""

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.extra = extra


class Task:
    """One task: plan, drift or apply with the options it was given."""

    def __init__(
        self, params: dict[str, Any], check_mode: bool, diff_mode: bool, runner: Runner
    ) -> None:
        self.params = params
        self.check_mode = check_mode
        self.diff_mode = diff_mode
        self.runner = runner
        self.cwd = params["chdir"] or os.getcwd()

    def result(self) -> dict[str, Any]:
        """What Ansible gets: `changed` and the plan's facts, or `failed` and mmschema's words."""
        try:
            return self.carry_out()
        except TaskFailed as failure:
            return {"failed": True, "msg": str(failure), **failure.extra}

    def carry_out(self) -> dict[str, Any]:
        action = self.params["action"]
        if action == "drift":
            return self.drift()
        if action == "plan" or self.check_mode:
            plan, result = self.plan(self.params["out"])
            return {"changed": bool(plan.get("changes")), "diff": self.diff(plan), **result}
        with tempfile.TemporaryDirectory(prefix="mmschema-ansible-") as scratch:
            saved = self.params["plan"] or self.params["out"] or os.path.join(scratch, "plan.json")
            plan, result = self.plan(None if self.params["plan"] else saved)
            if not plan.get("changes"):
                return {"changed": False, **result}
            rc, report, err = self.apply(saved)
        applied = report.get("changes", []) if isinstance(report, dict) else []
        if rc != 0:
            self.fail(rc, err, applied=applied, **result)
        return {"changed": True, "diff": self.diff(plan), "applied": applied, **result}

    def common(self) -> list[str]:
        args: list[str] = []
        if self.params["database"]:
            args += ["-d", self.params["database"]]
        if self.params["dev_database"]:
            args += ["--dev-database", self.params["dev_database"]]
        return args

    def run(self, args: list[str]) -> tuple[int, Any, str]:
        """Run `mmschema ARGS`; its exit code, its JSON document (or None) and its stderr."""
        rc, out, err = self.runner(args, self.cwd)
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
        raise TaskFailed(message, rc=rc, stderr_lines=lines, **extra)

    def plan(self, out: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
        """Plan against the target (or read a saved plan): the plan and what to return."""
        saved = self.params["plan"]
        if saved:
            try:
                with open(os.path.join(self.cwd, saved)) as handle:
                    document = json.load(handle)
            except (OSError, ValueError) as error:
                raise TaskFailed(f"{saved}: cannot read the saved plan ({error})", rc=1) from None
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

    def drift(self) -> dict[str, Any]:
        args = ["drift", "--format", "json", *self.common(), *self.file_args()]
        rc, document, err = self.run(args)
        if rc not in (0, 2) or not isinstance(document, dict):
            self.fail(rc, err)
        result = describe(document)
        result["drift"] = bool(document.get("drift"))
        return {"changed": result["drift"], "diff": self.diff(document), **result}

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
        if not self.diff_mode or not plan.get("changes"):
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
