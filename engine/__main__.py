"""`python -m engine` runs the qam command line."""

from engine.cli import run

run()
