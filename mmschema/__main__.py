"""Runs the command line as `python -m mmschema`."""

from mmschema.cli import run

run()
