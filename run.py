#!/usr/bin/env python3
"""The command line from a checkout, the same as the `ashare-sim` command."""
from ashare_sim.cli.main import run

run()
