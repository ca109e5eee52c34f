"""Output streams whose reader may go away (`mmschema apply | head`) without stopping the work."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any, TextIO


class ReaderMayLeave:
    """Writes through until the reader has closed the pipe, then drops what is written.

    An apply whose output nobody reads any more must still finish its steps and record
    them: rich ends the process (SystemExit 1) on a broken pipe, mid-apply.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.reader_gone = False
        # Output that could not be written (a full disk): the work goes on, as for a reader
        # gone, and the command says so at its end (exit 1).
        self.failure: OSError | None = None

    def write(self, text: str) -> int:
        if not self.reader_gone:
            try:
                self.stream.write(text)
            except BrokenPipeError:
                self.reader_gone = True
            except OSError as error:
                self.reader_gone, self.failure = True, error
        return len(text)

    def flush(self) -> None:
        if not self.reader_gone:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self.reader_gone = True
            except OSError as error:
                self.reader_gone, self.failure = True, error

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def flush_standard_streams() -> bool:
    """Flush stdout and stderr at exit; a reader gone by then gets /dev/null in its place,
    so that Python's own flush at shutdown does not print 'Exception ignored'. False when
    what was written could not be (a full disk), which is then said in one line."""
    written = True
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):
            _to_devnull(stream)
        except OSError as error:
            written = False
            _to_devnull(stream)
            with contextlib.suppress(OSError):
                os.write(2, f"mmschema: cannot write the output: {error.strerror}\n".encode())
    return written


def _to_devnull(stream: TextIO) -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, stream.fileno())
    os.close(devnull)
