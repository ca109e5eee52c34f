"""Run one job per item in forked worker processes: at most N at once, each within a deadline."""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from mmschema.collector import settle

Item = TypeVar("Item")
Result = TypeVar("Result")
# After SIGTERM a job gets this long to stop on its own (an apply rolls back) before SIGKILL.
GRACE_SECONDS = 10.0


@dataclass
class Finished(Generic[Result]):
    """What one job gave back; `failure` says why there is no value (or why it was cut)."""

    value: Result | None
    seconds: float
    failure: str | None = None
    timed_out: bool = False


@dataclass
class _Worker:
    index: int
    pid: int
    fd: int
    started: float
    deadline: float | None
    data: bytearray = field(default_factory=bytearray)
    terminated_at: float | None = None


def run_forked(
    items: Sequence[Item],
    job: Callable[[Item], Result],
    parallel: int,
    timeout: float | None,
    done: Callable[[int, Finished[Result]], None] | None = None,
) -> list[Finished[Result]]:
    """job(item) for every item, each in its own forked process, `parallel` at a time.

    A job past `timeout` seconds gets SIGTERM (then SIGKILL); one that dies, raises or
    times out is reported as such and never stops the others. `done(index, finished)` is
    called as each one ends. Ctrl-C stops starting jobs; the running ones get it too.
    """
    results: list[Finished[Result] | None] = [None] * len(items)
    running: dict[int, _Worker] = {}
    exiting: list[tuple[_Worker, float]] = []  # sent their result (or closed): not yet reaped
    waiting = list(range(len(items)))
    interrupted = False
    sys.stdout.flush()
    sys.stderr.flush()

    def finish(worker: _Worker) -> None:
        """The worker has closed its pipe: its slot is free; it is reaped as it exits."""
        os.close(worker.fd)
        del running[worker.fd]
        exiting.append((worker, time.monotonic()))

    def reap(block: bool) -> None:
        for worker, ended in list(exiting):
            pid, status = os.waitpid(worker.pid, 0 if block else os.WNOHANG)
            if pid == 0:
                continue
            exiting.remove((worker, ended))
            finished: Finished[Result] = _outcome(worker, status, ended, timeout)
            results[worker.index] = finished
            if done is not None:
                done(worker.index, finished)

    # What the parent built before forking is never collected in a worker: its pages stay
    # shared with the parent instead of each worker's collector touching (copying) them.
    settle()
    try:
        while waiting or running:
            while waiting and len(running) < parallel and not interrupted:
                index = waiting.pop(0)
                worker = _start(index, items[index], job, timeout)
                running[worker.fd] = worker
            reap(block=False)
            if not running:
                break
            ready, _, _ = select.select(list(running), [], [], _wait(running.values()))
            for fd in ready:
                chunk = os.read(fd, 1 << 16)
                if chunk:
                    running[fd].data.extend(chunk)
                else:
                    finish(running[fd])
            _enforce_deadlines(running.values())
        reap(block=True)
    except KeyboardInterrupt:
        interrupted = True
        for worker in list(running.values()):
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGINT)
            worker.data.extend(_drain(worker.fd))
            finish(worker)
        reap(block=True)
    for index in waiting:
        skipped: Finished[Result] = Finished(None, 0.0, "interrupted before it started")
        results[index] = skipped
        if done is not None:
            done(index, skipped)
    return [r if r is not None else Finished(None, 0.0, "not run") for r in results]


def _start(index: int, item: Item, job: Callable[[Item], Result], timeout: float | None) -> _Worker:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: run the job, send back its pickled value, never return
        os.close(read_end)
        code = 0
        try:
            payload = pickle.dumps(("value", job(item)))
        except KeyboardInterrupt:
            payload = pickle.dumps(("failure", "interrupted"))
        except BaseException as error:
            payload = pickle.dumps(("failure", f"{type(error).__name__}: {error}".strip()))
            code = 1
        try:
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(payload)
        finally:
            os._exit(code)
    os.close(write_end)
    now = time.monotonic()
    return _Worker(index, pid, read_end, now, now + timeout if timeout else None)


def _wait(workers: Iterable[_Worker]) -> float | None:
    """Seconds until the nearest deadline (or SIGKILL) among the running workers."""
    now = time.monotonic()
    moments = []
    for worker in workers:
        if worker.terminated_at is not None:
            moments.append(worker.terminated_at + GRACE_SECONDS)
        elif worker.deadline is not None:
            moments.append(worker.deadline)
    return max(0.0, min(moments) - now) + 0.01 if moments else None


def _enforce_deadlines(workers: Iterable[_Worker]) -> None:
    now = time.monotonic()
    for worker in workers:
        with contextlib.suppress(ProcessLookupError):
            if worker.terminated_at is not None:
                if now >= worker.terminated_at + GRACE_SECONDS:
                    os.kill(worker.pid, signal.SIGKILL)
            elif worker.deadline is not None and now >= worker.deadline:
                os.kill(worker.pid, signal.SIGTERM)
                worker.terminated_at = now


def _drain(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def _outcome(
    worker: _Worker, status: int, now: float, timeout: float | None
) -> Finished[Result]:
    seconds = now - worker.started
    timed_out = worker.terminated_at is not None
    value: Result | None = None
    failure: str | None = None
    try:
        kind, payload = pickle.loads(bytes(worker.data)) if worker.data else ("", None)
    except Exception:  # a worker killed mid-write leaves half a pickle
        kind, payload = "", None
    if kind == "value":
        value = payload
    elif kind == "failure":
        failure = str(payload)
    elif os.WIFSIGNALED(status):
        failure = f"the worker ended by signal {os.WTERMSIG(status)}"
    else:
        failure = f"the worker exited with {os.WEXITSTATUS(status)} and no result"
    if timed_out:
        failure = f"timed out after {timeout:g} s (stopped)"
    return Finished(value, seconds, failure, timed_out)
