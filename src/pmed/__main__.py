"""`python -m pmed` runs the `pmed` command."""

from pmed.cli import main

main()
