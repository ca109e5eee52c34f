"""Runs the command line as `python -m mmschema`."""

from mmschema.entry import run

run()
