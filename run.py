#!/usr/bin/env python3
"""A-share small-cap simulator: command line (see SPEC §1 and README)."""
import os
import sys

# On 2 shared cores OpenBLAS's threaded path made the factor pipeline's small matrix
# products ~80x slower; one thread is faster for our shapes. Set before numpy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from commands.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
