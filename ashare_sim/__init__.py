"""A-share small-cap simulator: an event-driven trading and portfolio simulator on Backtrader."""
import os as _os

# On 2 shared cores OpenBLAS's threaded path made the factor pipeline's small matrix products ~80x
# slower; one thread is faster for our shapes. It only takes effect when numpy is not loaded yet, and
# a value the user set wins.
_os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
