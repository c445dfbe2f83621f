#!/usr/bin/env python3
"""A-share small-cap simulator: command line (see SPEC §1 and README)."""
import sys

from commands.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
